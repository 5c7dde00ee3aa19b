"""Print the real-data corpus table for the README: run dataaudit on every corpus table and judge it.

    python benchmarks/realdata/table.py            # the markdown table, then every unmet expectation
    python benchmarks/realdata/table.py --json out.json
    python benchmarks/realdata/table.py --close-gaps   # delete the gap line of every gap now met
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import sys
import tempfile
import time
from dataclasses import asdict
from pathlib import Path

HERE = Path(__file__).resolve().parent


def _corpus_module():
    spec = importlib.util.spec_from_file_location("realdata_corpus", HERE / "corpus.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def close_gaps(corpus_mod, expectation_ids: list[str]) -> int:
    """Delete the ``gap = ...`` line of the named expectations in expectations.toml."""
    tables = corpus_mod.load_expectations()
    wanted = {(e.table, e.index) for t in tables.values() for e in t.expectations if e.id in expectation_ids}
    lines = corpus_mod.EXPECTATIONS.read_text(encoding="utf-8").splitlines(keepends=True)
    out, table, index, removed = [], None, -1, 0
    for line in lines:
        stripped = line.strip()
        if stripped.startswith("[[tables.") and stripped.endswith(".expect]]"):
            name = stripped[len("[[tables."):-len(".expect]]")]
            index = index + 1 if name == table else 0
            table = name
        elif stripped.startswith("[tables.") and ".runs." not in stripped:
            table, index = None, -1
        if stripped.startswith("gap =") and (table, index) in wanted:
            removed += 1
            continue
        out.append(line)
    corpus_mod.EXPECTATIONS.write_text("".join(out), encoding="utf-8")
    return removed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--json", type=Path, help="also write the scores as JSON")
    parser.add_argument("--only", nargs="*", help="only these tables")
    parser.add_argument("--close-gaps", action="store_true",
                        help="remove the `gap = ...` line of every known gap that is now met")
    args = parser.parse_args(argv)
    corpus_mod = _corpus_module()
    tables = corpus_mod.load_expectations()
    if args.only:
        tables = {k: v for k, v in tables.items() if k in args.only}
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="dataaudit-corpus-") as tmp:
        corpus = corpus_mod.Corpus(Path(tmp), tables)
        scores = corpus_mod.score(corpus)
    print(corpus_mod.markdown_table(scores))
    print(f"\n({time.perf_counter() - started:.0f} s)")
    for s in scores:
        for line in s.failures:
            print(f"UNMET (not marked as a gap): {line}")
        for line in s.gaps_closed:
            print(f"GAP CLOSED (remove the gap marker): {line}")
    print("\nKnown gaps still open:")
    for s in scores:
        for line in s.gaps_open:
            print(f"  {line}")
    if args.close_gaps:
        closed = [line.split(":", 1)[0] for s in scores for line in s.gaps_closed]
        removed = close_gaps(corpus_mod, closed)
        print(f"\nremoved {removed} gap marker(s) from {corpus_mod.EXPECTATIONS.name}")
    if args.json:
        args.json.write_text(json.dumps([asdict(s) for s in scores], indent=2) + "\n", encoding="utf-8")
    return 1 if any(s.failures or s.gaps_closed for s in scores) else 0


if __name__ == "__main__":
    sys.exit(main())
