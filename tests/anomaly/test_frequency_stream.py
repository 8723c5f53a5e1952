"""The stream's block path (dense reductions per batch) against its sample path and the batch
detector, on randomized streams with gaps, late and duplicate rows, bad quality and excursions
spanning batch boundaries."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from workbench.anomaly.base import AnomalyInputError
from workbench.anomaly.frequency.batch import detect_frequency_frame
from workbench.anomaly.frequency.stream import FrequencyDetector

T0 = np.datetime64("2024-01-01T00:00:00", "ns").astype(np.int64)


def _random_stream(rng, n_pmu, n_rows):
    """Row times [ns] with jitter and gaps (some longer than the window), values [Hz] with
    bursts of excursions of random length, NaNs and bad-quality samples."""
    step = rng.choice([1e9 / 60, 0.1e9, 0.7e9], size=n_rows, p=[0.6, 0.3, 0.1])
    gaps = rng.random(n_rows) < 0.01
    step[gaps] += rng.uniform(1e9, 12e9, gaps.sum())  # a gap, often longer than the window
    t = T0 + np.cumsum(np.round(step).astype(np.int64))
    v = (60.0 + rng.normal(0, 0.02, (n_rows, n_pmu))).astype(np.float32)
    for _ in range(n_rows // 20):  # bursts: a run of rows on a few PMUs, up or down
        r0, length = int(rng.integers(0, n_rows)), int(rng.integers(1, 80))
        cols = rng.random(n_pmu) < 0.4
        v[r0 : r0 + length, cols] += np.float32(rng.choice([-0.2, 0.15]))
    v[rng.random(v.shape) < 0.03] = np.nan
    q = (rng.random(v.shape) < 0.05).astype(np.int8)
    return t, v, q


def _feed(det, t, v, q, rng, shuffle_rows, late_share):
    """Push in random-size batches, rows shuffled within ``shuffle_rows``, some rows held back
    and sent far too late; return the concatenated episodes."""
    perm = np.arange(t.size)
    for i in range(0, t.size, shuffle_rows):
        perm[i : i + shuffle_rows] = rng.permutation(perm[i : i + shuffle_rows])
    out, i = [], 0
    held = []
    while i < t.size:
        b = int(rng.integers(1, 90))
        rows = perm[i : i + b]
        late = rng.random(rows.size) < late_share
        held.extend(rows[late].tolist())
        rows = rows[~late]
        if held and rng.random() < 0.3:  # the held rows arrive now, long after their time
            rows, held = np.r_[rows, held], []
        if rng.random() < 0.1 and rows.size:  # a duplicate row (the first one wins)
            rows = np.r_[rows, rows[:1]]
        out.append(det.push(t[rows], v[rows], q[rows]))
        i += b
    out.append(det.flush())
    return pd.concat(out, ignore_index=True)


@pytest.mark.parametrize("seed", range(8))
@pytest.mark.parametrize(("count", "window"), [(3, "5s"), (1, "2s"), (4, "0.3s"), (6, "1s")])
def test_block_and_sample_paths_give_identical_episodes(seed, count, window):
    rng = np.random.default_rng(seed)
    t, v, q = _random_stream(rng, n_pmu=9, n_rows=3000)
    pmus = [f"P{k}" for k in range(9)]
    shuffle_rows = int(rng.choice([1, 5, 40]))
    late_share = float(rng.choice([0.0, 0.01]))
    results = []
    for path in ("block", "samples"):
        det = FrequencyDetector(
            pmus, count=count, window=window, allowed_lateness="0.5s", band_hz=0.05, path=path
        )
        events = _feed(det, t, v, q, np.random.default_rng(seed + 100), shuffle_rows, late_share)
        results.append((events, det.late_rows, det.duplicate_rows, det.rows_processed))
    (block, *block_counts), (samples, *sample_counts) = results
    pd.testing.assert_frame_equal(block, samples)
    assert block_counts == sample_counts
    assert len(block) > 0
    if late_share:
        assert block_counts[0] > 0  # the late rows were really exercised


@pytest.mark.parametrize("seed", range(4))
def test_in_order_stream_with_gaps_matches_the_batch_detector(seed):
    rng = np.random.default_rng(seed)
    t, v, q = _random_stream(rng, n_pmu=6, n_rows=4000)
    pmus = [f"P{k}" for k in range(6)]
    det = FrequencyDetector(pmus, count=3, window="5s")
    out, i = [], 0
    while i < t.size:  # in time order, batches of 1-120 rows: excursions straddle batches
        b = int(rng.integers(1, 121))
        out.append(det.push(t[i : i + b], v[i : i + b], q[i : i + b]))
        i += b
    out.append(det.flush())
    stream = pd.concat(out).sort_values(["group", "start"], ignore_index=True)
    frame = pd.DataFrame(
        {
            "t": np.repeat(t, 6).view("datetime64[ns]"),
            "pmu": np.tile(pmus, t.size),
            "f": v.ravel(),
            "q": q.ravel(),
        }
    )
    batch = detect_frequency_frame(frame, "t", "f", "pmu", "q", count=3, window="5s")
    pd.testing.assert_frame_equal(stream, batch)
    assert len(batch) > 5
    assert det.late_rows == 0


@pytest.mark.parametrize("seed", range(4))
def test_block_path_without_quality_codes_matches_the_sample_path(seed):
    """Without quality codes the block path takes a column's own minimum or maximum as the
    episode's extreme when it lies beyond the band: excursions up and down, NaN, late rows."""
    rng = np.random.default_rng(seed + 200)
    t, v, q = _random_stream(rng, n_pmu=30, n_rows=2000)
    v[q != 0] = np.nan  # the flagged samples become missing ones
    v = np.float32(60.0) + (v - np.float32(60.0)) * np.float32(0.4)  # quiet: 8 mHz noise
    pmus = [f"P{k}" for k in range(30)]
    results = []
    for path in ("block", "samples"):
        det = FrequencyDetector(pmus, count=3, window="5s", allowed_lateness="0.5s", path=path)
        feed_rng = np.random.default_rng(seed + 300)
        out, i = [], 0
        while i < t.size:
            rows = np.arange(i, min(i + int(feed_rng.integers(1, 90)), t.size))
            rows = feed_rng.permutation(rows) if feed_rng.random() < 0.5 else rows
            out.append(det.push(t[rows], v[rows]))  # no quality argument
            i = int(rows.max()) + 1
        out.append(det.flush())
        results.append(pd.concat(out, ignore_index=True))
    pd.testing.assert_frame_equal(results[0], results[1])
    both = results[0]
    assert ((both["min_hz"] < 59.95) & (both["max_hz"] > 60.05)).any()  # both sides in one
    assert (both["max_hz"] < 59.95).any()
    assert (both["min_hz"] > 60.05).any()


