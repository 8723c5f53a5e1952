"""Dask at team scale: a ``dask scheduler`` process and ``dask worker`` processes started apart.

The PMU cube reductions (``ds.grid`` on the dask-backed Zarr cube of the team's lake) run on
that cluster, reached through ``WORKBENCH_DASK_SCHEDULER``, and agree with the same reduction
computed in this process.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time

import pytest

from workbench.testing.postgres import free_port

pytestmark = [pytest.mark.team, pytest.mark.postgres, pytest.mark.slow]


@pytest.fixture(scope="module")
def external_cluster(tmp_path_factory):
    """``dask scheduler`` + ``dask worker`` (2 processes) as separate OS processes."""
    logs = tmp_path_factory.mktemp("dask-cluster")
    address = f"tcp://127.0.0.1:{free_port()}"
    port = address.rsplit(":", 1)[1]
    bin_dir = os.path.dirname(sys.executable)
    procs = []

    def start(name: str, *args: str) -> None:
        out = (logs / f"{name}.log").open("w")
        procs.append(
            subprocess.Popen(
                [os.path.join(bin_dir, "dask"), *args],
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                cwd=logs,
            )
        )

    start("scheduler", "scheduler", "--host", "127.0.0.1", "--port", port, "--no-dashboard")
    start("worker", "worker", address, "--nworkers", "2", "--nthreads", "1", "--no-dashboard")
    try:
        from distributed import Client

        deadline = time.monotonic() + 120
        while True:
            try:
                with Client(address, timeout=5) as probe:
                    if len(probe.scheduler_info(n_workers=-1)["workers"]) == 2:
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                logs_text = "".join(p.read_text() for p in logs.glob("*.log"))
                pytest.fail(f"the external Dask cluster did not come up: {logs_text[-3000:]}")
            time.sleep(0.5)
        yield address
    finally:
        for proc in procs:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGTERM)
        for proc in procs:
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)


def test_cube_reductions_run_on_the_external_cluster(team, as_role, external_cluster, monkeypatch):
    import dask
    import xarray as xr
    from distributed import get_task_stream

    from workbench import open_catalog
    from workbench.io.dask_cluster import SCHEDULER_ENV, get_client

    as_role("writer")
    monkeypatch.setenv(SCHEDULER_ENV, external_cluster)
    client = get_client()
    try:
        assert client.scheduler.address == external_cluster
        workers = set(client.scheduler_info(n_workers=-1)["workers"])
        assert len(workers) == 2
        with open_catalog(read_only=True) as cat:
            cube = cat.scan("bronze.pmu")
        assert cube.frequency_hz.chunks is not None  # dask-backed
        reductions = {
            "stats": cube.grid.resample_stats("1s"),
            "excursions": cube.grid.excursions(band_hz=0.02).sum("time"),
            "deviation": abs(cube.grid.frequency_deviation()).max("time"),
        }
        with get_task_stream(client) as stream:
            on_cluster = {k: v.compute() for k, v in reductions.items()}
        ran_on = {task["worker"] for task in stream.data}
        assert ran_on
        assert ran_on <= workers  # every task ran on the separately started workers
        with dask.config.set(scheduler="synchronous"):
            here = {k: v.compute(scheduler="synchronous") for k, v in reductions.items()}
        for name in reductions:
            xr.testing.assert_allclose(on_cluster[name], here[name])
        assert on_cluster["stats"].sizes["time"] > 0
    finally:
        client.close()
