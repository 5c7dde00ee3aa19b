"""Group-aware, stratified, seeded train/validation/test assignment.

Whole groups (feature-identical rows, near-duplicate groups) go to one split, so no group
straddles a split. Within each stratum (class for classification, a quantile bin of the target
for regression, one stratum without a label) the groups are shuffled with the seed and laid end
to end; a group goes to the split whose share of the stratum its first row falls in. With
singleton groups this is an exact stratified split (the same cut points as a shuffled
``train_test_split(stratify=y)``); large groups can only move a boundary by their size.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from dataaudit.exceptions import ConfigError

__all__ = ["parse_fractions", "group_ids", "assign_splits", "SPLIT_NAMES", "MIN_EVAL_ROWS", "MIN_EVAL_CLASS_ROWS",
           "small_split_problem", "small_split_warnings"]

SPLIT_NAMES: tuple[str, str, str] = ("train", "val", "test")
# Regression targets are stratified by this many quantile bins.
N_REGRESSION_BINS = 10
# Below these a validation or test split is too small to judge a model on: one row of 9 moves
# accuracy by 11 points, and a class with 0 or 1 rows there says nothing about that class.
MIN_EVAL_ROWS = 30
MIN_EVAL_CLASS_ROWS = 2


def parse_fractions(value: str | tuple[float, ...] | list[float]) -> tuple[float, float, float]:
    """``"0.8,0.1,0.1"`` (or a sequence) -> (train, val, test) fractions summing to 1.

    Raises
    ------
    ConfigError
        Wrong count, negative values, a zero train fraction or a sum other than 1.
    """
    if isinstance(value, str):
        parts = [p for p in value.replace(" ", "").split(",") if p]
        try:
            numbers = [float(p) for p in parts]
        except ValueError as exc:
            raise ConfigError(f"--split {value!r} must be three numbers like 0.8,0.1,0.1.") from exc
    else:
        numbers = [float(v) for v in value]
    if len(numbers) == 2:
        numbers.append(0.0)
    if len(numbers) != 3 or any(not np.isfinite(v) or v < 0 for v in numbers) or numbers[0] <= 0:
        raise ConfigError(
            f"split {value!r} must be train,val,test fractions (e.g. 0.8,0.1,0.1): three "
            "non-negative numbers with train > 0."
        )
    if abs(sum(numbers) - 1.0) > 1e-6:
        raise ConfigError(f"split fractions {numbers} sum to {sum(numbers):.6g}; they must sum to 1.")
    return numbers[0], numbers[1], numbers[2]


def group_ids(n_rows: int, *groupings: list[np.ndarray] | list[list[int]] | np.ndarray) -> np.ndarray:
    """One group id per row such that rows sharing any grouping share an id (union of groupings).

    Each grouping is either an int array of length ``n_rows`` (equal values = same group, e.g.
    a feature hash) or a list of row lists. Connected components join overlapping groups.
    """
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    arrays = [g for g in groupings if isinstance(g, np.ndarray)]
    if len(arrays) == 1 and all(isinstance(g, np.ndarray) or not len(g) for g in groupings):
        # One key per row and no explicit groups: the groups are the distinct keys (no graph needed).
        return pd.factorize(arrays[0])[0].astype(np.int64)
    sources: list[np.ndarray] = []
    targets: list[np.ndarray] = []
    for grouping in groupings:
        if isinstance(grouping, np.ndarray):
            codes = pd.factorize(grouping)[0]
            first = pd.Series(np.arange(n_rows)).groupby(codes).transform("first").to_numpy()
            linked = first != np.arange(n_rows)
            sources.append(np.flatnonzero(linked))
            targets.append(first[linked])
        else:
            for group in grouping:
                members = np.asarray(group, dtype=np.int64)
                members = members[(members >= 0) & (members < n_rows)]
                if len(members) > 1:
                    sources.append(members[1:])
                    targets.append(np.full(len(members) - 1, members[0]))
    if not sources or not sum(len(s) for s in sources):
        return np.arange(n_rows, dtype=np.int64)
    src = np.concatenate(sources)
    dst = np.concatenate(targets)
    graph = coo_matrix((np.ones(len(src), dtype=np.int8), (src, dst)), shape=(n_rows, n_rows))
    _, labels = connected_components(graph, directed=False)
    return labels.astype(np.int64)


def _strata(y: np.ndarray | None, task: str | None, n: int) -> np.ndarray:
    if y is None or task is None:
        return np.zeros(n, dtype=np.int64)
    if task == "regression":
        values = pd.Series(np.asarray(y, dtype=np.float64))
        bins = pd.qcut(values.rank(method="first"), q=min(N_REGRESSION_BINS, max(n, 1)), labels=False)
        return bins.fillna(-1).to_numpy(dtype=np.int64)
    return pd.factorize(pd.Series(y))[0].astype(np.int64)


def assign_splits(
    groups: np.ndarray,
    y: np.ndarray | None,
    fractions: tuple[float, float, float],
    *,
    task: str | None = "classification",
    seed: int = 0,
) -> np.ndarray:
    """Assign every row to train (0), val (1) or test (2), keeping groups together.

    Parameters
    ----------
    groups : ndarray of shape (n,)
        Group id per row (``group_ids``).
    y : ndarray of shape (n,) or None
        Labels used for stratification (a group is stratified by its first row's label).
    fractions : (train, val, test)
        Target shares (``parse_fractions``).
    task : "classification", "regression" or None
    seed : int
        Same inputs and seed give the same assignment.

    Returns
    -------
    ndarray of int8, shape (n,)
    """
    n = len(groups)
    if n == 0:
        return np.zeros(0, dtype=np.int8)
    strata = _strata(y, task, n)
    # Per group (sorted by group id): its size and the stratum of its first row. NumPy arrays of
    # the group count, not DataFrames of every row, so millions of rows stay cheap in memory.
    _, first_row, codes = np.unique(groups, return_index=True, return_inverse=True)
    n_groups = len(first_row)
    group_size = np.bincount(codes, minlength=n_groups)
    group_stratum = strata[first_row]
    rng = np.random.default_rng(seed)
    # Shuffle groups, then lay them end to end within their stratum (stable sort keeps the shuffle).
    order = rng.permutation(n_groups)
    order = order[np.argsort(group_stratum[order], kind="stable")]
    sizes = group_size[order]
    stratum = group_stratum[order]
    begin = np.cumsum(sizes) - sizes
    # Strata are contiguous after the sort: each starts where its first group starts.
    _, stratum_first, stratum_index = np.unique(stratum, return_index=True, return_inverse=True)
    stratum_start = begin[stratum_first][stratum_index]
    stratum_total = np.bincount(stratum_index, weights=sizes)[stratum_index]
    start_in_stratum = begin - stratum_start
    # Cut points like train_test_split: round the val and test counts, train gets the rest.
    n_test = np.floor(stratum_total * fractions[2] + 0.5)
    n_val = np.floor(stratum_total * fractions[1] + 0.5)
    cut_train = stratum_total - n_test - n_val
    assignment = np.where(start_in_stratum < cut_train, 0, np.where(start_in_stratum < cut_train + n_val, 1, 2))
    group_split = np.empty(n_groups, dtype=np.int8)
    group_split[order] = assignment
    return group_split[codes]


def small_split_problem(y: np.ndarray, task: str | None, n_classes: int = 0,
                        classes: list[object] | None = None) -> str | None:
    """Why an evaluation split with labels ``y`` is too small to judge a model, or None.

    Too small: fewer than ``MIN_EVAL_ROWS`` rows, or (classification, ``n_classes`` > 0) a class
    with fewer than ``MIN_EVAL_CLASS_ROWS`` rows in it (absent counts as 0). An empty split is
    not judged here (nothing is evaluated on it).
    """
    y = np.asarray(y)
    n = len(y)
    if n == 0:
        return None
    problems = []
    if n < MIN_EVAL_ROWS:
        problems.append(f"{n} rows (fewer than {MIN_EVAL_ROWS})")
    if task == "classification" and n_classes > 0:
        codes = y.astype(np.int64)
        counts = np.bincount(codes[codes >= 0], minlength=n_classes)[:n_classes]
        thin = [i for i in range(n_classes) if counts[i] < MIN_EVAL_CLASS_ROWS]
        if thin:
            names = classes if classes is not None and len(classes) == n_classes else list(range(n_classes))
            listed = ", ".join(f"{names[i]!s}: {int(counts[i])}" for i in thin[:10])
            more = f" and {len(thin) - 10} more" if len(thin) > 10 else ""
            problems.append(f"{len(thin)} of {n_classes} classes with fewer than {MIN_EVAL_CLASS_ROWS} rows "
                            f"({listed}{more})")
    return "; ".join(problems) or None


def small_split_warnings(labels: dict[str, np.ndarray], task: str | None,
                         classes: list[object] | None = None) -> list[str]:
    """One warning line per evaluation split (``val``, ``test``) too small to judge a model on."""
    n_classes = len(classes or []) if task == "classification" else 0
    lines = []
    for name in ("val", "test"):
        if name not in labels:
            continue
        problem = small_split_problem(labels[name], task, n_classes, classes)
        if problem:
            word = "validation" if name == "val" else "test"
            lines.append(
                f"TOO SMALL TO JUDGE: the {word} split has {problem}; a train/val gap or a score "
                f"from it is mostly noise. Get more data, give it a larger share "
                f"(--split, e.g. 0.6,0.2,0.2, or your own --val/--test file), or use cross-validation "
                f"outside dataaudit."
            )
    return lines
