"""Run records that match gold: leases reconciled on any host, publish fenced by its run row."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pandas as pd
import pytest

from workbench.jobs import runs as job_runs
from workbench.jobs.context import RUN_ID_ENV, RUNNER_PID_ENV, PublishError, publish
from workbench.jobs.runs import JobRun


def _running(run_id: str, *, host: str, pid: int, expires: datetime) -> JobRun:
    started = expires - timedelta(minutes=5)
    return JobRun(
        run_id=run_id,
        job="probe",
        status=job_runs.RUNNING,
        parameters={"run_key": f"probe:{run_id}"},
        started_at=started,
        notebook_path=f"/nowhere/{run_id}.ipynb",
        metrics={
            "runner_host": host,
            "runner_pid": pid,
            "lease_expires_at": expires.isoformat(),
            "attempt": 1,
        },
    )


def _frame(day: str = "2024-03-10", rows: int = 4) -> pd.DataFrame:
    issue = pd.Timestamp(day, tz="UTC")
    return pd.DataFrame(
        {
            "issue_time": issue,
            "timestamp": [issue + pd.Timedelta(hours=h) for h in range(rows)],
            "region_id": "NORTH",
            "model": "t",
            "quantile": 0.5,
            "load_mw": 1.0,
        }
    )


def _gold_rows(key: str) -> int:
    from workbench import open_catalog

    with open_catalog(read_only=True) as cat:
        if not cat.warehouse().exists("gold.load_forecasts"):
            return 0
        frame = cat.read("gold.load_forecasts")
    return int((frame.run_key == key).sum())


def test_stale_rows_from_any_host_are_reconciled_by_their_lease(job_home):
    # defect 4: a running row from another host stayed running forever
    now = datetime.now(UTC)
    job_runs.record(
        _running("r-expired", host="elsewhere", pid=1, expires=now - timedelta(seconds=1))
    )
    job_runs.record(_running("r-valid", host="elsewhere", pid=1, expires=now + timedelta(hours=1)))
    published = _running("r-published", host="elsewhere", pid=1, expires=now - timedelta(seconds=1))
    published.rows_written = 12
    published.metrics["published_at"] = (now - timedelta(minutes=1)).isoformat()
    job_runs.record(published)

    ended = job_runs.reconcile()
    assert sorted(ended) == ["r-expired", "r-published"]
    runs = job_runs.history("probe").set_index("run_id")
    assert runs.loc["r-valid", "status"] == "running"  # its runner elsewhere may be alive
    assert runs.loc["r-expired", "status"] == "failed"
    assert "lease expired" in runs.loc["r-expired", "error"]
    assert "nothing was published" in runs.loc["r-expired", "error"]
    assert runs.loc["r-expired", "rows_written"] == 0
    assert runs.loc["r-published", "status"] == "abandoned"
    assert runs.loc["r-published", "rows_written"] == 12  # gold holds them: said so
    assert "gold holds this run's rows" in runs.loc["r-published", "error"]
    assert job_runs.reconcile() == []  # idempotent


def test_heartbeat_renews_the_lease_until_the_row_ends(job_home):
    now = datetime.now(UTC)
    job_runs.record(_running("r-beat", host="here", pid=1, expires=now + timedelta(seconds=5)))
    assert job_runs.heartbeat("r-beat")
    renewed = job_runs.history("probe").iloc[0].metrics["lease_expires_at"]
    assert pd.Timestamp(renewed) > pd.Timestamp(now + timedelta(seconds=60))
    run = _running("r-beat", host="here", pid=1, expires=now)
    run.status = job_runs.FAILED
    job_runs.record(run)
    assert not job_runs.heartbeat("r-beat")  # ended rows are never revived


def test_publish_commits_with_its_run_row_and_is_refused_for_a_reconciled_run(
    job_home, monkeypatch
):
    import os

    now = datetime.now(UTC)
    live = _running("r-live", host="here", pid=os.getpid(), expires=now + timedelta(hours=1))
    job_runs.record(live)
    from workbench import open_catalog

    monkeypatch.setenv(RUN_ID_ENV, "r-live")
    monkeypatch.setenv(RUNNER_PID_ENV, str(os.getpid()))
    rows = publish(open_catalog(read_only=True), {"gold.load_forecasts": _frame()}, "k:live")
    assert rows == {"gold.load_forecasts": 4}
    stored = job_runs.history("probe").iloc[0]
    assert stored.status == "running"  # the runner records the end
    assert stored.rows_written == 4  # ...but the row already says what gold holds
    assert stored.metrics["rows_by_table"] == {"gold.load_forecasts": 4}
    assert "published_at" in stored.metrics

    # a run reconciled as failed (its runner was gone) may not publish afterwards
    gone = _running("r-gone", host="here", pid=os.getpid(), expires=now + timedelta(hours=1))
    gone.status = job_runs.FAILED
    job_runs.record(gone)
    monkeypatch.setenv(RUN_ID_ENV, "r-gone")
    with pytest.raises(PublishError, match="found status 'failed', so nothing was published"):
        publish(open_catalog(read_only=True), {"gold.load_forecasts": _frame()}, "k:gone")
    assert _gold_rows("k:gone") == 0

    # nor a run whose runner process is gone (checked inside the transaction)
    job_runs.record(_running("r-orphan", host="here", pid=1, expires=now + timedelta(hours=1)))
    monkeypatch.setenv(RUN_ID_ENV, "r-orphan")
    monkeypatch.setenv(RUNNER_PID_ENV, "999999999")
    with pytest.raises(PublishError, match="runner \\(pid 999999999\\)"):
        publish(open_catalog(read_only=True), {"gold.load_forecasts": _frame()}, "k:orphan")
    assert _gold_rows("k:orphan") == 0
    assert _gold_rows("k:live") == 4
