"""The training loop: data in, a fitted MLP and its history out. Read it top to bottom.

``fit`` shuffles the training set once per epoch (seeded), walks it in contiguous mini-batches,
evaluates on a fixed train subset and the validation set every ``eval_every`` steps (default
once per epoch), keeps the best weights by validation loss and stops early after ``patience``
evaluations without improvement. Each evaluation is one history row and one log line::

    step 200 | train loss 0.4132 | val loss 0.4550 | val acc 0.912 | 3.1 ms/step
"""

from __future__ import annotations

import math
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from dataaudit.exceptions import ConfigError
from dataaudit.training.config import TrainConfig
from dataaudit.training.data import TrainData
from dataaudit.training.diagnostics import dead_unit_share, update_ratios
from dataaudit.training.model import SMALL_STEP_MACS, build_model, compute_threads, evaluate
from dataaudit.training.optim import lr_at

# build_model, compute_threads and evaluate live in training/model.py; re-exported for callers.
__all__ = [
    "TrainData",
    "FitResult",
    "fit",
    "build_model",
    "compute_threads",
    "evaluate",
    "format_log_line",
]

TRAIN_EVAL_ROWS = 10_000  # the "train loss" of a history row is measured on this many fixed rows
PROBE_ROWS = 1_000  # rows used to measure dead units at each evaluation


# ----------------------------------------------------------------------------------------- fit
@dataclass
class FitResult:
    """What ``fit`` returns. ``model`` holds the best weights (also in ``params``)."""

    model: Any
    history: list[dict[str, Any]]
    best_step: int
    best_val_loss: float
    best_val_metric: float  # val accuracy (classification) or val R² (regression) at best_step
    params: dict[str, np.ndarray]
    checkpoints: list[dict[str, np.ndarray]] = field(default_factory=list)
    ema_params: dict[str, np.ndarray] | None = None
    seconds: float = 0.0
    stopped: str = "max_epochs"  # max_epochs | early_stopping | diverged
    steps: int = 0
    config: TrainConfig | None = None


def format_log_line(row: dict[str, Any]) -> str:
    """``step 200 | train loss 0.4132 | val loss 0.4550 | val acc 0.912 | 3.1 ms/step``."""
    parts = [f"step {row['step']}", f"train loss {row['train_loss']:.4f}", f"val loss {row['val_loss']:.4f}"]
    if "val_acc" in row:
        parts.append(f"val acc {row['val_acc']:.3f}")
    elif "val_r2" in row:
        parts.append(f"val r2 {row['val_r2']:.3f}")
    parts.append(f"{row['ms_per_step']:.1f} ms/step")
    return " | ".join(parts)


def fit(
    config: TrainConfig,
    data: TrainData,
    on_log: Callable[[dict[str, Any]], None] | None = None,
) -> FitResult:
    """Train an MLP on ``data`` as ``config`` says; return the best model and the history.

    Parameters
    ----------
    config : TrainConfig
    data : TrainData
    on_log : callable, optional
        Called with each history row right after it is measured (see ``format_log_line``).

    Returns
    -------
    FitResult

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(200, 4)); y = (X[:, 0] > 0).astype(np.int64)
    >>> data = TrainData(X[:150], y[:150], X[150:], y[150:])
    >>> fit(TrainConfig(hidden=(16,), max_epochs=20), data).best_val_metric > 0.9
    True
    """
    if not isinstance(config, TrainConfig):
        raise ConfigError(f"config must be a TrainConfig, got {type(config).__name__}.")
    widths = (data.n_features, *config.hidden, data.n_outputs)
    macs = min(config.batch_size, len(data.y_train)) * sum(a * b for a, b in zip(widths[:-1], widths[1:], strict=True))
    threads = config.threads or (1 if macs < SMALL_STEP_MACS else 0)
    with compute_threads(threads, torch=config.backend == "torch"):
        return _fit(config, data, on_log)


