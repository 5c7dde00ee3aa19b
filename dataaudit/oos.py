"""Out-of-sample predicted class probabilities by cross-validation, averaged over fast models.

Confident learning (``label_issues``), the report and the transform stage need, for every row,
class probabilities from a model that never saw that row. This module computes them with
stratified, shuffled K-fold cross-validation of a small ensemble suited to mixed tabular data:

``logistic``
    L2-regularized multinomial logistic regression (linear, well calibrated under label noise).
``knn``
    k nearest neighbours, distance-weighted (local structure); only up to ``small_data_rows`` rows,
    because predicting every row costs O(n * n_fit * d).
``extra_trees``
    Extremely randomized trees (non-linear, interactions, one-hot and numeric columns alike).
``mlp``, ``mlp2``
    A one-hidden-layer perceptron trained for a few epochs: non-linear like the trees, but
    predicting a million rows is two matrix products instead of a walk down every tree.
    ``mlp2`` is the same network from another initialization and batch order; averaging the
    two lowers the variance of the probabilities (1M-row benchmark: precision 0.87 -> 0.90).

``models="auto"`` uses ``logistic + knn + extra_trees`` up to ``small_data_rows`` rows and
``logistic + mlp + mlp2`` above, where kNN and deep trees would spend most of the time
budget predicting. A member whose out-of-fold accuracy ends up clearly below the best member's
(``drop_below_best``) is left out of the average: it would add its own systematic mistakes.

Averaging the members' probabilities is what makes the ranking of suspect labels precise: on
scikit-learn's digits with 10 % uniform label flips, cleanlab's default filter reaches
precision 0.965 / recall 0.922 with the average, against 0.876 / 0.911 for logistic regression
alone under the same shuffled 5-fold split.

At scale every fold's models are fitted on a stratified random sample of at most
``max_fit_rows`` rows of its training part, while every row is still predicted out of fold.
Once the training part would be subsampled even with two folds, two folds are used: more
folds would only refit the same-sized models more often.
"""

from __future__ import annotations

import time
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from dataaudit.exceptions import ConfigError, InputError

__all__ = ["MODELS", "OutOfSample", "out_of_sample_probabilities", "resolve_models"]

MODELS: tuple[str, ...] = ("logistic", "knn", "extra_trees", "mlp", "mlp2")
SMALL_DATA_MODELS: tuple[str, ...] = ("logistic", "knn", "extra_trees")
LARGE_DATA_MODELS: tuple[str, ...] = ("logistic", "mlp", "mlp2")


@dataclass
class OutOfSample:
    """Out-of-fold class probabilities and how they were obtained.

    Attributes
    ----------
    probabilities : ndarray of shape (n_rows, n_classes), float64
        Mean of the members' out-of-fold probabilities; each row sums to 1.
    labels : ndarray of shape (n_rows,), int64
        The class codes the models were trained on (0 .. n_classes - 1).
    models : tuple of str
        The members averaged (``knn`` is dropped above ``small_data_rows``; a member far less
        accurate than the best is dropped after cross-validation, see ``drop_below_best``).
    n_folds : int
        Number of cross-validation folds actually used.
    cv_accuracy : dict
        Out-of-fold accuracy against the given labels per member fitted (averaged or not) and
        for ``"ensemble"``.
    subsampled : bool
        Whether some fold's models were fitted on a sample of their training part.
    max_fit_rows : int
        The cap on rows per fit.
    fit_rows : int
        Rows used by the largest fit.
    seconds : dict
        Wall time per member fitted (fit + predict over all folds).
    skipped_models : dict
        Member name -> why it was not used.
    """

    probabilities: np.ndarray
    labels: np.ndarray
    models: tuple[str, ...]
    n_folds: int
    cv_accuracy: dict[str, float]
    subsampled: bool
    max_fit_rows: int
    fit_rows: int
    seconds: dict[str, float] = field(default_factory=dict)
    skipped_models: dict[str, str] = field(default_factory=dict)

    @property
    def predicted(self) -> np.ndarray:
        """Most probable class code per row."""
        return np.asarray(self.probabilities.argmax(axis=1), dtype=np.int64)


def _make_model(name: str, n_fit: int, seed: int) -> Any:
    """A fresh, single-threaded estimator for one member, sized for ``n_fit`` training rows."""
    if name == "logistic":
        from sklearn.linear_model import LogisticRegression

        # C=0.1: stronger than default regularization keeps probabilities soft, which is what
        # confident learning needs from a model trained on partly wrong labels.
        return LogisticRegression(C=0.1, max_iter=300, tol=1e-3)
    if name == "knn":
        from sklearn.neighbors import KNeighborsClassifier

        return KNeighborsClassifier(n_neighbors=min(10, n_fit), weights="distance")
    if name == "extra_trees":
        from sklearn.ensemble import ExtraTreesClassifier

        # Fully grown trees on small data; on large samples, fewer and shallower trees keep
        # prediction of every row (the dominant cost at 1M rows) within budget.
        small = n_fit <= 20_000
        return ExtraTreesClassifier(
            n_estimators=100 if small else 40,
            min_samples_leaf=1 if small else 10,
            max_features="sqrt",
            n_jobs=1,
            random_state=seed,
        )
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


