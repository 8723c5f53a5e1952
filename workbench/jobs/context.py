"""What a job notebook calls: record metrics, publish to gold once, at the end.

The runner starts the notebook with ``WORKBENCH_JOB_SIDECAR`` pointing at a JSON file; the
notebook's :func:`record_metrics` and :func:`publish` write into it, and the runner reads it when
the notebook is done (rows written, metrics). Outside a job (a notebook run by hand) the same
calls work: metrics are printed, and ``publish`` still writes, under the run key given.

``publish`` is the only way a job notebook writes gold: every table of the run goes in ONE
transaction — rows with the run key are deleted, then the new rows inserted — so a failed run
changes nothing, and a rerun with the same key replaces its rows instead of duplicating them.
Inside a job the same transaction updates the run's ``ops.job_runs`` row (rows written,
``published_at``), after checking that the row is still ``running`` and its runner alive: gold
and the run record commit together, and a run whose runner is gone (or was reconciled as
failed) publishes nothing.

Fault injection (tests only): ``WORKBENCH_FAULT_PAUSE=before_publish|during_publish|
after_publish`` makes ``publish`` write ``<sidecar>.paused-<point>`` at that point and sleep,
so a test can kill the runner or the process tree there (``during_publish`` is inside the open
transaction, before its commit).
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from workbench.core.errors import WorkbenchError

SIDECAR_ENV = "WORKBENCH_JOB_SIDECAR"
RUN_ID_ENV = "WORKBENCH_RUN_ID"
RUN_KEY_ENV = "WORKBENCH_RUN_KEY"
RUNNER_PID_ENV = "WORKBENCH_RUNNER_PID"
FAULT_PAUSE_ENV = "WORKBENCH_FAULT_PAUSE"
FAULT_POINTS = ("before_publish", "during_publish", "after_publish")


class PublishError(WorkbenchError):
    """A job's output could not be published (nothing was written)."""


def _sidecar() -> Path | None:
    path = os.environ.get(SIDECAR_ENV)
    return Path(path) if path else None


def read_sidecar(path: Path) -> dict[str, Any]:
    """The sidecar: ``{"metrics": {...}, "rows": {table: n}, "degraded": [reason]}``."""
    if not path.exists():
        return {"metrics": {}, "rows": {}, "degraded": []}
    data = json.loads(path.read_text() or "{}")
    return {
        "metrics": data.get("metrics", {}),
        "rows": data.get("rows", {}),
        "degraded": data.get("degraded", []),
    }


def _update_sidecar(
    metrics: Mapping[str, Any] | None = None,
    rows: Mapping[str, int] | None = None,
    degraded: str | None = None,
):
    path = _sidecar()
    if path is None:
        return
    data = read_sidecar(path)
    data["metrics"].update(metrics or {})
    for table, n in (rows or {}).items():
        data["rows"][table] = int(n)
    if degraded:
        data["degraded"].append(degraded)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(data, default=str, indent=1))
    tmp.replace(path)


def record_metrics(metrics: Mapping[str, Any] | None = None, **more: Any) -> dict[str, Any]:
    """Record metrics of the run (numbers, strings); the runner stores them in ``ops.job_runs``.

    >>> record_metrics(mape_day_ahead_pct=2.1, regions=5)  # doctest: +SKIP
    """
    values = {**(metrics or {}), **more}
    clean = {}
    for key, value in values.items():
        if hasattr(value, "item"):  # numpy scalars
            value = value.item()
        if isinstance(value, float) and value != value:  # NaN is not JSON
            value = None
        clean[str(key)] = value
    _update_sidecar(metrics=clean)
    if _sidecar() is None:
        print("metrics:", json.dumps(clean, default=str))
    return clean


def record_degraded(reason: str) -> None:
    """Say the run used a declared fallback; the runner records it ``degraded`` with ``reason``."""
    import logging

    _update_sidecar(degraded=reason)
    logging.getLogger("workbench.jobs").warning("run degraded: %s", reason)


def _fault_pause(point: str) -> None:
    """The fault-injection hook (see the module doc): pause at ``point`` if asked to."""
    if os.environ.get(FAULT_PAUSE_ENV) != point:
        return
    import time

    sidecar = _sidecar()
    marker = Path(f"{sidecar}.paused-{point}") if sidecar else None
    if marker is not None:
        marker.write_text(str(os.getpid()))
    time.sleep(3600)  # until killed


def current_run_key(default: str | None = None) -> str:
    """The run key the runner injected (``WORKBENCH_RUN_KEY``), else ``default``."""
    key = os.environ.get(RUN_KEY_ENV) or default
    if not key:
        msg = "expected a run key (run the notebook as a job, or pass run_key=…); found none"
        raise PublishError(msg)
    return key


