"""Shared helpers of the catalog use cases: hourly series and versioned weather forecasts."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pandas as pd

from workbench.forecasting.base import ForecastError

if TYPE_CHECKING:
    from workbench.forecasting.usecases import CatalogReader

WEATHER_FORECASTS = "silver.weather_forecast_hourly"
REGIONS = "gold.dim_regions"


def lag(cat: CatalogReader, name: str) -> pd.Timedelta:
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


def is_built(cat: CatalogReader, name: str) -> bool:
    """True when ``name`` is a catalog table that exists in its warehouse.

    Only this question is asked before choosing a source: a dataset that exists but cannot be
    read raises its own error, never a quiet ``None``.
    """
    if name not in cat:
        return False
    spec = cat.entry(name)
    if spec.kind != "table":
        msg = f"expected {name} to be a table of the warehouse; found a {spec.kind}"
        raise ForecastError(msg)
    return bool(cat.warehouse(spec.warehouse).exists(spec.location))


def weather_forecasts(
    cat: CatalogReader,
    location_id: str,
    columns: list[str],
    start: Any = None,
    end: Any = None,
    *,
    required: bool = True,
) -> pd.DataFrame | None:
    """Weather forecasts for a location, indexed by (issue_time, target_time).

    Parameters
    ----------
    cat : Catalog
        An open catalog.
    location_id : str
        A ``location_id`` of :data:`WEATHER_FORECASTS` (a region or a plant).
    columns : list of str
        Forecast columns to read (``temperature_f`` [°F], ``wind_speed_100m_m_per_s`` [m/s]...).
    start, end : optional
        Window of target times to read [UTC].
    required : bool
        True (the default): a table not in the catalog, not built, or without rows for the
        location raises :class:`ForecastError`. False: those cases return ``None``, and the
        caller must say so in its use case's notes.
    """
    if not is_built(cat, WEATHER_FORECASTS):
        if not required:
            return None
        where = "is not in the catalog" if WEATHER_FORECASTS not in cat else "is not built"
        msg = (
            f"expected weather forecasts {columns} for {location_id!r} in {WEATHER_FORECASTS}; "
            f"found that the table {where}. Build silver (workbench build), or pass "
            "weather='auto' to the use case to forecast without weather (said in its notes)"
        )
        raise ForecastError(msg)
    fc = cat.read(
        WEATHER_FORECASTS,
        start=start,
        end=end,
        columns=["issue_time", "timestamp", *columns],
        where={"location_id": location_id},
    )
    if fc.empty:
        if not required:
            return None
        msg = (
            f"expected weather forecasts {columns} for {location_id!r} in {WEATHER_FORECASTS} "
            f"between {start or 'the start'} and {end or 'the end'}; found no rows. Check the "
            "location and the window, or pass weather='auto' to forecast without weather"
        )
        raise ForecastError(msg)
    fc["issue_time"] = pd.to_datetime(fc["issue_time"], utc=True).astype("datetime64[ns, UTC]")
    fc["target_time"] = pd.to_datetime(fc["timestamp"], utc=True).astype("datetime64[ns, UTC]")
    return fc.set_index(["issue_time", "target_time"])[columns].sort_index()


def check_weather_option(weather: Any) -> bool:
    """``True`` when weather forecasts are required, ``False`` for ``"auto"``; else an error."""
    if weather is True or weather == "required":
        return True
    if weather == "auto":
        return False
    msg = f"expected weather=True (required) or 'auto' (used when present); found {weather!r}"
    raise ForecastError(msg)


def region_timezone(cat: CatalogReader, region_id: str) -> str:
    """The region's IANA zone from ``gold.dim_regions``.

    Raises :class:`ForecastError` when the table is not built, the region is not in it, or its
    zone is not a valid IANA name: calendar features in the wrong zone are wrong on DST days.
    """
    from workbench.forecasting.data import valid_timezone

    if not is_built(cat, REGIONS):
        msg = (
            f"expected {REGIONS} built to find the time zone of region {region_id!r}; found it "
            "missing. Build gold (workbench build) first"
        )
        raise ForecastError(msg)
    regions = cat.read(REGIONS)
    row = regions[regions["region_id"] == region_id]
    if row.empty:
        known = sorted(regions["region_id"].astype(str))
        msg = f"expected a region_id of {REGIONS} in {known}; found {region_id!r}"
        raise ForecastError(msg)
    what = f"the timezone of region {region_id!r} in {REGIONS}"
    return valid_timezone(row["timezone"].iloc[0], what, ForecastError)
