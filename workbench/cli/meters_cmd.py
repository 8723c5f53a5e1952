"""``workbench meters``: smart-meter reads aggregated to regional load."""

from __future__ import annotations

from pathlib import Path

import typer

from workbench.cli.console import console
from workbench.core.errors import WorkbenchError

app = typer.Typer(
    help="Smart meters: reads aggregated to load."
    "\n\nExample:\n    workbench meters aggregate --output load.parquet",
    no_args_is_help=True,
)


class MetersOutputError(WorkbenchError):
    """The output file of ``workbench meters`` cannot be written."""


@app.command("aggregate")
def aggregate(
    freq: str = typer.Option("15min", help="Resolution: 5min, 15min or 1h."),
    start: str | None = typer.Option(None, help="First interval start, UTC (ISO 8601)."),
    end: str | None = typer.Option(None, help="End of the window, UTC, exclusive."),
    region: list[str] | None = typer.Option(None, "--region", help="Keep a region (repeat)."),
    by_class: bool = typer.Option(
        False, "--by-class", help="Also group by customer_class (residential/commercial)."
    ),
    engine: str | None = typer.Option(
        None, help="duckdb, polars or dask (default: the library's, see aggregate_meter_load)."
    ),
    dataset: str = typer.Option("silver.meter_readings", help="Meter dataset of the catalog."),
    output: Path = typer.Option(..., "--output", help="Parquet file to write."),
) -> None:
    """Regional load [MW] from the meter reads, written as Parquet.

    Example:
        workbench meters aggregate --start 2024-03-01 --end 2024-03-02 --output load.parquet
    """
    from workbench.io.catalog import open_catalog
    from workbench.io.meters import DEFAULT_ENGINE, aggregate_meter_load

    if output.suffix.lower() not in (".parquet", ".pq"):
        raise MetersOutputError(f"expected --output to end in .parquet; found {output.name!r}")
    by = ("region_id", "customer_class") if by_class else ("region_id",)
    engine = engine or DEFAULT_ENGINE
    with open_catalog(read_only=True) as cat:
        load = aggregate_meter_load(
            cat, dataset, freq=freq, start=start, end=end, regions=region or None, by=by,
            engine=engine,
        )  # fmt: skip
    tmp = output.with_name(f".{output.name}.tmp")
    try:
        output.parent.mkdir(parents=True, exist_ok=True)
        load.to_parquet(tmp, index=False)
        tmp.replace(output)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise MetersOutputError(f"cannot write {output}: {exc}") from exc
    first, last = load["timestamp"].min(), load["timestamp"].max()
    console.print(
        f"{len(load)} rows of {freq} load ({engine}), {first:%Y-%m-%d %H:%M} to "
        f"{last:%Y-%m-%d %H:%M} UTC, written to {output}"
    )
