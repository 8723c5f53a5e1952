"""ROCOF alarms, disturbance characterisation and forced oscillations on synthetic signals of
known shape."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from workbench.anomaly.frequency.characterise import characterise
from workbench.anomaly.frequency.oscillation import detect_oscillation
from workbench.anomaly.frequency.rocof import rocof_alarms

T0 = pd.Timestamp("2024-01-01", tz="UTC")
FS = 30.0


def _trip(t):
    """60 Hz, a trip at 10 s: linear fall at -0.1 Hz/s to a 59.8 Hz nadir at 12 s, back to 60 Hz
    linearly by 22 s."""
    f = np.full(t.size, 60.0)
    fall = (t >= 10) & (t < 12)
    f[fall] = 60.0 - 0.1 * (t[fall] - 10)
    rise = (t >= 12) & (t < 22)
    f[rise] = 59.8 + 0.02 * (t[rise] - 12)
    return f


def test_rocof_alarm_needs_the_threshold_sustained():
    t = np.arange(0, 30, 1 / FS)
    rocof = np.where((t >= 10) & (t < 12), -0.1, 0.0)
    rocof[(t >= 20) & (t < 20.3)] = 0.5  # 0.3 s burst: shorter than the 0.5 s sustain
    times = T0 + pd.to_timedelta(t, unit="s")
    alarms = rocof_alarms(times, rocof, threshold_hz_per_s=0.08, sustain="500ms")
    assert len(alarms) == 1
    assert alarms.iloc[0]["peak_rocof_hz_per_s"] == pytest.approx(-0.1)
    assert abs((alarms.iloc[0]["start"] - T0).total_seconds() - 10.0) < 1 / FS
    assert len(rocof_alarms(times, rocof, threshold_hz_per_s=0.08, sustain="200ms")) == 2


def test_characterise_a_trip_of_known_shape():
    t = np.arange(0, 60, 1 / FS)
    f = _trip(t)
    times = T0 + pd.to_timedelta(t, unit="s")
    start = T0 + pd.Timedelta(seconds=10.5)  # the first sample below 59.95 Hz
    c = characterise(times, f, start, beta_mw_per_0_1hz=1000.0)
    assert c["nadir_hz"] == pytest.approx(59.8, abs=0.004)
    assert c["rocof_hz_per_s"] == pytest.approx(-0.1, rel=0.02)
    assert c["time_to_nadir_s"] == pytest.approx(1.5, abs=0.1)  # onset at 25 % depth: 10.5 s
    assert c["settling_time_s"] == pytest.approx(19.5 - 10.5, abs=0.1)  # 59.95 Hz at 19.5 s
    # outside the band from 10.5 s to 19.5 s: deviation triangle above 0.05 Hz
    hz_s = 0.5 * (1.5 * 0.15) + 0.5 * (7.5 * 0.15) + 0.05 * 9.0
    assert c["energy_not_served_mwh"] == pytest.approx(1000 / 0.1 * hz_s / 3600, rel=0.03)
    assert np.isnan(characterise(times, f, start)["energy_not_served_mwh"])


@pytest.mark.parametrize(("f0", "zeta"), [(0.3, 0.05), (1.2, 0.02), (0.8, 0.03)])
def test_ringdown_frequency_and_damping_are_recovered(f0, zeta):
    rng = np.random.default_rng(0)
    t = np.arange(0, 240, 1 / FS)
    w = 2 * np.pi * f0
    x = 60 + 0.02 * np.exp(-zeta * w * t) * np.sin(w * np.sqrt(1 - zeta**2) * t)
    x += rng.normal(0, 0.001, t.size)
    found = detect_oscillation(x, FS)
    assert found["detected"]
    assert found["frequency_hz"] == pytest.approx(f0, rel=0.02)
    assert found["damping_ratio"] == pytest.approx(zeta, rel=0.15)


def test_noise_alone_is_not_an_oscillation_and_a_sustained_one_is():
    rng = np.random.default_rng(1)
    t = np.arange(0, 240, 1 / FS)
    assert not detect_oscillation(60 + rng.normal(0, 0.003, t.size), FS)["detected"]
    forced = 60 + 0.01 * np.sin(2 * np.pi * 0.5 * t) + rng.normal(0, 0.003, t.size)
    found = detect_oscillation(forced, FS)
    assert found["detected"]
    assert found["frequency_hz"] == pytest.approx(0.5, rel=0.01)
    assert found["damping_ratio"] < 0.06
