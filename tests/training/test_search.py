"""Random search: sampling scales, narrowing, determinism, workers, and the untouched test split."""

from __future__ import annotations

import math

import numpy as np
import pytest
from _training_data import TINY, noisy_classification, noisy_regression

from dataaudit.exceptions import ArtifactError, ConfigError
from dataaudit.training.config import TrainConfig
from dataaudit.training.loop import TrainData
from dataaudit.training.search import (
    SearchResult,
    SearchSpace,
    Trial,
    format_trial_line,
    load_search,
    narrow_space,
    random_search,
    sample_configs,
    save_search,
)
from dataaudit.training.search_section import search_section


def _trial(index: int, **sampled: float) -> Trial:
    return Trial(index, 0, TINY, dict(sampled), 1.0, None, None, 0.0)


def test_lr_and_weight_decay_are_log_uniform_width_and_dropout_uniform() -> None:
    space = SearchSpace(
        lr=(1e-5, 1e-1), weight_decay=(1e-6, 1e-2), width=(10, 110), dropout=(0.0, 0.5)
    )
    drawn = sample_configs(TrainConfig(hidden=(4, 4)), space, 4000, np.random.default_rng(0))
    lr = np.array([v["lr"] for _, v in drawn])
    wd = np.array([v["weight_decay"] for _, v in drawn])
    width = np.array([v["width"] for _, v in drawn])
    dropout = np.array([v["dropout"] for _, v in drawn])
    assert lr.min() >= 1e-5 and lr.max() <= 1e-1
    assert wd.min() >= 1e-6 and wd.max() <= 1e-2
    # Log-uniform: each decade of lr gets a quarter of the draws; uniform would put 90% in the top one.
    decades = np.histogram(np.log10(lr), bins=[-5, -4, -3, -2, -1])[0] / len(lr)
    np.testing.assert_allclose(decades, 0.25, atol=0.03)
    assert abs(np.median(np.log10(wd)) - (-4.0)) < 0.1
    # Uniform: the median sits in the middle of the linear range.
    assert abs(np.median(width) - 60) < 4 and abs(np.median(dropout) - 0.25) < 0.02
    assert set(np.unique(width)) <= set(range(10, 111))
    config, values = drawn[0]
    assert config.hidden == (int(values["width"]),) * 2  # depth of the base is kept
    assert config.lr == values["lr"] and config.dropout == values["dropout"]


def test_unsearched_parameters_keep_the_base_values() -> None:
    base = TrainConfig(hidden=(7,), weight_decay=0.003, dropout=0.2)
    drawn = sample_configs(
        base, SearchSpace(weight_decay=None, width=None, dropout=None), 3, np.random.default_rng(0)
    )
    assert all(c.hidden == (7,) and c.weight_decay == 0.003 and c.dropout == 0.2 for c, _ in drawn)
    assert all(set(v) == {"lr"} for _, v in drawn)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"lr": (0.0, 1e-2)},
        {"lr": (1e-2, 1e-3)},
        {"weight_decay": (0.0, 1e-3)},
        {"dropout": (0.1, 1.0)},
        {"width": (0, 8)},
    ],
)
def test_invalid_ranges_raise_config_error(kwargs: dict) -> None:
    with pytest.raises(ConfigError, match="Search range"):
        SearchSpace(**kwargs)


def test_narrowing_pads_the_top_trials_and_stays_inside_the_old_range() -> None:
    space = SearchSpace(
        lr=(1e-4, 1e0), weight_decay=(1e-6, 1e-2), width=(0 + 10, 110), dropout=(0.0, 0.5)
    )
    top = [
        _trial(0, lr=1e-3, weight_decay=1e-6, width=50, dropout=0.1),
        _trial(1, lr=1e-2, weight_decay=1e-6, width=70, dropout=0.1),
    ]
    new = narrow_space(space, top)
    # lr: log span [-3, -2] padded by a quarter on each side -> [-3.25, -1.75].
    np.testing.assert_allclose(np.log10(new.lr), [-3.25, -1.75])
    # width: [50, 70] padded to [45, 75].
    np.testing.assert_allclose(new.width, [45, 75])
    # weight decay: one value at the lower edge -> the minimum width (a quarter of 4 decades), shifted inside.
    np.testing.assert_allclose(np.log10(new.weight_decay), [-6.0, -5.0])
    # dropout: a single value -> a quarter of the old width, centred on it.
    np.testing.assert_allclose(new.dropout, [0.0375, 0.1625])
    for name in ("lr", "weight_decay", "width", "dropout"):
        old_low, old_high = getattr(space, name)
        low, high = getattr(new, name)
        assert old_low <= low < high <= old_high


