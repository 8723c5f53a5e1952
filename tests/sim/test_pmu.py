"""PMU cube: swing-equation frequency near 60 Hz, trips and rejections, oscillations, bursts."""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest

from workbench.sim.events import EVENT_COLUMNS
from workbench.sim.pmu import (
    PMU_VARIABLES,
    draw_system_params,
    iter_pmu_blocks,
    make_pmu_ids,
    simulate_pmu,
    system_filter,
)

REGIONS = pd.DataFrame(
    {
        "region_id": ["NORTH", "HOUSTON", "SOUTH", "WEST", "COAST"],
        "population": [9.1e6, 7.3e6, 5.3e6, 0.6e6, 1.2e6],
    }
)
START = pd.Timestamp("2024-07-01 21:00", tz="UTC")
SEEDS = (1, 2, 3)


@pytest.fixture(scope="module")
def cubes() -> dict[int, tuple]:
    ids = make_pmu_ids(REGIONS, 8)
    return {
        seed: simulate_pmu(ids, 30, START, 10, 3, np.random.default_rng(seed)) for seed in SEEDS
    }


def _system_frequency(ds) -> pd.Series:
    """Median over PMUs of good frames: the system frequency a dashboard would show [Hz]."""
    good = ds["frequency_hz"].where(ds["quality"] == 0)
    return good.median("pmu").to_series()


def _naive(ts: pd.Timestamp) -> pd.Timestamp:
    return ts.tz_convert("UTC").tz_localize(None)


def test_make_pmu_ids_assigns_by_population():
    ids = make_pmu_ids(REGIONS, 40)
    assert ids.index[0] == "PMU_0001"
    assert ids.index.is_unique
    assert len(ids) == 40
    counts = ids.value_counts()
    assert set(counts.index) == set(REGIONS["region_id"])  # every region has one
    assert counts["NORTH"] > counts["HOUSTON"] > counts["SOUTH"] > counts["WEST"]
    assert counts["NORTH"] == pytest.approx(40 * 9.1 / 23.5, abs=1.5)


def test_cube_layout(cubes):
    ds, events = cubes[1]
    assert set(ds.data_vars) == {*PMU_VARIABLES, "quality"}
    assert ds["frequency_hz"].dims == ("time", "pmu")
    assert ds.sizes["time"] == 10 * 60 * 30
    assert ds["time"].dtype == np.dtype("datetime64[ns]")
    assert pd.Timestamp(ds["time"].values[0]) == _naive(START)
    step_ns = np.diff(ds["time"].values.astype(np.int64))
    assert np.abs(step_ns - 1e9 / 30).max() <= 1
    assert list(ds["pmu"].values[:2]) == ["PMU_0001", "PMU_0002"]
    for v in PMU_VARIABLES:
        assert ds[v].dtype == np.float32
    assert ds["quality"].dtype == np.int8
    assert tuple(events.columns) == EVENT_COLUMNS
    assert set(events["source"]) == {"pmu"}


@pytest.mark.parametrize("seed", SEEDS)
def test_normal_operation_stays_near_60_hz(seed):
    ds, events = simulate_pmu(
        make_pmu_ids(REGIONS, 4), 30, START, 10, 0, np.random.default_rng(seed)
    )
    assert not (events["target_id"] == "system").any()
    normal = _system_frequency(ds)
    assert 0.006 < normal.std() < 0.02
    assert (normal - 60).abs().quantile(0.99) < 0.05
    assert (normal - 60).abs().max() < 0.07
    assert abs(normal.mean() - 60) < 0.025
    # second-scale noise on top of the minute-scale wander: a 1-s difference is small but not 0
    one_s = normal.diff(30).abs().median()
    assert 1e-4 < one_s < 0.01
    minute = normal.rolling(30 * 60, center=True).mean()
    assert minute.std() > 0.3 * normal.std()  # most of the variance is the slow wander


