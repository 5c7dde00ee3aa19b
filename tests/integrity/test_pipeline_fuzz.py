"""Pipeline-file fuzz: every malformed pipeline is exit 2 with one line, never a traceback.

Each example starts from a valid pipeline document and applies one change that makes it invalid
(a value of the wrong type, an unknown key, a table replaced by a scalar, a value out of range, an
unknown choice, bytes that are not UTF-8 or not TOML, a folder), or no change at all (then the
file must be accepted). `dataaudit run` is invoked in-process with the stages replaced by a stub,
so what is tested is that the file is validated whole before any stage would run.
"""

from __future__ import annotations

import datetime as dt
import math
import tempfile
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

import dataaudit.runner
from dataaudit.cli import app

runner = CliRunner()

NUM = {"int", "float"}
# The TOML kinds each key accepts (the documented pipeline schema).
ALLOWED: dict[str, dict[str, set[str]]] = {
    "": {"name": {"str"}, "description": {"str"}, "dataset": {"table"}, "inspect": {"table"},
         "transform": {"table"}, "train": {"table"}, "output": {"table"}},
    "dataset": {"path": {"str"}, "builtin": {"str"}, "test": {"str"}, "label": {"str"}, "id": {"str"},
                "image_shape": {"str", "list"}, "encoding": {"str"}, "seed": {"int"}},
    "inspect": {"seed": {"int"}, "checks": {"table"}, "only": {"list"}, "fail_on": {"str"},
                "strict": {"bool"}},
    "transform": {"split": {"list", "str"}, "seed": {"int"}, "val": {"str"}, "test": {"str"},
                  "drop_exact_duplicates": {"bool"}, "quarantine_conflicting": {"bool"}, "suspects": {"str"},
                  "suspect_threshold": NUM, "near_duplicates": {"bool"}, "drop": {"list", "str"},
                  "id_column": {"str"}, "max_categories": {"int"}, "scale": {"str"}, "whiten": {"str"},
                  "pca_components": {"int", "float", "str"}, "epsilon": NUM, "dtype": {"str"},
                  "chunksize": {"int"}, "sample_rows": {"int"}},
    "train": {"hidden": {"list", "str", "int"}, "activation": {"str"}, "dropout": NUM, "batch_norm": {"bool"},
              "optimizer": {"str"}, "lr": NUM, "momentum": NUM, "nesterov": {"bool"}, "weight_decay": NUM,
              "l1": NUM, "l2": NUM, "schedule": {"str"}, "warmup_steps": {"int"}, "step_size": {"int"},
              "gamma": NUM, "batch_size": {"int"}, "max_epochs": {"int"}, "patience": {"int"},
              "eval_every": {"int"}, "ema_decay": NUM, "checkpoints": {"int"}, "seed": {"int"},
              "backend": {"str"}, "dtype": {"str"}, "threads": {"int"}, "search": {"int"}, "rounds": {"int"},
              "ensemble": {"int"}, "workers": {"int"}, "scheduler": {"str"}},
    "output": {"dir": {"str"}},
}
CHOICES = {("inspect", "fail_on"), ("transform", "suspects"), ("transform", "scale"), ("transform", "whiten"),
           ("transform", "dtype"), ("train", "activation"), ("train", "optimizer"), ("train", "schedule"),
           ("train", "backend"), ("train", "dtype"), ("dataset", "builtin")}
OUT_OF_RANGE: list[tuple[str, str, Any]] = [
    ("dataset", "seed", -1), ("inspect", "seed", -5), ("transform", "seed", -1), ("train", "seed", -2),
    ("train", "lr", 0.0), ("train", "lr", -1e-3), ("train", "lr", math.inf), ("train", "dropout", 1.5),
    ("train", "max_epochs", 0), ("train", "max_epochs", 10**12), ("train", "batch_size", 0),
    ("train", "hidden", [0]), ("train", "hidden", [-4, 3]), ("train", "patience", -1), ("train", "lr", math.nan),
    ("train", "search", -1), ("train", "ensemble", -3), ("train", "workers", 0), ("train", "rounds", 0),
    ("transform", "split", [0.5, 0.5, 0.5]), ("transform", "split", [0.0, 0.5, 0.5]),
    ("transform", "split", [0.9]), ("transform", "max_categories", 0), ("transform", "chunksize", 0),
    ("transform", "suspect_threshold", 2.0), ("transform", "epsilon", -1.0), ("transform", "sample_rows", 0),
    ("transform", "pca_components", 0), ("transform", "pca_components", 1.5), ("transform", "pca_components", "many"),
    ("dataset", "image_shape", "8by8"), ("dataset", "image_shape", [8]), ("dataset", "image_shape", [0, 8]),
    ("inspect", "only", ["no_such_check"]), ("inspect", "only", [3]), ("inspect", "checks", {"no_such_check": {}}),
    ("inspect", "checks", {"duplicates": 5}), ("inspect", "checks", {"duplicates": {"no_such_option": 1}}),
    ("dataset", "path", "does/not/exist.csv"), ("dataset", "label", ""), ("train", "hidden", "a,b"),
    ("train", "max_epochs", 1e12), ("train", "hidden", [1.5]), ("train", "batch_size", True),
]


