"""Tamper suite: every artifact file and every manifest field changed, truncated, swapped or emptied.

Each case is applied to a copy of a fitted artifact folder; `dataaudit transform` and `dataaudit
train` must both refuse it with exit code 2 and one line on stderr (never a traceback, never
accepted). "resealed" cases also recompute every checksum afterwards (the manifest's file records
and the folder's .dataaudit.json), so what refuses them is validation, not the checksum.
"""

from __future__ import annotations

import json
import tracemalloc
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from _tamper import RECORD, copy_run, dump_json, load_json, make_run, outcome, reseal

ARTIFACT_FILES = ("manifest.json", "transform.npz", "train.npz", "val.npz", "test.npz", "expectations.json")
SPLITS = ("train.npz", "val.npz", "test.npz")
NPZ_FILES = ("transform.npz", *SPLITS)


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("tamper")
    return make_run(root / "a", seed=0), make_run(root / "b", seed=1)


# ------------------------------------------------------------------------------------------ cases
Case = Callable[[Path, Path], None]
CASES: dict[str, tuple[Case, bool]] = {}  # name -> (change(folder, other_run), reseal afterwards)


def case(name: str, *, resealed: bool = False) -> Callable[[Case], Case]:
    def register(func: Case) -> Case:
        CASES[name] = (func, resealed)
        return func
    return register


def edit_manifest(change: Callable[[dict[str, Any]], None]) -> Case:
    def apply(folder: Path, other: Path) -> None:
        manifest = load_json(folder / "manifest.json")
        change(manifest)
        dump_json(folder / "manifest.json", manifest)
    return apply


