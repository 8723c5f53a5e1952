"""The realism table on inputs whose answers are known by construction."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from workbench.sim.realism import (
    METRICS,
    MetricUnavailableError,
    band_exits,
    evening_to_night_ratio,
    hub_hours_above,
    nadir_delays,
    oscillation_amplitude_hz,
    realism_table,
    to_cube_crs,
    winter_morning_ratio,
)

TZ = "America/Chicago"


# ------------------------------------------------------------------------------- pure figures
def test_nadir_delay_is_the_time_of_the_minimum_within_30_s():
    rate = 30
    s = np.arange(120 * rate) / rate
    t = pd.Timestamp("2024-07-01 12:00") + pd.to_timedelta(s, unit="s")
    start = 20.0
    after = np.clip(s - start, 0, None)
    # falls to its nadir 7 s after the trip, then recovers; a deeper dip 40 s later is ignored
    f = 60.0 - 0.2 * np.where(s >= start, after / 7.0 * np.exp(1 - after / 7.0), 0.0)
    f[(s > start + 40) & (s < start + 41)] = 59.0
    times = t.to_numpy().astype("datetime64[ns]")
    delays = nadir_delays(times, f, [pd.Timestamp(t[0], tz="UTC") + pd.Timedelta(seconds=start)])
    assert delays == [pytest.approx(7.0, abs=1 / rate)]


def test_band_exits_count_only_counted_transitions():
    f = np.full((10, 2), 60.0)
    f[3, 0] = 60.06  # one exit at PMU 0
    f[6:8, 0] = 59.9  # a second exit (two samples outside: one transition)
    f[2, 1] = 60.1  # an exit at PMU 1, inside an ignored window
    f[8, 1] = np.nan
    counted = np.ones_like(f, bool)
    counted[1:4, 1] = False
    assert band_exits(f, counted) == 2
    counted[5:7, 0] = False  # the transition into 6 is no longer between counted samples
    assert band_exits(f, counted) == 1


def test_oscillation_amplitude_of_a_known_sine_with_trend_and_gaps():
    rate = 30.0
    n = int(60 * rate)
    s = np.arange(n) / rate
    x = 60.0 + 0.004 * np.sin(2 * np.pi * 0.5 * s) + 1e-4 * s  # 4 mHz at 0.5 Hz plus a drift
    x[100:110] = np.nan
    assert oscillation_amplitude_hz(x, rate) == pytest.approx(0.004, rel=0.02)
    x[: n // 5] = np.nan  # more than 10 % missing: no answer rather than a wrong one
    assert oscillation_amplitude_hz(x, rate) is None


def test_hours_above_and_evening_to_night_ratio():
    idx = pd.date_range("2024-07-15", periods=288, freq="5min", tz="UTC")
    local = idx.tz_convert(TZ)
    hub = pd.Series(
        np.select(
            [local.hour.isin([18, 19, 20]), local.hour.isin([1, 2, 3, 4])], [40.0, 20.0], 30.0
        ),
        index=idx,
    )
    assert evening_to_night_ratio(hub, TZ) == pytest.approx(2.0)
    hub.iloc[150:153] = 2000.0  # 15 minutes in one day
    assert hub_hours_above(hub) == pytest.approx(0.25 * 365.25)
    with pytest.raises(MetricUnavailableError):
        evening_to_night_ratio(hub.tz_convert("UTC").shift(120, freq="D"), TZ)


def test_winter_morning_ratio_skips_weekends_and_holidays():
    idx = pd.date_range("2024-01-01 06:00", "2024-01-15 06:00", freq="1h", tz="UTC")
    local = idx.tz_convert(TZ)
    load = np.select(
        [local.hour.isin([7, 8]), local.hour.isin([11, 12, 13])], [1100.0, 1000.0], 800.0
    )
    off = (local.dayofweek >= 5) | (
        local.normalize().tz_localize(None) == pd.Timestamp("2024-01-01")
    )
    load = np.where(off & local.hour.isin([11, 12, 13]), 5000.0, load)
    assert winter_morning_ratio(pd.Series(load, index=idx), TZ) == pytest.approx(1.1)


def test_plants_project_onto_the_simulator_grid_only():
    x, y = to_cube_crs([-96.0, -96.0], [23.0, 33.0], "EPSG:5070")  # origin; due north of it
    np.testing.assert_allclose([x[0], y[0], x[1]], 0.0, atol=1e-6)
    assert 1_100_000 < y[1] < 1_115_000  # ten degrees of latitude [m]
    with pytest.raises(MetricUnavailableError, match="EPSG:5070"):
        to_cube_crs([-96.0], [30.0], 'PROJCS["WGS 84 / UTM zone 14N",GEOGCS["WGS 84"]]')


# ------------------------------------------------------------------------------- through a catalog
def _market() -> tuple[pd.DataFrame, float]:
    idx = pd.date_range("2024-07-15", periods=288, freq="5min", tz="UTC")
    local = idx.tz_convert(TZ)
    base = np.select(
        [local.hour.isin([18, 19, 20]), local.hour.isin([1, 2, 3, 4])], [40.0, 20.0], 30.0
    )
    rows = []
    for node in ("N1", "N2", "N3"):
        lmp = base.copy()
        cong = np.full(len(idx), 0.005)
        if node == "N1":
            lmp[150:153] = 3000.0
            cong[:29] = 0.5  # 29 of 288 intervals congested
        else:
            lmp[150:153] = 1500.0
        if node == "N2":
            lmp[160:170] = -10.0
        if node == "N3":
            cong[:] = -2.0
        rows.append(
            pd.DataFrame(
                {
                    "timestamp": idx,
                    "node_id": node,
                    "market": "RT",
                    "lmp_usd_per_mwh": lmp,
                    "congestion_usd_per_mwh": cong,
                }
            )
        )
    rt = pd.concat(rows)
    hours = pd.date_range("2024-07-15", periods=24, freq="1h", tz="UTC")
    da = pd.concat(
        pd.DataFrame(
            {
                "timestamp": hours,
                "node_id": node,
                "market": "DA",
                "lmp_usd_per_mwh": 30.0 + np.where(np.arange(24) % 2, 1.0, -1.0),
                "congestion_usd_per_mwh": 0.0,
            }
        )
        for node in ("N1", "N2", "N3")
    )
    ratio = np.std(rt["lmp_usd_per_mwh"], ddof=1) / np.std(da["lmp_usd_per_mwh"], ddof=1)
    market = pd.concat([rt, da], ignore_index=True)
    market["energy_usd_per_mwh"] = market["lmp_usd_per_mwh"]
    market["losses_usd_per_mwh"] = 0.0
    return market, float(ratio)


FILL = {
    "string": "",
    "float64": np.nan,
    "int64": 0,
    "bool": True,
    "timestamp": pd.Timestamp("2024-01-01", tz="UTC"),
    "date": pd.Timestamp("2020-01-01").date(),
}


def _write(cat, name: str, frame: pd.DataFrame) -> None:
    """Write ``frame`` to a catalog table, columns it does not set filled with typed values."""
    columns = cat.entry(name).columns
    for column, spec in columns.items():
        if column not in frame:
            frame[column] = FILL[spec.type]
    columns = list(columns)
    cat.write(name, frame[columns], mode="replace")


def test_realism_table_through_the_catalog(catalog):
    market, std_ratio = _market()
    _write(catalog, "bronze.raw_market", market)
    _write(
        catalog,
        "bronze.raw_regions",
        pd.DataFrame({"region_id": ["A", "B", "C"], "timezone": [TZ, TZ, "America/Denver"]}),
    )
    assets = pd.DataFrame(
        {
            "asset_id": ["COAL_1", "COAL_2", "SOLAR_1", "WIND_1"],
            "technology": ["coal", "coal", "solar", "wind"],
            "capacity_mw": [100.0, 300.0, 50.0, 100.0],
            "latitude": [30.0, 30.0, 30.0, 30.0],
            "longitude": [-97.0, -97.0, -97.0, -97.0],
        }
    )
    _write(catalog, "bronze.raw_assets", assets)
    steps = pd.date_range("2024-07-15", periods=12, freq="5min", tz="UTC")
    gen = pd.concat(
        pd.DataFrame({"timestamp": steps, "asset_id": a, "generation_mw": mw, "available": True})
        for a, mw in (("COAL_1", 50.0), ("COAL_2", 150.0), ("SOLAR_1", 10.0), ("WIND_1", 35.0))
    )
    _write(catalog, "bronze.raw_generation", gen)
    # load: two regions, 5-min rows; system hourly = 2 x the hourly shape
    five = pd.date_range(
        "2024-01-01 06:00", "2024-01-15 06:00", freq="5min", tz="UTC", inclusive="left"
    )
    local = five.tz_convert(TZ)
    shape = np.select(
        [local.hour.isin([7, 8]), local.hour.isin([11, 12, 13])], [1100.0, 1000.0], 800.0
    )
    holiday = local.normalize().tz_localize(None) == pd.Timestamp("2024-01-01")
    shape = np.where(holiday, 5000.0, shape)
    load = pd.concat(
        pd.DataFrame({"timestamp": five, "region_id": r, "load_mw": shape}) for r in ("A", "B")
    )
    _write(catalog, "bronze.raw_load", load)
    # temperature: 06:00 UTC issues are 2 F off at lead 18-42 h; everything else far off
    hours = pd.date_range("2024-01-01", "2024-01-06", freq="1h", tz="UTC")
    actual = pd.DataFrame({"timestamp": hours, "location_id": "A", "temperature_f": 50.0})
    _write(catalog, "bronze.raw_weather", actual)
    forecasts = []
    for issue in (
        pd.Timestamp("2024-01-02 06:00", tz="UTC"),
        pd.Timestamp("2024-01-02 12:00", tz="UTC"),
    ):
        lead = np.arange(0, 73)
        times = issue + pd.to_timedelta(lead, unit="h")
        good = (issue.hour == 6) & (lead >= 18) & (lead <= 42)
        forecasts.append(
            pd.DataFrame(
                {
                    "issue_time": issue,
                    "timestamp": times,
                    "location_id": "A",
                    "temperature_f": 50.0 + np.where(good, np.where(lead % 2, 2.0, -2.0), 30.0),
                }
            )
        )
    _write(catalog, "bronze.raw_weather_forecast", pd.concat(forecasts, ignore_index=True))
    _write(
        catalog,
        "ops.sim_events",
        pd.DataFrame({"event_id": ["x"], "event_type": ["spike"], "source": ["scada"]}),
    )

    table = realism_table(catalog)
    assert [row["metric"] for row in table] == [m.name for m in METRICS]
    rows = {row["metric"]: row for row in table}
    expected = {
        "rt_price_max_usd_per_mwh": 3000.0,
        "rt_price_hours_above_1000_per_year": 0.25 * 365.25,
        "rt_price_share_negative": 10 / 864,
        "rt_price_median_usd_per_mwh": 30.0,
        "rt_to_da_price_std_ratio": std_ratio,
        "congestion_share_nonzero_median_node": 29 / 288,
        "summer_evening_to_night_price_ratio": 2.0,
        "coal_capacity_factor": 0.5,
        "solar_capacity_factor": 0.2,
        "wind_capacity_factor": 0.35,
        "winter_morning_peak_ratio": 1.1,
        "load_min_to_peak_ratio": 800.0 / 5000.0,
        "day_ahead_temperature_forecast_mae_f": 2.0,
    }
    for name, value in expected.items():
        assert rows[name]["value"] == pytest.approx(value), name
    assert rows["rt_price_max_usd_per_mwh"]["ok"] is True
    assert rows["rt_price_hours_above_1000_per_year"]["ok"] is False  # 91 h/yr > 30
    assert rows["coal_capacity_factor"]["ok"] is True
    assert rows["load_min_to_peak_ratio"]["ok"] is False
    # no PMU cube, no trip or oscillation label, no satellite: reported, not ok, with a reason
    for name in (
        "trip_nadir_delay_s_median",
        "ambient_band_exits_per_hour",
        "oscillation_amplitude_mhz_median",
        "satellite_cloud_vs_solar_output_corr",
    ):
        assert rows[name]["value"] is None, name
        assert rows[name]["ok"] is False, name
        assert rows[name]["reason"], name
    assert "generator_trip" in rows["trip_nadir_delay_s_median"]["reason"]


# ------------------------------------------------------------------------------- a real build
@pytest.mark.slow
def test_two_years_of_simulated_grid_pass_every_realism_row(catalog):
    """Builds bronze for the ``realism`` profile (the demo's two years of system data, PMU hour
    and satellite week; few SCADA assets and meters) and measures the table."""
    from workbench.sim.build import build_lakehouse
    from workbench.sim.profiles import get_profile

    build_lakehouse(catalog, get_profile("realism"), seed=42)
    table = realism_table(catalog)
    assert [row["metric"] for row in table] == [m.name for m in METRICS]
    failing = [
        f"{r['metric']}={r['value']} (range {r['low']}..{r['high']}) {r.get('reason', '')}"
        for r in table
        if not r["ok"]
    ]
    assert not failing, "\n".join(failing)
