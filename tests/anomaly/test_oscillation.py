"""Forced-oscillation detection on raw grid frequency: the red background of real (ci) frequency
is not an oscillation, a small injected one is, and odd inputs give WorkbenchErrors."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy.signal import lfilter

from workbench.anomaly.base import AnomalyInputError
from workbench.anomaly.frequency.oscillation import (
    detect_oscillation,
    detect_oscillation_pmus,
    estimate_damping,
)
from workbench.core.errors import WorkbenchError

FS = 30.0


@pytest.fixture(scope="module")
def ci_frequency(ci_lakehouse):
    """Median good frequency [Hz] of the ci PMU cube (its last 10 minutes), with its times."""
    from workbench import open_catalog

    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("WORKBENCH_HOME", str(ci_lakehouse))
        cat = open_catalog()
        ds = cat.scan("bronze.pmu").load().grid.good()
        rate = float(ds.grid.sample_rate_hz)
        f = ds["frequency_hz"].transpose("time", "pmu").median("pmu").values.astype(np.float64)
        times = pd.DatetimeIndex(ds["time"].values).tz_localize("UTC")
        labels = cat.read("ops.sim_events")
        cat.close()
    return rate, times, f, labels


def _quiet_starts(times, labels, win, hop_s=15.0):
    """Starts of ``win``-sample windows (``hop_s`` apart) clear of every grid event: the
    labelled oscillation (and 10 s of its tail) and the first minute after each trip or
    rejection, when the inter-area mode it rang is still swinging."""
    grid = labels[(labels["source"] == "pmu") & (labels["target_id"] == "system")]
    busy = []
    for _, ev in grid.iterrows():
        start = pd.Timestamp(ev["start"]) - pd.Timedelta(seconds=1)
        if ev["event_type"] == "forced_oscillation":
            busy.append((start, pd.Timestamp(ev["end"]) + pd.Timedelta(seconds=10)))
        else:
            busy.append((start, pd.Timestamp(ev["start"]) + pd.Timedelta(seconds=60)))
    hop = max(int(hop_s * win / 60.0), 1)
    return [
        i
        for i in range(0, times.size - win + 1, hop)
        if all(times[i + win - 1] < b0 or times[i] > b1 for b0, b1 in busy)
    ]


def test_window_that_crashed_scipy_is_analysed(ci_frequency):
    rate, times, f, _ = ci_frequency
    i = int(times.searchsorted(pd.Timestamp("2024-03-21 23:53:30", tz="UTC")))
    assert times[i].strftime("%H:%M:%S") == "23:53:30"
    found = detect_oscillation(f[i : i + int(60 * rate)], rate, f_lo=0.1, segment_s=20.0)
    assert found["frequency_hz"] > 0
    assert not found["detected"]


def test_quiet_ci_minutes_are_not_oscillations(ci_frequency):
    rate, times, f, labels = ci_frequency
    win = int(60 * rate)
    starts = _quiet_starts(times, labels, win)
    assert len(starts) >= 6
    for seg in (20.0, 60.0):
        hits = [
            times[i]
            for i in starts
            if detect_oscillation(f[i : i + win], rate, segment_s=seg)["detected"]
        ]
        assert hits == [], f"segment {seg} s: false oscillations at {hits}"


def test_the_labelled_ci_oscillation_is_found(ci_frequency):
    rate, times, f, labels = ci_frequency
    osc = labels[labels["event_type"] == "forced_oscillation"].iloc[-1]
    win = int(60 * rate)
    i = int(times.searchsorted(pd.Timestamp(osc["start"]) + pd.Timedelta(seconds=5)))
    found = detect_oscillation(f[i : i + win], rate, segment_s=20.0)
    assert found["detected"]
    assert found["frequency_hz"] == pytest.approx(float(osc["magnitude"]), abs=0.05)
    assert found["damping_ratio"] < 0.01  # sustained while the source runs


@pytest.mark.parametrize("which", [0, -1])
def test_small_injected_oscillation_on_ci_frequency(ci_frequency, which):
    rate, times, f, labels = ci_frequency
    win = int(60 * rate)
    i = _quiet_starts(times, labels, win)[which]  # the first and the last quiet minute
    quiet = f[i : i + win]
    assert not detect_oscillation(quiet, rate, segment_s=20.0)["detected"]
    t = np.arange(win) / rate
    found = detect_oscillation(
        quiet + 0.003 * np.sin(2 * np.pi * 0.7 * t + 1.0), rate, segment_s=20.0
    )
    assert found["detected"]
    assert found["frequency_hz"] == pytest.approx(0.7, abs=0.05)
    assert found["amplitude"] == pytest.approx(0.003, rel=0.5)
    assert found["damping_ratio"] < 0.02


@pytest.mark.parametrize("seed", range(6))
def test_red_noise_is_not_an_oscillation(seed):
    rng = np.random.default_rng(seed)
    n = int(240 * FS)
    brown = np.cumsum(rng.normal(0, 1e-4, n))  # random walk: 1/f^2
    ar = lfilter([1.0], [1.0, -0.995], rng.normal(0, 5e-4, n))  # AR(1), 7-s time constant
    for x in (60 + brown + rng.normal(0, 1e-3, n), 60 + ar, 60 + brown):
        for seg in (20.0, 60.0):
            assert not detect_oscillation(x, FS, segment_s=seg)["detected"]


def test_damping_of_ringdown_and_of_sustained_oscillation():
    rng = np.random.default_rng(3)
    t = np.arange(0, 120, 1 / FS)
    w = 2 * np.pi * 0.7
    ring = 60 + 0.02 * np.exp(-0.04 * w * t) * np.sin(w * np.sqrt(1 - 0.04**2) * t)
    ring += rng.normal(0, 0.001, t.size)
    found = detect_oscillation(ring, FS, segment_s=20.0)
    assert found["detected"]
    assert found["damping_ratio"] == pytest.approx(0.04, rel=0.15)
    sustained = 60 + 0.005 * np.sin(w * t) + rng.normal(0, 0.002, t.size)
    found = detect_oscillation(sustained, FS, segment_s=20.0)
    assert found["detected"]
    assert found["frequency_hz"] == pytest.approx(0.7, abs=0.02)
    assert found["damping_ratio"] < 0.01


@pytest.mark.parametrize(
    ("x", "kwargs", "needle"),
    [
        (np.full(600, np.nan), {}, "finite samples"),
        (np.ones(10), {}, "long enough"),
        (np.ones(600), {"f_lo": 0.0}, "f_lo"),
        (np.ones((600, 2)), {}, "1-D"),
        (np.ones(900), {"f_lo": 0.1, "f_hi": 0.4, "segment_s": 10.0}, "segment_s"),
    ],
)
def test_inputs_that_cannot_be_analysed_raise_workbench_errors(x, kwargs, needle):
    with pytest.raises(WorkbenchError, match=needle):
        detect_oscillation(x, FS, **kwargs)


@pytest.mark.parametrize("f0", [0.0, -0.01, 15.0, float("nan")])
def test_damping_rejects_a_frequency_outside_the_band(f0):
    with pytest.raises(AnomalyInputError, match="f0"):
        estimate_damping(np.sin(np.arange(600) / 5), FS, f0)


def test_a_brief_dip_does_not_turn_a_sustained_oscillation_into_a_ringdown():
    """A few-mHz forced oscillation in noise (or a median across PMUs swinging in opposite
    phases) can vanish for a second; its damping must stay near 0, not fit the dip."""
    rng = np.random.default_rng(5)
    t = np.arange(0, 60, 1 / FS)
    w = 2 * np.pi * 1.5
    level = 0.003 + 0.002 * np.exp(-(((t - 4.5) / 1.0) ** 2))  # a noise bump, then the dip
    gap = (t > 6.0) & (t < 7.5)
    x = 60 + np.where(gap, 0.0, level) * np.sin(w * t) + rng.normal(0, 0.0005, t.size)
    found = detect_oscillation(x, FS, segment_s=20.0)
    assert found["detected"]
    assert found["damping_ratio"] < 0.01
    assert found["amplitude"] == pytest.approx(0.005, rel=0.2)  # the largest envelope


def _simulated_cube(seed, minutes, n_events, **options):
    """``minutes`` of 12 PMUs at 30 fps from the simulator: good frequency (time x pmu, NaN
    where flagged), row times [ns] and the labels."""
    from workbench.sim.pmu import simulate_pmu

    ids = [f"PMU_{k:02d}" for k in range(12)]
    rng = np.random.default_rng(seed)
    cube, labels = simulate_pmu(ids, FS, "2024-01-01", minutes, n_events, rng, **options)
    good = cube["frequency_hz"].where(cube["quality"] == 0).transpose("time", "pmu")
    return good.values, cube.indexes["time"].asi8, labels


def _clear_windows(times_ns, labels, win):
    """Starts of ``win``-row windows (half a window apart) clear of every grid event and of the
    minute after each trip or rejection."""
    grid = labels[labels["target_id"] == "system"]
    busy = [
        (ev["start"].value, max(ev["end"].value, ev["start"].value + int(60e9)))
        for _, ev in grid.iterrows()
    ]
    return [
        i
        for i in range(0, times_ns.size - win + 1, win // 2)
        if all(times_ns[i + win - 1] < b0 or times_ns[i] > b1 for b0, b1 in busy)
    ]


@pytest.mark.parametrize("seed", [0, 3])
def test_a_slow_forced_oscillation_across_pmus_is_found(seed):
    """The simulator's forced oscillation at 0.2-0.25 Hz (regions swinging in opposite phase,
    which the median over PMUs can cancel) is found in the minute after it starts, at its
    labelled frequency; the same cube's windows clear of any grid event stay quiet."""
    x, t, labels = _simulated_cube(seed, 20, 3, oscillation_hz=(0.2, 0.25))
    osc = labels[labels["event_type"] == "forced_oscillation"].iloc[0]
    win = int(60 * FS)
    i0 = int(np.searchsorted(t, osc["start"].value))
    found = detect_oscillation_pmus(x[i0 : i0 + win], FS, ratio=30.0)
    assert found["detected"]
    assert found["frequency_hz"] == pytest.approx(osc["magnitude"], abs=0.01)
    assert found["pmus"] >= 10
    assert found["damping_ratio"] < 0.05  # sustained, not a ringdown
    quiet = _clear_windows(t, labels, win)
    assert len(quiet) >= 8
    ratios = [detect_oscillation_pmus(x[i : i + win], FS, ratio=30.0) for i in quiet]
    assert not any(r["detected"] for r in ratios), [round(r["peak_ratio"], 1) for r in ratios]


def test_an_uneventful_cube_has_no_oscillation():
    """Ten minutes without grid events (wander, governors, AGC, local swings, dropouts): no
    60-s window holds an oscillation, in the common mode or in the deviations."""
    x, t, _ = _simulated_cube(11, 10, 0)
    win = int(60 * FS)
    found = [
        detect_oscillation_pmus(x[i : i + win], FS, ratio=30.0)
        for i in range(0, t.size - win + 1, win // 2)
    ]
    assert len(found) == 19
    assert not any(f["detected"] for f in found), [round(f["peak_ratio"], 1) for f in found]
    assert {f["component"] for f in found} <= {"common", "inter-area"}


def test_pmu_inputs_that_cannot_be_analysed_raise_workbench_errors():
    with pytest.raises(AnomalyInputError, match="2-D"):
        detect_oscillation_pmus(np.ones(600), FS)
    with pytest.raises(AnomalyInputError, match="finite samples"):
        detect_oscillation_pmus(np.full((600, 3), np.nan), FS)
