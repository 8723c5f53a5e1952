"""``workbench anomaly``: sensor anomalies and frequency excursions in any CSV/Parquet file."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

from workbench.cli.console import console
from workbench.core.errors import WorkbenchError

app = typer.Typer(
    help="Anomalies: sensor faults and grid-frequency excursions.", no_args_is_help=True
)


class AnomalyFileError(WorkbenchError):
    """An input or output file of ``workbench anomaly`` cannot be used."""


def _read_table(path: Path) -> Any:
    from workbench.io.files import read_table

    return read_table(path, error=AnomalyFileError, what="data file")


def _check_series(
    frame: Any, data: Path, time_col: str, value_col: str, *, finite: bool = False
) -> None:
    """A series to scan: at least 2 rows, zones not mixed, numbers in the value column.

    ``finite``: refuse ``inf`` too (a frequency cannot be infinite; a sensor scan flags it).
    """
    import numpy as np

    from workbench.core.timestamps import check_time_zones
    from workbench.io.files import check_not_all_missing, check_rows, numeric_column

    check_rows(frame, data, error=AnomalyFileError)
    if time_col in frame.columns:
        check_time_zones(frame[time_col], time_col, error=AnomalyFileError)
    if value_col in frame.columns:
        values = numeric_column(frame[value_col], value_col, error=AnomalyFileError)
        check_not_all_missing(values, value_col, error=AnomalyFileError)
        inf = np.isinf(values)
        if finite and inf.any():
            first = int(np.flatnonzero(inf)[0])
            msg = (
                f"expected finite values in column {value_col!r}; found {int(inf.sum())} "
                f"infinite (first in row {first + 1}: {values[first]}); drop those rows or "
                "leave the cells empty"
            )
            raise AnomalyFileError(msg)


def _check_output(output: Path) -> None:
    from workbench.io.files import check_output_path

    check_output_path(output, (".parquet", ".pq"), error=AnomalyFileError)


def _write(events: Any, output: Path) -> None:
    _check_output(output)
    try:
        output.parent.mkdir(parents=True, exist_ok=True)
        events.to_parquet(output, index=False)
    except OSError as exc:
        raise AnomalyFileError(f"cannot write {output}: {exc}") from exc


def _check_window(data: Path | None, start: str | None, end: str | None) -> None:
    """``--start``/``--end`` select a window of the cube: parseable, ordered, not with a file."""
    from workbench.io.timewindow import to_utc

    if data is not None and (start or end):
        msg = (
            f"expected --start/--end only without a file (they select a window of the PMU "
            f"cube); found them with {data}. Cut the file instead, or drop the file argument"
        )
        raise AnomalyFileError(msg)
    lo, hi = to_utc(start, "--start"), to_utc(end, "--end")
    if lo is not None and hi is not None and lo >= hi:
        msg = (
            f"expected --start before --end; found --start {lo.isoformat()} and --end "
            f"{hi.isoformat()} (an empty window). Swap them"
        )
        raise AnomalyFileError(msg)


@app.command("detect")
def detect(
    data: Path = typer.Argument(..., help="CSV or Parquet file, one row per sample."),
    time_col: str = typer.Option(..., "--time-col", help="Timestamp column (UTC if naive)."),
    value_col: str = typer.Option(..., "--value-col", help="Numeric value column."),
    group_col: str | None = typer.Option(None, "--group-col", help="Series id column."),
    method: str = typer.Option("rules", help="rules, iforest, lstm or ensemble."),
    gap: str = typer.Option("0s", help="Merge flagged samples at most this far apart."),
    output: Path = typer.Option(..., "--output", help="Events Parquet file to write."),
) -> None:
    """Sensor anomalies (flatline, spike, out of range, stale; or learned) as events."""
    from workbench.anomaly.sensor import detect_sensor_anomalies

    _check_output(output)
    frame = _read_table(data)
    _check_series(frame, data, time_col, value_col)
    events = detect_sensor_anomalies(
        frame, time_col, value_col, group_col, method=method, gap_tolerance=gap
    )
    _write(events, output)
    console.print(f"{len(events)} anomaly events ({method}) written to {output}")


@app.command("frequency")
def frequency(
    data: Path | None = typer.Argument(
        None, help="CSV or Parquet file; without it, the catalog's PMU cube (bronze.pmu)."
    ),
    time_col: str = typer.Option("time", "--time-col", help="Timestamp column (UTC if naive)."),
    value_col: str = typer.Option("frequency_hz", "--value-col", help="Frequency column [Hz]."),
    group_col: str | None = typer.Option(None, "--group-col", help="PMU id column."),
    quality_col: str | None = typer.Option(None, "--quality-col", help="Quality (0 good)."),
    nominal: float = typer.Option(60.0, help="Nominal frequency [Hz]."),
    band: float = typer.Option(0.05, help="Band half-width [Hz]."),
    count: int = typer.Option(3, help="Out-of-band samples that trigger an alert."),
    window: str = typer.Option("5s", help="Window for the count, and the quiet spell."),
    start: str | None = typer.Option(None, help="Cube only: first time (UTC)."),
    end: str | None = typer.Option(None, help="Cube only: end time, exclusive (UTC)."),
    output: Path = typer.Option(..., "--output", help="Episodes Parquet file to write."),
) -> None:
    """Frequency-excursion episodes: COUNT samples outside NOMINAL±BAND within WINDOW."""
    from workbench.anomaly.frequency.batch import detect_frequency_cube, detect_frequency_frame

    rule = {"band_hz": band, "count": count, "window": window}
    _check_output(output)
    _check_window(data, start, end)
    if data is not None:
        frame = _read_table(data)
        _check_series(frame, data, time_col, value_col, finite=True)
        episodes = detect_frequency_frame(
            frame, time_col, value_col, group_col, quality_col, nominal_hz=nominal, **rule
        )
    else:
        from workbench.io.catalog import open_catalog

        cat = open_catalog()
        try:
            ds = cat.read("bronze.pmu", start=start, end=end)
        finally:
            cat.close()
        episodes = detect_frequency_cube(ds, nominal_hz=nominal, **rule)
    _write(episodes, output)
    console.print(f"{len(episodes)} frequency episodes written to {output}")
