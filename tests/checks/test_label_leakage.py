"""label_leakage: planted copies of the label are flagged, informative features are not."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.datasets import load_digits

from dataaudit.checks import AuditContext, load_all, make_check
from dataaudit.checks.label_leakage import balanced_accuracy
from dataaudit.dataset import Dataset
from dataaudit.exceptions import ConfigError
from dataaudit.findings import CheckResult

load_all()


def _run(frame: pd.DataFrame, **options: object) -> CheckResult:
    dataset = Dataset.from_frame(frame, label="label")
    return make_check("label_leakage", dict(options)).run(dataset, AuditContext(seed=0))


@pytest.fixture(scope="module")
def digits() -> tuple[pd.DataFrame, np.ndarray]:
    X, y = load_digits(return_X_y=True)
    frame = pd.DataFrame(X.astype(np.int64), columns=[f"pixel_{i}" for i in range(64)])
    frame["label"] = y
    return frame, y


def test_digits_pixels_never_flagged(digits: tuple[pd.DataFrame, np.ndarray]) -> None:
    frame, _ = digits
    result = _run(frame)
    assert result.status == "passed" and result.findings == ()
    scores = result.stats["balanced_accuracy"]
    # Constant pixels are skipped; every other pixel is scored and far from the threshold.
    assert len(scores) == 61 and max(scores.values()) < 0.5


def test_planted_label_copies_flagged(digits: tuple[pd.DataFrame, np.ndarray]) -> None:
    frame, y = digits
    rng = np.random.default_rng(0)
    frame = frame.copy()
    frame["label_text"] = np.array([f"digit-{c}" for c in range(10)])[y]
    frame["label_noisy_code"] = y + rng.normal(scale=0.01, size=len(y))
    # Informative but imperfect: the label code plus noise that blurs neighbouring classes.
    frame["label_blurred"] = y + rng.normal(scale=0.6, size=len(y))
    result = _run(frame)
    (finding,) = result.findings
    assert result.status == "flagged"
    assert finding.code == "label_leakage" and finding.severity == "error"
    assert set(finding.columns) == {"label_text", "label_noisy_code"}
    per_column = finding.details["per_column"]
    assert per_column["label_text"]["balanced_accuracy"] == 1.0
    assert per_column["label_text"]["method"] == "majority label per value"
    assert per_column["label_noisy_code"]["balanced_accuracy"] >= 0.98
    assert per_column["label_noisy_code"]["method"] == "one-feature decision tree"
    assert 0.5 < result.stats["balanced_accuracy"]["label_blurred"] < 0.98


def test_high_cardinality_categorical_not_flagged() -> None:
    # 300 random categories over 600 rows: memorizing them fits the training half perfectly,
    # but held-out rows mostly carry unseen values.
    rng = np.random.default_rng(0)
    frame = pd.DataFrame({
        "code": rng.choice([f"c{i}" for i in range(300)], size=600),
        "x": rng.normal(size=600),
        "label": rng.integers(0, 2, size=600),
    })
    result = _run(frame)
    assert result.findings == ()
    assert result.stats["balanced_accuracy"]["code"] < 0.7


def test_id_constant_and_missing_values() -> None:
    rng = np.random.default_rng(0)
    labels = np.sort(rng.integers(0, 3, size=200))
    leak = np.array(["low", "mid", None], dtype=object)[labels]  # missing means class 2
    frame = pd.DataFrame({
        "row_id": np.arange(200),  # sorted by label, so it predicts it; but it is an ID
        "constant": 1.0,
        "leak": leak,
        "noise": rng.normal(size=200),
        "label": labels,
    })
    dataset = Dataset.from_frame(frame, label="label")
    assert dataset.roles["row_id"] == "id"
    result = make_check("label_leakage").run(dataset, AuditContext(seed=0))
    (finding,) = result.findings
    assert finding.columns == ("leak",)
    assert set(result.stats["balanced_accuracy"]) == {"leak", "noise"}


def test_datetime_column_recorded_from_the_label_is_flagged() -> None:
    rng = np.random.default_rng(0)
    labels = rng.integers(0, 2, size=300)
    days = pd.Timestamp("2024-01-01") + pd.to_timedelta(labels * 30 + rng.integers(0, 5, 300), unit="D")
    frame = pd.DataFrame({"recorded": days.strftime("%Y-%m-%d"), "label": labels})
    dataset = Dataset.from_frame(frame, label="label")
    assert dataset.roles["recorded"] == "datetime"
    (finding,) = make_check("label_leakage").run(dataset, AuditContext(seed=0)).findings
    assert finding.columns == ("recorded",)


def test_too_few_rows_skips() -> None:
    frame = pd.DataFrame({"x": np.arange(10.0), "label": [0, 1] * 5})
    result = _run(frame)
    assert result.status == "skipped" and "10 labelled rows" in (result.reason or "")


def test_balanced_accuracy_reference() -> None:
    from sklearn.metrics import balanced_accuracy_score

    rng = np.random.default_rng(0)
    truth, predicted = rng.integers(0, 4, 500), rng.integers(0, 4, 500)
    assert balanced_accuracy(truth, predicted, 4) == pytest.approx(balanced_accuracy_score(truth, predicted))


def test_bad_options_raise() -> None:
    with pytest.raises(ConfigError, match="threshold"):
        make_check("label_leakage", {"threshold": 1.5})
