"""Ensembles: each kind built and compared on validation, the chosen one alone tested."""

from __future__ import annotations

import numpy as np
import pytest
from _training_data import TINY, noisy_classification, noisy_regression

from dataaudit.exceptions import ArtifactError, ConfigError
from dataaudit.training.config import TrainConfig
from dataaudit.training.ensemble import (
    ENSEMBLE_KINDS,
    EnsembleModel,
    average_params,
    compare_ensembles,
    default_ema_decay,
    load_ensemble,
    save_ensemble,
    score_outputs,
)
from dataaudit.training.loop import TrainData, fit
from dataaudit.training.search import random_search
from dataaudit.training.search_section import search_section

# Wide and long enough (no early stopping) to overfit the label noise, so initializations disagree.
WIDE = TrainConfig(hidden=(128,), max_epochs=30, batch_size=32, patience=0, lr=3e-3)


def test_score_outputs_log_loss_accuracy_and_mse() -> None:
    proba = np.array([[0.5, 0.5], [0.9, 0.1], [0.0, 1.0]])
    scores = score_outputs(proba, np.array([0, 1, 1]), "classification")
    assert scores["accuracy"] == pytest.approx(2 / 3)
    assert scores["loss"] == pytest.approx(-(np.log(0.5) + np.log(0.1) + np.log(1.0)) / 3)
    regression = score_outputs(np.array([1.0, 3.0]), np.array([0.0, 3.0]), "regression")
    assert regression == pytest.approx({"loss": 0.5, "rmse": np.sqrt(0.5), "mae": 0.5, "r2": 1 - 0.5 / 2.25})
    # One scoring rule: the loop's evaluate and the ensembles' scores agree on a confident mistake.
    assert score_outputs(np.array([[1.0, 0.0]]), np.array([1]), "classification")["loss"] == pytest.approx(
        -np.log(1e-15))


def test_average_params_is_the_key_by_key_mean() -> None:
    a = {"W0": np.array([[1.0, 2.0]], np.float32), "b0": np.array([0.0], np.float32)}
    b = {"W0": np.array([[3.0, 6.0]], np.float32), "b0": np.array([1.0], np.float32)}
    out = average_params([a, b])
    np.testing.assert_array_equal(out["W0"], [[2.0, 4.0]])
    np.testing.assert_array_equal(out["b0"], [0.5])
    assert out["W0"].dtype == np.float32
    with pytest.raises(ConfigError, match="zero parameter snapshots"):
        average_params([])
    with pytest.raises(ConfigError, match="different parameter names"):
        average_params([a, {"W0": a["W0"]}])


def test_default_ema_decay_remembers_about_one_epoch() -> None:
    assert default_ema_decay(300, 32) == pytest.approx(0.9)  # 10 steps per epoch
    assert default_ema_decay(50_000, 128) == pytest.approx(1 - 1 / 391)
    assert default_ema_decay(10**9, 1) == pytest.approx(0.9999)


def test_every_kind_is_built_and_ensembles_match_or_beat_the_single_model() -> None:
    data = noisy_classification()
    search = random_search(data, TINY, n_trials=4, rounds=1, seed=0)
    report = compare_ensembles(data, WIDE, k=4, search=search)
    assert [r.kind for r in report.rows] == list(ENSEMBLE_KINDS) and report.skipped == {}
    single = report.row("single")
    assert single.n_members == 1 and report.row("seeds").n_members == 4
    assert report.row("top_k").n_members == 4 and report.row("checkpoints").n_members == 4
    # The single row is the plain run of the configuration: same numbers as fit() reports.
    plain = fit(WIDE, data)
    assert single.val_loss == pytest.approx(plain.best_val_loss, rel=1e-9)
    # Averaging independent initializations on a noisy problem lowers the validation loss.
    assert report.row("seeds").val_loss < single.val_loss
    assert report.row("seeds").val_accuracy >= single.val_accuracy - 0.01
    # The final choice is the lowest validation loss.
    assert report.chosen == min(report.rows, key=lambda r: r.val_loss).kind
    assert report.test is not None and set(report.test) == {"loss", "accuracy"}
    assert report.model.kind == report.chosen
    section = search_section(search, report)
    assert f"final: {report.chosen}" in section.summary and "(chosen)" in str(section.html)


