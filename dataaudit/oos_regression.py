"""Out-of-fold predictions of a numeric target (``label_issues`` on a regression label).

The classification counterpart, with the folds and the imputation both use, is ``dataaudit.oos``.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from dataaudit.exceptions import InputError
from dataaudit.oos import _impute, cv_folds

__all__ = ["OutOfFoldRegression", "out_of_fold_regression"]


@dataclass
class OutOfFoldRegression:
    """Out-of-fold predictions of a numeric target and how they were obtained.

    Attributes
    ----------
    predictions : ndarray of shape (n_rows,), float64
        The chosen member's out-of-fold prediction per row.
    model : str
        The member with the highest out-of-fold robust R^2 (``ridge`` or ``gradient_boosting``).
    r2 : dict
        Out-of-fold R^2 per member fitted.
    n_folds : int
        Folds actually used.
    subsampled : bool
        Whether some fold's models were fitted on a sample of their training part.
    robust_r2 : dict
        ``1 - (MAD(residual) / MAD(y))^2`` per member: what a few gross target errors cannot
        swamp; the member with the highest is kept.
    """

    predictions: np.ndarray
    model: str
    r2: dict[str, float]
    n_folds: int
    subsampled: bool
    robust_r2: dict[str, float] = field(default_factory=dict)


def out_of_fold_regression(X: np.ndarray, y: np.ndarray, *, n_folds: int = 5, seed: int = 0,
                           max_fit_rows: int = 200_000, groups: np.ndarray | None = None,
                           on_step: Callable[[str, int | None, int | None], None] | None = None,
                           ) -> OutOfFoldRegression:
    """Out-of-fold predictions of ``y`` by a robust linear model (Huber loss; named ``ridge``) and by
    gradient boosting (absolute-error loss); the better kept.

    Parameters
    ----------
    X : ndarray of shape (n_rows, n_features)
        Numeric features (NaN/inf replaced by the column median).
    y : ndarray of shape (n_rows,)
        Finite target values.
    n_folds, seed, max_fit_rows, groups, on_step
        As in ``out_of_sample_probabilities`` (shuffled K-fold, group K-fold with ``groups``).

    Returns
    -------
    OutOfFoldRegression

    Raises
    ------
    InputError
        Shapes disagree, a target value is not finite, or fewer than 10 rows.
    """
    from sklearn.ensemble import HistGradientBoostingRegressor
    from sklearn.linear_model import HuberRegressor
    from threadpoolctl import threadpool_limits


    X = np.asarray(X)
    y = np.asarray(y, dtype=np.float64)
    if X.ndim != 2 or y.ndim != 1 or len(X) != len(y) or X.shape[1] == 0:
        raise InputError(f"out_of_fold_regression needs X (n, d>0) and y (n,); got {X.shape} and {y.shape}.")
    if len(y) < 10 or not np.isfinite(y).all():
        raise InputError("out_of_fold_regression needs at least 10 rows and finite targets.")
    X = _impute(X.astype(np.float32, copy=False))
    n = len(y)
    folds = 2 if n // 2 >= max_fit_rows else int(min(n_folds, n // 2))
    rng = np.random.default_rng(seed)
    members = {"ridge": np.zeros(n), "gradient_boosting": np.zeros(n)}
    subsampled = False
    fold_list = cv_folds(y, folds, seed, groups, stratify=False)
    for fold, (train, test) in enumerate(fold_list):
        fit = train if len(train) <= max_fit_rows else np.sort(rng.choice(train, max_fit_rows, replace=False))
        subsampled |= len(fit) < len(train)
        for index, name in enumerate(members):
            if on_step is not None:
                on_step(f"fold {fold + 1} of {len(fold_list)}: {name}", fold * len(members) + index,
                        len(fold_list) * len(members))
            # Robust losses: a few gross target errors (the suspects) must not pull the fits.
            model: Any = (HuberRegressor(alpha=1e-4, max_iter=200) if name == "ridge" else
                          HistGradientBoostingRegressor(loss="absolute_error", max_iter=200, early_stopping=True,
                                                        random_state=seed + fold))
            with warnings.catch_warnings(), threadpool_limits(limits=1):
                warnings.simplefilter("ignore")
                model.fit(X[fit], y[fit])
                members[name][test] = model.predict(X[test])
    total = float(((y - y.mean()) ** 2).sum())
    r2 = {name: (1.0 - float(((y - p) ** 2).sum()) / total if total > 0 else 0.0) for name, p in members.items()}
    # A few wrong targets (a value typed 10x too large) can dominate sums of squares; the member
    # is chosen, and the signal judged, by the robust R^2 of median absolute deviations.
    spread = _mad(y)
    robust = {name: (1.0 - (_mad(y - p) / spread) ** 2 if spread > 0 else 0.0) for name, p in members.items()}
    best = max(robust, key=lambda name: robust[name])
    return OutOfFoldRegression(predictions=members[best], model=best, r2=r2, n_folds=len(fold_list),
                               subsampled=subsampled, robust_r2=robust)


def _mad(values: np.ndarray) -> float:
    return float(np.median(np.abs(values - np.median(values))))
