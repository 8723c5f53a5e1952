"""The run log: every job run in ``ops.job_runs`` (status, parameters, timing, rows, metrics).

A run is recorded ``running`` when it starts and upserted (key ``run_id``) when it ends as
``succeeded``, ``degraded`` (it used a fallback its spec declares; the reason is in ``error``)
or ``failed``. Each write opens a short-lived connection and closes it, so the notebook's own
process can write the warehouse meanwhile.

A running row carries a lease in its metrics: ``runner_host``, ``runner_pid`` and
``lease_expires_at`` (UTC ISO), renewed by the runner's heartbeat (:func:`heartbeat`) every
third of :func:`lease_s`. The notebook's publish updates the row in the same transaction as
gold (``rows_written``, ``published_at``; :mod:`workbench.jobs.context`), so the row always
says whether gold holds the run's rows. :func:`reconcile` (called by ``jobs run``, ``jobs
history`` and the scheduler) ends the runs whose lease expired, on any host, or whose runner
on this host is gone: ``failed`` ("lease expired", gold unchanged) when nothing was published,
``abandoned`` when the rows were published but the runner never recorded the end.
"""

from __future__ import annotations

import json
import os
import socket
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any

TABLE = "ops.job_runs"
RUNNING, SUCCEEDED, FAILED = "running", "succeeded", "failed"
DEGRADED, ABANDONED = "degraded", "abandoned"
LEASE_ENV = "WORKBENCH_JOB_LEASE_S"


@dataclass
class JobRun:
    """One attempt of one job, as stored in ``ops.job_runs``."""

    run_id: str
    job: str
    status: str
    parameters: dict[str, Any]
    started_at: datetime
    notebook_path: str
    ended_at: datetime | None = None
    duration_s: float | None = None
    rows_written: int | None = None
    metrics: dict[str, Any] = field(default_factory=dict)
    error: str | None = None

    def frame(self) -> Any:
        import pandas as pd

        row = asdict(self)
        row["parameters"] = json.dumps(self.parameters, default=str, sort_keys=True)
        row["metrics"] = json.dumps(self.metrics, default=str, sort_keys=True)
        frame = pd.DataFrame([row])
        for col in ("started_at", "ended_at"):
            frame[col] = pd.to_datetime(frame[col], utc=True)
        frame["duration_s"] = frame["duration_s"].astype("float64")
        frame["rows_written"] = frame["rows_written"].astype("Int64")
        frame["error"] = frame["error"].astype("string")
        return frame


def now_utc() -> datetime:
    return datetime.now(UTC)


def lease_s() -> float:
    """How long a running row stays valid without a heartbeat [s] (``WORKBENCH_JOB_LEASE_S``)."""
    from workbench.jobs.spec import JobSpecError

    raw = os.environ.get(LEASE_ENV, "120")
    try:
        value = float(raw)
    except ValueError:
        value = -1.0
    if not value > 0:
        raise JobSpecError(f"expected {LEASE_ENV} as a positive number of seconds; found {raw!r}")
    return value


def runner_identity(now: datetime | None = None) -> dict[str, Any]:
    """Who runs the job and until when the row is theirs (in metrics, for :func:`reconcile`)."""
    from datetime import timedelta

    expires = (now or now_utc()) + timedelta(seconds=lease_s())
    return {
        "runner_host": socket.gethostname(),
        "runner_pid": os.getpid(),
        "lease_expires_at": expires.isoformat(),
    }


def _catalog(read_only: bool = False) -> Any:
    from workbench.io.catalog import open_catalog

    return open_catalog(read_only=read_only)


def _runs_warehouse(cat: Any) -> Any:
    return cat.warehouse(cat.entry(TABLE).warehouse)


def record(run: JobRun) -> None:
    """Upsert the run into ``ops.job_runs`` over a short-lived connection."""
    with _catalog() as cat:
        cat.write(TABLE, run.frame(), mode="upsert")


def write_run(wh: Any, run: JobRun) -> None:
    """Upsert ``run`` through an open warehouse (joins its transaction, if any)."""
    from workbench.io.catalog import open_catalog
    from workbench.io.types import ibis_schema

    with open_catalog(read_only=True) as cat:
        schema = ibis_schema(cat.entry(TABLE))
    if not wh.exists(TABLE):
        wh.create_table(TABLE, schema)
    wh.write(TABLE, run.frame(), mode="upsert", key=["run_id"], schema=schema)


def read_run(wh: Any, run_id: str) -> JobRun | None:
    """The run's row read through an open warehouse (inside its transaction), or None."""
    import pandas as pd

    if not wh.exists(TABLE):
        return None
    t = wh.table(TABLE)
    t = t.filter(t.run_id == run_id)
    t = t.mutate(parameters=t.parameters.cast("string"), metrics=t.metrics.cast("string"))
    frame = t.to_pandas()
    if frame.empty:
        return None
    row = frame.iloc[0]

    def _opt(value: Any) -> Any:
        return None if value is None or (not isinstance(value, str) and pd.isna(value)) else value

    ended = _opt(row.ended_at)
    return JobRun(
        run_id=row.run_id,
        job=row.job,
        status=row.status,
        parameters=json.loads(row.parameters) if isinstance(row.parameters, str) else {},
        started_at=pd.Timestamp(row.started_at).to_pydatetime(),
        notebook_path=row.notebook_path,
        ended_at=pd.Timestamp(ended).to_pydatetime() if ended is not None else None,
        duration_s=_opt(row.duration_s),
        rows_written=int(row.rows_written) if _opt(row.rows_written) is not None else None,
        metrics=json.loads(row.metrics) if isinstance(row.metrics, str) else {},
        error=_opt(row.error),
    )


