"""``workbench jobs``: list, run, backfill, history, scheduler, crontab."""

from __future__ import annotations

import signal
import threading
from datetime import date
from pathlib import Path

import typer

from workbench.cli.console import console, err_console
from workbench.cli.output import emit, format_option

app = typer.Typer(
    help="Scheduled jobs: notebooks run by papermill, recorded in ops.job_runs."
    "\n\nExample:\n    workbench jobs run day_ahead_load",
)

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


def print_run_summary(result) -> None:
    run = result.last
    colour = {"succeeded": "green", "degraded": "yellow"}.get(run.status, "red")
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
        if k not in ("rows_by_table", "alerts", "attempt", "runner_pid", "runner_host", "retried")
    }
    if shown:
        console.print("  metrics: " + ", ".join(f"{k}={v}" for k, v in shown.items()))
    for alert in result.alerts:
        console.print(f"  [bold yellow]alert[/]: {alert}", highlight=False)
    console.print(f"  notebook: {run.notebook_path}", highlight=False, soft_wrap=True)
    if run.error:
        err_console.print(f"  [red]error[/]: {run.error}", highlight=False, soft_wrap=True)


@app.command("list")
def list_jobs(jobs_dir: Path = JOBS_DIR, fmt: str = format_option()) -> None:
    """The jobs, their notebooks, schedules and outputs (names never cut).

    Example:
        workbench jobs list
    """
    from workbench.jobs.spec import load_job_specs

    rows = []
    for spec in load_job_specs(jobs_dir).values():
        sched = spec.schedule
        rows.append(
            {
                "job": spec.name,
                "schedule": sched.cron if sched else None,
                "timezone": sched.timezone if sched else None,
                "notebook": spec.notebook,
                "outputs": ",".join(spec.outputs),
                "owner": spec.owner,
            }
        )
    emit(rows, fmt, ["job", "schedule", "timezone", "notebook", "outputs", "owner"])


@app.command("run")
def run(
    name: str = typer.Argument(..., help="The job to run."),
    param: list[str] = typer.Option(None, "-p", "--param", help="key=value (repeatable)."),
    jobs_dir: Path = JOBS_DIR,
) -> None:
    """Run a job now (retries as its spec says); exits 1 when the last attempt fails.

    Example:
        workbench jobs run day_ahead_load -p issue_date=2024-03-20
    """
    from workbench.jobs import runs as job_runs
    from workbench.jobs.runner import resolve_parameters, run_job
    from workbench.jobs.spec import get_job_spec

    spec = get_job_spec(name, jobs_dir)
    # every parameter checked (model names against the factory) before anything runs
    params = resolve_parameters(spec, _parse_params(param), job_runs.now_utc())
    job_runs.reconcile()
    result = run_job(spec, params, cancel=_cancel_on_signals())
    print_run_summary(result)
    if not result.ok:
        raise typer.Exit(1)


@app.command("backfill")
def backfill(
    name: str = typer.Argument(..., help="The job to run for each day."),
    start: str = typer.Option(
        None, help="First day (YYYY-MM-DD), local to the job's schedule; or use --last-days."
    ),
    end: str = typer.Option(None, help="Last day (YYYY-MM-DD), inclusive."),
    last_days: int = typer.Option(
        None, "--last-days", help="Instead of --start/--end: the N days up to the 'auto' day."
    ),
    param: list[str] = typer.Option(None, "-p", "--param", help="key=value (repeatable)."),
    rerun: bool = typer.Option(
        False, "--rerun", help="Also run the days whose run key already succeeded (replaces)."
    ),
    in_process: bool = typer.Option(
        False,
        "--in-process",
        help="Run the notebook in this process (no kernel start; timeout checked between cells).",
    ),
    jobs_dir: Path = JOBS_DIR,
) -> None:
    """Run a job once per day (oldest first); days whose run key already succeeded are skipped.

    Idempotent and resumable: run it again after a stop or a failed day and only the days
    not done yet run.

    Example:
        workbench jobs backfill day_ahead_load --last-days 30 --in-process
    """
    from workbench.jobs import backfill as bf
    from workbench.jobs.spec import JobSpecError, get_job_spec

    spec = get_job_spec(name, jobs_dir)
    base = _parse_params(param)
    if last_days is not None:
        if start or end:
            raise JobSpecError(f"expected --last-days or --start/--end; found both ({last_days})")
        days = bf.last_days(spec, last_days, base)
    else:
        if not start or not end:
            msg = f"expected --start and --end (or --last-days); found {start!r}, {end!r}"
            raise JobSpecError(msg)
        try:
            first, last = date.fromisoformat(start), date.fromisoformat(end)
        except ValueError:
            msg = f"expected --start/--end as YYYY-MM-DD; found {start!r}, {end!r}"
            raise JobSpecError(msg) from None
        days = bf.day_range(first, last)
    result = bf.backfill(
        spec,
        days,
        base,
        rerun=rerun,
        in_process=in_process,
        cancel=_cancel_on_signals(),
        on_day=print_backfill_day,
    )
    console.print(backfill_line(result), highlight=False)
    if not result.ok:
        failed = [d.day.isoformat() for d in result.failed]
        err_console.print(f"[red]backfill of {name}: failed days {failed or 'cancelled'}[/]")
        raise typer.Exit(1)


