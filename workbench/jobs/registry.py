"""The run registry: every job run in ``ops.job_runs`` (status, parameters, timing, rows, metrics).

A run is recorded ``running`` when it starts and upserted (key ``run_id``) when it ends as
``succeeded`` or ``failed``. Each write opens a short-lived connection and closes it, so the
notebook's own process can write the warehouse meanwhile. A run whose runner died before
recording its end (killed with SIGKILL, a crashed machine) stays ``running``;
:func:`reconcile` marks those ``failed`` once their runner process is gone.
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


def runner_identity() -> dict[str, Any]:
    """Who runs the job (kept in metrics while running, for :func:`reconcile`)."""
    return {"runner_host": socket.gethostname(), "runner_pid": os.getpid()}


def record(run: JobRun) -> None:
    """Upsert the run into ``ops.job_runs`` over a short-lived connection."""
    from workbench.io.catalog import open_catalog

    with open_catalog() as cat:
        cat.write(TABLE, run.frame(), mode="upsert")


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


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def reconcile() -> list[str]:
    """Mark ``failed`` the runs left ``running`` by a runner on this host that is gone."""
    import pandas as pd

    from workbench.core.errors import WarehouseError

    try:
        running = history(limit=1000, status=RUNNING)
    except WarehouseError:  # no warehouse yet: nothing to reconcile
        return []
    host = socket.gethostname()
    stale = []
    for row in running.itertuples():
        pid, where = row.metrics.get("runner_pid"), row.metrics.get("runner_host")
        if where != host or not isinstance(pid, int) or _alive(pid):
            continue
        started = pd.Timestamp(row.started_at).to_pydatetime()
        ended = now_utc()
        run = JobRun(
            run_id=row.run_id,
            job=row.job,
            status=FAILED,
            parameters=row.parameters,
            started_at=started,
            notebook_path=row.notebook_path,
            ended_at=ended,
            duration_s=(ended - started).total_seconds(),
            rows_written=0,
            metrics=row.metrics,
            error=f"the runner (pid {pid}) stopped before recording the end of the run",
        )
        record(run)
        stale.append(row.run_id)
    return stale
