"""Dask compute for real: a LocalCluster of 2 worker processes, and a scheduler reached by address.

One cluster per module (starting worker processes takes seconds on a busy machine).
"""

from __future__ import annotations

import os

import pandas as pd
import pytest

from workbench.io.dask_cluster import (
    SCHEDULER_ENV,
    DaskClusterError,
    close_client,
    get_client,
    local_cluster_shape,
)
from workbench.io.meters import aggregate_meter_load

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def local_client():
    """The default path of get_client: a new LocalCluster with 2 worker processes."""
    with pytest.MonkeyPatch.context() as mp:
        mp.delenv(SCHEDULER_ENV, raising=False)
        client = get_client(n_workers=2, threads_per_worker=1, quiet=True)
    yield client
    close_client()


def test_local_cluster_has_two_worker_processes(local_client, monkeypatch):
    monkeypatch.delenv(SCHEDULER_ENV, raising=False)
    workers = local_client.scheduler_info(n_workers=-1)["workers"]
    assert len(workers) == 2
    pids = set(local_client.run(os.getpid).values())
    assert len(pids) == 2
    assert os.getpid() not in pids  # real processes, not threads of the test
    assert local_client.dashboard_link.startswith("http")
    assert get_client() is local_client  # reused, not a second cluster


@pytest.mark.parametrize("freq", ["5min", "15min", "1h"])
def test_dask_engine_matches_duckdb(local_client, ci_gold_catalog, freq, monkeypatch):
    monkeypatch.delenv(SCHEDULER_ENV, raising=False)
    kwargs = {
        "freq": freq,
        "start": "2024-03-20T12:00",
        "end": "2024-03-21T06:00",
        "by": ("region_id", "customer_class"),
        "regions": ["COAST", "HOUSTON"],
    }
    on_dask = aggregate_meter_load(ci_gold_catalog, engine="dask", **kwargs)
    on_duckdb = aggregate_meter_load(ci_gold_catalog, engine="duckdb", **kwargs)
    pd.testing.assert_frame_equal(on_dask, on_duckdb, rtol=1e-9)
    assert set(on_dask["region_id"]) == {"COAST", "HOUSTON"}


def test_dask_engine_whole_dataset_and_bronze(local_client, ci_gold_catalog, monkeypatch):
    monkeypatch.delenv(SCHEDULER_ENV, raising=False)
    for dataset in ("silver.meter_readings", "bronze.meter_reads"):
        on_dask = aggregate_meter_load(ci_gold_catalog, dataset, engine="dask", client=local_client)
        on_polars = aggregate_meter_load(ci_gold_catalog, dataset, engine="polars")
        pd.testing.assert_frame_equal(on_dask, on_polars, rtol=1e-9)


def test_dask_engine_empty_window_is_an_error(local_client, ci_gold_catalog, monkeypatch):
    monkeypatch.delenv(SCHEDULER_ENV, raising=False)
    with pytest.raises(Exception, match="found none") as info:
        aggregate_meter_load(ci_gold_catalog, engine="dask", start="2030-01-01")
    assert type(info.value).__name__ == "MeterAggregationError"


def test_remote_scheduler_from_the_environment(local_client, ci_gold_catalog, monkeypatch):
    """A separately started scheduler + worker, reached through WORKBENCH_DASK_SCHEDULER."""
    from distributed import LocalCluster

    with LocalCluster(
        n_workers=1, threads_per_worker=1, processes=False, dashboard_address=None
    ) as remote:
        assert remote.scheduler_address != local_client.scheduler.address
        monkeypatch.setenv(SCHEDULER_ENV, remote.scheduler_address)
        client = get_client()
        try:
            assert client is not local_client
            assert client.scheduler.address == remote.scheduler_address
            assert get_client() is client  # already connected there: reused
            worker_addresses = set(client.scheduler_info(n_workers=-1)["workers"])
            assert worker_addresses == set(remote.scheduler_info["workers"])
            out = aggregate_meter_load(ci_gold_catalog, engine="dask", freq="1h", by=())
            assert client.scheduler.address == remote.scheduler_address
            expected = aggregate_meter_load(ci_gold_catalog, engine="duckdb", freq="1h", by=())
            pd.testing.assert_frame_equal(out, expected, rtol=1e-9)
        finally:
            client.close()


@pytest.mark.parametrize(
    ("address", "message"),
    [
        ("localhost:8786", r"expected a Dask scheduler address like tcp://host:8786"),
        ("tcp://127.0.0.1:9", r"expected a Dask scheduler at tcp://127.0.0.1:9; found none"),
    ],
)
def test_unreachable_or_malformed_scheduler(monkeypatch, address, message):
    monkeypatch.setenv(SCHEDULER_ENV, address)
    with pytest.raises(DaskClusterError, match=message):
        get_client(timeout_s=2)


def test_local_cluster_shape():
    assert local_cluster_shape(1) == (1, 1)
    assert local_cluster_shape(2) == (2, 1)
    assert local_cluster_shape(16) == (4, 4)
