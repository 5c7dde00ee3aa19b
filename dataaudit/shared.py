"""What an audit computes once and both its checks and the report read, as typed records.

A check that computes something another part shows (the correlation matrix, the per-column drift
statistics) stores it in ``AuditContext.shared``; the runner hands the same object to the
``AuditResult``, and the report draws from ``AuditData`` (the tables plus these computations), so
it never recomputes, and cannot contradict, what a check found. What checks reuse among
themselves (row-group codes, the leakage scores) lives in ``AuditContext.memo``, a ``Memo`` under
typed keys. Imports numpy and the leaf ``evidence`` only.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Generic, TypeVar

import numpy as np

from dataaudit.evidence import PerColumn

if TYPE_CHECKING:
    from dataaudit.dataset import Dataset

__all__ = ["CorrelationMatrix", "CorrelationPair", "SharedComputations", "AuditData", "Memo", "MemoKey"]

V = TypeVar("V")


class MemoKey(Generic[V]):
    """Base of the keys of a ``Memo``: a frozen dataclass naming every input of a value of type ``V``.

    ``@dataclass(frozen=True) class GroupCodesKey(MemoKey[np.ndarray]): dataset: str; columns: ...``
    Two keys are equal only when they are of one class with equal fields.
    """

    __slots__ = ()


class Memo:
    """Values several checks of one audit compute alike, each computed once, under typed keys.

    A key holds every input its value depends on (the dataset's identity included), so a value is
    reused only for the very same inputs: each check stays a function of its inputs, whether or
    not another check computed the value first, and an empty ``Memo`` gives the same results.
    """

    def __init__(self) -> None:
        self._values: dict[MemoKey[Any], Any] = {}

    def get(self, key: MemoKey[V], compute: Callable[[], V]) -> V:
        """The value under ``key``, computed by ``compute()`` the first time."""
        if key not in self._values:
            self._values[key] = compute()
        return self._values[key]  # type: ignore[no-any-return]

    def lookup(self, key: MemoKey[V]) -> V | None:
        """The value under ``key``, None when nothing is stored there yet."""
        return self._values.get(key)

    def put(self, key: MemoKey[V], value: V) -> V:
        """Store ``value`` under ``key`` and return it."""
        self._values[key] = value
        return value

    def __contains__(self, key: MemoKey[Any]) -> bool:
        return key in self._values

    def __len__(self) -> int:
        return len(self._values)


@dataclass(frozen=True)
class CorrelationPair:
    """One pair of numeric columns: Pearson ``r`` over the ``n_rows`` rows where both are present."""

    a: str
    b: str
    r: float
    n_rows: int


@dataclass(frozen=True)
class CorrelationMatrix:
    """Pearson correlations of the numeric columns, as the correlations check computed them.

    ``r[i, j]`` is NaN where the pair was not judged (constant column, or fewer than the check's
    minimum of shared rows); ``n_shared[i, j]`` counts the rows where both columns are present.
    """

    columns: tuple[str, ...]
    r: np.ndarray
    n_shared: np.ndarray
    n_rows_used: int
    sampled: bool

    def __post_init__(self) -> None:
        k = len(self.columns)
        if self.r.shape != (k, k) or self.n_shared.shape != (k, k):
            raise ValueError(f"a correlation matrix of {k} columns needs ({k}, {k}) arrays, got "
                             f"{self.r.shape} and {self.n_shared.shape}")

    def strongest_pairs(self, limit: int) -> list[CorrelationPair]:
        """The ``limit`` judged pairs with the largest |r|, strongest first."""
        upper_i, upper_j = np.triu_indices(len(self.columns), k=1)
        values = self.r[upper_i, upper_j]
        judged = np.flatnonzero(np.isfinite(values))
        order = judged[np.argsort(-np.abs(values[judged]), kind="stable")][:limit]
        return [CorrelationPair(self.columns[upper_i[k]], self.columns[upper_j[k]], float(values[k]),
                                int(self.n_shared[upper_i[k], upper_j[k]])) for k in order]


@dataclass
class SharedComputations:
    """The slots checks fill during one audit (None where the check did not run or had nothing).

    ``drift`` maps a column to its train-vs-test statistics (test, statistic, p-value, distance ...)
    as the drift check computed them.
    """

    correlations: CorrelationMatrix | None = None
    drift: PerColumn | None = None


@dataclass(frozen=True)
class AuditData:
    """Everything the report draws from the data: the tables and the audit's shared computations.

    Histograms and row values come from ``dataset`` (and ``test``), the 2-D map from
    ``dataset.feature_matrix`` through the package's PCA, the heatmap from ``shared.correlations``.
    """

    dataset: Dataset
    test: Dataset | None = None
    shared: SharedComputations = field(default_factory=SharedComputations)
