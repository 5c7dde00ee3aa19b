"""Chunked (streamed) fit_transform equals the in-memory fit: statistics 1e-9, whitening 1e-6."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from dataaudit.exceptions import ConfigError
from dataaudit.io.artifacts import load_artifacts
from dataaudit.transforms.fitted import fitted_transform
from dataaudit.transforms.pipeline import TransformConfig, fit_transform, transform


@pytest.fixture(scope="module")
def csv(tmp_path_factory):
    rng = np.random.default_rng(0)
    n = 3000
    root = tmp_path_factory.mktemp("chunk")
    frame = pd.DataFrame({f"x{i}": rng.normal(size=n) * 10 ** (i - 2) + i for i in range(5)})
    frame.loc[rng.choice(n, 90, replace=False), "x2"] = np.nan  # 3 % missing: indicator column
    frame["c"] = rng.choice(["a", "b", "c", "d"], n, p=[0.4, 0.3, 0.2, 0.1])
    frame["y"] = rng.integers(0, 3, n)
    frame = pd.concat([frame, frame.iloc[:25]], ignore_index=True)  # exact duplicates across chunks
    frame.to_csv(root / "d.csv", index=False)
    return root


@pytest.mark.parametrize("whiten", ["pca", "zca"])
def test_chunked_equals_in_memory(csv, whiten) -> None:
    base = {"whiten": whiten, "dtype": "float64", "near_duplicates": False}
    memory = fit_transform(csv / "d.csv", "y", csv / f"mem-{whiten}", config=TransformConfig(**base))
    chunked = fit_transform(csv / "d.csv", "y", csv / f"chunk-{whiten}", config=TransformConfig(chunksize=700, **base))
    assert chunked.sizes == memory.sizes and chunked.quarantine_by_reason == memory.quarantine_by_reason == {"exact_duplicate": 25}
    a, b = load_artifacts(csv / f"mem-{whiten}"), load_artifacts(csv / f"chunk-{whiten}")
    np.testing.assert_allclose(fitted_transform(b).scaler.mean_, fitted_transform(a).scaler.mean_, rtol=0, atol=1e-9)
    np.testing.assert_allclose(fitted_transform(b).scaler.scale_, fitted_transform(a).scaler.scale_, rtol=0, atol=1e-9)
    np.testing.assert_allclose(fitted_transform(b).pca.whitening_matrix_, fitted_transform(a).pca.whitening_matrix_, rtol=0, atol=1e-6)
    for split in ("train", "val", "test"):
        np.testing.assert_array_equal(b.split(split)[2], a.split(split)[2])
        np.testing.assert_allclose(b.split(split)[0], a.split(split)[0], rtol=0, atol=1e-6)
    assert chunked.verification["whitened_cov_max_abs_deviation"] < 1e-3
    # The chunked artifacts transform new data like any others.
    outcome = transform(csv / "d.csv", csv / f"chunk-{whiten}", csv / "new.npz")
    assert outcome.n_quarantined == 0


def test_chunked_refuses_in_memory_input() -> None:
    with pytest.raises(ConfigError, match="pass a path"):
        fit_transform(pd.DataFrame({"a": [1], "y": [0]}), "y", "unused", config=TransformConfig(chunksize=10))
