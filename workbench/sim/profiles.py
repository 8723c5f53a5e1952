"""Simulation profiles: how much of each source to generate.

``ci`` runs in seconds for tests, ``demo`` is the lakehouse of ``make demo`` (about two years
of system data), ``large`` is benchmark scale (a day of 1M meters, 1,000 PMUs for an hour),
``realism`` the demo with few SCADA assets and meters: its system data, PMU hour and satellite
week are the demo's (same seed, same figures), what the realism table measures (its slow test).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date


@dataclass(frozen=True)
class Profile:
    """Sizes and rates of one simulation run. All times are UTC; ``start`` is a UTC midnight."""

    name: str
    start: date
    days: int  # days of hourly / 5-min system data (weather, load, generation, market)
    n_regions: int = 5
    scada_days: int = 1  # the last N days of the system period get SCADA telemetry
    scada_interval_s: float = 4.0
    scada_assets: int | None = None  # None: every asset
    pmu_count: int = 12
    pmu_rate_hz: int = 30
    pmu_minutes: int = 10  # duration of the PMU cube, ending at the end of the period
    pmu_events: int = 3  # generator trips, load rejections and oscillations injected
    meter_count: int = 200  # smart meters in all
    meter_days: int = 2  # the last N days get meter reads
    satellite_days: int = 1  # the last N days get a GeoTIFF every 15 minutes
    satellite_size: int = 64  # pixels per side
    forecast_horizon_h: int = 72  # weather forecasts issued daily at 06:00 UTC out to this lead

    def with_(self, **changes: object) -> Profile:
        return replace(self, **changes)


PROFILES: dict[str, Profile] = {
    "ci": Profile(name="ci", start=date(2024, 3, 1), days=21, scada_assets=24),
    "demo": Profile(
        name="demo",
        start=date(2023, 1, 1),
        days=730,
        scada_days=7,
        scada_interval_s=4.0,
        scada_assets=60,
        pmu_count=40,
        pmu_rate_hz=30,
        pmu_minutes=60,
        pmu_events=6,
        meter_count=3000,
        meter_days=30,
        satellite_days=7,
        satellite_size=128,
    ),
    "realism": Profile(
        name="realism",
        start=date(2023, 1, 1),
        days=730,
        scada_days=1,
        scada_assets=4,
        pmu_count=40,
        pmu_rate_hz=30,
        pmu_minutes=60,
        pmu_events=6,
        meter_count=20,
        meter_days=1,
        satellite_days=7,
        satellite_size=128,
    ),
    "large": Profile(
        name="large",
        start=date(2024, 7, 1),
        days=7,
        scada_days=1,
        pmu_count=1000,
        pmu_rate_hz=60,
        pmu_minutes=60,
        pmu_events=8,
        meter_count=1_000_000,
        meter_days=1,
        satellite_days=1,
        satellite_size=256,
    ),
}


def get_profile(name: str) -> Profile:
    from workbench.core.errors import WorkbenchError

    if name not in PROFILES:
        msg = f"expected a profile among {sorted(PROFILES)}; found {name!r}"
        raise WorkbenchError(msg)
    return PROFILES[name]