def test_a_rise_beside_a_wide_dip_keeps_its_own_extremes():
    """Twenty PMUs dip below the band while one rises above it in the same batches: the
    dip's minima are the columns' own, the rise's minimum and the dip's maxima come from the
    out-of-band samples only (values up to 60.03 Hz in band around them)."""
    n_pmu, step = 30, int(1e9 // 60)
    t = T0 + np.arange(240) * step
    v = np.full((240, n_pmu), 60.0, np.float32)
    v[:, ::2] = 60.03  # in band, above the dip and below the rise
    v[60:120, :20] = np.linspace(59.94, 59.8, 60, dtype=np.float32)[:, None]
    v[70:80, 25] = np.linspace(60.2, 60.06, 10, dtype=np.float32)
    det = FrequencyDetector([f"P{k}" for k in range(n_pmu)], window="1s")
    out = [det.push(t[i : i + 60], v[i : i + 60]) for i in range(0, 240, 60)]
    events = pd.concat([*out, det.flush()], ignore_index=True).set_index("group")
    assert sorted(events.index) == sorted(f"P{k}" for k in (*range(20), 25))
    assert (events.loc["P0", ["min_hz", "max_hz"]] == np.float32([59.8, 59.94])).all()
    assert (events.loc["P25", ["min_hz", "max_hz"]] == np.float32([60.06, 60.2])).all()


def test_an_episode_spanning_many_batches_is_one_episode():
    det = FrequencyDetector(["A", "B"], window="5s")
    step = int(1e9 // 60)
    out = []
    for s in range(10):  # B is out of band in rows 150-389 (2.5-6.5 s), fed a second at a time
        rows = s * 60 + np.arange(60)
        t = T0 + rows * step
        v = np.full((60, 2), 60.0, np.float32)
        v[(rows >= 150) & (rows < 390), 1] = 59.9
        out.append(det.push(t, v))
    out.append(det.flush())
    events = pd.concat(out, ignore_index=True)
    assert events["group"].tolist() == ["B"]
    assert events["samples_outside"].tolist() == [240]
    assert events["start"].iloc[0] == pd.Timestamp(T0 + 150 * step, tz="UTC")


def test_unknown_path_is_rejected():
    with pytest.raises(AnomalyInputError, match="path"):
        FrequencyDetector(["P1"], path="fast")


def _accepted_rows(arrivals, times, lateness_ns):
    """Which arrivals the stream processes, simulated row by row (independently of the code):
    a row is late if its time is at or before the newest row already released; among pending
    rows of equal time the first to arrive wins; after each batch every pending row up to the
    newest accepted time minus the lateness is released."""
    released, max_seen, pending, kept, late = None, None, {}, [], 0
    for batch in arrivals:
        for r in batch:
            tr = int(times[r])
            if released is not None and tr <= released:
                late += 1
                continue
            pending.setdefault(tr, r)  # a duplicate time: the first arrival stays
            max_seen = tr if max_seen is None else max(max_seen, tr)
        out = sorted(x for x in pending if x <= max_seen - lateness_ns)
        for x in out:
            kept.append(pending.pop(x))
        if out:
            released = out[-1]
    kept.extend(pending[x] for x in sorted(pending))  # the flush
    return np.array(kept), late


@pytest.mark.parametrize("seed", range(3))
def test_stream_with_gaps_late_rows_and_events_matches_the_batch_detector(seed):
    """Both outputs of the stream (frames from push, arrays from push_arrays) against the batch
    detector run on the rows the stream accepted: gaps longer than the window, rows shuffled
    within the lateness, rows held back until they are too late, duplicates, bad quality."""
    rng = np.random.default_rng(seed + 40)
    pmus = [f"P{k}" for k in range(7)]
    t, v, q = _random_stream(rng, n_pmu=7, n_rows=3000)
    order = np.arange(t.size)
    for i in range(0, t.size, 8):  # shuffled within 8 rows (about 0.1-5 s, the lateness: 1 s)
        order[i : i + 8] = rng.permutation(order[i : i + 8])
    arrivals, held, i = [], [], 0
    while i < t.size:
        rows = order[i : i + int(rng.integers(1, 60))]
        back = rng.random(rows.size) < 0.02
        if held and rng.random() < 0.2:  # rows held back arrive now, most of them too late
            rows = np.r_[rows[~back], held]
            held = []
        else:
            rows = rows[~back]
        held.extend(order[i : i + back.size][back].tolist())
        if rows.size and rng.random() < 0.1:
            rows = np.r_[rows, rows[:1]]  # a duplicate
        arrivals.append(rows)
        i += back.size
    arrivals.append(np.array(held, dtype=np.int64))
    frames, arrays = [], []
    det_f = FrequencyDetector(pmus, count=3, window="5s", allowed_lateness="1s")
    det_a = FrequencyDetector(pmus, count=3, window="5s", allowed_lateness="1s")
    for rows in arrivals:
        frames.append(det_f.push(t[rows], v[rows], q[rows]))
        arrays.append(det_a.push_arrays(t[rows], v[rows], q[rows]))
    frames.append(det_f.flush())
    arrays.append(det_a.flush_arrays())
    kept, late = _accepted_rows(arrivals, t, int(1e9))
    assert det_f.late_rows == det_a.late_rows == late > 0
    assert det_f.rows_processed == kept.size < t.size  # late rows really were dropped
    frame = pd.DataFrame(
        {
            "t": np.repeat(t[kept], 7).view("datetime64[ns]"),
            "pmu": np.tile(pmus, kept.size),
            "f": v[kept].ravel(),
            "q": q[kept].ravel(),
        }
    )
    batch = detect_frequency_frame(frame, "t", "f", "pmu", "q", count=3, window="5s")
    stream = pd.concat(frames).sort_values(["group", "start"], ignore_index=True)
    pd.testing.assert_frame_equal(stream, batch)
    got = {
        name: np.concatenate([getattr(a, name) for a in arrays])
        for name in ("group", "start", "end", "min_hz", "max_hz", "samples_outside")
    }
    by = np.lexsort((got["start"], got["group"]))
    np.testing.assert_array_equal(np.asarray(pmus)[got["group"][by]], batch["group"].to_numpy())
    for name in ("start", "end"):
        np.testing.assert_array_equal(got[name][by], pd.DatetimeIndex(batch[name]).asi8)
    for name in ("min_hz", "max_hz", "samples_outside"):
        np.testing.assert_array_equal(got[name][by], batch[name].to_numpy())
    assert len(batch) > 10
    assert (batch["end"] - batch["start"] > pd.Timedelta("5s")).any()  # spans several batches


def test_the_collector_is_paused_inside_a_batch_and_restored_after():
    """``gc_paused`` disables the cyclic collector for the batch and puts back the caller's
    setting, enabled or not, also when the batch raises."""
    import gc

    from workbench.anomaly.frequency.stream import gc_paused

    was = gc.isenabled()
    try:
        for before in (True, False):
            gc.enable() if before else gc.disable()
            with gc_paused():
                assert not gc.isenabled()
            assert gc.isenabled() is before
            det = FrequencyDetector(["A"], window="1s")
            with pytest.raises(AnomalyInputError):
                det.push(np.array([T0, T0 + 1]), np.ones((3, 1)))  # wrong shape
            assert gc.isenabled() is before
    finally:
        gc.enable() if was else gc.disable()
