"""The recipe's sanity checks: each passes on healthy data and catches its planted problem."""

from __future__ import annotations

import numpy as np
import pytest

from dataaudit.training import checks
from dataaudit.training.config import TrainConfig
from dataaudit.training.loop import FitResult, TrainData, fit
from dataaudit.training.mlp_numpy import NumpyMLP

SMALL = TrainConfig(hidden=(32,), max_epochs=15, batch_size=32, lr=1e-2)


def blobs(n: int = 300, d: int = 4, seed: int = 0, scale: float = 1.0) -> TrainData:
    rng = np.random.default_rng(seed)
    centers = rng.normal(scale=4.0, size=(3, d))
    y = rng.integers(0, 3, size=n)
    X = centers[y] + rng.normal(size=(n, d))
    X = ((X - X.mean(axis=0)) / X.std(axis=0) * scale).astype(np.float32)  # standardized, as fit-transform does
    return TrainData(X[:200], y[:200], X[200:], y[200:])


def fake_result(rows: list[dict], best_step: int) -> FitResult:
    best = next(r for r in rows if r["step"] == best_step)
    return FitResult(model=None, history=rows, best_step=best_step, best_val_loss=best["val_loss"],
                     best_val_metric=best.get("val_acc", 0.0), params={})


def assert_record(record: dict, name: str, verdict: str) -> None:
    """``verdict`` is "passed", or the severity ("warning" / "error") of a flagged check."""
    assert set(record) == {"name", "status", "severity", "value", "expected", "reason"}
    assert record["name"] == name
    if verdict == "passed":
        assert (record["status"], record["severity"]) == ("passed", None), record["reason"]
    else:
        assert (record["status"], record["severity"]) == ("flagged", verdict), record["reason"]
    assert record["reason"]


def test_init_loss_matches_prior_entropy() -> None:
    data = blobs()
    record = checks.check_init_loss(SMALL, data)
    assert_record(record, "init_loss", "passed")
    p = np.bincount(data.y_train) / len(data.y_train)
    assert record["expected"] == pytest.approx(-(p * np.log(p)).sum())
    assert "-log(1/C) = 1.0986" in record["reason"]


def test_init_loss_fails_on_unscaled_inputs() -> None:
    assert_record(checks.check_init_loss(SMALL, blobs(scale=1000.0)), "init_loss", "error")


def test_gradient_check_passes_and_catches_a_broken_backward(monkeypatch: pytest.MonkeyPatch) -> None:
    data = blobs()
    for config in (SMALL, SMALL.replace(activation="tanh", batch_norm=True, l2=0.01)):
        record = checks.check_gradients(config, data)
        assert_record(record, "gradient_check", "passed")
        assert record["value"]["max_relative_error"] < 1e-6
    # A backward pass that forgets the activation's derivative must fail.
    monkeypatch.setattr(NumpyMLP, "_activation_grad", lambda self, i, bufs, da: None)
    record = checks.check_gradients(SMALL.replace(activation="tanh"), data)
    assert_record(record, "gradient_check", "error")


def test_overfit_tiny_batch_passes_and_fails_on_contradictory_labels() -> None:
    record = checks.check_overfit_tiny_batch(SMALL, blobs())
    assert_record(record, "overfit_tiny_batch", "passed")
    assert record["value"]["train_accuracy"] == 1.0 and record["value"]["rows"] == 20
    rng = np.random.default_rng(0)
    X = np.zeros((40, 3), dtype=np.float32)  # identical inputs, random labels: cannot be memorized
    y = rng.integers(0, 2, size=40)
    same = TrainData(X, y, X, y)
    assert_record(checks.check_overfit_tiny_batch(SMALL, same, max_steps=50), "overfit_tiny_batch", "error")


def test_input_independent_baseline() -> None:
    data = blobs()
    result = fit(SMALL, data)
    record = checks.check_input_independent_baseline(SMALL, data, result)
    assert_record(record, "input_independent_baseline", "passed")
    assert record["value"]["val_loss_zeroed_inputs"] > 5 * record["value"]["val_loss_real"]
    rng = np.random.default_rng(1)
    noise = TrainData(data.X_train, rng.integers(0, 3, 200), data.X_val, rng.integers(0, 3, 100))
    noisy = fit(SMALL.replace(max_epochs=30, patience=0), noise)
    assert checks.check_input_independent_baseline(SMALL, noise, noisy)["status"] == "flagged"


