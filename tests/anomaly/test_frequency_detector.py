"""Frequency-deviation rule: hand-made streams, streaming vs batch, a brute-force oracle."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from workbench.anomaly.base import AnomalyInputError
from workbench.anomaly.frequency.batch import detect_frequency_frame
from workbench.anomaly.frequency.stream import FrequencyDetector

T0 = pd.Timestamp("2024-01-01", tz="UTC")


def _stream(offsets_s, values, quality=None, batch=7, pmus=("P1",), **kw):
    """Feed (offset [s], value) rows in batches; return the episodes and the detector."""
    det = FrequencyDetector(list(pmus), **kw)
    times = T0 + pd.to_timedelta(np.asarray(offsets_s, float), unit="s")
    vals = np.asarray(values, float).reshape(len(times), -1)
    qual = None if quality is None else np.asarray(quality).reshape(vals.shape)
    out = []
    for i in range(0, len(times), batch):
        q = None if qual is None else qual[i : i + batch]
        out.append(det.push(times[i : i + batch], vals[i : i + batch], q))
    out.append(det.flush())
    return pd.concat(out, ignore_index=True), det


def _series(out_at, step=0.5, span=40.0, value=59.9):
    """A 2-sample/s series at 60.00 Hz with ``value`` at the given offsets [s]."""
    offsets = np.round(np.arange(0.0, span, step), 6)
    values = np.full(offsets.size, 60.0)
    for o in out_at:
        hit = np.isclose(offsets, o)
        if not hit.any():
            offsets = np.append(offsets, o)
            values = np.append(values, value)
        else:
            values[hit] = value
    order = np.argsort(offsets)
    return offsets[order], values[order]


def test_exactly_three_within_five_seconds_fires():
    offsets, values = _series([10.0, 12.5, 15.0])
    events, _ = _stream(offsets, values)
    assert len(events) == 1
    row = events.iloc[0]
    assert row["start"] == T0 + pd.Timedelta(seconds=10)
    assert row["end"] == T0 + pd.Timedelta(seconds=15)
    assert row["samples_outside"] == 3
    assert row["min_hz"] == pytest.approx(59.9)
    assert list(events.columns) == ["group", "start", "end", "min_hz", "max_hz", "samples_outside"]


def test_two_samples_do_not_fire():
    offsets, values = _series([10.0, 12.5])
    events, _ = _stream(offsets, values)
    assert events.empty


def test_three_spread_over_five_point_one_seconds_do_not_fire():
    offsets, values = _series([10.0, 12.55, 15.1], step=0.05)
    events, _ = _stream(offsets, values)
    assert events.empty
    batch = detect_frequency_frame(
        pd.DataFrame({"t": T0 + pd.to_timedelta(offsets, unit="s"), "f": values}), "t", "f"
    )
    assert batch.empty


def test_episode_runs_to_last_sample_before_a_quiet_window():
    # trigger at 10-11, more out-of-band samples 4.9 s apart keep it going, then 5 s of quiet
    offsets, values = _series([10.0, 10.5, 11.0, 15.9, 20.8, 25.8, 26.0], value=60.08)
    events, _ = _stream(offsets, values)
    assert len(events) == 1
    assert events.iloc[0]["end"] == T0 + pd.Timedelta(seconds=20.8)
    assert events.iloc[0]["samples_outside"] == 5
    assert events.iloc[0]["max_hz"] == pytest.approx(60.08)  # 25.8 and 26.0 are a new cluster


def test_episode_starts_at_the_first_sample_of_the_triggering_group():
    # 0 and 4 s are a cluster but only (4, 8, 9) is 3 within 5 s
    offsets, values = _series([2.0, 6.0, 10.0, 11.0, 12.0])
    events, _ = _stream(offsets, values)
    assert events["start"].tolist() == [T0 + pd.Timedelta(seconds=6)]
    assert events["samples_outside"].tolist() == [4]


def test_out_of_order_arrival_gives_the_same_events():
    offsets, values = _series([10.0, 12.5, 15.0, 30.0, 31.0, 32.0])
    in_order, _ = _stream(offsets, values)
    rng = np.random.default_rng(3)
    perm = np.arange(offsets.size)
    for i in range(0, perm.size, 6):  # shuffled within 6 rows = 3 s
        perm[i : i + 6] = rng.permutation(perm[i : i + 6])
    shuffled, det = _stream(offsets[perm], values[perm], allowed_lateness="3s")
    pd.testing.assert_frame_equal(shuffled, in_order)
    assert len(in_order) == 2
    assert det.late_rows == 0


def test_rows_later_than_the_allowed_lateness_are_counted_and_dropped():
    det = FrequencyDetector(["P1"], allowed_lateness="1s")
    times = T0 + pd.to_timedelta([0.0, 1.0, 2.0, 3.0], unit="s")
    det.push(times, np.full((4, 1), 60.0))
    det.push([T0 + pd.Timedelta(seconds=0.5)], [[59.0]])  # 2.5 s late, behind the watermark
    assert det.late_rows == 1
    det.push([T0 + pd.Timedelta(seconds=2.5)], [[59.0]])  # within the lateness: accepted
    assert det.late_rows == 1


def test_a_gap_is_not_an_excursion():
    # out-of-band samples at 10 and 11 s, then no data for 20 s, then one more: no alert
    offsets = np.r_[np.arange(0.0, 12.0, 0.5), np.arange(32.0, 40.0, 0.5)]
    values = np.full(offsets.size, 60.0)
    values[np.isin(offsets, [10.0, 11.0, 32.0])] = 59.9
    events, _ = _stream(offsets, values)
    assert events.empty


def test_nan_is_not_out_of_band_and_bad_quality_is_ignored():
    offsets, values = _series([10.0, 11.0, 12.0])
    values[np.isclose(offsets, 11.0)] = np.nan
    events, _ = _stream(offsets, values)
    assert events.empty
    offsets, values = _series([10.0, 11.0, 12.0])
    quality = np.where(np.isclose(offsets, 12.0), 1, 0)
    events, _ = _stream(offsets, values, quality=quality)
    assert events.empty
    events, _ = _stream(offsets, values, quality=np.zeros(offsets.size, int))
    assert len(events) == 1


def test_fifty_hz_grid_and_count_and_window_are_parameters():
    offsets = np.arange(0.0, 20.0, 0.1)
    values = np.full(offsets.size, 50.0)
    values[(offsets >= 5.0) & (offsets < 5.35)] = 49.8  # 4 samples within 0.3 s
    events, _ = _stream(offsets, values, nominal_hz=50.0, band_hz=0.1, count=4, window="0.5s")
    assert len(events) == 1
    assert events.iloc[0]["samples_outside"] == 4
    events, _ = _stream(offsets, values, nominal_hz=50.0, band_hz=0.1, count=5, window="0.5s")
    assert events.empty


def test_bad_parameters_and_shapes_are_rejected():
    with pytest.raises(AnomalyInputError, match="band_hz"):
        FrequencyDetector(["P1"], band_hz=0)
    with pytest.raises(AnomalyInputError, match="window"):
        FrequencyDetector(["P1"], window="five seconds")
    det = FrequencyDetector(["P1", "P2"])
    with pytest.raises(AnomalyInputError, match="shape"):
        det.push([T0], [[60.0]])


def _oracle(offsets, values, count=3, window=5.0, lo=59.95, hi=60.05):
    """Brute force, straight from the definition, one sample at a time."""
    out = [(o, v) for o, v in zip(offsets, values, strict=True) if v < lo or v > hi]
    episodes, i = [], 0
    while i < len(out):
        j = i  # cluster [i, j]
        while j + 1 < len(out) and out[j + 1][0] - out[j][0] < window:
            j += 1
        for s in range(i, j - count + 2):
            if out[s + count - 1][0] - out[s][0] <= window:
                vals = [v for _, v in out[s : j + 1]]
                episodes.append((out[s][0], out[j][0], min(vals), max(vals), j - s + 1))
                break
        i = j + 1
    return episodes


@pytest.mark.parametrize("seed", range(6))
def test_streaming_and_batch_match_a_brute_force_oracle(seed):
    rng = np.random.default_rng(seed)
    n_pmu, n = 5, 2400  # 40 s at 60 fps
    offsets = np.arange(n) / 60.0
    values = 60.0 + rng.normal(0, 0.03, (n, n_pmu))  # frequent, ragged excursions
    values[rng.random((n, n_pmu)) < 0.02] = np.nan
    events, det = _stream(
        offsets[::-1].copy(), values[::-1].copy(), batch=n + 1, pmus=[f"P{k}" for k in range(n_pmu)]
    )
    assert det.late_rows == 0  # one batch, reversed: everything is sorted before processing
    frame = pd.DataFrame(
        {
            "t": np.repeat(T0 + pd.to_timedelta(offsets, unit="s"), n_pmu),
            "pmu": np.tile([f"P{k}" for k in range(n_pmu)], n),
            "f": values.ravel(),
        }
    ).sample(frac=1.0, random_state=seed)
    batch = detect_frequency_frame(frame, "t", "f", "pmu")
    pd.testing.assert_frame_equal(events, batch)
    perm = np.arange(n)
    for i in range(0, n, 30):  # shuffled within half a second, fed in uneven batches
        perm[i : i + 30] = rng.permutation(perm[i : i + 30])
    chunked, det = _stream(
        offsets[perm], values[perm], batch=47, pmus=[f"P{k}" for k in range(n_pmu)],
        allowed_lateness="0.5s",
    )  # fmt: skip
    assert det.late_rows == 0
    pd.testing.assert_frame_equal(chunked, batch)
    for k in range(n_pmu):
        expected = _oracle(np.round(offsets * 1e9).astype(np.int64) / 1e9, values[:, k])
        got = batch[batch["group"] == f"P{k}"]
        assert len(got) == len(expected) > 0
        secs = ((got["start"] - T0).dt.total_seconds()).to_numpy()
        assert np.allclose(secs, [e[0] for e in expected], atol=1e-6)
        assert got["samples_outside"].tolist() == [e[4] for e in expected]
        assert np.allclose(got["min_hz"], [e[2] for e in expected])
