"""Run a job: its notebook through papermill (kernel ``gridmind``) or marimo, recorded and retried.

One attempt:

1. resolve the parameters (defaults, ``-p`` overrides, ``today``/``yesterday``/``auto`` dates)
   to their canonical form, then the run key and a new ``run_id``; record the run ``running``
   in ``ops.job_runs`` with a lease (host, pid, ``lease_expires_at``) that a heartbeat thread
   renews while the notebook runs;
2. execute the notebook in a child process (its own process group) with ``run_id`` and
   ``run_key`` injected, saving it to ``WORKBENCH_HOME/runs/<job>/<run_id>.ipynb`` cell by cell.
   The child dies with the runner: on Linux it asks for ``SIGKILL`` when its parent dies
   (``prctl(PR_SET_PDEATHSIG)`` in ``preexec_fn``), and its kernel exits when the child is gone
   (ipykernel's parent poller); a publish whose runner is gone is refused anyway
   (:func:`workbench.jobs.context.publish` checks, inside its transaction);
   the child's output goes to ``<run_id>.log`` beside it. A marimo notebook (``.py``) runs
   through ``marimo export ipynb --include-outputs`` with the same parameters as CLI arguments
   (``-- --key=value``, read with ``mo.cli_args()``), so its executed copy is an .ipynb too;
3. on the job's timeout, or a cancel (SIGTERM to the runner), stop the child and its kernel;
4. read the sidecar the notebook wrote (:mod:`workbench.jobs.context`: rows, metrics), evaluate
   the alert rules, and record the run ``succeeded``, ``degraded`` (a declared fallback was
   used) or ``failed`` with the error of the failing cell and its failure kind. A failed
   attempt is retried only when its kind is in the spec's ``retries.retry_on`` (transient failures),
   with exponential backoff; each attempt's metrics say why it was or was not retried.

The runner never writes gold itself: the notebook publishes its outputs and the run's
``ops.job_runs`` row in one transaction, so a failed or killed run leaves gold unchanged, and
a run killed after that commit is on record as having published.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from workbench.core.errors import WorkbenchError
from workbench.jobs import runs as job_runs
from workbench.jobs.context import (
    RUN_ID_ENV,
    RUN_KEY_ENV,
    RUNNER_PID_ENV,
    SIDECAR_ENV,
    read_sidecar,
)
from workbench.jobs.runs import DEGRADED, FAILED, RUNNING, SUCCEEDED, JobRun
from workbench.jobs.spec import JobSpec, JobSpecError

log = logging.getLogger("workbench.jobs")
KERNEL = "gridmind"
_GRACE_S = 5.0


class JobFailedError(WorkbenchError):
    """A job's last attempt failed; the message names the run, its error and its notebook."""


@dataclass
class RunResult:
    """What a run (all its attempts) came to."""

    spec: JobSpec
    attempts: list[JobRun] = field(default_factory=list)
    alerts: list[str] = field(default_factory=list)
    cancelled: bool = False

    @property
    def last(self) -> JobRun:
        return self.attempts[-1]

    @property
    def ok(self) -> bool:
        """The last attempt produced its outputs (``succeeded``, or ``degraded`` as declared)."""
        return bool(self.attempts) and self.last.status in (SUCCEEDED, DEGRADED)


def runs_dir(job: str) -> Path:
    from workbench.core.config import workbench_home

    return workbench_home() / "runs" / job


def new_run_id(job: str, now: datetime) -> str:
    return f"{job}-{now:%Y%m%dT%H%M%S}-{uuid.uuid4().hex[:6]}"


# ---------------------------------------------------------------------------- parameters
def _local_today(spec: JobSpec, now: datetime) -> date:
    tz = ZoneInfo(spec.schedule.timezone if spec.schedule else "UTC")
    return now.astimezone(tz).date()


def _auto_date(spec: JobSpec, name: str) -> date:
    if spec.auto_date is None:
        msg = (
            f"job {spec.name!r}: parameter {name!r} is 'auto' but the spec has no auto_date "
            f"(table, offset_days); pass a date instead: -p {name}=YYYY-MM-DD"
        )
        raise JobSpecError(msg)
    from workbench.io.catalog import open_catalog

    with open_catalog(read_only=True) as cat:
        entry = cat.entry(spec.auto_date.table)
        latest = cat.scan(entry.name)[entry.time_column].max().execute()
    if latest is None or latest != latest:
        msg = f"job {spec.name!r}: 'auto' date: expected rows in {entry.name}; found none"
        raise JobSpecError(msg)
    import pandas as pd

    tz = spec.schedule.timezone if spec.schedule else "UTC"
    day = pd.Timestamp(latest).tz_convert(tz).date()
    return day + timedelta(days=spec.auto_date.offset_days)


