"""The matrices a Dataset shares with its checks: the numbers are held once, and never change."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from dataaudit.dataset import Dataset


def _frame() -> pd.DataFrame:
    rng = np.random.default_rng(0)
    n = 200
    frame = pd.DataFrame({
        "a": rng.standard_normal(n),
        "b": rng.standard_normal(n) * 100,
        "infinite": rng.standard_normal(n),
        "count": rng.integers(0, 1000, n),
        "colour": rng.choice(["red", "blue", "green"], n),
        "label": rng.integers(0, 2, n),
    })
    frame.loc[3, "a"] = np.nan
    frame.loc[5, "infinite"] = np.inf
    return frame


def test_numeric_matrix_is_read_only_and_the_frame_reads_its_float_columns_from_it():
    original = _frame()
    dataset = Dataset.from_frame(original.copy(), label="label")
    assert dataset.numeric_columns == ["a", "b", "infinite", "count"]
    matrix = dataset.numeric_matrix
    expected = original[["a", "b", "infinite", "count"]].to_numpy(dtype=np.float64)
    expected[~np.isfinite(expected)] = np.nan
    np.testing.assert_array_equal(matrix, expected)
    # Same table, same order, same dtypes: the float columns without infinities are now views.
    pd.testing.assert_frame_equal(dataset.frame, original)
    assert np.shares_memory(dataset.frame["a"].to_numpy(), matrix)
    assert np.shares_memory(dataset.frame["b"].to_numpy(), matrix)
    assert not np.shares_memory(dataset.frame["infinite"].to_numpy(), matrix)  # keeps its inf
    assert dataset.frame.loc[5, "infinite"] == np.inf and np.isnan(matrix[5, 2])
    assert dataset.frame["count"].dtype == original["count"].dtype
    with pytest.raises(ValueError):
        matrix[0, 0] = 1.0  # writing it would change the frame
    assert dataset.numeric_matrix is matrix and dataset.feature_matrix[1][:4] == ["a", "b", "infinite", "count"]


def test_a_frame_with_repeated_column_names_is_refused_with_the_names():
    # Every per-column view (roles, the numeric and feature matrices) needs one column per name;
    # the loader refuses such files, and an in-memory frame is refused the same way.
    from dataaudit.exceptions import InputError

    frame = pd.DataFrame(np.arange(80.0).reshape(20, 4), columns=["x", "x", "y", 1])
    frame.columns = ["x", "x", "y", "1"]
    with pytest.raises(InputError, match=r"\['x'\] appear more than once"):
        Dataset(frame=frame, roles={"x": "numeric", "y": "numeric"})
    frame.columns = ["x", "z", "y", 1]
    with pytest.raises(InputError, match="more than once"):
        Dataset.from_frame(frame.rename(columns={1: "y"}))
    assert Dataset.from_frame(frame).columns == ["x", "z", "y", "1"]
