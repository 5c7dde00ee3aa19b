"""The near-copy rule of the ``near_duplicates`` check: which rows may be near copies, and the search.

Two rows are near copies when they are the same record up to tiny numeric differences:

* **Same values where values are not numbers.** They agree on every categorical, boolean, text and
  datetime column (text compared whole: hashed, then cell by cell), and
  they are missing in the same numeric columns: a missing value equals only a missing value, never
  a number (no imputation takes part).
* **Same recorded values in discrete numeric columns.** A numeric column is *discrete* when at
  least 90% of its values lie on a decimal grid (integers, cents, one decimal, ...). Two values that
  are both on the grid and differ are different recorded values (age 28 and 29, a count of 35 and
  36), like two different categories. A value off the grid (float noise, a jittered or recomputed
  copy) is compared by distance like a continuous value.
* **Much closer than chance.** The remaining differences, in standard deviations of each column,
  have a Euclidean norm at most ``relative_threshold`` times a scale: the typical distance from a
  row to its nearest admissible natural neighbour (same values as above, continuous columns free;
  the median over a seeded sample), capped at ``sqrt(d)`` (every one of the ``d`` compared numeric
  columns one standard deviation apart). When most rows have no admissible neighbour at all (tables
  of discrete and categorical columns), the cap is the scale.
* **Spikes say nothing.** A value that many rows of a continuous column share (at least 1% of
  them: a balance of 0, a default or capped value) is no evidence that two rows holding it are one
  record. Two rows on the same spike are judged on the other continuous columns, against the
  chance scale of the rows on that spike there, and at the same chance of a natural neighbour
  within reach as the table's other rows: ``relative_threshold ** (d / d')`` times that scale for
  ``d'`` of the ``d`` continuous columns left (``_spike_links``).

The search is bounded: rows are first split into blocks that must agree exactly (the non-numeric
values and missing pattern, and for the continuous search also the discrete values; the blocks
are the row-identity rule's exact groups, ``grouping.exact_group_codes``), small blocks
are compared pair by pair, large ones by a radius search (locality-sensitive hashing above
``EXACT_SEARCH_MAX_ROWS`` rows), and rows with values off a column's grid are searched for among
the rows of their block. Every candidate pair is verified against the whole rule.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from dataaudit.checks._near_grid import GRID_SAMPLE, Grid, grid_cells, grid_step, likeliest_sources
from dataaudit.grouping import (
    EXACT_SEARCH_MAX_ROWS,
    LSH_BUCKET_FACTOR,
    LSH_PROJECTIONS,
    LSH_TABLES,
    LSH_WINDOW,
    Rows,
    _lsh_candidates,
    exact_group_codes,
    pair_distances,
)

# Roles compared by value (equal or not) rather than by distance.
VALUE_ROLES = ("categorical", "boolean", "text", "datetime", "constant")
# Columns standardized at a time when computing their moments (8 columns: 64 MB at a million rows).
STANDARDIZE_BLOCK = 8
# Blocks up to this size are compared pair by pair; larger ones by a radius search.
SMALL_BLOCK = 64
# Blocks up to this size get direct distances when estimating the typical neighbour distance.
DIRECT_TYPICAL = 4096
# A value of a continuous column held by at least this share of the rows taking part (and at least
# SPIKE_MIN_ROWS of them) is a spike: 0 balance, a default or capped value. Two rows that share it
# are judged on their other columns (``_spike_links``).
SPIKE_SHARE = 0.01
SPIKE_MIN_ROWS = 20


# ---- blocks --------------------------------------------------------------------------------------
def block_codes(frame: pd.DataFrame) -> np.ndarray:
    """int64 code per row: rows equal in every column of ``frame`` share a code, others get their own.

    The row-identity rule's exact groups (``grouping.exact_group_codes``: NaN equals NaN, a hash
    collision never merges different rows), with every ungrouped row a block of its own.
    """
    n = len(frame)
    if frame.shape[1] == 0:
        return np.zeros(n, dtype=np.int64)
    codes = exact_group_codes(frame)
    alone = codes < 0
    codes[alone] = int(codes.max(initial=-1)) + 1 + np.arange(int(alone.sum()))
    return codes


def _sorted_blocks(blocks: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(order, starts, sizes) of the runs of equal codes in ``blocks`` sorted stably."""
    order = np.argsort(blocks, kind="stable")
    sorted_blocks = blocks[order]
    starts = np.flatnonzero(np.r_[True, sorted_blocks[1:] != sorted_blocks[:-1]]) if len(blocks) else \
        np.empty(0, dtype=np.int64)
    sizes = np.diff(np.r_[starts, len(blocks)])
    return order, starts, sizes


