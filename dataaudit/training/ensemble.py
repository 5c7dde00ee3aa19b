"""Model ensembles and weight averaging for the MLP trainer, compared on the validation split.

The CS231n notes' "model ensembles" section lists the cheap ways to buy a few points of accuracy;
``compare_ensembles`` builds each of them for one configuration and keeps the one that does best
on the validation split:

- ``single``: one run of the configuration (its early-stopping weights): the baseline.
- ``seeds``: k random initializations of the same configuration; predictions averaged.
- ``top_k``: the k best configurations of a hyperparameter search; predictions averaged.
- ``checkpoints``: the last k eval-time snapshots of one run; predictions averaged.
- ``weight_average``: the same snapshots' *weights* averaged into one network (Polyak / SWA).
- ``ema``: the exponential moving average of the weights the trainer kept (``ema_decay``).

Classification averages predicted probabilities, regression the predictions. Only the chosen
kind is ever evaluated on the test split, once, after the choice is made.
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from dataaudit.exceptions import ArtifactError, ConfigError
from dataaudit.training.config import TrainConfig
from dataaudit.training.model import score_outputs

if TYPE_CHECKING:
    from dataaudit.training.loop import TrainData
    from dataaudit.training.search import SearchResult

__all__ = [
    "ENSEMBLE_KINDS",
    "EnsembleModel",
    "EnsembleRow",
    "EnsembleReport",
    "compare_ensembles",
    "average_params",
    "default_ema_decay",
    "score_outputs",
    "save_ensemble",
    "load_ensemble",
    "ENSEMBLE_FORMAT_VERSION",
]

ENSEMBLE_FORMAT_VERSION = 1
ENSEMBLE_KINDS: tuple[str, ...] = (
    "single",
    "seeds",
    "top_k",
    "checkpoints",
    "weight_average",
    "ema",
)


def default_ema_decay(n_train: int, batch_size: int) -> float:
    """An EMA decay whose memory is about one epoch: ``1 - 1 / steps_per_epoch`` in [0.9, 0.9999].

    The trainer starts the average at the initial weights without bias correction, so a memory
    much longer than the run would keep the untrained network in the average.
    """
    steps_per_epoch = max(1, math.ceil(n_train / max(1, min(batch_size, n_train))))
    return float(min(max(1.0 - 1.0 / steps_per_epoch, 0.9), 0.9999))


def _n_outputs(data: TrainData) -> int:
    return int(data.n_outputs)


class EnsembleModel:
    """Members (configuration + weights) whose predictions are averaged.

    Parameters
    ----------
    kind : str
        Which ensemble this is (one of ``ENSEMBLE_KINDS``); kept for the record.
    members : sequence of (TrainConfig, dict)
        Each member's configuration and parameters (as ``model.get_params()`` returns them).
    task : str
        "classification" or "regression".
    n_inputs, n_outputs : int
        Input width and number of outputs (classes, or 1).
    """

    def __init__(
        self,
        kind: str,
        members: Sequence[tuple[TrainConfig, dict[str, np.ndarray]]],
        *,
        task: str,
        n_inputs: int,
        n_outputs: int,
    ) -> None:
        from dataaudit.training.loop import build_model

        if not members:
            raise ConfigError(f"An ensemble ({kind}) needs at least one member.")
        self.kind = kind
        self.task = task
        self.n_inputs = int(n_inputs)
        self.n_outputs = int(n_outputs)
        self.members = [(config, params) for config, params in members]
        self.models = []
        for config, params in self.members:
            model = build_model(config, self.n_inputs, self.n_outputs, task)
            model.set_params(params)
            self.models.append(model)

    def __len__(self) -> int:
        return len(self.models)

    def outputs(self, X: np.ndarray) -> np.ndarray:
        """Averaged class probabilities ``(n, C)`` or averaged predictions ``(n,)``."""
        total: np.ndarray
        if self.task == "classification":
            total = np.zeros((len(X), self.n_outputs), dtype=np.float64)
            for model in self.models:
                total += np.asarray(model.predict_proba(X), dtype=np.float64)
        else:
            total = np.zeros(len(X), dtype=np.float64)
            for model in self.models:
                total += np.asarray(model.predict(X), dtype=np.float64).reshape(-1)
        return total / len(self.models)

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        """Averaged class probabilities, shape ``(n, C)`` (classification only)."""
        if self.task != "classification":
            raise ConfigError("predict_proba is for classifiers; use predict for regression.")
        return self.outputs(X)

    def predict(self, X: np.ndarray) -> np.ndarray:
        """Class indices from the averaged probabilities, or the averaged regression values."""
        out = self.outputs(X)
        return out.argmax(axis=1) if self.task == "classification" else out


def average_params(snapshots: Sequence[dict[str, np.ndarray]]) -> dict[str, np.ndarray]:
    """Uniform average of parameter snapshots, key by key (Polyak / stochastic weight averaging).

    Batch-norm running statistics are averaged like the weights, which is an approximation (SWA
    recomputes them with a pass over the training data).

    Raises
    ------
    ConfigError
        If there are no snapshots or they do not share names and shapes.
    """
    if not snapshots:
        raise ConfigError("Cannot average zero parameter snapshots; train with checkpoints >= 1.")
    keys = set(snapshots[0])
    for snapshot in snapshots[1:]:
        if set(snapshot) != keys:
            raise ConfigError("Parameter snapshots to average have different parameter names.")
    out: dict[str, np.ndarray] = {}
    for key in snapshots[0]:
        stacked = np.stack([np.asarray(s[key]) for s in snapshots])
        out[key] = stacked.mean(axis=0).astype(np.asarray(snapshots[0][key]).dtype)
    return out


@dataclass
class EnsembleRow:
    """One line of the comparison: an ensemble kind and its validation numbers."""

    kind: str
    n_members: int
    val_loss: float
    val_accuracy: float | None
    description: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "n_members": self.n_members,
            "val_loss": self.val_loss if math.isfinite(self.val_loss) else None,
            "val_accuracy": self.val_accuracy,
            "description": self.description,
        }


@dataclass
class EnsembleReport:
    """The comparison of ensemble kinds on the validation split and the final choice.

    Attributes
    ----------
    rows : list of EnsembleRow
        One row per kind that could be built, in ``ENSEMBLE_KINDS`` order.
    chosen : str
        The kind with the lowest validation loss (ties go to fewer members).
    model : EnsembleModel
        The chosen ensemble, ready to predict.
    test : dict or None
        ``{"loss", "accuracy"}`` of the chosen model on the test split (the only test
        evaluation), or ``None`` when the data has no test split.
    skipped : dict
        Kinds that were asked for but not built, with the reason.
    config : TrainConfig
        The configuration the ensembles were built from.
    k : int
        Ensemble size asked for.
    seconds : float
        Wall-clock time of all training and evaluation.
    """

    rows: list[EnsembleRow]
    chosen: str
    model: EnsembleModel
    test: dict[str, float] | None
    skipped: dict[str, str]
    config: TrainConfig
    k: int
    seconds: float
    extra: dict[str, Any] = field(default_factory=dict)

    def row(self, kind: str) -> EnsembleRow:
        """The row of one kind.

        Raises
        ------
        ConfigError
            If that kind was not built.
        """
        for row in self.rows:
            if row.kind == kind:
                return row
        raise ConfigError(
            f"Ensemble kind {kind!r} was not built (built: {[r.kind for r in self.rows]};"
            f" skipped: {self.skipped})."
        )

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict (the chosen model's weights go to a separate .npz)."""
        return {
            "format_version": ENSEMBLE_FORMAT_VERSION,
            "chosen": self.chosen,
            "k": self.k,
            "seconds": self.seconds,
            "selected_on": "validation",
            "rows": [r.to_dict() for r in self.rows],
            "skipped": dict(self.skipped),
            "test": self.test,
            "config": self.config.to_dict(),
            "model": {
                "kind": self.model.kind,
                "task": self.model.task,
                "n_inputs": self.model.n_inputs,
                "n_outputs": self.model.n_outputs,
                "members": [config.to_dict() for config, _ in self.model.members],
            },
        }


