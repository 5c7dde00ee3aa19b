"""Tests of the ``near_duplicates`` check: the search on numeric tables and the near-copy rule on mixed ones."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import dataaudit.checks.near_duplicates  # noqa: F401  (registers the check)
from dataaudit.checks import AuditContext, make_check
from dataaudit.dataset import Dataset
from dataaudit.exceptions import ConfigError


def run_near(frame: pd.DataFrame, label: str | None = None, seed: int = 0, **options: object):
    dataset = Dataset.from_frame(frame, label=label)
    return make_check("near_duplicates", options).run(dataset, AuditContext(seed=seed))


def planted(n_base: int, n_copies: int, d: int, seed: int = 0, noise: float = 1e-3):
    """Gaussian rows plus near copies (noise x column std) of distinct sources, appended at the end."""
    rng = np.random.default_rng(seed)
    base = rng.standard_normal((n_base, d)) * rng.uniform(0.1, 100, d)
    sources = rng.choice(n_base, n_copies, replace=False)
    copies = base[sources] + rng.standard_normal((n_copies, d)) * base.std(axis=0) * noise
    truth = {frozenset({int(s), n_base + k}) for k, s in enumerate(sources)}
    return np.vstack([base, copies]), truth


def precision_recall(groups: list[list[int]], truth: set[frozenset[int]]) -> tuple[float, float]:
    found = {frozenset(g) for g in groups}
    hits = len(found & truth)
    return hits / max(len(found), 1), hits / len(truth)


# ---- the search on numeric tables (exact and LSH) -----------------------------------------------
def frame_of(X: np.ndarray) -> pd.DataFrame:
    return pd.DataFrame({f"x{i}": X[:, i] for i in range(X.shape[1])})


def test_a_group_of_three_and_its_largest_distance():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((100, 4))
    X[60] = X[5] + 1e-4
    X[61] = X[5] - 1e-4  # a group of three: 60 and 61 are linked through 5
    (finding,) = run_near(frame_of(X)).findings
    assert finding.details["groups"] == [[5, 60, 61]] and finding.rows == (60, 61)
    assert finding.details["method"] == "exact"
    # The group's largest distance is between 60 and 61, in standard deviations of each column.
    expected = np.sqrt(((2e-4 / X.std(axis=0)) ** 2).sum())
    assert finding.details["group_max_distance"][0] == pytest.approx(expected, rel=1e-3)


def test_exact_copies_do_not_shrink_the_typical_distance():
    rng = np.random.default_rng(1)
    X = rng.standard_normal((300, 4))
    X[299] = X[3] + 1e-4
    alone = run_near(frame_of(X)).findings[0].details
    crowded = run_near(frame_of(np.vstack([X, np.repeat(X[:150], 3, axis=0)]))).findings[0].details
    assert crowded["groups"] == alone["groups"] == [[3, 299]]
    # The copies join through their first rows; the scale is measured on the distinct rows only.
    assert crowded["typical_nn_distance"] == pytest.approx(alone["typical_nn_distance"], rel=0.2)


def test_identical_rows_are_left_to_the_duplicates_check():
    X = np.random.default_rng(2).standard_normal((20, 3))
    X[1:6] = X[0]  # one crowd of six identical rows: exact copies, not near ones
    result = run_near(frame_of(X))
    assert result.findings == () and result.stats["n_exact_copies_skipped"] == 5
    assert result.row_scores["near_duplicate"][:6].tolist() == [0.0] * 6
    assert (result.row_scores["near_duplicate"][6:] == 1.0).all()


@pytest.mark.parametrize("method", ["exact", "lsh"])
def test_planted_near_copies_quality(method):
    X, truth = planted(3000, 150, 20)
    (finding,) = run_near(frame_of(X), method=method).findings
    precision, recall = precision_recall(finding.details["groups"], truth)
    assert precision >= 0.95 and recall >= 0.95
    assert finding.details["method"] == method


def test_lsh_matches_exact_search_and_is_deterministic():
    X, _ = planted(4000, 200, 12, seed=3)
    frame = frame_of(X)
    exact = run_near(frame, method="exact")
    lsh_a, lsh_b = run_near(frame, method="lsh", seed=7), run_near(frame, method="lsh", seed=7)
    assert lsh_a.stats["n_candidates"] == lsh_b.stats["n_candidates"]
    assert lsh_a.findings[0].details["groups"] == lsh_b.findings[0].details["groups"]
    assert lsh_a.findings[0].details["groups"] == exact.findings[0].details["groups"]


@settings(max_examples=12, deadline=None)
@given(seed=st.integers(0, 2**16), n=st.integers(2, 60))
def test_groups_are_order_independent_and_symmetric(seed, n):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, 3))
    copies = rng.integers(0, n, size=max(1, n // 5))
    X = np.vstack([X, X[copies] + rng.standard_normal((len(copies), 3)) * 1e-5])
    groups = {frozenset(g) for g in groups_of(run_near(frame_of(X)))}
    permutation = rng.permutation(len(X))
    shuffled = groups_of(run_near(frame_of(X[permutation])))
    assert {frozenset(int(permutation[k]) for k in g) for g in shuffled} == groups
    # Symmetric: reversing the rows links the same pairs, seen from the other row.
    m = len(X) - 1
    reversed_groups = groups_of(run_near(frame_of(X[::-1])))
    assert {frozenset(m - k for k in g) for g in reversed_groups} == groups


# ---- the check -----------------------------------------------------------------------------------
def test_check_tiny_fixture_and_exact_copies_left_to_duplicates():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((80, 3))
    X[40] = X[2] * (1 + 1e-5)  # near copy of row 2
    X[41] = X[2]  # exact copy of row 2: reported by `duplicates`, not here
    X[50] = X[9]  # exact copy, no near copy: nothing here
    frame = frame_of(X)
    frame["label"] = rng.choice(["a", "b"], 80)
    frame.loc[41, "label"] = frame.loc[2, "label"]
    result = run_near(frame, label="label")
    (finding,) = result.findings
    assert finding.code == "near_duplicate" and finding.severity == "warning"
    assert finding.details["groups"] == [[2, 40]]
    assert finding.rows == (40,)
    assert finding.details["method"] == "exact"
    assert finding.details["threshold"] == pytest.approx(0.02 * finding.details["typical_nn_distance"])
    assert finding.details["group_max_distance"][0] == pytest.approx(
        np.linalg.norm(Dataset.from_frame(frame, label="label").feature_matrix[0][40]
                       - Dataset.from_frame(frame, label="label").feature_matrix[0][2]), abs=1e-5)
    assert finding.message.startswith("1 row is a near copy of earlier rows (1 group): same categories")
    scores = result.row_scores["near_duplicate"]
    assert scores.shape == (80,) and scores.min() >= 0 and scores.max() <= 1
    assert scores[[2, 41, 9, 50]].tolist() == [0.0, 0.0, 0.0, 0.0]
    assert 0 < scores[40] < 0.02 and scores[0] == 1.0
    assert result.stats["n_exact_copies_skipped"] == 2


@pytest.mark.parametrize("kind", ["gaussian", "uniform", "categorical"])
def test_clean_independent_rows_are_not_flagged(kind):
    rng = np.random.default_rng(0)
    if kind == "gaussian":
        frame = frame_of(rng.standard_normal((5000, 20)))
    elif kind == "uniform":
        frame = frame_of(rng.uniform(size=(5000, 10)))
    else:
        frame = frame_of(rng.standard_normal((5000, 8)))
        for name, k in (("colour", 4), ("size", 3), ("shop", 12)):
            frame[name] = rng.choice([f"{name}_{i}" for i in range(k)], 5000)
    result = run_near(frame)
    assert result.findings == () and result.status == "passed"
    assert result.row_scores["near_duplicate"].min() == 1.0


def test_check_quality_with_categorical_columns():
    X, truth = planted(4000, 200, 15, seed=1)
    frame = frame_of(X)
    rng = np.random.default_rng(1)
    colour = rng.choice(["red", "green", "blue"], 4000)
    frame["colour"] = np.r_[colour, colour[[min(t) for t in sorted(truth, key=max)]]]
    result = run_near(frame, seed=5)
    precision, recall = precision_recall(result.findings[0].details["groups"], truth)
    assert precision >= 0.95 and recall >= 0.95


def test_check_skips_without_features_and_validates_options():
    frame = pd.DataFrame({"text": [f"a long sentence number {i} here" for i in range(30)]})
    result = run_near(frame)
    assert result.status == "skipped"
    with pytest.raises(ConfigError, match="relative_threshold"):
        make_check("near_duplicates", {"relative_threshold": 2.0})
    with pytest.raises(ConfigError, match="method"):
        make_check("near_duplicates", {"method": "kd"})


def test_check_single_row():
    result = run_near(pd.DataFrame({"a": [1.0], "b": [2.0]}))
    assert result.findings == ()


# ---- the near-copy rule on mixed tables (issue 10.2) ---------------------------------------------
def mixed_frame(n: int = 400, seed: int = 0) -> pd.DataFrame:
    """Continuous, integer-valued, categorical and text columns, as real tables have them."""
    rng = np.random.default_rng(seed)
    return pd.DataFrame({
        "height": rng.normal(170, 10, n),
        "weight": rng.normal(70, 12, n),
        "age": rng.integers(18, 90, n).astype(float),
        "visits": rng.poisson(4, n),
        "country": rng.choice(["fr", "de", "it", "es", "nl"], n),
        "note": [f"free text note number {i} about this person" for i in range(n)],
    })


def groups_of(result) -> list[list[int]]:
    return [g for f in result.findings for g in f.details["groups"]]


def test_missing_value_is_not_equal_to_any_number():
    frame = mixed_frame()
    frame.loc[399] = frame.loc[3]
    frame.loc[399, "height"] = frame.loc[3, "height"] * (1 + 1e-6)
    frame.loc[3, "age"] = 28.0
    frame.loc[399, "age"] = np.nan  # the old rule imputed the median and saw distance ~0
    assert [3, 399] not in groups_of(run_near(frame))
    frame.loc[3, "age"] = np.nan  # missing in both: a near copy again
    assert [3, 399] in groups_of(run_near(frame))


def test_mostly_empty_rows_of_different_countries_are_not_near_copies():
    rng = np.random.default_rng(1)
    frame = pd.DataFrame({f"v{i}": rng.normal(size=300) for i in range(24)})
    frame["country"] = rng.choice([f"c{i}" for i in range(40)], 300)
    frame.iloc[:60, :23] = np.nan  # 60 rows with 23 of 25 values empty, one value left
    frame.loc[:59, "v23"] = 1.0
    result = run_near(frame)
    flagged = {m for g in groups_of(result) for m in g}
    same_country = frame.iloc[:60].groupby("country").size()
    # Rows 0-59 are equal in every value but the country: near copies only within one country.
    for group in groups_of(result):
        assert frame.loc[group, "country"].nunique() == 1
    assert len(flagged) <= int((same_country - 1).clip(lower=0).sum()) + len(same_country[same_country > 1])


def test_text_counts_and_different_categories_are_not_near_copies():
    frame = mixed_frame()
    frame.loc[400] = frame.loc[7]
    frame.loc[400, "note"] = "a different text entirely, written by someone else"
    frame.loc[401] = frame.loc[8]
    frame.loc[401, "country"] = "xx" if frame.loc[8, "country"] != "xx" else "yy"
    frame.loc[402] = frame.loc[9]
    frame.loc[402, "height"] += 1e-4  # same text and country: a near copy
    groups = groups_of(run_near(frame))
    assert groups == [[9, 402]]
    # Asked for: near copies may differ in non-numeric values, or in named columns.
    relaxed = groups_of(run_near(frame, match_categories=False))
    assert [7, 400] in relaxed and [8, 401] in relaxed and [9, 402] in relaxed
    named = groups_of(run_near(frame, ignore_columns=["note"]))
    assert [7, 400] in named and [8, 401] not in named


@pytest.mark.parametrize("method", ["exact", "lsh"])
def test_discrete_values_must_match_unless_off_the_grid(method):
    rng = np.random.default_rng(2)
    n = 3000
    frame = pd.DataFrame({"count": rng.integers(0, 40, n), "items": rng.integers(0, 5, n),
                          "price": np.round(rng.uniform(0, 20, n), 2)})
    frame = frame.drop_duplicates().reset_index(drop=True).astype(float)
    m = len(frame)
    # A natural neighbour one cent away, and a copy with float noise.
    frame.loc[m] = frame.loc[0] + [0, 0, 0.01]
    frame.loc[m + 1] = frame.loc[1] + rng.normal(0, 1e-3, 3) * frame.std().to_numpy()
    result = run_near(frame, method=method)
    assert groups_of(result) == [[1, m + 1]]
    assert result.findings[0].details["columns"]["discrete"] == {"count": 1.0, "items": 1.0, "price": 0.01}
    # match_discrete=False compares recorded values by distance: one step is then close enough.
    relaxed = groups_of(run_near(frame, match_discrete=False, relative_threshold=0.05))
    assert any(0 in g and m in g for g in relaxed) and len(relaxed) > 10


def test_jittered_copies_link_to_their_record_not_to_each_other():
    rng = np.random.default_rng(4)
    n = 2000
    frame = pd.DataFrame({"count": rng.integers(0, 500, n), "items": rng.integers(0, 50, n),
                          "price": np.round(rng.uniform(0, 20, n), 2)})
    frame = frame.drop_duplicates().reset_index(drop=True).astype(float)
    m = len(frame)
    std = frame.std().to_numpy()
    # Two jittered copies of row 3 (nearer to each other than to row 3 half the time) and one of row 5.
    frame.loc[m] = frame.loc[3] + rng.normal(0, 1e-3, 3) * std
    frame.loc[m + 1] = frame.loc[3] + rng.normal(0, 1e-3, 3) * std
    frame.loc[m + 2] = frame.loc[5] + rng.normal(0, 1e-3, 3) * std
    groups = groups_of(run_near(frame))
    assert [3, m, m + 1] in groups and [5, m + 2] in groups
    # Without the record, the two jittered copies still find each other.
    alone = frame.drop(index=[3]).reset_index(drop=True)
    assert sorted(groups_of(run_near(alone))) == [[4, m + 1], [m - 1, m]]


def test_jittered_copies_of_neighbouring_records_do_not_chain_them():
    # Counts 0..4999, one record each; a copy of 1000 jittered to 1000.45 and one of 1001 to 1000.7:
    # the copies are nearer to each other (0.25) than the first is to its own record (0.45).
    rng = np.random.default_rng(5)
    items = rng.integers(0, 10, 5000)
    items[1000] = items[1001] = 3
    frame = pd.DataFrame({"count": np.arange(5000.0), "items": items.astype(float)})
    frame.loc[5000] = [1000.45, 3.0]
    frame.loc[5001] = [1000.7, 3.0]
    groups = groups_of(run_near(frame))
    # Each copy links to its nearest recorded value, never through the other copy.
    assert sorted(groups) == [[1000, 5000], [1001, 5001]]


def test_a_jittered_copy_about_equally_near_two_records_goes_to_the_more_frequent_one():
    # Counts 0..399 once each, 167 three times more: a copy at 166.45 is 0.45 from 166 (one row)
    # and 0.55 from 167 (four rows). Twenty other copies jittered by 0.4 set the noise scale, under
    # which 0.45 and 0.55 are about equally likely and the record seen four times is the likelier
    # source; 166.1 is nearer 166 by far more than the noise and stays there.
    counts = [*np.arange(400.0), 167.0, 167.0, 167.0]
    offsets = np.random.default_rng(6).uniform(0.39, 0.41, 20)  # float noise: off the grid
    jittered = [k + (offset if k % 2 else -offset) for k, offset in zip(range(10, 30), offsets, strict=True)]
    frame = pd.DataFrame({"count": [*counts, *jittered, 166.45 + 1e-9, 166.1 + 1e-9]})
    groups = groups_of(run_near(frame))
    n = len(counts) + len(jittered)
    assert [167, n] in groups and [166, n + 1] in groups
    assert all([k, len(counts) + i] in groups for i, k in enumerate(range(10, 30)))


def test_rows_sharing_a_spike_are_judged_on_their_other_columns():
    # 10% of balances are exactly 0 (a spike): rows there differ in income only, where 400 rows
    # have chance neighbours far nearer than the table's two-column chance scale.
    rng = np.random.default_rng(7)
    n = 4000
    balance = rng.lognormal(6, 0.5, n)
    balance[rng.random(n) < 0.1] = 0.0
    frame = pd.DataFrame({"student": rng.choice(["yes", "no"], n), "balance": balance,
                          "income": rng.normal(40_000, 13_000, n)})
    at_zero = np.flatnonzero(balance == 0)
    # A re-saved copy of a row at the spike (income with float noise) and of one off it.
    frame.loc[n] = frame.loc[at_zero[0]]
    frame.loc[n, "income"] *= 1 + 1e-12
    off_zero = int(np.flatnonzero(balance > 0)[0])
    frame.loc[n + 1] = frame.loc[off_zero]
    frame.loc[n + 1, ["balance", "income"]] *= 1 + 1e-12
    result = run_near(frame)
    groups = groups_of(result)
    assert [int(at_zero[0]), n] in groups and [off_zero, n + 1] in groups
    assert all(frame.loc[g, "balance"].ne(0).any() for g in groups if g != [int(at_zero[0]), n])
    assert result.findings[0].details["columns"]["spikes"] == {"balance": [0.0]}
    assert result.stats["n_spike_links_dropped"] > 0


def test_unknown_ignored_column_is_an_error():
    result = make_check("near_duplicates", {"ignore_columns": ["nope"]})
    with pytest.raises(ConfigError, match="nope"):
        result.run(Dataset.from_frame(mixed_frame()), AuditContext())
    with pytest.raises(ConfigError, match="ignore_columns"):
        make_check("near_duplicates", {"ignore_columns": "note"})


def test_independent_integer_and_categorical_rows_are_not_flagged():
    rng = np.random.default_rng(3)
    n = 5000
    frame = pd.DataFrame({"a": rng.integers(0, 10, n), "b": rng.poisson(20, n), "c": rng.normal(size=n),
                          "d": np.round(rng.lognormal(2, 1, n), 2),
                          "shop": rng.choice([f"s{i}" for i in range(8)], n)})
    result = run_near(frame)
    assert result.findings == () and result.status == "passed"


# ---- grids ---------------------------------------------------------------------------------------
def test_grid_steps():
    from dataaudit.checks._near_grid import grid_step

    rng = np.random.default_rng(0)
    assert grid_step(rng.integers(0, 100, 1000).astype(float)).step == 1.0
    assert grid_step(np.round(rng.uniform(0, 50, 1000), 2)).step == 0.01
    assert grid_step(rng.integers(0, 30, 1000) * 10.0).step == 10.0
    assert grid_step(rng.normal(size=1000)) is None
    # Mostly whole years plus months (0.9167): every value written with few digits is on the grid.
    ages = np.r_[rng.integers(1, 80, 990).astype(float), np.full(10, 0.91670001)]
    grid = grid_step(np.r_[ages, ages[:30] + rng.normal(0, 0.01, 30)])
    assert grid is not None and grid.on_grid(ages).all()
    # Values that went through float32 are judged at float32 precision.
    single = np.r_[np.round(rng.uniform(0, 5, 1000), 4)].astype(np.float32).astype(np.float64)
    grid = grid_step(single)
    assert grid is not None and grid.single and grid.on_grid(single).all()
    assert not grid.on_grid(single + 1e-5).any()


def test_mixed_table_groups_do_not_depend_on_row_order():
    rng = np.random.default_rng(4)
    frame = mixed_frame(600, seed=4)
    sources = rng.choice(600, 30, replace=False)
    copies = frame.iloc[sources].copy()
    for column, std in (("height", 10.0), ("weight", 12.0), ("age", 20.0), ("visits", 2.0)):
        copies[column] = copies[column] + rng.normal(0, 1e-3 * std, 30)
    frame = pd.concat([frame, copies], ignore_index=True)
    truth = {frozenset({int(s), 600 + k}) for k, s in enumerate(sources)}
    groups = groups_of(run_near(frame))
    assert {frozenset(g) for g in groups} == truth
    permutation = rng.permutation(len(frame))
    shuffled = groups_of(run_near(frame.iloc[permutation].reset_index(drop=True)))
    assert {frozenset(int(permutation[k]) for k in g) for g in shuffled} == truth


def test_lsh_search_of_a_selection_with_an_extra_column_equals_the_built_matrix():
    """Rows and an extra column given apart, projected in chunks, find the pairs of the whole matrix."""
    from dataaudit.grouping import _lsh_candidates

    rng = np.random.default_rng(0)
    X = rng.standard_normal((3000, 6))
    X[1500:1800] = X[:300] + rng.standard_normal((300, 6)) * 1e-4  # near copies to find
    rows = np.sort(rng.choice(3000, 2500, replace=False))
    extra = rng.integers(0, 3, len(rows)).astype(np.float64) * 50.0
    built = np.column_stack([X[rows], extra])
    options = dict(tables=4, projections=3, bucket_factor=8.0, window=8)
    expected = _lsh_candidates(built, 0.01, np.random.default_rng(1), **options)
    found = _lsh_candidates(X, 0.01, np.random.default_rng(1), rows=rows, extra=extra, chunk=700, **options)
    as_set = lambda pairs: set(zip(*(p.tolist() for p in pairs), strict=True))  # noqa: E731
    assert len(expected[0]) > 100 and as_set(found) == as_set(expected)


def test_grid_positions_are_int32_unless_they_do_not_fit():
    from dataaudit.checks._near_grid import NO_POSITION, grid_cells, grid_step

    rng = np.random.default_rng(0)
    small = rng.integers(0, 1000, 500).astype(np.float64)
    huge = rng.integers(0, 10**6, 500).astype(np.float64) + 3e9  # whole numbers past int32
    small[3], huge[4] = np.nan, np.nan
    small[5] = 7.25  # off the grid
    values = np.column_stack([small, huge])
    grids = [grid_step(values[:, k]) for k in range(2)]
    positions, off = grid_cells(values, grids)
    assert positions[0].dtype == np.int32 and positions[1].dtype == np.float64
    assert positions[0][3] == NO_POSITION and positions[0][5] == NO_POSITION and off[5, 0]
    assert np.isnan(positions[1][4]) and not off[4, 1]
    assert positions[0][0] == small[0] and positions[1][0] * grids[1].step == pytest.approx(huge[0])


@pytest.mark.parametrize("order", ["F", "C"])
def test_standardized_rows_equal_the_whole_standardized_copy_bit_for_bit(order):
    """Rows read from ``Standardized`` are ``standardize(values)``'s rows: same bits, same memory order."""
    from dataaudit.checks._near_search import Standardized, standardize

    rng = np.random.default_rng(0)
    n, d = 20_011, 9  # past NumPy's 8,192-element reduction buffers; the last column alone in a block
    values = np.array(rng.standard_normal((n, d)) * rng.uniform(1e-3, 1e3, d) + rng.uniform(-1e3, 1e3, d),
                      order=order)
    values[rng.random((n, d)) < 0.05] = np.nan
    values[:, 3] = 2.5  # a constant column keeps scale 1
    values[:, 7] = np.nan  # an empty one
    whole = standardize(values)
    mask = rng.random(d) < 0.5
    rows = rng.choice(n, 300, replace=False)

    def memory_order(x: np.ndarray) -> str:
        return "-" if x.ndim < 2 or min(x.shape) < 2 else ("F" if x.strides[0] < x.strides[1] else "C")

    for expected, reader in [(whole, Standardized(values)), (whole[:, mask], Standardized(values).subset(mask))]:
        assert reader.shape == expected.shape and len(reader) == n
        for key in [rows, rows[:7].tolist(), slice(0, n), slice(5, 9000), int(rows[0]), rows[1]]:
            got = reader[key]
            assert got.dtype == np.float64 and np.array_equal(got, expected[key])
            assert memory_order(got) == memory_order(expected[key])
            got[...] = 0.0  # a copy: writing it leaves the values alone
    assert not np.isnan(values[:, 0]).all() and np.array_equal(standardize(values), whole)


