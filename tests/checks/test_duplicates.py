"""Tests of exact_duplicate_groups and the ``duplicates`` check (exact copies, conflicting labels)."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import dataaudit.checks.duplicates  # noqa: F401  (registers the check)
from dataaudit import grouping
from dataaudit.audit import run_checks
from dataaudit.checks import AuditContext, make_check
from dataaudit.dataset import Dataset
from dataaudit.exceptions import ConfigError, InputError
from dataaudit.grouping import exact_duplicate_groups


def run_duplicates(frame: pd.DataFrame, label: str | None = "label", **options: object):
    dataset = Dataset.from_frame(frame, label=label)
    return make_check("duplicates", options).run(dataset, AuditContext())


def by_code(result, code):
    found = [f for f in result.findings if f.code == code]
    return found[0] if found else None


# ---- exact_duplicate_groups ----------------------------------------------------------------------
def test_groups_nan_equals_nan_and_signed_zero():
    frame = pd.DataFrame({
        "a": [1.0, np.nan, 1.0, np.nan, -0.0, 0.0, 2.0],
        "b": ["x", None, "x", None, "z", "z", "x"],
    })
    assert exact_duplicate_groups(frame) == [[0, 2], [1, 3], [4, 5]]


def test_groups_on_column_subset_and_triples():
    frame = pd.DataFrame({"a": [5, 1, 5, 5, 2], "b": [0, 1, 2, 3, 4]})
    assert exact_duplicate_groups(frame, ["a"]) == [[0, 2, 3]]
    assert exact_duplicate_groups(frame) == []


def test_groups_single_row_and_empty():
    assert exact_duplicate_groups(pd.DataFrame({"a": [1]})) == []
    assert exact_duplicate_groups(pd.DataFrame({"a": []})) == []


def test_groups_all_nan_column():
    frame = pd.DataFrame({"a": [np.nan] * 4, "b": [1, 2, 1, 3]})
    assert exact_duplicate_groups(frame) == [[0, 2]]
    assert exact_duplicate_groups(frame, ["a"]) == [[0, 1, 2, 3]]


def test_groups_unknown_column_raises():
    with pytest.raises(InputError, match="'nope'"):
        exact_duplicate_groups(pd.DataFrame({"a": [1, 1]}), ["nope"])


def test_hash_collisions_never_merge_different_rows(monkeypatch):
    frame = pd.DataFrame({"a": [1, 2, 1, 2, 3], "b": ["u", "v", "u", "v", "w"]})
    # Every row gets the same hash: the cell-by-cell verification must split the run.
    monkeypatch.setattr(grouping, "hash_rows", lambda f, c=None: np.zeros(len(f), dtype=np.uint64))
    assert exact_duplicate_groups(frame) == [[0, 2], [1, 3]]


def test_mixed_object_cells_are_compared_by_value():
    frame = pd.DataFrame({"a": pd.Series([1, "1", 1, None, None], dtype=object)})
    assert exact_duplicate_groups(frame) == [[0, 2], [3, 4]]


@settings(max_examples=40, deadline=None)
@given(
    cells=st.lists(st.tuples(st.sampled_from([0.0, 1.0, np.nan]), st.sampled_from(["a", "b"])),
                   min_size=1, max_size=30),
    seed=st.integers(0, 2**16),
)
def test_groups_are_order_independent(cells, seed):
    frame = pd.DataFrame(cells, columns=["x", "s"])
    permutation = np.random.default_rng(seed).permutation(len(frame))
    shuffled = frame.iloc[permutation].reset_index(drop=True)
    original = {frozenset(g) for g in exact_duplicate_groups(frame)}
    # Row k of the shuffled frame is row permutation[k] of the original.
    mapped = {frozenset(int(permutation[k]) for k in g) for g in exact_duplicate_groups(shuffled)}
    assert mapped == original
    # Groups partition equal rows: two rows share a group exactly when they are equal.
    member_of = {m: i for i, g in enumerate(exact_duplicate_groups(frame)) for m in g}
    for i in range(len(frame)):
        for j in range(len(frame)):
            equal = all(
                (frame.iat[i, c] == frame.iat[j, c]) or (pd.isna(frame.iat[i, c]) and pd.isna(frame.iat[j, c]))
                for c in range(2)
            )
            same_group = i == j or (i in member_of and member_of.get(i) == member_of.get(j))
            assert equal == same_group


# ---- the check -----------------------------------------------------------------------------------
def tiny_frame() -> pd.DataFrame:
    return pd.DataFrame({
        "a": [1.0, 2.0, 1.0, np.nan, 3.0, np.nan, 3.0, 1.0, 3.0],
        "b": ["x", "y", "x", "z", "w", "z", "w", "x", "w"],
        "label": ["cat", "dog", "cat", "dog", "cat", "dog", "dog", "cat", "bird"],
    })


# The tiny fixtures have two low-cardinality columns: chance explains their repeats (see the
# collision tests below), so the copy mechanics are tested with the chance judgement off.
COPIES = {"collision_alpha": 0.0}


def test_tiny_fixture_exact_and_conflicting():
    result = run_duplicates(tiny_frame(), **COPIES)
    exact = by_code(result, "exact_duplicate")
    assert exact.severity == "warning"
    assert exact.rows == (2, 5, 7)
    assert exact.details["groups"] == [[0, 2, 7], [3, 5]]
    assert exact.message == "3 rows are exact copies of earlier rows (2 groups)."
    assert "action" in exact.details
    conflict = by_code(result, "conflicting_labels")
    assert conflict.severity == "error"
    assert conflict.rows == (6, 8)
    assert conflict.details["groups"] == [[4, 6, 8]]
    assert conflict.details["labels"] == [["cat", "dog", "bird"]]
    assert conflict.message == "1 group of rows has identical features but different labels (3 rows)."
    np.testing.assert_array_equal(result.row_scores["exact_duplicate"], [1, 1, 0, 1, 1, 0, 1, 0, 1])
    np.testing.assert_array_equal(result.row_scores["conflicting_labels"], [1, 1, 1, 1, 1, 1, 0, 1, 0])
    assert result.status == "flagged"
    assert result.stats["n_exact_rows"] == 3 and result.stats["n_conflicting_groups"] == 1


def test_exact_copies_inside_a_conflicting_group():
    frame = pd.DataFrame({"a": [1, 1, 1, 2], "label": ["p", "p", "q", "p"]})
    result = run_duplicates(frame, **COPIES)
    assert by_code(result, "exact_duplicate").details["groups"] == [[0, 1]]
    assert by_code(result, "conflicting_labels").details["groups"] == [[0, 1, 2]]
    assert by_code(result, "conflicting_labels").rows == (1, 2)


def test_missing_label_is_not_a_conflict():
    frame = pd.DataFrame({"a": [1, 1, 1, 2], "label": ["p", None, "p", "q"]})
    result = run_duplicates(frame, **COPIES)
    assert by_code(result, "conflicting_labels") is None
    assert by_code(result, "exact_duplicate").details["groups"] == [[0, 2]]


def test_without_label_only_exact_duplicates():
    frame = tiny_frame().drop(columns="label")
    result = run_duplicates(frame, label=None, **COPIES)
    assert [f.code for f in result.findings] == ["exact_duplicate"]
    assert result.findings[0].details["groups"] == [[0, 2, 7], [3, 5], [4, 6, 8]]
    assert set(result.row_scores) == {"exact_duplicate"}


def test_numeric_label_regression_conflict_is_a_warning():
    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"a": [1.0, 1.0, 2.0] + list(rng.standard_normal(60)),
                          "label": [0.5, 0.7, 0.1] + list(rng.standard_normal(60))})
    result = run_duplicates(frame, **COPIES)
    conflict = by_code(result, "conflicting_labels")
    assert conflict.severity == "warning" and conflict.details["groups"] == [[0, 1]]


def test_id_columns_are_ignored_by_default():
    n = 30
    frame = pd.DataFrame({"row_id": np.arange(n), "a": np.r_[np.arange(n - 1), 3], "label": ["p"] * n})
    dataset = Dataset.from_frame(frame, label="label", id_column="row_id")
    result = make_check("duplicates", COPIES).run(dataset, AuditContext())
    assert by_code(result, "exact_duplicate").details["groups"] == [[3, n - 1]]
    assert by_code(result, "exact_duplicate").details["ignored_columns"] == ["row_id"]
    strict = make_check("duplicates", {"ignore_id_columns": False, **COPIES}).run(dataset, AuditContext())
    assert strict.findings == ()


def test_single_row_and_all_nan_column():
    assert run_duplicates(pd.DataFrame({"a": [1.0], "label": ["p"]})).findings == ()
    frame = pd.DataFrame({"empty": [np.nan] * 5, "a": [1, 2, 1, 3, 4], "label": list("ppqpp")})
    result = run_duplicates(frame, **COPIES)
    assert by_code(result, "conflicting_labels").details["groups"] == [[0, 2]]
    assert by_code(result, "exact_duplicate") is None


def test_clean_table_passes():
    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"a": rng.standard_normal(200), "label": rng.integers(0, 3, 200)})
    result = run_duplicates(frame)
    assert result.status == "passed" and result.findings == ()


def test_unknown_option_is_a_config_error():
    with pytest.raises(ConfigError, match="no option"):
        make_check("duplicates", {"threshold": 1})


def test_planted_duplicates_and_conflicts_precision_recall():
    rng = np.random.default_rng(0)
    n_base = 3000
    base = pd.DataFrame({
        "x": np.round(rng.standard_normal(n_base), 3),
        "y": rng.standard_normal(n_base),
        "colour": rng.choice(["red", "green", "blue"], n_base).astype(object),
        "label": rng.choice(["spam", "ham", "eggs"], n_base),
    })
    base.loc[rng.random(n_base) < 0.1, "x"] = np.nan  # NaN cells, also inside copies
    base.loc[rng.random(n_base) < 0.05, "colour"] = None
    sources = rng.choice(n_base, 200, replace=False)
    exact_src, conflict_src = sources[:120], sources[120:]
    exact_copies = base.iloc[exact_src].copy()
    conflict_copies = base.iloc[conflict_src].copy()
    labels = np.array(["spam", "ham", "eggs"])
    conflict_copies["label"] = [labels[(list(labels).index(v) + 1) % 3] for v in conflict_copies["label"]]
    frame = pd.concat([base, exact_copies, conflict_copies], ignore_index=True)
    permutation = rng.permutation(len(frame))
    frame = frame.iloc[permutation].reset_index(drop=True)
    position = np.argsort(permutation)  # original index -> shuffled row
    expected_exact = {frozenset({int(position[s]), int(position[n_base + k])}) for k, s in enumerate(exact_src)}
    expected_conflict = {
        frozenset({int(position[s]), int(position[n_base + 120 + k])}) for k, s in enumerate(conflict_src)
    }
    result = run_duplicates(frame)
    found_exact = {frozenset(g) for g in by_code(result, "exact_duplicate").details["groups"]}
    found_conflict = {frozenset(g) for g in by_code(result, "conflicting_labels").details["groups"]}
    assert found_exact == expected_exact  # precision and recall 1.0
    assert found_conflict == expected_conflict
    assert set(by_code(result, "exact_duplicate").rows) == {max(g) for g in expected_exact}


def test_runs_through_run_checks_and_serializes():
    result = run_checks(Dataset.from_frame(tiny_frame(), label="label"), checks=["duplicates"], strict=True,
                        options={"duplicates": COPIES})
    data = result.to_dict()
    codes = sorted(f["code"] for f in data["findings"])
    assert codes == ["conflicting_labels", "exact_duplicate"]
    assert data["checks"][0]["status"] == "flagged"


# ---- copies or chance ----------------------------------------------------------------------------
def titanic_like(n: int = 1300, seed: int = 0) -> pd.DataFrame:
    """Three low-cardinality features (like Titanic's sex, age in years, class): repeats by chance."""
    rng = np.random.default_rng(seed)
    age = np.round(rng.gamma(4.0, 7.5, n)).astype(float)
    age[rng.random(n) < 0.2] = np.nan
    return pd.DataFrame({
        "sex": rng.choice(["male", "female"], n, p=[0.64, 0.36]),
        "age": age,
        "cls": rng.choice(["1st", "2nd", "3rd"], n, p=[0.25, 0.21, 0.54]),
        "label": rng.choice(["yes", "no"], n, p=[0.38, 0.62]),
    })


def test_chance_collisions_are_not_copies():
    frame = titanic_like()
    result = run_duplicates(frame)
    assert by_code(result, "exact_duplicate") is None and by_code(result, "conflicting_labels") is None
    collision = by_code(result, "feature_collision")
    assert collision.severity == "info"
    groups = collision.details["groups"]
    assert collision.details["n_groups"] == len(groups) == result.stats["n_collision_groups"] > 50
    assert collision.details["n_groups_with_different_labels"] > 10
    # The evidence: per group observed rows, rows expected by chance, and a p-value above the threshold.
    assert collision.details["observed"] == [len(g) for g in groups]
    assert all(p >= collision.details["threshold"] for p in collision.details["p_value"])
    assert "kept" in collision.message and "expected by chance" in collision.message
    # With the chance judgement off the same groups are copies, as before.
    assert by_code(run_duplicates(frame, **COPIES), "exact_duplicate") is not None


def test_planted_copies_among_chance_collisions_are_found():
    """A few copies of rows with a continuous column stand out even beside many chance collisions."""
    rng = np.random.default_rng(1)
    frame = titanic_like(seed=1)
    frame["fare"] = np.round(rng.lognormal(3.0, 1.0, len(frame)), 4)
    sources = rng.choice(len(frame), 15, replace=False)
    copies = frame.iloc[sources]
    frame = pd.concat([frame, copies], ignore_index=True)
    result = run_duplicates(frame)
    exact = by_code(result, "exact_duplicate")
    conflict = by_code(result, "conflicting_labels")
    found = {frozenset(g) for g in exact.details["groups"]}
    assert found == {frozenset({int(s), len(frame) - 15 + k}) for k, s in enumerate(sources)}
    assert conflict is None and by_code(result, "feature_collision") is None


def test_chance_groups_with_different_labels_are_not_conflicts():
    frame = pd.DataFrame({"a": [1, 2] * 30, "label": list("pq" * 15 + "qp" * 15)})
    result = run_duplicates(frame)  # one column: sharing its value is no evidence of a copy
    assert by_code(result, "conflicting_labels") is None
    assert by_code(result, "feature_collision").details["n_groups_with_different_labels"] == 2
    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"a": rng.integers(0, 3, 300), "b": rng.choice(list("xyz"), 300),
                          "label": rng.choice(list("pq"), 300)})
    result = run_duplicates(frame)
    assert by_code(result, "conflicting_labels") is None and by_code(result, "exact_duplicate") is None
    assert by_code(result, "feature_collision").details["n_groups"] == 9


