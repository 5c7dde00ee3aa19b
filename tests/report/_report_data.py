"""Audit results for the report tests, built from Finding/CheckResult objects (no checks run)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from dataaudit.dataset import Dataset
from dataaudit.findings import AuditResult, CheckResult, Finding
from dataaudit.shared import SharedComputations


def described(*args, **kwargs) -> Finding:
    """A hand-built finding with the metadata its check declares (as the audit runner adds)."""
    from dataaudit.checks import describe

    return describe(Finding(*args, **kwargs))


def shared_of(dataset: Dataset, *checks: str) -> SharedComputations:
    """What the named checks compute for the report on ``dataset`` (as the audit runner would)."""
    from dataaudit.checks import AuditContext, make_check

    context = AuditContext(seed=0)
    for name in checks:
        make_check(name).run(dataset, context)
    return context.shared

N_DUPLICATES = 10
N_FLIPS = 15
HOSTILE = [
    "<script>alert(1)</script>",
    '"><img src=x onerror=alert(1)>',
    "';alert(String.fromCharCode(88))//",
    "<svg onload=alert(1)>",
    "</style><marquee>moving</marquee>",
    "$\\frac{a}{b$",  # broken mathtext must not crash matplotlib
]


def digits_result() -> AuditResult:
    """sklearn's digits with planted exact duplicates and label flips, and the findings for them."""
    from sklearn.datasets import load_digits

    digits = load_digits()
    frame = pd.DataFrame(digits.data, columns=[f"pixel_{i // 8}_{i % 8}" for i in range(64)])
    frame["label"] = digits.target
    rng = np.random.default_rng(0)
    n = len(frame)
    copies = rng.choice(n, N_DUPLICATES, replace=False)
    frame = pd.concat([frame, frame.iloc[copies]], ignore_index=True)
    flips = rng.choice(n, N_FLIPS, replace=False)
    original = frame.loc[flips, "label"].to_numpy().copy()
    frame.loc[flips, "label"] = (original + 1 + rng.integers(0, 8, N_FLIPS)) % 10
    dataset = Dataset.from_frame(frame, label="label", name="digits.csv")
    groups = [[int(c), n + i] for i, c in enumerate(copies)]
    scores = rng.uniform(0.0, 0.1, N_FLIPS)
    outlier_rows = rng.choice(n, 5, replace=False)
    duplicates = described("duplicates", "exact_duplicate", "warning",
                         f"{N_DUPLICATES} rows are exact copies of earlier rows.",
                         rows=[g[1] for g in groups], details={"groups": groups})
    labels = described("label_issues", "label_issue", "error", f"{N_FLIPS} labels look wrong.", rows=flips,
                     details={"per_row": [
                         {"row": int(r), "given_label": int(frame.loc[r, "label"]),
                          "suggested_label": int(o), "score": float(s)}
                         for r, o, s in zip(flips, original, scores, strict=True)]})
    outliers = described("outliers", "outlier", "info", "5 rows are unusual.", rows=outlier_rows,
                       details={"per_row": [{"row": int(r), "score": 0.01 * (i + 1)}
                                            for i, r in enumerate(outlier_rows)]})
    constant = described("constant_columns", "constant_column", "info", "1 column has a single value.",
                       columns=["pixel_0_0"])
    checks = [
        CheckResult("duplicates", findings=[duplicates], seconds=0.1),
        CheckResult("label_issues", findings=[labels], seconds=0.5),
        CheckResult("outliers", findings=[outliers], seconds=0.2),
        CheckResult("constant_columns", findings=[constant]),
        CheckResult("train_test_drift", status="skipped", reason="needs a test file (--test)"),
        CheckResult("skewness", status="errored", error="ValueError: planted failure"),
    ]
    return AuditResult(input=dataset.describe_input(), checks=checks, version="0.1.0", seconds=1.5,
                       dataset=dataset, shared=shared_of(dataset, "correlations"))


def mixed_frame(n: int, seed: int, shift: float = 0.0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame({
        "customer_id": np.arange(n) + 1000,
        "age": rng.normal(40 + shift, 12, n).round(),
        "income": rng.lognormal(10, 1, n),
        "city": rng.choice(["Paris", "Lyon", "Nice", "Lille"], n),
        "plan": rng.choice(["basic", "pro", None], n, p=[0.6, 0.3, 0.1]),
        "score": rng.uniform(0, 1, n),
        "signup": pd.date_range("2020-01-01", periods=n, freq="D").astype(str),
        "churn": rng.choice(["yes", "no"], n, p=[0.2, 0.8]),
    })
    frame.loc[rng.choice(n, n // 10, replace=False), "income"] = np.nan
    return frame


def mixed_result(hostile: bool = False) -> AuditResult:
    """A mixed-type table (numeric, categorical, missing, dates, an ID) with a drifted test set.

    With ``hostile``, column names, category values and label values carry HTML/JS payloads.
    """
    train, test = mixed_frame(400, 0), mixed_frame(150, 1, shift=15.0)
    if hostile:
        for frame in (train, test):
            frame["city"] = np.where(np.arange(len(frame)) % 3 == 0, HOSTILE[0], frame["city"])
            frame["churn"] = np.where(frame["churn"] == "yes", HOSTILE[1], "no")
            frame.columns = [*frame.columns[:-3], HOSTILE[5], HOSTILE[3], "churn"]
            frame.columns = [{"age": HOSTILE[1], "plan": HOSTILE[4], "score": HOSTILE[2]}.get(c, c) for c in frame.columns]
    dataset = Dataset.from_frame(train, label="churn", name="customers.csv")
    test_dataset = Dataset.from_frame(test, label="churn", name="customers_test.csv")
    age = dataset.columns[1]
    plan = dataset.columns[4]
    findings = {
        "missing_values": described("missing_values", "missing_values", "warning",
                                  f"Column {dataset.columns[2]!r} is 10% missing.", columns=[dataset.columns[2]],
                                  rows=np.flatnonzero(train.iloc[:, 2].isna())),
        "id_columns": described("id_columns", "id_column", "warning", "customer_id looks like a row ID.",
                              columns=["customer_id"]),
        "class_balance": described("class_balance", "class_imbalance", "warning", "The label is imbalanced.",
                                 columns=["churn"], details={"counts": train["churn"].value_counts().to_dict()}),
        "near_duplicates": described("near_duplicates", "near_duplicate", "warning", "2 rows are near copies.",
                                   rows=[7], details={"groups": [[3, 7]]}),
        "train_test_drift": described("train_test_drift", "train_test_drift", "warning",
                                    f"{age!r} drifted between train and test.", columns=[age],
                                    details={"per_column": [{"column": age, "statistic": 0.45, "p_value": 1e-9},
                                                            {"column": plan, "statistic": 0.02, "p_value": 0.8}]}),
        "train_test_overlap": described("train_test_overlap", "train_test_overlap", "error",
                                      "3 test rows also occur in train.", rows=[1, 2, 5]),
    }
    checks = [CheckResult(name, findings=[finding]) for name, finding in findings.items()]
    checks.append(CheckResult("correlations", stats={}))
    result = AuditResult(input=dataset.describe_input(), checks=checks, version="0.1.0", seconds=0.3,
                         dataset=dataset, test_dataset=test_dataset, shared=shared_of(dataset, "correlations"))
    return result
