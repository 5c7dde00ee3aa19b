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

The search is bounded: rows are first split into blocks that must agree exactly (the non-numeric
values and missing pattern, and for the continuous search also the discrete values; the blocks
are the row-identity rule's exact groups, ``grouping.exact_group_codes``), small blocks
are compared pair by pair, large ones by a radius search (locality-sensitive hashing above
``EXACT_SEARCH_MAX_ROWS`` rows), and rows with values off a column's grid are searched for among
the rows of their block. Every candidate pair is verified against the whole rule.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

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
# A numeric column is discrete when at least this share of its values lies on a decimal grid.
GRID_SHARE = 0.9
# A fractional column whose values are written with this many significant digits or more (in at least
# PRINT_SHARE of them: 72.8989, 0.0578638, 1372.26, as a writer's %g or float formatting gives) is a
# measurement at its print precision, not a recorded unit: its grid step changes with magnitude,
# and values a few steps apart cannot be told from measurement noise, so it is continuous.
PRINT_DIGITS = 6
PRINT_SHARE = 0.8
PRINT_SAMPLE = 2000
# Values sampled per column to find its grid.
GRID_SAMPLE = 20_000
# Decimal grid steps tried: 10**e for e in this range, coarsest first, never coarser than the
# column's largest magnitude nor finer than that magnitude times the precision's relative
# resolution below (float64 carries ~16 significant digits, float32 ~7).
GRID_EXPONENTS = range(9, -13, -1)
# (finest step relative to the largest magnitude, rounding tolerance relative to the value).
FLOAT64_GRID = (1e-11, 1e-15)
FLOAT32_GRID = (1e-6, 1.2e-7)
# Columns standardized at a time when computing their moments (8 columns: 64 MB at a million rows).
STANDARDIZE_BLOCK = 8
# Blocks up to this size are compared pair by pair; larger ones by a radius search.
SMALL_BLOCK = 64
# Blocks up to this size get direct distances when estimating the typical neighbour distance.
DIRECT_TYPICAL = 4096
# Grid positions are stored as int32 below this size; NO_POSITION marks a cell not on its grid.
_INT32_LIMIT = float(2**31 - 1)
NO_POSITION = np.int32(-(2**31))


# ---- discrete columns ----------------------------------------------------------------------------
@dataclass(frozen=True)
class Grid:
    """A discrete column's decimal grid: values are multiples of ``step`` up to rounding."""

    step: float
    single: bool = False  # values went through float32: on the grid at float32 precision

    def on_grid(self, values: np.ndarray) -> np.ndarray:
        ratio = values / self.step
        # A decimal read into floats is off its grid by the precision's rounding (relative);
        # float noise of a perturbed copy by far more (and is no float32 value either).
        tolerance = FLOAT32_GRID[1] if self.single else FLOAT64_GRID[1]
        near = np.abs(ratio - np.rint(ratio)) <= 1e-9 + tolerance * np.abs(ratio)
        if self.single:
            near &= values.astype(np.float32).astype(np.float64) == values
        return near


def _best_grid(values: np.ndarray, largest: float, single: bool) -> tuple[Grid, int]:
    """The coarsest step that holds as many values as the finest one, and that count."""
    finest = (FLOAT32_GRID if single else FLOAT64_GRID)[0]
    steps = [10.0 ** e for e in GRID_EXPONENTS if largest * finest <= 10.0 ** e <= largest]
    if not steps:
        return Grid(largest, single), 0
    counts = np.array([int(Grid(step, single).on_grid(values).sum()) for step in steps])
    # Grids are nested, so the coarsest step holding as many values as the finest one holds the
    # same values: every value written with few enough digits, however many decimals it has.
    # A noisy value may fall on a fine grid by chance: one in a thousand values is let go.
    enough = counts.max() - max(1.0, 1e-3 * len(values))
    return Grid(steps[int(np.flatnonzero(counts >= enough)[0])], single), int(counts.max())


def grid_step(values: np.ndarray, *, seed: int = 0) -> Grid | None:
    """The decimal grid on which the column's values lie, or None for a continuous column.

    The column is discrete when at least ``GRID_SHARE`` of its (sampled, non-missing) values are
    multiples of some step ``10**e``; the step is the coarsest one that holds as many values as
    the finest step tried, so that 0.9167 in a column of ages that are mostly whole years is on
    the grid, while a value with float noise (sixteen significant digits) is not. Values that
    went through float32 (0.9167 read back as 0.916700006) are judged at float32 precision
    when that puts more of them on a grid. A column written with six or more significant digits
    in most values (and not whole numbers) is a measurement at its print precision, and
    continuous (``PRINT_DIGITS``).
    """
    finite = values[np.isfinite(values)]
    if len(finite) == 0:
        return None
    if len(finite) > GRID_SAMPLE:
        finite = np.random.default_rng(seed).choice(finite, GRID_SAMPLE, replace=False)
    largest = float(np.abs(finite).max())
    if largest == 0.0:
        return Grid(1.0)
    grid, count = _best_grid(finite, largest, single=False)
    if count < len(finite):
        grid32, count32 = _best_grid(finite, largest, single=True)
        if count32 > count:
            grid, count = grid32, count32
    if count < GRID_SHARE * len(finite):
        return None
    # Whole numbers (counts, seconds, IDs) are recorded units however many digits they have.
    return None if grid.step < 1.0 and _printed_measurement(finite, grid.single) else grid


def significant_digits(values: np.ndarray, single: bool = False) -> np.ndarray:
    """The fewest significant decimal digits (1-17) that write each nonzero value, up to rounding.

    ``single``: judged at float32 precision (0.916700006 read from a float32 has 4 digits).
    """
    values = np.abs(values[values != 0.0]).astype(np.float64)
    tolerance = FLOAT32_GRID[1] if single else FLOAT64_GRID[1]
    exponent = np.floor(np.log10(values))
    digits = np.full(len(values), 17, dtype=np.int64)
    for s in range(1, 17):
        open_ = digits == 17
        if not open_.any():
            break
        step = 10.0 ** (exponent[open_] - s + 1)
        ratio = values[open_] / step
        written = np.abs(ratio - np.rint(ratio)) <= 1e-9 + tolerance * np.abs(ratio)
        digits[np.flatnonzero(open_)[written]] = s
    return digits


def _printed_measurement(values: np.ndarray, single: bool) -> bool:
    """Whether most values carry ``PRINT_DIGITS`` or more significant digits (see there)."""
    if len(values) > PRINT_SAMPLE:
        values = values[:: max(len(values) // PRINT_SAMPLE, 1)][:PRINT_SAMPLE]
    digits = significant_digits(values, single)
    return bool(len(digits)) and float(np.mean(digits >= PRINT_DIGITS)) >= PRINT_SHARE


def grid_cells(values: np.ndarray, grids: list[Grid | None]) -> tuple[list[np.ndarray], np.ndarray]:
    """Grid positions and off-grid mask of the discrete columns' cells.

    Returns ``(positions, off)`` for the columns whose step is not None: ``positions`` holds one
    array per such column, ``rint(value / grid.step)`` for values on the grid (so 0.1 + 0.2 and
    0.3 are one recorded value), as int32 with ``NO_POSITION`` elsewhere when every position fits
    (half the memory of float64: 160 MB less at a million rows of 40 columns), else as float64
    with NaN elsewhere; ``off`` (n_rows, n_discrete) marks present values off the grid.
    """
    columns = [k for k, grid in enumerate(grids) if grid is not None]
    positions: list[np.ndarray] = []
    off = np.zeros((len(values), len(columns)), dtype=bool)
    for j, column in enumerate(columns):
        grid = grids[column]
        assert grid is not None
        present = np.flatnonzero(np.isfinite(values[:, column]))
        on = grid.on_grid(values[present, column])
        found = np.rint(values[present[on], column] / grid.step)
        if len(found) == 0 or float(np.abs(found).max()) < _INT32_LIMIT:
            cells = np.full(len(values), NO_POSITION, dtype=np.int32)
        else:
            cells = np.full(len(values), np.nan)
        cells[present[on]] = found
        positions.append(cells)
        off[present[~on], j] = True
    return positions, off


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
                    match_discrete: bool = True, seed: int = 0) -> NearCopyLinks:
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

    Returns
    -------
    NearCopyLinks
        Verified links ``left < right`` with their distances (standard deviations), and the
        scales and thresholds that decided them. Same inputs, same links.
    """
    missing = np.isnan(values)
    Z = Standardized(values)
    grids: list[Grid | None] = [
        grid_step(values[:, k], seed=seed) if match_discrete else None for k in range(values.shape[1])
    ]
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
    left, right, distance = (np.r_[on_a[k], on_b[k]] for k in range(3))
    left, right, distance = _nearest_for_off_grid(left, right, distance, off)
    return NearCopyLinks(
        left=left, right=right, distance=distance, Z=Z, grids=grids, off_row=off_row,
        typical=typical, scale_on=scale_on, scale=scale, threshold_on=threshold_on,
        threshold=threshold, method=method, n_candidates=len(left_a) + len(left_b),
        n_continuous=int(continuous.shape[1]) if values.shape[1] else 0,
    )


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


def _nearest_for_off_grid(left: np.ndarray, right: np.ndarray, distance: np.ndarray,
                          off: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Keep every link between rows on their grids; a row off a grid keeps only its nearest source.

    A value off a discrete column's grid may sit between two recorded values (35.6 between a
    count of 35 and one of 36); linking it to both would merge two different records. Noise moves
    a value off its grid, never onto it, so the source of a row off the grid is off it in fewer
    columns (a strict subset of them): such a row is preferred, so two jittered copies of one record
    link to that record, not to each other, and cannot chain different records together. Only a
    row with no possible source within reach keeps its nearest link of any kind (two jittered
    copies of a record the table lacks).
    """
    off_row: np.ndarray = np.asarray(off.any(axis=1), dtype=bool)
    involved = off_row[left] | off_row[right]
    if not involved.any():
        return left, right, distance
    keep = ~involved
    rows = np.r_[left, right]
    partners = np.r_[right, left]
    pair = np.r_[np.arange(len(left)), np.arange(len(left))]
    mine = off_row[rows]
    rows, partners, pair, dist = rows[mine], partners[mine], pair[mine], np.r_[distance, distance][mine]
    mine_off, their_off = off[rows], off[partners]
    source_like = ~(their_off & ~mine_off).any(axis=1) & (their_off != mine_off).any(axis=1)
    # Sorted by (row, not source-like, distance, partner): the first entry of each row is its
    # nearest possible source, or its nearest link when none is within reach.
    order = np.lexsort((partners, dist, ~source_like, rows))
    first = order[np.r_[True, rows[order][1:] != rows[order][:-1]]]
    keep[pair[first]] = True
    return left[keep], right[keep], distance[keep]
