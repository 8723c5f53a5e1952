"""``workbench sim report``: the realism table and plots that show the synthetic grid behaves
like a real one."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.table import Table

from workbench.cli.console import console, err_console

app = typer.Typer(
    help="The synthetic grid: evidence of realism.\n\nExample:\n    workbench sim report --check",
    no_args_is_help=True,
)


def _bound(value: float | None) -> str:
    return "" if value is None else f"{value:,.4g}"


@app.command("report")
def report(
    out: Path = typer.Option(
        Path("artifacts/sim-report"), help="Folder for realism.json, summary.json and the PNGs."
    ),
    check: bool = typer.Option(
        False, "--check", help="Exit 1 when any row of the realism table is not ok."
    ),
) -> None:
    """Measure the realism table (realism.json) and draw load vs temperature, profiles, DST,
    capacity factors, prices, frequency and a satellite frame.

    Example:
        workbench sim report --out artifacts/realism --check
    """
    from workbench.io.catalog import open_catalog
    from workbench.sim.report import build_report, write_realism

    if out.exists() and not out.is_dir():
        raise typer.BadParameter(
            f"expected --out to name a folder for the report; found a file {out}",
            param_hint="--out",
        )
    for parent in out.parents:
        if parent.exists():
            if not parent.is_dir():
                msg = f"expected --out inside a folder; found {parent} is a file"
                raise typer.BadParameter(msg, param_hint="--out")
            break
    cat = open_catalog(read_only=True)  # only reads: runs beside jobs, never writes
    try:
        with err_console.status("measuring the realism table"):
            rows = write_realism(cat, out)
        with err_console.status("drawing the realism report"):
            summary = build_report(cat, out)
    finally:
        cat.close()
    figures = Table(title=f"realism figures (plots in {out})", title_justify="left")
    figures.add_column("figure")
    figures.add_column("value")
    for key, value in summary.items():
        figures.add_row(key, f"{value:,.4g}" if isinstance(value, float) else str(value))
    console.print(figures)
    table = Table(title=f"realism table ({out / 'realism.json'})", title_justify="left")
    for column in ("metric", "value", "range", "ok"):
        table.add_column(column)
    for row in rows:
        value = "n/a" if row["value"] is None else f"{row['value']:,.4g}"
        span = f"{_bound(row['low'])} .. {_bound(row['high'])}".strip()
        ok = "[green]ok[/green]" if row["ok"] else "[red]NOT OK[/red]"
        table.add_row(row["metric"], value, span, ok)
    console.print(table)
    failing = [row for row in rows if not row["ok"]]
    for row in failing:
        why = (
            row.get("reason")
            or f"{row['value']:,.4g} outside {_bound(row['low'])}..{_bound(row['high'])}"
        )
        console.print(f"not ok: {row['metric']}: {why}")
    console.print(f"{len(rows) - len(failing)} of {len(rows)} realism rows ok")
    if check and failing:
        raise typer.Exit(1)
