"""``workbench market``: battery arbitrage on any price file; LMP analytics over the catalog."""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

import typer
from rich.table import Table

from workbench.cli.console import console
from workbench.core.errors import WorkbenchError

app = typer.Typer(
    help="Market analytics: battery arbitrage, DA/RT spreads, LMP components and congestion."
    "\n\nExample: workbench market spreads",
    no_args_is_help=True,
)


class MarketFileError(WorkbenchError):
    """An input or output file of ``workbench market`` cannot be used."""


def _read_table(path: Path) -> Any:
    from workbench.io.files import read_table

    return read_table(path, error=MarketFileError, what="price file")


def _series(frame: Any, time_col: str, value_col: str, path: Path) -> Any:
    import pandas as pd

    from workbench.core.errors import MissingColumnsError
    from workbench.core.timestamps import check_time_zones
    from workbench.io.files import check_rows, numeric_column

    missing = {time_col, value_col} - set(frame.columns)
    if missing:
        raise MissingColumnsError(str(path), missing, frame.columns)
    check_rows(frame, path, error=MarketFileError)
    check_time_zones(frame[time_col], time_col, error=MarketFileError)
    try:
        with warnings.catch_warnings():  # "could not infer format": parsed one by one, fine
            warnings.simplefilter("ignore", UserWarning)
            stamps = pd.to_datetime(frame[time_col], utc=True)
    except (ValueError, TypeError) as exc:
        first = str(exc).splitlines()[0]
        msg = f"expected timestamps in column {time_col!r} of {path}; found {first}"
        raise MarketFileError(msg) from exc
    values = numeric_column(frame[value_col], value_col, error=MarketFileError)
    return pd.Series(values, index=pd.DatetimeIndex(stamps), name=value_col)


def _check_output(output: Path) -> None:
    from workbench.io.files import check_output_path

    check_output_path(output, (".parquet", ".pq", ".csv"), error=MarketFileError)


def _check_tz(tz: str) -> str:
    from workbench.forecasting.data import valid_timezone

    return valid_timezone(tz, "--tz", MarketFileError)


def _write(frame: Any, output: Path) -> None:
    _check_output(output)
    suffix = output.suffix.lower()
    try:
        output.parent.mkdir(parents=True, exist_ok=True)
        if suffix == ".csv":
            frame.to_csv(output, index=False)
        else:
            frame.to_parquet(output, index=False)
    except OSError as exc:
        raise MarketFileError(f"cannot write {output}: {exc}") from exc


def _print_frame(frame: Any, title: str, digits: int = 2) -> None:
    from pandas.api.types import is_numeric_dtype

    table = Table(title=title, title_justify="left")
    for col in frame.columns:
        table.add_column(str(col), justify="right" if is_numeric_dtype(frame[col]) else "left")
    for row in frame.itertuples(index=False):
        table.add_row(*[f"{v:.{digits}f}" if isinstance(v, float) else str(v) for v in row])
    console.print(table)