def test_narrowing_needs_a_trial() -> None:
    with pytest.raises(ConfigError, match="no successful trial"):
        narrow_space(SearchSpace(), [])


def test_search_is_deterministic_and_narrows_around_the_best() -> None:
    data = noisy_classification()
    seen: list[int] = []
    first = random_search(
        data, TINY, n_trials=6, rounds=2, seed=3, on_trial=lambda t: seen.append(t.index)
    )
    again = random_search(data, TINY, n_trials=6, rounds=2, seed=3)
    other = random_search(data, TINY, n_trials=6, rounds=2, seed=4)
    assert sorted(seen) == list(range(6))
    assert [t.to_dict() | {"seconds": 0} for t in first.trials] == [
        t.to_dict() | {"seconds": 0} for t in again.trials
    ]
    assert [t.sampled for t in first.trials] != [t.sampled for t in other.trials]
    assert [t.round for t in first.trials] == [0, 0, 0, 1, 1, 1]
    assert len(first.spaces) == 2 and first.top_k == 2
    # Round 1 sampled inside the narrowed ranges, which contain the two best trials of round 0.
    top = sorted(first.trials[:3], key=lambda t: t.val_loss)[:2]
    for name in ("lr", "weight_decay", "width", "dropout"):
        low, high = getattr(first.spaces[1], name)
        old_low, old_high = getattr(first.spaces[0], name)
        assert (high - low) < (old_high - old_low)
        assert all(low <= t.sampled[name] <= high for t in top)
        assert all(low - 0.5 <= t.sampled[name] <= high + 0.5 for t in first.trials[3:])
    assert first.best.val_loss == min(t.val_loss for t in first.trials)
    assert first.best_config == first.best.config
    assert all(t.val_accuracy is not None and 0 <= t.val_accuracy <= 1 for t in first.trials)


def test_process_pool_gives_the_same_trials_as_serial() -> None:
    data = noisy_classification()
    serial = random_search(data, TINY, n_trials=4, rounds=2, seed=1)
    pooled = random_search(data, TINY, n_trials=4, rounds=2, seed=1, workers=2)
    assert pooled.runner == "process pool (2 workers)" and serial.runner == "serial"
    assert [t.sampled for t in pooled.trials] == [t.sampled for t in serial.trials]
    np.testing.assert_allclose(
        [t.val_loss for t in pooled.trials], [t.val_loss for t in serial.trials], rtol=1e-6
    )
    assert pooled.best.index == serial.best.index


def test_test_labels_cannot_influence_the_search(monkeypatch: pytest.MonkeyPatch) -> None:
    data = noisy_classification()
    garbage = TrainData(
        data.X_train,
        data.y_train,
        data.X_val,
        data.y_val,
        X_test=-data.X_test,
        y_test=np.zeros_like(data.y_test),
        n_classes=3,
    )
    honest = random_search(data, TINY, n_trials=4, rounds=2, seed=0)
    scrambled = random_search(garbage, TINY, n_trials=4, rounds=2, seed=0)
    assert [t.val_loss for t in honest.trials] == [t.val_loss for t in scrambled.trials]
    assert honest.best.index == scrambled.best.index

    # And trials never even receive the test split.
    import dataaudit.training.loop as loop

    real_fit = loop.fit
    received: list[tuple[object, object]] = []

    def spy(config: TrainConfig, trial_data: TrainData, on_log: object = None) -> object:
        received.append((trial_data.X_test, trial_data.y_test))
        return real_fit(config, trial_data)

    monkeypatch.setattr(loop, "fit", spy)
    random_search(data, TINY, n_trials=2, rounds=1, seed=0)
    assert received == [(None, None), (None, None)]