def resolve_parameters(
    spec: JobSpec, overrides: Mapping[str, Any] | None, now: datetime
) -> dict[str, Any]:
    """Typed, validated values with date keywords turned into ``YYYY-MM-DD``."""
    values = spec.resolve(dict(overrides or {}))
    for name, param in spec.parameters.items():
        if param.type != "date":
            continue
        if values[name] == "today":
            values[name] = _local_today(spec, now).isoformat()
        elif values[name] == "yesterday":
            values[name] = (_local_today(spec, now) - timedelta(days=1)).isoformat()
        elif values[name] == "auto":
            values[name] = _auto_date(spec, name).isoformat()
    return values


# ---------------------------------------------------------------------------- execution
def _command(spec: JobSpec, out: Path, params_file: Path, params: Mapping[str, Any]) -> list[str]:
    notebook = spec.notebook_path()
    if spec.is_marimo():
        # --key=value: marimo splits a separate value at its first '=' otherwise
        args = [f"--{k}={v}" for k, v in params.items()]
        return [
            sys.executable,
            "-m",
            "marimo",
            "export",
            "ipynb",
            str(notebook),
            "-o",
            str(out),
            "--include-outputs",
            "--sort",
            "top-down",
            "-f",
            "--",
            *args,
        ]
    return [
        sys.executable,
        "-m",
        "papermill",
        str(notebook),
        str(out),
        "-f",
        str(params_file),
        "-k",
        KERNEL,
        "--language",
        "python",
        "--cwd",
        str(notebook.parent),
        "--no-progress-bar",
        "--request-save-on-cell-execute",
    ]


def _descendants(pid: int) -> list[int]:
    """Child processes of ``pid``, recursively (Linux /proc; empty elsewhere)."""
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            text = stat.read_text()
        except OSError:
            continue
        fields = text.rsplit(")", 1)[-1].split()
        children.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    out, todo = [], [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            out.append(child)
            todo.append(child)
    return out


def _stop(proc: subprocess.Popen) -> None:
    """Stop the child, its process group and its kernel (which runs in a session of its own)."""
    pids = [proc.pid, *_descendants(proc.pid)]
    for pid in pids:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGTERM)
    with contextlib.suppress(subprocess.TimeoutExpired):
        proc.wait(timeout=_GRACE_S)
    for pid in pids:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    proc.wait()


def _notebook_error(path: Path) -> tuple[str, str] | None:
    """(exception class name, ``Name: value (cell N)``) of the first error output, or None."""
    if not path.exists():
        return None
    try:
        nb = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    for i, cell in enumerate(nb.get("cells", [])):
        for out in cell.get("outputs", []) or []:
            if out.get("output_type") == "error":
                value = str(out.get("evalue", "")).strip().splitlines()
                first = value[0] if value else ""
                ename = str(out.get("ename", "Error"))
                return ename, f"{ename}: {first} (cell {i})"
    return None


def _die_with_parent() -> Callable[[], None] | None:
    """A ``preexec_fn`` that makes the child get SIGKILL when the runner dies (Linux only)."""
    if not sys.platform.startswith("linux"):
        return None
    import ctypes

    prctl = ctypes.CDLL(None, use_errno=True).prctl  # resolved before the fork
    parent = os.getpid()
    pr_set_pdeathsig = 1

    def preexec() -> None:
        prctl(pr_set_pdeathsig, signal.SIGKILL)
        if os.getppid() != parent:  # the runner died before prctl took effect
            os._exit(1)

    return preexec


def _heartbeat(run_id: str, stop: threading.Event) -> None:
    """Renew the run's lease every third of the lease until ``stop`` is set."""
    from workbench.core.errors import WarehouseError

    period = job_runs.lease_s() / 3
    while not stop.wait(period):
        try:
            job_runs.heartbeat(run_id)
        except WarehouseError as exc:  # the lock was busy for long: the next beat retries
            log.warning("heartbeat of run %s not recorded: %s", run_id, exc)