def finish(run: JobRun) -> JobRun:
    """Record the end of ``run``, keeping what its publish recorded in the same transaction.

    The notebook's publish is the authority on rows written (it commits with gold); the
    runner's sidecar may lag it when the kernel died right after the commit.
    """
    with _catalog() as cat:
        wh = _runs_warehouse(cat)
        with wh.transaction():
            current = read_run(wh, run.run_id)
            if current is not None and "published_at" in current.metrics:
                run.metrics = {
                    **run.metrics,
                    "published_at": current.metrics["published_at"],
                    "rows_by_table": current.metrics.get("rows_by_table", {}),
                }
                run.rows_written = current.rows_written
            write_run(wh, run)
    return run


def heartbeat(run_id: str) -> bool:
    """Renew the lease of a running row; False when the row is no longer ``running``."""
    with _catalog() as cat:
        wh = _runs_warehouse(cat)
        with wh.transaction():
            current = read_run(wh, run_id)
            if current is None or current.status != RUNNING:
                return False
            current.metrics = {**current.metrics, **runner_identity()}
            write_run(wh, current)
    return True


def history(job: str | None = None, limit: int = 20, *, status: str | None = None) -> Any:
    """The latest runs, newest first (a DataFrame; ``parameters``/``metrics`` decoded)."""
    import pandas as pd

    from workbench.io.catalog import open_catalog

    with open_catalog(read_only=True) as cat:
        wh = cat.warehouse(cat.entry(TABLE).warehouse)
        if not wh.exists(TABLE):
            return pd.DataFrame(columns=list(cat.entry(TABLE).columns))
        t = cat.scan(TABLE)
        if job is not None:
            t = t.filter(t.job == job)
        if status is not None:
            t = t.filter(t.status == status)
        t = t.mutate(parameters=t.parameters.cast("string"), metrics=t.metrics.cast("string"))
        frame = t.order_by(t.started_at.desc()).limit(limit).to_pandas()
    for col in ("parameters", "metrics"):
        frame[col] = [json.loads(v) if isinstance(v, str) else {} for v in frame[col]]
    return frame


def pid_alive(pid: int) -> bool:
    """True when a process ``pid`` exists on this host (a zombie counts as gone)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        with open(f"/proc/{pid}/stat") as handle:
            return handle.read().rsplit(")", 1)[-1].split()[0] != "Z"
    except OSError:
        return True  # no /proc (not Linux): trust kill(0)


def _stale_reason(run: JobRun, now: datetime, host: str) -> str | None:
    """Why a running row is stale (its lease expired, or its runner here is gone), else None."""
    import pandas as pd

    pid, where = run.metrics.get("runner_pid"), run.metrics.get("runner_host")
    expires = run.metrics.get("lease_expires_at")
    if expires is not None and pd.Timestamp(expires) < pd.Timestamp(now):
        return f"lease expired at {expires} (runner pid {pid} on {where})"
    if where == host and isinstance(pid, int) and not pid_alive(pid):
        return f"lease expired: the runner (pid {pid} on {where}) is gone"
    return None  # lease valid (or an old row from another host without one)


def reconcile(now: datetime | None = None) -> list[str]:
    """End the runs left ``running`` whose lease expired (any host) or whose runner is gone.

    Each is re-read and rewritten in one transaction, so a publish cannot slip in between:
    a run with ``published_at`` becomes ``abandoned`` (gold holds its rows), one without it
    ``failed`` with ``rows_written`` 0 (gold unchanged). Returns the run ids ended.
    """
    from workbench.core.errors import WarehouseError

    now = now or now_utc()
    host = socket.gethostname()
    try:
        running = history(limit=1000, status=RUNNING)
    except WarehouseError:  # no warehouse yet: nothing to reconcile
        return []
    candidates = []
    for row in running.itertuples():
        probe = JobRun(row.run_id, row.job, RUNNING, {}, row.started_at, "", metrics=row.metrics)
        if _stale_reason(probe, now, host):
            candidates.append(row.run_id)
    if not candidates:
        return []
    ended = []
    with _catalog() as cat:
        wh = _runs_warehouse(cat)
        with wh.transaction():
            for run_id in candidates:
                run = read_run(wh, run_id)
                reason = _stale_reason(run, now, host) if run and run.status == RUNNING else None
                if run is None or reason is None:
                    continue
                published = "published_at" in run.metrics
                run.status = ABANDONED if published else FAILED
                run.ended_at = now
                run.duration_s = (now - run.started_at).total_seconds()
                if published:
                    run.error = (
                        f"{reason}; it published {run.rows_written} rows (gold holds this run's "
                        "rows) but never recorded its end"
                    )
                else:
                    run.rows_written = 0
                    run.error = f"{reason}; nothing was published (gold unchanged)"
                write_run(wh, run)
                ended.append(run_id)
    return ended


def completed_run_keys(job: str) -> set[str]:
    """The run keys of ``job`` with a ``succeeded`` or ``degraded`` run: gold holds their rows.

    A backfill skips these (:mod:`workbench.jobs.backfill`); a failed run published nothing,
    so its key is not done.
    """
    from workbench.io.catalog import open_catalog

    with open_catalog(read_only=True) as cat:
        wh = cat.warehouse(cat.entry(TABLE).warehouse)
        if not wh.exists(TABLE):
            return set()
        t = cat.scan(TABLE)
        t = t.filter((t.job == job) & t.status.isin([SUCCEEDED, DEGRADED]))
        params = t.select(p=t.parameters.cast("string")).to_pandas()["p"]
    return {json.loads(p).get("run_key") for p in params if isinstance(p, str)} - {None}
