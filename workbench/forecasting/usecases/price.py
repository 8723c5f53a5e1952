"""Day-ahead and real-time LMP per node from gold.fact_market_prices.

* ``market="DA"``: issued at 10:00 local for the next local day (lead = hours to midnight,
  24 steps), like a day-ahead bid.
* ``market="RT"``: issued daily at ``issue_time`` for the next ``horizon_h`` hours.

Covariates, each with the availability rule it has in a real market:

* weather forecasts of the node's region (``BUS_COAST`` -> ``COAST``; temperature drives load,
  wind and sun the renewable supply), versioned: as issued before each issue time;
* for RT only, the node's day-ahead price of the same hour, versioned: the DA prices of local
  day ``D`` are published at :data:`DA_PUBLISH_TIME` local on ``D - 1`` (ERCOT posts its DAM
  results in the early afternoon), plus the table's availability lag. At a 00:00 RT issue today's
  DA prices are known, tomorrow's are not: the model sees exactly that.

Prices are known ``availability_lag`` after each hour. Missing tables are skipped and the use case
says so in ``notes``. The region's past load was tried as a past covariate and measured no better
on the demo (DA MAE 3.74 vs 3.72 at BUS_HOUSTON), so it is not used.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pandas as pd

from workbench.forecasting.backtest import parse_time_of_day
from workbench.forecasting.base import ForecastData, ForecastError, ForecastSpec
from workbench.forecasting.usecases import UseCase
from workbench.forecasting.usecases._catalog import (
    WEATHER_FORECASTS,
    check_weather_option,
    hourly_series,
    lag,
    region_timezone,
    weather_forecasts,
)

if TYPE_CHECKING:
    from workbench.forecasting.usecases import CatalogReader

SOURCE = "gold.fact_market_prices"
#: Local time of day at which the day-ahead prices of the next local day are published.
DA_PUBLISH_TIME = "13:00"
WEATHER_COLUMNS = ["temperature_f", "wind_speed_100m_m_per_s", "ghi_w_per_m2"]


def node_region(node_id: str) -> str:
    """The region a node belongs to by name (``BUS_COAST`` -> ``COAST``)."""
    return node_id.split("_", 1)[1] if "_" in node_id else node_id


def price_usecase(
    cat: CatalogReader,
    node_id: str,
    market: str = "DA",
    *,
    start: Any = None,
    end: Any = None,
    horizon_h: int = 24,
    issue_time: str | None = None,
    quantiles: tuple[float, ...] = (0.1, 0.5, 0.9),
    weather: bool | str = True,
) -> UseCase:
    """Build the price use case of one node and market (``"DA"`` or ``"RT"``).

    ``weather``: True (weather forecasts of the node's region required: an error when absent)
    or ``"auto"`` (used when present, their absence said in the notes).
    """
    required = check_weather_option(weather)
    if market not in ("DA", "RT"):
        raise ForecastError(f"expected market 'DA' or 'RT'; found {market!r}")
    where = {"node": node_id, "market_type": market}
    frame = cat.read(SOURCE, start=start, end=end, where=where)
    y = hourly_series(frame, "lmp_price", f"{SOURCE} node {node_id!r} {market}")
    y = y.rename("price_usd_per_mwh")
    region = node_region(node_id)
    tz = region_timezone(cat, region)
    notes: list[str] = []
    future = weather_forecasts(cat, region, WEATHER_COLUMNS, start, end, required=required)
    lags = {"y": lag(cat, SOURCE)}
    fut: tuple[str, ...] = ()
    if future is not None:
        fut = tuple(WEATHER_COLUMNS)
        lags.update({c: lag(cat, WEATHER_FORECASTS) for c in fut})
    else:
        notes.append(f"no weather forecasts for {region!r} (weather='auto'): none used")
    if market == "RT":
        da = cat.read(SOURCE, start=start, end=end, where={"node": node_id, "market_type": "DA"})
        if len(da):
            da_prices = hourly_series(da, "lmp_price", f"{SOURCE} node {node_id!r} DA")
            published = day_ahead_versions(da_prices.rename("da_price_usd_per_mwh"), tz)
            future = published if future is None else _stack(future, published)
            fut = (*fut, "da_price_usd_per_mwh")
            lags["da_price_usd_per_mwh"] = lag(cat, SOURCE)
        else:
            notes.append("no day-ahead prices for the node: RT forecast without them")
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
    params = {"lightgbm": {"holidays_country": "US", "holidays_subdiv": "TX"}}
    return UseCase(f"price:{node_id}:{market}", data, spec, issue_time, params, notes)


def day_ahead_versions(da: pd.Series, tz: str) -> pd.DataFrame:
    """DA prices as versioned forecasts: ``(publication time, hour)`` -> price.

    The prices of local day ``D`` are published at :data:`DA_PUBLISH_TIME` local on ``D - 1``.
    """
    local_day = da.index.tz_convert(tz).normalize().tz_localize(None)
    offset = parse_time_of_day(DA_PUBLISH_TIME)
    published = (local_day - pd.Timedelta("1D") + offset).tz_localize(
        tz, nonexistent="shift_forward", ambiguous=True
    )
    index = pd.MultiIndex.from_arrays(
        [published.tz_convert("UTC").as_unit("ns"), da.index.as_unit("ns")],
        names=["issue_time", "target_time"],
    )
    return pd.DataFrame({str(da.name): da.to_numpy(dtype=float)}, index=index).dropna()


def _stack(a: pd.DataFrame, b: pd.DataFrame) -> pd.DataFrame:
    """Two versioned frames in one (rows of one have NaN in the other's columns)."""
    return pd.concat([a, b]).sort_index()
