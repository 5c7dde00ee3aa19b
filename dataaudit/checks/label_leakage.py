"""Label leakage: a feature column, or a pair of them, that (nearly) determines the label.

Every feature column is turned into *cells*: its values for a categorical or boolean column
(missing is a value of its own), the leaves of a one-feature decision tree for a numeric or
datetime column (so thresholds count: a column whose sign is the label is found). On one random
half of (a sample of) the labelled rows each cell learns its majority label (classification) or
its mean (regression); the other half is predicted from that, then the halves swap, so every
sampled row is predicted by a rule that never saw it. Held-out scoring is what keeps a near-unique
column from looking perfect.

What "determines" means, for classification (all measured on the held-out predictions):

``lift``
    Accuracy lift over always predicting the majority class, ``(acc - majority) / (1 - majority)``,
    computed after setting aside the rare classes (the smallest ones, together at most
    ``rare_share`` of the rows). A near-deterministic mapping that a rare class breaks, such as
    a lab value that decides "positive" vs "negative" while "invalid" tests share the negative
    value, is still seen; balanced accuracy (the old rule) averages the broken rare class in as
    one of three classes and misses it.
``uncertainty_coefficient``
    Theil's U, ``1 - H(label | cells) / H(label)`` with the conditional entropy measured as the
    held-out cross-entropy of the cells' smoothed label frequencies: the share of the label's
    information the column carries.
``balanced_accuracy``
    Mean per-class recall (kept: the old rule still flags what it flagged).

For regression the measure is the held-out ``r2`` of the cells' means: a column that alone
explains the target.

Pairs, two kinds, both bounded so the search stays linear in the columns:

``a + b`` (cells of both columns)
    The best single-column candidates that are not flagged alone (at most ``pair_candidates``
    of them) are combined two by two (cells of one x cells of the other).
``a within b`` (rank of a within each value of b)
    Each numeric candidate among those is ranked within every value of a *grouping* column
    (at most ``pair_partners`` of them: categorical, boolean or numeric with 2 to 64 distinct
    values and at least 20 sampled rows per value on average; those whose values say least
    about the label in-sample first, as a label computed per group is spread alike over them), and
    its within-group percentile, cut into 60 equal bins, is the cell. This is how a label
    computed per group is seen: a within-year quartile of a score is not determined by the
    score alone (the cut-offs move from year to year) nor by the year, but by the score's rank
    within its year. Ranking uses no label, and ties share their average rank.

A pair is flagged when together the columns determine the label while neither does alone
(scored the same way). ``fit-transform`` drops what carries the leak: both columns of an
``a + b`` pair, only the ranked column of an ``a within b`` pair (the grouping column, a year
or a region, is no leak by itself); the finding lists them in ``details.drop``.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import combinations
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np
import pandas as pd

from dataaudit.checks._base import AuditContext, Check, register
from dataaudit.checks._leakage_cut import describe_cut, exact_cut
from dataaudit.checks._leakage_pairs import (
    grouping_codes,
    grouping_partners,
    percentile_cells,
    within_group_percentile,
)
from dataaudit.checks._leakage_tree import OneFeatureTree
from dataaudit.exceptions import ConfigError
from dataaudit.findings import CheckResult, Code, PerColumn
from dataaudit.shared import Memo, MemoKey

if TYPE_CHECKING:
    from dataaudit.dataset import Dataset

__all__ = [
    "LabelLeakage",
    "LeakageRule",
    "LeakageScores",
    "LeakageScoresKey",
    "balanced_accuracy",
    "column_leakage_scores",
]

# Roles whose columns are scored; ID, constant and free-text columns are not features to test.
_NUMERIC_ROLES = ("numeric", "datetime")
_CATEGORICAL_ROLES = ("categorical", "boolean")
# A one-feature tree learns its splits on at most this many rows.
_TREE_ROWS = 10_000


def balanced_accuracy(truth: np.ndarray, predicted: np.ndarray, n_classes: int) -> float:
    """Mean per-class recall over the classes present in ``truth`` (codes 0 .. n_classes - 1)."""
    support = np.bincount(truth, minlength=n_classes)
    hits = np.bincount(truth[truth == predicted], minlength=n_classes)
    present = support > 0
    return float((hits[present] / support[present]).mean()) if present.any() else 0.0


@dataclass(frozen=True)
class LeakageRule:
    """When a column (or pair) counts as determining the label; see the module docstring."""

    lift: float = 0.96  # accuracy lift over the majority, rare classes set aside
    uncertainty: float = 0.95  # Theil's U (share of the label's entropy explained)
    balanced_accuracy: float = 0.98  # the original rule, still applied
    r2: float = 0.98  # regression: held-out R^2 of the column alone
    rare_share: float = 0.05  # the smallest classes, together at most this share, are set aside
    cut_rows: int = 20  # an in-sample exact cut counts when every class has at least this many rows

    def flags(self, score: dict[str, Any]) -> bool:
        if score.get("exact_cut"):  # one in-sample cut separates the classes on every row
            return True
        if "r2" in score:
            return bool(score["r2"] >= self.r2)
        return bool(score["lift"] >= self.lift or score["uncertainty_coefficient"] >= self.uncertainty
                    or score["balanced_accuracy"] >= self.balanced_accuracy)


def _category_codes(values: pd.Series) -> np.ndarray:
    """Integer code per value, with missing values as a category of their own."""
    codes, _ = pd.factorize(values, use_na_sentinel=True)
    codes = codes.astype(np.int64)
    codes[codes < 0] = codes.max() + 1  # missingness can itself leak the label
    return codes


def _tree_cells(values: np.ndarray, target: np.ndarray, fit: np.ndarray, test: np.ndarray, k: int,
                seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Leaf index of every ``fit`` and ``test`` row in a one-feature tree fitted on ``fit``."""
    # Enough leaves to carve one interval per class several times over, few enough that noise
    # cannot be memorized (the score is on held-out rows anyway). NaN goes to a learned side.
    max_leaves = max(16, 4 * k) if k else 32
    # The splits are learned on at most _TREE_ROWS of the fit rows (the cells' labels then come
    # from every fit row): thresholds that many rows place are as good.
    learn = fit if len(fit) <= _TREE_ROWS else np.random.default_rng(seed).choice(fit, _TREE_ROWS, replace=False)
    # In single precision, as scikit-learn's trees see their input: the same values tie.
    single = values.astype(np.float32).astype(np.float64)
    tree = OneFeatureTree(single[learn], target[learn], k, max_leaves, min_leaf=5)
    return tree.apply(single[fit]), tree.apply(single[test])


