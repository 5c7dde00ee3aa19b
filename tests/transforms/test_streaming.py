"""StreamingMoments and partial_fit: chunked statistics equal in-memory ones."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.stats import ortho_group

from dataaudit.exceptions import ArtifactError, InputError
from dataaudit.transforms import MeanCenterer, PCATransformer, Standardizer, StreamingMoments


def _data(seed: int, n: int, d: int, offset: float) -> np.ndarray:
    """Rows with a well-separated spectrum (variances 4**i), rotated, shifted by ``offset``."""
    rng = np.random.default_rng(seed)
    rotation = ortho_group.rvs(d, random_state=seed) if d > 1 else np.ones((1, 1))
    return (rng.normal(size=(n, d)) * 2.0 ** np.arange(d)) @ rotation + offset


def _chunks(X: np.ndarray, cuts: list[int]) -> list[np.ndarray]:
    bounds = sorted({0, X.shape[0], *[c % X.shape[0] for c in cuts]})
    return [X[a:b] for a, b in zip(bounds[:-1], bounds[1:], strict=True) if b > a]


def test_exact_small_case():
    X = np.array([[1.0, 2.0], [3.0, 6.0], [5.0, 4.0], [7.0, 8.0]])
    moments = StreamingMoments().update(X[:1]).update(X[1:3]).update(X[3:])
    assert moments.n_samples == 4
    np.testing.assert_allclose(moments.mean, [4.0, 5.0])
    # Deviations x: -3 -1 1 3, y: -3 1 -1 3 -> variances 20/4 = 5, covariance (9-1-1+9)/4 = 4.
    np.testing.assert_allclose(moments.covariance(), [[5.0, 4.0], [4.0, 5.0]])
    np.testing.assert_allclose(moments.variance(ddof=1), [20 / 3, 20 / 3])


def test_large_offset_does_not_cancel():
    # Raw sums of squares would lose every digit here: values ~1e9 with spread ~1.
    X = 1e9 + np.array([[0.0], [1.0], [2.0], [3.0]])
    moments = StreamingMoments()
    for row in X:
        moments.update(row[None, :])
    np.testing.assert_allclose(moments.variance(), [1.25], rtol=1e-12)
    np.testing.assert_allclose(moments.mean, [1e9 + 1.5], rtol=1e-15)


@settings(max_examples=30, deadline=None)
@given(
    seed=st.integers(0, 10_000),
    n=st.integers(2, 300),
    d=st.integers(1, 5),
    offset=st.sampled_from([0.0, 1e4]),
    cuts=st.lists(st.integers(0, 10_000), max_size=8),
    block_rows=st.sampled_from([None, 1, 7]),
)
def test_chunked_moments_equal_in_memory(seed, n, d, offset, cuts, block_rows):
    X = _data(seed, n, d, offset)
    streamed = StreamingMoments(block_rows=block_rows)
    for chunk in _chunks(X, cuts):
        streamed.update(chunk)
    assert streamed.n_samples == n
    np.testing.assert_allclose(streamed.mean, X.mean(axis=0), rtol=1e-12, atol=1e-12)
    reference = np.cov(X, rowvar=False, bias=True).reshape(d, d)
    scale = np.abs(reference).max()
    np.testing.assert_allclose(streamed.covariance(), reference, rtol=0, atol=1e-10 * scale)


def test_merge_equals_update_of_concatenation():
    X = _data(1, 500, 3, 7.0)
    left = StreamingMoments().update(X[:123])
    right = StreamingMoments().update(X[123:])
    merged = left.merge(right)
    whole = StreamingMoments().update(X)
    np.testing.assert_allclose(merged.mean, whole.mean, rtol=1e-14)
    np.testing.assert_allclose(merged.m2, whole.m2, rtol=1e-12)


@settings(max_examples=25, deadline=None)
@given(
    seed=st.integers(0, 10_000),
    n=st.integers(20, 400),
    d=st.integers(1, 5),
    offset=st.sampled_from([0.0, 1e3]),
    cuts=st.lists(st.integers(0, 10_000), min_size=1, max_size=8),
)
def test_partial_fit_equals_fit_for_scalers(seed, n, d, offset, cuts):
    X = _data(seed, n, d, offset)
    for make in (MeanCenterer, Standardizer):
        streamed = make()
        for chunk in _chunks(X, cuts):
            streamed.partial_fit(chunk)
        whole = make().fit(X)
        assert streamed.n_samples_seen_ == whole.n_samples_seen_ == n
        np.testing.assert_allclose(streamed.mean_, whole.mean_, rtol=1e-9, atol=1e-12)
        if make is Standardizer:
            np.testing.assert_allclose(streamed.scale_, whole.scale_, rtol=1e-9)
        np.testing.assert_allclose(streamed.transform(X), whole.transform(X), rtol=0, atol=1e-9)


@settings(max_examples=25, deadline=None)
@given(
    seed=st.integers(0, 10_000),
    n=st.integers(60, 400),
    d=st.integers(1, 5),
    offset=st.sampled_from([0.0, 1e3]),
    cuts=st.lists(st.integers(0, 10_000), min_size=1, max_size=8),
    whiten=st.sampled_from(["none", "pca", "zca"]),
)
def test_partial_fit_equals_fit_for_whitening(seed, n, d, offset, cuts, whiten):
    X = _data(seed, n, d, offset)
    streamed = PCATransformer(whiten=whiten)
    for chunk in _chunks(X, cuts):
        streamed.partial_fit(chunk)
    whole = PCATransformer(whiten=whiten).fit(X)
    np.testing.assert_allclose(streamed.mean_, whole.mean_, rtol=1e-9, atol=1e-9)
    W_streamed, W_whole = streamed.whitening_matrix_, whole.whitening_matrix_
    assert W_streamed.shape == W_whole.shape
    np.testing.assert_allclose(W_streamed, W_whole, rtol=0, atol=1e-6 * np.abs(W_whole).max())
    np.testing.assert_allclose(streamed.transform(X), whole.transform(X), rtol=0, atol=1e-6)


def test_float32_chunks_match_float64_statistics():
    X = _data(2, 1000, 4, 5.0).astype(np.float32)
    streamed = StreamingMoments().update(X[:300]).update(X[300:])
    reference = X.astype(np.float64)
    np.testing.assert_allclose(streamed.mean, reference.mean(axis=0), rtol=1e-12)
    np.testing.assert_allclose(
        streamed.covariance(), np.cov(reference, rowvar=False, bias=True), rtol=1e-10
    )
    assert streamed.mean.dtype == np.float64


def test_state_round_trip():
    X = _data(3, 100, 3, 1.0)
    moments = StreamingMoments().update(X[:40])
    state = moments.get_state()
    assert all(not isinstance(v, np.ndarray) or v.dtype != object for v in state.values())
    restored = StreamingMoments.from_state(state).update(X[40:])
    whole = StreamingMoments().update(X)
    np.testing.assert_allclose(restored.m2, whole.m2, rtol=1e-12)
    with pytest.raises(ArtifactError, match="lacks the entry 'm2'"):
        StreamingMoments.from_state({k: v for k, v in state.items() if k != "m2"})
    with pytest.raises(ArtifactError, match="inconsistent"):
        StreamingMoments.from_state({**state, "m2": np.zeros(3)})


def test_errors():
    moments = StreamingMoments().update(np.ones((3, 2)))
    with pytest.raises(InputError, match="chunk with 3 columns after chunks with 2"):
        moments.update(np.ones((3, 3)))
    with pytest.raises(InputError, match="2-D"):
        moments.update(np.ones(3))
    with pytest.raises(InputError, match="seen no rows"):
        StreamingMoments().covariance()
    with pytest.raises(InputError, match="only variances"):
        StreamingMoments(covariance=False).update(np.ones((2, 2))).covariance()
    scaler = Standardizer().partial_fit(np.ones((3, 2)))
    with pytest.raises(InputError, match="X has 3 features, but Standardizer is expecting 2"):
        scaler.partial_fit(np.ones((3, 3)))


@pytest.mark.parametrize("make", [Standardizer, PCATransformer])
def test_fit_on_float32_does_not_make_a_float64_copy(make):
    import tracemalloc

    X = np.random.default_rng(0).standard_normal((1_000_000, 8), dtype=np.float32)
    float64_copy_bytes = X.size * 8
    tracemalloc.start()
    try:
        make().fit(X)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    # Blocks are promoted one at a time into one ~16 MiB buffer, far below a full upcast.
    assert peak < float64_copy_bytes / 2


def test_one_pass_fit_from_moments_equals_two_fits():
    """Scaler + PCA fitted from one streamed pass (affine moments) equal fitting each on data."""
    from dataaudit.transforms import PCATransformer, Standardizer, StreamingMoments

    rng = np.random.default_rng(0)
    X = rng.normal(size=(2000, 6)) @ rng.normal(size=(6, 6)) * np.array([1, 10, 100, 0.1, 5, 1e3]) + 7.0
    scaler = Standardizer().fit(X)
    pca = PCATransformer(whiten="zca").fit(scaler.transform(X))
    moments = StreamingMoments(covariance=True).update(X[:700]).update(X[700:])
    scaler_m = Standardizer().fit_moments(moments)
    pca_m = PCATransformer(whiten="zca").fit_moments(moments.affine(scaler_m.mean_, scaler_m.scale_))
    np.testing.assert_allclose(scaler_m.mean_, scaler.mean_, rtol=1e-12)
    np.testing.assert_allclose(scaler_m.scale_, scaler.scale_, rtol=1e-9)
    np.testing.assert_allclose(pca_m.whitening_matrix_, pca.whitening_matrix_, atol=1e-6)
    Z = pca_m.transform(scaler_m.transform(X))
    np.testing.assert_allclose(Z, pca.transform(scaler.transform(X)), atol=1e-6)
    # Whitened covariance is diag(lambda / (lambda + epsilon)): the identity up to epsilon's damping.
    np.testing.assert_allclose(np.cov(Z, rowvar=False, bias=True), np.eye(6), atol=1e-3)