for _name in (*ARTIFACT_FILES, RECORD):
    def _delete(folder: Path, other: Path, name: str = _name) -> None:
        (folder / name).unlink()

    def _truncate(folder: Path, other: Path, name: str = _name) -> None:
        data = (folder / name).read_bytes()
        (folder / name).write_bytes(data[: len(data) // 2])

    def _empty(folder: Path, other: Path, name: str = _name) -> None:
        (folder / name).write_bytes(b"")

    def _garbage(folder: Path, other: Path, name: str = _name) -> None:
        with open(folder / name, "ab") as handle:
            handle.write(b"\x00garbage")

    def _swap(folder: Path, other: Path, name: str = _name) -> None:
        (folder / name).write_bytes((other / name).read_bytes())

    for _kind, _func in (("delete", _delete), ("truncate", _truncate), ("empty", _empty),
                         ("append", _garbage), ("swap-from-other-run", _swap)):
        CASES[f"{_kind}:{_name}"] = (_func, False)
        # Resealing a swapped or appended-to file makes it a whole, valid file again (beyond the
        # threat model: a checksum recomputed on purpose); a truncated one must still be refused.
        if _name != RECORD and _kind == "truncate":
            CASES[f"{_kind}:{_name}:resealed"] = (_func, True)


@case("swap-manifest-and-splits-from-other-run")
def _swap_pair(folder: Path, other: Path) -> None:
    for name in ("manifest.json", *SPLITS, RECORD):
        if (other / name).exists():
            (folder / name).write_bytes((other / name).read_bytes())


def _add_member(folder: Path, name: str) -> None:
    with zipfile.ZipFile(folder / name, "a") as archive:
        with archive.open("Z.npy", "w") as handle:
            np.lib.format.write_array(handle, np.zeros(3), allow_pickle=False)


for _name in NPZ_FILES:
    CASES[f"extra-member:{_name}:resealed"] = (lambda f, o, n=_name: _add_member(f, n), True)


def _declared_huge(folder: Path, other: Path) -> None:
    """Replace train.npz's X by a deflated member that declares 512 MiB (a zip bomb in miniature)."""
    manifest = load_json(folder / "manifest.json")
    arrays = {}
    with np.load(folder / "train.npz", allow_pickle=False) as data:
        arrays = {k: data[k] for k in data.files}
    width = arrays["X"].shape[1]
    rows = (512 << 20) // (8 * width)
    with zipfile.ZipFile(folder / "train.npz", "w", compression=zipfile.ZIP_DEFLATED) as archive:
        with archive.open("X.npy", "w", force_zip64=True) as handle:
            header = {"descr": "<f8", "fortran_order": False, "shape": (rows, width)}
            np.lib.format.write_array_header_2_0(handle, header)
            block = bytes(1 << 20)
            for _ in range(rows * width * 8 >> 20):
                handle.write(block)
        for key in ("y", "row"):
            with archive.open(f"{key}.npy", "w") as handle:
                np.lib.format.write_array(handle, arrays[key], allow_pickle=False)
    dump_json(folder / "manifest.json", manifest)


CASES["oversized-declared-member:train.npz:resealed"] = (_declared_huge, True)


def _header_lies(folder: Path, other: Path) -> None:
    """X.npy's header claims 1000x more rows than the member holds (stored, not compressed)."""
    with np.load(folder / "val.npz", allow_pickle=False) as data:
        arrays = {k: data[k] for k in data.files}
    with zipfile.ZipFile(folder / "val.npz", "w") as archive:
        for key, value in arrays.items():
            with archive.open(f"{key}.npy", "w") as handle:
                shape = (value.shape[0] * 1000, *value.shape[1:]) if key == "X" else value.shape
                np.lib.format.write_array_header_1_0(
                    handle, {"descr": np.lib.format.dtype_to_descr(value.dtype), "fortran_order": False,
                             "shape": shape})
                handle.write(value.tobytes())


CASES["npy-header-claims-more-rows:val.npz:resealed"] = (_header_lies, True)


def _object_member(folder: Path, other: Path) -> None:
    with np.load(folder / "test.npz", allow_pickle=False) as data:
        arrays = {k: data[k] for k in data.files}
    arrays["X"] = arrays["X"].astype(object)
    np.savez(folder / "test.npz", **arrays)  # pickled object array


CASES["pickled-member:test.npz:resealed"] = (_object_member, True)


@case("expectations-emptied")
def _empty_suite(folder: Path, other: Path) -> None:
    suite = load_json(folder / "expectations.json")
    suite["expectations"] = []
    dump_json(folder / "expectations.json", suite)


CASES["expectations-emptied:resealed"] = (_empty_suite, True)


@case("expectations-not-a-suite:resealed", resealed=True)
def _not_suite(folder: Path, other: Path) -> None:
    dump_json(folder / "expectations.json", {"hello": 1})


# Manifest fields: every top-level key deleted and given a wrong type; then targeted edits.
def _manifest_keys(folder_example: dict[str, Any]) -> list[str]:
    return sorted(folder_example)


MANIFEST_TOP_KEYS = (
    "format_version", "dataaudit_version", "input", "schema", "label", "seed", "config", "cleaning",
    "split", "steps", "encoder", "dropped_columns", "dtype", "feature_names", "spectrum", "verification",
    "unknown_categories", "files",
)


def _wrong_type(value: Any) -> Any:
    if isinstance(value, bool) or isinstance(value, int | float):
        return "1"
    if isinstance(value, str):
        return 7
    if isinstance(value, list):
        return {"0": value}
    if isinstance(value, dict):
        return [value]
    return 3.5


for _key in MANIFEST_TOP_KEYS:
    CASES[f"manifest-missing:{_key}:resealed"] = (edit_manifest(lambda m, k=_key: m.pop(k, None)), True)
    CASES[f"manifest-wrong-type:{_key}:resealed"] = (
        edit_manifest(lambda m, k=_key: m.__setitem__(k, _wrong_type(m.get(k)))), True)

_TARGETED: dict[str, Callable[[dict[str, Any]], None]] = {
    "label.classes-reversed": lambda m: m["label"].__setitem__("classes", m["label"]["classes"][::-1]),
    "label.classes-duplicated": lambda m: m["label"].__setitem__("classes", [m["label"]["classes"][0]] * 2),
    "label.classes-one-dropped": lambda m: m["label"].__setitem__("classes", m["label"]["classes"][:1]),
    "label.task-unknown": lambda m: m["label"].__setitem__("task", "ranking"),
    "label.task-regression": lambda m: m["label"].__setitem__("task", "regression"),
    "label.name-missing": lambda m: m["label"].pop("name"),
    "label.name-not-a-column": lambda m: m["label"].__setitem__("name", "nope"),
    "dtype-object": lambda m: m.__setitem__("dtype", "object"),
    "dtype-float16": lambda m: m.__setitem__("dtype", "float16"),
    "format_version-true": lambda m: m.__setitem__("format_version", True),
    "format_version-string": lambda m: m.__setitem__("format_version", "1"),
    "format_version-float": lambda m: m.__setitem__("format_version", 1.0),
    "format_version-2": lambda m: m.__setitem__("format_version", 2),
    "format_version-0": lambda m: m.__setitem__("format_version", 0),
    "files.X-dtype-object": lambda m: m["files"]["train.npz"]["arrays"]["X"].__setitem__("dtype", "object"),
    "files.X-shape-negative": lambda m: m["files"]["train.npz"]["arrays"]["X"].__setitem__("shape", [-1, 3]),
    "files.X-shape-huge": lambda m: m["files"]["train.npz"]["arrays"]["X"].__setitem__("shape", [2**40, 4]),
    "files.X-shape-string": lambda m: m["files"]["train.npz"]["arrays"]["X"].__setitem__("shape", "10x3"),
    "files.train-missing": lambda m: m["files"].pop("train.npz"),
    "files.transform-missing": lambda m: m["files"].pop("transform.npz"),
    "files.sha256-not-hex": lambda m: m["files"]["val.npz"].__setitem__("sha256", 12),
    "files.extra-entry": lambda m: m["files"].__setitem__("../../etc/passwd", {"sha256": "0" * 64, "arrays": {}}),
    "split.sizes-wrong": lambda m: m["split"]["sizes"].__setitem__("train", m["split"]["sizes"]["train"] + 1),
    "split.sizes-negative": lambda m: m["split"]["sizes"].__setitem__("val", -1),
    "split.sizes-string": lambda m: m["split"]["sizes"].__setitem__("test", "12"),
    "split.n_input-wrong": lambda m: m["split"].__setitem__("n_input", m["split"]["n_input"] + 5),
    "schema.columns-not-list": lambda m: m["schema"].__setitem__("columns", "a,b,c,y"),
    "schema.columns-dropped": lambda m: m["schema"].__setitem__("columns", m["schema"]["columns"][1:]),
    "schema.dtype-unknown": lambda m: m["schema"]["dtypes"].__setitem__("a", "complex256"),
    "schema.roles-unknown": lambda m: m["schema"]["roles"].__setitem__("a", "wizard"),
    "feature_names-one-short": lambda m: m.__setitem__("feature_names", m["feature_names"][:-1]),
    "feature_names-numbers": lambda m: m.__setitem__("feature_names", list(range(len(m["feature_names"])))),
    "steps-not-list": lambda m: m.__setitem__("steps", {"step": "encode"}),
    "steps-unknown-step": lambda m: m["steps"].append({"step": "teleport", "estimator": "X", "params": {}}),
    "steps-scale-removed": lambda m: m.__setitem__("steps", [s for s in m["steps"] if s["step"] != "scale"]),
    "encoder-columns-wrong-type": lambda m: m["encoder"].__setitem__("columns", 5),
    "encoder-emptied": lambda m: m.__setitem__("encoder", {}),
    "seed-negative": lambda m: m.__setitem__("seed", -3),
    "seed-bool": lambda m: m.__setitem__("seed", True),
    "input.sha256-number": lambda m: m["input"].__setitem__("sha256", 5),
    "input.n_rows-negative": lambda m: m["input"].__setitem__("n_rows", -1),
}
for _name, _change in _TARGETED.items():
    if _name != "files.sha256-not-hex":  # a reseal would write the right digest back
        CASES[f"manifest:{_name}:resealed"] = (edit_manifest(_change), True)
    CASES[f"manifest:{_name}"] = (edit_manifest(_change), False)


COMMANDS = ("transform", "train")


def _args(command: str, folder: Path, data: Path, scratch: Path) -> list[str]:
    if command == "transform":
        return ["transform", str(data), "--artifacts", str(folder), "--out", str(scratch / "out.npz")]
    return ["train", str(folder), "--epochs", "1", "--no-checks", "--quiet", "--out", str(scratch / "training")]


@pytest.mark.parametrize("command", COMMANDS)
def test_untouched_artifacts_are_accepted(runs: tuple[Path, Path], tmp_path: Path, command: str) -> None:
    folder = copy_run(runs[0], tmp_path / "art")
    kind, detail = outcome(_args(command, folder, runs[0].parent / "d.csv", tmp_path))
    assert kind == "accepted", detail


@pytest.mark.parametrize("command", COMMANDS)
@pytest.mark.parametrize("name", sorted(CASES))
def test_tampered_artifacts_are_refused(runs: tuple[Path, Path], tmp_path: Path, name: str, command: str) -> None:
    change, resealed = CASES[name]
    folder = copy_run(runs[0], tmp_path / "art")
    change(folder, runs[1])
    if resealed:
        reseal(folder)
    tracemalloc.start()
    try:
        kind, detail = outcome(_args(command, folder, runs[0].parent / "d.csv", tmp_path))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert kind == "refused", f"{kind}: {detail}"
    # Nothing declared large is ever read whole (the 512 MiB member must be refused unread).
    assert peak < 200 << 20, f"peak {peak >> 20} MiB while refusing"
    assert "Traceback" not in detail


def test_suite_covers_every_artifact_file_and_manifest_key(runs: tuple[Path, Path]) -> None:
    manifest = json.loads((runs[0] / "manifest.json").read_text())
    assert set(MANIFEST_TOP_KEYS) == set(manifest), "a new manifest key needs tamper cases"
    written = {p.name for p in runs[0].iterdir()} - {"quarantine.csv"}
    assert written == {*ARTIFACT_FILES, RECORD}  # the folder record keeps the manifest's digest
