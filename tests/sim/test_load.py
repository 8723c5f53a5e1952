"""Simulated regional load: weather response, calendar in local time, outages, realism."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from workbench.catalog import load_catalog_spec
from workbench.core.errors import WorkbenchError
from workbench.sim.events import EVENT_COLUMNS
from workbench.sim.load import LOAD_COLUMNS, holiday_weights, hourly_load, simulate_load
from workbench.sim.regions import Grid, make_grid
from workbench.sim.weather import simulate_weather

CATALOG = Path(__file__).resolve().parents[2] / "data_catalog.yaml"


@pytest.fixture(scope="module")
def grid() -> Grid:
    return make_grid(5, np.random.default_rng(7))


def _five_min(start: str, days: int) -> pd.DatetimeIndex:
    return pd.date_range(start, periods=days * 288, freq="5min", tz="UTC")


def _flat_weather(grid: Grid, index: pd.DatetimeIndex, temp_f: float, rh: float = 50.0):
    """Constant weather for every region, an hour beyond both ends of ``index``."""
    hours = pd.date_range(index[0].floor("h") - pd.Timedelta("1h"),
                          index[-1].ceil("h") + pd.Timedelta("1h"), freq="h")  # fmt: skip
    regions = grid.regions["region_id"]
    return pd.DataFrame({
        "timestamp": np.tile(hours, len(regions)),
        "location_id": np.repeat(regions.to_numpy(), len(hours)),
        "temperature_f": temp_f,
        "relative_humidity_pct": rh,
    })  # fmt: skip


def _run(grid: Grid, index: pd.DatetimeIndex, temp_f: float, seed: int = 1, **kw) -> pd.Series:
    load, _ = simulate_load(grid, _flat_weather(grid, index, temp_f), index,
                            np.random.default_rng(seed), outages_per_year=0.0, **kw)  # fmt: skip
    return load.set_index(["region_id", "timestamp"])["load_mw"]


def _local(series: pd.Series, tz: str = "America/Chicago") -> pd.Series:
    return series.tz_convert(tz)


def test_schema_and_a_realistic_system(grid: Grid) -> None:
    spec = load_catalog_spec(CATALOG, env={"WORKBENCH_HOME": "/tmp"})
    peaks, minima = [], []
    for start in ("2023-07-10", "2023-04-10"):  # summer peak season, spring minimum season
        index = _five_min(start, 21)
        hourly = pd.date_range(index[0], index[-1].ceil("h"), freq="h")
        weather = simulate_weather(grid, hourly, np.random.default_rng(3))
        load, events = simulate_load(grid, weather, index, np.random.default_rng(4))
        assert list(load.columns) == LOAD_COLUMNS == list(spec.dataset("bronze.raw_load").columns)
        assert list(events.columns) == list(EVENT_COLUMNS)
        assert len(load) == len(index) * len(grid.regions)
        assert (load["load_mw"] > 0).all()
        assert not load.duplicated(["region_id", "timestamp"]).any()
        system = load.groupby("timestamp")["load_mw"].sum()
        peaks.append(system.max())
        minima.append(system.min())
        if start.startswith("2023-07"):
            daily_peak_hour = _local(system).groupby(_local(system).index.date).idxmax()
            assert daily_peak_hour.map(lambda t: 14 <= t.hour <= 19).mean() > 0.8
            size = load.groupby("region_id")["load_mw"].mean()
            assert size.max() / size.min() > 5
    assert 62_000 <= peaks[0] <= 85_000
    assert 0.35 <= minima[1] / peaks[0] <= 0.5


def test_load_is_u_shaped_in_temperature(grid: Grid) -> None:
    index = _five_min("2024-02-05", 7)
    temps = [30, 45, 55, 60, 63, 66, 80, 95, 100]
    mean = {t: _run(grid, index, t).groupby(level=0).mean() for t in temps}
    north = pd.Series({t: m["NORTH"] for t, m in mean.items()})
    assert north.idxmin() in (60, 63, 66)  # minimum near 60-65 degF
    assert north[95] > 1.3 * north[63]  # hot day
    assert north[30] > 1.2 * north[63]  # cold day
    assert north[45] > north[55] > north[60]
    assert north[80] < north[95] < north[100]
    slope = (north[100] - north[95]) / 5.0 / north[95]
    assert 0.008 <= slope <= 0.04  # about 1-3 % of load per degF near peak
    # steeper rise above the balance point than just below it (convex cooling)
    assert north[95] - north[80] > north[80] - north[66]
    # every region responds to heat
    assert (mean[95] > 1.15 * mean[63]).all()


def test_weekends_are_lower_and_holidays_look_like_sundays(grid: Grid) -> None:
    index = _five_min("2024-06-24", 21)  # includes Independence Day, Thursday 4 July 2024
    load = _run(grid, index, 85.0).groupby(level=1).sum()
    local = _local(load)
    day = pd.Series(local.index.date, index=local.index)
    daily = local.groupby(day.to_numpy()).mean()
    dow = pd.Series(pd.to_datetime(daily.index).dayofweek, index=daily.index)
    midweek = daily[dow.isin([1, 2, 3]).to_numpy()].drop(pd.Timestamp("2024-07-04").date())
    weekend = daily[dow.isin([5, 6]).to_numpy()]
    ratio = weekend.mean() / midweek.mean()
    assert 0.85 <= ratio <= 0.95

    def profile(d: str) -> np.ndarray:
        one = local[day.to_numpy() == pd.Timestamp(d).date()]
        return one.groupby(one.index.hour).mean().to_numpy()[6:23]

    holiday = profile("2024-07-04")
    sunday = (profile("2024-06-30") + profile("2024-07-07")) / 2
    weekday = (profile("2024-07-02") + profile("2024-07-09") + profile("2024-07-11")) / 3
    assert np.abs(holiday - sunday).mean() < 0.3 * np.abs(holiday - weekday).mean()
    assert holiday.mean() < 0.93 * weekday.mean()


def test_holiday_weights_from_the_holidays_package() -> None:
    days = np.array(["2024-07-04", "2024-11-28", "2024-11-29", "2024-01-15", "2024-03-02",
                     "2024-07-03"], dtype="datetime64[D]")  # fmt: skip
    w = holiday_weights(days)
    assert list(w) == [1.0, 1.0, 0.6, 0.3, 0.0, 0.0]


def test_dst_keeps_the_local_schedule_and_shifts_it_in_utc(grid: Grid) -> None:
    index = _five_min("2024-02-19", 40)  # DST starts Sunday 10 March 2024
    load = _run(grid, index, 100.0)
    windows = (("2024-02-20", "2024-03-09"), ("2024-03-11", "2024-03-29"))
    zones = {"NORTH": "America/Chicago", "HOUSTON": "America/Chicago", "WEST": "America/Denver"}
    for region, tz in zones.items():
        series = load[region]
        local_profile, utc_profile = [], []
        for lo, hi in windows:
            part = series[
                (series.index >= pd.Timestamp(lo, tz=tz)) & (series.index < pd.Timestamp(hi, tz=tz))
            ]
            local = part.index.tz_convert(tz)
            part = part[local.dayofweek < 5]
            local = part.index.tz_convert(tz)
            local_profile.append(part.groupby(local.hour * 60 + local.minute).mean())
            utc_profile.append(part.groupby(part.index.hour * 60 + part.index.minute).mean())
        # the daily peak hour stays put in local time and moves an hour earlier in UTC
        peak_local = [p.groupby(p.index // 60).mean().idxmax() for p in local_profile]
        peak_utc = [p.groupby(p.index // 60).mean().idxmax() for p in utc_profile]
        if region != "WEST":  # its afternoon plateau is too flat to rank hours reliably
            assert peak_local[0] == peak_local[1], region
            assert (peak_utc[0] - peak_utc[1]) % 24 == 1, region

        # the whole daily shape aligns within minutes in local time and an hour (12 steps) in
        # UTC; lighting follows the sun, not the clock, so the local match is not exact
        def best_shift(before: pd.Series, after: pd.Series) -> int:
            a = (before - before.mean()).to_numpy()
            b = (after - after.mean()).to_numpy()
            return int(np.argmax([np.dot(np.roll(b, k), a) for k in range(-24, 25)])) - 24

        assert abs(best_shift(*local_profile)) <= 2, region
        assert 10 <= best_shift(*utc_profile) <= 14, region


def test_noise_is_autocorrelated_and_seeded(grid: Grid) -> None:
    index = _five_min("2024-04-01", 7)
    a, b, c = (
        _run(grid, index, 63.0, seed=1),
        _run(grid, index, 63.0, seed=1),
        _run(grid, index, 63.0, seed=2),
    )
    pd.testing.assert_series_equal(a, b)
    diff = (a - c)["NORTH"]  # same weather and calendar: the difference is noise alone
    assert diff.abs().mean() > 0.002 * a["NORTH"].mean()
    assert diff.autocorr(1) > 0.9  # 5 minutes
    assert diff.autocorr(12) > 0.5  # an hour


def test_outages_drop_load_and_are_labelled(grid: Grid) -> None:
    index = _five_min("2024-05-01", 21)
    weather = _flat_weather(grid, index, 70.0)
    base, none = simulate_load(grid, weather, index, np.random.default_rng(9), outages_per_year=0.0)
    hit, events = simulate_load(
        grid, weather, index, np.random.default_rng(9), outages_per_year=100.0
    )
    assert none.empty
    assert list(none.columns) == list(EVENT_COLUMNS)
    assert len(events) > 10
    assert set(events["source"]) == {"load"}
    assert set(events["event_type"]) == {"load_outage"}
    assert set(events["target_id"]) <= set(grid.regions["region_id"])
    assert events["event_id"].is_unique
    hours = (events["end"] - events["start"]) / pd.Timedelta("1h")
    assert hours.between(0.5, 3.0).all()
    before = base.pivot(index="timestamp", columns="region_id", values="load_mw")
    delta = before - hit.pivot(index="timestamp", columns="region_id", values="load_mw")
    inside = pd.DataFrame(False, index=delta.index, columns=delta.columns)
    checked = 0
    for ev in events.itertuples():
        inside.loc[(delta.index >= ev.start) & (delta.index < ev.end), ev.target_id] = True
        same = events[(events["target_id"] == ev.target_id) & (events["event_id"] != ev.event_id)]
        if ((same["start"] < ev.end) & (same["end"] > ev.start)).any():
            continue  # overlapping outages add up
        checked += 1
        assert delta.at[ev.start, ev.target_id] == pytest.approx(ev.magnitude, abs=0.3)
        assert 0.009 <= ev.magnitude / before.at[ev.start, ev.target_id] <= 0.051
    assert checked > 10
    assert (delta.to_numpy()[~inside.to_numpy()] == 0).all()  # untouched elsewhere
    assert (delta.to_numpy()[inside.to_numpy()] >= 0).all()


def test_hourly_load_averages_interval_starts(grid: Grid) -> None:
    index = _five_min("2024-05-01", 2)
    load, _ = simulate_load(grid, _flat_weather(grid, index, 70.0), index, np.random.default_rng(1))
    hourly = hourly_load(load)
    assert list(hourly.columns) == LOAD_COLUMNS
    assert len(hourly) == 48 * len(grid.regions)
    one = load[(load["region_id"] == "SOUTH") & (load["timestamp"] < index[12])]["load_mw"].mean()
    first = hourly[(hourly["region_id"] == "SOUTH") & (hourly["timestamp"] == index[0])]["load_mw"]
    assert first.iloc[0] == pytest.approx(one)


def test_bad_inputs_are_rejected(grid: Grid) -> None:
    index = _five_min("2024-05-01", 1)
    weather = _flat_weather(grid, index, 70.0)
    rng = np.random.default_rng(1)
    with pytest.raises(WorkbenchError, match="UTC"):
        simulate_load(grid, weather, index.tz_localize(None), rng)
    with pytest.raises(WorkbenchError, match="COAST"):
        simulate_load(grid, weather[weather["location_id"] != "COAST"], index, rng)
    with pytest.raises(WorkbenchError, match="covering"):
        simulate_load(grid, weather, _five_min("2024-06-01", 1), rng)


def _weekday_profile(load: pd.Series) -> pd.Series:
    """Mean system load by local hour over Monday-Friday, per unit of its maximum."""
    local = _local(load.groupby(level=1).sum())
    weekday = local[local.index.dayofweek < 5]
    hourly = weekday.groupby(weekday.index.hour).mean()
    return hourly / hourly.max()


def test_winter_weekdays_have_morning_and_evening_peaks(grid: Grid) -> None:
    index = _five_min("2024-01-15", 14)  # 44 degF: heating, dark mornings and evenings
    shape = _weekday_profile(_run(grid, index, 44.0))
    morning, midday = shape[[7, 8]].mean(), shape[[11, 12, 13]].mean()
    assert morning >= 1.02 * midday  # the morning peak of the realism table
    assert shape[[7, 8, 9]].max() > shape[[5, 10, 11]].max()  # a peak, not a ramp
    assert shape.idxmax() in (18, 19, 20)  # the evening peak is the day's highest
    assert shape[3] < 0.85  # the night is well below both


def test_summer_weekdays_peak_in_the_afternoon(grid: Grid) -> None:
    index = _five_min("2024-07-15", 14)
    hours = pd.date_range(index[0].floor("h") - pd.Timedelta("1h"),
                          index[-1].ceil("h") + pd.Timedelta("1h"), freq="h")  # fmt: skip
    warm = 88.0 + 10.0 * np.sin(2 * np.pi * (hours.hour.to_numpy() - 15.0 - 6.0) / 24.0 + np.pi / 2)
    weather = _flat_weather(grid, index, 0.0)
    weather["temperature_f"] = np.tile(warm, len(grid.regions))  # 98 degF at 15 local
    load, _ = simulate_load(grid, weather, index, np.random.default_rng(2), outages_per_year=0.0)
    shape = _weekday_profile(load.set_index(["region_id", "timestamp"])["load_mw"])
    assert shape.idxmax() in (15, 16, 17, 18)
    assert shape[[7, 8]].mean() < 0.9 * shape[[16, 17]].mean()  # no winter-like morning peak