def publish(
    cat: Any,
    frames: Mapping[str, Any],
    run_key: str,
    *,
    after: Callable[[Any], Mapping[str, int]] | None = None,
) -> dict[str, int]:
    """Write a run's outputs in one transaction: delete the run key's rows, insert the new ones.

    Parameters
    ----------
    cat : Catalog
        The notebook's catalog; its (possibly read-only) connections are closed first, and a
        short-lived read-write connection does the write.
    frames : mapping of table name → DataFrame
        Rows per catalog table; each table must have a ``run_key`` column, set here.
    run_key : str
        The run's key: rows already carrying it are replaced.
    after : callable, optional
        ``after(warehouse)`` runs inside the same transaction after the inserts (e.g. filling
        ``gold.fact_load.forecast_load_mw``) and returns extra ``{table: rows}``.

    Returns
    -------
    dict
        Rows written per table (also recorded for the runner).
    """
    from workbench.io.catalog import Catalog

    specs = {name: cat.entry(name) for name in frames}
    for name, spec in specs.items():
        if spec.kind != "table" or "run_key" not in spec.columns:
            msg = f"expected {name} to be a table with a run_key column; found {spec.kind}"
            raise PublishError(msg)
    warehouses = {spec.warehouse for spec in specs.values()}
    if len(warehouses) != 1:
        msg = f"expected the published tables in one warehouse; found {sorted(warehouses)}"
        raise PublishError(msg)
    run_id = os.environ.get(RUN_ID_ENV)
    warehouse = warehouses.pop()
    if run_id and cat.entry(RUNS_TABLE).warehouse != warehouse:
        msg = (
            f"expected {RUNS_TABLE} in the published tables' warehouse {warehouse!r}; found "
            f"{cat.entry(RUNS_TABLE).warehouse!r} (the run record must commit with gold)"
        )
        raise PublishError(msg)
    _fault_pause("before_publish")
    cat.close()  # release read-only (or idle) connections: this process writes now
    writer = Catalog(cat.spec, cat.path)  # a short-lived read-write connection
    wh = writer.warehouse(warehouse)
    rows: dict[str, int] = {}
    try:
        with wh.transaction():
            rows = _replace_run(wh, specs, frames, run_key)
            if after is not None:
                rows.update(after(wh))
            if run_id:
                _claim_run(wh, run_id, rows)
            _fault_pause("during_publish")
    finally:
        writer.close()
    _update_sidecar(rows=rows)
    _fault_pause("after_publish")
    return rows


RUNS_TABLE = "ops.job_runs"


def _claim_run(wh: Any, run_id: str, rows: Mapping[str, int]) -> None:
    """Inside the publish transaction: check the run is still ours, record what it published.

    Refuses (rolling the whole publish back) when the run's ``ops.job_runs`` row is missing or
    no longer ``running`` (reconciled after its runner stopped), or when the runner process
    named by ``WORKBENCH_RUNNER_PID`` is gone.
    """
    from workbench.jobs import runs as job_runs

    runner = os.environ.get(RUNNER_PID_ENV)
    if runner and not job_runs.pid_alive(int(runner)):
        msg = (
            f"expected the runner (pid {runner}) of run {run_id} alive; found it gone, so "
            "nothing was published (its run is reconciled as failed)"
        )
        raise PublishError(msg)
    run = job_runs.read_run(wh, run_id)
    if run is None or run.status != job_runs.RUNNING:
        found = "no row" if run is None else f"status {run.status!r}"
        msg = (
            f"expected run {run_id} recorded 'running' in {RUNS_TABLE}; found {found}, so "
            "nothing was published"
        )
        raise PublishError(msg)
    run.rows_written = int(sum(rows.values()))
    run.metrics = {
        **run.metrics,
        "published_at": job_runs.now_utc().isoformat(),
        "rows_by_table": {k: int(v) for k, v in rows.items()},
    }
    job_runs.write_run(wh, run)


def _replace_run(wh: Any, specs: Mapping[str, Any], frames: Mapping[str, Any], run_key: str):
    from workbench.io.types import ibis_schema

    rows: dict[str, int] = {}
    for name, frame in frames.items():
        spec = specs[name]
        schema = ibis_schema(spec)
        if not wh.exists(spec.location):
            wh.create_table(spec.location, schema)
        db, table = spec.location.split(".")
        wh.lock_key(f"{spec.location}:{run_key}")  # concurrent publishes of a key take turns
        quoted = run_key.replace("'", "''")
        wh.execute(f'DELETE FROM "{db}"."{table}" WHERE run_key = \'{quoted}\'')
        frame = frame.assign(run_key=run_key)
        rows[name] = wh.write(spec.location, frame, mode="append", schema=schema)
    return rows


def resolve_day(cat: Any, value: str, table: str, tz: str = "UTC", offset_days: int = 0) -> Any:
    """A notebook's date parameter as a ``datetime.date``.

    ``YYYY-MM-DD`` as given; ``auto`` (the default when a notebook runs by hand or in CI) is the
    latest local day with rows in ``table``, shifted by ``offset_days``; ``today`` and
    ``yesterday`` are local to ``tz``. The runner resolves these itself before a scheduled run.
    """
    from datetime import date, datetime, timedelta
    from zoneinfo import ZoneInfo

    if value == "today":
        return datetime.now(ZoneInfo(tz)).date()
    if value == "yesterday":
        return datetime.now(ZoneInfo(tz)).date() - timedelta(days=1)
    if value != "auto":
        return date.fromisoformat(str(value))
    import pandas as pd

    entry = cat.entry(table)
    latest = cat.scan(table)[entry.time_column].max().execute()
    if latest is None or pd.isna(latest):
        msg = f"expected rows in {table} to pick the 'auto' day; found none (build the lakehouse)"
        raise PublishError(msg)
    return pd.Timestamp(latest).tz_convert(tz).date() + timedelta(days=offset_days)