def test_collision_alpha_is_validated():
    with pytest.raises(ValueError, match="collision_alpha"):
        make_check("duplicates", {"collision_alpha": 1.5})


def test_many_groups_are_linear():
    """The per-group work is vectorized: 20k copy groups with conflicting labels in about a second."""
    rng = np.random.default_rng(0)
    base = pd.DataFrame({f"x{i}": rng.standard_normal(30_000) for i in range(4)})
    frame = base.iloc[rng.integers(0, 30_000, 60_000)].reset_index(drop=True)
    frame["label"] = rng.integers(0, 2, len(frame))
    result = run_duplicates(frame)
    codes = result.stats
    assert codes["n_exact_groups"] > 5_000 and codes["n_conflicting_groups"] > 5_000
    exact = by_code(result, "exact_duplicate")
    # Every listed group really is equal on the features and the label.
    for group in exact.details["groups"][:200]:
        rows = frame.iloc[group]
        assert (rows.nunique(dropna=False) == 1).all()


def test_report_counts_collisions_apart_from_duplicates():
    from dataaudit.report.render import render_report

    audit = run_checks(Dataset.from_frame(titanic_like(), label="label"), checks=["duplicates"], strict=True)
    html = render_report(audit)
    assert "Shared feature values (chance)" in html
    assert re.search(r"0 duplicate row\(s\) in 0 group\(s\); \d+ group\(s\) share values by chance \(kept\)", html)
