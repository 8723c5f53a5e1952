"""Day-ahead and real-time LMP per node from gold.fact_market_prices.

* ``market="DA"``: issued at 10:00 local for the next local day (lead = hours to midnight,
  24 steps), like a day-ahead bid.
* ``market="RT"``: issued daily at ``issue_time`` for the next ``horizon_h`` hours.

Weather forecasts of the node's region (``BUS_COAST`` -> ``COAST``) are future covariates when the
region exists; prices are known ``availability_lag`` after each hour.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from workbench.forecasting.backtest import parse_time_of_day
from workbench.forecasting.base import ForecastData, ForecastError, ForecastSpec
from workbench.forecasting.usecases import UseCase
from workbench.forecasting.usecases._catalog import (
    WEATHER_FORECASTS,
    hourly_series,
    lag,
    region_timezone,
    weather_forecasts,
)

SOURCE = "gold.fact_market_prices"
WEATHER_COLUMNS = ["temperature_f", "wind_speed_100m_m_per_s", "ghi_w_per_m2"]


def node_region(node_id: str) -> str:
    """The region a node belongs to by name (``BUS_COAST`` -> ``COAST``)."""
    return node_id.split("_", 1)[1] if "_" in node_id else node_id


def price_usecase(
    cat: Any,
    node_id: str,
    market: str = "DA",
    *,
    start: Any = None,
    end: Any = None,
    horizon_h: int = 24,
    issue_time: str | None = None,
    quantiles: tuple[float, ...] = (0.1, 0.5, 0.9),
) -> UseCase:
    """Build the price use case of one node and market (``"DA"`` or ``"RT"``)."""
    if market not in ("DA", "RT"):
        raise ForecastError(f"expected market 'DA' or 'RT'; found {market!r}")
    frame = cat.read(SOURCE, start=start, end=end, where={"node_id": node_id, "market": market})
    y = hourly_series(frame, "lmp_price", f"{SOURCE} node {node_id!r} {market}")
    y = y.rename("price_usd_per_mwh")
    region = node_region(node_id)
    tz = region_timezone(cat, region)
    future = weather_forecasts(cat, region, WEATHER_COLUMNS, start, end)
    lags = {"y": lag(cat, SOURCE)}
    fut: tuple[str, ...] = ()
    if future is not None:
        fut = tuple(WEATHER_COLUMNS)
        lags.update({c: lag(cat, WEATHER_FORECASTS) for c in fut})
    lead = 0
    if market == "DA":
        issue_time = issue_time or "10:00"
        offset = parse_time_of_day(issue_time)
        lead = int((pd.Timedelta("1D") - offset) / pd.Timedelta("1h"))
    issue_time = issue_time or "00:00"
    spec = ForecastSpec(
        freq="1h",
        horizon=horizon_h,
        lead=lead,
        quantiles=quantiles,
        future_covariates=fut,
        availability_lag=lags,
        tz=tz,
    )
    data = ForecastData(y=y, future=future)
    return UseCase(f"price:{node_id}:{market}", data, spec, issue_time, {})
