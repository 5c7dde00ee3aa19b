"""Duplicate groups: exact copies of table rows, and the search primitives of near copies.

The row-identity rule lives here, once: two rows are the same record when equal on the identity
columns (``identity_columns``: all but the label and the ID columns). The duplicate, near-duplicate
and train/test-overlap checks, fit-transform's cleaning, its split (duplicate groups never
straddle splits) and chunked mode (``StreamingRowHasher``) all use it, so they agree on a group.

Exact groups hash each row column by column (``pandas.util.hash_array``, O(n)), sort the hashes and
compare hash-equal rows cell by cell: a hash collision never merges different rows. NaN equals NaN
and -0.0 equals 0.0.

The near-copy rule (``checks/_near_search.py``, used by the near-duplicate and train/test-overlap
checks) builds on the search primitives at the end of this module: candidate pairs from
Euclidean locality-sensitive hashing (random projections quantized into buckets, several tables,
a sort-and-window pass per table), exact pair distances that verify every candidate (precision
does not depend on the hashing, only recall does), and the connected components of the links.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np
import pandas as pd

from dataaudit.exceptions import InputError

if TYPE_CHECKING:
    from dataaudit.dataset import Dataset

__all__ = [
    "identity_columns",
    "identity_columns_of",
    "cell_hashes",
    "exact_group_codes",
    "groups_from_codes",
    "StreamingRowHasher",
    "exact_duplicate_groups",
    "hash_rows",
    "pair_distances",
    "DEFAULT_RELATIVE_THRESHOLD",
    "EXACT_SEARCH_MAX_ROWS",
]

# A pair is a near duplicate when closer than this share of the typical nearest-neighbour distance.
# With n independent rows of effective dimension d one expects about n * t**d / 2 pairs closer than
# t times the typical distance: for t = 0.02 that is < 0.01 for d >= 4 at n = 5,000 and for d >= 8
# at n = 1,000,000, while copies with noise of 1e-3 x each column's std sit at ~0.002 x typical.
DEFAULT_RELATIVE_THRESHOLD = 0.02
# Below this many rows the radius search is exact (brute force); above it LSH finds candidates.
EXACT_SEARCH_MAX_ROWS = 20_000
# Rows sampled to estimate the typical nearest-neighbour distance.
DEFAULT_SAMPLE_SIZE = 256
# LSH parameters (see ``_lsh_candidates``): tables, projections per table, bucket width / radius,
# and how many following rows in a sorted bucket each row is compared with.
LSH_TABLES = 6
LSH_PROJECTIONS = 5
LSH_BUCKET_FACTOR = 8.0
LSH_WINDOW = 16

_HASH_MULTIPLIER = np.uint64(0x9E3779B97F4A7C15)
_KEY_MULTIPLIER = np.int64(1_000_003)


# ---- the row-identity rule -----------------------------------------------------------------------
def identity_columns(dataset: Dataset, *, ignore_id_columns: bool = True) -> list[str]:
    """Columns that say whether two rows are the same record: all but the label and ID columns.

    ID columns are unique per row by definition, so comparing them would hide every copy. The
    entity column (``Dataset.group``) is compared: rows of two patients are two records.
    """
    return identity_columns_of(dataset.columns, dataset.roles, dataset.label, dataset.id_column,
                               ignore_id_columns=ignore_id_columns, group=getattr(dataset, "group", None))


def identity_columns_of(columns: Sequence[str], roles: Mapping[str, str], label: str | None,
                        id_column: str | None = None, *, ignore_id_columns: bool = True,
                        group: str | None = None) -> list[str]:
    """``identity_columns`` from column names and roles (the chunked fit has no Dataset)."""
    return [
        c for c in columns
        if c != label and (c == group or not (ignore_id_columns and (roles.get(c) == "id" or c == id_column)))
    ]


# ---- exact groups --------------------------------------------------------------------------------
_EXACT_INT = 2**53  # integers up to this size are exactly representable as float64


def cell_hashes(series: pd.Series) -> np.ndarray:
    """uint64 hash per cell; floats are normalized so that -0.0 == 0.0 and every NaN is one NaN.

    Integers that a float64 holds exactly hash like the equal float, so a column read as int in
    one chunk and as float (because of a missing cell) in another still matches.
    """
    dtype = series.dtype
    if isinstance(dtype, np.dtype) and dtype.kind in "iu" and len(series):
        values = series.to_numpy()
        if -_EXACT_INT < int(values.min()) and int(values.max()) < _EXACT_INT:
            return pd.util.hash_array(values.astype(np.float64) + 0.0)
    if pd.api.types.is_float_dtype(dtype) and isinstance(dtype, np.dtype):
        values = series.to_numpy(dtype=np.float64) + 0.0  # adding 0.0 turns -0.0 into 0.0
        values[np.isnan(values)] = np.nan  # one NaN bit pattern, whatever the payload
        return pd.util.hash_array(values)
    return pd.util.hash_pandas_object(series, index=False).to_numpy(dtype=np.uint64)


def hash_rows(frame: pd.DataFrame, columns: Sequence[str] | None = None) -> np.ndarray:
    """One uint64 hash per row of ``frame[columns]`` (all columns by default).

    Equal rows (NaN equal to NaN) always get equal hashes; different rows almost never do.
    """
    columns = list(frame.columns) if columns is None else list(columns)
    hashed = np.zeros(len(frame), dtype=np.uint64)
    for position, column in enumerate(columns):
        # Multiply-xor chaining (as in tuple hashing) so that column order matters.
        hashed = (hashed * _HASH_MULTIPLIER) ^ cell_hashes(frame[column]) ^ np.uint64(position + 1)
    return hashed


def _cells_equal(series: pd.Series, left: np.ndarray, right: np.ndarray) -> np.ndarray:
    """Boolean per pair: is series[left[k]] equal to series[right[k]] (NaN equal to NaN)?"""
    a = series.iloc[left].reset_index(drop=True)
    b = series.iloc[right].reset_index(drop=True)
    both_missing = (a.isna() & b.isna()).to_numpy(dtype=bool)
    try:
        equal = (a == b).fillna(False).to_numpy(dtype=bool)
    except TypeError:  # cells that refuse to compare (e.g. unordered mixed objects) are different
        equal = np.array([x == y for x, y in zip(a, b, strict=True)], dtype=bool)
    return equal | both_missing


def _cell_key(value: object) -> object:
    return ("<missing>",) if pd.isna(value) else value  # type: ignore[call-overload]


def _split_collided(frame: pd.DataFrame, columns: list[str], members: np.ndarray) -> list[list[int]]:
    """Exact grouping of rows whose hashes are equal but whose cells are not all equal (a collision)."""
    sub = frame[columns].iloc[members]
    by_key: dict[tuple[object, ...], list[int]] = {}
    for row, values in zip(members.tolist(), sub.itertuples(index=False, name=None), strict=True):
        by_key.setdefault(tuple(_cell_key(v) for v in values), []).append(int(row))
    return [group for group in by_key.values() if len(group) > 1]


def exact_group_codes(frame: pd.DataFrame, columns: Sequence[str] | None = None) -> np.ndarray:
    """One code per row: rows equal in ``columns`` share a code; rows equal to no other row get -1.

    Codes number the groups 0, 1, ... by first member. Linear in the rows (one hash per row, one
    sort, one cell-by-cell check of hash-equal rows), whatever the number of groups. NaN equals
    NaN and -0.0 equals 0.0; a hash collision never merges different rows.

    Raises
    ------
    InputError
        When a requested column is not in ``frame``.
    """
    columns = list(frame.columns) if columns is None else list(columns)
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise InputError(
            f"Columns {missing} are not in the table; its columns are {list(frame.columns)}. "
            "Pass existing column names."
        )
    n = len(frame)
    codes = np.full(n, -1, dtype=np.int64)
    if n < 2:
        return codes
    hashes = hash_rows(frame, columns)
    order = np.argsort(hashes, kind="stable")  # stable: members stay in ascending row order
    sorted_hashes = hashes[order]
    starts = np.flatnonzero(np.r_[True, sorted_hashes[1:] != sorted_hashes[:-1]])
    sizes = np.diff(np.r_[starts, n])
    multi = sizes > 1
    if not multi.any():
        return codes
    run_starts, run_sizes = starts[multi], sizes[multi]
    # Compare every member with its run's first row, column by column (cheap, vectorized).
    run_of_member = np.repeat(np.arange(len(run_starts)), run_sizes)
    offsets = np.arange(int(run_sizes.sum())) - np.repeat(np.cumsum(run_sizes) - run_sizes, run_sizes)
    members = order[np.repeat(run_starts, run_sizes) + offsets]
    firsts = order[np.repeat(run_starts, run_sizes)]
    equal = np.ones(len(members), dtype=bool)
    for column in columns:
        equal &= _cells_equal(frame[column], firsts, members)
    clean_runs = np.ones(len(run_starts), dtype=bool)
    clean_runs[run_of_member[~equal]] = False
    # Provisional code per member: its run; runs with a hash collision are regrouped exactly.
    provisional = np.full(n, -1, dtype=np.int64)
    clean_member = clean_runs[run_of_member]
    provisional[members[clean_member]] = firsts[clean_member]
    for k in np.flatnonzero(~clean_runs):
        block = order[run_starts[k]: run_starts[k] + run_sizes[k]]
        for group in _split_collided(frame, columns, block):
            provisional[group] = group[0]
    # Renumber by first member: the key is the group's first row, so sorting keys orders groups.
    grouped = provisional >= 0
    _, dense = np.unique(provisional[grouped], return_inverse=True)
    codes[grouped] = dense
    return codes


def groups_from_codes(codes: np.ndarray) -> list[list[int]]:
    """Row lists (members ascending, groups ordered by first member) from ``exact_group_codes``."""
    grouped = np.flatnonzero(codes >= 0)
    if not len(grouped):
        return []
    order = grouped[np.argsort(codes[grouped], kind="stable")]
    bounds = [0, *(np.flatnonzero(np.diff(codes[order])) + 1).tolist(), len(order)]
    rows = order.tolist()  # one conversion, then slices: no array per group
    return [rows[a:b] for a, b in zip(bounds[:-1], bounds[1:], strict=True)]


def exact_duplicate_groups(frame: pd.DataFrame, columns: Sequence[str] | None = None) -> list[list[int]]:
    """Groups of rows that are equal in ``columns`` (all columns by default).

    Parameters
    ----------
    frame : DataFrame
        The table. Rows are identified by position (0-based), which equals the data-row number
        for a ``Dataset.frame``.
    columns : sequence of str, optional
        Columns to compare; default all. An empty list makes every row equal.

    Returns
    -------
    list of list of int
        Every group with at least two rows, members ascending, groups ordered by first member.
        NaN equals NaN and -0.0 equals 0.0 (see ``exact_group_codes``, which raises InputError
        for a column not in ``frame``).

    Examples
    --------
    >>> import pandas as pd
    >>> exact_duplicate_groups(pd.DataFrame({"a": [1, 2, 1, 1], "b": [None, 0, None, 3]}))
    [[0, 2]]
    """
    return groups_from_codes(exact_group_codes(frame, columns))


class StreamingRowHasher:
    """The row-identity hash of a table read chunk by chunk, on the same columns as in memory.

    Which columns are IDs is known only once the whole file was seen (roles come from a sample),
    so each chunk gets one hash of the columns that cannot be an ID and one per possible ID column
    (integer or text columns unique within the first chunk, or ``id_column``); ``finish(id_columns)``
    chains the possible ones that are not IDs into the row hash. Equal rows get equal hashes (not
    ``hash_rows``'s numbers: a chunked run compares its hashes only with each other).
    """

    def __init__(self, label: str | None, id_column: str | None = None) -> None:
        self.label = label
        self.id_column = id_column
        self.columns: list[str] | None = None
        self.candidates: list[str] = []
        self._base: list[np.ndarray] = []
        self._candidate_hashes: dict[str, list[np.ndarray]] = {}
        self._label: list[np.ndarray] = []

    def update(self, chunk: pd.DataFrame) -> None:
        """Hash one chunk (its rows follow the previous chunk's)."""
        if self.columns is None:
            self.columns = [str(c) for c in chunk.columns]
            self.candidates = [c for c in self.columns if c != self.label and _may_be_id(chunk[c], c, self.id_column)]
            self._candidate_hashes = {c: [] for c in self.candidates}
        fixed = [c for c in self.columns if c != self.label and c not in self._candidate_hashes]
        self._base.append(hash_rows(chunk, fixed))
        for column in self.candidates:
            self._candidate_hashes[column].append(cell_hashes(chunk[column]))
        if self.label is not None:
            self._label.append(cell_hashes(chunk[self.label]))

    def finish(self, id_columns: Sequence[str]) -> tuple[np.ndarray, np.ndarray | None]:
        """(identity hash, identity and label hash or None); an ID that was no candidate stays compared."""
        hashed = np.concatenate(self._base) if self._base else np.zeros(0, dtype=np.uint64)
        for position, column in enumerate(self.candidates):
            if column not in id_columns:
                cells = np.concatenate(self._candidate_hashes[column])
                hashed = (hashed * _HASH_MULTIPLIER) ^ cells ^ np.uint64(len(self.candidates) + position + 1)
        if self.label is None:
            return hashed, None
        return hashed, (hashed * _HASH_MULTIPLIER) ^ np.concatenate(self._label)


def _may_be_id(values: pd.Series, name: str, id_column: str | None) -> bool:
    """Could this column be an ID of the whole file (seen its first chunk)? Generous: a miss costs copies."""
    from dataaudit.dataset import _named_like_id

    if pd.api.types.is_float_dtype(values) or pd.api.types.is_bool_dtype(values):
        return name == id_column  # floats and booleans are never inferred to be IDs
    return name == id_column or _named_like_id(name) or bool(values.nunique(dropna=False) >= 0.5 * len(values))


# ---- near-copy search primitives ----------------------------------------------------------------
class Rows(Protocol):
    """What the search reads rows of: a float64 matrix, or one standardized row by row on reading."""

    @property
    def shape(self) -> tuple[int, ...]: ...

    @property
    def dtype(self) -> np.dtype[Any]: ...

    def __len__(self) -> int: ...

    def __getitem__(self, rows: Any) -> Any: ...


def pair_distances(X: Rows, left: np.ndarray, right: np.ndarray, chunk: int = 1 << 16) -> np.ndarray:
    """Euclidean distance of each (left[k], right[k]) pair, from differences (no cancellation)."""
    out = np.empty(len(left), dtype=np.float64)
    for start in range(0, len(left), chunk):
        stop = start + chunk
        diff = X[left[start:stop]].astype(np.float64) - X[right[start:stop]]
        out[start:stop] = np.sqrt(np.einsum("ij,ij->i", diff, diff))
    return out


def _lsh_candidates(X: Rows, radius: float, rng: np.random.Generator, *, tables: int,
                    projections: int, bucket_factor: float, window: int, rows: np.ndarray | None = None,
                    extra: np.ndarray | None = None, chunk: int = 1 << 16) -> tuple[np.ndarray, np.ndarray]:
    """Candidate pairs from Euclidean LSH: rows sharing a bucket in some table.

    Each table projects the rows on ``projections`` Gaussian directions and cuts every projection
    into buckets of width ``bucket_factor * radius`` with a random offset; a pair at distance
    ``r <= radius`` shares a bucket in one direction with probability about
    ``1 - 0.8 * r / width`` (>= 0.9 here), far rows almost never share all of them. Rows are sorted
    by (bucket, one more projection) and each is paired with the next ``window`` rows of its bucket,
    which bounds the work even when a bucket is crowded.

    The rows searched are ``X[rows]`` (all of ``X`` by default) with ``extra``, when given, as one
    more column; returned pairs are positions in that selection. The selection is projected in
    chunks of ``chunk`` rows and never built whole (at a million rows of 40 columns it would be a
    third of a gigabyte).
    """
    n = len(X) if rows is None else len(rows)
    d = X.shape[1] + (0 if extra is None else 1)
    width = bucket_factor * radius
    per_table = projections + 1
    # One pass over X for all tables: X is read once, not once per table.
    directions = rng.standard_normal((d, tables * per_table)).astype(X.dtype)
    shifts = rng.uniform(0.0, width, (tables, projections))
    # Per table, only what the search needs is kept: the bucket key and the one projection that
    # orders crowded buckets (not every projection of every row).
    keys = np.empty((n, tables), dtype=np.int64, order="F")
    tiebreak = np.empty((n, tables), dtype=np.float64, order="F")
    for start in range(0, n, chunk):
        stop = min(start + chunk, n)
        selected = X[start:stop] if rows is None else X[rows[start:stop]]
        if extra is None:
            projected_chunk = selected @ directions
        else:
            projected_chunk = selected @ directions[:-1]
            projected_chunk += extra[start:stop, None] * directions[-1]
        for table in range(tables):
            projected = projected_chunk[:, table * per_table: (table + 1) * per_table]
            buckets = np.floor((projected[:, :projections] + shifts[table]) / width).astype(np.int64)
            key = buckets[:, 0].copy()
            for column in range(1, projections):
                key = key * _KEY_MULTIPLIER + buckets[:, column]  # wraps on overflow; verified later
            keys[start:stop, table] = key
            tiebreak[start:stop, table] = projected[:, projections]
    lefts: list[np.ndarray] = []
    rights: list[np.ndarray] = []
    for table in range(tables):
        key = keys[:, table]
        order = np.argsort(key)
        sorted_key = key[order]
        # Crowded buckets (more rows than the window reaches) are ordered by one more projection,
        # so that the window pairs rows that are close along it; sorting only those is cheap.
        starts = np.flatnonzero(np.r_[True, sorted_key[1:] != sorted_key[:-1]])
        sizes = np.diff(np.r_[starts, n])
        for begin, size in zip(starts[sizes > window + 1], sizes[sizes > window + 1], strict=True):
            block = order[begin: begin + size]
            order[begin: begin + size] = block[np.argsort(tiebreak[block, table], kind="stable")]
        for step in range(1, window + 1):
            same = np.flatnonzero(sorted_key[step:] == sorted_key[:-step])
            if len(same) == 0:
                break
            lefts.append(order[same])
            rights.append(order[same + step])
    if not lefts:
        return np.empty(0, dtype=np.int64), np.empty(0, dtype=np.int64)
    return np.concatenate(lefts), np.concatenate(rights)


def _components(n: int, left: np.ndarray, right: np.ndarray) -> list[list[int]]:
    """Connected components with at least two rows, members ascending, ordered by first member."""
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    if len(left) == 0:
        return []
    graph = coo_matrix((np.ones(len(left), dtype=np.int8), (left, right)), shape=(n, n))
    _, labels = connected_components(graph, directed=False)
    order = np.argsort(labels, kind="stable")
    sorted_labels = labels[order]
    starts = np.flatnonzero(np.r_[True, sorted_labels[1:] != sorted_labels[:-1]])
    sizes = np.diff(np.r_[starts, n])
    groups = [order[s: s + k].tolist() for s, k in zip(starts, sizes, strict=True) if k > 1]
    groups.sort(key=lambda g: g[0])
    return groups


def _diameter(X: Rows, members: list[int], linked: float, limit: int = 500) -> float:
    """Largest distance between two members (the largest link for very large groups)."""
    if len(members) > limit:
        return linked
    block = X[members].astype(np.float64)
    diff = block[:, None, :] - block[None, :, :]
    return float(np.sqrt((diff * diff).sum(axis=2)).max())
