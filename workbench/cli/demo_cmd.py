"""``workbench demo``: build the demo lakehouse from the simulator and show where everything is."""

from __future__ import annotations

import time
from datetime import date

import typer
from rich.table import Table

from workbench.cli.console import console, progress

app = typer.Typer(
    help="The demo lakehouse: `workbench demo` builds it (if needed) and shows where results are.",
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
    """Build the demo lakehouse (bronze from the simulator, then silver and gold) and say where."""
    if ctx.invoked_subcommand is not None:
        return
    _build(profile, seed, None, None)
    from workbench.cli.build_cmd import build as build_medallion_cmd

    build_medallion_cmd(layer=None, since=None)
    from workbench.core.config import workbench_home

    console.print(f"[bold green]demo ready[/]: data under {workbench_home()}")
    console.print("next: `workbench catalog list`, then open notebooks/ with `make lab`")


@app.command("build")
def build(
    profile: str = typer.Option("demo", help="Simulation profile: ci, demo or large."),
    seed: int = typer.Option(42, help="Random seed; the same seed gives the same data."),
    start: str = typer.Option(None, help="First day (YYYY-MM-DD, UTC); default from the profile."),
    days: int = typer.Option(None, help="Days of system data; default from the profile."),
) -> None:
    """Simulate the grid; write bronze (tables, Zarr, Parquet, GeoTIFF) as the catalog declares."""
    _build(profile, seed, start, days)
