"""``workbench demo``: build the demo lakehouse, run every job over the last days, say where.

The jobs (load, solar, wind and price forecasts, the anomaly sweep) run as a backfill
(:mod:`workbench.jobs.backfill`) of the last ``--backfill-days`` issue dates each, in this
process (:mod:`workbench.jobs.inprocess`: the job notebooks' code, recorded in ``ops.job_runs``
under their run keys like any run, without a kernel start per run). A rerun skips the days
already done. The forecast jobs follow their ``retrain`` cadence (weekly: a model is trained
for each Monday's issue and reused through Sunday), so 30 days train about five times per job.
"""

from __future__ import annotations

import time
from datetime import date

import typer
from rich.table import Table

from workbench.cli.console import console, progress

app = typer.Typer(
    help="The demo lakehouse: `workbench demo` builds it (if needed) and shows where results are."
    "\n\nExample:\n    workbench demo --profile ci",
    invoke_without_command=True,
)


def _build(profile: str, seed: int, start: str | None, days: int | None) -> None:
    from workbench.io.catalog import open_catalog
    from workbench.sim.build import build_lakehouse
    from workbench.sim.profiles import get_profile

    prof = get_profile(profile)
    changes: dict[str, object] = {}
    if start:
        try:
            changes["start"] = date.fromisoformat(start)
        except ValueError:
            raise typer.BadParameter(f"expected --start as YYYY-MM-DD; found {start!r}") from None
    if days:
        changes["days"] = days
    prof = prof.with_(**changes) if changes else prof
    cat = open_catalog()
    t0 = time.perf_counter()
    with progress() as bar:
        task = bar.add_task(f"building the {prof.name} lakehouse", total=None)

        def on_step(step: str, done: int, total: int) -> None:
            bar.update(task, description=step, completed=done, total=total)

        summary = build_lakehouse(cat, prof, seed=seed, on_step=on_step)
    table = Table(
        title=f"{prof.name} lakehouse (seed {seed}) built in {time.perf_counter() - t0:.1f} s",
        title_justify="left",
    )
    for col in ("dataset", "rows", "location"):
        table.add_column(col, overflow="fold")
    for row in summary:
        table.add_row(row.name, f"{row.rows:,}", row.location)
    console.print(table)
    cat.close()


#: the order the demo runs the jobs in (any other spec found runs after them)
DEMO_JOBS = ("day_ahead_load", "solar_forecast", "wind_forecast", "price_forecast", "anomaly_sweep")
BACKFILL_DAYS = typer.Option(
    30, "--backfill-days", min=1, help="Issue dates per job, ending at the latest with data."
)


@app.callback()
def demo(
    ctx: typer.Context,
    profile: str = typer.Option("demo", help="Simulation profile: ci, demo or large."),
    seed: int = typer.Option(42, help="Random seed; the same seed gives the same data."),
    backfill_days: int = BACKFILL_DAYS,
) -> None:
    """Build the demo lakehouse (bronze, silver, gold), backfill every job, say where it is.

    Example:
        workbench demo --profile ci --backfill-days 3
    """
    if ctx.invoked_subcommand is not None:
        return
    t0 = time.perf_counter()
    _build(profile, seed, None, None)
    from workbench.cli.build_cmd import build as build_medallion_cmd

    build_medallion_cmd(layer=None, since=None)
    t_build = time.perf_counter() - t0
    ok = _run_jobs(backfill_days)
    _where(t_build, time.perf_counter() - t0 - t_build)
    if not ok:
        raise typer.Exit(1)


@app.command("jobs")
def jobs(backfill_days: int = BACKFILL_DAYS) -> None:
    """Run every job over the last days on the lakehouse as built (days done before skipped).

    Example:
        workbench demo jobs --backfill-days 7
    """
    t0 = time.perf_counter()
    ok = _run_jobs(backfill_days)
    _where(None, time.perf_counter() - t0)
    if not ok:
        raise typer.Exit(1)