# ---- the search ----------------------------------------------------------------------------------
def _radius_block(M: Rows, members: np.ndarray, queries: np.ndarray,
                  radius: float, chunk_cells: int = 1 << 22) -> tuple[np.ndarray, np.ndarray]:
    """Pairs (query, member) with distance about ``radius`` or less, by brute force in chunks."""
    block = M[members]
    block_norms = np.einsum("ij,ij->i", block, block)
    # Squared distances from norms and a product lose tiny distances to cancellation: search
    # with a slightly larger radius plus the cancellation error; the verification is exact.
    slack = 1e-12 * (1.0 + float(block_norms.max(initial=0.0)))
    search = (radius * 1.01) ** 2 + slack
    step = max(1, chunk_cells // max(len(members), 1))
    lefts, rights = [], []
    for start in range(0, len(queries), step):
        rows = queries[start: start + step]
        values = M[rows]
        squared = (np.einsum("ij,ij->i", values, values)[:, None] + block_norms[None, :]
                   - 2.0 * values @ block.T)
        hit_row, hit_member = np.nonzero(squared <= search)
        lefts.append(rows[hit_row])
        rights.append(members[hit_member])
    if not lefts:
        return np.empty(0, dtype=np.int64), np.empty(0, dtype=np.int64)
    return np.concatenate(lefts), np.concatenate(rights)


def blocked_pairs(M: Rows, blocks: np.ndarray, radius: float, *, rows: np.ndarray,
                  queries: np.ndarray | None = None, method: str = "auto",
                  seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Candidate pairs (i < j) among ``rows``: same block, distance in ``M`` about ``radius`` or less.

    With ``queries`` (a bool mask over all rows), only pairs with at least one query row. The
    exact method returns every such pair; LSH (``method="lsh"``, or ``"auto"`` above
    ``EXACT_SEARCH_MAX_ROWS`` rows) most of them. Distances are not verified here.
    """
    empty = np.empty(0, dtype=np.int64)
    if len(rows) < 2 or M.shape[1] == 0:
        return empty, empty
    if method == "auto":
        method = "exact" if len(rows) <= EXACT_SEARCH_MAX_ROWS else "lsh"
    sub_blocks = blocks[rows]
    is_query = np.ones(len(rows), dtype=bool) if queries is None else queries[rows]
    if not is_query.any():
        return empty, empty
    lefts: list[np.ndarray] = []
    rights: list[np.ndarray] = []
    if method == "lsh":
        # The block code enters every table's bucket key through one far-away coordinate (an
        # extra column the search adds chunk by chunk: M[rows] is never copied whole).
        far = sub_blocks.astype(np.float64) * (1e3 * LSH_BUCKET_FACTOR * radius)
        left, right = _lsh_candidates(
            M, radius, np.random.default_rng(seed), tables=LSH_TABLES,
            projections=LSH_PROJECTIONS, bucket_factor=LSH_BUCKET_FACTOR, window=LSH_WINDOW,
            rows=None if len(rows) == len(M) and np.array_equal(rows, np.arange(len(M))) else rows, extra=far,
        )
        keep = (sub_blocks[left] == sub_blocks[right]) & (is_query[left] | is_query[right])
        lefts.append(left[keep])
        rights.append(right[keep])
    else:
        order, starts, sizes = _sorted_blocks(sub_blocks)
        query_count = np.add.reduceat(is_query[order].astype(np.int64), starts) if len(starts) else starts
        wanted = (sizes >= 2) & (query_count > 0)
        small = wanted & (sizes <= SMALL_BLOCK)
        for size in np.unique(sizes[small]):
            begin = starts[small & (sizes == size)]
            first, second = np.triu_indices(int(size), 1)
            lefts.append(order[(begin[:, None] + first[None, :]).ravel()])
            rights.append(order[(begin[:, None] + second[None, :]).ravel()])
        sub = M if len(rows) == len(M) else M[rows]
        for begin, size in zip(starts[wanted & ~small], sizes[wanted & ~small], strict=True):
            members = order[begin: begin + size]
            left, right = _radius_block(sub, members, members[is_query[members]], radius)
            lefts.append(left)
            rights.append(right)
    if not lefts:
        return empty, empty
    left, right = np.concatenate(lefts), np.concatenate(rights)
    keep = (left != right) & (is_query[left] | is_query[right])
    low, high = np.minimum(left[keep], right[keep]), np.maximum(left[keep], right[keep])
    codes = np.unique(low * np.int64(len(rows)) + high)
    return rows[codes // len(rows)], rows[codes % len(rows)]


def typical_distance(M: Rows, blocks: np.ndarray, rows: np.ndarray, *, sample_size: int,
                     seed: int) -> float:
    """Median distance from a row of ``rows`` to the nearest other row of its block.

    Rows alone in their block, or whose block holds only identical rows, count as infinitely
    far, so the result is ``inf`` when most rows have no natural neighbour to be confused with.
    The distances are measured for a seeded sample of the rows that have another row in their
    block (all of them when there are at most ``sample_size``, so the result does not depend on
    row order then).
    """
    if len(rows) < 2 or M.shape[1] == 0:
        return float("inf")
    order, starts, sizes = _sorted_blocks(blocks[rows])
    shared = np.zeros(len(rows), dtype=bool)
    shared[order] = np.repeat(sizes >= 2, sizes)
    alone_share = 1.0 - shared.mean()
    if not shared.any():
        return float("inf")
    candidates = rows[shared]
    rng = np.random.default_rng(seed)
    sample = candidates if len(candidates) <= sample_size else \
        np.sort(rng.choice(candidates, sample_size, replace=False))
    block_of = blocks[rows][order][starts]
    position = {int(b): k for k, b in enumerate(block_of)}
    nearest = np.full(len(sample), np.inf)
    sample_blocks = blocks[sample]
    for block in np.unique(sample_blocks):
        k = position[int(block)]
        if sizes[k] < 2:
            continue
        members = rows[order[starts[k]: starts[k] + sizes[k]]]
        mine = np.flatnonzero(sample_blocks == block)
        if len(members) <= DIRECT_TYPICAL:
            block_values = M[members].astype(np.float64)
            for q in mine:
                diff = block_values - M[sample[q]]
                dist = np.sqrt(np.einsum("ij,ij->i", diff, diff))
                dist = dist[dist > 0.0]
                nearest[q] = dist.min() if len(dist) else np.inf
        else:
            from sklearn.neighbors import NearestNeighbors

            n_neighbours = min(len(members), 8)
            index = NearestNeighbors(n_neighbors=n_neighbours, algorithm="brute").fit(M[members])
            _, found = index.kneighbors(M[sample[mine]], n_neighbors=n_neighbours)
            # Recompute the distances exactly: the GEMM trick in brute force loses tiny distances.
            left = np.repeat(sample[mine], n_neighbours)
            dist = pair_distances(M, left, members[found.ravel()]).reshape(len(mine), n_neighbours)
            dist[dist <= 0.0] = np.inf  # itself and identical rows
            nearest[mine] = dist.min(axis=1)
    finite = nearest[np.isfinite(nearest)]
    # Rows alone in their block are infinitely far: the median over all rows is the quantile of
    # the measured ones that sits at the overall middle, or inf past them.
    with_neighbour = len(finite) / len(nearest) * (1.0 - alone_share)
    if with_neighbour < 0.5:
        return float("inf")
    return float(np.quantile(finite, min(1.0, 0.5 / with_neighbour)))


# ---- the rule, whole -----------------------------------------------------------------------------
@dataclass(frozen=True)
class NearCopyLinks:
    """Verified near-copy links and how they were decided (see ``near_copy_links``)."""

    left: np.ndarray
    right: np.ndarray
    distance: np.ndarray
    Z: Standardized  # standardized numeric values (missing cells 0), read by rows
    grids: list[Grid | None]
    off_row: np.ndarray  # rows with a value off a discrete column's grid
    typical: float  # chance scale before capping (inf: most rows have no natural neighbour)
    scale_on: float
    scale: float
    threshold_on: float  # for rows on every grid (continuous differences)
    threshold: float  # for rows off a grid (every numeric difference)
    method: str
    n_candidates: int
    n_continuous: int
    spikes: dict[int, np.ndarray] = field(default_factory=dict)  # column position -> its spike values
    n_spike_links_dropped: int = 0  # links between rows on a spike that its own scale rejects


def standardize(values: np.ndarray) -> np.ndarray:
    """Column-standardized copy of ``values`` on the non-missing cells; missing cells become 0.

    The definition ``Standardized`` computes row by row (the search never holds this copy whole).
    """
    missing = np.isnan(values)
    present = np.maximum((~missing).sum(axis=0), 1)
    Z = np.where(missing, 0.0, values)
    Z -= Z.sum(axis=0) / present
    Z[missing] = 0.0  # missing cells only ever meet missing cells (same pattern), so 0 is neutral
    std = np.sqrt(np.einsum("ij,ij->j", Z, Z) / present)
    std[~(std > 0)] = 1.0  # a constant column keeps scale 1
    Z /= std
    return Z


def _moments(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(mean, scale) per column as ``standardize`` computes them, holding a few columns at a time."""
    d = values.shape[1]
    mean, scale = np.zeros(d), np.ones(d)
    # Each column of a column-major matrix is reduced on its own, so a block of columns gives its
    # columns' moments bit for bit as the whole matrix does (a single column would take NumPy's
    # one-dimensional path, whose sums group terms differently: blocks hold at least two).
    width = STANDARDIZE_BLOCK if values.flags.f_contiguous and d > 1 else d
    for start in range(0, d, max(width, 1)):
        columns = np.arange(min(start, d - 2) if width < d else start, min(start + width, d))
        block = values[:, columns[0]: columns[-1] + 1]
        missing = np.isnan(block)
        present = np.maximum((~missing).sum(axis=0), 1)
        Z = np.where(missing, 0.0, block)
        means = Z.sum(axis=0) / present
        Z -= means
        Z[missing] = 0.0
        std = np.sqrt(np.einsum("ij,ij->j", Z, Z) / present)
        std[~(std > 0)] = 1.0
        mean[columns], scale[columns] = means, std
    return mean, scale


class Standardized:
    """``standardize(values)`` read by rows: each read standardizes just the rows it asks for.

    The whole standardized copy would be a second float64 matrix beside ``values`` (320 MB at a
    million rows of 40 columns, the check's peak); every reader of it here takes rows (search
    chunks, blocks, candidate pairs, sampled rows). ``S[rows]`` (an int, a slice, an integer
    array or list) returns a new float64 array equal bit for bit to ``standardize(values)[rows]``
    and laid out like it (a slice keeps the matrix's order, gathered rows are row-major), so every
    product and distance computed from it is the one the whole copy gives. ``S.subset(mask)``
    reads only the columns of ``mask``, like ``standardize(values)[:, mask]``.
    """

    def __init__(self, values: np.ndarray, *, columns: np.ndarray | None = None,
                 moments: tuple[np.ndarray, np.ndarray] | None = None) -> None:
        self.values = values
        self.mean_, self.scale_ = _moments(values) if moments is None else moments
        self.columns = columns  # positions of the columns read; None: all

    @property
    def shape(self) -> tuple[int, int]:
        return len(self.values), int(self.values.shape[1] if self.columns is None else len(self.columns))

    dtype = np.dtype(np.float64)

    def __len__(self) -> int:
        return len(self.values)

    def subset(self, mask: np.ndarray) -> Standardized:
        """The columns where ``mask`` is true (positions into the columns this one reads)."""
        mine = np.arange(self.values.shape[1]) if self.columns is None else self.columns
        return Standardized(self.values, columns=mine[mask], moments=(self.mean_, self.scale_))

    def __getitem__(self, rows: int | slice | np.ndarray | list[int]) -> np.ndarray:
        block = self.values[rows]
        mean, scale = self.mean_, self.scale_
        if self.columns is not None:
            block = block[..., self.columns]
            mean, scale = mean[self.columns], scale[self.columns]
        if isinstance(rows, slice | int | np.integer):
            # A view: copied in the whole copy's order (the matrix's; a column subset's is column-major).
            block = np.array(block, dtype=np.float64, order="K" if self.columns is None else "F")
        else:
            block = np.ascontiguousarray(block, dtype=np.float64)  # gathered rows are row-major
        missing = np.isnan(block)
        block[missing] = 0.0
        block -= mean
        block[missing] = 0.0
        block /= scale
        return block


def near_copy_links(key_frame: pd.DataFrame, values: np.ndarray, rows: np.ndarray, *,
                    relative_threshold: float, method: str = "auto", sample_size: int = 256,
                    match_discrete: bool = True, seed: int = 0,
                    multiplicity: np.ndarray | None = None) -> NearCopyLinks:
    """Pairs of ``rows`` that are near copies under the rule of this module's docstring.

    Parameters
    ----------
    key_frame : DataFrame, shape (n_rows, k)
        The non-numeric columns near copies must agree on (NaN equal to NaN).
    values : ndarray, shape (n_rows, d)
        The numeric columns, NaN where missing.
    rows : ndarray of int
        The rows taking part (e.g. all but the later members of exact copy groups).
    relative_threshold, method, sample_size, match_discrete, seed
        As the ``near_duplicates`` check's options.
    multiplicity : ndarray of int, shape (n_rows,), optional
        How many identical rows each row stands for (its exact copy group's size, 1 when alone):
        a row off a grid between two possible sources prefers the more frequent one when their
        distances are close (``_near_grid.likeliest_sources``). None: every row counts once.

    Returns
    -------
    NearCopyLinks
        Verified links ``left < right`` with their distances (standard deviations), and the
        scales and thresholds that decided them. Same inputs, same links.
    """
    missing = np.isnan(values)
    Z = Standardized(values)
    found_grids = [grid_step(values[:, k], seed=seed) for k in range(values.shape[1])]
    grids: list[Grid | None] = found_grids if match_discrete else [None] * values.shape[1]
    discrete = np.array([g is not None for g in grids], dtype=bool)
    grid_index, off = grid_cells(values, grids)
    off_row: np.ndarray = np.asarray(off.any(axis=1), dtype=bool)

    # Blocks: rows that must agree exactly (non-numeric values, missing pattern); fine blocks add
    # the recorded discrete values.
    missing_frame = pd.DataFrame(missing[:, missing.any(axis=0)])
    keys = block_codes(pd.concat([key_frame.reset_index(drop=True), missing_frame], axis=1,
                                 ignore_index=True))
    # The grid positions join the key as columns of a frame that shares their memory: a frame
    # built by concatenation would copy the (n_rows, n_discrete) matrix once more.
    fine = block_codes(pd.DataFrame({0: keys, **{j + 1: cells for j, cells in enumerate(grid_index)}}, copy=False))
    clean = rows[~off_row[rows]]
    continuous = Z.subset(~discrete) if discrete.any() else Z

    # The chance scale: the typical distance from a row to its nearest natural neighbour of the
    # same values and recorded discrete values (inf when most rows have none), capped at every
    # compared column one standard deviation apart. Rows on every grid differ only in continuous
    # columns; a row off a grid may differ in every numeric column.
    typical = typical_distance(continuous, fine, clean, sample_size=sample_size, seed=seed)
    scale_on = min(typical, float(np.sqrt(max(continuous.shape[1], 1))))
    scale = min(typical, float(np.sqrt(max(values.shape[1], 1))))
    threshold_on = relative_threshold * scale_on
    threshold = relative_threshold * scale
    if method == "auto":
        method = "exact" if len(rows) <= EXACT_SEARCH_MAX_ROWS else "lsh"

    # Candidates: clean rows within their fine block (continuous columns), and rows off a grid
    # against every row of their block (all numeric columns).
    left_a, right_a = blocked_pairs(continuous, fine, threshold_on, rows=clean, method=method, seed=seed)
    left_b, right_b = blocked_pairs(Z, keys, threshold, rows=rows, queries=off_row, method=method, seed=seed)
    on_a = _verify(Z, missing, grid_index, off, keys, left_a, right_a, threshold_on)
    on_b = _verify(Z, missing, grid_index, off, keys, left_b, right_b, threshold)
    # Spikes of measured values only: a recorded value repeats by nature, and with match_discrete
    # off the caller asks for discrete columns compared by distance.
    continuous_columns = np.flatnonzero(~discrete)
    spikes = {k: v for k, v in _spikes(values[:, continuous_columns], clean, seed).items()
              if found_grids[continuous_columns[k]] is None}
    on_a, dropped = _spike_links(continuous, fine, clean, on_a, spikes, values[:, continuous_columns],
                                 relative_threshold=relative_threshold, sample_size=sample_size, seed=seed)
    left, right, distance = (np.r_[on_a[k], on_b[k]] for k in range(3))
    left, right, distance = likeliest_sources(left, right, distance, off, Z, multiplicity)
    return NearCopyLinks(
        left=left, right=right, distance=distance, Z=Z, grids=grids, off_row=off_row,
        typical=typical, scale_on=scale_on, scale=scale, threshold_on=threshold_on,
        threshold=threshold, method=method, n_candidates=len(left_a) + len(left_b),
        n_continuous=int(continuous.shape[1]) if values.shape[1] else 0,
        spikes={int(continuous_columns[k]): v for k, v in spikes.items()}, n_spike_links_dropped=dropped,
    )


def _spikes(values: np.ndarray, rows: np.ndarray, seed: int = 0) -> dict[int, np.ndarray]:
    """Per column of ``values`` (position): the values at least ``SPIKE_SHARE`` of ``rows`` hold.

    Candidates come from a seeded sample of ``GRID_SAMPLE`` rows (a value held by 1% of the rows
    is held by about 200 of them there; half that is let in), then are counted in every row.
    """
    need = max(SPIKE_MIN_ROWS, SPIKE_SHARE * len(rows))
    sample = rows if len(rows) <= GRID_SAMPLE else \
        np.sort(np.random.default_rng(seed).choice(rows, GRID_SAMPLE, replace=False))
    spikes: dict[int, np.ndarray] = {}
    for k in range(values.shape[1]):
        column = values[sample, k]
        found, counts = np.unique(column[np.isfinite(column)], return_counts=True)
        found = found[counts >= need * len(sample) / len(rows) / (1 if len(sample) == len(rows) else 2)]
        if len(sample) < len(rows) and len(found):
            whole = values[rows, k]
            counts = np.array([np.count_nonzero(whole == v) for v in found])
            found = found[counts >= need]
        if len(found):
            spikes[k] = found
    return spikes


def _spike_links(continuous: Rows, fine: np.ndarray, rows: np.ndarray,
                 links: tuple[np.ndarray, np.ndarray, np.ndarray], spikes: dict[int, np.ndarray],
                 values: np.ndarray, *, relative_threshold: float, sample_size: int,
                 seed: int) -> tuple[tuple[np.ndarray, np.ndarray, np.ndarray], int]:
    """Judge links between rows on the same spikes on their other continuous columns.

    ``values`` are the continuous columns (``continuous`` standardized). Two rows that share a
    spike value in ``d - d'`` of the ``d`` continuous columns differ in at most ``d'``: among the
    rows on those spikes (and in their fine block) a natural neighbour is nearer there than over
    all ``d`` columns, so the table's chance scale would let chance pairs through (Default: 499 of
    10,000 balances are 0, and 16 pairs of them had incomes a few dollars apart). The rows on the
    spikes get their own chance scale ``s'`` (``typical_distance`` among them, capped at
    ``sqrt(d')``), and the link stands when its distance is at most ``relative_threshold ** (d / d')
    * s'``: the share of rows with a natural neighbour within a fraction ``f`` of the typical
    distance grows like ``f ** d``, so this keeps it what it is for the table's other rows. With
    no continuous column left the rows are equal in every numeric value and the link stands.
    Returns the links kept and the number dropped.
    """
    left, right, distance = links
    if not spikes or not len(left):
        return links, 0
    d = values.shape[1]
    # Per row and spiked column: the spike's index + 1, 0 off every spike.
    codes = np.zeros((len(values), len(spikes)), dtype=np.int64)
    for j, (k, found) in enumerate(spikes.items()):
        column = values[:, k]
        at = np.searchsorted(found, column)
        on = (at < len(found)) & (found[np.minimum(at, len(found) - 1)] == column)
        codes[on, j] = at[on] + 1
    shared = (codes[left] == codes[right]) & (codes[left] > 0)
    mine = shared.any(axis=1)
    if not mine.any():
        return links, 0
    keep = np.ones(len(left), dtype=bool)
    # One scale per signature: the spikes shared (columns and values, 0 where not shared).
    signature = np.where(shared, codes[left], 0)
    found_signatures, which = np.unique(signature[mine], axis=0, return_inverse=True)
    pairs = np.flatnonzero(mine)
    for s, sig in enumerate(found_signatures):
        on_spikes = rows[(codes[rows] == sig[None, :])[:, sig > 0].all(axis=1)]
        left_dims = d - int((sig > 0).sum())
        mine_pairs = pairs[which.ravel() == s]
        if left_dims == 0:
            continue
        typical = typical_distance(continuous, fine, on_spikes, sample_size=sample_size, seed=seed)
        reach = relative_threshold ** (d / left_dims) * min(typical, float(np.sqrt(left_dims)))
        keep[mine_pairs] = distance[mine_pairs] <= reach
    return (left[keep], right[keep], distance[keep]), int((~keep).sum())


def _verify(Z: Standardized, missing: np.ndarray, grid_index: list[np.ndarray], off: np.ndarray,
            keys: np.ndarray, left: np.ndarray, right: np.ndarray,
            threshold: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Keep the candidate pairs that satisfy the whole rule, with their distances."""
    if len(left):
        codes = np.unique(left * np.int64(len(Z)) + right)
        left, right = codes // len(Z), codes % len(Z)
    ok = keys[left] == keys[right]
    ok &= (missing[left] == missing[right]).all(axis=1)
    # Discrete columns: the same recorded value, unless one of the two is off the grid.
    for j, cells in enumerate(grid_index):
        a, b = cells[left], cells[right]
        same = (a == b) | off[left, j] | off[right, j]  # NO_POSITION equals NO_POSITION
        if cells.dtype.kind == "f":
            same |= np.isnan(a) & np.isnan(b)
        ok &= same
    left, right = left[ok], right[ok]
    distance = pair_distances(Z, left, right)
    within = distance <= threshold
    return left[within], right[within], distance[within]
