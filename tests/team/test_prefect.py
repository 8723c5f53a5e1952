"""The job specs on Prefect: a local server, two worker processes, deployments from the YAML.

A probe job (tests/jobs/conftest.py) is deployed with ``workbench jobs deploy prefect``; two
``prefect worker start`` processes poll its pool. It runs once on its cron schedule and once on
demand, each exactly once. A run whose notebook kernel is killed is retried by Prefect (the
attempt task's retries from the YAML); when its worker host then dies (the worker's whole process
tree killed) the heartbeat automation marks the run Crashed and the crash automation reruns it on
the other worker. Gold holds the old or the new rows of its run key at every moment, and the new
ones, published once, at the end.
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


#: Seconds a stopped server or worker gets to exit before it is killed (teardown only)
STOP_WAIT_S = 5


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
            server.wait(timeout=STOP_WAIT_S)
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
    # the crash window is the lease + one heartbeat period (30 s, Prefect's minimum): 45 s
    env = {**prefect_env, "WORKBENCH_JOBS_DIR": str(jobs), "WORKBENCH_JOB_LEASE_S": "15"}
    done = workbench(team, "jobs", "deploy", "prefect", "--pool", POOL, **env)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "deployment workbench-probe/probe" in done.stdout
    assert "automation workbench-probe_kill/probe_kill: rerun when crashed" in done.stdout
    again = workbench(team, "jobs", "deploy", "prefect", "--pool", POOL, **env)  # idempotent
    assert again.returncode == 0, again.stdout + again.stderr
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
        yield env, jobs, tick, workers
    finally:
        for proc in workers:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGTERM)
        for proc, log in zip(workers, logs, strict=True):
            try:
                proc.wait(timeout=STOP_WAIT_S)
            except subprocess.TimeoutExpired:  # a worker waits on Prefect's 30-s heartbeat
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


def _publish_old(key: str, day: str) -> None:
    """Gold's old state for ``key``: two rows of model "old", published as the writer."""
    from workbench import open_catalog
    from workbench.jobs.context import publish

    issue = pd.Timestamp(day, tz="UTC")
    old = pd.DataFrame(
        {
            "issue_time": issue,
            "timestamp": [issue + pd.Timedelta(hours=h) for h in (0, 1)],
            "region_id": "NORTH",
            "model": "old",
            "quantile": 0.5,
            "load_mw": 1.0,
        }
    )
    with open_catalog(read_only=True) as cat:
        publish(cat, {"gold.load_forecasts": old}, key)


def _finished(env, deployment: str, n: int):
    def check():
        runs = _flow_runs(env, deployment)
        done = [r for r in runs if r.state is not None and r.state.is_final()]
        return done if len(done) >= n else None

    return check


def test_scheduled_and_on_demand_runs_each_run_once(team, deployed):
    from prefect.deployments import run_deployment

    env, _, tick, _ = deployed
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


def _infra_pid(run) -> int | None:
    """The pid of a flow run's process, from its ``infrastructure_pid`` (``host:pid`` or pid)."""
    if not run.infrastructure_pid:
        return None
    return int(str(run.infrastructure_pid).rsplit(":", 1)[-1])


def _read_run(env, run_id):
    with _api(env), _client(env) as client:
        return client.read_flow_run(run_id)


def _kill_host(worker) -> None:
    """A host crash: SIGKILL the worker and every process under it (flow run, papermill, kernel)."""
    import psutil

    tree = [psutil.Process(worker.pid), *psutil.Process(worker.pid).children(recursive=True)]
    for proc in tree:
        with contextlib.suppress(psutil.NoSuchProcess):
            proc.kill()
    psutil.wait_procs(tree, timeout=10)


