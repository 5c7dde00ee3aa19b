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

``gradient_boosting``
    Histogram gradient boosting with early stopping (threshold splits on raw columns, what
    tree-friendly tables such as churn or credit scoring need).

``models="auto"`` uses ``logistic + knn + extra_trees + gradient_boosting`` up to
``small_data_rows`` rows (gradient boosting only from ``BOOSTING_MIN_ROWS`` rows while rows x
features x classes <= ``BOOSTING_CELLS``; folds cut while (folds - 1) x rows > ``FOLD_ROW_BUDGET``) and ``logistic + mlp + mlp2`` above (with 2 folds), where kNN and deep
trees would spend most of the time budget predicting. A member whose out-of-fold accuracy ends
up clearly below the best member's (``drop_below_best``) is left out: it would add its own
systematic mistakes. The kept members are blended with the convex weights that minimize the
blend's out-of-fold log-loss (``weighting="log_loss"``), among the blends not clearly less
accurate than the best member (see ``log_loss_weights``).

Every member must earn its cost on the first fold. After the first fold's fits, judged on that
fold's held-out rows against the leader (the most accurate member there), a member is not fitted
on the other folds when it is more than ``2 x drop_below_best`` behind, or when it is more than
``drop_below_best / 2`` behind, that gap is beyond noise (more than ``CLEAR_Z`` standard errors of
the paired accuracy difference, ``accuracy_gap_z``) *and* the plain average of it and the leader
is no more accurate than the leader alone. A twin (``mlp2``, another draw of ``mlp``: ``TWINS``)
is fitted after that screening, and only while its original is still in. The margin matters as
much as the noise test: accuracy against partly wrong labels is not how well a member ranks the
wrong ones. On ``datagen.py``'s file at 1M rows (fits on 200,000 rows) the MLP is 0.005 behind
logistic regression on the first fold (0.937 against 0.942, 30 standard errors), yet it ranks
the planted flips better (F1 on that fold's rows 0.973 against 0.955; blended 0.982): it is kept.
At 100k rows (fits on 50,000 rows) it is 0.020 behind (0.914 against 0.933), ranks them worse
(0.910) and averaging it in lowers the accuracy to 0.923: neither MLP is fitted further, which
takes ``label_issues`` from 12.2 s to 4.4 s and its F1 from 0.953 to 0.959 (logistic regression
alone).

Two members can be judged on the first fold before their whole cost is paid (``sure_drop``):
extra trees are grown to ``PEEK_TREES`` trees first (warm start: grown on, they are the forest a
full fit gives, bit for bit), and kNN predicts a systematic sample of about ``PEEK_ROWS`` held-out
rows first. Either is left out at once when it is already behind the most accurate member fitted
before it by more than the far-behind margin plus what the rest could change (``PEEK_TREE_SLACK``
for the rest of the forest, ``PEEK_Z`` standard errors for the other rows), so that a member a
peek drops is one the full first fold would have dropped too; the probabilities are the same
either way. On ``datagen.py``'s 10k file both are dropped so (kNN 0.63 against 0.92 on 400 rows,
10 trees 0.71 against 0.93): the background fits take about 0.7 s less there.

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
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from dataaudit.exceptions import ConfigError, InputError
from dataaudit.oos_blend import CLEAR_Z, accuracy_gap_z, log_loss_weights
from dataaudit.oos_models import MODELS
from dataaudit.oos_models import make_model as _make_model

__all__ = ["CLEAR_Z", "MODELS", "OutOfSample", "accuracy_gap_z", "cv_folds", "fold_count", "log_loss_weights",
           "out_of_sample_probabilities", "resolve_models"]

