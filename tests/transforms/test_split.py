"""Group-aware stratified split: exact sizes, seeded, groups never straddle splits."""

from __future__ import annotations

import numpy as np
import pytest

from dataaudit.exceptions import ConfigError
from dataaudit.transforms.split import assign_splits, group_ids, parse_fractions


def test_parse_fractions() -> None:
    assert parse_fractions("0.8,0.1,0.1") == (0.8, 0.1, 0.1)
    assert parse_fractions("0.9,0.1") == (0.9, 0.1, 0.0)
    for bad in ("0.8,0.3,0.1", "a,b,c", "0,0.5,0.5", "-0.1,0.6,0.5"):
        with pytest.raises(ConfigError):
            parse_fractions(bad)


def test_stratified_exact_sizes_with_singleton_groups() -> None:
    y = np.repeat([0, 1], [800, 200])
    split = assign_splits(np.arange(1000), y, (0.8, 0.1, 0.1), seed=0)
    for s, want in enumerate([(640, 160), (80, 20), (80, 20)]):
        assert (np.count_nonzero((split == s) & (y == 0)), np.count_nonzero((split == s) & (y == 1))) == want


def test_seeded_and_seed_dependent() -> None:
    y = np.random.default_rng(0).integers(0, 3, 300)
    a = assign_splits(np.arange(300), y, (0.7, 0.15, 0.15), seed=1)
    assert np.array_equal(a, assign_splits(np.arange(300), y, (0.7, 0.15, 0.15), seed=1))
    assert not np.array_equal(a, assign_splits(np.arange(300), y, (0.7, 0.15, 0.15), seed=2))


def test_groups_never_straddle_splits() -> None:
    rng = np.random.default_rng(0)
    n = 2000
    hashes = rng.integers(0, 700, n)  # many repeated "feature hashes"
    near = [[1, 2, 3], [3, 500], [10, 1500, 1999]]
    groups = group_ids(n, hashes, near)
    split = assign_splits(groups, rng.integers(0, 2, n), (0.8, 0.1, 0.1), seed=0)
    for g in np.unique(groups):
        assert len(np.unique(split[groups == g])) == 1
    assert len({split[r] for r in (1, 2, 3, 500)}) == 1
    assert abs(np.mean(split == 0) - 0.8) < 0.05


def test_group_ids_union() -> None:
    groups = group_ids(6, np.array([7, 8, 7, 9, 10, 11]), [[3, 4]])
    assert groups[0] == groups[2] and groups[3] == groups[4]
    assert len(np.unique(groups)) == 4


def test_regression_and_unlabelled() -> None:
    y = np.linspace(0, 1, 100)
    split = assign_splits(np.arange(100), y, (0.8, 0.1, 0.1), task="regression", seed=0)
    assert np.bincount(split).tolist() == [80, 10, 10]
    split = assign_splits(np.arange(50), None, (0.6, 0.2, 0.2), task=None, seed=0)
    assert np.bincount(split).tolist() == [30, 10, 10]
