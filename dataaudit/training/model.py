"""Model building, the one scoring rule, and the compute-thread limit shared by training code."""

from __future__ import annotations

import contextlib
import math
from collections.abc import Iterator
from typing import Any

import numpy as np

from dataaudit.training.config import TrainConfig

__all__ = ["build_model", "evaluate", "score_outputs", "compute_threads", "SMALL_STEP_MACS", "PROBABILITY_FLOOR"]

# Below this many multiply-adds per step, BLAS threads cost more in hand-offs than they save
# (and on a busy machine an idle-spinning second thread slows each small matmul ~10x).
SMALL_STEP_MACS = 30_000_000
# Log loss floors probabilities here, so one confidently wrong row costs at most -log(1e-15) ~ 34.5
# instead of an infinite loss (the convention of scikit-learn's log_loss).
PROBABILITY_FLOOR = 1e-15


def build_model(
    config: TrainConfig,
    n_inputs: int,
    n_outputs: int,
    task: str,
    y_train: np.ndarray | None = None,
) -> Any:
    """The MLP described by ``config`` on the chosen backend, with its optimizer attached.

    Both backends share the initialization (same seed, same weights) and the interface:
    ``predict_proba``/``predict``, ``get_params``/``set_params``, and the training step in four
    parts that ``fit`` calls in order: ``forward_train``, ``data_loss``, ``backward``,
    ``optimizer_step``.
    """
    kwargs = dict(
        hidden=config.hidden,
        activation=config.activation,
        dropout=config.dropout,
        batch_norm=config.batch_norm,
        task=task,
        dtype=config.dtype,
        seed=config.seed,
        y_train=y_train,
        l1=config.l1,
        l2=config.l2,
    )
    if config.backend == "torch":
        from dataaudit.training.mlp_torch import TorchMLP

        model: Any = TorchMLP(n_inputs, n_outputs, **kwargs)  # type: ignore[arg-type]
    else:
        from dataaudit.training.mlp_numpy import NumpyMLP

        model = NumpyMLP(n_inputs, n_outputs, **kwargs)  # type: ignore[arg-type]
    model.configure_optimizer(
        config.optimizer,
        momentum=config.momentum,
        nesterov=config.nesterov,
        weight_decay=config.weight_decay,
    )
    return model


def evaluate(model: Any, X: np.ndarray, y: np.ndarray, task: str) -> dict[str, float]:
    """Data loss (no L1/L2) and metrics of ``model`` in eval mode (see ``score_outputs``).

    For regression the loss is in the standardized target's units (what the network minimizes,
    ~1 for predicting the mean); RMSE and MAE are in the target's own units.
    """
    y = np.asarray(y)
    if len(y) == 0:
        return score_outputs(np.empty((0, 1)), y, task)
    if task == "classification":
        return score_outputs(model.predict_proba(X), y, task)
    scale = model.target_scaling()[1] if hasattr(model, "target_scaling") else 1.0
    return score_outputs(model.predict(X), y, task, target_scale=scale)


def score_outputs(outputs: np.ndarray, y: np.ndarray, task: str, *, target_scale: float = 1.0) -> dict[str, float]:
    """The one scoring rule of training, evaluation, search and ensembles.

    Classification: ``outputs`` are probabilities ``(n, C)``; returns ``{"loss", "accuracy"}``
    with loss the mean cross-entropy (probabilities floored at ``PROBABILITY_FLOOR``).
    Regression: ``outputs`` are predictions ``(n,)`` in the target's units; returns
    ``{"loss", "rmse", "mae", "r2"}`` with loss the mean squared error divided by
    ``target_scale ** 2`` (the standardized units training uses). An empty split gives NaN.
    """
    y = np.asarray(y)
    nan = float("nan")
    if task == "classification":
        if len(y) == 0:
            return {"loss": nan, "accuracy": nan}
        labels = y.astype(np.int64)
        picked = np.asarray(outputs)[np.arange(len(labels)), labels]
        loss = float(-np.mean(np.log(np.maximum(picked, PROBABILITY_FLOOR))))
        return {"loss": loss, "accuracy": float(np.mean(np.asarray(outputs).argmax(axis=1) == labels))}
    if len(y) == 0:
        return {"loss": nan, "rmse": nan, "mae": nan, "r2": nan}
    residual = np.asarray(outputs, dtype=np.float64).reshape(-1) - y.astype(np.float64)
    mse = float(np.mean(residual**2))
    variance = float(np.var(y.astype(np.float64)))
    return {"loss": mse / target_scale**2, "rmse": math.sqrt(mse), "mae": float(np.mean(np.abs(residual))),
            "r2": 1.0 - mse / variance if variance > 0 else nan}


@contextlib.contextmanager
def compute_threads(threads: int, *, torch: bool = False) -> Iterator[None]:
    """Limit BLAS/OpenMP (and torch intra-op) threads to ``threads`` inside the block; 0 = leave as is."""
    if threads <= 0:
        yield
        return
    from threadpoolctl import threadpool_limits

    previous = None
    if torch:
        import torch as torch_module

        previous = torch_module.get_num_threads()
        torch_module.set_num_threads(threads)
    try:
        with threadpool_limits(limits=threads):
            yield
    finally:
        if previous is not None:
            torch_module.set_num_threads(previous)
