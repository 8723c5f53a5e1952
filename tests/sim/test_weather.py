"""Simulated weather and forecasts: the physics a meteorologist would check first."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from workbench.catalog import load_catalog_spec
from workbench.core.errors import WorkbenchError
from workbench.sim.regions import Grid, make_grid
from workbench.sim.weather import (
    FORECAST_COLUMNS,
    WEATHER_COLUMNS,
    clear_sky,
    forecast_weather,
    simulate_weather,
    weather_locations,
)

CATALOG = Path(__file__).resolve().parents[2] / "data_catalog.yaml"
DAYS = 240  # January to August 2023


@pytest.fixture(scope="module")
def grid() -> Grid:
    return make_grid(5, np.random.default_rng(7))


@pytest.fixture(scope="module")
def index() -> pd.DatetimeIndex:
    return pd.date_range("2023-01-01", periods=DAYS * 24, freq="h", tz="UTC")


@pytest.fixture(scope="module")
def weather(grid: Grid, index: pd.DatetimeIndex) -> pd.DataFrame:
    return simulate_weather(grid, index, np.random.default_rng(11))


@pytest.fixture(scope="module")
def forecast(weather: pd.DataFrame) -> pd.DataFrame:
    return forecast_weather(weather, np.random.default_rng(12))


def _wide(weather: pd.DataFrame, column: str) -> pd.DataFrame:
    return weather.pivot(index="timestamp", columns="location_id", values=column)


def _columns(name: str) -> list[str]:
    spec = load_catalog_spec(CATALOG, env={"WORKBENCH_HOME": "/tmp"})
    return list(spec.dataset(name).columns)


def test_schema_and_coverage(grid: Grid, index: pd.DatetimeIndex, weather: pd.DataFrame) -> None:
    assert list(weather.columns) == WEATHER_COLUMNS == _columns("bronze.raw_weather")
    sites = grid.assets.loc[grid.assets["technology"].isin(["solar", "wind"]), "asset_id"]
    assert set(weather["location_id"]) == set(grid.regions["region_id"]) | set(sites)
    assert (weather.groupby("location_id").size() == len(index)).all()
    assert str(weather["timestamp"].dt.tz) == "UTC"
    assert not weather.isna().to_numpy().any()
    assert weather["relative_humidity_pct"].between(0, 100).all()
    assert weather["cloud_cover_pct"].between(0, 100).all()
    assert (weather["wind_speed_100m_m_per_s"] >= 0).all()


def test_irradiance_zero_at_night_and_within_clear_sky(
    grid: Grid, index: pd.DatetimeIndex, weather: pd.DataFrame
) -> None:
    import pvlib

    locs = weather_locations(grid)
    cs = clear_sky(locs, index)
    ghi, dni, dhi = (_wide(weather, c)[locs["location_id"]].to_numpy()
                     for c in ("ghi_w_per_m2", "dni_w_per_m2", "dhi_w_per_m2"))  # fmt: skip
    assert (ghi <= cs["ghi"] + 1e-9).all()
    assert (dni <= cs["dni"] + 1e-9).all()
    cosz = np.cos(np.radians(np.clip(cs["zenith"], 0, 90)))
    assert np.abs(ghi - (dni * cosz + dhi)).max() < 1.0  # the components close
    # night, judged by pvlib's own solar position algorithm (SPA) for a few locations
    mid = index + pd.Timedelta("30min")
    for j in (0, 3, len(locs) - 1):
        row = locs.iloc[j]
        solpos = pvlib.solarposition.get_solarposition(mid, row.latitude, row.longitude)
        night = (solpos["apparent_elevation"] < -1.0).to_numpy()
        assert night.mean() > 0.4
        assert (ghi[night, j] == 0).all()
        assert (dni[night, j] == 0).all()
        assert (dhi[night, j] == 0).all()
        high_sun = (solpos["apparent_elevation"] > 30).to_numpy()
        assert (ghi[high_sun, j] > 0.2 * cs["ghi"][high_sun, j]).all()
    clear_noon = (cs["ghi"] > 600) & (_wide(weather, "cloud_cover_pct")[locs["location_id"]] < 10)
    assert (ghi[clear_noon.to_numpy()] > 0.8 * cs["ghi"][clear_noon.to_numpy()]).all()


def test_temperature_cycles_and_humidity(weather: pd.DataFrame) -> None:
    temp = _wide(weather, "temperature_f")["NORTH"]
    local = temp.tz_convert("America/Chicago")
    daily = local.groupby(local.index.date)
    span = daily.max() - daily.min()
    assert 15 <= span.mean() <= 25
    hottest = daily.idxmax().map(lambda t: t.hour)
    assert 13 <= hottest.mode().iloc[0] <= 18  # afternoon
    coldest = daily.idxmin().map(lambda t: t.hour)
    assert 4 <= coldest.mode().iloc[0] <= 8  # around sunrise
    monthly = temp.groupby(temp.index.month).mean()
    winter, summer = monthly[[1, 2]].mean(), monthly[[7, 8]].mean()
    assert summer - winter > 25  # Dallas: about 38 degF
    assert 40 <= winter <= 56
    assert 80 <= summer <= 92
    # humidity anti-correlated with temperature within the day
    rh = _wide(weather, "relative_humidity_pct")["NORTH"]
    t_dev = temp - temp.groupby(temp.index.date).transform("mean")
    rh_dev = rh - rh.groupby(rh.index.date).transform("mean")
    assert np.corrcoef(t_dev, rh_dev)[0, 1] < -0.6
    # humid coast, dry west
    mean_rh = weather.groupby("location_id")["relative_humidity_pct"].mean()
    assert mean_rh["HOUSTON"] > mean_rh["WEST"] + 15


def test_weather_systems_are_multi_day_and_spatially_correlated(weather: pd.DataFrame) -> None:
    temp = _wide(weather, "temperature_f")
    daily = temp.resample("D").mean()[["NORTH", "HOUSTON", "SOUTH", "WEST", "COAST"]]
    anomaly = (daily - daily.rolling(31, center=True, min_periods=10).mean()).dropna()
    assert 3.0 <= anomaly["NORTH"].std() <= 10.0
    assert anomaly.abs().max().max() >= 10.0  # fronts, cold snaps, heat waves
    assert anomaly["NORTH"].autocorr(1) > 0.6  # lasting days, not hours
    assert anomaly.corr().loc["NORTH", "SOUTH"] > 0.5
    # a wind farm follows its region's weather, with local differences
    site = next(c for c in temp.columns if c.startswith("WIND_WEST"))
    corr = np.corrcoef(temp[site], temp["WEST"])[0, 1]
    assert 0.9 < corr < 0.9999


def test_hub_height_wind_is_weibull_with_a_low_level_jet(weather: pd.DataFrame) -> None:
    wind = _wide(weather, "wind_speed_100m_m_per_s")
    sites = [c for c in wind.columns if c.startswith("WIND_")]
    for loc in ["WEST", *sites[:3]]:
        v = wind[loc].to_numpy()
        k, _, _ = stats.weibull_min.fit(v[v > 0], floc=0)
        assert 7.0 <= v.mean() <= 10.0, loc
        assert 1.6 <= k <= 2.6, loc
        assert np.corrcoef(v[:-1], v[1:])[0, 1] > 0.85  # hours-long persistence
        assert np.corrcoef(v[:-48], v[48:])[0, 1] < 0.6
    west = wind["WEST"]
    solar_hour = (west.index.hour + 0.5 - 103.5 / 15.0) % 24
    night = west[(solar_hour >= 0) & (solar_hour < 6)].mean()
    midday = west[(solar_hour >= 11) & (solar_hour < 17)].mean()
    assert night > 1.1 * midday  # nocturnal low-level jet
    by_month = wind[sites].mean(axis=1).groupby(wind.index.month).mean()
    assert by_month[[3, 4]].mean() > 1.1 * by_month[8]  # spring high, late-summer low


def test_same_seed_same_weather(grid: Grid) -> None:
    short = pd.date_range("2024-06-01", periods=72, freq="h", tz="UTC")
    a = simulate_weather(grid, short, np.random.default_rng(5))
    b = simulate_weather(grid, short, np.random.default_rng(5))
    c = simulate_weather(grid, short, np.random.default_rng(6))
    pd.testing.assert_frame_equal(a, b)
    assert not a["temperature_f"].equals(c["temperature_f"])
    with pytest.raises(WorkbenchError, match="UTC"):
        simulate_weather(grid, short.tz_localize(None), np.random.default_rng(5))
    with pytest.raises(WorkbenchError, match="step"):
        simulate_weather(grid, short[::2], np.random.default_rng(5))


def _joined(forecast: pd.DataFrame, weather: pd.DataFrame) -> pd.DataFrame:
    m = forecast.merge(weather, on=["timestamp", "location_id"], suffixes=("_fc", ""))
    m["lead_h"] = (m["timestamp"] - m["issue_time"]) / pd.Timedelta("1h")
    m["day"] = ((m["lead_h"] - 1) // 24).astype(int)
    return m


def test_forecast_schema_issues_and_bounds(
    grid: Grid, index: pd.DatetimeIndex, weather: pd.DataFrame, forecast: pd.DataFrame
) -> None:
    assert list(forecast.columns) == FORECAST_COLUMNS == _columns("bronze.raw_weather_forecast")
    assert (forecast["issue_time"].dt.hour == 6).all()
    assert forecast["issue_time"].nunique() == DAYS
    lead = (forecast["timestamp"] - forecast["issue_time"]) / pd.Timedelta("1h")
    assert lead.min() == 1
    assert lead.max() == 72
    assert not forecast.duplicated(["location_id", "issue_time", "timestamp"]).any()
    assert forecast["cloud_cover_pct"].between(0, 100).all()
    assert forecast["relative_humidity_pct"].between(0, 100).all()
    assert (forecast["wind_speed_100m_m_per_s"] >= 0).all()
    # GHI is zero at night and never above clear sky
    locs = weather_locations(grid)
    cs = pd.DataFrame(clear_sky(locs, index)["ghi"], index=index, columns=locs["location_id"])
    bound = cs.stack().rename("clear").reset_index()
    bound.columns = ["timestamp", "location_id", "clear"]
    m = forecast.merge(bound, on=["timestamp", "location_id"])
    assert (m["ghi_w_per_m2"] <= m["clear"] + 1e-6).all()
    assert (m.loc[m["clear"] == 0, "ghi_w_per_m2"] == 0).all()
    assert (m.loc[m["clear"] > 300, "ghi_w_per_m2"] > 0).all()


def test_forecast_error_grows_with_lead_time(weather: pd.DataFrame, forecast: pd.DataFrame) -> None:
    m = _joined(forecast, weather)
    m["temp_err"] = m["temperature_f_fc"] - m["temperature_f"]
    m["wind_err"] = m["wind_speed_100m_m_per_s_fc"] - m["wind_speed_100m_m_per_s"]
    mae = m.groupby("day")["temp_err"].apply(lambda e: e.abs().mean())
    assert mae[0] < mae[1] < mae[2]
    assert 2.0 <= mae[1] <= 3.2  # day ahead
    assert 0.4 <= mae[2] - mae[1] <= 1.2  # per further day
    rmse = m.groupby("day")["wind_err"].apply(lambda e: np.sqrt((e**2).mean()))
    assert rmse[0] < rmse[1] < rmse[2]
    assert 1.5 <= rmse[1] <= 2.6
    cloud_mae = m.groupby("day").apply(
        lambda g: (g["cloud_cover_pct_fc"] - g["cloud_cover_pct"]).abs().mean()
    )
    assert cloud_mae.is_monotonic_increasing
    # errors are autocorrelated along the lead time
    one = m.loc[m["location_id"] == "NORTH"].pivot(index="issue_time", columns="lead_h",
                                                     values="temp_err")  # fmt: skip
    assert one[30.0].corr(one[31.0]) > 0.8
    assert one[30.0].corr(one[70.0]) < one[30.0].corr(one[31.0])


def test_forecast_is_deterministic_and_rejects_gaps(weather: pd.DataFrame) -> None:
    week = weather.loc[weather["timestamp"] < pd.Timestamp("2023-01-08", tz="UTC")]
    a = forecast_weather(week, np.random.default_rng(1), horizon_h=48)
    b = forecast_weather(week, np.random.default_rng(1), horizon_h=48)
    pd.testing.assert_frame_equal(a, b)
    lead = (a["timestamp"] - a["issue_time"]) / pd.Timedelta("1h")
    assert lead.max() == 48
    assert a["timestamp"].max() == week["timestamp"].max()  # cut at the end of the actuals
    with pytest.raises(WorkbenchError, match="gaps"):
        forecast_weather(week.iloc[1:], np.random.default_rng(1))