def _run_jobs(days: int) -> bool:
    """Backfill every job over its last ``days`` issue dates, in process; True if none failed."""
    from workbench.cli.jobs_cmd import backfill_line
    from workbench.jobs import backfill as bf
    from workbench.jobs.spec import load_job_specs

    specs = load_job_specs()
    order = [n for n in DEMO_JOBS if n in specs] + sorted(set(specs) - set(DEMO_JOBS))
    results = []
    for name in order:
        spec = specs[name]
        if spec.date_parameter is None:
            console.print(f"{name}: no date parameter, not backfilled", highlight=False)
            continue
        dates = bf.last_days(spec, days)
        console.print(
            f"[bold]{name}[/]: {len(dates)} issue date(s) {dates[0]} .. {dates[-1]} "
            "(in process; days done before are skipped)",
            highlight=False,
        )
        result = bf.backfill(spec, dates, in_process=True, on_day=_day_printer(len(dates)))
        console.print(backfill_line(result), highlight=False)
        results.append(result)
    failed = [f"{r.job} {d.day}" for r in results for d in r.failed]
    if failed:
        console.print(f"[bold red]failed runs[/]: {', '.join(failed)}", highlight=False)
    return not failed


def _day_printer(total: int):
    """One line per day (``3/30 <run key>: 9.1 s``); a failed run's whole summary."""
    from workbench.cli.jobs_cmd import print_run_summary

    seen = 0

    def on_day(item) -> None:
        nonlocal seen
        seen += 1
        if item.result is not None and not item.result.ok:
            print_run_summary(item.result)
            return
        took = f"{item.result.last.duration_s:.1f} s" if item.result else "done before, skipped"
        console.print(f"  {seen}/{total} {item.run_key}: {took}", highlight=False)

    return on_day


def _where(build_s: float | None, jobs_s: float) -> None:
    """Where the results are: every gold table with its rows, and forecasts per target."""
    from workbench.core.config import default_warehouse_url, workbench_home
    from workbench.io.catalog import open_catalog
    from workbench.jobs.coverage import forecast_coverage, gold_row_counts

    with open_catalog(read_only=True) as cat:
        counts = gold_row_counts(cat)
        coverage = forecast_coverage(cat)
    table = Table(title=f"gold tables in {default_warehouse_url()}", title_justify="left")
    for col in ("table", "rows"):
        table.add_column(col, overflow="fold")
    for name, rows in counts.items():
        table.add_row(name, "not built" if rows is None else f"{rows:,}")
    console.print(table)
    table = Table(title="forecasts per target (median of any run)", title_justify="left")
    for col in ("target", "fact rows", "with a forecast", "share", "forecast rows", "runs"):
        table.add_column(col, overflow="fold")
    for c in coverage:
        share = "-" if c.share_pct is None else f"{c.share_pct:.2f} %"
        table.add_row(
            c.target, f"{c.fact} {c.fact_rows:,}", f"{c.with_forecast:,}", share,
            f"{c.forecasts_table} {c.forecast_rows:,}", str(c.runs),
        )  # fmt: skip
    console.print(table)
    took = f"build {build_s:.0f} s, jobs {jobs_s:.0f} s" if build_s else f"jobs {jobs_s:.0f} s"
    console.print(f"[bold green]demo ready[/]: data under {workbench_home()} ({took})")
    console.print(
        f"executed notebooks: {workbench_home() / 'runs'}/<job>/<run_id>.ipynb", highlight=False
    )
    console.print(
        "runs: `workbench jobs history`; dashboards: `workbench serve`; notebooks: `make lab`"
    )


@app.command("build")
def build(
    profile: str = typer.Option("demo", help="Simulation profile: ci, demo or large."),
    seed: int = typer.Option(42, help="Random seed; the same seed gives the same data."),
    start: str = typer.Option(None, help="First day (YYYY-MM-DD, UTC); default from the profile."),
    days: int = typer.Option(None, min=1, help="Days of system data; default from the profile."),
) -> None:
    """Simulate the grid; write bronze (tables, Zarr, Parquet, GeoTIFF) as the catalog declares.

    Example:
        workbench demo build --profile ci --seed 7
    """
    _build(profile, seed, start, days)