def test_ema_weights_differ_from_the_raw_weights() -> None:
    data = noisy_classification()
    report = compare_ensembles(data, WIDE, k=2, kinds=["ema"])
    decay = default_ema_decay(len(data.X_train), WIDE.batch_size)
    run = fit(WIDE.replace(ema_decay=decay), data)
    assert run.ema_params is not None and set(run.ema_params) == set(run.params)
    for key in run.params:
        assert not np.allclose(run.ema_params[key], run.params[key]), key
    # The ema row scores exactly those averaged weights, and they predict differently.
    ema_model = EnsembleModel(
        "ema", [(WIDE, run.ema_params)], task="classification", n_inputs=6, n_outputs=3
    )
    expected = score_outputs(ema_model.outputs(data.X_val), data.y_val, "classification")
    assert report.row("ema").val_loss == pytest.approx(expected["loss"], rel=1e-12)
    assert report.row("ema").val_loss != pytest.approx(report.row("single").val_loss, rel=1e-6)
    assert "decay 0.9)" in report.row("ema").description


def test_the_test_split_only_scores_the_chosen_model() -> None:
    data = noisy_classification()
    scrambled = TrainData(
        data.X_train,
        data.y_train,
        data.X_val,
        data.y_val,
        X_test=data.X_test,
        y_test=(data.y_test + 1) % 3,
        n_classes=3,
    )
    honest = compare_ensembles(data, TINY, k=2, kinds=["seeds", "checkpoints"])
    other = compare_ensembles(scrambled, TINY, k=2, kinds=["seeds", "checkpoints"])
    assert [r.to_dict() for r in honest.rows] == [r.to_dict() for r in other.rows]
    assert honest.chosen == other.chosen
    assert honest.test != other.test  # the test numbers do read the test labels...
    expected = score_outputs(honest.model.outputs(data.X_test), data.y_test, "classification")
    assert honest.test == expected  # ...for the chosen model only
    no_test = TrainData(data.X_train, data.y_train, data.X_val, data.y_val, n_classes=3)
    assert compare_ensembles(no_test, TINY, k=2, kinds=["seeds"]).test is None


def test_regression_averages_predictions() -> None:
    data = noisy_regression()
    report = compare_ensembles(data, TINY, k=3, kinds=["seeds"])
    seeds = report.row("seeds")
    assert seeds.val_accuracy is None and seeds.n_members == 3
    members = [fit(TINY.replace(seed=s), data).model.predict(data.X_val) for s in range(3)]
    expected = score_outputs(np.mean(members, axis=0), data.y_val, "regression")["loss"]
    assert seeds.val_loss == pytest.approx(expected, rel=1e-6)


def test_skipped_kinds_say_why() -> None:
    data = noisy_classification()
    report = compare_ensembles(data, TINY.replace(max_epochs=1), k=3)
    assert report.skipped["top_k"] == "no search result was given"
    assert "1 snapshot(s)" in report.skipped["checkpoints"]
    with pytest.raises(ConfigError, match="Unknown ensemble kind"):
        compare_ensembles(data, TINY, kinds=["bagging"])
    with pytest.raises(ConfigError, match="k=0"):
        compare_ensembles(data, TINY, k=0)
    with pytest.raises(ConfigError, match="was not built"):
        report.row("top_k")


def test_save_and_load_the_chosen_ensemble(tmp_path) -> None:
    data = noisy_classification()
    report = compare_ensembles(data, TINY, k=2, kinds=["seeds"])
    json_path, npz_path = save_ensemble(report, tmp_path)
    assert json_path.name == "ensemble.json" and npz_path.name == "ensemble.npz"
    model = load_ensemble(tmp_path)
    assert model.kind == report.chosen and len(model) == len(report.model)
    np.testing.assert_allclose(
        model.predict_proba(data.X_val), report.model.predict_proba(data.X_val)
    )
    import json

    payload = json.loads(json_path.read_text())
    assert payload["chosen"] == report.chosen and payload["selected_on"] == "validation"
    payload["format_version"] = 7
    json_path.write_text(json.dumps(payload))
    with pytest.raises(ArtifactError, match="format_version 7"):
        load_ensemble(tmp_path)
    with pytest.raises(ArtifactError, match="not found"):
        load_ensemble(tmp_path / "nowhere")
