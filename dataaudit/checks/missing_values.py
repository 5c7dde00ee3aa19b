"""Missing values: empty cells, placeholder strings, numeric sentinels, infinities, missing labels."""

from __future__ import annotations

import math
import warnings
from dataclasses import replace
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np
import pandas as pd

from dataaudit.checks._base import AuditContext, Check, register
from dataaudit.checks._stats import (
    fmt_share,
    is_placeholder,
    json_value,
    listed_rows,
    numeric_matrix,
    sample_index,
    take_rows,
)
from dataaudit.findings import CheckResult, Code, Finding

if TYPE_CHECKING:
    from dataaudit.dataset import Dataset

# Values that data exports commonly use for "unknown" in numeric columns.
KNOWN_SENTINELS = frozenset({-1.0, -9.0, -99.0, -999.0, -9999.0, -99999.0, 999.0, 9999.0, 99999.0, 999999.0,
                             -888.0, 888.0, 8888.0, -8888.0})
# At most this many distinct values at one end of a column are judged together as a set of codes.
_MAX_CODES = 3
# A value that is no conventional code must lie this many times the range of the column's other
# values beyond them to be a placeholder (-999 among 0..100 does; 3 after 0 and 1 does not).
FAR_RANGES = 2.0
# Rows used to estimate the spread of a column when judging a sentinel candidate.
_SPREAD_SAMPLE = 200_000


