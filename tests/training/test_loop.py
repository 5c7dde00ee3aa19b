"""The training loop, TrainConfig and loading artifacts."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from dataaudit.exceptions import ArtifactError, ConfigError, InputError
from dataaudit.io.artifacts import sha256_file as npz_record_sha
from dataaudit.training.config import TrainConfig
from dataaudit.training.loop import TrainData, build_model, evaluate, fit, format_log_line


def blobs(n: int = 300, d: int = 4, classes: int = 3, seed: int = 0) -> TrainData:
    """Well-separated Gaussian blobs, 60/20/20 split."""
    rng = np.random.default_rng(seed)
    centers = rng.normal(scale=4.0, size=(classes, d))
    y = rng.integers(0, classes, size=n)
    X = (centers[y] + rng.normal(size=(n, d))).astype(np.float32)
    a, b = int(0.6 * n), int(0.8 * n)
    return TrainData(X[:a], y[:a], X[a:b], y[a:b], X[b:], y[b:])


def write_artifacts(folder: Path, data: TrainData, classes: list) -> Path:
    """Real fit-transform artifacts of ``data``'s rows (all splits pooled, labels named ``classes``)."""
    import pandas as pd

    from dataaudit.transforms.pipeline import TransformConfig, fit_transform

    X = np.concatenate([data.X_train, data.X_val, data.X_test])
    y = np.concatenate([data.y_train, data.y_val, data.y_test])
    frame = pd.DataFrame(X, columns=[f"f{i}" for i in range(X.shape[1])])
    frame["target"] = np.asarray(classes, dtype=object)[y]
    fit_transform(frame, "target", folder, config=TransformConfig(near_duplicates=False, dtype="float64"))
    return folder


def _edit_manifest(folder: Path, change) -> Path:
    manifest = json.loads((folder / "manifest.json").read_text())
    change(manifest)
    (folder / "manifest.json").write_text(json.dumps(manifest))
    from dataaudit.io.record import write_record

    write_record(folder, "fit-transform")  # reseal the folder record: these cases test validation
    return folder


def test_config_roundtrip_and_unknown_keys() -> None:
    config = TrainConfig(hidden=(32, 16), lr=3e-3, ema_decay=0.99)
    assert TrainConfig.from_dict(config.to_dict()) == config
    assert TrainConfig.from_dict({"hidden": [8]}).hidden == (8,)
    assert TrainConfig(hidden="64,32").hidden == (64, 32)
    with pytest.raises(ConfigError, match=r"\['hiden', 'lrate'\]"):
        TrainConfig.from_dict({"hiden": [8], "lrate": 1})


@pytest.mark.parametrize("bad", [
    {"activation": "swish"}, {"dropout": 1.0}, {"lr": 0}, {"optimizer": "rmsprop"}, {"hidden": [0]},
    {"batch_size": 0}, {"schedule": "linear"}, {"backend": "jax"}, {"ema_decay": 1.0}, {"hidden": "a,b"},
])
def test_config_rejects_bad_values(bad: dict) -> None:
    with pytest.raises(ConfigError):
        TrainConfig.from_dict(bad)


def test_fit_learns_blobs_and_returns_history() -> None:
    data = blobs()
    logged: list[dict] = []
    result = fit(TrainConfig(hidden=(16,), max_epochs=10, batch_size=32, patience=0, lr=1e-2), data,
                 on_log=logged.append)
    assert result.history == logged
    assert len(result.history) == 10  # once per epoch
    assert [r["step"] for r in result.history] == [6 * (i + 1) for i in range(10)]  # 180 rows / 32
    assert result.best_val_metric >= 0.95
    assert result.stopped == "max_epochs"
    assert evaluate(result.model, data.X_test, data.y_test, "classification")["accuracy"] >= 0.95
    row = result.history[-1]
    assert set(row) >= {"step", "epoch", "lr", "train_loss", "val_loss", "train_acc", "val_acc", "ms_per_step",
                        "update_ratio", "dead_units"}
    line = format_log_line(row)
    assert line.startswith(f"step {row['step']} | train loss {row['train_loss']:.4f} | val loss ")
    assert line.endswith(" ms/step") and "val acc" in line
    # best params are loaded into the model
    for key, value in result.params.items():
        np.testing.assert_array_equal(result.model.get_params()[key], value)


def test_fit_is_reproducible_with_a_seed() -> None:
    data = blobs()
    config = TrainConfig(hidden=(8,), max_epochs=3, batch_size=64, dropout=0.2)
    a, b = fit(config, data), fit(config, data)
    assert [r["val_loss"] for r in a.history] == [r["val_loss"] for r in b.history]
    c = fit(config.replace(seed=1), data)
    assert [r["val_loss"] for r in a.history] != [r["val_loss"] for r in c.history]


def test_early_stopping_keeps_best_weights_and_checkpoints_ema() -> None:
    rng = np.random.default_rng(0)
    X = rng.normal(size=(200, 20)).astype(np.float32)
    y = rng.integers(0, 2, size=200)  # pure noise: val loss soon rises
    data = TrainData(X[:100], y[:100], X[100:], y[100:])
    config = TrainConfig(hidden=(64,), lr=1e-2, max_epochs=200, batch_size=20, patience=3, checkpoints=2,
                         ema_decay=0.9, schedule="constant")
    result = fit(config, data)
    assert result.stopped == "early_stopping"
    assert result.history[-1]["step"] == result.best_step + 3 * 5
    assert result.best_val_loss == min(r["val_loss"] for r in result.history)
    assert len(result.checkpoints) == 2 and result.ema_params is not None
    assert set(result.ema_params) == set(result.params)
    assert evaluate(result.model, data.X_val, data.y_val, "classification")["loss"] == pytest.approx(
        result.best_val_loss, rel=1e-5)