_DESCRIPTIONS: dict[str, str] = {
    "single": "one run, early-stopping weights (seed {seed})",
    "seeds": "{n} random initializations of the configuration (seeds {seeds}), {what} averaged",
    "top_k": "the {n} best configurations of the search, {what} averaged",
    "checkpoints": "the last {n} eval-time snapshots of one run, {what} averaged",
    "weight_average": "the last {n} snapshots' weights averaged into one network (Polyak/SWA)",
    "ema": "exponential moving average of the weights (decay {decay})",
}


def _config_key(config: TrainConfig) -> str:
    """Identity of a training run: snapshot/EMA bookkeeping does not change the trajectory."""
    d = config.to_dict()
    for name in ("checkpoints", "ema_decay", "extra"):
        d.pop(name, None)
    return json.dumps(d, sort_keys=True)


def compare_ensembles(
    data: TrainData,
    config: TrainConfig,
    *,
    k: int = 5,
    search: SearchResult | None = None,
    kinds: Sequence[str] | None = None,
    ema_decay: float | None = None,
    workers: int | None = None,
    scheduler: Any = None,
) -> EnsembleReport:
    """Build each ensemble kind for ``config``, compare them on val, test only the chosen one.

    Parameters
    ----------
    data : TrainData
        Train, validation and (optionally) test arrays. Members are trained without the test
        split; the test split is used once, for the chosen model.
    config : TrainConfig
        The configuration to ensemble (usually ``search.best_config``).
    k : int, default 5
        Members per ensemble: seeds, top configurations, checkpoints averaged.
    search : SearchResult, optional
        Needed for the ``top_k`` kind (skipped without it or with fewer than 2 trials).
    kinds : sequence of str, optional
        Which kinds to build (default all of ``ENSEMBLE_KINDS``); ``single`` is always built.
    ema_decay : float, optional
        Decay of the weight EMA when ``config.ema_decay`` is None (default: a memory of about
        one epoch, see ``default_ema_decay``).
    workers, scheduler :
        As in ``random_search``: the members are trained by the same kind of workers.

    Returns
    -------
    EnsembleReport

    Raises
    ------
    ConfigError
        On an unknown kind, ``k < 1``, or when the base run fails.
    """
    from dataaudit.training.workers import TrialRunner

    start = time.perf_counter()
    if k < 1:
        raise ConfigError(f"k={k!r} must be >= 1 (members per ensemble).")
    wanted = list(kinds) if kinds is not None else list(ENSEMBLE_KINDS)
    unknown = sorted(set(wanted) - set(ENSEMBLE_KINDS))
    if unknown:
        raise ConfigError(
            f"Unknown ensemble kind(s) {unknown}; choose from {list(ENSEMBLE_KINDS)}."
        )
    if "single" not in wanted:
        wanted.insert(0, "single")
    skipped: dict[str, str] = {}

    # The base run also records snapshots and the weight EMA, so one run feeds four kinds.
    decay = config.ema_decay if config.ema_decay is not None else ema_decay
    if decay is None:
        decay = default_ema_decay(len(data.X_train), config.batch_size)
    base = config.replace(checkpoints=max(config.checkpoints, k), ema_decay=decay)
    runs: list[TrainConfig] = [base]
    seed_configs = (
        [config.replace(seed=config.seed + i) for i in range(k)] if "seeds" in wanted else []
    )
    top_configs: list[TrainConfig] = []
    if "top_k" in wanted:
        if search is None:
            skipped["top_k"] = "no search result was given"
        else:
            top_configs = search.top_configs(k)
            if len(top_configs) < 2:
                skipped["top_k"] = "the search has fewer than 2 successful trials"
                top_configs = []
    index_of: dict[str, int] = {_config_key(base): 0}
    for candidate in [*seed_configs, *top_configs]:
        if _config_key(candidate) not in index_of:
            index_of[_config_key(candidate)] = len(runs)
            runs.append(candidate)

    outcomes: list[dict[str, Any] | None] = [None] * len(runs)
    with TrialRunner(data, workers, scheduler) as runner:
        for position, outcome in runner.run(runs, keep_params=True):
            outcomes[position] = outcome
    base_outcome = outcomes[0]
    if base_outcome is None or base_outcome.get("error") or "params" not in base_outcome:
        error = None if base_outcome is None else base_outcome.get("error")
        raise ConfigError(f"Training the configuration to ensemble failed: {error}.")

    task, n_inputs, n_outputs = data.task, int(np.asarray(data.X_train).shape[1]), _n_outputs(data)
    what = "probabilities" if task == "classification" else "predictions"

    def members_of(
        configs: Sequence[TrainConfig],
    ) -> list[tuple[TrainConfig, dict[str, np.ndarray]]]:
        members = []
        for candidate in configs:
            outcome = outcomes[index_of[_config_key(candidate)]]
            if outcome is not None and not outcome.get("error") and "params" in outcome:
                members.append((candidate, outcome["params"]))
        return members

    candidates: list[tuple[EnsembleModel, str]] = []

    def add(
        kind: str, members: list[tuple[TrainConfig, dict[str, np.ndarray]]], **fmt: Any
    ) -> None:
        model = EnsembleModel(kind, members, task=task, n_inputs=n_inputs, n_outputs=n_outputs)
        candidates.append(
            (model, _DESCRIPTIONS[kind].format(**{"what": what, "n": len(members), **fmt}))
        )

    add("single", [(config, base_outcome["params"])], seed=config.seed)
    if "seeds" in wanted:
        members = members_of(seed_configs)
        if len(members) >= 2:
            add("seeds", members, seeds=", ".join(str(c.seed) for c, _ in members))
        else:
            skipped["seeds"] = f"k={k} gives fewer than 2 successfully trained seeds"
    if top_configs:
        members = members_of(top_configs)
        if len(members) >= 2:
            add("top_k", members)
        else:
            skipped["top_k"] = "fewer than 2 of the top configurations trained successfully"
    snapshots = list(base_outcome.get("checkpoints") or [])[-k:]
    for kind in ("checkpoints", "weight_average"):
        if kind not in wanted:
            continue
        if len(snapshots) < 2:
            skipped[kind] = f"the run kept {len(snapshots)} snapshot(s); it needs at least 2"
        elif kind == "checkpoints":
            add(kind, [(config, snapshot) for snapshot in snapshots])
        else:
            add(kind, [(config, average_params(snapshots))], n=len(snapshots))
    if "ema" in wanted:
        if base_outcome.get("ema_params") is not None:
            add("ema", [(config, base_outcome["ema_params"])], decay=decay)
        else:
            skipped["ema"] = "the trainer returned no EMA weights"

    rows: list[EnsembleRow] = []
    for model, description in candidates:
        scores = score_outputs(model.outputs(data.X_val), data.y_val, task)
        loss = float(scores["loss"]) if math.isfinite(float(scores["loss"])) else math.inf  # type: ignore[arg-type]
        rows.append(EnsembleRow(model.kind, len(model), loss, scores.get("accuracy"), description))
    order = {kind: i for i, kind in enumerate(ENSEMBLE_KINDS)}
    rows.sort(key=lambda r: order[r.kind])
    best_row = min(rows, key=lambda r: (r.val_loss, r.n_members, order[r.kind]))
    chosen_model = next(m for m, _ in candidates if m.kind == best_row.kind)

    test: dict[str, float] | None = None
    if data.X_test is not None and data.y_test is not None:
        # The one and only look at the test split: after the choice, for the chosen model only.
        test = score_outputs(chosen_model.outputs(data.X_test), data.y_test, task)
    return EnsembleReport(
        rows=rows,
        chosen=best_row.kind,
        model=chosen_model,
        test=test,
        skipped=skipped,
        config=config,
        k=k,
        seconds=time.perf_counter() - start,
    )


