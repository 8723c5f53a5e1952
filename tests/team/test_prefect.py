"""The job specs on Prefect: a local server, two worker processes, deployments from the YAML.

A probe job (tests/jobs/conftest.py) is deployed with ``workbench jobs deploy prefect``; two
``prefect worker start`` processes poll its pool. It runs once on its cron schedule and once on
demand, each exactly once; a run whose notebook kernel is killed is retried by Prefect (the
attempt task's retries from the YAML) and gold ends with the new rows of its run key, once.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pandas as pd
import pytest

from tests.conftest import ROOT
from tests.jobs.conftest import write_probe_job
from tests.team.conftest import workbench
from workbench.testing.postgres import free_port

pytestmark = [pytest.mark.team, pytest.mark.postgres, pytest.mark.slow]

POOL = "team-pool"
LOCAL = ZoneInfo("America/Chicago")  # the probe spec's schedule time zone


def _wait(check, what: str, timeout_s: float = 120.0, every_s: float = 0.5):
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        got = check()
        if got:
            return got
        time.sleep(every_s)
    raise AssertionError(f"timed out after {timeout_s:g} s waiting for {what}")


@pytest.fixture(scope="module")
def prefect_env(team, tmp_path_factory):
    """A Prefect server on a free loopback port (SQLite under a temporary PREFECT_HOME)."""
    home = tmp_path_factory.mktemp("prefect-home")
    port = free_port()
    api = f"http://127.0.0.1:{port}/api"
    env = {
        "PREFECT_HOME": str(home),
        "PREFECT_API_URL": api,
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "PREFECT_UI_ENABLED": "false",
        "PREFECT_LOGGING_LEVEL": "INFO",
        "PREFECT_WORKER_QUERY_SECONDS": "1",
        "PREFECT_WORKER_PREFETCH_SECONDS": "2",
        "PREFECT_SERVER_SERVICES_SCHEDULER_LOOP_SECONDS": "2",
    }
    log = (home / "server.log").open("w")
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "prefect",
            "server",
            "start",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
        ],
        env={**os.environ, **env},
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )

    def healthy() -> bool:
        if server.poll() is not None:
            pytest.fail(f"prefect server exited: {(home / 'server.log').read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(f"{api}/health", timeout=2) as r:
                return r.status == 200
        except OSError:
            return False

    try:
        _wait(healthy, "the Prefect server", timeout_s=180)
        yield env
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
        log.close()


@pytest.fixture(scope="module")
def deployed(team, prefect_env, tmp_path_factory):
    """Probe jobs deployed, two workers polling; yields (env, jobs folder, scheduled tick)."""
    jobs = tmp_path_factory.mktemp("prefect-jobs")
    # a cron tick that comes once, a little after the workers are up
    tick = (datetime.now(UTC) + timedelta(seconds=40)).replace(second=0, microsecond=0)
    tick += timedelta(minutes=1)
    local = tick.astimezone(LOCAL)
    write_probe_job(jobs, "probe", cron=f"{local.minute} {local.hour} {local.day} {local.month} *")
    write_probe_job(
        jobs,
        "probe_kill",
        cron="0 10 1 1 *",
        retries=1,
        retry_on="[kernel_died]",
        timeout="3min",
    )
    env = {**prefect_env, "WORKBENCH_JOBS_DIR": str(jobs), "WORKBENCH_JOB_LEASE_S": "30"}
    done = workbench(team, "jobs", "deploy", "prefect", "--pool", POOL, **env)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "deployment workbench-probe/probe" in done.stdout
    workers, logs = [], []
    for i in range(2):
        logs.append((jobs / f"worker-{i}.log").open("w"))
        workers.append(
            subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "prefect",
                    "worker",
                    "start",
                    "--pool",
                    POOL,
                    "--name",
                    f"worker-{i}",
                    "--type",
                    "process",
                ],
                env=team.env(**env),
                cwd=ROOT,
                stdout=logs[-1],
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        )
    try:
        yield env, jobs, tick
    finally:
        for proc in workers:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGTERM)
        for proc, log in zip(workers, logs, strict=True):
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
            log.close()


@contextlib.contextmanager
def _api(env):
    """This process talks to the test's Prefect server (whatever settings were loaded before)."""
    from prefect.settings import PREFECT_API_URL, temporary_settings

    with temporary_settings(updates={PREFECT_API_URL: env["PREFECT_API_URL"]}):
        yield


def _client(env):
    from prefect import get_client

    return get_client(sync_client=True)