def test_regression_search_has_no_accuracy() -> None:
    result = random_search(noisy_regression(), TINY, n_trials=2, rounds=1, seed=0)
    assert all(t.val_accuracy is None and math.isfinite(t.val_loss) for t in result.trials)


def test_failed_trials_are_recorded_and_ranked_last(monkeypatch: pytest.MonkeyPatch) -> None:
    import dataaudit.training.loop as loop

    real_fit = loop.fit

    def flaky(config: TrainConfig, trial_data: TrainData, on_log: object = None) -> object:
        if config.lr > 1e-3:
            raise FloatingPointError("overflow in exp")
        return real_fit(config, trial_data)

    monkeypatch.setattr(loop, "fit", flaky)
    space = SearchSpace(lr=(1e-4, 1e-2))
    result = random_search(noisy_classification(), TINY, n_trials=6, rounds=1, space=space, seed=0)
    failed = [t for t in result.trials if t.error]
    assert failed and all(t.error == "FloatingPointError: overflow in exp" for t in failed)
    assert all(t.config.lr > 1e-3 for t in failed) and result.best.error is None
    assert result.ranked()[-len(failed) :] == sorted(failed, key=lambda t: t.index)

    monkeypatch.setattr(
        loop, "fit", lambda *a, **k: (_ for _ in ()).throw(FloatingPointError("boom"))
    )
    with pytest.raises(ConfigError, match="All 2 search trials failed.*boom"):
        random_search(noisy_classification(), TINY, n_trials=2, rounds=1)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"rounds": 0}, "rounds=0"),
        ({"n_trials": 1, "rounds": 2}, "at least rounds"),
        ({"workers": 0}, "workers=0"),
        ({"scheduler": 42}, "scheduler=42"),
    ],
)
def test_bad_arguments_raise_config_error(kwargs: dict, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        random_search(noisy_classification(), TINY, **kwargs)


def test_save_and_load_round_trip(tmp_path) -> None:
    result = random_search(noisy_classification(), TINY, n_trials=4, rounds=2, seed=0)
    path = save_search(result, tmp_path / "out")
    assert path == tmp_path / "out" / "search.json"
    loaded = load_search(tmp_path / "out")
    assert isinstance(loaded, SearchResult)
    assert loaded.to_dict() == result.to_dict()
    assert loaded.best_config == result.best_config
    path.write_text(path.read_text().replace('"format_version": 1', '"format_version": 99'))
    with pytest.raises(ArtifactError, match="format_version 99"):
        load_search(path)
    with pytest.raises(ArtifactError, match="not found"):
        load_search(tmp_path / "missing.json")


def test_search_section_lists_trials_best_first_and_escapes() -> None:
    result = random_search(noisy_classification(), TINY, n_trials=4, rounds=2, seed=0)
    result.trials[0].error = "<script>alert(1)</script>"
    section = search_section(result)
    html = str(section.html)
    assert section.id == "search" and "<svg" in html and "4 trials in 2 rounds" in section.summary
    assert "<script>" not in html and "&lt;script&gt;" in html
    ranked_indices = [t.index for t in result.ranked()]
    positions = [
        html.index(f"<td>{i + 1}</td><td>{index}</td>") for i, index in enumerate(ranked_indices)
    ]
    assert positions == sorted(positions)
    with pytest.raises(ConfigError):
        search_section(None, None)


def test_format_trial_line() -> None:
    config = TrainConfig(hidden=(128, 64), lr=1.2e-3, weight_decay=3e-5, dropout=0.125)
    ok = Trial(3, 1, config, {}, 0.455, 0.912, 200, 1.34)
    assert format_trial_line(ok) == (
        "trial 3 (round 1) | lr 1.20e-03 | wd 3.00e-05 | hidden 128,64 | dropout 0.12"
        " | val loss 0.4550 | val acc 0.912 | 1.3 s"
    )
    failed = Trial(4, 1, config, {}, math.inf, None, None, 0.2, error="FloatingPointError: x")
    assert format_trial_line(failed).endswith("| failed: FloatingPointError: x | 0.2 s")