def _predict_cells(cells_fit: np.ndarray, cells_test: np.ndarray, target_fit: np.ndarray, k: int,
                   prior: np.ndarray | float) -> tuple[np.ndarray, np.ndarray | None]:
    """Held-out prediction of each test row from its cell's training rows.

    Classification (``k`` classes): (majority label, smoothed label frequencies); cells never
    seen while fitting get the overall majority and prior, so a near-unique column cannot look
    predictive just because every value maps to one row's label. Regression (``k == 0``): the
    cell mean (unseen cells: the overall mean) and None.
    """
    n_cells = int(max(cells_fit.max(initial=0), cells_test.max(initial=0))) + 1
    if k:
        prior_arr = np.asarray(prior, dtype=np.float64)
        table = np.bincount(cells_fit * k + target_fit, minlength=n_cells * k).reshape(n_cells, k).astype(np.float64)
        seen = table.sum(axis=1) > 0
        majority = np.where(seen, table.argmax(axis=1), int(prior_arr.argmax()))
        # One pseudo-row of the prior per cell: held-out cross-entropy stays finite.
        frequencies = (table + prior_arr) / (table.sum(axis=1, keepdims=True) + 1.0)
        return majority[cells_test], frequencies[cells_test]
    sums = np.bincount(cells_fit, weights=target_fit, minlength=n_cells)
    counts = np.bincount(cells_fit, minlength=n_cells)
    means = np.where(counts > 0, sums / np.maximum(counts, 1), float(prior))
    return means[cells_test], None


