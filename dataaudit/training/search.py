"""Coarse-to-fine random hyperparameter search for the MLP trainer, run by parallel workers.

Random search, not grid search (Bergstra & Bengio 2012; CS231n): the learning rate and the weight
decay are sampled log-uniformly, the hidden width and the dropout uniformly. The search runs in
rounds: after each round the ranges narrow around the top-k trials, and the next round samples
inside the narrowed ranges. Trials are judged on the validation split only; the test split is
stripped from the data before any trial sees it (``_train_val_only``), so it cannot influence the
choice even by accident.

Who trains the trials (the master samples, collects and narrows; workers fit):

- ``workers=None`` or ``1``: serially, in this process.
- ``workers=N``: a spawn-based ``ProcessPoolExecutor``. The arrays are written once to ``.npy``
  files in a temporary folder and memory-mapped by every worker at start-up (the pool
  initializer), so they are not pickled again for every trial.
- ``scheduler="local"`` or ``scheduler="HOST:PORT"`` (``dataaudit[dask]``): a Dask distributed
  cluster, a ``LocalCluster`` or the user's own scheduler. The arrays are scattered to the workers
  once (``client.scatter(..., broadcast=True)``) and every trial is a ``client.submit``. Workers of
  a remote cluster need dataaudit installed.

Examples
--------
>>> from dataaudit.training.search import SearchSpace
>>> SearchSpace(lr=(1e-3, 1e-1), width=None).searched()
('lr', 'weight_decay', 'dropout')
"""

from __future__ import annotations

import contextlib
import math
import os
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from dataaudit.exceptions import ArtifactError, ConfigError
from dataaudit.training.config import TrainConfig

if TYPE_CHECKING:
    from dataaudit.training.loop import TrainData

__all__ = [
    "SearchSpace",
    "Trial",
    "SearchResult",
    "random_search",
    "sample_configs",
    "narrow_space",
    "save_search",
    "format_trial_line",
    "load_search",
    "SEARCH_FORMAT_VERSION",
]

SEARCH_FORMAT_VERSION = 1
DASK_CONNECT_TIMEOUT = "30s"  # how long to wait for a Dask scheduler address to answer

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
            except (TypeError, ValueError):
                raise ConfigError(
                    f"Search range {name}={value!r} must be a pair (low, high) of numbers."
                ) from None
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