def _fit(
    config: TrainConfig,
    data: TrainData,
    on_log: Callable[[dict[str, Any]], None] | None,
) -> FitResult:
    started = time.perf_counter()
    task = data.task
    dtype = np.dtype(config.dtype)
    # One contiguous copy in the model's dtype, so batches are cheap slices.
    X_train = np.ascontiguousarray(data.X_train, dtype=dtype)
    y_train = np.asarray(data.y_train, dtype=np.int64 if task == "classification" else dtype)
    X_val = np.ascontiguousarray(data.X_val, dtype=dtype)
    y_val = np.asarray(data.y_val)
    model = build_model(config, data.n_features, data.n_outputs, task, y_train)

    rng = np.random.default_rng(config.seed)
    n = len(X_train)
    batch_size = min(config.batch_size, n)
    steps_per_epoch = math.ceil(n / batch_size)
    total_steps = steps_per_epoch * config.max_epochs
    eval_every = config.eval_every or steps_per_epoch
    eval_rows = np.sort(rng.choice(n, size=min(n, TRAIN_EVAL_ROWS), replace=False))
    X_train_eval, y_train_eval = X_train[eval_rows], y_train[eval_rows]
    probe = X_train_eval[:PROBE_ROWS]
    metric_key = "accuracy" if task == "classification" else "r2"

    history: list[dict[str, Any]] = []
    checkpoints: deque[dict[str, np.ndarray]] = deque(maxlen=config.checkpoints or None)
    best_val_loss, best_val_metric, best_step = math.inf, float("nan"), 0
    best_params = model.get_params()
    ema = model.get_params() if config.ema_decay is not None else None
    evals_without_improvement = 0
    stopped = "max_epochs"
    step = 0
    step_seconds, steps_since_eval = 0.0, 0
    running_loss, running_count = 0.0, 0

    for _epoch in range(config.max_epochs):
        order = rng.permutation(n)
        X_epoch, y_epoch = X_train[order], y_train[order]  # one shuffle copy per epoch
        for start in range(0, n, batch_size):
            stop = min(start + batch_size, n)
            if config.batch_norm and stop - start < 2:
                continue  # batch statistics of one row are undefined
            lr = lr_at(
                step, lr=config.lr, schedule=config.schedule, total_steps=total_steps,
                warmup_steps=config.warmup_steps, step_size=config.step_size, gamma=config.gamma,
            )
            evaluating = (step + 1) % eval_every == 0 or step + 1 == total_steps
            before = model.get_params() if evaluating else None
            X_batch, y_batch = X_epoch[start:stop], y_epoch[start:stop]
            tick = time.perf_counter()
            out, cache = model.forward_train(X_batch)  # forward pass (dropout, batch statistics)
            loss, dout = model.data_loss(out, y_batch, cache)  # mean data loss, d(loss)/d(out)
            grads = model.backward(X_batch, cache, dout)  # backward pass (+ L1/L2 gradients)
            model.optimizer_step(grads, lr)  # optimizer update at this step's learning rate
            step_seconds += time.perf_counter() - tick
            steps_since_eval += 1
            step += 1
            running_loss += loss
            running_count += 1
            if not math.isfinite(loss):
                stopped = "diverged"
                break
            # ema exists exactly when ema_decay is set; the second test narrows the type.
            if ema is not None and config.ema_decay is not None:
                decay = config.ema_decay
                for key, value in model.get_params().items():
                    ema[key] *= decay
                    ema[key] += (1.0 - decay) * value
            if not evaluating:
                continue

            # ---- evaluation: one history row, one log line
            after = model.get_params()
            train_metrics = evaluate(model, X_train_eval, y_train_eval, task)
            val_metrics = evaluate(model, X_val, y_val, task)
            row: dict[str, Any] = {
                "step": step,
                "epoch": round(step / steps_per_epoch, 3),
                "lr": lr,
                "train_loss": train_metrics["loss"],
                "val_loss": val_metrics["loss"],
                "batch_loss": running_loss / max(running_count, 1),
            }
            if task == "classification":
                row["train_acc"] = train_metrics["accuracy"]
                row["val_acc"] = val_metrics["accuracy"]
            else:
                row["train_r2"] = train_metrics["r2"]
                row["val_r2"] = val_metrics["r2"]
            row["ms_per_step"] = 1000.0 * step_seconds / max(steps_since_eval, 1)
            row["seconds"] = time.perf_counter() - started
            row["update_ratio"] = update_ratios(before, after, model.weight_keys)  # type: ignore[arg-type]
            row["dead_units"] = dead_unit_share(config.activation, model.hidden_activations(probe))
            history.append(row)
            if on_log is not None:
                on_log(row)
            step_seconds, steps_since_eval = 0.0, 0
            running_loss, running_count = 0.0, 0
            if config.checkpoints:
                checkpoints.append(after)

            if not math.isfinite(row["val_loss"]):
                stopped = "diverged"
                break
            if row["val_loss"] < best_val_loss:
                best_val_loss, best_step = row["val_loss"], step
                best_val_metric = val_metrics[metric_key]
                best_params = after
                evals_without_improvement = 0
            else:
                evals_without_improvement += 1
                if config.patience and evals_without_improvement >= config.patience:
                    stopped = "early_stopping"
                    break
        if stopped != "max_epochs":
            break

    model.set_params(best_params)
    return FitResult(
        model=model,
        history=history,
        best_step=best_step,
        best_val_loss=best_val_loss,
        best_val_metric=best_val_metric,
        params=best_params,
        checkpoints=list(checkpoints),
        ema_params=ema,
        seconds=time.perf_counter() - started,
        stopped=stopped,
        steps=step,
        config=config,
    )