def save_ensemble(report: EnsembleReport, folder: str | Path) -> tuple[Path, Path]:
    """Write ``folder/ensemble.json`` and the chosen members' weights to ``folder/ensemble.npz``.

    The ``.npz`` holds ``m{i}.{name}`` arrays (member ``i``, parameter ``name``), no pickle.
    Returns both paths.
    """
    from dataaudit.io.output_set import output_folder
    from dataaudit.io.outputs import atomic_savez, atomic_write_json

    arrays = {
        f"m{i}.{name}": np.asarray(value)
        for i, (_, params) in enumerate(report.model.members)
        for name, value in params.items()
    }
    with output_folder(folder, "train", atomic=False) as target:  # recorded in its .dataaudit.json
        npz = atomic_savez(target / "ensemble.npz", **arrays)
        return atomic_write_json(target / "ensemble.json", report.to_dict()), npz


def load_ensemble(folder: str | Path) -> EnsembleModel:
    """Rebuild the chosen ensemble saved by ``save_ensemble``.

    Raises
    ------
    ArtifactError
        If a file is missing, unreadable, of another format version, or the weights do not fit.
    """
    folder = Path(folder)
    json_path, npz_path = folder / "ensemble.json", folder / "ensemble.npz"
    try:
        payload = json.loads(json_path.read_text(encoding="utf-8"))
        with np.load(npz_path, allow_pickle=False) as npz:
            arrays = {key: npz[key] for key in npz.files}
    except FileNotFoundError as exc:
        raise ArtifactError(
            f"{exc.filename} not found; run `dataaudit train ... --ensemble K`."
        ) from exc
    except (OSError, ValueError) as exc:
        raise ArtifactError(f"Could not read the ensemble in {folder}: {exc}.") from exc
    if payload.get("format_version") != ENSEMBLE_FORMAT_VERSION:
        raise ArtifactError(
            f"{json_path} has format_version {payload.get('format_version')!r}; this dataaudit"
            f" reads version {ENSEMBLE_FORMAT_VERSION}. Re-run training with --ensemble."
        )
    spec = payload["model"]
    members = []
    for i, config_dict in enumerate(spec["members"]):
        prefix = f"m{i}."
        params = {
            key[len(prefix) :]: value for key, value in arrays.items() if key.startswith(prefix)
        }
        members.append((TrainConfig.from_dict(config_dict), params))
    try:
        return EnsembleModel(
            spec["kind"],
            members,
            task=spec["task"],
            n_inputs=spec["n_inputs"],
            n_outputs=spec["n_outputs"],
        )
    except ValueError as exc:  # InputError from set_params: names or shapes do not fit
        raise ArtifactError(
            f"The weights in {npz_path} do not fit their configuration: {exc}"
        ) from exc