def print_backfill_day(item) -> None:
    """One line per skipped day, the run summary per day run."""
    if item.result is None:
        console.print(f"  skipped {item.run_key}: already succeeded", highlight=False)
    else:
        print_run_summary(item.result)


def backfill_line(result) -> str:
    """``job: N days run, M skipped (done before), K failed in S s``."""
    return (
        f"{result.job}: {len(result.ran)} day(s) run, {len(result.skipped)} skipped (done "
        f"before), {len(result.failed)} failed in {result.seconds:.1f} s"
        + (" (cancelled)" if result.cancelled else "")
    )


@app.command("history")
def history(
    name: str = typer.Argument(None, help="Only this job."),
    limit: int = typer.Option(20, help="How many runs, newest first (1 or more)."),
    fmt: str = format_option(),
) -> None:
    """The latest runs from ops.job_runs (stale running rows reconciled first).

    Example:
        workbench jobs history day_ahead_load --limit 5
    """
    from workbench.cli.output import check_format
    from workbench.jobs import runs as job_runs
    from workbench.jobs.spec import JobSpecError

    check_format(fmt)
    if limit < 1:
        raise JobSpecError(f"expected --limit of 1 or more; found {limit}")
    job_runs.reconcile()
    frame = job_runs.history(name, limit)
    rows = []
    for row in frame.itertuples():
        rows_written = row.rows_written
        rows.append(
            {
                "run_id": row.run_id,
                "job": row.job,
                "status": row.status,
                "started_at": f"{row.started_at:%Y-%m-%d %H:%M:%S}",
                "duration_s": None
                if row.duration_s != row.duration_s
                else round(float(row.duration_s), 1),
                "rows": None
                if rows_written is None or rows_written != rows_written
                else int(rows_written),
                "run_key": row.parameters.get("run_key"),
                "error": row.error if isinstance(row.error, str) else None,
            }
        )
    cols = ["run_id", "job", "status", "started_at", "duration_s", "rows", "run_key", "error"]
    emit(rows, fmt, cols, title=f"{len(rows)} run(s)")


@app.command("scheduler")
def scheduler(
    jobs_dir: Path = JOBS_DIR,
    max_runs: int = typer.Option(None, help="Stop after this many runs (default: run forever)."),
) -> None:
    """Run the cron schedules until SIGTERM/SIGINT (one scheduler at a time).

    Example:
        workbench jobs scheduler
    """
    from workbench.core.config import workbench_home
    from workbench.jobs import runs as job_runs
    from workbench.jobs.scheduler import Scheduler
    from workbench.jobs.spec import load_job_specs

    specs = load_job_specs(jobs_dir)
    sched = Scheduler(specs, workbench_home())
    cancel = _cancel_on_signals()
    threading.Thread(target=lambda: (cancel.wait(), sched.stop()), daemon=True).start()
    job_runs.reconcile()
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
    """Print crontab lines for the scheduled jobs (system cron or another orchestrator).

    Example:
        workbench jobs crontab >> /etc/cron.d/gridmind
    """
    from workbench.jobs.scheduler import crontab_lines
    from workbench.jobs.spec import load_job_specs

    for line in crontab_lines(load_job_specs(jobs_dir), command):
        typer.echo(line)


@app.command("deploy")
def deploy(
    target: str = typer.Argument(..., help="The orchestrator: prefect."),
    jobs_dir: Path = JOBS_DIR,
    pool: str = typer.Option("workbench", help="Prefect work pool (type process; created)."),
    paused: bool = typer.Option(False, help="Create the deployments with schedules paused."),
    heartbeat: int = typer.Option(
        30, "--heartbeat-s", help="Flow-run heartbeat period [s] (>= 30) for crash detection."
    ),
) -> None:
    """One Prefect deployment per job spec (cron + timezone, parameters, timeout, retries).

    Also creates, per deployment, the automations that mark a run Crashed when its heartbeats
    stop (a dead worker host) and rerun a crashed run (jobs retrying kernel_died). Idempotent.
    Needs PREFECT_API_URL; run `prefect worker start --pool POOL` on the hosts that run jobs.

    Example:
        PREFECT_API_URL=http://scheduler:4200/api workbench jobs deploy prefect --pool grid
    """
    if target != "prefect":
        raise typer.BadParameter(f"expected the target 'prefect'; found {target!r}")
    from workbench.jobs.prefect_flows import deploy_jobs
    from workbench.jobs.spec import load_job_specs

    specs = load_job_specs(jobs_dir)
    folder = str(jobs_dir.resolve()) if jobs_dir is not None else None
    done = deploy_jobs(specs, pool=pool, paused=paused, jobs_dir=folder, heartbeat_s=heartbeat)
    for name, spec in sorted(specs.items()):
        when = f"{spec.schedule.cron} {spec.schedule.timezone}" if spec.schedule else "on demand"
        console.print(
            f"deployment workbench-{name}/{name} ({when}, timeout {spec.timeout}, "
            f"retries {spec.retries.max}) in pool {pool}: {done[name].id}",
            highlight=False,
        )
        for automation in done[name].automations:
            console.print(f"  automation {automation}", highlight=False)
    console.print(f"start workers with: prefect worker start --pool {pool}")