SMALL_DATA_MODELS: tuple[str, ...] = ("logistic", "knn", "extra_trees", "gradient_boosting")
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
        accurate than the best is dropped after cross-validation, see ``drop_below_best``, or
        after the first fold, see the module docstring).
    n_folds : int
        Number of cross-validation folds actually used.
    cv_accuracy : dict
        Out-of-fold accuracy against the given labels per member fitted (blended or not; for a
        member dropped after the first fold, on that fold's rows) and for ``"ensemble"``.
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
    weights : dict
        Member name -> its weight in the blend (``weighting``; they sum to 1).
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
    weights: dict[str, float] = field(default_factory=dict)

    @property
    def predicted(self) -> np.ndarray:
        """Most probable class code per row."""
        return np.asarray(self.probabilities.argmax(axis=1), dtype=np.int64)


# Gradient boosting fits one tree per class per round on histograms of every feature: it joins
# "auto" while rows x features x classes stays below this (credit, churn, digits, diamonds at 20k
# rows x 26 features x 5 grades, where it is the best member by 0.12 held-out accuracy; not the
# 10k x 78 x 10 synthetic file, where it alone would cost more than the rest of the ensemble).
BOOSTING_CELLS = 3_000_000
# Folds while (folds - 1) x rows, the rows each member is fitted on over all folds, stays within
# this (5 folds up to 20,000 rows, 3 up to 40,000, then 2): the cost per row falls with size.
# 80,000 rather than 40,000: on diamonds `cut` (20,000 rows, gradient boosting the only member
# kept) 3 folds fitted each model on a third less data, and F1 with 10 % flips fell 0.02 behind
# cleanlab on 5-fold gradient boosting (0.509 / 0.505 vs 0.523 / 0.516 with 5 folds, 2 seeds).
FOLD_ROW_BUDGET = 80_000
# ... and from this many rows on: below it, early stopping holds out a handful of rows and the
# boosted probabilities are noisier than the other members'.
BOOSTING_MIN_ROWS = 500
# The first fold's peeks (see the module docstring): extra trees grown to PEEK_TREES trees first,
# with PEEK_TREE_SLACK for what the rest of the forest may add (the deficit of 10 trees against the
# full forest on the first fold was at most 0.09 accuracy on the small quality tables, wine and
# penguins, and at most 0.05 from 1,000 rows); kNN predicting about PEEK_ROWS held-out rows first;
# either left out when already PEEK_Z standard errors beyond the far-behind margin.
PEEK_TREES = 10
PEEK_TREE_SLACK = 0.10
PEEK_ROWS = 400
PEEK_Z = 3.0
# A member that only re-draws another's initialization and batch order: fitted only while the
# other one is kept (after the first fold's screening), since it can add no more than it does.
TWINS: dict[str, str] = {"mlp2": "mlp"}


def resolve_models(models: str | Sequence[str], n_rows: int, small_data_rows: int,
                   n_classes: int = 2, n_features: int = 1) -> tuple[list[str], dict[str, str]]:
    """The members to use for ``n_rows`` rows and, for each requested one left out, why.

    Raises
    ------
    ConfigError
        Unknown model names, or none left to run.
    """
    if isinstance(models, str):
        if models != "auto":
            raise ConfigError(f"models must be 'auto' or a list from {list(MODELS)}; got {models!r}.")
        if n_rows > small_data_rows:
            return list(LARGE_DATA_MODELS), {}
        if n_rows * n_features * max(n_classes, 2) > BOOSTING_CELLS or n_rows < BOOSTING_MIN_ROWS:
            return [m for m in SMALL_DATA_MODELS if m != "gradient_boosting"], {
                "gradient_boosting": f"{n_rows} rows x {n_features} features x {n_classes} classes: boosting "
                                     f"joins from {BOOSTING_MIN_ROWS} rows up to {BOOSTING_CELLS:,} cells"}
        return list(SMALL_DATA_MODELS), {}
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


def cv_folds(labels: np.ndarray, n_folds: int, seed: int, groups: np.ndarray | None = None,
             stratify: bool = True) -> list[tuple[np.ndarray, np.ndarray]]:
    """(train, test) row positions of shuffled K-fold; stratified by ``labels`` when classes,
    grouped when ``groups`` is given (fewer folds when there are fewer groups than folds)."""
    from sklearn.model_selection import GroupKFold, KFold, StratifiedGroupKFold, StratifiedKFold

    placeholder = np.zeros(len(labels))
    if groups is not None:
        n_groups = len(np.unique(groups))
        folds = max(2, min(n_folds, n_groups))
        if n_groups < 2:
            raise InputError("group folds need at least 2 distinct groups.")
        splitter: Any = (StratifiedGroupKFold(n_splits=folds, shuffle=True, random_state=seed) if stratify
                         else GroupKFold(n_splits=folds, shuffle=True, random_state=seed))
        return list(splitter.split(placeholder, labels, groups))
    splitter = (StratifiedKFold(n_splits=n_folds, shuffle=True, random_state=seed) if stratify
                else KFold(n_splits=n_folds, shuffle=True, random_state=seed))
    return list(splitter.split(placeholder, labels))


def fold_count(n_rows: int, n_folds: int, smallest_class: int, max_fit_rows: int = 200_000,
               small_data_rows: int = 50_000) -> int:
    """Folds for ``n_rows`` rows: ``n_folds``, at most the smallest class's size, fewer while
    (folds - 1) x rows > ``FOLD_ROW_BUDGET``, 2 above ``small_data_rows`` or once every fold would be
    subsampled to ``max_fit_rows``; never fewer than 2."""
    folds = max(2, min(n_folds, smallest_class, FOLD_ROW_BUDGET // max(n_rows, 1) + 1))
    if n_rows // 2 >= max_fit_rows or n_rows > small_data_rows:
        # Every fold would be subsampled to max_fit_rows anyway, or the training parts are
        # large already: more folds would refit the same large models more often for little
        # gain, and the cost per row would rise with size (5 folds at 100k rows cost more than
        # 2 folds at 1M).
        folds = 2
    return folds


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
    groups: np.ndarray | None = None,
    weighting: str = "log_loss",
    on_step: Callable[[str, int | None, int | None], None] | None = None,
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
        Requested folds (>= 2). Reduced to the size of the smallest class, while (folds - 1) x
        rows > ``FOLD_ROW_BUDGET``, and to 2 when every fold's training part would be subsampled.
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
    groups : ndarray of shape (n_rows,), optional
        Entity codes (``Dataset.group``): folds are then ``StratifiedGroupKFold``, so no entity
        has rows on both sides of a fold and a model cannot recognize an entity it was fitted on.
    weighting : {"log_loss", "equal"}
        How the kept members are blended: the convex weights (a grid of step 0.1) that minimize
        the blend's out-of-fold log-loss against the given labels, or a plain average.
    on_step : callable, optional
        Told each model fit as it starts: ``on_step("fold 2 of 5: logistic", fits_done, fits_planned)``
        (``Progress.step``); it only observes.

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
    k_guess = int(n_classes) if n_classes is not None else (int(labels.max()) + 1 if len(labels) else 0)
    used, skipped = resolve_models(models, len(labels), small_data_rows, k_guess, X.shape[1])
    if weighting not in ("log_loss", "equal"):
        raise ConfigError(f"weighting must be 'log_loss' or 'equal'; got {weighting!r}.")
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
    folds = fold_count(n, n_folds, int(present.min()), max_fit_rows, small_data_rows)
    X = _impute(X.astype(np.float32, copy=False))

    rng = np.random.default_rng(seed)
    if groups is not None and len(groups) != n:
        raise InputError(f"groups has {len(groups)} entries for {n} rows.")
    # float32 per member: at 1M rows x 10 classes each member costs 40 MB.
    member_probs = {name: np.zeros((n, k), dtype=np.float32) for name in used}
    seconds = dict.fromkeys(used, 0.0)
    fit_rows = 0
    subsampled = False
    fold_list = cv_folds(labels, folds, seed, groups)
    folds = len(fold_list)
    early_dropped: dict[str, str] = {}
    early_accuracy: dict[str, float] = {}
    fits_done = 0
    first_fitted: list[str] = []

    def predict(name: str, model: Any, rows_all: np.ndarray) -> None:
        columns = np.asarray(model.classes_, dtype=np.int64)
        for start in range(0, len(rows_all), predict_batch):
            rows = rows_all[start : start + predict_batch]
            proba = np.zeros((len(rows), k), dtype=np.float64)
            proba[:, columns] = model.predict_proba(X[rows])
            member_probs[name][rows] = proba

    def fit(model: Any, fit_idx: np.ndarray) -> None:
        # One BLAS/OpenMP thread: the fits are many small matrix products, where thread hand-offs
        # cost more than they save (and the cores are shared with the other checks).
        with warnings.catch_warnings(), threadpool_limits(limits=1):
            # lbfgs/Adam may stop at max_iter on noisy labels; the probabilities are usable.
            warnings.simplefilter("ignore")
            model.fit(X[fit_idx], labels[fit_idx])

    def fit_member(name: str, fold: int, fit_idx: np.ndarray, test: np.ndarray, pending: int) -> None:
        """Fit ``name`` on ``fit_idx`` and predict ``test``; ``pending`` fits left in this fold, this one included."""
        nonlocal fits_done
        if on_step is not None:
            on_step(f"fold {fold + 1} of {folds}: {name}", fits_done, fits_done + pending + (folds - fold - 1) * len(used))
        fits_done += 1
        t0 = time.perf_counter()
        model = _make_model(name, len(fit_idx), seed + fold)
        leaders = [m for m in first_fitted if m in used] if fold == 0 and drop_below_best < 1.0 else []
        if fold == 0:
            first_fitted.append(name)
        rest = fit_with_peeks(name, model, fit_idx, test, leaders)
        if rest is not None:
            predict(name, model, rest)
        seconds[name] += time.perf_counter() - t0

    def fit_with_peeks(name: str, model: Any, fit_idx: np.ndarray, test: np.ndarray,
                       leaders: list[str]) -> np.ndarray | None:
        """Fit ``model``; the ``test`` rows still to predict, or None when a peek left it out (``sure_drop``)."""
        if leaders and name == "extra_trees" and model.n_estimators > PEEK_TREES:
            # A first few trees, judged on the held-out rows; grown to the full forest only when
            # they are not far behind (warm start: the grown forest is the one a full fit gives).
            full = model.n_estimators
            model.set_params(n_estimators=PEEK_TREES, warm_start=True)
            fit(model, fit_idx)
            predict(name, model, test)
            if sure_drop(name, leaders, test, f"with {PEEK_TREES} of its {full} trees", PEEK_TREE_SLACK, False):
                return None
            model.set_params(n_estimators=full)
        fit(model, fit_idx)
        if leaders and name == "knn" and len(test) > 2 * PEEK_ROWS:
            # Predicting every held-out row is kNN's whole cost: a systematic sample of them first.
            peek = test[:: len(test) // PEEK_ROWS]
            predict(name, model, peek)
            if sure_drop(name, leaders, peek, f"on {len(peek)} of the first fold's held-out rows", 0.0, True):
                return None
            return np.setdiff1d(test, peek, assume_unique=True)
        return test

    def sure_drop(name: str, leaders: list[str], rows: np.ndarray, how: str, slack: float, sampled: bool) -> bool:
        """Whether a peek at ``name`` (a part of its model, or of the rows) already shows it far behind.

        Far behind is the first fold's rule (more than ``2 x drop_below_best`` below the best
        member's accuracy), widened by ``slack`` (what the rest of the model may still gain) and by
        ``PEEK_Z`` standard errors of the paired accuracy difference (what the other rows may hold),
        so that whatever it drops the full fit would have dropped too.
        """
        correct = member_probs[name][rows].argmax(axis=1) == labels[rows]
        lead = {m: member_probs[m][rows].argmax(axis=1) == labels[rows] for m in leaders}
        leader = max(leaders, key=lambda m: float(lead[m].mean()))
        accuracy, best = float(correct.mean()), float(lead[leader].mean())
        se = float(np.sqrt(np.var(lead[leader].astype(float) - correct) / len(rows))) if sampled else 0.0
        margin = 2 * drop_below_best + slack + PEEK_Z * se
        if accuracy >= best - margin:
            return False
        leave_out(name, accuracy, f"first-fold accuracy {how} {accuracy:.3f} is more than {margin:.3f} below "
                                  f"{leader}'s {best:.3f} (twice {drop_below_best:g}, plus what the rest may "
                                  f"change); not fitted on the other folds")
        return True

    def screen_first_fold(candidates: list[str]) -> None:
        """Stop fitting the members that cannot earn their cost, judged on the first fold's held-out rows."""
        first = fold_list[0][1]
        fitted = [m for m in first_fitted if m in used]
        correct = {m: member_probs[m][first].argmax(axis=1) == labels[first] for m in fitted}
        leader = max(fitted, key=lambda m: float(correct[m].mean()))
        best_accuracy = float(correct[leader].mean())
        for m in candidates:
            accuracy = float(correct[m].mean())
            reason = None
            if accuracy < best_accuracy - 2 * drop_below_best:
                # Far behind will not catch up (twice the margin of the final rule, for the noise of one fold).
                reason = (f"first-fold accuracy {accuracy:.3f} is more than {2 * drop_below_best:g} below "
                          f"the best member's {best_accuracy:.3f}; not fitted on the other folds")
            elif m != leader and drop_below_best < 1.0:
                z = accuracy_gap_z(correct[m], correct[leader])
                mean = (member_probs[m][first] + member_probs[leader][first]).argmax(axis=1) == labels[first]
                if (z > CLEAR_Z and accuracy < best_accuracy - drop_below_best / 2
                        and float(mean.mean()) <= best_accuracy):
                    reason = (f"first-fold accuracy {accuracy:.3f} is more than {drop_below_best / 2:g} below "
                              f"the best member's {best_accuracy:.3f} ({z:.1f} standard errors) and averaging it "
                              f"in does not raise that ({float(mean.mean()):.3f}); not fitted on the other folds")
            if reason is not None:
                leave_out(m, accuracy, reason)

    def leave_out(name: str, accuracy: float, reason: str) -> None:
        """Fit ``name`` on no further fold (its first-fold ``accuracy`` is reported), nor its twin."""
        used.remove(name)
        early_accuracy[name] = accuracy
        early_dropped[name] = reason
        for twin, base in TWINS.items():
            if base == name and twin in used and twin not in first_fitted:
                used.remove(twin)
                early_dropped[twin] = (f"another initialization of {name}, fitted only while {name} is "
                                       f"kept; {name} was left out after the first fold")

    for fold, (train, test) in enumerate(fold_list):
        fit_idx = _fit_sample(train, labels, max_fit_rows, rng)
        subsampled |= len(fit_idx) < len(train)
        fit_rows = max(fit_rows, len(fit_idx))
        if fold > 0:
            for i, name in enumerate(used):
                fit_member(name, fold, fit_idx, test, len(used) - i)
            continue
        # The first fold: the members, a screening, then the twins of those still in and theirs.
        twins = [m for m in used if TWINS.get(m) in used]
        for batch in ([m for m in used if m not in twins], twins):
            for name in [m for m in batch if m in used]:
                fit_member(name, fold, fit_idx, test, len([m for m in used if m not in first_fitted]))
            if len(used) > 1 and any(m in used for m in batch):
                screen_first_fold([m for m in batch if m in used])
    skipped.update(early_dropped)
    accuracy = {name: float((member_probs[name].argmax(axis=1) == labels).mean()) for name in used}
    accuracy.update(early_accuracy)  # on the first fold's rows only
    # Averaging in a member that is clearly worse than the best adds its systematic mistakes
    # to the ranking; leave such members out (their accuracy is still reported).
    best = max(accuracy[name] for name in used)
    kept = [name for name in used if accuracy[name] >= best - drop_below_best]
    for name in used:
        if name not in kept:
            skipped[name] = (
                f"out-of-fold accuracy {accuracy[name]:.3f} is more than {drop_below_best} below "
                f"the best member's {best:.3f}"
            )
    weights = (log_loss_weights([member_probs[name] for name in kept], labels, seed=seed) if weighting == "log_loss"
               else np.full(len(kept), 1.0 / len(kept)))
    probabilities = np.zeros((n, k), dtype=np.float64)
    for name, weight in zip(kept, weights, strict=True):
        if weight > 0:
            probabilities += weight * member_probs[name]
    probabilities /= probabilities.sum(axis=1, keepdims=True)
    member_probs.clear()  # the members' arrays are no longer needed
    accuracy["ensemble"] = float((probabilities.argmax(axis=1) == labels).mean())
    return OutOfSample(
        probabilities=probabilities,
        labels=labels,
        models=tuple(kept),
        weights={name: round(float(w), 4) for name, w in zip(kept, weights, strict=True)},
        n_folds=folds,
        cv_accuracy=accuracy,
        subsampled=subsampled,
        max_fit_rows=max_fit_rows,
        fit_rows=fit_rows,
        seconds={name: s for name, s in seconds.items() if name in first_fitted},
        skipped_models=skipped,
    )
