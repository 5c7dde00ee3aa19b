"""MeanCenterer and Standardizer: sklearn conventions, exact small cases, round trips, state."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from sklearn.preprocessing import StandardScaler
from sklearn.utils.estimator_checks import parametrize_with_checks

from dataaudit.exceptions import ArtifactError, InputError
from dataaudit.transforms import MeanCenterer, Standardizer


@parametrize_with_checks(
    [MeanCenterer(), Standardizer(), Standardizer(with_mean=False), Standardizer(with_std=False)]
)
def test_sklearn_estimator_checks(estimator, check):
    check(estimator)


def test_mean_centerer_exact():
    X = np.array([[1.0, 10.0], [3.0, 30.0], [5.0, -40.0]])
    centerer = MeanCenterer().fit(X)
    np.testing.assert_array_equal(centerer.mean_, [3.0, 0.0])
    np.testing.assert_array_equal(centerer.transform(X), [[-2.0, 10.0], [0.0, 30.0], [2.0, -40.0]])
    assert centerer.n_samples_seen_ == 3


def test_standardizer_exact_and_constant_column_keeps_scale_one():
    X = np.array([[1.0, 7.0, 0.0], [3.0, 7.0, 4.0], [5.0, 7.0, 8.0]])
    scaler = Standardizer().fit(X)
    np.testing.assert_allclose(scaler.mean_, [3.0, 7.0, 4.0])
    np.testing.assert_allclose(scaler.var_, [8 / 3, 0.0, 32 / 3])
    # The constant middle column is not divided by ~0: scale 1, output exactly 0.
    np.testing.assert_allclose(scaler.scale_, [np.sqrt(8 / 3), 1.0, np.sqrt(32 / 3)])
    root = np.sqrt(3 / 2)
    expected = np.array([[-root, 0.0, -root], [0.0, 0.0, 0.0], [root, 0.0, root]])
    np.testing.assert_allclose(scaler.transform(X), expected, atol=1e-15)


def test_constant_column_with_inexact_mean_is_still_constant():
    # 0.1 is not representable; the computed mean and variance carry rounding noise.
    X = np.column_stack([np.full(1000, 0.1), np.arange(1000.0)])
    scaler = Standardizer().fit(X)
    assert scaler.scale_[0] == 1.0
    assert np.abs(scaler.transform(X)[:, 0]).max() < 1e-15


@pytest.mark.parametrize(
    ("with_mean", "with_std", "expected"),
    [
        (True, True, [[-1.0], [1.0]]),
        (True, False, [[-2.0], [2.0]]),
        (False, True, [[0.5], [2.5]]),
        (False, False, [[1.0], [5.0]]),
    ],
)
def test_standardizer_options(with_mean, with_std, expected):
    X = np.array([[1.0], [5.0]])  # mean 3, population std 2
    scaler = Standardizer(with_mean=with_mean, with_std=with_std).fit(X)
    np.testing.assert_allclose(scaler.transform(X), expected)
    np.testing.assert_allclose(scaler.inverse_transform(scaler.transform(X)), X)


def test_standardizer_matches_sklearn_standard_scaler():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(500, 6)) * [1.0, 10.0, 1e-3, 1e4, 5.0, 0.0] + [0, 1e6, -3, 0, 1, 4]
    ours = Standardizer().fit(X)
    theirs = StandardScaler().fit(X)
    np.testing.assert_allclose(ours.mean_, theirs.mean_, rtol=1e-12)
    np.testing.assert_allclose(ours.scale_, theirs.scale_, rtol=1e-10)
    np.testing.assert_allclose(ours.transform(X), theirs.transform(X), rtol=1e-9, atol=1e-9)


def test_float32_stays_float32():
    rng = np.random.default_rng(0)
    X64 = rng.normal(size=(300, 4)) * 3 + 2
    X32 = X64.astype(np.float32)
    for estimator in (MeanCenterer(), Standardizer()):
        out32 = estimator.fit(X32).transform(X32)
        assert out32.dtype == np.float32
        assert estimator.mean_.dtype == np.float64  # statistics always in float64
        out64 = type(estimator)().fit(X64).transform(X64)
        np.testing.assert_allclose(out32, out64, atol=1e-5)


# Values are 0 or of magnitude >= 1e-100: below about 1e-154 a squared deviation underflows
# float64, so the variance the saved state holds (``var_``) could not represent the spread.
finite_tables = arrays(
    np.float64,
    st.tuples(st.integers(1, 40), st.integers(1, 6)),
    elements=st.floats(-1e6, 1e6, allow_nan=False, allow_infinity=False).map(
        lambda v: 0.0 if abs(v) < 1e-100 else v),
)


@settings(max_examples=40, deadline=None)
@given(X=finite_tables)
def test_inverse_transform_round_trip(X):
    tolerance = 1e-9 * (1.0 + np.abs(X).max())
    for estimator in (MeanCenterer(), Standardizer()):
        back = estimator.fit(X).inverse_transform(estimator.transform(X))
        np.testing.assert_allclose(back, X, rtol=0, atol=tolerance)


@settings(max_examples=30, deadline=None)
@given(X=finite_tables)
def test_standardized_columns_have_mean_zero_and_unit_or_zero_std(X):
    Z = Standardizer().fit_transform(X)
    assert np.all(np.isfinite(Z))
    np.testing.assert_allclose(Z.mean(axis=0), 0.0, atol=1e-8)
    std = Z.std(axis=0)
    # Each column is either scaled to unit variance or (constant) left at exactly zero spread.
    assert np.all((np.abs(std - 1.0) < 1e-6) | (std < 1e-6))


def _npz_only(state, tmp_path):
    """Every entry, scalars included (as 0-d arrays), in one .npz loaded with allow_pickle=False."""
    np.savez(tmp_path / "all.npz", **{k: np.asarray(v) for k, v in state.items()})
    with np.load(tmp_path / "all.npz", allow_pickle=False) as loaded:
        return {k: loaded[k] for k in loaded.files}


def _round_trip_through_files(state, tmp_path):
    """Save a state as the pipeline does (arrays to .npz, scalars to JSON) and reload it."""
    arrays_part = {k: v for k, v in state.items() if isinstance(v, np.ndarray)}
    scalars_part = {k: v for k, v in state.items() if not isinstance(v, np.ndarray)}
    np.savez(tmp_path / "state.npz", **arrays_part)
    (tmp_path / "state.json").write_text(json.dumps(scalars_part))
    with np.load(tmp_path / "state.npz", allow_pickle=False) as loaded:
        reloaded = {k: loaded[k] for k in loaded.files}
    reloaded.update(json.loads((tmp_path / "state.json").read_text()))
    return reloaded


@pytest.mark.parametrize(
    "estimator", [MeanCenterer(), Standardizer(), Standardizer(with_std=False)]
)
@pytest.mark.parametrize("storage", ["npz_and_json", "npz_only"])
def test_state_round_trip_is_identical(estimator, storage, tmp_path):
    rng = np.random.default_rng(0)
    frame = pd.DataFrame(rng.normal(size=(50, 3)) * [1, 5, 0] + 2, columns=["a", "b", "c"])
    estimator.fit(frame)
    state = estimator.get_state()
    for key, value in state.items():
        assert not (isinstance(value, np.ndarray) and value.dtype == object), key
        assert isinstance(value, np.ndarray | bool | int | float | str), key
    clone = type(estimator).from_state(
        (_round_trip_through_files if storage == "npz_and_json" else _npz_only)(state, tmp_path)
    )
    np.testing.assert_array_equal(clone.transform(frame), estimator.transform(frame))
    np.testing.assert_array_equal(clone.get_feature_names_out(), ["a", "b", "c"])
    assert clone.get_params() == estimator.get_params()


def test_state_allows_partial_fit_to_continue():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(90, 3)) * [1, 2, 3] + [5, 0, -5]
    resumed = Standardizer.from_state(Standardizer().partial_fit(X[:40]).get_state())
    resumed.partial_fit(X[40:])
    whole = Standardizer().fit(X)
    np.testing.assert_allclose(resumed.mean_, whole.mean_, rtol=1e-12)
    np.testing.assert_allclose(resumed.scale_, whole.scale_, rtol=1e-12)


def test_from_state_rejects_foreign_or_damaged_state():
    state = Standardizer().fit(np.arange(6.0).reshape(3, 2)).get_state()
    with pytest.raises(ArtifactError, match="saved by 'Standardizer'"):
        MeanCenterer.from_state(state)
    with pytest.raises(ArtifactError, match="lacks the array 'scale'"):
        Standardizer.from_state({k: v for k, v in state.items() if k != "scale"})
    with pytest.raises(ArtifactError, match="shape"):
        Standardizer.from_state({**state, "mean": np.zeros(5)})
    with pytest.raises(ArtifactError, match="format version 99"):
        Standardizer.from_state({**state, "state_version": 99})


def test_set_output_pandas_keeps_column_names():
    frame = pd.DataFrame({"height": [1.0, 2.0, 3.0], "weight": [3.0, 5.0, 10.0]})
    out = Standardizer().set_output(transform="pandas").fit_transform(frame)
    assert list(out.columns) == ["height", "weight"]
    np.testing.assert_allclose(out["height"], [-np.sqrt(1.5), 0.0, np.sqrt(1.5)])


def test_bad_input_raises_input_error_with_names():
    scaler = Standardizer().fit(np.ones((4, 3)))
    with pytest.raises(
        InputError, match="Standardizer: X has 2 features, but Standardizer is expecting 3"
    ):
        scaler.transform(np.ones((2, 2)))
    with pytest.raises(InputError, match="NaN"):
        Standardizer().fit(np.array([[1.0], [np.nan]]))
    with pytest.raises(InputError, match="inverse_transform got 1 columns"):
        scaler.inverse_transform(np.ones((2, 1)))