def _classification_score(labels: np.ndarray, predicted: np.ndarray, frequencies: np.ndarray, k: int,
                          rare_share: float) -> dict[str, Any]:
    counts = np.bincount(labels, minlength=k)
    share = counts / max(len(labels), 1)
    accuracy = float((labels == predicted).mean())
    # Rare classes: the smallest present ones, together at most rare_share of the rows.
    order = np.argsort(counts, kind="stable")
    order = order[counts[order] > 0]
    rare = order[np.cumsum(share[order]) <= rare_share]
    common = ~np.isin(labels, rare)
    lift = 0.0
    if common.any():
        majority = np.bincount(labels[common], minlength=k).max() / common.sum()
        if majority < 1.0:
            lift = (float((labels[common] == predicted[common]).mean()) - majority) / (1.0 - majority)
    present = share[share > 0]
    entropy = float(-(present * np.log(present)).sum())
    cross_entropy = float(-np.log(np.clip(frequencies[np.arange(len(labels)), labels], 1e-12, 1.0)).mean())
    return {
        "accuracy": round(accuracy, 6),
        "majority_accuracy": round(float(share.max()), 6),
        "balanced_accuracy": round(balanced_accuracy(labels, predicted, k), 6),
        "lift": round(float(lift), 6),
        "rare_classes": rare.tolist(),
        "uncertainty_coefficient": round(1.0 - cross_entropy / entropy, 6) if entropy > 0 else 0.0,
    }


def _regression_score(target: np.ndarray, predicted: np.ndarray) -> dict[str, Any]:
    total = float(((target - target.mean()) ** 2).sum())
    r2 = 1.0 - float(((target - predicted) ** 2).sum()) / total if total > 0 else 0.0
    return {"r2": round(r2, 6)}


@dataclass(frozen=True)
class LeakageScores:
    """Held-out scores of each feature column (and bounded pairs) predicting the label alone.

    Attributes
    ----------
    scores : dict
        Column -> measures (see the module docstring) plus ``method`` and ``role``.
    pairs : dict
        ``"a + b"`` -> the same measures for the pairs tried, plus ``columns``.
    rows : ndarray
        The sampled, labelled row numbers the scores were estimated on.
    task : str
        ``"classification"`` or ``"regression"``.
    n_classes : int
        Number of label classes (0 for regression).
    classes : list
        The class values (the ``rare_classes`` entries index into it).
    """

    scores: dict[str, dict[str, Any]]
    pairs: dict[str, dict[str, Any]]
    rows: np.ndarray
    task: str
    n_classes: int
    classes: list[Any]

    def leaky(self, rule: LeakageRule | None = None) -> list[str]:
        """Columns that alone determine the label under ``rule``, strongest first."""
        rule = rule or LeakageRule()
        found = [c for c, s in self.scores.items() if rule.flags(s)]
        return sorted(found, key=lambda c: (-_strength(self.scores[c]), c))

    def leaky_pairs(self, rule: LeakageRule | None = None) -> list[str]:
        """Pairs that together determine the label (neither column does alone), strongest first."""
        rule = rule or LeakageRule()
        found = [p for p, s in self.pairs.items() if rule.flags(s)]
        return sorted(found, key=lambda p: (-_strength(self.pairs[p]), p))


@dataclass(frozen=True)
class LeakageScoresKey(MemoKey[LeakageScores]):
    """Every input of ``column_leakage_scores``: the dataset's identity and the scoring options."""

    dataset: str  # Dataset.sha256
    n_rows: int
    label: str | None
    task: str | None
    seed: int
    max_rows: int
    rule: LeakageRule
    pair_candidates: int
    pair_partners: int


def _strength(score: dict[str, Any]) -> float:
    return float(score["r2"] if "r2" in score else max(score["lift"], score["uncertainty_coefficient"]))