def resolve_models(models: str | Sequence[str], n_rows: int, small_data_rows: int) -> tuple[list[str], dict[str, str]]:
    """The members to use for ``n_rows`` rows and, for each requested one left out, why.

    Raises
    ------
    ConfigError
        Unknown model names, or none left to run.
    """
    if isinstance(models, str):
        if models != "auto":
            raise ConfigError(f"models must be 'auto' or a list from {list(MODELS)}; got {models!r}.")
        chosen = SMALL_DATA_MODELS if n_rows <= small_data_rows else LARGE_DATA_MODELS
        return list(chosen), {}
    unknown = [m for m in models if m not in MODELS]
    if unknown or not models:
        raise ConfigError(f"Unknown or no out-of-sample model(s) {unknown}; choose from {list(MODELS)}.")
    used = [m for m in models if not (m == "knn" and n_rows > small_data_rows)]
    skipped = {"knn": f"{n_rows} rows > small_data_rows={small_data_rows}"} if len(used) < len(models) else {}
    if not used:
        raise ConfigError(f"No out-of-sample model can run on {n_rows} rows; add 'logistic' or 'mlp'.")
    return used, skipped


def _fit_sample(train: np.ndarray, labels: np.ndarray, max_rows: int, rng: np.random.Generator) -> np.ndarray:
    """At most ``max_rows`` of ``train`` at random, keeping at least a few rows of every class."""
    if len(train) <= max_rows:
        return train
    chosen = rng.choice(train, size=max_rows, replace=False)
    # A random sample can miss a rare class entirely; the model could then never predict it.
    present = np.bincount(labels[chosen], minlength=int(labels.max()) + 1)
    extra = []
    for code in np.unique(labels[train]):
        if present[code] < 2:
            members = train[labels[train] == code]
            extra.append(rng.permutation(members)[: min(len(members), 10)])
    if extra:
        chosen = np.unique(np.concatenate([chosen, *extra]))
    return np.sort(chosen)


def _impute(X: np.ndarray) -> np.ndarray:
    """Replace NaN/inf by the column median (0 for an all-missing column); no copy when clean."""
    if np.isfinite(X).all():
        return X
    X = np.array(X, dtype=np.float32, copy=True)
    X[~np.isfinite(X)] = np.nan
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN columns: handled below
        medians = np.nanmedian(X, axis=0)
    medians = np.where(np.isnan(medians), 0.0, medians)
    rows, cols = np.nonzero(np.isnan(X))
    X[rows, cols] = medians[cols]
    return X


