"""Regression targets: raw y in train.npz, standardized inside training, reported in the label's units."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from dataaudit.training.api import load_trained_model, train_artifacts
from dataaudit.training.checks import check_init_loss, prior_loss
from dataaudit.training.config import TrainConfig
from dataaudit.training.loop import TrainData, build_model, evaluate, fit
from dataaudit.training.mlp_numpy import NumpyMLP
from dataaudit.transforms.pipeline import TransformConfig, fit_transform


def _prices(n: int = 600, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """A target in 'dollars' (mean ~4000, std ~3000), a smooth function of 3 features."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 3))
    y = 4000 + 2500 * X[:, 0] - 1200 * X[:, 1] + 300 * X[:, 0] * X[:, 2] + rng.normal(scale=100, size=n)
    return X, y


def _data() -> TrainData:
    X, y = _prices()
    return TrainData(X[:400], y[:400], X[400:500], y[400:500], X[500:], y[500:], task="regression")


CONFIG = TrainConfig(hidden=(32,), max_epochs=40, batch_size=32, lr=3e-3, patience=0)


def test_model_learns_the_standardized_target_and_predicts_in_units() -> None:
    data = _data()
    model = build_model(CONFIG, data.n_features, 1, "regression", data.y_train)
    assert model.target_scaling() == pytest.approx((np.mean(data.y_train), np.std(data.y_train)))
    # At init predictions sit near the train mean (output bias 0 in standardized units, small last layer) ...
    pred, std = model.predict(data.X_val), np.std(data.y_train)
    assert abs(pred.mean() - np.mean(data.y_train)) < 0.25 * std and pred.std() < 0.5 * std
    # ... and the training loss is ~1 (the standardized target's variance), not ~1e7 dollars².
    first = model.train_step(data.X_train[:64], data.y_train[:64], 1e-3)
    assert 0.3 < first < 3.0
    assert prior_loss(data) == pytest.approx(1.0)
    init = check_init_loss(CONFIG, data)
    assert init["status"] == "passed" and init["expected"] == pytest.approx(1.0)


def test_fit_reports_metrics_in_the_label_units() -> None:
    data = _data()
    result = fit(CONFIG, data)
    assert result.history[0]["val_loss"] < 1.5  # standardized units from the first evaluation
    scores = evaluate(result.model, data.X_test, data.y_test, "regression")
    assert scores["r2"] > 0.95
    residual = result.model.predict(data.X_test) - data.y_test
    assert scores["rmse"] == pytest.approx(float(np.sqrt(np.mean(residual**2))))
    assert scores["mae"] == pytest.approx(float(np.mean(np.abs(residual))))
    assert scores["loss"] == pytest.approx(scores["rmse"] ** 2 / np.var(data.y_train), rel=1e-6)
    assert 50 < scores["rmse"] < 1000  # dollars, not standard deviations


def test_constant_target_keeps_scale_one() -> None:
    model = NumpyMLP(2, 1, hidden=(4,), task="regression", y_train=np.full(10, 7.0))
    assert model.target_scaling() == (7.0, 1.0)


def test_fit_transform_keeps_raw_y_and_train_saves_the_scaling(tmp_path: Path) -> None:
    X, y = _prices(500, seed=2)
    frame = pd.DataFrame(X, columns=["a", "b", "c"]).assign(price=y)
    summary = fit_transform(frame, "price", tmp_path / "art", config=TransformConfig(near_duplicates=False))
    manifest = json.loads((tmp_path / "art" / "manifest.json").read_text())
    assert manifest["label"]["task"] == "regression"
    with np.load(tmp_path / "art" / "train.npz", allow_pickle=False) as train:
        assert train["y"].dtype == np.float64
        np.testing.assert_allclose(train["y"], y[train["row"]])  # raw dollars, not standardized
    report = train_artifacts(tmp_path / "art", CONFIG, out=tmp_path / "training", write_html=False)
    m = report.metrics
    assert m["test_r2"] > 0.9 and 50 < m["test_rmse"] < 1500 and m["test_mae"] <= m["test_rmse"]
    assert next(c for c in report.checks if c["name"] == "init_loss")["status"] == "passed"
    loaded = load_trained_model(tmp_path / "training")
    with np.load(tmp_path / "art" / "test.npz", allow_pickle=False) as test:
        np.testing.assert_allclose(loaded.predict(test["X"]), report.fit.model.predict(test["X"]), rtol=1e-5)
    assert summary.sizes["train"] > 0
