"""TrainConfig: every knob of the MLP trainer in one dataclass with commented defaults.

The defaults are the recipe's "boring" baseline: a two-layer ReLU MLP, Adam at 3e-4..1e-3, a
cosine schedule, early stopping on the validation loss. They reach ≥ 0.96 test accuracy on
scikit-learn's digits in a few seconds.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

from dataaudit.exceptions import ConfigError

__all__ = ["TrainConfig", "ACTIVATIONS", "OPTIMIZERS", "SCHEDULES", "BACKENDS", "DTYPES"]

ACTIVATIONS: tuple[str, ...] = ("relu", "leaky_relu", "tanh", "sigmoid", "gelu")
OPTIMIZERS: tuple[str, ...] = ("sgd", "adam")
SCHEDULES: tuple[str, ...] = ("constant", "step", "cosine")
BACKENDS: tuple[str, ...] = ("numpy", "torch")
DTYPES: tuple[str, ...] = ("float32", "float64")
MAX_EPOCHS = 1_000_000  # a bound that catches a typo such as 1e12 before it trains forever


@dataclass
class TrainConfig:
    """Configuration of one training run (model, optimizer, schedule, regularization, loop).

    Examples
    --------
    >>> TrainConfig(hidden=(64,), lr=3e-3).to_dict()["hidden"]
    [64]
    """

    # --- model ---
    hidden: tuple[int, ...] = (256, 256)  # widths of the hidden layers; () is a linear model
    activation: str = "relu"  # relu | leaky_relu | tanh | sigmoid | gelu (init follows: He or Glorot)
    dropout: float = 0.0  # inverted dropout after every hidden activation; 0 disables it
    batch_norm: bool = False  # batch normalization before every hidden activation
    # --- optimizer ---
    optimizer: str = "adam"  # adam | sgd
    lr: float = 1e-3  # peak learning rate (after warm-up)
    momentum: float = 0.9  # SGD momentum (0 = plain SGD); Adam uses beta1 = 0.9, beta2 = 0.999
    nesterov: bool = True  # Nesterov momentum for SGD
    # --- regularization (on weight matrices only, never on biases or batch-norm scales) ---
    weight_decay: float = 0.0  # decoupled weight decay (AdamW style): w -= lr * weight_decay * w
    l1: float = 0.0  # L1 penalty l1 * sum|w| added to the loss (l1 and l2 together: elastic net)
    l2: float = 0.0  # L2 penalty 0.5 * l2 * sum w^2 added to the loss
    # --- learning-rate schedule ---
    schedule: str = "cosine"  # constant | step | cosine (cosine decays to 0 at the last step)
    warmup_steps: int = 0  # linear warm-up from 0 to lr over this many steps
    step_size: int = 1000  # step schedule: multiply lr by gamma every step_size steps
    gamma: float = 0.5  # step schedule factor
    # --- loop ---
    batch_size: int = 128  # mini-batch size; the training set is shuffled once per epoch (seeded)
    max_epochs: int = 50  # upper bound on passes over the training set
    patience: int = 5  # early stopping: evaluations without val-loss improvement; 0 disables
    eval_every: int = 0  # evaluate every this many steps; 0 = once per epoch
    ema_decay: float | None = None  # keep an exponential moving average of the weights (e.g. 0.999)
    checkpoints: int = 0  # keep the last k eval-time parameter snapshots (for snapshot ensembles)
    # --- reproducibility and speed ---
    seed: int = 0  # seeds init, shuffling and dropout
    backend: str = "numpy"  # numpy | torch (torch uses CUDA when available)
    dtype: str = "float32"  # float32 for speed; float64 for gradient checks
    threads: int = 0  # BLAS (and torch) threads while training; 0 = automatic (1 for small steps)
    extra: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)  # free-form notes

    def __post_init__(self) -> None:
        self.hidden = _as_hidden(self.hidden)
        problems: list[str] = []
        if isinstance(self.seed, bool) or not isinstance(self.seed, int) or self.seed < 0:
            problems.append(f"seed={self.seed!r} must be an integer >= 0 (NumPy seeds are non-negative)")

        def choice(name: str, allowed: tuple[str, ...]) -> None:
            value = getattr(self, name)
            if value not in allowed:
                problems.append(f"{name}={value!r} is not one of {list(allowed)}")

        choice("activation", ACTIVATIONS)
        choice("optimizer", OPTIMIZERS)
        choice("schedule", SCHEDULES)
        choice("backend", BACKENDS)
        choice("dtype", DTYPES)
        if not 0.0 <= self.dropout < 1.0:
            problems.append(f"dropout={self.dropout!r} must be in [0, 1)")
        if not self.lr > 0:
            problems.append(f"lr={self.lr!r} must be > 0")
        if not 0.0 <= self.momentum < 1.0:
            problems.append(f"momentum={self.momentum!r} must be in [0, 1)")
        for name in ("weight_decay", "l1", "l2"):
            if getattr(self, name) < 0:
                problems.append(f"{name}={getattr(self, name)!r} must be >= 0")
        for name in ("warmup_steps", "patience", "eval_every", "checkpoints", "threads"):
            if getattr(self, name) < 0:
                problems.append(f"{name}={getattr(self, name)!r} must be >= 0")
        for name in ("step_size", "batch_size", "max_epochs"):
            if getattr(self, name) < 1:
                problems.append(f"{name}={getattr(self, name)!r} must be >= 1")
        if self.max_epochs > MAX_EPOCHS:
            problems.append(f"max_epochs={self.max_epochs!r} must be at most {MAX_EPOCHS:,}")
        if not 0.0 < self.gamma <= 1.0:
            problems.append(f"gamma={self.gamma!r} must be in (0, 1]")
        if self.ema_decay is not None and not 0.0 < self.ema_decay < 1.0:
            problems.append(f"ema_decay={self.ema_decay!r} must be in (0, 1) or None")
        if problems:
            raise ConfigError("Invalid training configuration: " + "; ".join(problems) + ".")

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> TrainConfig:
        """Build a config from a plain dict (TOML/JSON); unknown keys raise ConfigError.

        Raises
        ------
        ConfigError
            If ``d`` has keys that are not fields, or a value is invalid.
        """
        if not isinstance(d, dict):
            raise ConfigError(f"A training configuration must be a table/dict, got {type(d).__name__}.")
        names = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(d) - names)
        if unknown:
            raise ConfigError(
                f"Unknown training option(s) {unknown}; valid options are {sorted(names - {'extra'})}."
            )
        try:
            return cls(**d)
        except TypeError as exc:  # e.g. a string where a number was expected
            raise ConfigError(f"Invalid training configuration: {exc}.") from exc

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict (``hidden`` as a list) that ``from_dict`` turns back into this config."""
        d = dataclasses.asdict(self)
        d["hidden"] = list(self.hidden)
        if not d["extra"]:
            del d["extra"]
        return d

    def replace(self, **changes: Any) -> TrainConfig:
        """A copy with some fields changed (validated again)."""
        return dataclasses.replace(self, **changes)


def _as_hidden(value: Any) -> tuple[int, ...]:
    if isinstance(value, str):
        parts = [p for p in value.replace(" ", "").split(",") if p]
        try:
            value = [int(p) for p in parts]
        except ValueError as exc:
            raise ConfigError(
                f"hidden={value!r} must be comma-separated layer widths such as '256,256'."
            ) from exc
    if isinstance(value, int):
        value = (value,)
    try:
        widths = tuple(int(w) for w in value)
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"hidden={value!r} must be a sequence of positive layer widths.") from exc
    if any(w < 1 for w in widths) or any(float(w) != float(v) for w, v in zip(widths, value, strict=True)):
        raise ConfigError(f"hidden={value!r} must hold positive integer layer widths.")
    return widths