@pytest.mark.parametrize("seed", SEEDS)
def test_trips_dip_and_rejections_rise(cubes, seed):
    ds, events = cubes[seed]
    f = _system_frequency(ds)
    rocof = ds["rocof_hz_per_s"].where(ds["quality"] == 0).median("pmu").to_series()
    for _, ev in events[events["target_id"] == "system"].iterrows():
        t0 = _naive(ev["start"])
        before = f[t0 - pd.Timedelta("5s") : t0].mean()
        after = f[t0 : t0 + pd.Timedelta("15s")]
        if ev["event_type"] == "generator_trip":
            assert 900 <= ev["magnitude"] <= 2750
            assert after.min() < 59.95
            assert after.min() < before - 0.05
            assert after.min() > 59.5
            assert (after.idxmin() - t0).total_seconds() < 10
            onset = rocof[t0 : t0 + pd.Timedelta("1s")].min()
            assert -0.4 < onset < -0.04  # Hz/s
            recovered = f[_naive(ev["end"]) : _naive(ev["end"]) + pd.Timedelta("5s")]
            if len(recovered):
                assert abs(recovered.mean() - 60) < 0.04
        elif ev["event_type"] == "load_rejection":
            assert after.max() > before + 0.02
            assert after.max() > 60.02
            assert rocof[t0 : t0 + pd.Timedelta("1s")].max() > 0.01


@pytest.mark.parametrize("seed", SEEDS)
def test_forced_oscillation_has_a_spectral_peak(cubes, seed):
    ds, events = cubes[seed]
    osc = events[events["event_type"] == "forced_oscillation"]
    assert len(osc) == 1
    ev = osc.iloc[0]
    window = ds.sel(time=slice(_naive(ev["start"]) + pd.Timedelta("2s"), _naive(ev["end"])))
    freq = window["frequency_hz"].where(window["quality"] == 0)
    local = (freq - freq.mean("pmu")).to_pandas().interpolate(limit_direction="both")
    x = local.to_numpy() - local.to_numpy().mean(axis=0)
    n = 8 * len(x)
    spectrum = np.abs(np.fft.rfft(x * np.hanning(len(x))[:, None], n=n, axis=0)) ** 2
    hz = np.fft.rfftfreq(n, d=1 / 30)
    band = (hz > 0.05) & (hz < 3.0)
    best = spectrum[band].max(axis=0).argmax()  # the PMU with the strongest local swing
    peak = hz[band][spectrum[band, best].argmax()]
    assert peak == pytest.approx(ev["magnitude"], rel=0.1, abs=0.02)
    assert 0.1 <= ev["magnitude"] <= 2.0


def test_dropouts_and_bad_quality_bursts_match_labels(cubes):
    for ds, events in cubes.values():
        bursts = events[events["event_type"].isin(["dropout", "bad_quality"])]
        assert set(bursts["event_type"]) == {"dropout", "bad_quality"}
        flagged = np.zeros(ds["quality"].shape, bool)
        times = ds["time"].values
        for _, ev in bursts.iterrows():
            p = list(ds["pmu"].values).index(ev["target_id"])
            rows = (times >= _naive(ev["start"]).to_datetime64()) & (
                times < _naive(ev["end"]).to_datetime64()
            )
            q = ds["quality"].values[rows, p]
            if ev["event_type"] == "dropout":
                assert (q == 2).all()
                assert np.isnan(ds["frequency_hz"].values[rows, p]).all()
            else:
                assert np.isin(q, [1, 2]).all()
            flagged[rows, p] = True
        assert (ds["quality"].values[~flagged] == 0).all()
        good = ds["quality"].values == 0
        for v in PMU_VARIABLES:
            assert np.isfinite(ds[v].values[good]).all()


def test_phasors_are_plausible(cubes):
    ds, _ = cubes[2]
    good = ds["quality"] == 0
    vm = ds["voltage_magnitude_pu"].where(good)
    assert float(vm.min()) > 0.93
    assert float(vm.max()) < 1.08
    assert 0.98 < float(vm.mean()) < 1.04
    # measurement noise ≈ TVE of 0.2-1 %: sample-to-sample magnitude change is tiny
    assert float(np.abs(vm.diff("time")).median()) < 0.01
    ang = ds["voltage_angle_deg"].where(good)
    assert float(ang.min()) >= -180
    assert float(ang.max()) < 180
    # the angle turns with the integral of the frequency deviation (360°/s per Hz)
    f = _system_frequency(ds)
    unwrapped = np.unwrap(np.radians(ang.isel(pmu=0).to_series().interpolate().to_numpy()))
    span = 30 * 60 * 2  # two minutes
    turned = np.degrees(unwrapped[span] - unwrapped[0])
    expected = 360.0 * ((f.iloc[:span] - 60.0).sum() / 30.0)
    assert turned == pytest.approx(expected, abs=25)


