"""``workbench jobs``: list, run, backfill, history, scheduler, crontab."""

from __future__ import annotations

import signal
import threading
from datetime import date, timedelta
from pathlib import Path

import typer
from rich.table import Table

from workbench.cli.console import console, err_console

app = typer.Typer(help="Scheduled jobs: notebooks run by papermill, recorded in ops.job_runs.")

JOBS_DIR = typer.Option(
    None, "--jobs-dir", help="Folder of job specs (default pipelines/papermill)."
)


def _parse_params(pairs: list[str] | None) -> dict[str, str]:
    from workbench.jobs.spec import JobSpecError

    out: dict[str, str] = {}
    for pair in pairs or []:
        key, eq, value = pair.partition("=")
        if not eq or not key.strip():
            raise JobSpecError(f"expected -p key=value; found {pair!r}")
        out[key.strip()] = value
    return out


def _cancel_on_signals() -> threading.Event:
    """An event set by SIGTERM / SIGINT (the current run is then stopped and recorded)."""
    event = threading.Event()

    def handler(signum: int, frame: object) -> None:
        err_console.print(f"[yellow]received {signal.Signals(signum).name}: stopping[/]")
        event.set()

    signal.signal(signal.SIGTERM, handler)
    signal.signal(signal.SIGINT, handler)
    return event


def _summary(result) -> None:
    run = result.last
    colour = "green" if run.status == "succeeded" else "red"
    console.print(
        f"[bold {colour}]{run.status}[/] {run.job} run {run.run_id} in {run.duration_s:.1f} s "
        f"(attempt {len(result.attempts)}): {run.rows_written or 0} rows written",
        highlight=False,
    )
    console.print(f"  run key: {run.parameters.get('run_key')}", highlight=False)
    for table, n in (run.metrics.get("rows_by_table") or {}).items():
        console.print(f"  {table}: {n} rows", highlight=False)
    shown = {
        k: v
        for k, v in run.metrics.items()
        if k not in ("rows_by_table", "alerts", "attempt", "runner_pid", "runner_host")
    }
    if shown:
        console.print("  metrics: " + ", ".join(f"{k}={v}" for k, v in shown.items()))
    for alert in result.alerts:
        console.print(f"  [bold yellow]alert[/]: {alert}", highlight=False)
    console.print(f"  notebook: {run.notebook_path}", highlight=False, soft_wrap=True)
    if run.error:
        err_console.print(f"  [red]error[/]: {run.error}", highlight=False, soft_wrap=True)


@app.command("list")
def list_jobs(jobs_dir: Path = JOBS_DIR) -> None:
    """The jobs, their notebooks, schedules and outputs."""
    from workbench.jobs.spec import load_job_specs

    table = Table(title_justify="left")
    for col in ("job", "schedule", "timezone", "notebook", "outputs", "owner"):
        table.add_column(col, overflow="fold")
    for spec in load_job_specs(jobs_dir).values():
        sched = spec.schedule
        table.add_row(
            spec.name,
            sched.cron if sched else "-",
            sched.timezone if sched else "-",
            spec.notebook,
            ", ".join(spec.outputs),
            spec.owner,
        )
    console.print(table)


@app.command("run")
def run(
    name: str = typer.Argument(..., help="The job to run."),
    param: list[str] = typer.Option(None, "-p", "--param", help="key=value (repeatable)."),
    jobs_dir: Path = JOBS_DIR,
) -> None:
    """Run a job now (retries as its spec says); exits 1 when the last attempt fails."""
    from workbench.jobs import registry
    from workbench.jobs.runner import run_job
    from workbench.jobs.spec import get_job_spec

    spec = get_job_spec(name, jobs_dir)
    registry.reconcile()
    result = run_job(spec, _parse_params(param), cancel=_cancel_on_signals())
    _summary(result)
    if not result.ok:
        raise typer.Exit(1)


