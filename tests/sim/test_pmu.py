"""PMU cube: swing-equation frequency near 60 Hz, trips and rejections, oscillations, bursts."""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest
from scipy.signal import lfilter

from workbench.sim.events import EVENT_COLUMNS
from workbench.sim.pmu import (
    PMU_VARIABLES,
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


def test_design_contingency_of_the_swing_model():
    """2,750 MW lost on an 80 GW system: ROCOF, nadir, droop settling, AGC back to 60 Hz."""
    rate = 60
    b, a = system_filter(rate, inertia_s=4.5)
    dev = lfilter(b, a, np.full(15 * 60 * rate, 2750 / 80_000)) * 60
    rocof = np.diff(dev[: rate // 2]).min() * rate
    assert -0.3 < rocof < -0.15  # ΔP·f0/(2H) = 0.23 Hz/s
    nadir = dev.min()
    assert -0.35 < nadir < -0.15
    assert 1.0 < dev.argmin() / rate < 10.0
    settle = dev[30 * rate]
    assert -0.15 < settle < -0.05
    assert settle > nadir  # droop holds the frequency above the nadir
    assert abs(dev[-1]) < 0.005  # secondary control restored 60 Hz within 15 minutes
    less_inertia = lfilter(*system_filter(rate, inertia_s=3.0), np.full(600, 2750 / 80_000)) * 60
    assert less_inertia.min() < nadir  # lower inertia, deeper nadir


def test_plain_ids_and_bad_options():
    from workbench.core.errors import WorkbenchError

    ds, _ = simulate_pmu(["A", "B", "C"], 60, START, 1, 0, np.random.default_rng(0))
    assert list(ds["pmu"].values) == ["A", "B", "C"]
    assert ds.sizes["time"] == 3600
    with pytest.raises(WorkbenchError, match="options"):
        simulate_pmu(["A"], 30, START, 1, 0, np.random.default_rng(0), trip_size=5)
    with pytest.raises(WorkbenchError, match="frames per minute"):
        simulate_pmu(["A"], 29.97, START, 1, 0, np.random.default_rng(0))
