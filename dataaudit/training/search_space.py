"""The search space of ``random_search`` and how configurations are drawn from it and narrowed.

Random search, not grid search (Bergstra & Bengio 2012; CS231n): the learning rate and the weight
decay are sampled log-uniformly, the hidden width and the dropout uniformly; after each round the
ranges narrow around the best trials.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from dataaudit.exceptions import ConfigError
from dataaudit.training.config import TrainConfig

if TYPE_CHECKING:
    from dataaudit.training.search import Trial

__all__ = ["SearchSpace", "sample_configs", "narrow_space"]


# How each searched parameter is sampled: log-uniform for scale parameters, uniform otherwise.
_LOG_SCALE: dict[str, bool] = {"lr": True, "weight_decay": True, "width": False, "dropout": False}
_BOUNDS: dict[str, tuple[float, float]] = {
    "lr": (0.0, math.inf),  # exclusive lower bound: log-uniform needs > 0
    "weight_decay": (0.0, math.inf),
    "width": (1.0, math.inf),
    "dropout": (0.0, 1.0),  # exclusive upper bound: TrainConfig needs dropout < 1
}


@dataclass(frozen=True)
class SearchSpace:
    """The ranges ``random_search`` samples from; ``None`` keeps the base configuration's value.

    Parameters
    ----------
    lr : (low, high) or None
        Peak learning rate, sampled log-uniformly. Default ``(1e-4, 3e-2)``.
    weight_decay : (low, high) or None
        Decoupled weight decay, sampled log-uniformly (both ends must be > 0). Default
        ``(1e-6, 1e-2)``.
    width : (low, high) or None
        Width of every hidden layer (the depth stays that of ``base.hidden``), sampled uniformly
        and rounded to an integer. Default ``(32, 512)``.
    dropout : (low, high) or None
        Dropout rate, sampled uniformly in ``[low, high]`` with ``high < 1``. Default ``(0.0, 0.5)``.

    Raises
    ------
    ConfigError
        If a range is reversed or outside what the parameter allows.
    """

    lr: tuple[float, float] | None = (1e-4, 3e-2)
    weight_decay: tuple[float, float] | None = (1e-6, 1e-2)
    width: tuple[float, float] | None = (32, 512)
    dropout: tuple[float, float] | None = (0.0, 0.5)

    def __post_init__(self) -> None:
        for name in _LOG_SCALE:
            value = getattr(self, name)
            if value is None:
                continue
            try:
                low, high = (float(v) for v in value)
            except (TypeError, ValueError) as exc:
                raise ConfigError(
                    f"Search range {name}={value!r} must be a pair (low, high) of numbers."
                ) from exc
            floor, ceiling = _BOUNDS[name]
            low_ok = low > floor if name in ("lr", "weight_decay") else low >= floor
            high_ok = high < ceiling if name == "dropout" else high <= ceiling
            if not (low_ok and high_ok and low <= high and math.isfinite(high)):
                raise ConfigError(
                    f"Search range {name}=({low}, {high}) is invalid: it needs low <= high"
                    f" inside {'(' if name in ('lr', 'weight_decay') else '['}{floor}, {ceiling}"
                    f"{')' if name == 'dropout' else ']'}"
                    + (" (log-uniform sampling needs low > 0)" if _LOG_SCALE[name] else "")
                    + "."
                )
            object.__setattr__(self, name, (low, high))

    def searched(self) -> tuple[str, ...]:
        """Names of the parameters that are sampled (those not ``None``)."""
        return tuple(name for name in _LOG_SCALE if getattr(self, name) is not None)

    def ranges(self) -> dict[str, list[float]]:
        """The searched ranges as a JSON-ready ``{name: [low, high]}``."""
        return {name: list(getattr(self, name)) for name in self.searched()}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> SearchSpace:
        """Build a space from ``{name: [low, high] or None}``; unknown names raise ConfigError."""
        unknown = sorted(set(d) - set(_LOG_SCALE))
        if unknown:
            raise ConfigError(
                f"Unknown search parameter(s) {unknown}; valid ones are {list(_LOG_SCALE)}."
            )
        values = {name: (tuple(v) if v is not None else None) for name, v in d.items()}
        return cls(**values)


def _rank_key(trial: Trial) -> tuple[float, float, int]:
    loss = trial.val_loss if math.isfinite(trial.val_loss) else math.inf
    accuracy = trial.val_accuracy if trial.val_accuracy is not None else 0.0
    return (loss, -accuracy, trial.index)


def _to_unit(name: str, value: float) -> float:
    """Map a value to the space it is sampled uniformly in (log for scale parameters)."""
    return math.log(value) if _LOG_SCALE[name] else float(value)


def _from_unit(name: str, value: float) -> float:
    return math.exp(value) if _LOG_SCALE[name] else float(value)


def sample_configs(
    base: TrainConfig, space: SearchSpace, n: int, rng: np.random.Generator
) -> list[tuple[TrainConfig, dict[str, float]]]:
    """Draw ``n`` configurations: ``base`` with the searched parameters replaced by samples.

    Parameters
    ----------
    base : TrainConfig
        Every field not in the search space comes from here (including ``seed``, so all trials
        share initialization and shuffling and differ only in the sampled hyperparameters).
    space : SearchSpace
        The ranges; lr and weight decay are log-uniform, width and dropout uniform.
    n : int
        Number of configurations.
    rng : numpy.random.Generator
        The source of randomness (the caller seeds it).

    Returns
    -------
    list of (TrainConfig, dict)
        Each configuration with the values that were drawn for it.
    """
    depth = max(len(base.hidden), 1)
    drawn: list[tuple[TrainConfig, dict[str, float]]] = []
    for _ in range(n):
        values: dict[str, float] = {}
        for name in space.searched():
            low, high = getattr(space, name)
            unit = rng.uniform(_to_unit(name, low), _to_unit(name, high))
            values[name] = _from_unit(name, unit)
        changes: dict[str, Any] = {}
        if "lr" in values:
            changes["lr"] = values["lr"]
        if "weight_decay" in values:
            changes["weight_decay"] = values["weight_decay"]
        if "dropout" in values:
            # Clip because exp/log round-trips can step a hair outside [low, high].
            values["dropout"] = min(max(values["dropout"], space.dropout[0]), space.dropout[1])  # type: ignore[index]
            changes["dropout"] = values["dropout"]
        if "width" in values:
            values["width"] = float(int(round(values["width"])))
            changes["hidden"] = (int(values["width"]),) * depth
        drawn.append((base.replace(**changes), values))
    return drawn


def narrow_space(
    space: SearchSpace, top: Sequence[Trial], *, min_fraction: float = 0.25, pad: float = 0.25
) -> SearchSpace:
    """The next round's space: each range shrunk to the span of the top trials, padded.

    Per parameter, in its sampling scale (log for lr and weight decay): take the interval spanned
    by the top trials' values, widen it by ``pad`` times its width on each side, make it at least
    ``min_fraction`` of the old width (centred on the top trials), and keep it inside the old range.
    So the new range is never wider than the old one and never collapses to a point.

    Parameters
    ----------
    space : SearchSpace
        The range of the round that just finished.
    top : sequence of Trial
        The best trials of that round (at least one).
    min_fraction, pad : float
        See above.

    Raises
    ------
    ConfigError
        If ``top`` is empty or ``min_fraction`` is not in (0, 1].
    """
    if not top:
        raise ConfigError("Cannot narrow the search space: no successful trial in the last round.")
    if not 0.0 < min_fraction <= 1.0:
        raise ConfigError(f"min_fraction={min_fraction!r} must be in (0, 1].")
    new: dict[str, tuple[float, float] | None] = {}
    for name in _LOG_SCALE:
        old = getattr(space, name)
        if old is None:
            new[name] = None
            continue
        old_low, old_high = _to_unit(name, old[0]), _to_unit(name, old[1])
        old_width = old_high - old_low
        values = [_to_unit(name, t.sampled[name]) for t in top if name in t.sampled]
        if not values or old_width == 0.0:
            new[name] = old
            continue
        low, high = min(values), max(values)
        spread = high - low
        low, high = low - pad * spread, high + pad * spread
        if high - low < min_fraction * old_width:
            centre = 0.5 * (low + high)
            low, high = (
                centre - 0.5 * min_fraction * old_width,
                centre + 0.5 * min_fraction * old_width,
            )
        # Shift back inside the old range, then clip (clipping only bites if wider than the old one).
        if low < old_low:
            high, low = high + (old_low - low), old_low
        if high > old_high:
            low, high = low - (high - old_high), old_high
        low = max(low, old_low)
        new_low, new_high = _from_unit(name, low), _from_unit(name, high)
        # exp(log(x)) can drift by an ulp; never leave the old range.
        new[name] = (max(new_low, old[0]), min(new_high, old[1]))
    return SearchSpace(**new)
