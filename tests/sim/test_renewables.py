"""Wind and solar plant output: power curve, plant smoothing, PV physics, night, clipping, ramps."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from workbench.core.errors import WorkbenchError
from workbench.sim.renewables import (
    plant_power_curve,
    solar_output,
    turbine_power_curve,
    wind_output,
)

PLANTS = pd.DataFrame([
    {"asset_id": "SOLAR_WEST_01", "technology": "solar", "region_id": "WEST",
     "capacity_mw": 200.0, "latitude": 31.4, "longitude": -103.0, "tracking": "single_axis",
     "tilt_deg": 0.0, "azimuth_deg": 180.0, "dc_ac_ratio": 1.3},
    {"asset_id": "SOLAR_WEST_02", "technology": "solar", "region_id": "WEST",
     "capacity_mw": 100.0, "latitude": 31.4, "longitude": -103.0, "tracking": "fixed",
     "tilt_deg": 25.0, "azimuth_deg": 180.0, "dc_ac_ratio": 1.3},
    {"asset_id": "WIND_WEST_01", "technology": "wind", "region_id": "WEST", "capacity_mw": 300.0,
     "latitude": 31.8, "longitude": -102.0, "hub_height_m": 100.0, "cut_in_m_per_s": 3.0,
     "rated_m_per_s": 12.0, "cut_out_m_per_s": 25.0},
    {"asset_id": "GAS_CC_WEST_01", "technology": "gas_cc", "region_id": "WEST",
     "capacity_mw": 500.0, "latitude": 31.8, "longitude": -102.0},
])  # fmt: skip


def _index(start: str, days: int) -> tuple[pd.DatetimeIndex, pd.DatetimeIndex]:
    hours = pd.date_range(start, periods=days * 24, freq="h", tz="UTC")
    return hours, pd.date_range(start, periods=days * 288, freq="5min", tz="UTC")


def _weather(hours, ids, cloud_pct, wind, ghi_scale=1.0, temp_f=75.0) -> pd.DataFrame:
    """Hourly weather at each id; GHI = clear sky (Haurwitz, hour mean) x cloud factor."""
    from pvlib.location import Location

    frames = []
    for loc in ids:
        minutes = pd.date_range(hours[0], periods=len(hours) * 12, freq="5min")
        clear = Location(31.4, -103.0).get_clearsky(minutes + pd.Timedelta("150s"), "haurwitz")
        ghi = clear["ghi"].to_numpy().reshape(len(hours), 12).mean(1)
        cloud = np.broadcast_to(cloud_pct, len(hours))
        frames.append(pd.DataFrame({
            "timestamp": hours, "location_id": loc, "temperature_f": temp_f,
            "relative_humidity_pct": 40.0, "wind_speed_100m_m_per_s": wind,
            "cloud_cover_pct": cloud,
            "ghi_w_per_m2": ghi * ghi_scale * (1 - 0.75 * (cloud / 100) ** 3.4),
            "dni_w_per_m2": np.nan, "dhi_w_per_m2": np.nan,
        }))  # fmt: skip
    return pd.concat(frames, ignore_index=True)


def test_turbine_curve_shape() -> None:
    v = np.array([0.0, 2.9, 3.0, 5.0, 8.0, 11.9, 12.0, 20.0, 24.9, 25.0, 30.0])
    p = turbine_power_curve(v, 3.0, 12.0, 25.0)
    assert p[0] == p[1] == p[2] == 0.0  # below and at cut-in
    assert (np.diff(p[2:7]) > 0).all()  # rising between cut-in and rated
    assert p[6] == p[7] == p[8] == 1.0  # flat at rated
    assert p[9] == p[10] == 0.0  # storm shutdown at cut-out
    assert p[3] == pytest.approx((125 - 27) / (1728 - 27))  # cubic
    # the plant curve is the turbine curve smoothed: lower near rated, higher near cut-in
    smooth = plant_power_curve(np.array([3.2, 8.0, 12.0, 18.0]), 3.0, 12.0, 25.0)
    turbine = turbine_power_curve(np.array([3.2, 8.0, 12.0, 18.0]), 3.0, 12.0, 25.0)
    assert smooth[0] > turbine[0]
    assert smooth[2] < turbine[2]
    assert abs(smooth[1] - turbine[1]) < 0.03
    assert smooth[3] == pytest.approx(1.0, abs=1e-3)


def test_wind_follows_the_power_curve() -> None:
    hours, index = _index("2024-04-01", 10)
    speed = np.clip(7.0 + 6.0 * np.sin(np.arange(len(hours)) / 9.0), 0.5, None)
    weather = _weather(hours, ["WIND_WEST_01", "WEST"], 30.0, speed)
    out = wind_output(PLANTS, weather, index, np.random.default_rng(1))
    assert list(out.columns) == ["WIND_WEST_01"]
    assert out.index.equals(index)
    assert str(out.index.tz) == "UTC"
    mw = out["WIND_WEST_01"]
    assert (mw >= 0).all()
    assert (mw <= 300.0).all()
    hourly = mw.groupby(mw.index.floor("h")).mean().to_numpy() / 300.0
    expected = plant_power_curve(speed, 3.0, 12.0, 25.0)
    # availability and electrical losses keep output 3-15 % under the curve; turbulence blurs
    assert np.median(hourly - 0.93 * expected) == pytest.approx(0.0, abs=0.03)
    assert np.abs(hourly - 0.93 * expected).max() < 0.15
    assert hourly[speed < 2.5].max() < 0.01
    assert np.corrcoef(hourly, expected)[0, 1] > 0.97


def test_wind_storm_shutdown_and_capacity_factor() -> None:
    hours, index = _index("2024-04-01", 3)
    weather = _weather(hours, ["WIND_WEST_01"], 30.0, 33.0)
    mw = wind_output(PLANTS, weather, index, np.random.default_rng(2))["WIND_WEST_01"]
    assert mw.max() < 0.05 * 300.0  # far above cut-out: (almost) every turbine is stopped
    # Weibull winds (k=2, mean 8 m/s): capacity factor 30-45 %
    hours, index = _index("2024-01-01", 60)
    rng = np.random.default_rng(3)
    speed = 8.0 / 0.886 * np.sqrt(-np.log(rng.uniform(size=len(hours))))
    speed = pd.Series(speed).rolling(6, min_periods=1).mean().to_numpy() * 1.08
    weather = _weather(hours, ["WIND_WEST_01"], 30.0, speed)
    mw = wind_output(PLANTS, weather, index, rng)["WIND_WEST_01"]
    assert 0.30 <= mw.mean() / 300.0 <= 0.45


def test_solar_physics_night_clipping_tracking() -> None:
    hours, index = _index("2024-06-10", 4)
    weather = _weather(hours, ["SOLAR_WEST_01", "SOLAR_WEST_02"], 0.0, 5.0)
    out = solar_output(PLANTS, weather, index, np.random.default_rng(4))
    assert list(out.columns) == ["SOLAR_WEST_01", "SOLAR_WEST_02"]
    cap = pd.Series({"SOLAR_WEST_01": 200.0, "SOLAR_WEST_02": 100.0})
    assert (out >= 0).all().all()
    assert (out <= cap).all().all()
    from pvlib.solarposition import get_solarposition

    sun = get_solarposition(index + pd.Timedelta("150s"), 31.4, -103.0)
    night = (sun["elevation"] < -1.0).to_numpy()
    assert night.mean() > 0.3
    assert (out.to_numpy()[night] == 0.0).all()  # exactly zero at night
    day = (sun["elevation"] > 10).to_numpy()
    assert (out.to_numpy()[day] > 0).all()
    tracked = out["SOLAR_WEST_01"] / 200.0
    fixed = out["SOLAR_WEST_02"] / 100.0
    assert tracked.max() > 0.95  # DC/AC 1.3 on a clear June day: inverter clipping
    assert (tracked > 0.9).sum() > 12 * 4 * 4  # a flat top of hours, not a peak
    assert tracked.sum() > 1.15 * fixed.sum()  # tracking gains on clear summer days
    # a clear day is a smooth bell: no 5-minute ramps over 10 % of capacity
    assert tracked.diff().abs().max() < 0.10
    # peaks at solar noon (about 18:50 UTC at 103 W)
    daily_peak = fixed.groupby(fixed.index.date).idxmax()
    assert all(17.5 < t.hour + t.minute / 60 < 20.0 for t in daily_peak)


def test_broken_cloud_gives_fast_ramps_and_keeps_the_hourly_energy() -> None:
    hours, index = _index("2024-06-10", 6)
    clear = _weather(hours, ["WEST"], 0.0, 5.0)  # the plant falls back to its region
    broken = _weather(hours, ["WEST"], 50.0, 5.0)
    plants = PLANTS.iloc[[0]]
    a = solar_output(plants, clear, index, np.random.default_rng(5))["SOLAR_WEST_01"] / 200.0
    b = solar_output(plants, broken, index, np.random.default_rng(5))["SOLAR_WEST_01"] / 200.0
    assert b.diff().abs().quantile(0.99) > 0.15  # ramps of tens of % within 5 minutes
    assert a.diff().abs().quantile(0.99) < 0.08  # clear sky: only sunrise and sunset
    # half the sky cloudy: the cloud field removes a fifth to a third of the energy
    assert 0.6 < b.sum() / a.sum() < 0.9
    # no extra haze in the weather frame: the clear day is the clear sky
    hazy = _weather(hours, ["WEST"], 0.0, 5.0, ghi_scale=0.8)
    c = solar_output(plants, hazy, index, np.random.default_rng(5))["SOLAR_WEST_01"] / 200.0
    assert 0.75 < c.sum() / a.sum() < 0.9  # haze (GHI below Ineichen x cloud) dims the plant


def test_solar_capacity_factor_over_a_year_is_realistic() -> None:
    hours, index = _index("2023-01-01", 364)
    rng = np.random.default_rng(6)
    cloud = np.clip(pd.Series(rng.normal(40, 30, len(hours))).rolling(12, min_periods=1).mean(),
                    0, 100).to_numpy()  # fmt: skip
    weather = _weather(hours, ["SOLAR_WEST_01"], cloud, 5.0)
    weather["ghi_w_per_m2"] *= 0.85  # aerosols and humidity under the Haurwitz clear sky
    mw = solar_output(PLANTS.iloc[[0]], weather, index, rng)["SOLAR_WEST_01"]
    cf = mw / 200.0
    assert 0.22 <= cf.mean() <= 0.32  # annual AC capacity factor about 25 %
    monthly = cf.groupby(cf.index.month).mean()
    assert monthly[6] > 1.3 * monthly[12]  # summer above winter


def test_same_seed_same_output_and_missing_weather_is_an_error() -> None:
    hours, index = _index("2024-06-10", 2)
    weather = _weather(hours, ["SOLAR_WEST_01", "SOLAR_WEST_02", "WIND_WEST_01"], 40.0, 9.0)
    a = solar_output(PLANTS, weather, index, np.random.default_rng(9))
    b = solar_output(PLANTS, weather, index, np.random.default_rng(9))
    pd.testing.assert_frame_equal(a, b)
    c = wind_output(PLANTS, weather, index, np.random.default_rng(9))
    d = wind_output(PLANTS, weather, index, np.random.default_rng(9))
    pd.testing.assert_frame_equal(c, d)
    with pytest.raises(WorkbenchError, match="WIND_WEST_01"):
        wind_output(PLANTS, weather[weather["location_id"] != "WIND_WEST_01"], index,
                    np.random.default_rng(9))  # fmt: skip