@pytest.mark.parametrize(("ratio", "status", "phrase"), [
    (1e-3, "passed", "healthy"), (0.5, "warning", "lower the learning rate"), (1e-5, "warning", "raise the learning rate"),
    (0.0, "error", "barely change"), (20.0, "error", "too fast"),
])
def test_update_ratio(ratio: float, status: str, phrase: str) -> None:
    rows = [{"update_ratio": {"W0": ratio, "W1": 1e-3}} for _ in range(3)]
    record = checks.check_update_ratio(rows)
    assert_record(record, "update_ratio", status)
    assert phrase in record["reason"]
    assert record["value"] == {"W0": ratio, "W1": 1e-3}


def test_dead_unit_share_and_check() -> None:
    a = np.array([[0.0, 1.0, 0.0, 2.0], [0.0, 0.0, 0.0, 1.0]])
    assert checks.dead_unit_share("relu", [a]) == [0.5]
    t = np.array([[0.999, 0.1], [-0.995, 0.2]])
    assert checks.dead_unit_share("tanh", [t]) == [0.5]
    assert_record(checks.check_dead_units([{"dead_units": [0.0, 0.05]}], "relu"), "dead_units", "passed")
    assert_record(checks.check_dead_units([{"dead_units": [0.0, 0.3]}], "relu"), "dead_units", "warning")
    assert_record(checks.check_dead_units([{"dead_units": [0.8]}], "relu"), "dead_units", "error")


def test_planted_dead_relus_are_measured() -> None:
    data = blobs()
    model = NumpyMLP(4, 3, hidden=(32,), seed=0)
    params = model.get_params()
    params["b0"][:8] = -100.0  # a quarter of the units can never fire on standardized inputs
    model.set_params(params)
    assert checks.dead_unit_share("relu", model.hidden_activations(data.X_train)) == [0.25]


@pytest.mark.parametrize(("train_loss", "val_loss", "train_acc", "val_acc", "diagnosis"), [
    (0.05, 0.08, 0.99, 0.97, "fine"),
    (0.01, 0.60, 1.00, 0.80, "overfitting"),
    (0.90, 0.95, 0.55, 0.52, "underfitting"),
])
def test_train_val_gap_diagnosis(train_loss: float, val_loss: float, train_acc: float, val_acc: float,
                                 diagnosis: str) -> None:
    data = blobs()  # prior loss ~ log(3) = 1.1
    rows = [{"step": 10, "train_loss": train_loss, "val_loss": val_loss, "train_acc": train_acc, "val_acc": val_acc}]
    record = checks.check_train_val_gap(data, fake_result(rows, 10))
    assert_record(record, "train_val_gap", "passed" if diagnosis == "fine" else "warning")
    assert record["value"]["diagnosis"] == diagnosis
    assert record["reason"].lower().startswith(diagnosis)


@pytest.mark.parametrize(("val_acc", "at_ceiling"), [(0.80, True), (0.79, True), (0.75, False)])
def test_underfitting_at_inspects_out_of_fold_accuracy_is_the_datas_ceiling(val_acc: float, at_ceiling: bool) -> None:
    # Titanic: train loss 0.44 of a 0.67 prior loss, val accuracy 0.81, inspect's models 0.80 out of fold.
    import dataclasses

    data = dataclasses.replace(blobs(), label_ceiling={"out_of_fold_accuracy": 0.80, "models": ["logistic"]})
    rows = [{"step": 10, "train_loss": 0.90, "val_loss": 0.95, "train_acc": 0.81, "val_acc": val_acc}]
    record = checks.check_train_val_gap(data, fake_result(rows, 10))
    assert record["value"]["diagnosis"] == "underfitting"
    if at_ceiling:
        assert_record(record, "train_val_gap", "info")
        assert record["value"]["at_ceiling"] and record["value"]["out_of_fold_accuracy"] == 0.80
        assert record["reason"].startswith("At the data's ceiling") and "bigger model" in record["reason"]
    else:
        assert_record(record, "train_val_gap", "warning")
        assert "at_ceiling" not in record["value"] and record["reason"].startswith("Underfitting")