@dataclass
class Trial:
    """One trained configuration of the search.

    ``sampled`` holds the values drawn for the searched parameters; ``val_loss`` and
    ``val_accuracy`` are the best validation numbers of the run (early-stopping point);
    ``val_accuracy`` is ``None`` for regression. A trial that failed has ``val_loss = inf`` and its
    error message in ``error``.
    """

    index: int
    round: int
    config: TrainConfig
    sampled: dict[str, float]
    val_loss: float
    val_accuracy: float | None
    best_step: int | None
    seconds: float
    error: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict (a non-finite loss becomes ``None``)."""
        return {
            "index": self.index,
            "round": self.round,
            "sampled": dict(self.sampled),
            "val_loss": self.val_loss if math.isfinite(self.val_loss) else None,
            "val_accuracy": self.val_accuracy,
            "best_step": self.best_step,
            "seconds": self.seconds,
            "error": self.error,
            "config": self.config.to_dict(),
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Trial:
        """Inverse of ``to_dict``."""
        loss = d.get("val_loss")
        return cls(
            index=int(d["index"]),
            round=int(d["round"]),
            config=TrainConfig.from_dict(d["config"]),
            sampled={k: float(v) for k, v in d["sampled"].items()},
            val_loss=math.inf if loss is None else float(loss),
            val_accuracy=None if d.get("val_accuracy") is None else float(d["val_accuracy"]),
            best_step=None if d.get("best_step") is None else int(d["best_step"]),
            seconds=float(d["seconds"]),
            error=d.get("error"),
        )


@dataclass
class SearchResult:
    """Everything a search produced.

    Attributes
    ----------
    trials : list of Trial
        In the order they were sampled (``trial.index``).
    best : Trial
        The trial with the lowest validation loss over all rounds.
    spaces : list of SearchSpace
        The space each round sampled from: ``spaces[0]`` is the given one, later ones are narrowed.
    seed, n_trials, rounds, top_k, backend : search settings, kept for the record.
    seconds : float
        Wall-clock time of the whole search.
    """

    trials: list[Trial]
    best: Trial
    spaces: list[SearchSpace]
    seed: int
    n_trials: int
    rounds: int
    top_k: int
    runner: str
    seconds: float
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def best_config(self) -> TrainConfig:
        """The configuration of the best trial."""
        return self.best.config

    def ranked(self) -> list[Trial]:
        """Trials sorted best first (validation loss, then higher accuracy, then index)."""
        return sorted(self.trials, key=_rank_key)

    def top_configs(self, k: int) -> list[TrainConfig]:
        """The configurations of the ``k`` best successful trials."""
        return [t.config for t in self.ranked() if t.error is None][:k]

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict; ``load_search`` reads it back."""
        return {
            "format_version": SEARCH_FORMAT_VERSION,
            "seed": self.seed,
            "n_trials": self.n_trials,
            "rounds": self.rounds,
            "top_k": self.top_k,
            "runner": self.runner,
            "seconds": self.seconds,
            "best_index": self.best.index,
            "best_config": self.best.config.to_dict(),
            "ranges": [space.ranges() for space in self.spaces],
            "trials": [t.to_dict() for t in self.trials],
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> SearchResult:
        """Inverse of ``to_dict``.

        Raises
        ------
        ArtifactError
            If the format version is not one this version can read.
        """
        if d.get("format_version") != SEARCH_FORMAT_VERSION:
            raise ArtifactError(
                f"search.json has format_version {d.get('format_version')!r}; this dataaudit reads"
                f" version {SEARCH_FORMAT_VERSION}. Re-run the search."
            )
        trials = [Trial.from_dict(t) for t in d["trials"]]
        by_index = {t.index: t for t in trials}
        return cls(
            trials=trials,
            best=by_index[int(d["best_index"])],
            spaces=[
                SearchSpace.from_dict({name: d_range for name, d_range in r.items()})
                if r
                else SearchSpace(lr=None, weight_decay=None, width=None, dropout=None)
                for r in d["ranges"]
            ],
            seed=int(d["seed"]),
            n_trials=int(d["n_trials"]),
            rounds=int(d["rounds"]),
            top_k=int(d["top_k"]),
            runner=str(d["runner"]),
            seconds=float(d["seconds"]),
        )


# --------------------------------------------------------------------------- sampling


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


# --------------------------------------------------------------------------- running trials


def _train_val_only(data: TrainData) -> TrainData:
    """A copy of ``data`` without the test split: the only data trials and workers ever get."""
    from dataaudit.training.loop import TrainData

    return TrainData(
        X_train=data.X_train,
        y_train=data.y_train,
        X_val=data.X_val,
        y_val=data.y_val,
        task=data.task,
        n_classes=data.n_classes,
        classes=data.classes,
        label_name=data.label_name,
        source=data.source,
    )


def _fit_one(config_dict: dict[str, Any], data: TrainData, keep_params: bool) -> dict[str, Any]:
    """Train one configuration; return its validation numbers (and weights if asked).

    Runs in a worker. A failure is returned, not raised, so one diverging trial does not end a
    search of many; the master reports it and ranks it last.
    """
    from dataaudit.training.loop import fit

    start = time.perf_counter()
    try:
        result = fit(TrainConfig.from_dict(config_dict), data)
    except Exception as exc:  # noqa: BLE001 - recorded in the trial, see docstring
        return {"error": f"{type(exc).__name__}: {exc}", "seconds": time.perf_counter() - start}
    loss = float(result.best_val_loss)
    metric = result.best_val_metric
    out: dict[str, Any] = {
        "val_loss": loss if math.isfinite(loss) else math.inf,
        "val_accuracy": None if metric is None or data.task != "classification" else float(metric),
        "best_step": None if result.best_step is None else int(result.best_step),
        "seconds": time.perf_counter() - start,
        "error": None,
    }
    if keep_params:
        out["params"] = result.params
        out["checkpoints"] = list(result.checkpoints or [])
        out["ema_params"] = result.ema_params
    return out


# Per-process state of a pool worker: the memory-mapped arrays, loaded once by the initializer.
_WORKER_DATA: TrainData | None = None
_WORKER_THREADS: Any = None


def _limit_threads() -> Any:
    """One BLAS thread per worker: N workers with N threads each would oversubscribe the CPUs."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # threadpoolctl comes with scikit-learn; without it, keep the defaults
        return None
    return threadpool_limits(limits=1)


def _pool_init(folder: str, task: str, n_classes: int | None) -> None:
    global _WORKER_DATA, _WORKER_THREADS
    from dataaudit.training.loop import TrainData

    arrays = {
        name: np.load(Path(folder) / f"{name}.npy", mmap_mode="r", allow_pickle=False)
        for name in ("X_train", "y_train", "X_val", "y_val")
    }
    _WORKER_DATA = TrainData(**arrays, task=task, n_classes=n_classes)
    _WORKER_THREADS = _limit_threads()


def _pool_trial(config_dict: dict[str, Any], keep_params: bool) -> dict[str, Any]:
    if _WORKER_DATA is None:  # pragma: no cover - only if the initializer did not run
        raise RuntimeError("search worker started without its data")
    return _fit_one(config_dict, _WORKER_DATA, keep_params)


def _dask_trial(
    config_dict: dict[str, Any],
    keep_params: bool,
    X_train: np.ndarray,
    y_train: np.ndarray,
    X_val: np.ndarray,
    y_val: np.ndarray,
    task: str,
    n_classes: int | None,
) -> dict[str, Any]:
    from dataaudit.training.loop import TrainData

    data = TrainData(
        X_train=X_train, y_train=y_train, X_val=X_val, y_val=y_val, task=task, n_classes=n_classes
    )
    with _limit_threads() or contextlib.nullcontext():
        return _fit_one(config_dict, data, keep_params)


def _import_distributed() -> Any:
    try:
        import distributed
    except ImportError:
        raise ConfigError(
            "A Dask scheduler was requested but dask.distributed is not installed. Install it"
            " with: pip install 'dataaudit[dask]' (or run without --scheduler to use a local"
            " process pool)."
        ) from None
    return distributed


class _Runner:
    """Fits batches of configurations serially, in a process pool or on a Dask cluster.

    A context manager: the pool or cluster connection lives as long as the ``with`` block, so a
    search's rounds (and the ensemble members after it) reuse the same workers and the arrays are
    shipped to them once.
    """

    def __init__(self, data: TrainData, workers: int | None, scheduler: Any) -> None:
        if workers is not None and workers < 1:
            raise ConfigError(f"workers={workers!r} must be >= 1 (or None for serial).")
        self.data = _train_val_only(data)
        self.workers = workers
        self.scheduler = scheduler
        self.kind = "serial"
        self._pool: ProcessPoolExecutor | None = None
        self._tmp: tempfile.TemporaryDirectory[str] | None = None
        self._client: Any = None
        self._cluster: Any = None
        self._owns_client = False
        self._scattered: list[Any] = []

    def __enter__(self) -> _Runner:
        if self.scheduler is not None:
            self._start_dask()
        elif self.workers is not None and self.workers > 1:
            self._start_pool()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _start_pool(self) -> None:
        import multiprocessing

        self._tmp = tempfile.TemporaryDirectory(prefix="dataaudit-search-")
        data = self.data
        for name in ("X_train", "y_train", "X_val", "y_val"):
            np.save(
                Path(self._tmp.name) / f"{name}.npy",
                np.asarray(getattr(data, name)),
                allow_pickle=False,
            )
        # spawn, not fork: safe with BLAS/torch threads in the master, and the same on every OS.
        self._pool = ProcessPoolExecutor(
            max_workers=self.workers,
            mp_context=multiprocessing.get_context("spawn"),
            initializer=_pool_init,
            initargs=(self._tmp.name, data.task, data.n_classes),
        )
        self.kind = f"process pool ({self.workers} workers)"

    def _start_dask(self) -> None:
        distributed = _import_distributed()
        scheduler = self.scheduler
        if isinstance(scheduler, distributed.Client):
            self._client = scheduler
            self.kind = "dask (given client)"
        elif scheduler == "local":
            n_workers = self.workers or os.cpu_count() or 1
            self._cluster = distributed.LocalCluster(
                n_workers=n_workers,
                threads_per_worker=1,
                processes=True,
                dashboard_address=":0",  # a free port: never collide with another user's 8787
            )
            self._client = distributed.Client(self._cluster)
            self._owns_client = True
            self.kind = f"dask LocalCluster ({n_workers} workers)"
        elif isinstance(scheduler, str) and scheduler:
            try:
                self._client = distributed.Client(scheduler, timeout=DASK_CONNECT_TIMEOUT)
            except (OSError, TimeoutError) as exc:
                raise ConfigError(
                    f"Could not connect to the Dask scheduler at {scheduler!r}: {exc}. Start one with"
                    " `dask scheduler` (and `dask worker ADDRESS` on each machine), or pass"
                    " --scheduler local."
                ) from None
            self._owns_client = True
            self.kind = f"dask ({scheduler})"
        else:
            raise ConfigError(
                f"scheduler={scheduler!r} must be 'local', a Dask scheduler address such as"
                " 'tcp://10.0.0.5:8786', or a distributed.Client."
            )
        data = self.data
        arrays = [
            np.asarray(getattr(data, name)) for name in ("X_train", "y_train", "X_val", "y_val")
        ]
        # Scatter once, to every worker; trials then reference these futures instead of the arrays.
        self._scattered = self._client.scatter(arrays, broadcast=True, hash=False)

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None
        if self._tmp is not None:
            self._tmp.cleanup()
            self._tmp = None
        # Dropping the futures releases the scattered arrays on the cluster (cancelling them could
        # race with another search on the same client scattering equal data).
        self._scattered = []
        if self._owns_client and self._client is not None:
            self._client.close()
        self._client = None
        if self._cluster is not None:
            self._cluster.close()
            self._cluster = None

    def run(
        self, configs: Sequence[TrainConfig], keep_params: bool = False
    ) -> Iterator[tuple[int, dict[str, Any]]]:
        """Yield ``(position, outcome)`` for every configuration, in completion order."""
        dicts = [c.to_dict() for c in configs]
        if self._pool is not None:
            futures = {
                self._pool.submit(_pool_trial, d, keep_params): i for i, d in enumerate(dicts)
            }
            for future in as_completed(futures):
                try:
                    outcome = future.result()
                except BrokenProcessPool as exc:
                    raise ConfigError(
                        f"A search worker process died ({exc}). With workers > 1 the calling script"
                        " must start the search under `if __name__ == '__main__':` (processes are"
                        " spawned); a worker may also have run out of memory. Use workers=None to"
                        " train serially."
                    ) from None
                yield futures[future], outcome
        elif self._client is not None:
            distributed = _import_distributed()
            data = self.data
            dask_futures = {}
            for i, d in enumerate(dicts):
                future = self._client.submit(
                    _dask_trial,
                    d,
                    keep_params,
                    *self._scattered,
                    data.task,
                    data.n_classes,
                    key=f"dataaudit-trial-{uuid.uuid4().hex}",  # readable on the dashboard
                )
                dask_futures[future] = i
            for future in distributed.as_completed(list(dask_futures)):
                yield dask_futures[future], future.result()
        else:
            for i, d in enumerate(dicts):
                yield i, _fit_one(d, self.data, keep_params)


# --------------------------------------------------------------------------- the search


def _split_trials(n_trials: int, rounds: int) -> list[int]:
    """Trials per round: as even as possible, the remainder going to the first (widest) rounds."""
    base, extra = divmod(n_trials, rounds)
    return [base + (1 if r < extra else 0) for r in range(rounds)]


def random_search(
    data: TrainData,
    base: TrainConfig,
    *,
    n_trials: int = 16,
    rounds: int = 2,
    space: SearchSpace | None = None,
    workers: int | None = None,
    scheduler: Any = None,
    seed: int = 0,
    top_k: int | None = None,
    on_trial: Callable[[Trial], None] | None = None,
) -> SearchResult:
    """Coarse-to-fine random search over lr, weight decay, width and dropout, judged on val.

    Parameters
    ----------
    data : TrainData
        Train and validation arrays. Its test split, if any, is dropped before anything runs:
        trials never receive it.
    base : TrainConfig
        The configuration every trial starts from; the sampled parameters replace its values.
        All trials share ``base.seed`` so they differ only in the sampled hyperparameters.
    n_trials : int, default 16
        Total number of trials over all rounds (split as evenly as possible).
    rounds : int, default 2
        Number of rounds; each round after the first samples around the top-k of the previous one.
    space : SearchSpace, optional
        The first round's ranges (default ``SearchSpace()``).
    workers : int, optional
        ``None``/``1`` trains serially here; ``N > 1`` uses a spawn process pool of N workers; with
        ``scheduler="local"`` it is the number of Dask workers (default: CPU count).
    scheduler : str or distributed.Client, optional
        ``"local"`` for a Dask ``LocalCluster``, a scheduler address (``"tcp://host:8786"``) to run
        on an existing cluster, or a ``distributed.Client``. Needs ``dataaudit[dask]``.
    seed : int, default 0
        Seeds the sampling. The same seed, data and base give the same trials and the same best.
    top_k : int, optional
        How many of a round's best trials define the next round's ranges
        (default ``max(2, ceil(trials_in_round / 4))``).
    on_trial : callable, optional
        Called with each finished ``Trial`` (in completion order), e.g. to print a line.

    Returns
    -------
    SearchResult

    Raises
    ------
    ConfigError
        On invalid arguments, when Dask is requested but not installed or unreachable, or when
        every trial failed.

    Examples
    --------
    >>> result = random_search(data, TrainConfig(hidden=(64,), max_epochs=20), n_trials=8)  # doctest: +SKIP
    >>> result.best_config.lr  # doctest: +SKIP
    """
    if rounds < 1:
        raise ConfigError(f"rounds={rounds!r} must be >= 1.")
    if n_trials < rounds:
        raise ConfigError(
            f"n_trials={n_trials!r} must be at least rounds={rounds!r} (each round needs a trial)."
        )
    if top_k is not None and top_k < 1:
        raise ConfigError(f"top_k={top_k!r} must be >= 1.")
    space = space or SearchSpace()
    per_round = _split_trials(n_trials, rounds)
    chosen_top_k = top_k or max(2, math.ceil(per_round[0] / 4))
    start = time.perf_counter()
    trials: list[Trial] = []
    spaces = [space]
    with _Runner(data, workers, scheduler) as runner:
        for round_index, count in enumerate(per_round):
            rng = np.random.default_rng(np.random.SeedSequence([seed, round_index]))
            drawn = sample_configs(base, spaces[-1], count, rng)
            first = len(trials)
            round_trials: list[Trial | None] = [None] * count
            for position, outcome in runner.run([config for config, _ in drawn]):
                config, values = drawn[position]
                trial = Trial(
                    index=first + position,
                    round=round_index,
                    config=config,
                    sampled=values,
                    val_loss=outcome.get("val_loss", math.inf),
                    val_accuracy=outcome.get("val_accuracy"),
                    best_step=outcome.get("best_step"),
                    seconds=float(outcome["seconds"]),
                    error=outcome.get("error"),
                )
                round_trials[position] = trial
                if on_trial is not None:
                    on_trial(trial)
            finished = [t for t in round_trials if t is not None]
            trials.extend(finished)
            if round_index + 1 < rounds:
                good = [
                    t
                    for t in sorted(finished, key=_rank_key)
                    if t.error is None and math.isfinite(t.val_loss)
                ]
                spaces.append(narrow_space(spaces[-1], good[:chosen_top_k]) if good else spaces[-1])
        runner_kind = runner.kind
    succeeded = [t for t in trials if t.error is None and math.isfinite(t.val_loss)]
    if not succeeded:
        first_error = next(
            (t.error for t in trials if t.error), "every validation loss was not finite"
        )
        raise ConfigError(
            f"All {len(trials)} search trials failed; the first error was: {first_error}. Check the"
            " base configuration (try it with `dataaudit train` alone) or narrow the search space."
        )
    return SearchResult(
        trials=trials,
        best=min(succeeded, key=_rank_key),
        spaces=spaces,
        seed=seed,
        n_trials=n_trials,
        rounds=rounds,
        top_k=chosen_top_k,
        runner=runner_kind,
        seconds=time.perf_counter() - start,
    )


def format_trial_line(trial: Trial) -> str:
    """One log line per finished trial, in the trainer's ``a | b | c`` style.

    Examples
    --------
    >>> t = Trial(3, 0, TrainConfig(hidden=(128,), lr=1.2e-3, weight_decay=3e-5, dropout=0.125),
    ...           {}, 0.455, 0.912, 200, 1.34)
    >>> format_trial_line(t)
    'trial 3 (round 0) | lr 1.20e-03 | wd 3.00e-05 | hidden 128 | dropout 0.12 | val loss 0.4550 | val acc 0.912 | 1.3 s'
    """
    parts = [
        f"trial {trial.index} (round {trial.round})",
        f"lr {trial.config.lr:.2e}",
        f"wd {trial.config.weight_decay:.2e}",
        f"hidden {','.join(str(w) for w in trial.config.hidden) or 'linear'}",
        f"dropout {trial.config.dropout:.2f}",
    ]
    if trial.error is not None:
        parts.append(f"failed: {trial.error}")
    else:
        parts.append(f"val loss {trial.val_loss:.4f}")
        if trial.val_accuracy is not None:
            parts.append(f"val acc {trial.val_accuracy:.3f}")
    parts.append(f"{trial.seconds:.1f} s")
    return " | ".join(parts)


# --------------------------------------------------------------------------- saving


def save_search(result: SearchResult, folder: str | Path) -> Path:
    """Write ``folder/search.json`` (atomically) and return its path."""
    from dataaudit.io.outputs import atomic_write_json

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    return atomic_write_json(folder / "search.json", result.to_dict())


def load_search(path: str | Path) -> SearchResult:
    """Read a ``search.json`` written by ``save_search`` (a folder is also accepted).

    Raises
    ------
    ArtifactError
        If the file is missing, not JSON, or of another format version.
    """
    import json

    path = Path(path)
    if path.is_dir():
        path = path / "search.json"
    try:
        payload = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ArtifactError(
            f"{path} not found; run `dataaudit train ... --search N` first."
        ) from None
    except (OSError, ValueError) as exc:
        raise ArtifactError(f"{path} could not be read as JSON: {exc}.") from None
    try:
        return SearchResult.from_dict(payload)
    except (ArtifactError, ConfigError):
        raise
    except (KeyError, TypeError, ValueError) as exc:
        raise ArtifactError(
            f"{path} is not a valid search result: missing or bad field {exc}."
        ) from None
