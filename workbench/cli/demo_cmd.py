"""``workbench demo``: build the demo lakehouse, run the day-ahead load job, say where it is."""

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


@app.callback()
def demo(
    ctx: typer.Context,
    profile: str = typer.Option("demo", help="Simulation profile: ci, demo or large."),
    seed: int = typer.Option(42, help="Random seed; the same seed gives the same data."),
) -> None:
    """Build the demo lakehouse (bronze, silver, gold), run the day-ahead load job, say where.

    Example:
        workbench demo --profile ci
    """
    if ctx.invoked_subcommand is not None:
        return
    _build(profile, seed, None, None)
    from workbench.cli.build_cmd import build as build_medallion_cmd

    build_medallion_cmd(layer=None, since=None)
    from workbench.core.config import workbench_home

    _run_main_job()
    console.print(f"[bold green]demo ready[/]: data under {workbench_home()}")
    console.print("next: `workbench catalog list`, then open notebooks/ with `make lab`")


def _run_main_job(job: str = "day_ahead_load") -> None:
    """The workbench's main job, on the latest data: the day-ahead load forecast into gold."""
    from workbench.cli.jobs_cmd import print_run_summary
    from workbench.core.config import default_warehouse_url
    from workbench.jobs.runner import run_job
    from workbench.jobs.spec import get_job_spec

    spec = get_job_spec(job)
    console.print(f"running the {job} job (papermill, kernel gridmind) on the latest data")
    result = run_job(spec, {spec.date_parameter: "auto"} if spec.date_parameter else {})
    print_run_summary(result)
    if not result.ok:
        raise typer.Exit(1)
    run = result.last
    key = run.parameters.get("run_key")
    console.print(f"executed notebook: {run.notebook_path}", highlight=False, soft_wrap=True)
    url = default_warehouse_url()
    for table, rows in (run.metrics.get("rows_by_table") or {}).items():
        where = f"where run_key = '{key}'" if table != "gold.fact_load" else "forecast columns"
        console.print(f"forecast: {table} ({rows} rows, {where}) in {url}", soft_wrap=True)
    console.print(f"{job}: kernel start to rows in gold in {run.duration_s:.1f} s")


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