@pytest.mark.parametrize(("n_val", "drop_class", "looks"), [
    (9, False, "overfitting"),  # Cars93 at 0.8,0.1,0.1: 9 validation rows
    (60, True, "overfitting"),  # enough rows, but class 2 absent from validation
])
def test_train_val_gap_on_a_tiny_validation_set_is_info_not_a_diagnosis(n_val: int, drop_class: bool,
                                                                       looks: str) -> None:
    full = blobs()
    keep = np.flatnonzero(full.y_val != 2) if drop_class else np.arange(len(full.y_val))
    keep = keep[:n_val]
    data = TrainData(full.X_train, full.y_train, full.X_val[keep], full.y_val[keep])
    rows = [{"step": 10, "train_loss": 0.01, "val_loss": 0.60, "train_acc": 1.00, "val_acc": 0.80}]
    record = checks.check_train_val_gap(data, fake_result(rows, 10))
    assert_record(record, "train_val_gap", "info")
    assert record["value"]["diagnosis"] == "unknown"
    assert record["value"]["looks_like"] == looks
    assert record["value"]["n_val"] == len(keep)
    assert record["reason"].startswith("Weak evidence: the validation set has ")
    assert (f"{len(keep)} rows (fewer than 30)" in record["reason"]) == (len(keep) < 30)
    if drop_class:
        assert "1 of 3 classes with fewer than 2 rows (2: 0)" in record["reason"]


def test_run_recipe_checks_all_pass_on_healthy_data_and_a_crash_is_recorded(
        monkeypatch: pytest.MonkeyPatch) -> None:
    data = blobs()
    result = fit(SMALL, data)
    records = checks.run_recipe_checks(SMALL, data, result)
    assert [r["name"] for r in records] == ["init_loss", "gradient_check", "overfit_tiny_batch",
                                            "input_independent_baseline", "update_ratio", "dead_units",
                                            "train_val_gap"]
    assert {r["status"] for r in records} == {"passed"}, [r["reason"] for r in records if r["status"] != "passed"]

    def boom(*args: object, **kwargs: object) -> dict:
        raise ValueError("planted")

    monkeypatch.setattr(checks, "check_init_loss", boom)
    first = checks.checks_before_training(SMALL, data)[0]
    assert first["status"] == "errored" and first["severity"] is None and "planted" in first["reason"]


def test_init_loss_is_judged_on_the_rows_it_evaluates() -> None:
    """A 2,048-row sample of a 3 % class moves the prior's loss by 0.02 nats: not the init's fault."""
    rng = np.random.default_rng(0)
    y = (rng.random(20_000) < 0.03).astype(np.int64)
    X = rng.normal(size=(20_000, 8)).astype(np.float32)
    data = TrainData(X[:18_000], y[:18_000], X[18_000:], y[18_000:])
    record = checks.check_init_loss(TrainConfig(seed=0), data)
    assert_record(record, "init_loss", "passed")  # was a warning: loss 0.1548 vs entropy 0.1340
    reference = checks.prior_loss_on(data, checks._subset(data, 2048, 0)[1])
    assert abs(record["value"] - reference) < 0.005 < abs(record["value"] - record["expected"])
    assert f"{reference:.4f} on the 2,048 rows evaluated" in record["reason"]
    assert checks.prior_loss_on(data, data.y_train) == pytest.approx(checks.prior_loss(data))


@pytest.mark.parametrize(("gap", "expected", "task", "severity"), [
    (0.015, 0.13, "classification", None),  # within the 0.02-nat floor
    (0.025, 0.13, "classification", "info"),  # 19 % of a low entropy: a small last layer
    (0.045, 0.13, "classification", "info"),
    (0.06, 0.13, "classification", "warning"),
    (0.1, 0.13, "classification", "error"),
    (0.2, 1.1, "classification", "info"),
    (0.4, 1.1, "classification", "warning"),
    (0.2, 1.0, "regression", None),
    (0.4, 1.0, "regression", "warning"),
    (0.6, 1.0, "regression", "error"),
])
def test_init_loss_severity_is_in_proportion_to_the_gap(gap, expected, task, severity) -> None:
    assert checks.init_loss_severity(gap, expected, task) == severity