@register
class MissingValues(Check):
    """Missing values: empty cells, placeholders such as "?" or -999, infinities, missing labels.

    Parameters
    ----------
    warn_share : float
        A column with more than this share of missing cells is a warning; below, info.
    sentinel_min_share : float
        A repeated numeric value is a sentinel candidate when it fills at least this share of rows.
    sentinel_min_gap : float
        ... and lies at least this many interquartile ranges beyond the column's other values (and
        farther from them than their whole range; see ``_gap``).
    class_gap : float
        With a class label, a column's missingness "tells the class" when the share of missing cells
        in one class (of at least ``MIN_CLASS_ROWS`` rows) and in the other rows differ by at least
        this much, beyond chance (Fisher's exact test, p < ``CLASS_P``): Cars93's ``Luggage.room``
        is empty for all 9 vans and 2 of the 84 other cars. The finding then says which classes, is
        at least a warning, and its ``details.by_class`` lists them.
    """

    name = "missing_values"
    codes: ClassVar[tuple[Code, ...]] = (
        Code("missing_values", title="Missing values", section="columns",
             action="Impute (median / most frequent, fitted on train only), add a missing indicator if "
                    "missingness may carry signal, drop mostly empty columns."),
        Code("infinite_values", title="Infinite values", section="columns",
             action="Find where the infinities come from (a division by zero, an overflow) and fix them "
                    "at the source; fit-transform treats them as missing."),
    )
    order = 60

    def __init__(self, warn_share: float = 0.05, sentinel_min_share: float = 0.005,
                 sentinel_min_gap: float = 3.0, class_gap: float = 0.5) -> None:
        if not 0 <= warn_share <= 1:
            raise ValueError(f"warn_share must be in [0, 1], got {warn_share}")
        if not 0 < class_gap <= 1:
            raise ValueError(f"class_gap must be in (0, 1], got {class_gap}")
        self.class_gap = class_gap
        self.warn_share = warn_share
        self.sentinel_min_share = sentinel_min_share
        self.sentinel_min_gap = sentinel_min_gap

    def run(self, dataset: Dataset, context: AuditContext) -> CheckResult:
        n_rows = dataset.n_rows
        findings: list[Finding] = []
        frame = dataset.frame
        if n_rows == 0:
            return self.skip("the table has no rows")
        missing_counts = frame.isna().sum()
        per_column: dict[str, dict[str, Any]] = {}
        if dataset.label is not None:
            label_missing = np.flatnonzero(frame[dataset.label].isna().to_numpy())
            if len(label_missing):
                rows, sampled = listed_rows(label_missing, context.seed)
                findings.append(self.finding(
                    "missing_values", "error",
                    f"{len(label_missing)} rows ({fmt_share(len(label_missing) / n_rows)}) have no label "
                    f"in column {dataset.label!r}.",
                    rows=rows, columns=[dataset.label],
                    # Not the code's general advice (impute): a missing label is never imputed.
                    action="Drop these rows before training (fit-transform does), or label them.",
                    details={"kind": "missing_label", "n_missing": len(label_missing),
                             "share": len(label_missing) / n_rows, "rows_sampled": sampled,
                             "action": "drop these rows before training, or label them"},
                ))
        codes = dataset.label_codes[0] if dataset.label is not None and dataset.task == "classification" else None
        for column in dataset.feature_columns:
            n_missing = int(missing_counts[column])
            placeholders = self._coerced_placeholders(dataset, column)
            per_column[column] = {"n_missing": n_missing, "share": n_missing / n_rows}
            if n_missing:
                missing = frame[column].isna().to_numpy()
                finding = self._missing_finding(dataset, column, missing, placeholders, context.seed)
                if codes is not None and n_missing < n_rows:
                    by_class = missing_by_class(missing, codes, self.class_gap)
                    if by_class:
                        finding = self._with_classes(finding, by_class, dataset.classes, missing, codes)
                findings.append(finding)
            if dataset.roles.get(column) in ("categorical", "boolean", "text", "constant"):
                found = self._category_placeholders(dataset, column, context.seed)
                if found is not None:
                    findings.append(found)
        findings.extend(self._sentinels(dataset, context.seed))
        findings.extend(self._infinities(dataset, context.seed))
        stats = {
            "n_cells_missing": int(missing_counts.drop(labels=[dataset.label], errors="ignore").sum()),
            "per_column": per_column,
        }
        return self.result(findings, stats=stats)

    # ---- empty cells ---------------------------------------------------------------------------
    @staticmethod
    def _coerced_placeholders(dataset: Dataset, column: str) -> dict[str, int]:
        """Placeholder strings the loader turned into NaN in a numeric column, with their counts."""
        counts: dict[str, int] = {}
        for value in dataset.coerced.get(column, {}).get("values", []):
            if is_placeholder(value):
                counts[str(value)] = counts.get(str(value), 0) + 1
        return counts

    def _missing_finding(self, dataset: Dataset, column: str, missing: np.ndarray,
                         placeholders: dict[str, int], seed: int) -> Finding:
        n_rows = dataset.n_rows
        missing_rows = np.flatnonzero(missing)
        n_missing = len(missing_rows)
        share = n_missing / n_rows
        rows, sampled = listed_rows(missing_rows, seed)
        if n_missing == n_rows:
            severity, message = "warning", f"Column {column!r} is empty in every row."
            action = "drop this column"
        else:
            severity = "warning" if share > self.warn_share else "info"
            message = f"Column {column!r} is missing in {n_missing} rows ({fmt_share(share)})."
            action = ("impute (median / most frequent, fitted on train only) and add a missing-indicator "
                      "column, or drop the column if most of it is missing")
        if placeholders:
            written = ", ".join(f"{v!r} x{c}" for v, c in sorted(placeholders.items(), key=lambda kv: -kv[1]))
            message += f" Some are written as placeholders: {written}."
        na_text = dataset.na_text.get(column, {})
        extra: dict[str, Any] = {}
        if na_text:
            message, action = self._na_text_note(column, n_missing, na_text, message)
            extra = {"action": action}
        return self.finding(
            "missing_values", severity, message, rows=rows, columns=[column],
            details={"kind": "all_empty" if n_missing == n_rows else "missing", "n_missing": n_missing,
                     "share": share, "rows_sampled": sampled, "placeholders": placeholders,
                     "na_text": na_text, "action": action},
            **extra,
        )

    @staticmethod
    def _with_classes(finding: Finding, by_class: list[dict[str, Any]], classes: np.ndarray,
                      missing: np.ndarray, codes: np.ndarray) -> Finding:
        """The missing-cells finding of a column whose missingness tells classes apart."""
        flagged = np.isin(codes, [entry["code"] for entry in by_class])
        rest = (codes >= 0) & ~flagged
        rest_share = float(missing[rest].mean()) if rest.any() else 0.0
        named = [{"class": json_value(classes[entry["code"]]), **{k: v for k, v in entry.items() if k != "code"}}
                 for entry in by_class]
        shown = ", ".join(f"{entry['n_missing']:,} of {entry['n_rows']:,} {str(entry['class'])!r}" for entry in named[:3])
        more = f" and {len(named) - 3} more classes" if len(named) > 3 else ""
        message = (f"{finding.message} Its missingness tells the class: missing in {shown} rows{more}, against "
                   f"{fmt_share(rest_share)} of the other rows, so a model can read the label off an empty cell "
                   "(a missing indicator or an imputed constant gives it away).")
        action = ("find out why the value is missing for these classes (not measured for them, not "
                  "applicable); keep the missing indicator on purpose only if it will be missing the same way "
                  "when the model is used, otherwise fill the values at the source")
        if finding.details.get("na_text"):  # words read as missing: that advice comes first
            action = f"{finding.details['action']}; either way, {action}"
        details = {**finding.details, "by_class": named, "by_class_rest_share": rest_share, "action": action}
        severity = "warning" if finding.severity == "info" else finding.severity
        return replace(finding, message=message, severity=severity, details=details,
                       action=action[0].upper() + action[1:] + ".")

    @staticmethod
    def _na_text_note(column: str, n_missing: int, na_text: dict[str, int], message: str) -> tuple[str, str]:
        """The message and action when words in a text column (``None``, ``NA``) were read as missing.

        The reader keeps pandas' default missing-value strings: ``NA`` is how R writes a missing
        value, also in factor columns, and ``None`` is how Python's ``str`` writes one, so the same
        word is missing in one file and a category (Cars93's AirBags ``None``: no airbags) in
        another. The finding says which words they were, so the person who knows the data decides.
        """
        ranked = sorted(na_text.items(), key=lambda kv: (-kv[1], kv[0]))
        n_text = sum(na_text.values())
        words = " and ".join(repr(text) for text, _ in ranked[:3]) + (" ..." if len(ranked) > 3 else "")
        counts = ", ".join(f"{text!r} x{count:,}" for text, count in ranked[:3])
        how_many = f"all {n_text:,}" if n_text == n_missing else f"{n_text:,} of them"
        renamed = f"{ranked[0][0].lower()}_"
        counts = f" ({counts})" if len(ranked) > 1 else ""
        message += (f" {how_many.capitalize()} are the text {words} in the file{counts}, which the "
                    f"reader treats as missing: if {words} is a category of {column!r} here, not an unknown "
                    f"value, rename it in the file to a word the reader keeps (e.g. {renamed!r}; not one of "
                    "pandas' missing-value strings such as 'NA', 'None', 'null', 'NaN') and audit again.")
        action = (f"if {words} is a category here, rename it in the file (e.g. to {renamed!r}) so it is read "
                  "as a value; otherwise impute (most frequent, fitted on train only)")
        return message, action

    # ---- placeholders kept as categories -----------------------------------------------------
    def _category_placeholders(self, dataset: Dataset, column: str, seed: int) -> Finding | None:
        values = dataset.frame[column]
        if not (pd.api.types.is_object_dtype(values) or pd.api.types.is_string_dtype(values)):
            return None
        counts = values.value_counts(dropna=True)
        found = {str(v): int(c) for v, c in counts.items() if is_placeholder(v)}
        if not found:
            return None
        mask = values.isin(list(found)).to_numpy()
        hits = np.flatnonzero(mask)
        rows, sampled = listed_rows(hits, seed)
        share = len(hits) / dataset.n_rows
        written = ", ".join(f"{v!r} x{c}" for v, c in sorted(found.items(), key=lambda kv: -kv[1]))
        return self.finding(
            "missing_values", "warning" if share > self.warn_share else "info",
            f"Column {column!r} uses placeholder(s) {written} for missing values "
            f"({len(hits)} rows, {fmt_share(share)}).",
            rows=rows, columns=[column],
            details={"kind": "placeholder", "placeholders": found, "n_missing": len(hits), "share": share,
                     "rows_sampled": sampled,
                     "action": "treat these values as missing (read them as NaN), then impute"},
        )

    # ---- numeric sentinels --------------------------------------------------------------------
    def _sentinels(self, dataset: Dataset, seed: int) -> list[Finding]:
        findings: list[Finding] = []
        matrix = numeric_matrix(dataset)
        n_rows = dataset.n_rows
        min_count = max(3, math.ceil(self.sentinel_min_share * n_rows))
        if matrix.shape[1] == 0 or n_rows < min_count + 3:
            return findings
        index = sample_index(n_rows, _SPREAD_SAMPLE, seed)
        with warnings.catch_warnings():
            # An all-empty column has no min/max; NumPy warns and returns NaN, which is skipped below.
            warnings.simplefilter("ignore", RuntimeWarning)
            lows = np.nanmin(matrix, axis=0)
            highs = np.nanmax(matrix, axis=0)
        for j, column in enumerate(dataset.numeric_columns):
            values = matrix[:, j]
            if not np.isfinite(lows[j]):
                continue
            for side in (-1, 1):
                codes = self._extreme_codes(values, float(lows[j] if side < 0 else highs[j]), side, index,
                                            min_count)
                for value, hits, rest, gap in codes:
                    count = int(hits.sum())
                    rows, sampled = listed_rows(np.flatnonzero(hits), seed)
                    share = count / n_rows
                    findings.append(self.finding(
                        "missing_values", "warning" if share > self.warn_share else "info",
                        f"Column {column!r} has the value {json_value(value)} in {count} rows "
                        f"({fmt_share(share)}), apart from its other values ({_span(rest)}): it looks like "
                        "a code for missing.",
                        rows=rows, columns=[column],
                        details={"kind": "sentinel", "placeholder": json_value(value), "n_missing": count,
                                 "share": share, "gap_iqr": gap, "rest_min": float(rest.min()),
                                 "rest_max": float(rest.max()), "rows_sampled": sampled,
                                 "codes_together": [json_value(c[0]) for c in codes],
                                 "action": f"treat {json_value(value)} as missing in {column!r}, then impute"},
                    ))
        return findings

    def _extreme_codes(self, values: np.ndarray, extreme: float, side: int, index: np.ndarray | None,
                       min_count: int) -> list[tuple[float, np.ndarray, np.ndarray, float]]:
        """Codes at one end of a column: its most extreme distinct values (up to ``_MAX_CODES``) that
        together sit apart from the rest (999 and 888 above values of 0-0.3), each repeated. Only
        conventional codes (``KNOWN_SENTINELS``) are peeled as a set; any other value is judged alone.

        Returns ``(value, row mask, rest, gap)`` per code, or nothing.
        """
        codes: list[float] = []
        masks: list[np.ndarray] = []
        value = extreme
        sample = take_rows(values, index)
        sample = sample[np.isfinite(sample)]
        for _ in range(_MAX_CODES):
            hits = values == value
            if int(hits.sum()) < (min_count if not codes else 3):
                return []  # a code is a repeated value; a one-off extreme is an outlier
            codes.append(value)
            masks.append(hits)
            rest = sample[~np.isin(sample, codes)]
            if rest.size < 3:
                return []
            known = all(c in KNOWN_SENTINELS for c in codes)
            gap = self._gap(value, rest, known=known)
            if gap is not None:
                return [(c, m, rest, gap) for c, m in zip(codes, masks, strict=True)]
            if not known:
                return []  # only conventional codes come as a set; 8, 15, 16 above 1-3 are categories
            # The next value inward: the codes may come as a set (999 "missing", 888 "not asked").
            value = float(rest.min() if side < 0 else rest.max())
        return []

    def _gap(self, value: float, rest: np.ndarray, known: bool | None = None) -> float | None:
        """How far ``value`` lies beyond the rest of the column, in IQRs; None when it is not a sentinel.

        A placeholder sits apart from the column's distribution; the ends of a bounded scale do not
        (0 and 10 on a 0-10 score, the top grade of a Likert item). The rule, for a repeated value at
        the column's minimum or maximum:

        - an impossible sign: a conventional code (-1, -9, -99, -999 ...) below a column that is
          otherwise never negative;
        - a gap: its distance to the nearest other value is more than ``FAR_RANGES`` (2) times the
          range the other values span (half of it for a conventional code such as 999 or 9999), and at least
          ``sentinel_min_gap`` IQRs. A value that merely continues the spacing of the others (the
          next step of a scale) never qualifies.
        """
        low, high = float(rest.min()), float(rest.max())
        if low <= value <= high or low == high:
            # Inside the range of the other values (an ordinary frequent value), or the rest is
            # itself constant (a 0/1 column): nothing to compare with.
            return None
        distance = (low - value) if value < low else (value - high)
        q1, q3 = np.percentile(rest, [25, 75])
        gap = distance / (float(q3 - q1) or float(np.std(rest)))
        known = value in KNOWN_SENTINELS if known is None else known
        if known and value < 0 <= low:
            return gap  # an impossible sign
        required = (0.5 if known else FAR_RANGES) * (high - low)
        if distance <= required:
            return None  # as close to the others as they are to each other: the end of its scale
        return gap if gap >= self.sentinel_min_gap else None

    # ---- infinities ---------------------------------------------------------------------------
    def _infinities(self, dataset: Dataset, seed: int) -> list[Finding]:
        findings: list[Finding] = []
        for column in dataset.feature_columns:
            values = dataset.frame[column]
            if not pd.api.types.is_float_dtype(values):
                continue  # only float columns can hold inf
            array = values.to_numpy(dtype=np.float64, na_value=np.nan)
            pos = np.isposinf(array)
            neg = np.isneginf(array)
            n_inf = int(pos.sum() + neg.sum())
            if not n_inf:
                continue
            rows, sampled = listed_rows(np.flatnonzero(pos | neg), seed)
            findings.append(self.finding(
                "infinite_values", "warning",
                f"Column {column!r} has {n_inf} infinite values ({int(pos.sum())} +inf, {int(neg.sum())} -inf).",
                rows=rows, columns=[column],
                details={"n_inf": n_inf, "n_pos_inf": int(pos.sum()), "n_neg_inf": int(neg.sum()),
                         "share": n_inf / dataset.n_rows, "rows_sampled": sampled,
                         "action": "find where the division by zero or overflow happened upstream; "
                         "treat these cells as missing or clip them before training"},
            ))
        return findings


