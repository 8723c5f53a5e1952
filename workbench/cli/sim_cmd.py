"""``workbench sim report``: plots that show the synthetic grid behaves like a real one."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.table import Table

from workbench.cli.console import console, err_console

app = typer.Typer(help="The synthetic grid: evidence of realism.", no_args_is_help=True)


@app.command("report")
def report(
    out: Path = typer.Option(
        Path("artifacts/sim-report"), help="Folder for the PNGs and summary.json."
    ),
) -> None:
    """Draw load vs temperature, profiles, DST, capacity factors, prices, frequency, satellite."""
    from workbench.io.catalog import open_catalog
    from workbench.sim.report import build_report

    cat = open_catalog()
    with err_console.status("drawing the realism report"):
        summary = build_report(cat, out)
    cat.close()
    table = Table(title=f"realism figures (plots in {out})", title_justify="left")
    table.add_column("figure")
    table.add_column("value")
    for key, value in summary.items():
        table.add_row(key, f"{value:,.4g}" if isinstance(value, float) else str(value))
    console.print(table)