def test_fit_regression_and_eval_every() -> None:
    rng = np.random.default_rng(0)
    X = rng.normal(size=(400, 3))
    y = X @ np.array([1.0, -2.0, 0.5]) + 0.1 * rng.normal(size=400)
    data = TrainData(X[:300], y[:300], X[300:], y[300:], task="regression")
    result = fit(TrainConfig(hidden=(32,), max_epochs=30, batch_size=32, eval_every=50, lr=3e-3), data)
    assert all(r["step"] % 50 == 0 for r in result.history[:-1])
    assert result.best_val_metric > 0.95  # R²
    assert "val_r2" in result.history[-1] and "val_acc" not in result.history[-1]
    assert result.model.predict(X[:5]).shape == (5,)


def test_sgd_step_schedule_batchnorm_l1_train() -> None:
    data = blobs(seed=1)
    config = TrainConfig(hidden=(16, 16), optimizer="sgd", lr=0.05, schedule="step", step_size=20, gamma=0.5,
                         warmup_steps=5, batch_norm=True, l1=1e-4, activation="gelu", max_epochs=8, batch_size=32)
    result = fit(config, data)
    assert result.best_val_metric >= 0.9
    assert result.history[0]["lr"] == pytest.approx(0.05 * 0.5 ** ((6 - 1 - 5) // 20))


def test_build_model_backends_and_dtype() -> None:
    model = build_model(TrainConfig(hidden=(4,), dtype="float64"), 3, 2, "classification")
    assert model.params["W0"].dtype == np.float64
    assert model.optimizer is not None


def test_train_data_validation() -> None:
    X = np.zeros((4, 2), dtype=np.float32)
    y = np.array([0, 1, 0, 1])
    with pytest.raises(InputError, match="columns"):
        TrainData(X, y, np.zeros((2, 3)), y[:2])
    with pytest.raises(InputError, match="integer class"):
        TrainData(X, y.astype(float), X, y)
    with pytest.raises(InputError, match="NaN"):
        TrainData(np.full((4, 2), np.nan), y, X, y)
    with pytest.raises(InputError, match="only 2 classes"):
        TrainData(X, np.array([0, 1, 2, 0]), X, y, n_classes=2)
    assert TrainData(X, y, X, y).n_classes == 2


def test_from_artifacts_reads_and_refuses(tmp_path: Path) -> None:
    import shutil

    data = blobs()
    folder = write_artifacts(tmp_path / "a", data, classes=["x", "y", "z"])
    loaded = TrainData.from_artifacts(folder)
    assert loaded.n_classes == 3 and loaded.classes == ["x", "y", "z"] and loaded.label_name == "target"
    with np.load(folder / "test.npz") as test:
        np.testing.assert_array_equal(loaded.X_test, test["X"])
    assert len(loaded.y_train) + len(loaded.y_val) + len(loaded.y_test) == 300

    def copy(name: str) -> Path:
        return Path(shutil.copytree(folder, tmp_path / name))

    with pytest.raises(ArtifactError, match="does not exist"):
        TrainData.from_artifacts(tmp_path / "missing")
    (tmp_path / "empty").mkdir()
    with pytest.raises(ArtifactError, match="no manifest.json"):
        TrainData.from_artifacts(tmp_path / "empty")
    with pytest.raises(ArtifactError, match="format_version 2"):
        TrainData.from_artifacts(_edit_manifest(copy("v2"), lambda m: m.update(format_version=2)))
    foreign = tmp_path / "foreign"
    foreign.mkdir()
    (foreign / "manifest.json").write_text('{"name": "something else"}')
    with pytest.raises(ArtifactError, match="no format_version"):
        TrainData.from_artifacts(foreign)
    tampered = copy("tampered")
    with np.load(tampered / "val.npz") as val:
        np.savez(tampered / "val.npz", X=val["X"] + 1, y=val["y"], row=val["row"])
    with pytest.raises(ArtifactError, match="sha256 does not match"):
        TrainData.from_artifacts(tampered)
    (tampered / "val.npz").unlink()
    with pytest.raises(ArtifactError, match="val.npz: missing"):
        TrainData.from_artifacts(tampered)
    pickled = copy("pickled")
    with np.load(pickled / "train.npz") as train:
        np.savez(pickled / "train.npz", X=train["X"].astype(object), y=train["y"], row=train["row"])
    _edit_manifest(pickled, lambda m: m["files"]["train.npz"].update(sha256=npz_record_sha(pickled / "train.npz")))
    with pytest.raises(ArtifactError, match="declares object"):
        TrainData.from_artifacts(pickled)
    fewer = _edit_manifest(copy("bad"), lambda m: m["label"].update(classes=["a", "b"]))
    with pytest.raises(ArtifactError, match="not all among manifest.json.s label.classes"):
        TrainData.from_artifacts(fewer)