def test_killed_kernel_and_killed_worker_are_retried_by_prefect_gold_old_or_new(
    team, deployed, as_role
):
    """Attempt 1's kernel dies: the task retry (the YAML's retries) runs attempt 2 on the same
    worker. Then that worker's host dies: the heartbeat automation marks the flow run Crashed,
    the crash automation reruns it, the other worker completes it. Gold is old, then new."""
    import psutil
    from prefect.deployments import run_deployment

    env, jobs, _, workers = deployed
    key = "probe_kill:2024-03-12"
    as_role("writer")
    _publish_old(key, "2024-03-12")
    pid_file = jobs / "kill.pid"
    params = {"issue_date": "2024-03-12", "rows": 5, "sleep_s": 6.0, "pid_file": str(pid_file)}
    with _api(env):
        flow_run = run_deployment(
            "workbench-probe_kill/probe_kill", parameters={"parameters": params}, timeout=0
        )

    def kernel() -> int:
        pid = _wait(lambda: pid_file.exists() and pid_file.read_text(), "a kernel", 180, 0.2)
        pid_file.unlink()
        return int(pid)

    os.kill(kernel(), signal.SIGKILL)  # attempt 1's kernel dies mid-run, before its publish
    kernel()  # attempt 2 (the task's retry) is up, on the same flow run
    running = _read_run(env, flow_run.id)
    assert running.state.is_running(), running.state
    first = _infra_pid(running)
    ancestors = {p.pid for p in psutil.Process(first).parents()}
    (host_a,) = [w for w in workers if w.pid in ancestors]
    (host_b,) = [w for w in workers if w is not host_a]
    _kill_host(host_a)  # the worker host dies during attempt 2
    assert not psutil.pid_exists(first) or psutil.Process(first).status() == "zombie"

    seen = []

    def rerun_done():
        seen.append(sorted(_forecast_rows(team, key).model))
        run = _read_run(env, flow_run.id)
        return run if run.state.is_final() and run.run_count == 2 else None

    final = _wait(rerun_done, "the crashed run's rerun", 240, every_s=1.0)
    old, new = ["old", "old"], ["probe"] * 5
    assert all(rows in (old, new) for rows in seen), seen  # never a partial state
    assert seen[0] == old  # the dead attempts left gold untouched
    assert final.state.is_completed(), final.state

    with _api(env), _client(env) as client:
        states = client.read_flow_run_states(flow_run.id)
    names = [s.name for s in sorted(states, key=lambda s: s.timestamp)]
    crashed = [s for s in states if s.name == "Crashed"]
    assert len(crashed) == 1, names
    assert "no heartbeat for 45 s" in crashed[0].message  # the heartbeat automation
    assert names[names.index("Crashed") + 1] == "AwaitingRetry", names  # the crash automation
    assert names[-1] == "Completed"
    assert _infra_pid(final) != first
    log_b = (jobs / f"worker-{workers.index(host_b)}.log").read_text()
    assert str(flow_run.id) in log_b  # the other worker ran the rerun

    frame = _job_runs(team, "probe_kill").sort_values("started_at")
    assert frame.status.tolist() == ["failed", "failed", "succeeded"]
    assert frame.metrics.iloc[0]["failure_kind"] == "kernel_died"
    assert frame.metrics.iloc[1]["attempt"] == 2
    assert frame.metrics.iloc[1]["runner_pid"] == first  # the dead host's attempt, reconciled
    assert "nothing was published" in frame.error.iloc[1]
    published = [m for m in frame.metrics if "published_at" in m]
    assert len(published) == 1  # one publication of the run key
    assert "published_at" in frame.metrics.iloc[2]
    assert frame.metrics.iloc[2]["attempt"] == 3  # counted across Prefect's rerun
    assert sorted(_forecast_rows(team, key).model) == new  # the new state, once

    with _api(env), _client(env) as client:  # deployed twice: one automation of each name
        for what in ("crash on missing heartbeats", "rerun when crashed"):
            name = f"workbench-probe_kill/probe_kill: {what}"
            assert len(client.read_automations_by_name(name=name)) == 1