def column_leakage_scores(dataset: Dataset, *, seed: int = 0, max_rows: int = 50_000,
                          memo: Memo | None = None, rule: LeakageRule | None = None,
                          pair_candidates: int = 5, pair_partners: int = 12) -> LeakageScores:
    """Score how well each feature column alone, and bounded pairs, predict the label.

    Parameters
    ----------
    dataset : Dataset
        A dataset with a label (classes or a numeric regression target).
    seed : int
        Seeds the row sample and the halves.
    max_rows : int
        Rows sampled among the labelled ones.
    memo : Memo, optional
        ``AuditContext.memo``: the scores are stored there (``LeakageScoresKey``) and reused by
        the other label checks (``label_issues`` leaves leaky columns out of its models).
    rule : LeakageRule, optional
        Decides which single columns are already leaky (those are not paired).
    pair_candidates : int
        The best this many single columns not flagged alone are paired (``0``: no pairs).
    pair_partners : int
        Numeric candidates are also ranked within each of at most this many grouping columns
        (``0``: no "a within b" pairs).

    Returns
    -------
    LeakageScores
    """
    rule = rule or LeakageRule()
    key = LeakageScoresKey(dataset.sha256, dataset.n_rows, dataset.label, getattr(dataset, "task", None), seed,
                           max_rows, rule, pair_candidates, pair_partners)
    known = memo.lookup(key) if memo is not None else None
    if known is not None:
        return known
    task = "regression" if getattr(dataset, "task", None) == "regression" else "classification"
    assert dataset.label is not None
    if task == "classification":
        codes, class_values = dataset.label_codes
        k = len(class_values)
        labelled = np.flatnonzero(codes >= 0)
        target_all: np.ndarray = codes
        classes = [v.item() if isinstance(v, np.generic) else v for v in class_values]
    else:
        target_all = pd.to_numeric(dataset.frame[dataset.label], errors="coerce").to_numpy(dtype=np.float64)
        labelled = np.flatnonzero(np.isfinite(target_all))
        k, classes = 0, []
    rng = np.random.default_rng(seed)
    sample = np.sort(rng.choice(labelled, size=min(max_rows, len(labelled)), replace=False))
    target = target_all[sample]
    order = rng.permutation(len(sample))
    halves = ((order[: len(order) // 2], order[len(order) // 2 :]),
              (order[len(order) // 2 :], order[: len(order) // 2]))
    prior: np.ndarray | float = (np.bincount(target, minlength=k) / max(len(target), 1)) if k else float(target.mean())

    def score(cells: list[tuple[np.ndarray, np.ndarray]]) -> dict[str, Any]:
        predicted = np.zeros(len(sample), dtype=np.int64 if k else np.float64)
        frequencies = np.zeros((len(sample), k)) if k else None
        for (fit, test), (cells_fit, cells_test) in zip(halves, cells, strict=True):
            guess, freq = _predict_cells(cells_fit, cells_test, target[fit], k, prior)
            predicted[test] = guess
            if frequencies is not None and freq is not None:
                frequencies[test] = freq
        if frequencies is not None:
            return _classification_score(target, predicted, frequencies, k, rule.rare_share)
        return _regression_score(target, predicted)

    scores: dict[str, dict[str, Any]] = {}
    column_cells: dict[str, list[tuple[np.ndarray, np.ndarray]]] = {}
    numeric_values: dict[str, np.ndarray] = {}
    groupings: dict[str, np.ndarray] = {}
    for column in dataset.feature_columns:
        role = dataset.roles.get(column)
        values = dataset.frame[column].iloc[sample]
        if role in _NUMERIC_ROLES:
            numbers = _as_float(values, role)
            if np.isnan(numbers).all():
                continue
            cells = [_tree_cells(numbers, target, fit, test, k, seed) for fit, test in halves]
            method = "one-feature decision tree"
        elif role in _CATEGORICAL_ROLES:
            category = _category_codes(values)
            cells = [(category[fit], category[test]) for fit, test in halves]
            method = "majority label per value" if k else "mean target per value"
        else:
            continue
        column_cells[column] = cells
        scores[column] = {**score(cells), "method": method, "role": role}
        if role in _NUMERIC_ROLES and k:
            cut = exact_cut(numbers, target, k, rule.cut_rows)
            if cut is not None:
                scores[column]["exact_cut"] = cut
        if role in _NUMERIC_ROLES:
            numeric_values[column] = numbers
        if pair_partners and not rule.flags(scores[column]):
            grouping = grouping_codes(numbers if role in _NUMERIC_ROLES else category)
            if grouping is not None:
                groupings[column] = grouping

    pairs: dict[str, dict[str, Any]] = {}
    candidates = sorted((c for c in scores if not rule.flags(scores[c])), key=lambda c: (-_strength(scores[c]), c))
    for a, b in combinations(candidates[:pair_candidates], 2):
        joint = []
        for (fit_a, test_a), (fit_b, test_b) in zip(column_cells[a], column_cells[b], strict=True):
            width = int(max(fit_b.max(initial=0), test_b.max(initial=0))) + 1
            joint.append((fit_a * width + fit_b, test_a * width + test_b))
        pair_score = score(joint)
        pairs[f"{a} + {b}"] = {**pair_score, "columns": [a, b], "drop": [a, b], "method": "cells of both columns"}
    ranked = [c for c in candidates[:pair_candidates] if c in numeric_values]
    if ranked and pair_partners:
        partners = grouping_partners(groupings, target, k, pair_partners)
        for a in ranked:
            by_value = np.argsort(numeric_values[a], kind="stable")
            for b, groups in partners.items():
                if b == a:
                    continue
                cells_ab = percentile_cells(within_group_percentile(numeric_values[a], groups, by_value))
                pair_score = score([(cells_ab[fit], cells_ab[test]) for fit, test in halves])
                pairs[f"{a} within {b}"] = {**pair_score, "columns": [a, b], "drop": [a],
                                            "method": f"percentile of {a} within each value of {b}"}
    result = LeakageScores(scores=scores, pairs=pairs, rows=sample, task=task, n_classes=k, classes=classes)
    return memo.put(key, result) if memo is not None else result


def _describe(name: str, score: dict[str, Any], label: str, classes: list[Any], rule: LeakageRule) -> str:
    """One line of evidence for a flagged column or pair, led by the statistic(s) that crossed their threshold."""
    if "r2" in score:
        return f"{name}: held-out R^2 {score['r2']:.3f} >= {rule.r2:g} for '{label}' on its own"
    rare = [str(classes[c]) for c in score.get("rare_classes", [])]
    shown = ", ".join(rare[:5]) + (f" and {len(rare) - 5} more" if len(rare) > 5 else "")
    aside = f" with the rare class(es) {shown} set aside" if rare else ""
    statistics = [(f"lift{aside}", "lift", rule.lift), ("uncertainty coefficient", "uncertainty_coefficient",
                   rule.uncertainty), ("balanced accuracy", "balanced_accuracy", rule.balanced_accuracy)]
    fired = [f"{text} {score[key]:.3f} >= {limit:g}" for text, key, limit in statistics if score[key] >= limit]
    others = [f"{text} {score[key]:.3f}" for text, key, limit in statistics if score[key] < limit]
    return (f"{name}: {', '.join(fired) or 'flagged'} (held-out accuracy {score['accuracy']:.1%} vs "
            f"{score['majority_accuracy']:.1%} for always the majority class"
            + "".join(f"; {text}" for text in others) + ")")


@register
class LabelLeakage(Check):
    """Feature columns, alone or in pairs, that (nearly) determine the label: a copy or proxy of the target.

    Each column's values (categorical) or one-feature tree leaves (numeric, datetime) learn the
    label on one random half of (a sample of) the labelled rows and predict the other half, then
    the halves swap. Flagged when held-out accuracy lift over the majority class (rare classes
    set aside) or the uncertainty coefficient says the column determines the label (R^2 for a
    regression target); the best few unflagged columns are also tried in pairs, two by two and
    (numeric ones) ranked within the values of a grouping column. See the module docstring. ID,
    constant and text columns are skipped. ``fit-transform`` drops the columns that carry a leak
    (``details.drop``) unless told to keep them (``--keep-leaky``).

    Options
    -------
    threshold : float
        Balanced accuracy at or above which a column is flagged (the original rule).
    lift : float
        Accuracy lift over the majority class (rare classes set aside) at or above which a
        column is flagged.
    uncertainty : float
        Uncertainty coefficient at or above which a column is flagged.
    r2 : float
        Regression: held-out R^2 at or above which a column is flagged.
    rare_share : float
        The smallest classes, together at most this share of the rows, are set aside for ``lift``.
    pair_candidates : int
        How many of the best unflagged single columns are tried in pairs (0: no pairs).
    pair_partners : int
        How many grouping columns the numeric ones among those are ranked within ("a within b"
        pairs; 0: none).
    max_rows : int
        Rows sampled for the estimates (the check stays fast at millions of rows).
    min_rows : int
        Below this many labelled rows the check is skipped: held-out halves that small cannot
        tell a leak from luck.
    """

    name: ClassVar[str] = "label_leakage"
    codes: ClassVar[tuple[Code, ...]] = (
        Code("label_leakage", title="Label leakage", section="columns",
             action="Remove the column unless it is truly known at prediction time: it determines the "
                    "label (fit-transform drops it by default; --keep-leaky keeps it)."),
    )
    order: ClassVar[int] = 80
    needs_label: ClassVar[bool] = True

    def __init__(self, threshold: float = 0.98, lift: float = 0.96, uncertainty: float = 0.95,
                 r2: float = 0.98, rare_share: float = 0.05, pair_candidates: int = 5,
                 pair_partners: int = 12, max_rows: int = 50_000, min_rows: int = 30) -> None:
        for option, value in (("threshold", threshold), ("lift", lift), ("uncertainty", uncertainty), ("r2", r2)):
            if not 0.0 < value <= 1.0:
                raise ConfigError(f"label_leakage: {option} must be in (0, 1], got {value}.")
        if not 0.0 <= rare_share < 0.5:
            raise ConfigError(f"label_leakage: rare_share must be in [0, 0.5), got {rare_share}.")
        if max_rows < 2 * min_rows or min_rows < 4 or pair_candidates < 0 or pair_partners < 0:
            raise ConfigError(
                f"label_leakage: need min_rows >= 4, max_rows >= 2 * min_rows, pair_candidates >= 0 and "
                f"pair_partners >= 0; got min_rows={min_rows}, max_rows={max_rows}, "
                f"pair_candidates={pair_candidates}, pair_partners={pair_partners}."
            )
        self.threshold = threshold
        self.rule = LeakageRule(lift=lift, uncertainty=uncertainty, balanced_accuracy=threshold, r2=r2,
                                rare_share=rare_share)
        self.pair_candidates = pair_candidates
        self.pair_partners = pair_partners
        self.max_rows = max_rows
        self.min_rows = min_rows

    def scores(self, dataset: Dataset, context: AuditContext) -> LeakageScores:
        """The per-column and pair scores (kept in ``context.memo`` for the other label checks)."""
        return column_leakage_scores(dataset, seed=context.seed, max_rows=self.max_rows, memo=context.memo,
                                     rule=self.rule, pair_candidates=self.pair_candidates,
                                     pair_partners=self.pair_partners)

    def n_labelled(self, dataset: Dataset) -> int:
        if getattr(dataset, "task", None) == "regression":
            assert dataset.label is not None
            return int(pd.to_numeric(dataset.frame[dataset.label], errors="coerce").notna().sum())
        return int((dataset.label_codes[0] >= 0).sum())

    def run(self, dataset: Dataset, context: AuditContext) -> CheckResult:
        n_labelled = self.n_labelled(dataset)
        if n_labelled < self.min_rows:
            return self.skip(f"only {n_labelled} labelled rows; need at least {self.min_rows}")
        if dataset.task != "regression" and dataset.frame[dataset.label].nunique(dropna=True) < 2:
            return self.skip("the label has a single class")
        sampled = self.scores(dataset, context)
        scores, label = sampled.scores, str(dataset.label)
        measure = "r2" if sampled.task == "regression" else "lift"
        leaky, pairs = sampled.leaky(self.rule), sampled.leaky_pairs(self.rule)
        # Columns only an exact in-sample cut flags (the held-out scores did not) get a finding naming the cut.
        cuts = [c for c in leaky if scores[c].get("exact_cut") and not self.rule.flags({**scores[c], "exact_cut": None})]
        leaky = [c for c in leaky if c not in cuts]
        stats: dict[str, Any] = {
            "task": sampled.task,
            "n_columns_scored": len(scores),
            "n_rows_sampled": len(sampled.rows),
            "n_pairs_scored": len(sampled.pairs),
            measure: {c: s[measure] for c, s in scores.items()},
        }
        if sampled.task == "classification":
            stats["balanced_accuracy"] = {c: s["balanced_accuracy"] for c, s in scores.items()}
            stats["uncertainty_coefficient"] = {c: s["uncertainty_coefficient"] for c, s in scores.items()}
        findings = []
        rule = self.rule
        thresholds = ({"r2": rule.r2} if sampled.task == "regression" else
                      {"lift": rule.lift, "uncertainty_coefficient": rule.uncertainty,
                       "balanced_accuracy": rule.balanced_accuracy, "rare_share": rule.rare_share})
        action = ("Drop the column unless it is truly known at prediction time (fit-transform drops it "
                  "by default; --keep-leaky keeps it): a feature that determines the target is usually "
                  "a copy of it or recorded after it.")
        if leaky:
            evidence = "; ".join(_describe(f"'{c}'", scores[c], label, sampled.classes, rule) for c in leaky)
            findings.append(self.finding(
                "label_leakage", "error",
                f"{len(leaky)} column(s) alone determine the label '{label}': {evidence}. A model "
                f"trained with them would look excellent and fail where they are not available.",
                columns=tuple(leaky),
                evidence=PerColumn({c: scores[c] for c in leaky}),
                details={"kind": "column", "thresholds": thresholds,
                         "n_rows_sampled": len(sampled.rows), "drop": list(leaky), "action": action},
            ))
        if cuts:
            rules = "; ".join(describe_cut(c, scores[c]["exact_cut"], label, sampled.classes, scores[c]["role"],
                                           sampled=len(sampled.rows) < n_labelled) for c in cuts)
            findings.append(self.finding(
                "label_leakage", "error",
                f"{len(cuts)} column(s) separate the label '{label}' exactly at a cut: {rules}. Each class is "
                f"one interval of the column, with at least {self.rule.cut_rows} rows per class: the label "
                "is most likely defined from the column.",
                columns=tuple(cuts),
                evidence=PerColumn({c: scores[c] for c in cuts}),
                details={"kind": "exact_cut", "thresholds": {**thresholds, "cut_rows": self.rule.cut_rows},
                         "n_rows_sampled": len(sampled.rows), "drop": list(cuts), "action": action},
            ))
        if pairs:
            columns = tuple(dict.fromkeys(c for p in pairs for c in sampled.pairs[p]["columns"]))
            drop = list(dict.fromkeys(c for p in pairs for c in sampled.pairs[p]["drop"]))
            evidence = "; ".join(_describe(f"'{p}'", sampled.pairs[p], label, sampled.classes, rule) for p in pairs)
            findings.append(self.finding(
                "label_leakage", "warning",
                f"{len(pairs)} pair(s) of columns together determine the label '{label}' although "
                f"neither does alone ('a within b': the rank of a among the rows with the same b): "
                f"{evidence}. The leak is carried by {', '.join(repr(c) for c in drop)}.",
                columns=columns,
                details={"kind": "pair", "per_pair": {p: sampled.pairs[p] for p in pairs}, "thresholds": thresholds,
                         "n_rows_sampled": len(sampled.rows), "drop": drop,
                         "action": "Check how these columns were recorded; " + action},
            ))
        return self.result(findings, stats=stats)


def _as_float(values: pd.Series, role: str | None) -> np.ndarray:
    """A numeric or datetime column as float64 with NaN for missing (datetimes as epoch ns)."""
    if role == "datetime" or pd.api.types.is_datetime64_any_dtype(values):
        if not pd.api.types.is_datetime64_any_dtype(values):
            values = pd.to_datetime(values, errors="coerce", format="mixed", utc=True)
        if getattr(values.dt, "tz", None) is not None:
            values = values.dt.tz_convert(None)
        as_int = values.to_numpy(dtype="datetime64[ns]").astype(np.int64).astype(np.float64)
        as_int[values.isna().to_numpy()] = np.nan
        return as_int
    if not pd.api.types.is_numeric_dtype(values):
        values = pd.to_numeric(values, errors="coerce")
    numbers = values.to_numpy(dtype=np.float64, na_value=np.nan).copy()
    numbers[~np.isfinite(numbers)] = np.nan
    return numbers
