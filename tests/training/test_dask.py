"""Dask distributed workers for the search: a LocalCluster stands in for the user's machines."""

from __future__ import annotations

import sys

import numpy as np
import pytest
from _training_data import TINY, noisy_classification

from dataaudit.exceptions import ConfigError
from dataaudit.training.ensemble import compare_ensembles
from dataaudit.training.search import random_search

distributed = pytest.importorskip("distributed")




@pytest.fixture(scope="module")
def cluster():
    # In-process workers (threads) keep the test quick; the scheduler is still a real one.
    with distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=False, dashboard_address=":0"
    ) as local:
        yield local


def test_dask_address_runs_the_same_trials_as_serial(cluster) -> None:
    data = noisy_classification()
    seen: list[int] = []
    serial = random_search(data, TINY, n_trials=4, rounds=2, seed=2)
    on_dask = random_search(
        data,
        TINY,
        n_trials=4,
        rounds=2,
        seed=2,
        scheduler=cluster.scheduler_address,
        on_trial=lambda t: seen.append(t.index),
    )
    assert on_dask.runner == f"dask ({cluster.scheduler_address})"
    assert sorted(seen) == [0, 1, 2, 3]
    assert [t.sampled for t in on_dask.trials] == [t.sampled for t in serial.trials]
    np.testing.assert_allclose(
        [t.val_loss for t in on_dask.trials], [t.val_loss for t in serial.trials], rtol=1e-6
    )
    assert on_dask.best.index == serial.best.index
    # The trials were tasks of the cluster's scheduler (joblib's Dask backend batches them), and
    # the data was scattered to it once instead of being shipped with every trial.
    prefixes = set(cluster.scheduler.task_prefixes)
    assert any(p.startswith("batch_of__worker_trial") for p in prefixes), prefixes
    assert "TrainData" in prefixes


def test_a_client_can_be_passed_and_ensembles_run_on_it(cluster) -> None:
    data = noisy_classification()
    with distributed.Client(cluster) as client:
        result = random_search(data, TINY, n_trials=2, rounds=1, scheduler=client)
        assert result.runner == "dask (given client)"
        report = compare_ensembles(data, TINY, k=2, kinds=["seeds"], scheduler=client)
        local = compare_ensembles(data, TINY, k=2, kinds=["seeds"])
        assert report.row("seeds").val_loss == pytest.approx(local.row("seeds").val_loss, rel=1e-6)
        assert client.status == "running"  # a client we were given stays open


def test_missing_dask_is_a_config_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "distributed", None)  # makes `import distributed` fail
    with pytest.raises(ConfigError, match=r"pip install 'dataaudit\[dask\]'"):
        random_search(noisy_classification(), TINY, n_trials=1, rounds=1, scheduler="local")


def test_unreachable_scheduler_is_a_config_error(monkeypatch: pytest.MonkeyPatch) -> None:
    import dataaudit.training.workers as workers

    monkeypatch.setattr(workers, "DASK_CONNECT_TIMEOUT", "1s")
    with pytest.raises(ConfigError, match="Could not connect to the Dask scheduler"):
        random_search(
            noisy_classification(), TINY, n_trials=1, rounds=1, scheduler="tcp://127.0.0.1:1"
        )


def test_scheduler_local_starts_and_stops_its_own_cluster() -> None:
    data = noisy_classification()
    serial = random_search(data, TINY, n_trials=2, rounds=1, seed=5)
    local = random_search(data, TINY, n_trials=2, rounds=1, seed=5, scheduler="local", workers=2)
    assert local.runner == "dask LocalCluster (2 workers)"
    np.testing.assert_allclose(
        [t.val_loss for t in local.trials], [t.val_loss for t in serial.trials], rtol=1e-6
    )