def _bases(folder: Path) -> list[dict[str, Any]]:
    (folder / "d.csv").write_text("a,b,label\n1,2,x\n3,4,y\n5,6,x\n")
    return [
        {"name": "digits", "dataset": {"builtin": "digits", "label": "label", "image_shape": "8x8", "seed": 0},
         "inspect": {"fail_on": "none"},
         "transform": {"split": [0.9, 0.1, 0.0], "suspects": "drop", "suspect_threshold": 0.1,
                       "scale": "standard", "whiten": "none"},
         "train": {"hidden": [256, 256], "activation": "relu", "batch_norm": True, "lr": 0.001,
                   "max_epochs": 60, "patience": 8, "ensemble": 5},
         "output": {"dir": str(folder / "out")}},
        {"name": "file", "description": "a table on disk",
         "dataset": {"path": "d.csv", "label": "label", "seed": 3},
         "inspect": {"seed": 1, "strict": False, "only": ["duplicates"],
                     "checks": {"duplicates": {}}},
         "transform": {"whiten": "pca", "pca_components": 0.99, "split": "0.7,0.2,0.1", "drop": ["b"]},
         "train": {"hidden": [8], "lr": 0.01, "max_epochs": 2, "search": 2, "rounds": 1},
         "output": {"dir": str(folder / "out2")}},
    ]


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value):
            return "nan"
        if math.isinf(value):
            return "inf" if value > 0 else "-inf"
        return repr(value)
    if isinstance(value, str):
        return '"' + "".join(c if c.isprintable() and c not in '"\\' else f"\\u{ord(c):04x}" for c in value) + '"'
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if isinstance(value, list):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{_toml_key(k)} = {_toml_value(v)}" for k, v in value.items()) + "}"
    raise TypeError(type(value))


def _toml_key(key: str) -> str:
    return key if key.replace("_", "").replace("-", "").isalnum() and key.isascii() else _toml_value(key)


def to_toml(doc: dict[str, Any]) -> str:
    lines = [f"{_toml_key(k)} = {_toml_value(v)}" for k, v in doc.items() if not isinstance(v, dict)]
    for key, table in doc.items():
        if isinstance(table, dict):
            lines.append(f"[{_toml_key(key)}]")
            lines.extend(f"{_toml_key(k)} = {_toml_value(v)}" for k, v in table.items())
    return "\n".join(lines) + "\n"


KIND_VALUES = {
    "str": st.text(max_size=12),
    "int": st.integers(-(2**63), 2**63 - 1),
    "float": st.floats(allow_nan=True, allow_infinity=True).filter(lambda f: not float(f).is_integer()),
    "bool": st.booleans(),
    "list": st.lists(st.one_of(st.integers(-5, 5), st.text(max_size=3)), max_size=3),
    "table": st.dictionaries(st.sampled_from(["k", "x"]), st.integers(0, 3), max_size=2),
    "datetime": st.datetimes(min_value=dt.datetime(1970, 1, 1), max_value=dt.datetime(2100, 1, 1)),
}


