"""The recipe's sanity checks ("A Recipe for Training Neural Networks", steps 2 and 4).

Each check returns one JSON-ready record::

    {"name": "init_loss", "status": "passed" | "flagged" | "skipped" | "errored",
     "severity": null | "info" | "warning" | "error", "value": ..., "expected": ..., "reason": "plain words"}

``status`` uses findings.json's vocabulary (one for the whole product): a check that holds is
``passed``; one that does not is ``flagged`` with a ``severity`` (``warning``: worth a look,
``error``: training is broken); one with nothing to judge is ``skipped``; one that crashed is
``errored`` with the error in ``reason``.

Before training: ``init_loss`` (loss at init vs the label entropy), ``gradient_check`` (analytic
vs centred finite differences in float64), ``overfit_tiny_batch`` (~20 examples to 100% train
accuracy). After training: ``input_independent_baseline`` (zeroed inputs must do worse),
``update_ratio`` (per-layer update-to-weight ratio, ~1e-3 healthy), ``dead_units`` and
``train_val_gap`` (underfitting / overfitting / fine). A check that crashes yields an ``errored``
record saying so; the others still run.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np

from dataaudit.exceptions import DataAuditError
from dataaudit.training.diagnostics import dead_unit_share
from dataaudit.transforms.split import small_split_problem

if TYPE_CHECKING:
    from dataaudit.training.config import TrainConfig
    from dataaudit.training.loop import FitResult, TrainData

__all__ = [
    "check_result",
    "check_init_loss",
    "init_loss_severity",
    "prior_loss_on",
    "check_gradients",
    "check_overfit_tiny_batch",
    "check_input_independent_baseline",
    "check_update_ratio",
    "check_dead_units",
    "check_train_val_gap",
    "checks_before_training",
    "checks_after_training",
    "run_recipe_checks",
    "dead_unit_share",
    "prior_loss",
    "GRADIENT_TOLERANCE",
]

GRADIENT_TOLERANCE = 1e-6  # relative error of analytic vs numerical gradients (float64)
GRADIENT_STEP = 1e-5  # centred difference step: small truncation error, round-off ~1e-11
UPDATE_RATIO_BAND = (1e-4, 3e-2)  # healthy std(update)/std(weight); the recipe's target is ~1e-3
STATUSES = ("passed", "flagged", "skipped", "errored")  # findings.json's vocabulary
SEVERITIES = ("info", "warning", "error")  # info: a weak signal, said so (the gap on a tiny val set)


def check_result(name: str, severity: str | None, value: Any, expected: Any, reason: str, *,
                 status: str | None = None) -> dict[str, Any]:
    """One check record: ``passed`` when ``severity`` is None, else ``flagged`` at that severity.

    ``status`` may be given as ``skipped`` (nothing to judge) or ``errored`` (the check crashed).
    """
    if severity is not None and severity not in SEVERITIES:
        raise ValueError(f"severity must be None or one of {SEVERITIES}, got {severity!r}")
    status = status or ("passed" if severity is None else "flagged")
    if status not in STATUSES:
        raise ValueError(f"status must be one of {STATUSES}, got {status!r}")
    if status == "flagged" and severity is None:
        raise ValueError("a flagged check needs a severity")
    return {"name": name, "status": status, "severity": severity if status == "flagged" else None,
            "value": value, "expected": expected, "reason": reason}


def _guarded(name: str, func: Callable[[], dict[str, Any]], *, torch: bool = False) -> dict[str, Any]:
    """Run one check; a crash becomes a ``warn`` record carrying the error (the run goes on)."""
    from dataaudit.training.model import compute_threads

    try:
        # The checks run tiny batches, where one BLAS thread is fastest (see loop.SMALL_STEP_MACS).
        with compute_threads(1, torch=torch):
            return func()
    except (DataAuditError, ArithmeticError, ValueError, FloatingPointError, MemoryError) as exc:
        return check_result(name, None, None, None, f"The check could not run: {type(exc).__name__}: {exc}",
                            status="errored")


def _model_data(config: TrainConfig, data: TrainData, *, dtype: str | None = None) -> tuple[Any, Any]:
    from dataaudit.training.model import build_model

    cfg = config.replace(dtype=dtype) if dtype else config
    model = build_model(cfg, data.n_features, data.n_outputs, data.task, np.asarray(data.y_train))
    return cfg, model


def prior_loss(data: TrainData) -> float:
    """Loss of the best input-independent prediction: label entropy (classes) or, for regression,
    the variance of the standardized target (1, or 0 for a constant target)."""
    from dataaudit.training.mlp_numpy import target_standardization

    y = np.asarray(data.y_train)
    if data.task == "classification":
        p = np.bincount(y, minlength=data.n_outputs) / len(y)
        p = p[p > 0]
        return float(-(p * np.log(p)).sum())
    scale = float(target_standardization("regression", y)["target_scale"][0])
    return float(np.var(y.astype(np.float64))) / scale**2


def prior_loss_on(data: TrainData, y: np.ndarray) -> float:
    """Loss on the rows ``y`` of the input-independent prediction the init starts from: the
    train priors (classes; the cross-entropy of ``y``'s frequencies with them) or the train mean
    of the standardized target. Equals ``prior_loss`` on the whole train split; on a subset it
    differs by the subset's sampling noise (a 2,048-row sample of a 3 % class: about 0.02 nats)."""
    from dataaudit.training.mlp_numpy import target_standardization

    y_train = np.asarray(data.y_train)
    if data.task == "classification":
        priors = np.bincount(y_train, minlength=data.n_outputs) / len(y_train)
        seen = np.bincount(np.asarray(y), minlength=data.n_outputs) / len(y)
        present = seen > 0
        return float(-(seen[present] * np.log(priors[present])).sum())
    buffers = target_standardization("regression", y_train)
    centred = (np.asarray(y, dtype=np.float64) - buffers["target_mean"][0]) / buffers["target_scale"][0]
    return float(np.mean(centred**2))


def _subset(data: TrainData, n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    rows = rng.choice(len(data.y_train), size=min(n, len(data.y_train)), replace=False)
    return np.asarray(data.X_train)[rows], np.asarray(data.y_train)[rows]


# ------------------------------------------------------------------------ before training
def check_init_loss(config: TrainConfig, data: TrainData, n_rows: int = 2048) -> dict[str, Any]:
    """Loss of the freshly initialized model vs the loss of predicting the priors.

    The output bias starts at the log class priors (the target mean for regression) and the
    last layer's weights are small, so the loss at init should be the label entropy (the
    variance), not ``-log(1/C)``; a much higher value means a broken init or unscaled inputs.
    """
    _, model = _model_data(config, data)
    X, y = _subset(data, n_rows, config.seed)
    total, _ = model.loss_and_grads(X.astype(model_dtype(model)), y, dropout=False, update_stats=False)
    value = total - model.regularization_loss()
    expected = prior_loss(data)
    # Judged against the prior prediction's loss on the same rows: a sample of a rare class alone
    # moves the loss by a few hundredths of a nat, which is no fault of the init.
    reference = prior_loss_on(data, y) if len(y) < len(data.y_train) else expected
    uniform = math.log(data.n_outputs) if data.task == "classification" else None
    gap = abs(value - reference)
    scale = max(expected, 1e-12)
    what = (
        f"the label entropy {expected:.4f} (bias = log class priors; -log(1/C) = {uniform:.4f})"
        if uniform is not None
        else f"the variance {expected:.4g} of the standardized target (bias = its mean, 0)"
    )
    if abs(reference - expected) > 5e-5:
        what += f", {reference:.4f} on the {len(y):,} rows evaluated"
    severity = init_loss_severity(gap, expected, data.task)
    if severity is None:
        return check_result("init_loss", None, value, expected, f"Loss at init {value:.4f} matches {what}.")
    if severity == "info":
        return check_result(
            "init_loss", "info", value, expected,
            f"Loss at init {value:.4f} is close to {what} (gap {gap:.4f}, {gap / scale:.0%} of it): the "
            "random last layer moves it a little; nothing to fix unless later checks fail.",
        )
    return check_result(
        "init_loss", severity, value, expected,
        f"Loss at init {value:.4f} is far from {what} (gap {gap:.4f}): check the initialization and that "
        "the inputs are standardized (large inputs give confident, wrong predictions at init).",
    )


def init_loss_severity(gap: float, expected: float, task: str) -> str | None:
    """None (passed), info, warning or error for a gap between the loss at init and the expected one.

    In proportion to the expected loss: a few hundredths of a nat on a low-entropy label (0.13
    nats for a 3 % class) is the small random last layer, not a broken init; a broken init or
    unscaled inputs move the loss by half the expected loss and more.
    """
    scale = max(expected, 1e-12)
    # Regression: the gap is the variance of the initial predictions around the mean (the small
    # random last layer), harmless up to a quarter of the target's variance.
    passes, small = (0.1, 0.25) if task == "classification" else (0.25, 0.25)
    if gap <= max(passes * scale, 0.02):
        return None
    if gap <= max(small * scale, 0.05):
        return "info"
    return "warning" if gap <= 0.5 * scale else "error"


def model_dtype(model: Any) -> np.dtype:
    """The NumPy dtype a model computes in."""
    return np.dtype(getattr(model, "np_dtype", getattr(model, "dtype", np.float64)))


def check_gradients(
    config: TrainConfig,
    data: TrainData,
    *,
    n_rows: int = 8,
    entries_per_param: int = 10,
    tolerance: float = GRADIENT_TOLERANCE,
) -> dict[str, Any]:
    """Analytic gradients vs centred finite differences, float64, dropout off.

    For each parameter tensor, up to ``entries_per_param`` random entries are perturbed by
    ±``GRADIENT_STEP``; the error of a tensor is ``|a - n| / (|a| + |n|)`` over those entries
    (vector norms, floored at 1e-7 so exact zeros compare as equal). The value is the worst tensor.
    """
    cfg, model = _model_data(config.replace(dropout=0.0), data, dtype="float64")
    X, y = _subset(data, n_rows, cfg.seed)
    X = X.astype(np.float64)

    def loss() -> float:
        return model.loss_and_grads(X, y, dropout=False, update_stats=False)[0]

    _, grads = model.loss_and_grads(X, y, dropout=False, update_stats=False)
    analytic = {k: np.asarray(v, dtype=np.float64).copy() for k, v in grads.items()}
    rng = np.random.default_rng(cfg.seed)
    errors: dict[str, float] = {}
    for key, reference in analytic.items():
        flat_size = reference.size
        picks = rng.choice(flat_size, size=min(entries_per_param, flat_size), replace=False)
        numeric = np.empty(len(picks))
        for j, flat in enumerate(picks):
            index = np.unravel_index(flat, reference.shape)
            original = _get(model, key, index)
            _set(model, key, index, original + GRADIENT_STEP)
            plus = loss()
            _set(model, key, index, original - GRADIENT_STEP)
            minus = loss()
            _set(model, key, index, original)
            numeric[j] = (plus - minus) / (2 * GRADIENT_STEP)
        picked = reference.reshape(-1)[picks]
        denominator = max(float(np.linalg.norm(picked) + np.linalg.norm(numeric)), 1e-7)
        errors[key] = float(np.linalg.norm(picked - numeric)) / denominator
    worst_key = max(errors, key=lambda k: errors[k])
    worst = errors[worst_key]
    value = {"max_relative_error": worst, "per_parameter": errors}
    expected = f"< {tolerance:g}"
    if worst < tolerance:
        return check_result(
            "gradient_check", None, value, expected,
            f"Backward pass agrees with finite differences (worst relative error {worst:.1e} in {worst_key}).",
        )
    severity = "warning" if worst < 1e-3 else "error"
    hint = (
        "Probably a ReLU kink crossed by the finite-difference step; rerun with another seed."
        if severity == "warning"
        else "The backward pass is wrong: do not trust training until this is fixed."
    )
    return check_result(
        "gradient_check", severity, value, expected,
        f"Relative error {worst:.1e} in {worst_key} exceeds {tolerance:g}. {hint}",
    )


def _get(model: Any, key: str, index: tuple[int, ...]) -> float:
    param = model.params[key]
    if isinstance(param, np.ndarray):
        return float(param[index])
    return float(param.detach()[index])


def _set(model: Any, key: str, index: tuple[int, ...], value: float) -> None:
    param = model.params[key]
    if isinstance(param, np.ndarray):
        param[index] = value
    else:  # a torch tensor that requires grad: write through .data
        param.data[index] = value


def check_overfit_tiny_batch(
    config: TrainConfig, data: TrainData, *, n_rows: int = 20, max_steps: int = 500
) -> dict[str, Any]:
    """Train on ~20 examples without regularization; the model must reach 100% train accuracy.

    Regression passes at R² ≥ 0.99 on the tiny batch. Uses the configured optimizer and peak
    learning rate with a constant schedule, full-batch steps.
    """
    from dataaudit.training.model import build_model, evaluate

    cfg = config.replace(dropout=0.0, weight_decay=0.0, l1=0.0, l2=0.0)
    X, y = _subset(data, n_rows, cfg.seed)
    model = build_model(cfg, data.n_features, data.n_outputs, data.task, y)
    X = np.ascontiguousarray(X, dtype=model_dtype(model))
    classification = data.task == "classification"
    metric, target, steps = 0.0, 1.0 if classification else 0.99, 0
    for steps in range(1, max_steps + 1):
        model.train_step(X, y, cfg.lr)
        if steps % 10 == 0 or steps == max_steps:
            scores = evaluate(model, X, y, data.task)
            metric = scores["accuracy"] if classification else scores["r2"]
            if metric >= target:
                break
    what = "train accuracy" if classification else "train R²"
    value = {what.replace(" ", "_").replace("²", "2"): metric, "steps": steps, "rows": len(y)}
    if metric >= target:
        return check_result(
            "overfit_tiny_batch", None, value, target,
            f"Memorized {len(y)} examples ({what} {metric:.3f}) in {steps} steps.",
        )
    severity = "warning" if metric >= 0.9 * target else "error"
    return check_result(
        "overfit_tiny_batch", severity, value, target,
        f"Could not memorize {len(y)} examples in {steps} steps ({what} {metric:.3f}): "
        "too small a model, too low a learning rate, a bug, or identical inputs with different labels.",
    )


def checks_before_training(config: TrainConfig, data: TrainData) -> list[dict[str, Any]]:
    """init_loss, gradient_check and overfit_tiny_batch."""
    torch = config.backend == "torch"
    return [
        _guarded("init_loss", lambda: check_init_loss(config, data), torch=torch),
        _guarded("gradient_check", lambda: check_gradients(config, data), torch=torch),
        _guarded("overfit_tiny_batch", lambda: check_overfit_tiny_batch(config, data), torch=torch),
    ]


# ------------------------------------------------------------------------- after training
def check_input_independent_baseline(
    config: TrainConfig, data: TrainData, result: FitResult, *, max_steps: int = 200
) -> dict[str, Any]:
    """Train the same model on all-zero inputs; the real model must beat it on validation.

    If it does not, the network is not using its inputs (broken features, leaky shuffling,
    labels unrelated to the features).
    """
    from dataaudit.training.model import build_model, evaluate

    y_train = np.asarray(data.y_train)
    model = build_model(config, data.n_features, data.n_outputs, data.task, y_train)
    dtype = model_dtype(model)
    batch = min(config.batch_size, len(y_train))
    zeros = np.zeros((batch, data.n_features), dtype=dtype)
    rng = np.random.default_rng(config.seed)
    steps = max(1, min(result.steps, max_steps))
    for _ in range(steps):
        rows = rng.integers(0, len(y_train), size=batch)
        model.train_step(zeros, y_train[rows], config.lr)
    zero_val = np.zeros((len(data.y_val), data.n_features), dtype=dtype)
    zero_loss = evaluate(model, zero_val, np.asarray(data.y_val), data.task)["loss"]
    real_loss = result.best_val_loss
    value = {"val_loss_real": real_loss, "val_loss_zeroed_inputs": zero_loss}
    expected = "val loss with real inputs < val loss with zeroed inputs"
    if real_loss < 0.9 * zero_loss:
        return check_result(
            "input_independent_baseline", None, value, expected,
            f"Real inputs help: val loss {real_loss:.4f} vs {zero_loss:.4f} with inputs zeroed.",
        )
    severity = "warning" if real_loss < zero_loss else "error"
    return check_result(
        "input_independent_baseline", severity, value, expected,
        f"The model barely beats (or loses to) an input-independent baseline: val loss {real_loss:.4f} "
        f"vs {zero_loss:.4f} with inputs zeroed. The features may carry little signal, or they "
        "are not reaching the network.",
    )


def check_update_ratio(history: list[dict[str, Any]]) -> dict[str, Any]:
    """Median std(update)/std(weight) per layer over the evaluations; ~1e-3 is healthy."""
    rows = [r["update_ratio"] for r in history if r.get("update_ratio")]
    if not rows:
        return check_result("update_ratio", None, None, "~1e-3", "No evaluation recorded update ratios.",
                            status="skipped")
    medians = {k: float(np.nanmedian([r[k] for r in rows])) for k in rows[0]}
    low, high = UPDATE_RATIO_BAND
    expected = f"~1e-3 (healthy {low:g} … {high:g})"
    too_high = [k for k, v in medians.items() if v > high]
    too_low = [k for k, v in medians.items() if not v >= low]
    if not too_high and not too_low:
        return check_result(
            "update_ratio", None, medians, expected,
            "Updates are a healthy fraction of the weights in every layer.",
        )
    problems = []
    if too_high:
        problems.append(f"{', '.join(too_high)} change too fast (lower the learning rate)")
    if too_low:
        problems.append(f"{', '.join(too_low)} barely change (raise the learning rate)")
    worst = max(abs(math.log10(v) + 3) if v > 0 else 99.0 for v in medians.values())
    severity = "error" if worst > 3 else "warning"
    return check_result("update_ratio", severity, medians, expected, "; ".join(problems) + ".")


def check_dead_units(history: list[dict[str, Any]], activation: str) -> dict[str, Any]:
    """Share of hidden units that are dead (ReLU family) or saturated (tanh/sigmoid) at the end."""
    rows = [r["dead_units"] for r in history if r.get("dead_units") is not None]
    if not rows or not rows[-1]:
        return check_result("dead_units", None, [], "< 0.1 per layer", "The model has no hidden layer.")
    shares = rows[-1]
    worst = max(shares)
    kind = "dead" if activation in ("relu", "leaky_relu", "gelu") else "saturated"
    expected = "< 0.1 per layer"
    text = ", ".join(f"layer {i}: {s:.0%}" for i, s in enumerate(shares))
    if worst < 0.1:
        return check_result("dead_units", None, shares, expected, f"Few {kind} units ({text}).")
    severity = "warning" if worst < 0.5 else "error"
    return check_result(
        "dead_units", severity, shares, expected,
        f"Many {kind} units ({text}): lower the learning rate, standardize the inputs, or try "
        "leaky_relu / batch norm.",
    )


# Val accuracy within this of inspect's out-of-fold accuracy counts as at the data's ceiling.
CEILING_MARGIN = 0.02


def check_train_val_gap(data: TrainData, result: FitResult) -> dict[str, Any]:
    """Plain-words diagnosis at the best step: underfitting, overfitting or fine.

    Underfitting: the train loss removes less than half of the loss of predicting the priors.
    Overfitting: val loss exceeds train loss by more than 20% of that prior loss, or (classes)
    val accuracy trails train accuracy by more than 5 points. On a validation set too small to
    judge (``small_split_problem``: under 30 rows, or a class with under 2 rows) the record is
    flagged at ``info`` with diagnosis ``unknown`` and what it looks like in ``value.looks_like``.
    Underfitting whose val accuracy is within ``CEILING_MARGIN`` of what ``inspect``'s out-of-fold
    label models reached (``TrainData.label_ceiling``, from the manifest) is at the data's ceiling:
    ``info``, ``value.at_ceiling``, and no advice to grow the model.
    """
    rows = [r for r in result.history if r["step"] == result.best_step]
    if not rows:
        return check_result("train_val_gap", None, None, None, "No evaluation was recorded.", status="skipped")
    row = rows[0]
    baseline = max(prior_loss(data), 1e-12)
    train_loss, val_loss = row["train_loss"], row["val_loss"]
    gap = val_loss - train_loss
    value: dict[str, Any] = {"train_loss": train_loss, "val_loss": val_loss, "gap": gap, "prior_loss": baseline}
    acc_gap = None
    if "train_acc" in row:
        acc_gap = row["train_acc"] - row["val_acc"]
        value.update(train_acc=row["train_acc"], val_acc=row["val_acc"])
    expected = "train loss well below the prior loss, val loss close to train loss"
    small = small_split_problem(data.y_val, data.task, data.n_outputs if data.task == "classification" else 0,
                                data.classes)
    if small:
        # On a handful of validation rows one row moves accuracy by several points: the gap is
        # noise, so say what it looks like at info, not a confident diagnosis.
        looks = ("underfitting" if train_loss > 0.5 * baseline else
                 "overfitting" if gap > 0.2 * baseline or (acc_gap is not None and acc_gap > 0.05) else "fine")
        value.update(diagnosis="unknown", looks_like=looks, weak_evidence=small, n_val=len(data.y_val))
        detail = f"val loss {val_loss:.4f} vs train loss {train_loss:.4f}"
        if acc_gap is not None:
            detail += f", val accuracy {row['val_acc']:.3f} vs train {row['train_acc']:.3f}"
        return check_result(
            "train_val_gap", "info", value, expected,
            f"Weak evidence: the validation set has {small}, too few to tell over- from underfitting; "
            f"it looks like {looks} ({detail}). Get more data, a larger validation share, or "
            "cross-validate before acting on it.",
        )
    ceiling = data.label_ceiling["out_of_fold_accuracy"] if data.label_ceiling and "val_acc" in row else None
    if train_loss > 0.5 * baseline and ceiling is not None and row["val_acc"] >= ceiling - CEILING_MARGIN:
        # As accurate on held-out rows as inspect's out-of-fold models were: the data, not the model,
        # sets the limit, and a bigger model would only fit the training rows closer.
        value.update(diagnosis="underfitting", at_ceiling=True, out_of_fold_accuracy=ceiling)
        return check_result(
            "train_val_gap", "info", value, expected,
            f"At the data's ceiling: train loss {train_loss:.4f} is still more than half of the {baseline:.4f} "
            f"of predicting the label distribution, but val accuracy {row['val_acc']:.3f} already matches the "
            f"{ceiling:.3f} that inspect's out-of-fold label models reached on this table. A bigger model or "
            "longer training would mostly fit the training rows closer; more signal needs better features "
            "(or cleaner labels).",
        )
    if train_loss > 0.5 * baseline:
        value["diagnosis"] = "underfitting"
        return check_result(
            "train_val_gap", "warning", value, expected,
            f"Underfitting: train loss {train_loss:.4f} is still more than half of the {baseline:.4f} "
            "you get by predicting the label distribution. Use a bigger model, train longer, or raise "
            "the learning rate; check the features carry signal.",
        )
    if gap > 0.2 * baseline or (acc_gap is not None and acc_gap > 0.05):
        value["diagnosis"] = "overfitting"
        detail = f"val loss {val_loss:.4f} vs train loss {train_loss:.4f}"
        if acc_gap is not None:
            detail += f", val accuracy {row['val_acc']:.3f} vs train {row['train_acc']:.3f}"
        return check_result(
            "train_val_gap", "warning", value, expected,
            f"Overfitting: {detail}. Get more data, add dropout or weight decay, or use a smaller model.",
        )
    value["diagnosis"] = "fine"
    return check_result(
        "train_val_gap", None, value, expected,
        f"Fine: val loss {val_loss:.4f} is close to train loss {train_loss:.4f}, well below the "
        f"{baseline:.4f} of predicting the label distribution.",
    )


def checks_after_training(config: TrainConfig, data: TrainData, result: FitResult) -> list[dict[str, Any]]:
    """input_independent_baseline, update_ratio, dead_units and train_val_gap."""
    torch = config.backend == "torch"
    return [
        _guarded(
            "input_independent_baseline",
            lambda: check_input_independent_baseline(config, data, result),
            torch=torch,
        ),
        _guarded("update_ratio", lambda: check_update_ratio(result.history)),
        _guarded("dead_units", lambda: check_dead_units(result.history, config.activation)),
        _guarded("train_val_gap", lambda: check_train_val_gap(data, result)),
    ]


def run_recipe_checks(
    config: TrainConfig, data: TrainData, result: FitResult | None = None
) -> list[dict[str, Any]]:
    """All checks that apply: the before-training ones, plus the after-training ones given ``result``."""
    records = checks_before_training(config, data)
    if result is not None:
        records += checks_after_training(config, data, result)
    return records
