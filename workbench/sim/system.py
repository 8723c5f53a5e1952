"""The whole system simulation: grid, weather, load, renewables, dispatch and market.

:func:`simulate_system` composes the pure generators of this package for one
:class:`~workbench.sim.profiles.Profile`. Every source draws from its own child generator,
spawned in a fixed order from ``numpy.random.default_rng(seed)`` (:data:`SOURCES`), so the
same seed gives the same data and re-tuning one source never shifts another's draws.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from workbench.sim.clouds import CloudField, cloud_locations
from workbench.sim.dispatch import DispatchResult, dispatch
from workbench.sim.events import EVENT_COLUMNS, events_frame
from workbench.sim.market import price_market
from workbench.sim.profiles import Profile
from workbench.sim.renewables import solar_output, wind_output

#: Child generators, in spawn order. Append new sources at the end: never reorder.
SOURCES: tuple[str, ...] = (
    "grid",
    "weather",
    "weather_forecast",
    "load",
    "solar",
    "wind",
    "dispatch",
    "market",
    "clouds",
)


@dataclass
class SystemData:
    """Every frame of one system simulation, in the bronze column layouts.

    Attributes
    ----------
    grid : workbench.sim.regions.Grid
        Regions, assets and topology (``bronze.raw_regions``, ``raw_assets`` plus engineering
        columns, ``raw_topology``).
    weather, weather_forecast : bronze.raw_weather, bronze.raw_weather_forecast (hourly).
    load : bronze.raw_load (5-minute).
    generation : bronze.raw_generation (5-minute, every asset).
    interchange : bronze.raw_interchange (5-minute, every interface).
    market : bronze.raw_market (RT 5-minute, DA hourly, every node).
    ancillary : bronze.raw_ancillary (hourly).
    fuel_prices : bronze.raw_fuel_prices (daily hub gas price, date and price_usd_per_mmbtu).
    reserves : bronze.raw_system_reserves (5-minute, system-wide: demand_mw, reserve_mw,
        responsive_reserve_mw), from the dispatch's system totals.
    events : ops.sim_events (load events and forced outages).
    extras : DispatchResult
        Losses, marginal units, binding interfaces and system totals per interval.
    clouds : workbench.sim.clouds.CloudField
        The advecting cloud field on the 5-minute steps: it set the solar plants' clear-sky
        index, and the satellite frames are rendered from it.
    """

    grid: object
    weather: pd.DataFrame
    weather_forecast: pd.DataFrame
    load: pd.DataFrame
    generation: pd.DataFrame
    interchange: pd.DataFrame
    market: pd.DataFrame
    ancillary: pd.DataFrame
    fuel_prices: pd.DataFrame
    events: pd.DataFrame
    extras: DispatchResult
    clouds: CloudField | None = None
    reserves: pd.DataFrame | None = None


def _fuel_prices(system: pd.DataFrame) -> pd.DataFrame:
    """Daily hub gas prices of the dispatch's gas price index (one value per UTC day)."""
    from workbench.sim.fleet import fuel_prices

    index = pd.DatetimeIndex(system.index)
    daily = system["gas_price_index"].groupby(index.floor("D")).first()
    return fuel_prices(pd.DatetimeIndex(daily.index)[0], daily.to_numpy())


def _reserves(system: pd.DataFrame) -> pd.DataFrame:
    """``bronze.raw_system_reserves`` rows from the dispatch's system totals (no new draws).

    ``demand_mw`` is load plus losses [MW]; ``reserve_mw`` the available capacity minus demand
    that the market's ORDC prices [MW]; ``responsive_reserve_mw`` the headroom of what is
    online [MW] (see :class:`~workbench.sim.dispatch.DispatchResult`).
    """
    return pd.DataFrame(
        {
            "timestamp": pd.DatetimeIndex(system.index),
            "demand_mw": (system["load_mw"] + system["losses_mw"]).to_numpy(),
            "reserve_mw": system["reserve_mw"].to_numpy(),
            "responsive_reserve_mw": system["responsive_reserve_mw"].to_numpy(),
        }
    )


def time_indexes(profile: Profile) -> tuple[pd.DatetimeIndex, pd.DatetimeIndex]:
    """Hourly and 5-minute UTC interval starts of the profile's system period."""
    start = pd.Timestamp(profile.start, tz="UTC")
    hourly = pd.date_range(start, periods=profile.days * 24, freq="h", name="timestamp")
    five = pd.date_range(start, periods=profile.days * 288, freq="5min", name="timestamp")
    return hourly, five


def simulate_system(profile: Profile, seed: int) -> SystemData:
    """Simulate the grid of ``profile`` for ``profile.days`` days.

    Parameters
    ----------
    profile : Profile
        Sizes: ``n_regions``, ``start`` (UTC midnight), ``days``, ``forecast_horizon_h``.
    seed : int
        Seed of ``numpy.random.default_rng``; one child generator per entry of :data:`SOURCES`.

    Returns
    -------
    SystemData
    """
    from workbench.sim.load import simulate_load
    from workbench.sim.regions import make_grid
    from workbench.sim.weather import forecast_weather, simulate_weather

    rngs = dict(zip(SOURCES, np.random.default_rng(seed).spawn(len(SOURCES)), strict=True))
    grid = make_grid(profile.n_regions, rngs["grid"])
    hourly, five = time_indexes(profile)
    weather = simulate_weather(grid, hourly, rngs["weather"])
    forecast = forecast_weather(
        weather, rngs["weather_forecast"], horizon_h=profile.forecast_horizon_h
    )
    load, load_events = simulate_load(grid, weather, five, rngs["load"])
    clouds = CloudField(cloud_locations(grid.regions, grid.assets), weather, five, rngs["clouds"])
    solar = solar_output(grid.assets, weather, five, rngs["solar"], clouds=clouds)
    wind = wind_output(grid.assets, weather, five, rngs["wind"])
    result = dispatch(grid, load, solar, wind, rngs["dispatch"], weather=weather)
    market, ancillary = price_market(grid, result, load, rngs["market"])
    parts = [e for e in (load_events, result.events) if e is not None and len(e)]
    events = pd.concat(parts, ignore_index=True) if parts else events_frame([])
    return SystemData(
        grid=grid,
        weather=weather,
        weather_forecast=forecast,
        load=load,
        generation=result.generation,
        interchange=result.interchange,
        market=market,
        ancillary=ancillary,
        fuel_prices=_fuel_prices(result.system),
        events=events[list(EVENT_COLUMNS)],
        extras=result,
        clouds=clouds,
        reserves=_reserves(result.system),
    )
