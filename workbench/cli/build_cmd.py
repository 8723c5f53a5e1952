"""``workbench build``: bronze → silver → gold, with a summary and lineage in ``ops``."""

from __future__ import annotations

from datetime import datetime

import typer
from rich.table import Table

from workbench.cli.console import console, progress


def build(
    layer: str = typer.Option(None, "--layer", help="Only this layer: silver or gold."),
    since: str = typer.Option(
        None, "--since", help="Rebuild from this UTC day (YYYY-MM-DD) on, whatever the watermarks."
    ),
) -> None:
    """Build the medallion from bronze: incremental, checked, all tables or none."""
    from workbench.io.catalog import open_catalog
    from workbench.lake.build import build_medallion

    start = None
    if since:
        try:
            start = datetime.fromisoformat(since)
        except ValueError:
            raise typer.BadParameter(f"expected --since as YYYY-MM-DD; found {since!r}") from None
    layers = (layer,) if layer else ("silver", "gold")
    cat = open_catalog()
    with progress() as bar:
        task = bar.add_task("building", total=None)
        result = build_medallion(
            cat,
            layers=layers,
            since=start,
            on_step=lambda text, done, total: bar.update(
                task, description=text, completed=done, total=total
            ),
        )
    table = Table(title=f"{result.build_id}: {len(result.tables)} tables", title_justify="left")
    for col in ("table", "window from", "rows in", "rows out", "quarantined", "seconds", "status"):
        table.add_column(
            col, justify="right" if col.startswith(("rows", "quar", "sec")) else "left"
        )
    for r in result.tables:
        table.add_row(
            r.table_name,
            r.since.strftime("%Y-%m-%d") if r.since else "full",
            f"{r.rows_in:,}",
            f"{r.rows_out:,}",
            f"{r.rows_quarantined:,}",
            f"{r.seconds:.1f}",
            r.status,
        )
    console.print(table)
    failed = [c for c in result.checks if not c.passed]
    console.print(
        f"{len(result.checks) - len(failed)} checks passed, {len(failed)} checks failed "
        "(details in ops.dq_results); lineage in ops.build_runs"
    )
    cat.close()
