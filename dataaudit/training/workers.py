"""Who trains a batch of configurations: this process, joblib's loky workers, or a Dask cluster.

The master (search, ensembles) samples, collects and ranks; a ``TrialRunner`` fits. Trials only
ever see the train and validation splits (``train_val_only``): the test split is stripped before
any worker gets the data, so it cannot influence a choice even by accident.
"""

from __future__ import annotations

import contextlib
import math
import os
import time
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any

from dataaudit.exceptions import ConfigError
from dataaudit.training.config import TrainConfig

if TYPE_CHECKING:
    from dataaudit.training.loop import TrainData

__all__ = ["TrialRunner", "train_val_only", "DASK_CONNECT_TIMEOUT"]

DASK_CONNECT_TIMEOUT = "30s"  # how long to wait for a Dask scheduler address to answer


def train_val_only(data: TrainData) -> TrainData:
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


def _limit_threads() -> Any:
    """One BLAS thread per worker: N workers with N threads each would oversubscribe the CPUs."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # threadpoolctl comes with scikit-learn; without it, keep the defaults
        return None
    return threadpool_limits(limits=1)


def _worker_trial(
    position: int, config_dict: dict[str, Any], data: TrainData, keep_params: bool
) -> tuple[int, dict[str, Any]]:
    """One trial in a joblib worker (loky process or Dask worker), one BLAS thread."""
    with _limit_threads() or contextlib.nullcontext():
        return position, _fit_one(config_dict, data, keep_params)


def _import_distributed() -> Any:
    try:
        import distributed
    except ImportError as exc:
        raise ConfigError(
            "A Dask scheduler was requested but dask.distributed is not installed. Install it"
            " with: pip install 'dataaudit[dask]' (or run without --scheduler to use a local"
            " process pool)."
        ) from exc
    return distributed


class TrialRunner:
    """Fits batches of configurations serially, or through joblib on local processes or Dask.

    ``workers > 1`` runs joblib's loky process pool (large arrays are memory-mapped to the workers
    by joblib, not pickled per trial); a ``scheduler`` runs joblib's Dask backend on a
    ``LocalCluster``, the user's scheduler, or a given ``distributed.Client``, with the arrays
    scattered to the workers once. A context manager: the workers (and a cluster this runner
    started) live as long as the ``with`` block, so a search's rounds and the ensemble members
    after it reuse them.
    """

    def __init__(self, data: TrainData, workers: int | None, scheduler: Any) -> None:
        if workers is not None and workers < 1:
            raise ConfigError(f"workers={workers!r} must be >= 1 (or None for serial).")
        self.data = train_val_only(data)
        self.workers = workers
        self.scheduler = scheduler
        self.kind = "serial"
        self._parallel: Any = None
        self._config: Any = None
        self._client: Any = None
        self._cluster: Any = None
        self._owns_client = False

    def __enter__(self) -> TrialRunner:
        import joblib

        if self.scheduler is not None:
            self._start_dask()
            self._config = joblib.parallel_config(
                backend="dask", client=self._client, scatter=[self.data], wait_for_workers_timeout=60
            )
        elif self.workers is not None and self.workers > 1:
            # loky keeps its worker processes alive between calls, so the rounds reuse them.
            self._config = joblib.parallel_config(backend="loky", n_jobs=self.workers, inner_max_num_threads=1)
            self.kind = f"process pool ({self.workers} workers)"
        if self._config is not None:
            self._config.__enter__()
            self._parallel = joblib.Parallel(n_jobs=-1 if self.scheduler is not None else self.workers,
                                             return_as="generator_unordered")
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

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
                ) from exc
            self._owns_client = True
            self.kind = f"dask ({scheduler})"
        else:
            raise ConfigError(
                f"scheduler={scheduler!r} must be 'local', a Dask scheduler address such as"
                " 'tcp://10.0.0.5:8786', or a distributed.Client."
            )

    def close(self) -> None:
        if self._config is not None:
            self._config.__exit__(None, None, None)
            self._config = None
        self._parallel = None
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
        import joblib
        from joblib.externals.loky.process_executor import TerminatedWorkerError

        dicts = [c.to_dict() for c in configs]
        if self._parallel is None:
            for i, d in enumerate(dicts):
                yield i, _fit_one(d, self.data, keep_params)
            return
        tasks = (joblib.delayed(_worker_trial)(i, d, self.data, keep_params) for i, d in enumerate(dicts))
        try:
            yield from self._parallel(tasks)
        except TerminatedWorkerError as exc:
            raise ConfigError(
                f"A search worker process died ({exc}); it may have run out of memory. Use"
                " workers=None to train serially."
            ) from exc
