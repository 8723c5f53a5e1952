"""The medallion as data: each silver and gold table, its sources and its transform.

A step's transform takes the source tables (already cut to the build's window) and returns
either a :class:`~workbench.lake.silver.Cleaned` pair, an Ibis table, or a pandas frame.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from workbench.lake import gold, silver
from workbench.lake.scada import clean_scada

Sources = Mapping[str, Any]


@dataclass(frozen=True)
class Step:
    """How one table of the medallion is built."""

    target: str
    sources: tuple[str, ...]
    transform: Callable[[Sources], Any]
    incremental: bool = True  # rebuild a time window; False: rebuild the whole table
    lookback: timedelta = timedelta(days=1)  # late data re-read behind the watermark
    context: timedelta = timedelta(0)  # extra source history a window needs (lags, windows)
    optional_sources: tuple[str, ...] = ()  # used when they exist (e.g. forecasts)

    @property
    def layer(self) -> str:
        return self.target.split(".")[0]


def _pmu_validated(s: Sources) -> Any:
    from workbench.lake.pmu import validate_pmu_cube

    return validate_pmu_cube(s["bronze.pmu"])


SILVER: tuple[Step, ...] = (
    Step(
        "silver.scada_cleaned",
        ("bronze.raw_scada",),
        lambda s: silver.Cleaned(*_scada(s["bronze.raw_scada"])),
        lookback=timedelta(hours=6),
    ),
    Step(
        "silver.system_load", ("bronze.raw_load",), lambda s: silver.load_5min(s["bronze.raw_load"])
    ),
    Step(
        "silver.system_reserves",
        ("bronze.raw_system_reserves",),
        lambda s: silver.reserves_5min(s["bronze.raw_system_reserves"]),
    ),
    Step(
        "silver.generation",
        ("bronze.raw_generation",),
        lambda s: silver.generation_5min(s["bronze.raw_generation"]),
    ),
    Step(
        "silver.weather_hourly",
        ("bronze.raw_weather",),
        lambda s: silver.weather_hourly(s["bronze.raw_weather"]),
    ),
    Step(
        "silver.weather_forecast_hourly",
        ("bronze.raw_weather_forecast",),
        lambda s: silver.weather_forecast_hourly(s["bronze.raw_weather_forecast"]),
        lookback=timedelta(days=2),
    ),
    Step(
        "silver.market_prices",
        ("bronze.raw_market",),
        lambda s: silver.market_prices(s["bronze.raw_market"]),
    ),
    Step(
        "silver.grid_topology",
        ("bronze.raw_topology",),
        lambda s: silver.grid_topology(s["bronze.raw_topology"]),
        incremental=False,
    ),
    Step("silver.pmu_validated", ("bronze.pmu",), _pmu_validated, incremental=False),
    Step(
        "silver.meter_readings",
        ("bronze.meter_reads",),
        lambda s: silver.meter_readings(s["bronze.meter_reads"]),
        incremental=False,
    ),
)


def _scada(raw: Any) -> tuple[Any, Any]:
    result = clean_scada(raw)
    return result.clean, result.quarantined


_DAY = timedelta(days=1)

GOLD: tuple[Step, ...] = (
    Step(
        "gold.dim_regions",
        ("bronze.raw_regions",),
        lambda s: gold.dim_regions(s["bronze.raw_regions"]),
        incremental=False,
    ),
    Step(
        "gold.dim_assets",
        ("bronze.raw_assets",),
        lambda s: gold.dim_assets(s["bronze.raw_assets"]),
        incremental=False,
    ),
    Step(
        "gold.fact_load",
        ("silver.system_load", "silver.weather_hourly", "gold.dim_regions"),
        lambda s: gold.fact_load(
            s["silver.system_load"],
            s["silver.weather_hourly"],
            s["gold.dim_regions"],
            s.get("gold.load_forecasts"),
        ),
        optional_sources=("gold.load_forecasts",),
    ),
    Step(
        "gold.fact_generation",
        ("silver.generation", "gold.dim_assets"),
        lambda s: gold.fact_generation(s["silver.generation"], s["gold.dim_assets"]),
    ),
    Step(
        "gold.fact_market_prices",
        (
            "silver.market_prices",
            "bronze.raw_ancillary",
            "silver.grid_topology",
            "gold.dim_regions",
        ),
        lambda s: gold.fact_market_prices(
            s["silver.market_prices"],
            s["bronze.raw_ancillary"],
            s["silver.grid_topology"],
            s["gold.dim_regions"],
        ),
    ),
    Step(
        "gold.fact_system_reserves",
        ("silver.system_reserves",),
        lambda s: gold.fact_system_reserves(s["silver.system_reserves"]),
    ),
    Step(
        "gold.generation_mix",
        ("gold.fact_generation", "gold.dim_assets"),
        lambda s: gold.generation_mix(s["gold.fact_generation"], s["gold.dim_assets"]),
    ),
    Step(
        "gold.carbon_emissions",
        ("gold.fact_generation",),
        lambda s: gold.carbon_emissions(s["gold.fact_generation"]),
    ),
    Step(
        "gold.reliability_metrics",
        ("silver.generation", "gold.dim_assets", "silver.pmu_validated"),
        lambda s: gold.reliability_metrics(
            s["silver.generation"], s["gold.dim_assets"], s["silver.pmu_validated"]
        ),
        context=_DAY,
    ),
)

STEPS: tuple[Step, ...] = SILVER + GOLD