def test_blocks_are_consecutive_and_equal_the_whole(cubes):
    import xarray as xr

    ids = make_pmu_ids(REGIONS, 8)
    blocks = list(iter_pmu_blocks(ids, 30, START, 10, 3, np.random.default_rng(1), block_minutes=3))
    assert [b.sizes["time"] for b, _ in blocks] == [5400, 5400, 5400, 1800]
    assert all(len(e1) <= len(e2) for (_, e1), (_, e2) in itertools.pairwise(blocks))
    whole, events = cubes[1]
    xr.testing.assert_identical(xr.concat([b for b, _ in blocks], dim="time"), whole)
    pd.testing.assert_frame_equal(blocks[-1][1], events)
    assert (blocks[0][1]["start"] < START + pd.Timedelta(minutes=3)).all()


def test_same_seed_same_data(cubes):
    import xarray as xr

    ids = make_pmu_ids(REGIONS, 8)
    again, events = simulate_pmu(ids, 30, START, 10, 3, np.random.default_rng(1))
    xr.testing.assert_identical(again, cubes[1][0])
    pd.testing.assert_frame_equal(events, cubes[1][1])
    assert not np.array_equal(
        cubes[1][0]["frequency_hz"].values, cubes[2][0]["frequency_hz"].values
    )


#: swing-loop parameters as the cubes draw them
DRAWN = [draw_system_params(np.random.default_rng(k)) for k in range(40)]


def _trip(params: dict, mw: float, rate: int = 60, minutes: int = 15) -> np.ndarray:
    """Noise-free deviation [Hz] after ``mw`` of generation is lost on the 80 GW base."""
    return system_filter(rate, **params)(np.full(minutes * 60 * rate, mw / 80_000))[0] * 60