def _flow_runs(env, deployment: str):
    from prefect.client.schemas.filters import DeploymentFilter, DeploymentFilterName

    with _api(env), _client(env) as client:
        return client.read_flow_runs(
            deployment_filter=DeploymentFilter(name=DeploymentFilterName(any_=[deployment]))
        )


def _job_runs(team, job: str) -> pd.DataFrame:
    from workbench.io.warehouse import Warehouse

    with Warehouse(team.reader, read_only=True) as wh:
        t = wh.table("ops.job_runs")
        t = t.filter(t.job == job).mutate(
            parameters=t.parameters.cast("string"), metrics=t.metrics.cast("string")
        )
        frame = t.to_pandas()
    frame["run_key"] = [json.loads(p)["run_key"] for p in frame.parameters]
    frame["metrics"] = [json.loads(m) for m in frame.metrics]
    return frame


def _forecast_rows(team, run_key: str) -> pd.DataFrame:
    from workbench.io.warehouse import Warehouse

    with Warehouse(team.reader, read_only=True) as wh:
        t = wh.table("gold.load_forecasts")
        return t.filter(t.run_key == run_key).to_pandas()


def _finished(env, deployment: str, n: int):
    def check():
        runs = _flow_runs(env, deployment)
        done = [r for r in runs if r.state is not None and r.state.is_final()]
        return done if len(done) >= n else None

    return check


def test_scheduled_and_on_demand_runs_each_run_once(team, deployed):
    from prefect.deployments import run_deployment

    env, _, tick = deployed
    with _api(env):
        demand = run_deployment(
            "workbench-probe/probe",
            parameters={"parameters": {"issue_date": "2024-03-11"}},
            timeout=0,
        )
    assert demand.state is not None
    runs = _wait(_finished(env, "probe", 2), "the on-demand and the scheduled probe", 300)
    assert all(r.state.is_completed() for r in runs), [(r.name, r.state) for r in runs]
    scheduled = [r for r in runs if r.auto_scheduled]
    assert len(scheduled) == 1
    assert scheduled[0].expected_start_time.astimezone(UTC) == tick

    frame = _job_runs(team, "probe")
    local_day = tick.astimezone(LOCAL).date().isoformat()
    keys = {"probe:2024-03-11", f"probe:{local_day}"}
    assert set(frame.run_key) == keys
    succeeded = frame[frame.status == "succeeded"]
    assert sorted(succeeded.run_key) == sorted(keys)  # one success per run key
    assert len(frame) == 2  # no attempt ran twice
    for key in keys:
        assert len(_forecast_rows(team, key)) == 3


def test_killed_run_is_retried_by_prefect_and_gold_holds_old_or_new(team, deployed, as_role):
    from prefect.deployments import run_deployment

    from workbench import open_catalog
    from workbench.jobs.context import publish

    env, jobs, _ = deployed
    key = "probe_kill:2024-03-12"
    as_role("writer")
    old = pd.DataFrame(
        {
            "issue_time": pd.Timestamp("2024-03-12", tz="UTC"),
            "timestamp": [
                pd.Timestamp("2024-03-12", tz="UTC") + pd.Timedelta(hours=h) for h in (0, 1)
            ],
            "region_id": "NORTH",
            "model": "old",
            "quantile": 0.5,
            "load_mw": 1.0,
        }
    )
    with open_catalog(read_only=True) as cat:
        publish(cat, {"gold.load_forecasts": old}, key)
    pid_file = jobs / "kill.pid"
    params = {"issue_date": "2024-03-12", "rows": 5, "sleep_s": 6.0, "pid_file": str(pid_file)}
    with _api(env):
        run_deployment(
            "workbench-probe_kill/probe_kill", parameters={"parameters": params}, timeout=0
        )

    kernel = int(_wait(lambda: pid_file.exists() and pid_file.read_text(), "the kernel", 180))
    pid_file.unlink()
    os.kill(kernel, signal.SIGKILL)  # the notebook's kernel dies mid-run, before its publish
    during = _forecast_rows(team, key)
    assert sorted(during.model) == ["old", "old"]  # the old state, untouched

    runs = _wait(_finished(env, "probe_kill", 1), "the retried run", 300)
    assert runs[0].state.is_completed(), runs[0].state
    assert runs[0].run_count == 1  # the flow ran once; its attempt task was retried

    frame = _job_runs(team, "probe_kill").sort_values("started_at")
    assert frame.status.tolist() == ["failed", "succeeded"]
    assert frame.metrics.iloc[0]["failure_kind"] == "kernel_died"
    assert frame.metrics.iloc[1]["attempt"] == 2
    after = _forecast_rows(team, key)
    assert after.model.tolist() == ["probe"] * 5  # the new state, once
