"""Load 48 h ahead per region: gold.fact_load + weather forecasts + US/Texas holidays.

The target is ``actual_load_mw`` (hourly), known ``availability_lag`` after each hour ends; the
future covariates are the region's weather forecasts (temperature, humidity) as issued before
each issue time — never the observed weather of ``gold.fact_load.temperature_f``. With
``source="silver"`` the target is read from ``silver.system_load`` (5-min, averaged hourly)
instead, for a lakehouse without gold; nothing switches source on its own.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal

from workbench.forecasting.base import ForecastData, ForecastError, ForecastSpec
from workbench.forecasting.usecases import UseCase
from workbench.forecasting.usecases._catalog import (
    WEATHER_FORECASTS,
    check_weather_option,
    hourly_series,
    is_built,
    lag,
    region_timezone,
    weather_forecasts,
)

if TYPE_CHECKING:
    from workbench.forecasting.usecases import CatalogReader

WEATHER_COLUMNS = ["temperature_f", "relative_humidity_pct"]


def load_usecase(
    cat: CatalogReader,
    region_id: str,
    *,
    start: Any = None,
    end: Any = None,
    horizon_h: int = 48,
    issue_time: str = "06:00",
    quantiles: tuple[float, ...] = (0.1, 0.5, 0.9),
    source: Literal["gold", "silver"] = "gold",
    weather: bool | str = True,
) -> UseCase:
    """Build the load use case of one region from the catalog.

    Parameters
    ----------
    cat : Catalog
        An open catalog.
    region_id : str
        Region, e.g. ``"NORTH"``.
    start, end : optional
        Window of the history to read (UTC).
    horizon_h : int
        Hours ahead per issue [h].
    issue_time : str
        Local daily issue time used by the backtest.
    source : {"gold", "silver"}
        Where the target comes from: ``gold.fact_load`` (an error when it is not built) or
        ``silver.system_load``, asked for explicitly.
    weather : True or "auto"
        Weather forecasts are required (True: an error when absent) or used when present
        (``"auto"``: their absence is said in the notes).
    """
    required = check_weather_option(weather)
    if source not in ("gold", "silver"):
        raise ForecastError(f"expected source 'gold' or 'silver'; found {source!r}")
    notes: list[str] = []
    if source == "gold":
        source = "gold.fact_load"
        if not is_built(cat, source):
            msg = (
                f"expected {source} built to read the load of {region_id!r}; found it missing. "
                "Build gold (workbench build), or pass source='silver' to use silver.system_load"
            )
            raise ForecastError(msg)
        frame = cat.read(source, start=start, end=end, where={"region": region_id})
        value = "actual_load_mw"
    else:
        source = "silver.system_load"
        frame = cat.read(source, start=start, end=end, where={"region_id": region_id})
        value = "load_mw"
        notes.append(f"target from {source} (source='silver')")
    y = hourly_series(frame, value, f"{source} region {region_id!r}").rename("load_mw")
    future = weather_forecasts(cat, region_id, WEATHER_COLUMNS, start, end, required=required)
    lags = {"y": lag(cat, source)}
    fut: tuple[str, ...] = ()
    if future is not None:
        fut = tuple(WEATHER_COLUMNS)
        lags.update({c: lag(cat, WEATHER_FORECASTS) for c in fut})
    else:
        notes.append(f"no weather forecasts for {region_id!r} (weather='auto'): none used")
    spec = ForecastSpec(
        freq="1h",
        horizon=horizon_h,
        quantiles=quantiles,
        future_covariates=fut,
        availability_lag=lags,
        tz=region_timezone(cat, region_id),
    )
    data = ForecastData(y=y, future=future)
    params = {"holidays_country": "US", "holidays_subdiv": "TX"}
    return UseCase(f"load:{region_id}", data, spec, issue_time, {"lightgbm": params}, notes)