# A class needs this many rows (with a label) before its share of missing cells is compared.
MIN_CLASS_ROWS = 5
# ... and the difference must be this unlikely by chance (Fisher's exact test, two-sided).
CLASS_P = 1e-3
# At most this many classes are tested per column (the largest differences first).
MAX_CLASSES_TESTED = 20


def missing_by_class(missing: np.ndarray, codes: np.ndarray, gap: float) -> list[dict[str, Any]]:
    """Classes whose share of missing cells differs from the other rows' by ``gap`` or more, beyond chance.

    ``missing`` is the column's missing mask and ``codes`` the label's class codes (-1: no label,
    left out). Returns one entry per such class, most significant first: ``code``, ``n_missing``,
    ``n_rows``, ``share``, ``share_elsewhere``, ``p_value``. A pure function of its arrays (a
    partitioned engine passes the per-class counts it summed).
    """
    labelled = codes >= 0
    codes, missing = codes[labelled], missing[labelled]
    if not len(codes):
        return []
    k = int(codes.max()) + 1
    rows = np.bincount(codes, minlength=k)
    empty = np.bincount(codes, weights=missing.astype(np.float64), minlength=k).astype(np.int64)
    total_rows, total_empty = int(rows.sum()), int(empty.sum())
    other_rows = total_rows - rows
    with np.errstate(divide="ignore", invalid="ignore"):
        share = empty / rows
        elsewhere = np.where(other_rows > 0, (total_empty - empty) / np.maximum(other_rows, 1), 0.0)
    candidates = np.flatnonzero((rows >= MIN_CLASS_ROWS) & (other_rows >= MIN_CLASS_ROWS)
                                & (np.abs(share - elsewhere) >= gap))
    if not len(candidates):
        return []
    from scipy.stats import fisher_exact

    found = []
    for code in candidates[np.argsort(-np.abs(share - elsewhere)[candidates], kind="stable")][:MAX_CLASSES_TESTED]:
        a, n_c = int(empty[code]), int(rows[code])
        b, n_o = total_empty - a, int(other_rows[code])
        p_value = float(fisher_exact([[a, n_c - a], [b, n_o - b]])[1])
        if p_value < CLASS_P:
            found.append({"code": int(code), "n_missing": a, "n_rows": n_c, "share": a / n_c,
                          "share_elsewhere": b / n_o, "p_value": p_value})
    # Most significant first and, at equal evidence, the class the missing cells gather in (with two
    # classes both sides test alike: "missing in all 174 '0' rows", not "in none of the 532 '1' rows").
    found.sort(key=lambda entry: (entry["p_value"], -entry["share"], -entry["n_rows"]))
    kept: list[dict[str, Any]] = []
    for entry in found:
        # A class is named only while the named ones leave other rows to compare with.
        if total_rows - sum(e["n_rows"] for e in kept) - entry["n_rows"] >= MIN_CLASS_ROWS:
            kept.append(entry)
    return kept


def _span(rest: np.ndarray) -> str:
    """``"0 to 1"``: the range of a column's other values, for a sentinel's message."""
    return f"{json_value(float(rest.min()))} to {json_value(float(rest.max()))}"
