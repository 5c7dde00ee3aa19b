"""The out-of-sample ensemble's members: one fresh, single-threaded estimator per name and fit size.

``dataaudit.oos`` fits them fold by fold (see its docstring for the ensemble and its rules).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from dataaudit.exceptions import ConfigError

__all__ = ["LOGISTIC_SOFT_ROWS", "MODELS", "make_model"]

MODELS: tuple[str, ...] = ("logistic", "knn", "extra_trees", "gradient_boosting", "mlp", "mlp2")

# From this many fit rows on, logistic regression uses C=0.1; below, C = 0.1 x this / rows.
LOGISTIC_SOFT_ROWS = 1_000


def make_model(name: str, n_fit: int, seed: int) -> Any:
    """A fresh, single-threaded estimator for one member, sized for ``n_fit`` training rows."""
    if name == "logistic":
        from sklearn.linear_model import LogisticRegression

        # C=0.1: stronger than default regularization keeps probabilities soft, which is what
        # confident learning needs from a model trained on partly wrong labels. The penalty is
        # weighed against the loss summed over the fit rows, so on small tables the same C
        # regularizes each row far more: below LOGISTIC_SOFT_ROWS rows C grows so that the penalty
        # per row stays that of C=0.1 on LOGISTIC_SOFT_ROWS rows (iris, 120 fit rows: C=0.83;
        # 10 % asymmetric flips F1 0.833 -> 0.86 over 5 seeds, where C=0.1 flattened the boundary
        # between versicolor and virginica).
        return LogisticRegression(C=0.1 * max(1.0, LOGISTIC_SOFT_ROWS / max(n_fit, 1)), max_iter=300, tol=1e-3)
    if name == "knn":
        from sklearn.neighbors import KNeighborsClassifier

        return KNeighborsClassifier(n_neighbors=min(10, n_fit), weights="distance")
    if name == "extra_trees":
        from sklearn.ensemble import ExtraTreesClassifier

        # Fully grown trees on small data; from 2,000 rows 50 trees with leaves of 3 rows (a third
        # of the fit time, the same held-out accuracy on diamonds and the synthetic 10k file); on
        # large samples fewer, shallower trees keep prediction of every row (the cost at 1M) in budget.
        size = 0 if n_fit <= 2_000 else 1 if n_fit <= 20_000 else 2
        return ExtraTreesClassifier(
            n_estimators=(100, 50, 40)[size],
            min_samples_leaf=(1, 3, 10)[size],
            max_features="sqrt",
            n_jobs=1,
            random_state=seed,
        )
    if name == "gradient_boosting":
        from sklearn.ensemble import HistGradientBoostingClassifier

        # Threshold splits on raw columns: what tree-friendly tables (churn, credit) need and
        # linear or local members miss. Early stopping on a held-out tenth of the fold keeps it
        # from fitting the flipped labels, and bounds the cost.
        return HistGradientBoostingClassifier(max_iter=50, learning_rate=0.2, max_leaf_nodes=15,
                                              early_stopping=True, validation_fraction=0.15,
                                              n_iter_no_change=5, random_state=seed)
    if name in ("mlp", "mlp2"):
        from sklearn.neural_network import MLPClassifier

        # About 2M sample-gradients of Adam (10 epochs of 200k rows, 40 of 50k): enough to learn
        # smooth non-linear boundaries in seconds; weight decay keeps probabilities from saturating.
        return MLPClassifier(
            hidden_layer_sizes=(64,),
            alpha=1e-3,
            batch_size=min(512, n_fit),
            learning_rate_init=3e-3,
            max_iter=int(np.clip(2_000_000 // max(n_fit, 1), 10, 200)),
            random_state=seed if name == "mlp" else seed + 7919,  # another draw for the twin
        )
    raise ConfigError(f"Unknown out-of-sample model {name!r}; choose from {list(MODELS)}.")