def test_columns_printed_at_six_significant_digits_are_continuous():
    from dataaudit.checks._near_grid import grid_step, significant_digits

    rng = np.random.default_rng(1)
    assert list(significant_digits(np.array([72.8989, 0.0578638, 1372.26, 22.0, 0.9167, 1889.5, 3.0]))) == \
        [6, 6, 6, 2, 4, 5, 1]
    printed = np.array([float(f"{v:.6g}") for v in rng.normal(0, 30, 2000)])
    assert grid_step(printed) is None
    # Cents, whole numbers past a million and ages with a few months keep their grid.
    assert grid_step(np.round(rng.uniform(0, 500, 2000), 2)).step == 0.01
    assert grid_step(rng.integers(0, 10**6, 2000) + 3e9).step == 1.0
    ages = np.r_[rng.integers(1, 80, 1980).astype(float), np.full(20, 0.9167)]
    assert grid_step(ages) is not None


def test_near_copies_in_a_csv_written_with_six_significant_digits(tmp_path):
    """A writer's %g (six significant digits) rounds a copy's noise onto the print grid: still found."""
    X, truth = planted(1500, 45, 12, seed=3)
    path = tmp_path / "printed.csv"
    frame_of(X).to_csv(path, index=False, float_format="%.6g")
    frame = pd.read_csv(path)
    result = run_near(frame)
    groups = result.findings[0].details["groups"] if result.findings else []
    assert precision_recall(groups, truth) == (1.0, 1.0)
    assert result.stats["n_discrete"] == 0