def out_of_sample_probabilities(
    X: np.ndarray,
    labels: np.ndarray,
    *,
    n_classes: int | None = None,
    models: str | Sequence[str] = "auto",
    n_folds: int = 5,
    seed: int = 0,
    max_fit_rows: int = 200_000,
    small_data_rows: int = 50_000,
    drop_below_best: float = 0.03,
    predict_batch: int = 100_000,
) -> OutOfSample:
    """Out-of-fold predicted probabilities from an ensemble, by stratified shuffled K-fold.

    Parameters
    ----------
    X : ndarray of shape (n_rows, n_features)
        Numeric features, ideally standardized (``Dataset.feature_matrix``). NaN/inf are
        replaced by the column median.
    labels : ndarray of shape (n_rows,)
        Integer class codes in ``0 .. n_classes - 1`` (no missing labels: drop those rows first).
    n_classes : int, optional
        Number of classes (columns of the result); default ``labels.max() + 1``.
    models : "auto" or sequence of str
        Members to average, from ``MODELS``; ``"auto"`` picks by size (see the module docstring).
    n_folds : int
        Requested folds (>= 2). Reduced to the size of the smallest class, and to 2 when every
        fold's training part would be subsampled anyway.
    seed : int
        Seeds the fold shuffle, the subsamples and the randomized models.
    max_fit_rows : int
        Cap on the rows each model is fitted on in each fold.
    small_data_rows : int
        Size switch of ``"auto"``; ``knn`` is used only when ``n_rows`` is at most this.
    drop_below_best : float
        A member whose out-of-fold accuracy is more than this below the best member's is left
        out of the average (listed in ``skipped_models``). ``1.0`` keeps every member.
    predict_batch : int
        Rows predicted at once (bounds peak memory).

    Returns
    -------
    OutOfSample

    Raises
    ------
    InputError
        Shapes disagree, a label is negative or out of range, fewer than 2 classes, or a class
        has a single row (it cannot be both trained on and held out).
    ConfigError
        Unknown model name or invalid fold/row counts.

    Examples
    --------
    >>> from sklearn.datasets import load_digits
    >>> X, y = load_digits(return_X_y=True)
    >>> oos = out_of_sample_probabilities(X / 16, y, seed=0)
    >>> oos.probabilities.shape, oos.cv_accuracy["ensemble"] > 0.95
    ((1797, 10), True)
    """
    from sklearn.model_selection import StratifiedKFold
    from threadpoolctl import threadpool_limits

    X = np.asarray(X)
    labels = np.asarray(labels)
    if X.ndim != 2 or labels.ndim != 1 or len(X) != len(labels):
        raise InputError(
            f"out_of_sample_probabilities needs X of shape (n, d) and labels of shape (n,); "
            f"got {X.shape} and {labels.shape}."
        )
    if not np.issubdtype(labels.dtype, np.integer):
        raise InputError(f"labels must be integer class codes, got dtype {labels.dtype}.")
    labels = labels.astype(np.int64)
    if X.shape[1] == 0:
        raise InputError("out_of_sample_probabilities needs at least one feature column.")
    used, skipped = resolve_models(models, len(labels), small_data_rows)
    if n_folds < 2 or max_fit_rows < 10 or predict_batch < 1:
        raise ConfigError(
            f"n_folds must be >= 2 and max_fit_rows >= 10; got n_folds={n_folds}, "
            f"max_fit_rows={max_fit_rows}."
        )
    if len(labels) and labels.min() < 0:
        raise InputError("labels contain negative codes (missing labels); drop those rows first.")
    k = int(n_classes) if n_classes is not None else int(labels.max()) + 1 if len(labels) else 0
    if len(labels) and labels.max() >= k:
        raise InputError(f"label code {int(labels.max())} is out of range for n_classes={k}.")
    counts = np.bincount(labels, minlength=k)
    present = counts[counts > 0]
    if len(present) < 2:
        raise InputError("out_of_sample_probabilities needs at least 2 classes with rows.")
    if present.min() < 2:
        lonely = np.flatnonzero(counts == 1).tolist()
        raise InputError(
            f"class code(s) {lonely} have a single row; a model cannot learn a class from its "
            f"held-out row alone. Drop or merge those rows first."
        )

    n = len(labels)
    folds = int(min(n_folds, present.min()))
    if n // 2 >= max_fit_rows:
        folds = 2  # every fold would be subsampled to max_fit_rows anyway
    X = _impute(X.astype(np.float32, copy=False))

    rng = np.random.default_rng(seed)
    splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed)
    # float32 per member: at 1M rows x 10 classes each member costs 40 MB.
    member_probs = {name: np.zeros((n, k), dtype=np.float32) for name in used}
    seconds = dict.fromkeys(used, 0.0)
    fit_rows = 0
    subsampled = False
    for fold, (train, test) in enumerate(splitter.split(np.zeros(n), labels)):
        fit_idx = _fit_sample(train, labels, max_fit_rows, rng)
        subsampled |= len(fit_idx) < len(train)
        fit_rows = max(fit_rows, len(fit_idx))
        X_fit, y_fit = X[fit_idx], labels[fit_idx]
        for name in used:
            t0 = time.perf_counter()
            model = _make_model(name, len(fit_idx), seed + fold)
            # One BLAS thread: the fits are many small matrix products, where thread hand-offs
            # cost more than they save (and the cores are shared with the other checks).
            with warnings.catch_warnings(), threadpool_limits(limits=1, user_api="blas"):
                # lbfgs/Adam may stop at max_iter on noisy labels; the probabilities are usable.
                warnings.simplefilter("ignore")
                model.fit(X_fit, y_fit)
            columns = np.asarray(model.classes_, dtype=np.int64)
            for start in range(0, len(test), predict_batch):
                rows = test[start : start + predict_batch]
                proba = np.zeros((len(rows), k), dtype=np.float64)
                proba[:, columns] = model.predict_proba(X[rows])
                member_probs[name][rows] = proba
            seconds[name] += time.perf_counter() - t0
    accuracy = {name: float((member_probs[name].argmax(axis=1) == labels).mean()) for name in used}
    # Averaging in a member that is clearly worse than the best adds its systematic mistakes
    # to the ranking; leave such members out (their accuracy is still reported).
    best = max(accuracy.values())
    kept = [name for name in used if accuracy[name] >= best - drop_below_best]
    for name in used:
        if name not in kept:
            skipped[name] = (
                f"out-of-fold accuracy {accuracy[name]:.3f} is more than {drop_below_best} below "
                f"the best member's {best:.3f}"
            )
    probabilities = np.mean([member_probs[name] for name in kept], axis=0, dtype=np.float64)
    probabilities /= probabilities.sum(axis=1, keepdims=True)
    del member_probs
    accuracy["ensemble"] = float((probabilities.argmax(axis=1) == labels).mean())
    return OutOfSample(
        probabilities=probabilities,
        labels=labels,
        models=tuple(kept),
        n_folds=folds,
        cv_accuracy=accuracy,
        subsampled=subsampled,
        max_fit_rows=max_fit_rows,
        fit_rows=fit_rows,
        seconds=seconds,
        skipped_models=skipped,
    )