def test_design_trip_reaches_its_nadir_after_the_governor_and_turbine_lags():
    """2,750 MW lost: ROCOF 0.05-0.3 Hz/s, nadir 4-12 s after the trip, then droop settling."""
    rate = 60
    dev = _trip({}, 2750, rate)  # the middle of the drawn ranges
    rocof = np.diff(dev[: rate // 2]).min() * rate
    assert -0.3 < rocof < -0.05  # ΔP·f0/(2H)
    assert 4.0 <= dev.argmin() / rate <= 12.0
    assert -0.5 < dev.min() < -0.25  # the design case: 59.5-59.75 Hz
    settle = dev[30 * rate]
    assert dev.min() < settle < -0.03  # droop holds the frequency above the nadir
    typical = _trip({}, 1500, rate)
    assert typical.argmin() == dev.argmin()  # linear: the timing does not depend on the size
    assert -0.3 < typical.min() < -0.1  # a typical unit: 59.7-59.9 Hz


def test_drawn_systems_reach_their_nadir_in_4_to_12_s():
    rate = 30
    delays, nadirs, rocofs = [], [], []
    for params in DRAWN:
        dev = _trip(params, 1500, rate, 1)
        delays.append(dev.argmin() / rate)
        nadirs.append(dev.min())
        rocofs.append(np.diff(dev[: rate // 2]).min() * rate)
    assert 4.0 <= np.median(delays) <= 12.0
    assert min(delays) > 3.0
    assert max(delays) < 12.0
    assert -0.3 < np.median(nadirs) < -0.15  # 59.7-59.85 Hz for 1,500 MW
    assert all(-0.3 < r < -0.05 for r in rocofs)


@pytest.mark.parametrize("params", DRAWN[:4])
def test_agc_restores_60_hz_within_minutes(params):
    rate = 30
    dev = _trip(params, 2750, rate)
    outside = np.flatnonzero(np.abs(dev) > 0.01)
    assert 60 < outside[-1] / rate < 6 * 60  # settled by droop first, back within ±0.01 Hz in 6 min
    assert np.abs(dev[6 * 60 * rate :]).max() < 0.01
    assert dev.max() < 0.02  # no large overshoot above 60 Hz


def test_filter_is_the_same_at_30_and_60_fps():
    """The modal form keeps the slow AGC pole exact: both rates give the same step response."""
    at_30, at_60 = _trip({}, 2000, 30), _trip({}, 2000, 60)
    np.testing.assert_allclose(at_60[::2], at_30, atol=1e-6)
    assert abs(at_60[-1]) < 1e-3
    less_inertia = _trip({"inertia_s": 4.0}, 2000, 60, 1)
    assert less_inertia.min() < at_60.min()  # lower inertia, deeper nadir
    assert less_inertia.argmin() < at_60.argmin()  # ... and sooner


def _band_exits(ds, events, band_hz=0.05):
    """Exits of ±band per PMU-hour outside event windows widened to [start-1 s, end+120 s]."""
    t = pd.DatetimeIndex(ds["time"].values).tz_localize("UTC")
    keep = np.ones(t.size, bool)
    for _, ev in events.iterrows():
        keep &= ~((t >= ev["start"] - pd.Timedelta("1s")) & (t <= ev["end"] + pd.Timedelta("120s")))
    f = ds["frequency_hz"].where(ds["quality"] == 0).values[keep]
    exits, hours = 0, 0.0
    for p in range(f.shape[1]):
        x = f[:, p][np.isfinite(f[:, p])]
        out = np.abs(x - 60) > band_hz
        exits += int(np.sum(~out[:-1] & out[1:]))
        hours += x.size / 30 / 3600
    return exits / hours


@pytest.mark.parametrize("seed", [11, 12])
def test_ambient_frequency_rarely_leaves_the_band_over_an_hour(seed):
    ds, events = simulate_pmu(
        make_pmu_ids(REGIONS, 6), 30, START, 60, 0, np.random.default_rng(seed)
    )
    f = _system_frequency(ds)
    assert 0.006 < f.std() < 0.02
    assert _band_exits(ds, events) <= 1.0  # exits per PMU-hour
    assert (f - 60).abs().quantile(0.999) < 0.05


@pytest.mark.parametrize("seed", SEEDS)
def test_forced_oscillation_is_a_few_mhz(cubes, seed):
    """Single-sided FFT amplitude of the detrended frequency in the event window, max over PMUs."""
    ds, events = cubes[seed]
    ev = events[events["event_type"] == "forced_oscillation"].iloc[0]
    window = ds.sel(time=slice(_naive(ev["start"]), _naive(ev["end"])))
    freq = window["frequency_hz"].where(window["quality"] == 0).to_pandas()
    x = freq.interpolate(limit_direction="both").to_numpy(np.float64)
    i = np.arange(len(x))[:, None]
    x = x - (np.polyfit(i[:, 0], x, 1)[0] * i + np.polyfit(i[:, 0], x, 1)[1])
    amp = 2 * np.abs(np.fft.rfft(x, axis=0)) / len(x)
    hz = np.fft.rfftfreq(len(x), d=1 / 30)
    band = (hz >= 0.1) & (hz <= 2.0)
    assert 1.0 < amp[band].max() * 1000 < 15.0  # mHz
    peak = hz[band][amp[band].max(axis=1).argmax()]
    assert peak == pytest.approx(ev["magnitude"], rel=0.1, abs=0.02)


def test_plain_ids_and_bad_options():
    from workbench.core.errors import WorkbenchError

    ds, _ = simulate_pmu(["A", "B", "C"], 60, START, 1, 0, np.random.default_rng(0))
    assert list(ds["pmu"].values) == ["A", "B", "C"]
    assert ds.sizes["time"] == 3600
    with pytest.raises(WorkbenchError, match="options"):
        simulate_pmu(["A"], 30, START, 1, 0, np.random.default_rng(0), trip_size=5)
    with pytest.raises(WorkbenchError, match="frames per minute"):
        simulate_pmu(["A"], 29.97, START, 1, 0, np.random.default_rng(0))
