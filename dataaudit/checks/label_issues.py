"""Suspect labels by confident learning on out-of-sample predicted probabilities."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np
import pandas as pd

from dataaudit.background import Offload
from dataaudit.checks._base import AuditContext, Check, register
from dataaudit.checks.label_leakage import balanced_accuracy
from dataaudit.exceptions import ConfigError
from dataaudit.findings import CheckResult, Code, PerRow
from dataaudit.lean_imports import import_cleanlab
from dataaudit.oos import OutOfSample, out_of_sample_probabilities, resolve_models
from dataaudit.oos_regression import out_of_fold_regression

if TYPE_CHECKING:
    from dataaudit.dataset import Dataset
    from dataaudit.oos_regression import OutOfFoldRegression
    from dataaudit.progress import Progress

__all__ = ["LabelIssues"]

# cleanlab.filter.find_label_issues filters (cleanlab 2.9).
_FILTERS = (
    "prune_by_noise_rate",
    "prune_by_class",
    "both",
    "confident_learning",
    "predicted_neq_given",
    "low_normalized_margin",
    "low_self_confidence",
)


@dataclass
class _Plan:
    """What ``label_issues`` keeps in the main process between planning the fits and finishing its result."""

    task: str  # classification | regression
    judged: np.ndarray  # row numbers of the rows judged (the fits' rows, in order)
    stats: dict[str, Any]
    excluded: list[str]
    grouped: bool
    labels: np.ndarray | None = None  # classification: class codes 0..k-1 of the judged rows
    classes: np.ndarray | None = None
    kept_classes: np.ndarray | None = None
    small: dict[str, int] | None = None
    y: np.ndarray | None = None  # regression: the judged targets, as given
    scaled: np.ndarray | None = None  # ... and as modelled (log(y) for a right-skewed one)
    skew: dict[str, Any] | None = None


def _plain(value: Any) -> Any:
    """A NumPy scalar label as the matching Python value, so that details stay JSON-able."""
    return value.item() if isinstance(value, np.generic) else value


@register
class LabelIssues(Check):
    """Rows whose given label disagrees with what models trained on the other rows confidently predict.

    Out-of-sample probabilities come from stratified, shuffled K-fold cross-validation of an
    ensemble (logistic regression, k nearest neighbours, extremely randomized trees and gradient
    boosting, blended by out-of-fold log-loss; logistic regression and two small MLPs on large
    data; see ``dataaudit.oos``); cleanlab's confident learning (``cleanlab.filter.find_label_issues``)
    then picks the suspects and ``cleanlab.rank.get_label_quality_scores`` scores every row.

    Options
    -------
    n_folds : int
        Cross-validation folds (reduced for small classes, as the table grows and, at scale, to 2; see ``oos``).
    models : "auto" or tuple of str
        Ensemble members, from ``dataaudit.oos.MODELS``; ``"auto"``: logistic + kNN + extra
        trees + gradient boosting up to ``small_data_rows`` rows, logistic + two MLPs above.
    max_fit_rows : int
        Each fold's models are fitted on at most this many rows (every row is still predicted).
    small_data_rows : int
        The size switch of ``models="auto"``; above it kNN is never used (its cost grows as n²).
    drop_below_best : float
        Members whose out-of-fold accuracy is more than this below the best member's are left
        out of the blend (``details.skipped_models`` says so).
    weighting : str
        ``log_loss``: blend the kept members with the convex weights minimizing the blend's
        out-of-fold log-loss (``details.weights``); ``equal``: a plain average.
    filter_by : str
        cleanlab ``find_label_issues`` filter (default ``prune_by_noise_rate``, cleanlab's own).
    score_method : str
        cleanlab label quality score: ``self_confidence``, ``normalized_margin`` or
        ``confidence_weighted_entropy``; it ranks the suspects too.
    min_class_rows : int
        Classes with fewer labelled rows are left out of the analysis (their rows are not
        judged); there is too little to learn them from.
    error_fraction : float
        Severity is ``error`` when more than this share of the judged rows is flagged on a
        target the features predict well (lift at least ``hard_lift``; labels that noisy make any
        model trained on them suspect), else ``warning``.
    plausible_noise : float
        The share of wrong labels a curated table plausibly holds (audits of public benchmark
        sets found 3 % to 6 %). When cleanlab flags more than this share *and* the target is hard
        (``hard_lift``), the disagreements mostly measure how poorly the features predict the
        label (one row's out-of-fold probabilities cannot tell it from a wrong label): the finding
        says so, its severity is ``info``, and ``rows`` lists only the confident suspects, the
        lowest-scored ``plausible_noise`` share of the judged rows (``details.n_flagged``;
        ``details.per_row`` keeps every disagreement, ``n_disagreements`` of them, with
        ``confident`` true or false).
    hard_lift : float
        The target is hard when the ensemble's out-of-fold accuracy lift over always predicting
        the majority class, ``(acc - majority) / (1 - majority)``, is below this, unless the
        labels show a noise floor (``floor_quantile``).
    floor_quantile : float
        The noise floor (``details.noise_floor``): the share of disagreeing labels among the
        ``floor_quantile`` most confident out-of-fold predictions of every predicted class,
        pooled. Label noise that does not depend on the features disagrees there too, at about
        its rate; a hard target hardly does, its disagreements crowd where the models are unsure.
    floor_threshold : float
        Above this noise floor the labels are noisy even where the features decide, so the
        target is not treated as hard: the floor estimates the share of wrong labels, and
        ``rows`` lists the lowest-scored suspects up to that share of the judged rows (cleanlab's
        flags beyond it are mostly the target's hardness; OJ with 10 % flips: F1 0.50 -> 0.56;
        severity at most ``warning`` while the lift is below ``hard_lift``). About twice ``plausible_noise``, since a hard
        target's surest predictions still miss a little: Titanic 0.073, diamonds ``cut`` 0.081;
        churn, OJ, credit and diamonds with 10 % of labels flipped: 0.105 to 0.19.
    residual_z : float
        Regression: a target whose out-of-fold residual is at least this many robust standard
        deviations (1.4826 x MAD) from the median residual is a suspect.
    max_per_row : int or None
        Cap on ``details.per_row`` entries (the worst first); ``rows`` always lists every suspect.
    exclude_leaky : bool
        Leave out of the models the columns that ``label_leakage`` finds alone determine the
        label (``details.excluded_columns``): with a copy of the label among the features every
        given label, right or wrong, is predicted back and no issue can be seen. When every
        feature column is that predictive, none is left out.
    min_signal : float
        Skip (with the reason) when the models' cross-validated balanced accuracy is below
        ``chance + min_signal * (1 - chance)``: without a learnable signal, confident learning
        flags minority-class rows at random.

    Groups: with ``Dataset.group`` set (``--group``), folds are group folds (an entity's rows
    are never on both sides), so a model cannot recognize a subject it was fitted on.

    Regression (``Dataset.task == "regression"``): out-of-fold predictions by ridge regression
    and gradient boosting (the better one by out-of-fold R^2); suspects are the residual
    outliers (``residual_z``), reported under ``label_issue`` with ``details.task =
    "regression"``; the row score is the two-sided normal tail probability of the robust z.

    Row scores: ``row_scores["label_issue"]`` is the label quality score in [0, 1] (lower =
    worse) per row; rows that were not judged (missing label, class below ``min_class_rows``)
    get NaN: "no evidence either way", unlike a score of 1.0, which would claim a clean label.
    """

    name: ClassVar[str] = "label_issues"
    codes: ClassVar[tuple[Code, ...]] = (
        Code("label_issue", title="Suspect labels", section="labels", row_level=True,
             action="Review these labels, worst first: fix the clear mistakes, keep the rest; do not "
                    "relabel test data."),
    )
    order: ClassVar[int] = 30
    needs_label: ClassVar[bool] = True

    def __init__(
        self,
        n_folds: int = 5,
        models: str | tuple[str, ...] | list[str] = "auto",
        max_fit_rows: int = 200_000,
        small_data_rows: int = 50_000,
        drop_below_best: float = 0.03,
        filter_by: str = "prune_by_noise_rate",
        score_method: str = "self_confidence",
        min_class_rows: int = 5,
        error_fraction: float = 0.10,
        max_per_row: int | None = 10_000,
        exclude_leaky: bool = True,
        min_signal: float = 0.1,
        plausible_noise: float = 0.05,
        hard_lift: float = 0.6,
        residual_z: float = 5.0,
        weighting: str = "log_loss",
        floor_quantile: float = 0.2,
        floor_threshold: float = 0.10,
    ) -> None:
        if filter_by not in _FILTERS:
            raise ConfigError(f"label_issues: unknown filter_by {filter_by!r}; choose from {list(_FILTERS)}.")
        if score_method not in ("self_confidence", "normalized_margin", "confidence_weighted_entropy"):
            raise ConfigError(f"label_issues: unknown score_method {score_method!r}.")
        if not 0.0 < error_fraction <= 1.0:
            raise ConfigError(f"label_issues: error_fraction must be in (0, 1], got {error_fraction}.")
        if not 0.0 < plausible_noise < 1.0 or not 0.0 <= hard_lift <= 1.0 or residual_z <= 0:
            raise ConfigError(
                f"label_issues: need 0 < plausible_noise < 1, 0 <= hard_lift <= 1 and residual_z > 0; got "
                f"{plausible_noise}, {hard_lift}, {residual_z}."
            )
        if min_class_rows < 2:
            raise ConfigError(f"label_issues: min_class_rows must be >= 2, got {min_class_rows}.")
        resolve_models(models, 0, small_data_rows)  # fail on bad names at construction
        self.n_folds = n_folds
        self.models = models if isinstance(models, str) else tuple(models)
        self.max_fit_rows = max_fit_rows
        self.small_data_rows = small_data_rows
        self.drop_below_best = drop_below_best
        self.filter_by = filter_by
        self.score_method = score_method
        self.min_class_rows = min_class_rows
        self.error_fraction = error_fraction
        self.max_per_row = max_per_row
        self.exclude_leaky = exclude_leaky
        self.min_signal = min_signal
        self.plausible_noise = plausible_noise
        self.hard_lift = hard_lift
        self.residual_z = residual_z
        if weighting not in ("log_loss", "equal"):
            raise ConfigError(f"label_issues: weighting must be 'log_loss' or 'equal', got {weighting!r}.")
        self.weighting = weighting
        if not 0.0 < floor_quantile <= 1.0:
            raise ConfigError(f"label_issues: floor_quantile must be in (0, 1], got {floor_quantile}.")
        self.floor_quantile = floor_quantile
        if not 0.0 < floor_threshold < 1.0:
            raise ConfigError(f"label_issues: floor_threshold must be in (0, 1), got {floor_threshold}.")
        self.floor_threshold = floor_threshold

    def run(self, dataset: Dataset, context: AuditContext) -> CheckResult:
        import_cleanlab()  # before waiting for a background worker's fits: the import overlaps them
        pending = context.pending.pop(self.name, None)
        if pending is not None:  # started by run_checks in a background worker (plan_background)
            offload, fitted = pending.offload, pending.result(context.progress)
        else:
            planned = self._plan(dataset, context)
            if isinstance(planned, CheckResult):
                return planned
            offload, fitted = planned, planned(on_step=context.progress.step)
        plan: _Plan = offload.state
        if plan.task == "regression":
            result = self._finish_regression(dataset, plan, fitted)
        else:
            result = self._finish_classification(dataset, plan, fitted, context.progress)
        if pending is not None and pending.fallback:
            result = replace(result, stats={**result.stats, "background": pending.fallback})
        return result

    def plan_background(self, dataset: Dataset, context: AuditContext) -> Offload | None:
        """The model fitting (and confident learning) as an ``Offload``, or None when the check will skip."""
        planned = self._plan(dataset, context)
        return planned if isinstance(planned, Offload) else None

    def _plan(self, dataset: Dataset, context: AuditContext) -> CheckResult | Offload:
        """Everything before the model fits: a skip result, or the fits' inputs as an ``Offload``."""
        is_regression = getattr(dataset, "task", "classification") == "regression"
        if not is_regression and dataset.frame[dataset.label].nunique(dropna=True) < 2:
            return self.skip("the label has a single class")
        X, names = dataset.feature_matrix
        n_rows = dataset.n_rows
        excluded = self._leaky_columns(dataset, context) if self.exclude_leaky else []
        keep = _feature_mask(dataset, names, excluded)
        if excluded and not keep.any():
            # Every feature alone determines the label: the task may simply be easy; judging
            # from nothing would be worse than judging from possible copies.
            excluded, keep = [], np.ones(len(names), dtype=bool)
        if not keep.any():
            return self.skip("no numeric or categorical feature columns to learn the label from")
        group_codes = _group_codes(dataset)
        if is_regression:
            return self._plan_regression(dataset, context, X, keep, excluded, group_codes)
        codes, classes = dataset.label_codes
        counts = np.bincount(codes[codes >= 0], minlength=len(classes))
        kept_classes = np.flatnonzero(counts >= self.min_class_rows)
        small = {str(_plain(classes[c])): int(counts[c]) for c in np.flatnonzero((counts > 0) & (counts < self.min_class_rows))}
        stats: dict[str, Any] = {
            "n_missing_label": int((codes < 0).sum()),
            "small_classes": small,
            "excluded_columns": excluded,
            "grouped": group_codes is not None,
        }
        if len(kept_classes) < 2:
            return self.skip(
                f"fewer than 2 classes have at least {self.min_class_rows} labelled rows "
                f"(class sizes {dict(zip(map(str, classes.tolist()), counts.tolist(), strict=True))})",
                **stats,
            )
        # Judge only rows with a label of a learnable class; remap those classes to 0..k-1.
        remap = np.full(len(classes), -1, dtype=np.int64)
        remap[kept_classes] = np.arange(len(kept_classes))
        judged = np.flatnonzero((codes >= 0) & (remap[np.maximum(codes, 0)] >= 0))
        labels = remap[codes[judged]]
        if len(judged) < n_rows or not keep.all():
            X = X[np.ix_(judged, np.flatnonzero(keep))]  # one copy, only when something is left out
        arrays = {"X": X, "labels": labels}
        if group_codes is not None:
            arrays["groups"] = group_codes[judged]
        options = {"n_classes": len(kept_classes), "models": self.models, "n_folds": self.n_folds,
                   "seed": context.seed, "max_fit_rows": self.max_fit_rows, "small_data_rows": self.small_data_rows,
                   "drop_below_best": self.drop_below_best, "weighting": self.weighting}
        plan = _Plan("classification", judged, stats, excluded, group_codes is not None, labels=labels,
                     classes=classes, kept_classes=kept_classes, small=small)
        return Offload(out_of_sample_probabilities, arrays, options, state=plan, label="label models")

    def _finish_classification(self, dataset: Dataset, plan: _Plan, oos: OutOfSample,
                               progress: Progress) -> CheckResult:
        """Confident learning on the out-of-sample probabilities, and the finding."""
        from cleanlab.filter import find_label_issues
        from cleanlab.rank import get_label_quality_scores

        judged, stats, excluded, labels = plan.judged, dict(plan.stats), plan.excluded, plan.labels
        classes, kept_classes, small = plan.classes, plan.kept_classes, plan.small
        assert labels is not None and classes is not None and kept_classes is not None and small is not None
        n_rows = dataset.n_rows
        probs = oos.probabilities
        # Confident learning needs models that learned something: when the features barely
        # predict the label, every minority-class row looks "mislabelled" and the flags are noise.
        chance = 1.0 / len(kept_classes)
        learned = balanced_accuracy(labels, probs.argmax(axis=1), len(kept_classes))
        stats["cv_balanced_accuracy"] = learned
        if learned < chance + self.min_signal * (1.0 - chance):
            return self.skip(
                f"the features barely predict the label (cross-validated balanced accuracy {learned:.3f}, "
                f"chance {chance:.3f}), so wrong labels cannot be told apart from an unlearnable task",
                **stats,
            )
        progress.step("ranking suspects (confident learning)")
        scores = get_label_quality_scores(labels, probs, method=self.score_method)
        is_issue = find_label_issues(labels, probs, filter_by=self.filter_by, n_jobs=1)
        flagged = np.flatnonzero(is_issue)
        # Worst first: lowest quality score, ties by row number for determinism.
        flagged = flagged[np.lexsort((judged[flagged], scores[flagged]))]
        fraction = len(flagged) / len(judged)
        class_share = np.bincount(labels, minlength=len(kept_classes)) / len(labels)
        majority = float(class_share.max())
        accuracy = oos.cv_accuracy["ensemble"]
        lift = (accuracy - majority) / (1.0 - majority) if majority < 1.0 else 0.0
        # A hard target and label noise both make many labels disagree with the models; what
        # tells them apart is where. Noise independent of the features leaves a floor: even the
        # rows the models predict most confidently, in every class, disagree with their label
        # at about the noise rate. On a hard target the labels agree where the features are
        # decisive, and the disagreements crowd where the models are unsure.
        floor = noise_floor(labels, probs, self.floor_quantile)
        noisy_labels = floor > self.floor_threshold
        hard = fraction > self.plausible_noise and lift < self.hard_lift and not noisy_labels
        # On a hard target the confident suspects are the lowest-scored plausible_noise share.
        listed_in_rows = flagged[: int(self.plausible_noise * len(judged))] if hard else flagged
        if noisy_labels and fraction > self.plausible_noise and lift < self.hard_lift:
            # Noisy labels on a hard target: the floor estimates the share of wrong labels, and
            # cleanlab's disagreements beyond it are mostly the target's own hardness.
            listed_in_rows = flagged[: max(int(floor * len(judged)), int(self.plausible_noise * len(judged)))]
        confident = np.zeros(len(labels), dtype=bool)
        confident[listed_in_rows] = True

        row_scores = np.full(n_rows, np.nan)
        row_scores[judged] = np.clip(scores, 0.0, 1.0)
        stats.update(
            n_judged=len(judged),
            n_flagged=len(listed_in_rows),
            n_disagreements=len(flagged),
            models=list(oos.models),
            weights=oos.weights,
            n_folds=oos.n_folds,
            cv_accuracy=oos.cv_accuracy,
            seconds_per_model=oos.seconds,
            subsampled=oos.subsampled,
            hard_target=hard,
            accuracy_lift=round(float(lift), 6),
            noise_floor=round(floor, 6),
        )
        if not len(listed_in_rows):
            return self.result(stats=stats, row_scores={"label_issue": row_scores})

        kept_values = [_plain(classes[c]) for c in kept_classes]
        suggested = probs.argmax(axis=1)
        listed = flagged if self.max_per_row is None else flagged[: self.max_per_row]
        per_row = [
            {
                "row": int(judged[i]),
                "given_label": kept_values[labels[i]],
                "suggested_label": kept_values[suggested[i]],
                "score": round(float(np.clip(scores[i], 0.0, 1.0)), 6),
                "confident": bool(confident[i]),
            }
            for i in listed
        ]
        if hard:
            severity = "info"
        else:
            # error only on a target the features predict well: on a hard one even noisy labels
            # are partly a measure of the features.
            severity = "error" if fraction > self.error_fraction and lift >= self.hard_lift else "warning"
        details: dict[str, Any] = {
            "task": "classification",
            "hard_target": hard,
            "n_confident": len(listed_in_rows),
            "accuracy_lift": round(float(lift), 6),
            "majority_accuracy": round(majority, 6),
            "noise_floor": round(floor, 6),
            "grouped": plan.grouped,
            "per_row_truncated": len(listed) < len(flagged),
            # The rows the finding flags (``rows``); on a hard target fewer than the disagreements.
            "n_flagged": len(listed_in_rows),
            "n_disagreements": len(flagged),
            "n_judged": len(judged),
            "fraction": fraction,
            "cv_accuracy": oos.cv_accuracy,
            "models": list(oos.models),
            "weights": oos.weights,
            "skipped_models": oos.skipped_models,
            "n_folds": oos.n_folds,
            "subsampled": oos.subsampled,
            "max_fit_rows": oos.max_fit_rows,
            "fit_rows": oos.fit_rows,
            "filter_by": self.filter_by,
            "score_method": self.score_method,
            "small_classes": small,
            "excluded_columns": excluded,
            "n_missing_label": stats["n_missing_label"],
        }
        if oos.subsampled:
            details["note"] = (
                f"each fold's models were fitted on at most {oos.max_fit_rows} sampled rows; "
                f"every row was still predicted out of fold"
            )
        if hard:
            message = (
                f"These features predict the label poorly (out-of-fold accuracy {accuracy:.1%} against "
                f"{majority:.1%} for always the majority class): {len(flagged)} of {len(judged)} labels "
                f"({fraction:.1%}) disagree with the models, more than the {self.plausible_noise:.0%} of "
                f"wrong labels a curated table plausibly holds, so most disagreements reflect a hard "
                f"target, not wrong labels. Only the {len(listed_in_rows)} most confident disagreements "
                f"are listed as suspects; every disagreement's score is in the details."
            )
        else:
            message = (
                f"{len(flagged)} of {len(judged)} labels ({fraction:.1%}) look wrong: models trained "
                f"without those rows confidently predict another class (out-of-fold accuracy of the "
                f"ensemble {accuracy:.1%})."
            )
            if lift < self.hard_lift and fraction > self.plausible_noise:
                message += (
                    f" The features predict the label only moderately, but the labels disagree even where "
                    f"the models are most sure ({floor:.1%} of the most confident predictions in every "
                    f"class), which is what wrong labels do and a hard target does not."
                )
                if len(listed_in_rows) < len(flagged):
                    message += (
                        f" The {len(listed_in_rows)} lowest-scored, the share of wrong labels that rate "
                        f"implies, are listed as suspects; every disagreement's score is in the details."
                    )
        finding = self.finding(
            "label_issue",
            severity,
            message,
            rows=tuple(int(judged[i]) for i in listed_in_rows),
            columns=(dataset.label,) if dataset.label else (),
            evidence=PerRow.of(per_row),
            details=details,
        )
        return self.result([finding], stats=stats, row_scores={"label_issue": row_scores})

    def _plan_regression(self, dataset: Dataset, context: AuditContext, X: np.ndarray, keep: np.ndarray,
                         excluded: list[str], group_codes: np.ndarray | None) -> CheckResult | Offload:
        """The regression path's inputs: the judged rows' features and (maybe log) targets."""
        from dataaudit.checks.skewness import log_target

        assert dataset.label is not None
        y_all = pd.to_numeric(dataset.frame[dataset.label], errors="coerce").to_numpy(dtype=np.float64)
        judged = np.flatnonzero(np.isfinite(y_all))
        stats: dict[str, Any] = {"task": "regression", "n_missing_label": int(dataset.n_rows - len(judged)),
                                 "excluded_columns": excluded}
        if len(judged) < 20:
            return self.skip(f"only {len(judged)} rows with a numeric target; need at least 20", **stats)
        y = y_all[judged]
        if len(judged) < dataset.n_rows or not keep.all():
            X = X[np.ix_(judged, np.flatnonzero(keep))]
        # A positive right-skewed target (skewness's rules) is judged on log(y): on the raw scale the
        # plausible large values of its long tail would all be residual outliers.
        skew = log_target(y)
        stats["target_scale"] = "log" if skew is not None else "raw"
        scaled = np.log(y) if skew is not None else y
        arrays = {"X": X, "y": scaled}
        if group_codes is not None:
            arrays["groups"] = group_codes[judged]
        plan = _Plan("regression", judged, stats, excluded, group_codes is not None, y=y, scaled=scaled, skew=skew)
        return Offload(out_of_fold_regression, arrays, {"n_folds": self.n_folds, "seed": context.seed,
                                                "max_fit_rows": self.max_fit_rows}, state=plan, label="label models")

    def _finish_regression(self, dataset: Dataset, plan: _Plan, fitted: OutOfFoldRegression) -> CheckResult:
        """Suspect targets of a regression label: robust outliers of the out-of-fold residuals."""
        from scipy.stats import norm

        judged, stats, excluded, y, scaled, skew = plan.judged, dict(plan.stats), plan.excluded, plan.y, plan.scaled, plan.skew
        assert y is not None and scaled is not None
        on_log = skew is not None
        r2 = fitted.robust_r2[fitted.model]
        stats.update(cv_r2=fitted.r2, cv_robust_r2=fitted.robust_r2, model=fitted.model, n_folds=fitted.n_folds, n_judged=len(judged),
                     grouped=plan.grouped)
        if r2 < self.min_signal:
            return self.skip(
                f"the features barely predict the target (out-of-fold robust R^2 {r2:.3f}), so wrong targets "
                f"cannot be told apart from an unpredictable one", **stats)
        residual = scaled - fitted.predictions
        suggested = np.exp(fitted.predictions) if on_log else fitted.predictions
        centre = float(np.median(residual))
        scale = 1.4826 * float(np.median(np.abs(residual - centre)))
        if not scale > 0:
            scale = float(np.std(residual)) or 1.0
        z = (residual - centre) / scale
        scores = np.clip(2.0 * norm.sf(np.abs(z)), 0.0, 1.0)
        row_scores = np.full(dataset.n_rows, np.nan)
        row_scores[judged] = scores
        flagged = np.flatnonzero(np.abs(z) >= self.residual_z)
        flagged = flagged[np.lexsort((judged[flagged], -np.abs(z[flagged])))]
        stats["n_flagged"] = len(flagged)
        if not len(flagged):
            return self.result(stats=stats, row_scores={"label_issue": row_scores})
        listed = flagged if self.max_per_row is None else flagged[: self.max_per_row]
        per_row = [
            {"row": int(judged[i]), "given_label": float(y[i]),
             "suggested_label": round(float(suggested[i]), 6), "score": float(scores[i]),
             "residual": round(float(residual[i]), 6), "z": round(float(z[i]), 3)}
            for i in listed
        ]
        fraction = len(flagged) / len(judged)
        scale_note = (f"judged on log({dataset.label}): the target is right-skewed (skew {skew['skew']:+.2f}, "
                      f"decile skew {skew['robust_skew']:+.2f}); " if skew is not None else "")
        message = (
            f"{scale_note}{len(flagged)} of {len(judged)} targets ({fraction:.1%}) sit far from what models trained "
            f"without them predict (out-of-fold residual at least {self.residual_z:g} robust standard "
            f"deviations; {fitted.model} out-of-fold robust R^2 {r2:.3f}): check them for unit, typing or "
            f"recording errors."
        )
        finding = self.finding(
            "label_issue", "warning", message,
            rows=tuple(int(judged[i]) for i in flagged),
            columns=(dataset.label,),
            evidence=PerRow.of(per_row),
            details={"task": "regression", "target_scale": stats["target_scale"], "per_row_truncated": len(listed) < len(flagged),
                     "n_flagged": len(flagged), "n_judged": len(judged), "fraction": fraction,
                     "cv_r2": fitted.r2, "cv_robust_r2": fitted.robust_r2, "model": fitted.model, "n_folds": fitted.n_folds,
                     "residual_scale": scale, "residual_z": self.residual_z, "excluded_columns": excluded,
                     "grouped": plan.grouped, "n_missing_label": stats["n_missing_label"]},
        )
        return self.result([finding], stats=stats, row_scores={"label_issue": row_scores})

    def _leaky_columns(self, dataset: Dataset, context: AuditContext) -> list[str]:
        """Feature columns that alone determine the label, scored as ``label_leakage`` does."""
        from dataaudit.checks.label_leakage import LabelLeakage

        defaults = LabelLeakage()
        if defaults.n_labelled(dataset) < defaults.min_rows:
            return []  # too few rows to tell a leak from luck; keep every column
        return defaults.scores(dataset, context).leaky(defaults.rule)


def noise_floor(labels: np.ndarray, probs: np.ndarray, quantile: float = 0.2) -> float:
    """Share of disagreeing labels among the ``quantile`` most confident out-of-fold predictions
    of every predicted class, pooled.

    Taken per predicted class so that a large easy class cannot hide a noisy small one (or the
    reverse); pooled, not the least of the classes, because a small class's share is a noisy
    estimate and the least of several noisy shares is biased low.
    """
    predicted = probs.argmax(axis=1)
    confidence = probs.max(axis=1)
    disagree = predicted != labels
    surest = [np.zeros(0, dtype=np.int64)]
    for code in np.unique(predicted):
        members = np.flatnonzero(predicted == code)
        surest.append(members[np.argsort(-confidence[members], kind="stable")[: int(quantile * len(members))]])
    chosen = np.concatenate(surest)
    if not len(chosen):
        chosen = np.argsort(-confidence, kind="stable")[: max(1, int(quantile * len(labels)))]
    return float(disagree[chosen].mean())


def _group_codes(dataset: Dataset) -> np.ndarray | None:
    """Integer entity code per row from ``Dataset.group`` (missing values: one entity each), or None."""
    column = getattr(dataset, "group", None)
    if not column or column not in dataset.frame.columns:
        return None
    codes, _ = pd.factorize(dataset.frame[column], use_na_sentinel=True)
    codes = codes.astype(np.int64)
    missing = codes < 0
    codes[missing] = codes.max(initial=-1) + 1 + np.arange(int(missing.sum()))
    return codes


def _feature_mask(dataset: Dataset, names: list[str], excluded: list[str]) -> np.ndarray:
    """Which ``feature_matrix`` columns to keep when the ``excluded`` source columns are left out.

    The matrix holds the numeric columns first (named as they are), then each categorical
    column's one-hot columns (named ``column=value``).
    """
    keep = np.ones(len(names), dtype=bool)
    n_numeric = len(dataset.numeric_columns)
    dropped = set(excluded)
    for i, name in enumerate(names):
        if i < n_numeric:
            keep[i] = name not in dropped
        else:
            keep[i] = not any(name.startswith(f"{column}=") for column in dropped)
    return keep
