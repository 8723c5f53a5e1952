"""Backfill: a job run once per day over a range of its date parameter, idempotent and resumable.

Each day is an ordinary run of :func:`workbench.jobs.runner.run_job` (recorded in
``ops.job_runs``, retried as the spec says, publishing under its run key). A day whose run key
already has a ``succeeded`` or ``degraded`` run is skipped — gold holds its rows — unless
``rerun`` asks to replace them. So a backfill stopped half-way (killed, cancelled, a failed
day) continues where it stopped when started again, and running it twice changes nothing.

Days run oldest first, as the daily process would have run them: a forecast job trains its
model for each retrain day of its cadence (``retrain: weekly``: each Monday's issue, on what
was known then) and the other days of the week reuse it, found by its key; a model trained
*after* an issue never serves it (see :mod:`workbench.jobs.registry_models`).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from workbench.jobs.runner import RunResult
from workbench.jobs.spec import JobSpec, JobSpecError


@dataclass
class BackfillDay:
    """One day of a backfill: its run key and what happened (``ran`` or ``skipped``)."""

    day: date
    run_key: str
    action: str  # "ran" or "skipped"
    result: RunResult | None = None

    @property
    def ok(self) -> bool:
        return self.action == "skipped" or (self.result is not None and self.result.ok)


@dataclass
class Backfill:
    """What a backfill did, day by day, and how long it took [s]."""

    job: str
    days: list[BackfillDay] = field(default_factory=list)
    cancelled: bool = False
    seconds: float = 0.0

    @property
    def ran(self) -> list[BackfillDay]:
        return [d for d in self.days if d.action == "ran"]

    @property
    def skipped(self) -> list[BackfillDay]:
        return [d for d in self.days if d.action == "skipped"]

    @property
    def failed(self) -> list[BackfillDay]:
        return [d for d in self.days if not d.ok]

    @property
    def ok(self) -> bool:
        return not self.failed and not self.cancelled


def day_range(first: date, last: date) -> list[date]:
    """Every day from ``first`` to ``last`` inclusive; an empty or reversed range is refused."""
    if last < first:
        msg = f"expected --end on or after --start; found {first.isoformat()} > {last.isoformat()}"
        raise JobSpecError(msg)
    return [first + timedelta(days=i) for i in range((last - first).days + 1)]


def last_days(spec: JobSpec, count: int, overrides: Mapping[str, Any] | None = None) -> list[date]:
    """Up to ``count`` days ending at the day ``auto`` resolves to (the latest with data).

    ``auto`` follows the spec's ``auto_date`` (a table and an offset): for a day-ahead forecast,
    the day before the last day with actuals, so every issue can be compared with them. Days
    before the first day of that table are left out — a job has no input there — so
    fewer than ``count`` days may come back (the anomaly sweep's SCADA covers the last week
    of the demo).
    """
    from workbench.jobs import runs as job_runs
    from workbench.jobs.runner import resolve_parameters

    name = _date_parameter(spec)
    if count < 1:
        raise JobSpecError(f"expected a backfill of 1 day or more; found {count}")
    values = resolve_parameters(spec, {**(overrides or {}), name: "auto"}, job_runs.now_utc())
    last = date.fromisoformat(values[name])
    first = last - timedelta(days=count - 1)
    if spec.auto_date is not None:
        first = max(first, min(last, _first_day(spec)))
    return day_range(first, last)


def _first_day(spec: JobSpec) -> date:
    """The first local day with rows in the spec's ``auto_date`` table (its schedule's zone)."""
    import pandas as pd

    from workbench.io.catalog import open_catalog

    assert spec.auto_date is not None
    with open_catalog(read_only=True) as cat:
        entry = cat.entry(spec.auto_date.table)
        earliest = cat.scan(entry.name)[entry.time_column].min().execute()
    if earliest is None or pd.isna(earliest):
        msg = f"job {spec.name!r}: expected rows in {entry.name} to backfill; found none"
        raise JobSpecError(msg)
    tz = spec.schedule.timezone if spec.schedule else "UTC"
    return pd.Timestamp(earliest).tz_convert(tz).date()


def _date_parameter(spec: JobSpec) -> str:
    if spec.date_parameter is None:
        msg = f"job {spec.name!r} has no date parameter to backfill (declare backfill_parameter)"
        raise JobSpecError(msg)
    return spec.date_parameter


def backfill(
    spec: JobSpec,
    days: list[date],
    overrides: Mapping[str, Any] | None = None,
    *,
    rerun: bool = False,
    in_process: bool = False,
    cancel: threading.Event | None = None,
    on_day: Callable[[BackfillDay], None] | None = None,
) -> Backfill:
    """Run ``spec`` once per day of ``days`` (oldest first), skipping the days already done.

    Parameters
    ----------
    spec : JobSpec
        The job; it needs a date parameter (``backfill_parameter`` or ``issue_date``).
    days : list of date
        The values of the date parameter.
    overrides : mapping, optional
        Other parameter values, the same for every day; checked once before the first day.
    rerun : bool
        Run the days whose run key already succeeded too (their rows are replaced).
    in_process : bool
        Run each notebook in this process (:mod:`workbench.jobs.inprocess`) instead of papermill.
    cancel : threading.Event, optional
        Set it to stop after the current run; the days left are not run (nor failed).
    on_day : callable, optional
        Called with each day as soon as it is done or skipped (progress output).
    """
    from workbench.jobs import runs as job_runs
    from workbench.jobs.runner import resolve_parameters, run_job

    name = _date_parameter(spec)
    cancel = cancel or threading.Event()
    base = dict(overrides or {})
    keys = {}
    for day in sorted(days):  # every parameter checked (and each key computed) before a run
        values = resolve_parameters(spec, {**base, name: day.isoformat()}, job_runs.now_utc())
        keys[day] = spec.key_for(values)
    job_runs.reconcile()
    done = set() if rerun else job_runs.completed_run_keys(spec.name)
    out = Backfill(spec.name)
    t0 = time.perf_counter()
    for day, key in keys.items():
        if cancel.is_set():
            out.cancelled = True
            break
        if key in done:
            item = BackfillDay(day, key, "skipped")
        else:
            result = run_job(
                spec, {**base, name: day.isoformat()}, cancel=cancel, in_process=in_process
            )
            item = BackfillDay(day, key, "ran", result)
            out.cancelled = result.cancelled
        out.days.append(item)
        if on_day is not None:
            on_day(item)
    out.seconds = time.perf_counter() - t0
    return out
