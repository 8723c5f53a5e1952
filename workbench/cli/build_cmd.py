"""``workbench build``: bronze → silver → gold, with a summary and lineage in ``ops``."""

from __future__ import annotations

from datetime import datetime

import typer
from rich.table import Table

from workbench.cli.console import console, progress

LAYERS = ("silver", "gold")  # the layers build_medallion makes, in order


def build(
    layer: str = typer.Option(None, "--layer", help="Only this layer: silver or gold."),
    since: str = typer.Option(
        None, "--since", help="Rebuild from this UTC day (YYYY-MM-DD) on, whatever the watermarks."
    ),
) -> None:
    """Build the medallion from bronze: incremental, checked, all tables or none.

    Example:
        workbench build --layer gold --since 2024-03-01
    """
    from workbench.io.catalog import open_catalog
    from workbench.lake.build import build_medallion

    if layer is not None and layer not in LAYERS:
        raise typer.BadParameter(
            f"expected --layer among {list(LAYERS)}; found {layer!r}", param_hint="--layer"
        )
    start = None
    if since:
        try:
            start = datetime.fromisoformat(since)
        except ValueError:
            raise typer.BadParameter(f"expected --since as YYYY-MM-DD; found {since!r}") from None
    layers = (layer,) if layer else LAYERS
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
    for note in result.recovered:  # what builds that died left, put right first
        console.print(f"recovered: {note}")
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
    if layer is None:  # the features need gold.dim_assets
        build_satellite(cat)
    cat.close()


def build_satellite(cat) -> None:
    """The satellite GeoTIFFs → ``silver.satellite`` (Zarr) → per-plant cloud-index features.

    Rejected files are reported by name and the rest of the batch still loads. Without bronze
    satellite frames there is nothing to do, and that is said.
    """
    from pathlib import Path

    from workbench.features.satellite import build_satellite_features
    from workbench.io.satellite import ingest_satellite

    if not any(Path(cat.entry("bronze.satellite").location).glob("*.tif")):
        console.print("satellite: no GeoTIFFs in bronze.satellite; skipped")
        return
    report = ingest_satellite(cat)
    console.print(f"satellite: {report}")
    rows = build_satellite_features(cat)
    console.print(f"satellite: {rows:,} rows of per-plant cloud-index features")