def _tail(path: Path, lines: int = 5) -> str:
    try:
        text = path.read_text(errors="replace").strip().splitlines()
    except OSError:
        return ""
    return " | ".join(text[-lines:])


def _execute(
    spec: JobSpec,
    run: JobRun,
    run_key: str,
    params: Mapping[str, Any],
    cancel: threading.Event,
    in_process: bool = False,
) -> tuple[str | None, str | None, dict[str, Any]]:
    """Run the notebook; returns (error or None, failure kind or None, sidecar)."""
    import yaml

    out = Path(run.notebook_path)
    if in_process:
        from workbench.jobs.inprocess import execute_in_process

        beat_stop = threading.Event()
        beat = threading.Thread(target=_heartbeat, args=(run.run_id, beat_stop), daemon=True)
        beat.start()
        try:
            return execute_in_process(spec, out, run.run_id, run_key, params, cancel)
        finally:
            beat_stop.set()
            beat.join()
    sidecar = out.with_suffix(".json")
    logfile = out.with_suffix(".log")
    params_file = out.with_suffix(".params.yaml")
    injected = {**params, "run_id": run.run_id, "run_key": run_key}
    params_file.write_text(yaml.safe_dump(injected, sort_keys=False))
    env = {
        **os.environ,
        SIDECAR_ENV: str(sidecar),
        RUN_ID_ENV: run.run_id,
        RUN_KEY_ENV: run_key,
        RUNNER_PID_ENV: str(os.getpid()),
        "PYTHONUNBUFFERED": "1",
    }
    env.setdefault("MPLBACKEND", "Agg")
    command = _command(spec, out, params_file, injected)
    deadline = time.monotonic() + spec.timeout_s
    error: str | None = None
    kind: str | None = None
    with logfile.open("w") as logf:
        proc = subprocess.Popen(
            command,
            stdout=logf,
            stderr=subprocess.STDOUT,
            env=env,
            cwd=str(spec.notebook_path().parent),
            start_new_session=True,  # its own process group: _stop reaches all of it
            preexec_fn=_die_with_parent(),
        )
        beat_stop = threading.Event()
        beat = threading.Thread(target=_heartbeat, args=(run.run_id, beat_stop), daemon=True)
        beat.start()
        try:
            while proc.poll() is None:
                if cancel.is_set():
                    _stop(proc)
                    error = "cancelled: the runner was asked to stop (SIGTERM) during the run"
                    kind = "cancelled"
                    break
                if time.monotonic() > deadline:
                    _stop(proc)
                    error = f"timed out after {spec.timeout} (the job's timeout)"
                    kind = "timeout"
                    break
                cancel.wait(0.1)
        finally:
            beat_stop.set()
            beat.join()
    params_file.unlink(missing_ok=True)
    side = read_sidecar(sidecar)
    cell = None
    if error is None and (proc.returncode != 0 or spec.is_marimo()):
        cell = _notebook_error(out)  # marimo export may exit 0 with a failed cell
    if cell is not None:
        ename, error = cell
        kind = "warehouse_locked" if ename == "WarehouseLockedError" else ename
    elif error is None and proc.returncode != 0:
        tail = _tail(logfile)
        error = f"exit code {proc.returncode}: {tail}"
        died = "DeadKernelError" in tail or "Kernel died" in tail or proc.returncode < 0
        kind = "kernel_died" if died else "exit_code"
    return error, kind, side


def retry_decision(spec: JobSpec, attempt: int, kind: str | None) -> tuple[bool, str]:
    """Whether a failed attempt is retried, and why (recorded in the attempt's metrics)."""
    on = spec.retries.retry_on
    if kind in (None, "cancelled"):
        return False, "not retried: the run was cancelled" if kind else "not retried"
    if kind not in on:
        return False, f"not retried: {kind!r} is not a transient failure in retries.retry_on {on}"
    if attempt > spec.retries.max:
        return False, f"not retried: {kind!r} is transient but retries.max is {spec.retries.max}"
    delay = spec.retries.delay_s(attempt)
    return (
        True,
        f"retry {attempt} of {spec.retries.max} in {delay:g} s: {kind!r} is in retries.retry_on",
    )


