"""Fuzz inspect and fit-transform with hostile CSV and Parquet files, in-process.

Each example must end in exit 0/1 with a complete output set, or in exit 2 with exactly one
line on stderr naming the file (no traceback), and must touch nothing outside --out.
`make test` runs the derandomized "ci" profile (about a minute); `make fuzz` hunts with many
more random examples (HYPOTHESIS_PROFILE=fuzz).
"""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from fuzz.harness import fuzz_settings, judge, run_command, workspace
from fuzz.strategies import csv_files, parquet_tables


@fuzz_settings(30)
@given(case=csv_files(), with_label=st.integers(0, 9))
def test_inspect_csv(case, with_label):
    with workspace() as (root, folder, _):
        data = folder / "data.csv"
        data.write_bytes(case.data)
        args = ["--label", "label"] if with_label else []
        judge("inspect_csv", run_command("inspect", data, args, root, folder / "out"), case)


@fuzz_settings(60)
@given(case=csv_files(), chunked=st.integers(0, 3))
def test_fit_transform_csv(case, chunked):
    with workspace() as (root, folder, _):
        data = folder / "data.csv"
        data.write_bytes(case.data)
        args = ["--label", "label"] + (["--chunksize", "7"] if chunked == 0 else [])
        judge("fit_transform_csv", run_command("fit-transform", data, args, root, folder / "out"), case)


@fuzz_settings(20)
@given(case=parquet_tables())
def test_inspect_parquet(case):
    import pyarrow.parquet as pq

    with workspace() as (root, folder, _):
        data = folder / "data.parquet"
        pq.write_table(case.table, data)
        judge("inspect_parquet", run_command("inspect", data, ["--label", "label"], root, folder / "out"), case)


@fuzz_settings(40)
@given(case=parquet_tables())
def test_fit_transform_parquet(case):
    import pyarrow.parquet as pq

    with workspace() as (root, folder, _):
        data = folder / "data.parquet"
        pq.write_table(case.table, data)
        judge("fit_transform_parquet",
              run_command("fit-transform", data, ["--label", "label"], root, folder / "out"), case)
