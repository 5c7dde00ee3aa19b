"""Discrete columns of the near-copy rule (``_near_search``): their decimal grids, and which source
a row off a grid keeps (``likeliest_sources``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from dataaudit.grouping import Rows

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


def likeliest_sources(left: np.ndarray, right: np.ndarray, distance: np.ndarray, off: np.ndarray,
                      Z: Rows | None = None,
                      multiplicity: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Keep every link between rows on their grids; a row off a grid keeps only its most likely source.

    A value off a discrete column's grid may sit between two recorded values (35.6 between a
    count of 35 and one of 36); linking it to both would merge two different records. Noise moves
    a value off its grid, never onto it, so the source of a row off the grid is off it in fewer
    columns (a strict subset of them): such a row is preferred, so two jittered copies of one record
    link to that record, not to each other, and cannot chain different records together. Only a
    row with no possible source within reach keeps its best link of any kind (two jittered
    copies of a record the table lacks).

    Among its candidates a row takes the most likely source under Gaussian noise drawn from a
    uniformly chosen row: the one with the least ``d**2 / (2 sigma**2) - log(m)``, ``d`` the
    distance, ``m`` the candidate's ``multiplicity`` (a record present five times is five times as
    likely the source) and ``sigma**2`` the noise variance per differing value, estimated from the
    nearest links of the rows off a grid (their squared distances over the number of values that
    differ, pooled). Where the distances differ by many ``sigma`` this is the nearest candidate;
    the multiplicity decides only between candidates about equally near (a count of 166.4 between
    a record of 166 seen once and one of 167 seen four times). Without ``multiplicity``: the
    nearest.
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
    # Sorted by (row, not source-like, cost, partner): the first entry of each row is its most
    # likely possible source, or its most likely link when none is within reach.
    order = np.lexsort((partners, dist, ~source_like, rows))
    first = order[np.r_[True, rows[order][1:] != rows[order][:-1]]]
    if multiplicity is not None and Z is not None and (multiplicity[partners] > 1).any():
        differ = np.count_nonzero(Z[rows[first]] != Z[partners[first]], axis=1)
        variance = float(np.sum(dist[first] ** 2) / max(int(differ.sum()), 1))
        if variance > 0.0:
            cost = dist ** 2 / (2.0 * variance) - np.log(multiplicity[partners])
            order = np.lexsort((partners, dist, cost, ~source_like, rows))
            first = order[np.r_[True, rows[order][1:] != rows[order][:-1]]]
    keep[pair[first]] = True
    return left[keep], right[keep], distance[keep]
