"""Shared helpers of the catalog use cases: hourly series and versioned weather forecasts."""

from __future__ import annotations

from typing import Any

import pandas as pd

from workbench.forecasting.base import ForecastError

WEATHER_FORECASTS = "silver.weather_forecast_hourly"


def lag(cat: Any, name: str) -> pd.Timedelta:
    """The catalog's availability lag of a dataset."""
    return pd.Timedelta(cat.entry(name).availability_lag_td)


def hourly_series(frame: pd.DataFrame, value: str, what: str) -> pd.Series:
    """A regular hourly UTC series from a (timestamp, value) frame; gaps become NaN."""
    if frame.empty:
        raise ForecastError(f"expected rows for {what}; found none. Check the id and the window.")
    ts = pd.DatetimeIndex(pd.to_datetime(frame["timestamp"], utc=True)).as_unit("ns")
    s = pd.Series(frame[value].to_numpy(dtype=float), index=ts).groupby(level=0).mean()
    full = pd.date_range(s.index[0], s.index[-1], freq="h")
    return s.reindex(full)


def weather_forecasts(
    cat: Any, location_id: str, columns: list[str], start: Any = None, end: Any = None
) -> pd.DataFrame | None:
    """Weather forecasts for a location, indexed by (issue_time, target_time); None if absent."""
    if WEATHER_FORECASTS not in cat:
        return None
    try:
        fc = cat.read(
            WEATHER_FORECASTS,
            start=start,
            end=end,
            columns=["issue_time", "timestamp", *columns],
            where={"location_id": location_id},
        )
    except Exception:  # table listed but not built in this warehouse
        return None
    if fc.empty:
        return None
    fc["issue_time"] = pd.to_datetime(fc["issue_time"], utc=True).astype("datetime64[ns, UTC]")
    fc["target_time"] = pd.to_datetime(fc["timestamp"], utc=True).astype("datetime64[ns, UTC]")
    return fc.set_index(["issue_time", "target_time"])[columns].sort_index()


def region_timezone(cat: Any, region_id: str) -> str:
    """The region's IANA zone from gold.dim_regions (UTC if unknown)."""
    try:
        reg = cat.read("gold.dim_regions", where={"region_id": region_id})
    except Exception:
        return "UTC"
    return str(reg["timezone"].iloc[0]) if len(reg) else "UTC"
