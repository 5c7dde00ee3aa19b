"""TabularEncoder: imputation + indicators, one-hot with unknowns, datetimes, dropped columns, state."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd

from dataaudit.transforms.encoding import TabularEncoder

ROLES = {"x": "numeric", "m": "numeric", "c": "categorical", "d": "datetime", "id": "id",
         "k": "constant", "t": "text", "y": "label"}


def _frame() -> pd.DataFrame:
    return pd.DataFrame({
        "x": [1.0, 2.0, np.nan, 4.0],
        "m": [1.0, 1.0, 3.0, 5.0],
        "c": ["a", "b", "a", None],
        "d": ["2024-01-01", "2024-02-03", "2023-12-31", "2024-03-04"],
        "id": [10, 11, 12, 13],
        "k": [7, 7, 7, 7],
        "t": ["one long text", "another long text", "x y z w", "words words words words"],
        "y": [0, 1, 0, 1],
    })


def test_fit_transform_exact_values() -> None:
    enc = TabularEncoder(ROLES, "y").fit(_frame())
    assert enc.get_feature_names_out() == [
        "x", "x__missing", "m", "d__year", "d__month", "d__dayofweek", "d__ordinal",
        "c=a", "c=b", "c=__missing__",
    ]
    X = enc.transform(_frame())
    np.testing.assert_array_equal(X[:, 0], [1.0, 2.0, 2.0, 4.0])  # median of 1, 2, 4
    np.testing.assert_array_equal(X[:, 1], [0, 0, 1, 0])
    np.testing.assert_array_equal(X[:, 3:7][0], [2024, 1, 0, 19723])  # Monday 2024-01-01
    np.testing.assert_array_equal(X[:, 7:], [[1, 0, 0], [0, 1, 0], [1, 0, 0], [0, 0, 1]])
    assert enc.dropped_ == {"id": "id", "k": "constant", "t": "text"}
    assert "ID-like" in enc.dropped_with_reasons()["id"]


def test_fit_on_rows_only() -> None:
    enc = TabularEncoder(ROLES, "y").fit(_frame(), rows=np.array([0, 1]))
    assert enc.numeric_[0]["median"] == 1.5
    assert enc.numeric_[0]["indicator"] is False  # no missing value in the training rows


def test_unknown_categories_are_zero_and_counted() -> None:
    enc = TabularEncoder(ROLES, "y").fit(_frame())
    new = _frame()
    new.loc[0, "c"] = "zzz"
    X = enc.transform(new)
    np.testing.assert_array_equal(X[0, 7:], [0, 0, 0])
    assert enc.unknown_counts_ == {"c": 1}


def test_indicator_threshold_and_mostly_missing() -> None:
    n = 1000
    values = np.arange(n, dtype=float)
    values[:5] = np.nan  # 0.5 % missing: no indicator
    rare = values.copy()
    mostly = np.full(n, np.nan)
    mostly[:3] = 1.0  # 99.7 % missing: dropped
    frame = pd.DataFrame({"a": values, "b": mostly})
    enc = TabularEncoder({"a": "numeric", "b": "numeric"}).fit(frame)
    assert enc.get_feature_names_out() == ["a"]
    assert enc.dropped_ == {"b": "mostly_missing"}
    del rare


def test_many_categories_share_other() -> None:
    frame = pd.DataFrame({"c": list("aaabbc") + ["d"]})
    enc = TabularEncoder({"c": "categorical"}, max_categories=2).fit(frame)
    assert enc.get_feature_names_out() == ["c=a", "c=b", "c=__other__"]
    np.testing.assert_array_equal(enc.transform(pd.DataFrame({"c": ["c", "new"]})), [[0, 0, 1], [0, 0, 1]])


def test_state_round_trip_through_json() -> None:
    enc = TabularEncoder(ROLES, "y").fit(_frame())
    state = json.loads(json.dumps(enc.get_state()))
    again = TabularEncoder.from_state(state)
    np.testing.assert_array_equal(again.transform(_frame()), enc.transform(_frame()))