@st.composite
def malformed(draw: st.DrawFn, bases: list[dict[str, Any]]) -> tuple[str, Any]:
    """("valid" | a description of the one change, the document dict or raw bytes)."""
    import copy

    doc = copy.deepcopy(draw(st.sampled_from(bases)))
    kind = draw(st.sampled_from(["wrong_type", "valid", "wrong_type", "wrong_type", "unknown_key",
                                 "table_scalar", "choice", "range", "range", "bytes", "source"]))
    if kind == "valid":  # values anywhere in their valid ranges must be accepted
        doc["dataset"]["seed"] = draw(st.integers(0, 2**32))
        doc["train"]["max_epochs"] = draw(st.integers(1, 10_000))
        doc["train"]["lr"] = draw(st.floats(1e-6, 1.0))
        doc["train"]["hidden"] = draw(st.lists(st.integers(1, 512), max_size=3))
        doc["transform"]["whiten"] = draw(st.sampled_from(["none", "pca"]))
        doc["transform"]["suspect_threshold"] = draw(st.floats(0.0, 1.0))
        return "valid", doc
    if kind in ("wrong_type", "unknown_key"):
        table = draw(st.sampled_from(sorted(ALLOWED)))
        target = doc if table == "" else doc.setdefault(table, {})
        if kind == "unknown_key":
            key = "zz_" + draw(st.text(alphabet="abcdefgh_", min_size=1, max_size=6))
            target[key] = draw(st.one_of(*KIND_VALUES.values()))
            return f"unknown key {key} in [{table}]", doc
        key = draw(st.sampled_from(sorted(ALLOWED[table])))
        wrong = sorted(set(KIND_VALUES) - ALLOWED[table][key])
        value = draw(KIND_VALUES[draw(st.sampled_from(wrong))])
        target[key] = value
        return f"[{table}] {key} = {value!r}", doc
    if kind == "table_scalar":
        table = draw(st.sampled_from([t for t in ALLOWED if t]))
        doc[table] = draw(st.one_of(KIND_VALUES["str"], KIND_VALUES["int"], KIND_VALUES["list"]))
        return f"[{table}] is {doc[table]!r}", doc
    if kind == "choice":
        table, key = draw(st.sampled_from(sorted(CHOICES)))
        value = "zz" + draw(st.text(max_size=6))
        doc.setdefault(table, {})[key] = value
        if key == "builtin":
            doc["dataset"].pop("path", None)
        return f"[{table}] {key} = {value!r}", doc
    if kind == "range":
        table, key, value = draw(st.sampled_from(OUT_OF_RANGE))
        doc.setdefault(table, {})[key] = value
        if key == "path":
            doc["dataset"].pop("builtin", None)
        return f"[{table}] {key} = {value!r}", doc
    if kind == "bytes":
        text = to_toml(doc).encode()
        variant = draw(st.sampled_from(["latin1", "nul", "cut", "junk", "utf16"]))
        if variant == "latin1":
            return "not UTF-8", text.replace(b"name = ", "name = \"caf\xe9\" #".encode("latin-1"), 1)
        if variant == "nul":
            return "NUL byte", text[:10] + b"\x00" + text[10:]
        if variant == "utf16":
            return "UTF-16", text.decode().encode("utf-16")
        if variant == "cut":
            cut = draw(st.integers(1, len(text) - 1))
            broken = text[:cut] + b" = = ["
            return "truncated TOML", broken
        return "junk", draw(st.binary(min_size=1, max_size=40)) + b"\n[[[\n"
    variant = draw(st.sampled_from(["both", "neither", "folder", "missing"]))
    if variant == "both":
        doc["dataset"]["path"], doc["dataset"]["builtin"] = "d.csv", "digits"
    elif variant == "neither":
        doc["dataset"].pop("path", None)
        doc["dataset"].pop("builtin", None)
    return f"source {variant}", doc


class _Reached(Exception):
    """Raised by the stub stage runner: the pipeline file was accepted."""


def _stub(*args: Any, **kwargs: Any) -> Any:
    raise _Reached


def _run_once(folder: Path, description: str, content: Any) -> tuple[str, str]:
    path = folder / "p.toml"
    if description == "source folder":
        path = folder / "a_folder.toml"
        path.mkdir(exist_ok=True)
    elif description == "source missing":
        path = folder / "missing.toml"
    elif isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(to_toml(content), encoding="utf-8")
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(dataaudit.runner, "run_pipeline", _stub)
        result = runner.invoke(app, ["run", str(path)])
    if isinstance(result.exception, _Reached):
        return "accepted", ""
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        return "traceback", f"{type(result.exception).__name__}: {result.exception}"
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    if result.exit_code == 2 and len(lines) == 1:
        return "refused", lines[0]
    return "other", f"exit {result.exit_code}: {' | '.join(lines[:3])}"


FOLDER = Path(tempfile.mkdtemp(prefix="dataaudit-fuzz-"))
BASES = _bases(FOLDER)


def test_bases_are_accepted() -> None:
    for base in BASES:
        assert _run_once(FOLDER, "valid", base) == ("accepted", "")


@settings(max_examples=400, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(example=malformed(BASES))
def test_malformed_pipeline_is_one_line_exit_2(example: tuple[str, Any]) -> None:
    description, content = example
    kind, detail = _run_once(FOLDER, description, content)
    if description == "valid":
        assert kind == "accepted", detail
        return
    assert kind == "refused", f"{description}: {kind}: {detail}"
    assert "p.toml" in detail or "a_folder" in detail or "missing.toml" in detail, detail