@app.command("arbitrage")
def arbitrage(
    prices: Path = typer.Argument(..., help="CSV or Parquet file, one row per interval."),
    time_col: str = typer.Option(..., "--time-col", help="Interval-start column (UTC if naive)."),
    price_col: str = typer.Option(..., "--price-col", help="Actual price column [$/MWh]."),
    forecast_col: str | None = typer.Option(
        None, "--forecast-col", help="Forecast price column: schedule on it, settle at actual."
    ),
    energy_mwh: float = typer.Option(..., "--energy-mwh", help="Battery energy [MWh]."),
    power_mw: float = typer.Option(..., "--power-mw", help="Battery power [MW]."),
    efficiency: float = typer.Option(0.9, "--efficiency", help="Round-trip efficiency [1]."),
    cycles_per_day: float = typer.Option(
        1.0, "--cycles-per-day", help="Discharge per day in nameplate energies (0: no limit)."
    ),
    initial_soc: float = typer.Option(
        0.5, "--initial-soc", help="State of charge at the start and end [share of energy]."
    ),
    tz: str = typer.Option("UTC", "--tz", help="Time zone of the days (cycle limit, backtest)."),
    output: Path = typer.Option(..., "--output", help="Schedule file (.parquet or .csv)."),
) -> None:
    """Optimal battery schedule (LP) and its profit.

    Without --forecast-col: one schedule over the whole file at the actual prices (perfect
    foresight). With it: a daily backtest, each day scheduled on the forecast and settled at the
    actual prices, against perfect foresight.

    Example:
        workbench market arbitrage prices.csv --time-col timestamp --price-col lmp \\
            --energy-mwh 100 --power-mw 50 --output schedule.parquet
    """
    from workbench.market.arbitrage import Battery, backtest, optimal_schedule

    _check_tz(tz)
    _check_output(output)
    frame = _read_table(prices)
    battery = Battery(
        energy_mwh=energy_mwh,
        power_mw=power_mw,
        round_trip_efficiency=efficiency,
        initial_soc=initial_soc,
        cycles_per_day=cycles_per_day or None,
    )
    actual = _series(frame, time_col, price_col, prices)
    if forecast_col is None:
        result = optimal_schedule(actual, battery, tz=tz)
        schedule = result.schedule
        console.print(f"profit at {price_col}: ${result.profit_usd:,.2f}")
    else:
        forecast = _series(frame, time_col, forecast_col, prices)
        bt = backtest(actual, forecast, battery, tz=tz)
        schedule = bt.schedule
        expected = bt.days["expected_profit_usd"].sum()
        console.print(
            f"{len(bt.days)} days: expected ${expected:,.2f}, realised "
            f"${bt.realised_profit_usd:,.2f}, perfect foresight ${bt.perfect_profit_usd:,.2f}, "
            f"ratio {bt.ratio:.1%}"
        )
    _write(schedule.reset_index(), output)
    console.print(f"{len(schedule)} intervals written to {output}")


@app.command("spreads")
def spreads(
    tz: str = typer.Option("UTC", "--tz", help="Time zone of the hour of day."),
    by_hour: bool = typer.Option(False, "--by-hour", help="Also split by hour of day."),
    table: str = typer.Option("silver.market_prices", "--table", help="Price table."),
    output: Path | None = typer.Option(None, "--output", help="Write the summary (.parquet/.csv)."),
    catalog: str | None = typer.Option(None, "--catalog", help="Catalog file."),
) -> None:
    """Day-ahead vs real-time (DART = DA - RT) spreads per node from the catalog.

    Example:
        workbench market spreads --by-hour
    """
    from workbench.io.catalog import open_catalog
    from workbench.market import sources

    _check_tz(tz)
    if output is not None:
        _check_output(output)
    cat = open_catalog(catalog, read_only=True)
    try:
        summary, dist = sources.spreads(cat, tz=tz, table=table, by_hour=by_hour)
    finally:
        cat.close()
    _print_frame(summary, f"DART spreads [$/MWh] from {table}")
    _print_frame(dist, "DART distribution [$/MWh]")
    if output is not None:
        _write(summary, output)
        console.print(f"{len(summary)} rows written to {output}")


@app.command("lmp")
def lmp_(
    table: str = typer.Option("silver.market_prices", "--table", help="Price table."),
    threshold: float = typer.Option(
        1.0, "--threshold", help="Congestion-price separation that counts as congested [$/MWh]."
    ),
    catalog: str | None = typer.Option(None, "--catalog", help="Catalog file."),
) -> None:
    """LMP decomposition by node and congestion hours per interface from the catalog.

    Example:
        workbench market lmp --threshold 5
    """
    import math

    from workbench.io.catalog import open_catalog
    from workbench.market import lmp, sources

    if not (math.isfinite(threshold) and threshold >= 0):
        msg = f"expected --threshold as a finite number >= 0 [$/MWh]; found {threshold:g}"
        raise MarketFileError(msg)
    cat = open_catalog(catalog, read_only=True)
    try:
        prices = sources.read_prices(cat, table=table)
        hours = sources.congestion(cat, table=table, threshold_usd_per_mwh=threshold)
    finally:
        cat.close()
    parts = lmp.lmp_decomposition(prices)
    keep = [c for c in parts.columns if c.startswith(("mean_", "share_"))]
    _print_frame(parts[["node_id", "market", *keep, "violations"]], f"LMP components ({table})")
    _print_frame(hours, "congestion hours per interface", digits=3)
