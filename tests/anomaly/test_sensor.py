"""Sensor rules, Isolation Forest, LSTM autoencoder and the ensemble on a synthetic telemetry
frame with one fault of each kind planted at a known place."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from workbench.anomaly.base import AnomalyInputError
from workbench.anomaly.detectors.ensemble import EnsembleDetector
from workbench.anomaly.detectors.iforest import IsolationForestDetector
from workbench.anomaly.detectors.lstm_ae import LSTMAutoencoderDetector
from workbench.anomaly.detectors.rules import RuleSet, SpikeRule
from workbench.anomaly.evaluation import score_events
from workbench.anomaly.events import merge_flags
from workbench.anomaly.inputs import long_series
from workbench.anomaly.sensor import detect_sensor_anomalies

T0 = pd.Timestamp("2024-03-01", tz="UTC")


@pytest.fixture(scope="module")
def telemetry():
    """Two assets, 4-s scans for 2 h: AR(1) wander; faults on A and B; labels for each."""
    rng = np.random.default_rng(7)
    n, rows, labels = 1800, [], []
    for asset, level in (("A", 300.0), ("B", 120.0)):
        t = np.arange(n) * 4.0
        ar = np.zeros(n)
        for i in range(1, n):
            ar[i] = 0.9 * ar[i - 1] + rng.normal(0, 1.0)
        v = level + 2.0 * ar + rng.normal(0, 0.2, n)
        keep = np.ones(n, bool)
        if asset == "A":
            v[300] += 150.0  # spike
            v[900:960] = v[900]  # flatline, 4 min
            labels += [("spike", 300, 301), ("flatline", 900, 960)]
        else:
            v[500:502] = -9999.0  # out of range
            keep[1200:1260] = False  # dropout, 4 min
            labels += [("out_of_range", 500, 502), ("dropout", 1200, 1260)]
        rows.append(pd.DataFrame({"ts": T0 + pd.to_timedelta(t[keep], unit="s"),
                                  "asset": asset, "mw": v[keep]}))  # fmt: skip
        labels = [(*lab, asset) if len(lab) == 3 else lab for lab in labels]
    frame = pd.concat(rows, ignore_index=True).sample(frac=1.0, random_state=1)
    lab = pd.DataFrame(
        [
            (k, a, T0 + pd.Timedelta(seconds=4 * i0), T0 + pd.Timedelta(seconds=4 * i1))
            for k, i0, i1, a in labels
        ],
        columns=["event_type", "target_id", "start", "end"],
    )
    return frame, lab


def test_rules_find_each_planted_fault_and_nothing_else(telemetry):
    frame, labels = telemetry
    events = detect_sensor_anomalies(frame, "ts", "mw", "asset", method="rules")
    assert list(events.columns) == ["group", "start", "end", "score", "kind"]
    scores = score_events(events, labels, "8s", kind_map={"stale": "dropout"})
    by = scores.set_index("event_type")
    for kind in ("spike", "flatline", "out_of_range", "dropout"):
        assert by.loc[kind, "f1"] == 1.0, scores
    assert set(events["kind"]) == {"spike", "flatline", "out_of_range", "stale"}
    flat = events[events["kind"] == "flatline"].iloc[0]
    assert flat["start"] == T0 + pd.Timedelta(seconds=4 * 900)
    assert flat["end"] == T0 + pd.Timedelta(seconds=4 * 959)


def test_spike_threshold_is_a_parameter(telemetry):
    frame, _ = telemetry
    series = long_series(frame, "ts", "mw", "asset")
    loose = (SpikeRule(threshold=2.0).score(series) >= 1).sum()
    strict = (SpikeRule(threshold=20.0).score(series) >= 1).sum()
    assert loose > strict >= 1


def test_learned_detectors_score_the_spike_and_are_deterministic(telemetry):
    frame, _ = telemetry
    series = long_series(frame, "ts", "mw", "asset")
    spike_at = np.flatnonzero(
        (series.labels[series.group] == "A")
        & (series.time == (T0 + pd.Timedelta(seconds=1200)).value)
    )[0]
    iforest = IsolationForestDetector(contamination=0.001, n_estimators=50).fit(series)
    s_if = iforest.score(series)
    assert s_if[spike_at] >= 1.0
    assert (s_if >= 1.0).mean() < 0.01
    lstm = LSTMAutoencoderDetector(epochs=3, max_windows=200, contamination=0.001)
    s1 = lstm.fit(series).score(series)
    s2 = (
        LSTMAutoencoderDetector(epochs=3, max_windows=200, contamination=0.001)
        .fit(series)
        .score(series)
    )
    np.testing.assert_array_equal(s1, s2)
    assert s1[spike_at] >= 1.0
    ens = EnsembleDetector([RuleSet(), iforest, lstm], min_votes=2)
    members = ens.member_scores(series)
    votes = (members >= 1.0).sum(axis=0)
    np.testing.assert_array_equal(ens.score(series) >= 1.0, votes >= 2)
    assert EnsembleDetector([RuleSet(), iforest], min_votes=1).score(series)[spike_at] >= 1.0


def test_merge_flags_joins_flagged_samples_within_the_gap_tolerance():
    time = (np.arange(10) * 1e9).astype(np.int64)
    group = np.zeros(10, np.int64)
    flags = np.zeros(10, bool)
    flags[[1, 2, 5, 6]] = True
    score = np.arange(10, dtype=float)
    labels = np.array(["g"], dtype=object)
    assert len(merge_flags(group, time, flags, score, labels, "x", gap_ns=0)) == 2
    one = merge_flags(group, time, flags, score, labels, "x", gap_ns=int(3e9))
    assert len(one) == 1
    assert one.iloc[0]["score"] == 6.0
    assert one.iloc[0]["end"] == pd.Timestamp(6_000_000_000, tz="UTC")


def test_bad_input_is_rejected_with_clear_messages(telemetry):
    frame, _ = telemetry
    with pytest.raises(AnomalyInputError, match="method"):
        detect_sensor_anomalies(frame, "ts", "mw", "asset", method="magic")
    with pytest.raises(Exception, match="missing"):
        detect_sensor_anomalies(frame, "ts", "nope", "asset")
    bad = frame.assign(mw=frame["mw"].astype(str).where(frame.index != frame.index[0], "n/a"))
    with pytest.raises(AnomalyInputError, match="not numbers"):
        detect_sensor_anomalies(bad, "ts", "mw", "asset")