def run_once(
    spec: JobSpec,
    params: Mapping[str, Any],
    run_key: str,
    *,
    attempt: int = 1,
    cancel: threading.Event | None = None,
    now: Callable[[], datetime] = job_runs.now_utc,
    in_process: bool = False,
) -> tuple[JobRun, list[str]]:
    """One attempt: record it running, execute, record how it ended. Returns (run, alerts).

    ``in_process`` runs the notebook in this process (:mod:`workbench.jobs.inprocess`) instead
    of a papermill child; the run's metrics say which (``executor``).
    """
    cancel = cancel or threading.Event()
    started = now()
    run_id = new_run_id(spec.name, started)
    folder = runs_dir(spec.name)
    folder.mkdir(parents=True, exist_ok=True)
    run = JobRun(
        run_id=run_id,
        job=spec.name,
        status=RUNNING,
        parameters={**params, "run_key": run_key},
        started_at=started,
        notebook_path=str(folder / f"{run_id}.ipynb"),
        metrics={
            **job_runs.runner_identity(started),
            "attempt": attempt,
            "executor": "in-process" if in_process else "papermill",
        },
    )
    job_runs.record(run)
    t0 = time.perf_counter()
    try:
        error, kind, side = _execute(spec, run, run_key, params, cancel, in_process)
    except Exception as exc:  # the runner itself failed: still record the run, then re-raise
        run.status, run.error, run.ended_at = FAILED, f"the runner failed: {exc}", now()
        run.metrics = {**run.metrics, "failure_kind": "runner_error"}
        job_runs.finish(run)
        raise
    metrics = {
        **side["metrics"],
        "attempt": attempt,
        "executor": run.metrics["executor"],
        "rows_by_table": side["rows"],
    }
    alerts = [msg for a in spec.alerts if (msg := a.fired(metrics))] if error is None else []
    metrics["alerts"] = alerts
    if error:
        retry, why = retry_decision(spec, attempt, kind)
        metrics.update(failure_kind=kind, retried=retry, retry_reason=why)
        run.status = FAILED
    elif side["degraded"]:
        run.status = DEGRADED
        error = "degraded: " + "; ".join(side["degraded"])
    else:
        run.status = SUCCEEDED
    run.error = error
    run.ended_at = now()
    run.duration_s = time.perf_counter() - t0
    run.rows_written = sum(side["rows"].values())  # what was published, even by a failed run
    run.metrics = {**metrics, **{k: run.metrics[k] for k in ("runner_host", "runner_pid")}}
    job_runs.finish(run)  # keeps what the publish recorded with gold
    for msg in alerts:
        log.warning("alert on job %s (run %s): %s", spec.name, run_id, msg)
    return run, alerts


def run_job(
    spec: JobSpec,
    overrides: Mapping[str, Any] | None = None,
    *,
    cancel: threading.Event | None = None,
    now: Callable[[], datetime] = job_runs.now_utc,
    on_attempt: Callable[[JobRun], None] | None = None,
    in_process: bool = False,
) -> RunResult:
    """Run a job with retries; returns every attempt. Never raises for a failed notebook.

    Parameters
    ----------
    spec : JobSpec
        The job.
    overrides : mapping, optional
        Parameter values (text or typed), checked against the spec.
    cancel : threading.Event, optional
        Set it (e.g. from a SIGTERM handler) to stop the current attempt and skip retries.
    now : callable
        The clock (UTC), injectable for tests; resolves ``today``/``yesterday``.
    in_process : bool
        Run the notebook in this process (:mod:`workbench.jobs.inprocess`: no kernel start,
        timeout checked between cells) instead of a papermill child.
    """
    cancel = cancel or threading.Event()
    if in_process:
        from workbench.jobs.inprocess import check_in_process

        check_in_process(spec)
    params = resolve_parameters(spec, overrides, now())
    run_key = spec.key_for(params)
    result = RunResult(spec)
    for attempt in range(1, spec.retries.max + 2):
        run, alerts = run_once(
            spec, params, run_key, attempt=attempt, cancel=cancel, now=now, in_process=in_process
        )
        result.attempts.append(run)
        result.alerts = alerts
        if on_attempt is not None:
            on_attempt(run)
        if run.status != FAILED:
            break
        if cancel.is_set():
            result.cancelled = True
            break
        if not run.metrics.get("retried"):
            break
        delay = spec.retries.delay_s(attempt)
        log.warning("job %s failed (%s); %s", spec.name, run.error, run.metrics["retry_reason"])
        if cancel.wait(delay):
            result.cancelled = True
            break
    return result