@app.command("backfill")
def backfill(
    name: str = typer.Argument(..., help="The job to run for each day."),
    start: str = typer.Option(..., help="First day (YYYY-MM-DD), local to the job's schedule."),
    end: str = typer.Option(..., help="Last day (YYYY-MM-DD), inclusive."),
    param: list[str] = typer.Option(None, "-p", "--param", help="key=value (repeatable)."),
    jobs_dir: Path = JOBS_DIR,
) -> None:
    """Run a job once per day from START to END (its date parameter set to each day)."""
    from workbench.jobs.runner import run_job
    from workbench.jobs.spec import JobSpecError, get_job_spec

    spec = get_job_spec(name, jobs_dir)
    if spec.date_parameter is None:
        msg = f"job {name!r} has no date parameter to backfill (declare backfill_parameter)"
        raise JobSpecError(msg)
    try:
        first, last = date.fromisoformat(start), date.fromisoformat(end)
    except ValueError:
        msg = f"expected --start/--end as YYYY-MM-DD; found {start!r}, {end!r}"
        raise JobSpecError(msg) from None
    if last < first:
        raise JobSpecError(f"expected --end on or after --start; found {start} > {end}")
    cancel = _cancel_on_signals()
    base = _parse_params(param)
    failed = []
    day = first
    while day <= last and not cancel.is_set():
        result = run_job(spec, {**base, spec.date_parameter: day.isoformat()}, cancel=cancel)
        _summary(result)
        if not result.ok:
            failed.append(day.isoformat())
        day += timedelta(days=1)
    if failed or cancel.is_set():
        err_console.print(f"[red]backfill of {name}: failed days {failed or 'cancelled'}[/]")
        raise typer.Exit(1)


@app.command("history")
def history(
    name: str = typer.Argument(None, help="Only this job."),
    limit: int = typer.Option(20, help="How many runs, newest first."),
) -> None:
    """The latest runs from ops.job_runs."""
    from workbench.jobs import registry

    registry.reconcile()
    frame = registry.history(name, limit)
    table = Table(title=f"{len(frame)} run(s)", title_justify="left")
    for col in ("run_id", "status", "started_at", "duration_s", "rows", "key", "error"):
        table.add_column(col, overflow="fold")
    for row in frame.itertuples():
        table.add_row(
            row.run_id,
            row.status,
            f"{row.started_at:%Y-%m-%d %H:%M:%S}",
            f"{row.duration_s:.1f}" if row.duration_s == row.duration_s else "-",
            "-"
            if row.rows_written is None or row.rows_written != row.rows_written
            else str(int(row.rows_written)),
            str(row.parameters.get("run_key", "")),
            row.error if isinstance(row.error, str) else "",
        )
    console.print(table)


@app.command("scheduler")
def scheduler(
    jobs_dir: Path = JOBS_DIR,
    max_runs: int = typer.Option(None, help="Stop after this many runs (default: run forever)."),
) -> None:
    """Run the cron schedules until SIGTERM/SIGINT (one scheduler at a time)."""
    from workbench.core.config import workbench_home
    from workbench.jobs import registry
    from workbench.jobs.scheduler import Scheduler
    from workbench.jobs.spec import load_job_specs

    specs = load_job_specs(jobs_dir)
    sched = Scheduler(specs, workbench_home())
    cancel = _cancel_on_signals()
    threading.Thread(target=lambda: (cancel.wait(), sched.stop()), daemon=True).start()
    registry.reconcile()
    console.print(
        f"scheduler: {len(sched.specs)} scheduled job(s); SIGTERM stops it", highlight=False
    )
    fired = sched.run(max_runs=max_runs)
    console.print(f"scheduler stopped after {len(fired)} run(s)")


@app.command("crontab")
def crontab(
    jobs_dir: Path = JOBS_DIR,
    command: str = typer.Option("workbench", help="The workbench command as cron should call it."),
) -> None:
    """Print crontab lines for the scheduled jobs (system cron or another orchestrator)."""
    from workbench.jobs.scheduler import crontab_lines
    from workbench.jobs.spec import load_job_specs

    for line in crontab_lines(load_job_specs(jobs_dir), command):
        typer.echo(line)
