"""Learned detectors: fitted on a training period, calibrated on a validation period, scored on
a later test period (no peeking), typed, merged with the rules with provenance."""

from __future__ import annotations

import copy

import numpy as np
import pandas as pd
import pytest

from workbench.anomaly.base import AnomalyInputError
from workbench.anomaly.detectors.ensemble import combine, spikes_to_bursts
from workbench.anomaly.detectors.kinds import merge_pieces
from workbench.anomaly.detectors.learned import (
    LearnedDetector,
    asset_days,
    lead_start,
    typed_end,
)
from workbench.anomaly.events import events_frame
from workbench.anomaly.inputs import long_series
from workbench.anomaly.sensor import detect_sensor_anomalies, fit_learned

T0 = pd.Timestamp("2024-03-01", tz="UTC")
STEP_S = 4.0


def ar1(rng: np.random.Generator, n: int, tau_s: float) -> np.ndarray:
    """Unit-variance AR(1) noise with correlation time ``tau_s``, one value every STEP_S."""
    phi = np.exp(-STEP_S / tau_s)
    ar = np.zeros(n)
    shocks = rng.standard_normal(n) * np.sqrt(1 - phi**2)
    for i in range(1, n):
        ar[i] = phi * ar[i - 1] + shocks[i]
    return ar


def telemetry(start: pd.Timestamp, hours: float, seed: int, assets: int = 3) -> pd.DataFrame:
    """Healthy telemetry: a daily swing (the reference) + AR(1) process noise (tau 60 s) +
    white transducer noise, every 4 s, per asset."""
    rng = np.random.default_rng(seed)
    n = int(hours * 3600 / STEP_S)
    rows = []
    for a in range(assets):
        t = start + pd.to_timedelta(np.arange(n) * STEP_S + a * 0.7, unit="s")
        secs = (t - T0).total_seconds().to_numpy()
        ref = 200.0 + 50 * a + 60.0 * np.sin(2 * np.pi * secs / 86_400.0)
        ar = ar1(rng, n, 60.0)
        value = np.round(ref + 1.5 * ar + 0.1 * rng.standard_normal(n), 3)
        rows.append(pd.DataFrame({"timestamp": t, "asset": f"A{a}", "value": value, "ref": ref}))
    return pd.concat(rows, ignore_index=True)


def state(det: LearnedDetector) -> tuple:
    return copy.deepcopy((det.params, det.thresholds, det.excluded, det.seen_ns))


@pytest.fixture(scope="module")
def periods():
    train = telemetry(T0, 24, seed=1)
    val = telemetry(T0 + pd.Timedelta("24h"), 12, seed=2)
    test = telemetry(T0 + pd.Timedelta("36h"), 12, seed=3)
    return train, val, test


@pytest.fixture(scope="module")
def model(periods):
    train, val, _ = periods
    return fit_learned(
        pd.concat([train, val]), "timestamp", "value", "asset",
        split=T0 + pd.Timedelta("24h"), reference_col="ref", target_rate=0.05,
    )  # fmt: skip


def series_ref(frame: pd.DataFrame):
    return (
        long_series(frame, "timestamp", "value", "asset"),
        long_series(frame, "timestamp", "ref", "asset").values,
    )


def test_train_then_score_a_later_period_without_peeking(periods, model):
    _, _, test = periods
    assert model.seen_ns[1] < test["timestamp"].min().value  # fitted and calibrated before it
    before = state(model)
    faulty = test.copy()
    hit = (faulty["asset"] == "A1") & faulty["timestamp"].between(
        T0 + pd.Timedelta("40h"), T0 + pd.Timedelta("41h")
    )
    faulty.loc[hit, "value"] += 25.0  # a bias step of 25 MW for an hour
    s, ref = series_ref(faulty)
    events = model.detect(s, ref)
    assert state(model) == before  # scoring the test period changed nothing fitted
    s2, ref2 = series_ref(test.assign(value=test["value"] * 1.3))
    model.detect(s2, ref2)
    assert state(model) == before
    found = events[(events["group"] == "A1") & (events["kind"] == "bias_step")]
    assert len(found) == 1, events
    assert set(found["detector"]) == {"learned:level"}
    assert found["start"].iloc[0] <= T0 + pd.Timedelta("40h") + pd.Timedelta("10min")
    assert found["end"].iloc[0] >= T0 + pd.Timedelta("41h") - pd.Timedelta("10min")
    clean = model.detect(*series_ref(test))
    assert len(clean) <= 1  # no bias step where there is none


def test_the_model_depends_on_training_and_validation_only(periods, model):
    train, val, _ = periods
    again = fit_learned(
        pd.concat([train, val]), "timestamp", "value", "asset",
        split=T0 + pd.Timedelta("24h"), reference_col="ref",
    )  # fmt: skip
    assert state(again) == state(model)
    shaken = val.assign(value=val["value"] + np.where(val["asset"] == "A0", 40.0, 0.0))
    moved = fit_learned(
        pd.concat([train, shaken]), "timestamp", "value", "asset",
        split=T0 + pd.Timedelta("24h"), reference_col="ref",
    )  # fmt: skip
    assert moved.params == model.params  # validation data does not fit the scales
    assert moved.thresholds != model.thresholds  # it does set the thresholds


def test_calibration_holds_the_false_event_target_on_clean_data(periods, model):
    _, val, _ = periods
    s, ref = series_ref(val)
    rate = len(model.detect(s, ref)) / asset_days(s)
    assert rate <= 0.05 + 1e-9
    fresh, fresh_ref = series_ref(telemetry(T0 + pd.Timedelta("48h"), 24, seed=9))
    # 1.5 validation asset-days allow 0.075 events: the thresholds extend past the validation
    # maxima by a tail fit, so fresh data does not pass them by a hair
    assert len(model.detect(fresh, fresh_ref)) / asset_days(fresh) <= 0.5


def test_a_training_window_full_of_labelled_faults_is_refused(periods):
    train, _, _ = periods
    s, ref = series_ref(train)
    labels = pd.DataFrame(
        {"target_id": ["A0", "A1", "A2"], "start": [T0] * 3, "end": [T0 + pd.Timedelta("20h")] * 3}
    )
    with pytest.raises(AnomalyInputError, match="free of labelled or rule-detected faults"):
        LearnedDetector().fit(s, ref, labels)
    few = labels.iloc[:1].assign(end=T0 + pd.Timedelta("1h"))
    det = LearnedDetector().fit(s, ref, few)
    assert det.excluded["training_samples_left_out"] > 3600 / STEP_S  # the hour, widened


def test_unsupervised_mode_on_data_without_labels(periods):
    _, _, test = periods
    faulty = test.copy()
    hit = (faulty["asset"] == "A2") & faulty["timestamp"].between(
        T0 + pd.Timedelta("38h"), T0 + pd.Timedelta("38h30min")
    )
    faulty.loc[hit, "value"] = faulty.loc[hit, "value"].iloc[0] + np.round(
        0.1 * np.random.default_rng(5).standard_normal(int(hit.sum())), 3
    )  # frozen value plus transducer-size noise
    events = detect_sensor_anomalies(faulty, "timestamp", "value", "asset", method="ensemble")
    assert list(events.columns[:6]) == ["group", "start", "end", "score", "kind", "detector"]
    mine = events[events["group"] == "A2"]
    overlap = (mine["start"] <= T0 + pd.Timedelta("38h30min")) & (
        mine["end"] >= T0 + pd.Timedelta("38h")
    )
    assert overlap.any(), events


def _ev(group, start_min, end_min, kind, score):
    return events_frame(
        [group], [(T0 + pd.Timedelta(minutes=start_min)).value],
        [(T0 + pd.Timedelta(minutes=end_min)).value], [score], kind,
    )  # fmt: skip


def test_ensemble_merges_overlaps_and_keeps_provenance():
    rules = pd.concat([_ev("A", 0, 30, "flatline", 3.0), _ev("B", 100, 100.1, "spike", 2.0)])
    learned = pd.concat(
        [
            _ev("A", 20, 50, "bias_step", 1.5).assign(detector="learned:level"),
            _ev("A", 200, 230, "stuck_with_noise", 1.2).assign(detector="learned:white"),
            _ev("B", 90, 120, "intermittent_oscillation", 1.1).assign(detector="learned:wiggle"),
        ]
    )
    out = combine(rules, learned).set_index(["group", "kind"])
    assert len(out) == 3
    a = out.loc[("A", "flatline")]
    assert a["detector"] == "rules:flatline+learned:level"
    assert a["scores"] == "rules:flatline=3.00;learned:level=1.50"
    assert a["score"] == 3.0
    assert a["end"] == T0 + pd.Timedelta(minutes=50)
    assert out.loc[("A", "stuck_with_noise"), "detector"] == "learned:white"
    b = out.loc[("B", "intermittent_oscillation")]  # the spike is part of the oscillation
    assert b["detector"] == "learned:wiggle+rules:spike"


def test_spikes_in_bursts_are_an_oscillation():
    spikes = pd.concat([_ev("A", m, m + 0.1, "spike", 2.0) for m in (0, 2, 4, 60)])
    out = spikes_to_bursts(spikes, gap_ns=300 * 10**9).sort_values("start")
    assert list(out["kind"]) == ["intermittent_oscillation", "spike"]
    assert out["end"].iloc[0] == T0 + pd.Timedelta(minutes=4.1)


def test_a_small_spike_near_an_oscillation_is_its_peak_a_large_one_a_spike():
    rules = pd.concat(
        [_ev("A", 33, 33.1, "spike", 2.0), _ev("A", 80, 80.1, "spike", 2.0),
         _ev("B", 33, 33.1, "spike", 40.0)]
    )  # fmt: skip
    wiggle = _ev("A", 0, 30, "intermittent_oscillation", 1.5).assign(detector="learned:wiggle")
    learned = pd.concat([wiggle, wiggle.assign(group=pd.array(["B"], dtype="string"))])
    out = combine(rules, learned).sort_values(["group", "start"]).reset_index(drop=True)
    assert list(out["kind"]) == ["intermittent_oscillation", "spike"] * 2
    assert out.loc[0, "end"] == T0 + pd.Timedelta(minutes=33.1)  # 3 min after: a pause
    assert out.loc[0, "detector"] == "learned:wiggle+rules:spike"
    assert out.loc[1, "start"] == T0 + pd.Timedelta(minutes=80)  # 50 min after: its own
    assert out.loc[3, "score"] == 40.0  # a jump far past the threshold stays a spike


def test_a_merged_event_takes_the_sharpest_learned_kind():
    rules = _ev("A", 9, 21, "spike", 50.0)  # joins the two learned events into one cluster
    learned = pd.concat(
        [
            _ev("A", 0, 10, "copied_from_asset", 1.0).assign(detector="learned:copy"),
            _ev("A", 20, 30, "stuck_with_noise", 3.0).assign(detector="learned:white"),
        ]
    )
    out = combine(rules, learned)
    assert len(out) == 1
    assert out["kind"].iloc[0] == "copied_from_asset"


def test_a_long_learned_fault_touched_by_a_sharper_one_stays_its_own_in_the_ensemble():
    """A 5-h drift whose last 10 min meet an oscillation of the same asset: two faults in the
    ensemble as in the learned column (a spike in the overlap joins one of them)."""
    learned = pd.concat(
        [
            _ev("A", 0, 300, "calibration_drift", 5.0).assign(detector="learned:level"),
            _ev("A", 290, 330, "intermittent_oscillation", 2.0).assign(detector="learned:wiggle"),
        ]
    )
    out = combine(_ev("A", 295, 295.1, "spike", 2.0), learned)
    assert sorted(out["kind"]) == ["calibration_drift", "intermittent_oscillation"]


def test_a_level_event_lead_stops_at_the_end_of_another_fault():
    """The 30 min before a level event that its typing looks at stop where a fault of another
    signature (a stuck spell, a copy) ended: what came before is no part of this fault."""
    n = 1800  # 2 h of 4-s samples, two assets
    t = T0 + pd.to_timedelta(np.arange(n) * STEP_S, unit="s")
    frame = pd.DataFrame({"timestamp": np.tile(t, 2), "value": 1.0,
                          "asset": np.repeat(["A", "B"], n)})  # fmt: skip
    series = long_series(frame, "timestamp", "value", "asset")
    i = n + 1350  # B at 1 h 30 min
    assert lead_start(series, i, 1800 * 10**9) == n + 900  # B at 1 h
    stops = np.array([600, n + 1050])  # A's fault ends at 40 min, B's at 1 h 10 min
    assert lead_start(series, i, 1800 * 10**9, stops) == n + 1051
    assert lead_start(series, n + 300, 1800 * 10**9, stops) == n  # A's fault is not B's


def test_a_level_event_is_typed_up_to_the_first_other_fault_that_starts_inside_it():
    """A drift that a copy follows within one level event: its typing stops before the
    copy's first sample (past it the residual is the copy's); a fault that starts in the
    event's first minute (the same fault seen by a sharper signal) does not cut it."""
    n = 1800
    t = T0 + pd.to_timedelta(np.arange(n) * STEP_S, unit="s")
    series = long_series(pd.DataFrame({"timestamp": t, "value": 1.0, "asset": "A"}),
                         "timestamp", "value", "asset")  # fmt: skip
    minute = 60 * 10**9
    assert typed_end(series, 300, 1500, np.array([200, 305, 900, 1200]), minute) == 899
    assert typed_end(series, 300, 1500, np.array([200, 305, 1600]), minute) == 1500
    assert typed_end(series, 300, 1500, np.array([], np.int64), minute) == 1500


def _flat_unit(start: pd.Timestamp, hours: float, seed: int) -> pd.DataFrame:
    """A unit at a steady high output (nuclear-like): reference 1160 +- 5 MW, slow wander
    (AR, tau 120 s, sd 0.6 MW) and white noise of the same size, every 4 s."""
    rng = np.random.default_rng(seed)
    n = int(hours * 3600 / STEP_S)
    t = start + pd.to_timedelta(np.arange(n) * STEP_S, unit="s")
    ref = 1160.0 + 5.0 * np.sin(2 * np.pi * (t - T0).total_seconds().to_numpy() / 86_400.0)
    ar = ar1(rng, n, 120.0)
    value = np.round(ref + 0.6 * ar + 0.6 * rng.standard_normal(n), 3)
    return pd.DataFrame({"timestamp": t, "asset": "N", "value": value, "ref": ref})


def test_a_steady_unit_gets_its_own_wander_scale_and_a_long_stuck_spell_is_found():
    """A narrow range of output far from 0 must not set the healthy slow-wander scale by an
    extrapolated intercept; an hour of a frozen reading plus noise is then found and typed."""
    train, val = _flat_unit(T0, 24, seed=1), _flat_unit(T0 + pd.Timedelta("24h"), 12, seed=2)
    det = LearnedDetector().fit(*series_ref(train)).calibrate(*series_ref(val))
    a, b, _ = det.params["N"]["quiet"]
    s, ref = series_ref(train)
    means = pd.Series(s.values - ref).rolling(15).mean().rolling(300).var().median()
    assert 0.6 < (a + b * 1160.0) / np.sqrt(means) < 1.6
    test = _flat_unit(T0 + pd.Timedelta("36h"), 12, seed=3)
    hit = test["timestamp"].between(T0 + pd.Timedelta("40h"), T0 + pd.Timedelta("41h"))
    frozen = test.loc[hit, "value"].iloc[0]
    test.loc[hit, "value"] = np.round(frozen + 0.6 * np.random.default_rng(4).standard_normal(
        int(hit.sum())), 3)  # fmt: skip
    ev = det.detect(*series_ref(test))
    found = ev[(ev["start"] <= T0 + pd.Timedelta("41h")) & (ev["end"] >= T0 + pd.Timedelta("40h"))]
    assert (found["kind"] == "stuck_with_noise").any(), ev


def test_pieces_of_one_fault_become_one_event():
    """Signals of one stuck spell side by side, the bursts of one oscillation minutes apart
    and a drift seen again after a dip in output are one fault each; two bias steps 6 min
    apart, and pieces of different assets or past the gap, stay apart."""
    learned = pd.concat(
        [
            _ev("A", 0, 20, "stuck_with_noise", 1.2).assign(detector="learned:white"),
            _ev("A", 10, 60, "stuck_with_noise", 2.0).assign(detector="learned:calm"),
            _ev("A", 62, 70, "stuck_with_noise", 1.1).assign(detector="learned:quiet"),
            _ev("A", 100, 103, "intermittent_oscillation", 1.5).assign(detector="learned:wiggle"),
            _ev("A", 114, 117, "intermittent_oscillation", 1.4).assign(detector="learned:wiggle"),
            _ev("A", 200, 260, "calibration_drift", 1.3).assign(detector="learned:drift"),
            _ev("A", 310, 330, "calibration_drift", 1.6).assign(detector="learned:level"),
            _ev("A", 500, 520, "bias_step", 2.0).assign(detector="learned:level"),
            _ev("A", 526, 540, "bias_step", 2.0).assign(detector="learned:level"),
            _ev("B", 102, 105, "intermittent_oscillation", 1.5).assign(detector="learned:wiggle"),
            _ev("B", 130, 133, "intermittent_oscillation", 1.5).assign(detector="learned:wiggle"),
        ]
    )
    out = merge_pieces(learned)
    got = [(g, k, round((s - T0).total_seconds() / 60), round((e - T0).total_seconds() / 60))
           for g, k, s, e in zip(out["group"], out["kind"], out["start"], out["end"],
                                 strict=True)]  # fmt: skip
    assert got == [
        ("A", "stuck_with_noise", 0, 70),
        ("A", "intermittent_oscillation", 100, 117),
        ("A", "calibration_drift", 200, 330),
        ("A", "bias_step", 500, 520),
        ("A", "bias_step", 526, 540),
        ("B", "intermittent_oscillation", 102, 105),
        ("B", "intermittent_oscillation", 130, 133),
    ]
    assert out["detector"].iloc[0] == "learned:white+learned:calm+learned:quiet"
    assert out["score"].iloc[0] == 2.0
    ens = combine(_ev("A", 0, 0.1, "spike", 50.0).iloc[:0], learned)  # the ensemble alike
    assert len(ens) == len(out)
    assert ens["scores"].iloc[0] == "learned:white=1.20;learned:calm=2.00;learned:quiet=1.10"


def test_a_rule_event_inside_a_long_learned_fault_leaves_it_its_type():
    """An out-of-range sample 1 h into a 3-h drift is its own fault; a level event within 5 min
    of a flatline is the flatline's trace and takes its type."""
    rules = pd.concat([_ev("A", 60, 60.1, "out_of_range", 5.0), _ev("B", 0, 20, "flatline", 3.0)])
    learned = pd.concat(
        [
            _ev("A", 0, 180, "calibration_drift", 1.5).assign(detector="learned:drift"),
            _ev("B", 15, 24, "bias_step", 1.2).assign(detector="learned:level"),
        ]
    )
    out = combine(rules, learned)
    got = sorted(zip(out["group"], out["kind"], out["detector"], strict=True))
    assert got == [
        ("A", "calibration_drift", "learned:drift"),
        ("A", "out_of_range", "rules:out_of_range"),
        ("B", "flatline", "rules:flatline+learned:level"),
    ]


def test_a_unit_whose_wander_comes_and_goes_is_quiet_in_units_of_its_own_tail():
    """A unit whose slow wander stops for hours (a weather-driven one on a clear day) shows
    calm spells when healthy: its quiet and calm ratios are in units of its own healthy 99th
    percentile, far wider than a steady unit's, so its calm spell is no stuck alarm."""

    def unit(name: str, start: pd.Timestamp, hours: float, seed: int, calm_from: float):
        frame = _flat_unit(start, hours, seed).assign(asset=name)
        if calm_from >= 0:  # no wander from calm_from h on, for 3 h of every 6
            h = (frame["timestamp"] - start).dt.total_seconds().to_numpy() / 3600.0
            still = ((h - calm_from) % 6.0 < 3.0) & (h >= calm_from)
            rng = np.random.default_rng(seed + 50)
            noise = 0.6 * rng.standard_normal(int(still.sum()))
            frame.loc[still, "value"] = np.round(frame.loc[still, "ref"] + noise, 3)
        return frame

    def both(start: pd.Timestamp, hours: float, seed: int) -> pd.DataFrame:
        return pd.concat([unit("N", start, hours, seed, -1.0),
                          unit("W", start, hours, seed + 10, 1.0)], ignore_index=True)  # fmt: skip

    det = LearnedDetector().fit(*series_ref(both(T0, 24, 1)))
    det.calibrate(*series_ref(both(T0 + pd.Timedelta("24h"), 12, 2)))
    steady, weather = det.params["N"]["calm"][2], det.params["W"]["calm"][2]
    assert weather > 1.5 * steady  # its healthy calm spells widen its tail
    test = both(T0 + pd.Timedelta("36h"), 12, 3)
    s, ref = series_ref(test)
    calm = det.score(s, ref)["calm"]
    assert calm[s.group == list(s.labels).index("W")].max() < 1.0  # 1.04 in units of 1


def _nuclear_fleet(start: pd.Timestamp, hours: float, seed: int, units: int = 4) -> pd.DataFrame:
    """``units`` steady units (see :func:`_flat_unit`), one asset each."""
    return pd.concat([_flat_unit(start, hours, seed * 10 + u).assign(asset=f"N{u}")
                      for u in range(units)], ignore_index=True)  # fmt: skip


def test_the_healthy_residual_model_and_its_likelihood_ratio():
    """A steady unit's residual (AR(1), tau 120 s, sd 0.6, plus white noise of sd 0.6) is
    fitted as such; the likelihood ratio of white noise alone is below 0 on it and above 0 on
    a reading that kept the white noise only, over (nearly) every 20-min window."""
    from workbench.anomaly.detectors.signals import ar_white_fit, memory_ratio

    rng = np.random.default_rng(7)
    n = 21_600
    healthy = 0.6 * ar1(rng, n, 120.0) + 0.6 * rng.standard_normal(n)
    phi, theta, s_e, s_w = ar_white_fit(healthy)
    assert abs(phi - np.exp(-STEP_S / 120.0)) < 0.01
    assert 0.6 * 0.36 < s_w < 1.4 * 0.36
    assert 0 < theta < phi
    assert s_e > s_w
    group = np.zeros(n, np.int64)
    model = {0: (phi, theta, s_e, s_w)}
    ok = slice(300, n - 300)  # whole windows
    lr_healthy = memory_ratio(healthy, group, model, window=300)[ok]
    lr_white = memory_ratio(1000.0 + 0.6 * rng.standard_normal(n), group, model, window=300)[ok]
    assert np.median(lr_healthy) < -0.1
    assert lr_healthy.max() < 0.0
    assert np.quantile(lr_white, 0.01) > 0.0
    assert np.median(lr_white) > 0.03
    with_gap = healthy.copy()
    with_gap[5000:6000] = np.nan  # left out (masked): no window rings across it
    gap_lr = memory_ratio(with_gap + 50.0 * (np.arange(n) > 5500), group, model, 300)
    assert np.nanmax(gap_lr) < 0.0


def test_a_steady_unit_stuck_for_25_minutes_is_found_by_its_lost_memory():
    """A nuclear-like unit's healthy residual is AR(1) + white noise of the same size; a
    reading frozen for 25 min keeps the white noise only. The memory signal (the likelihood
    ratio of white noise alone against each unit's healthy model, over 20 min) passes its
    threshold inside the spell and nowhere on the healthy units and hours; the spell is one
    event, typed stuck_with_noise, and nothing else is raised."""
    det = LearnedDetector().fit(*series_ref(_nuclear_fleet(T0, 24, seed=1)))
    det.calibrate(*series_ref(_nuclear_fleet(T0 + pd.Timedelta("24h"), 24, seed=2)))
    test = _nuclear_fleet(T0 + pd.Timedelta("48h"), 12, seed=3)
    s0, s1 = T0 + pd.Timedelta("52h"), T0 + pd.Timedelta("52h25min")
    hit = (test["asset"] == "N0") & test["timestamp"].between(s0, s1)
    frozen = test.loc[hit, "value"].iloc[0]
    noise = 0.6 * np.random.default_rng(4).standard_normal(int(hit.sum()))
    test.loc[hit, "value"] = np.round(frozen + noise, 3)
    series, ref = series_ref(test)
    memory = det.score(series, ref)["memory"]
    near = (test["asset"] == "N0") & test["timestamp"].between(
        s0 - pd.Timedelta("15min"), s1 + pd.Timedelta("15min")
    )
    order = np.lexsort((test["timestamp"].to_numpy(), test["asset"].to_numpy()))
    inside, close = hit.to_numpy()[order], near.to_numpy()[order]  # series order
    assert memory[inside].max() >= 1.0
    assert memory[~close].max() < 1.0
    ev = det.detect(series, ref)
    assert len(ev) == 1, ev
    assert ev["group"].iloc[0] == "N0"
    assert ev["kind"].iloc[0] == "stuck_with_noise"
    assert "learned:memory" in ev["detector"].iloc[0]
    assert ev["start"].iloc[0] <= s1
    assert ev["end"].iloc[0] >= s0


def _fleet(start: pd.Timestamp, hours: float, seed: int, levels: tuple[float, ...]) -> pd.DataFrame:
    """Wind-like units: output ``levels`` (+- 10 % over the day), process noise 0.5 MW + 3 %
    of output (AR, tau 40 s) and 0.1 MW of transducer noise, every 4 s."""
    rng = np.random.default_rng(seed)
    n = int(hours * 3600 / STEP_S)
    rows = []
    for a, level in enumerate(levels):
        t = start + pd.to_timedelta(np.arange(n) * STEP_S + a * 0.7, unit="s")
        secs = (t - T0).total_seconds().to_numpy()
        ref = level * (1.0 + 0.1 * np.sin(2 * np.pi * secs / 86_400.0))
        value = ref + (0.5 + 0.03 * ref) * ar1(rng, n, 40.0) + 0.1 * rng.standard_normal(n)
        rows.append(pd.DataFrame({"timestamp": t, "asset": f"W{a}", "value": np.round(value, 3),
                                  "ref": ref}))  # fmt: skip
    return pd.concat(rows, ignore_index=True)


def test_a_unit_running_far_above_its_training_output_leaves_the_drift_threshold_alone():
    """W0 ran at 60 MW in training and runs at 800 MW after: its residual, in units of the
    noise measured where it runs, stays healthy, so it does not lift the drift threshold that
    all units share, and a 6 % gain error growing over 3 h on W1 is found and typed."""
    train = _fleet(T0, 24, 1, (60.0, 300.0, 300.0))
    val = _fleet(T0 + pd.Timedelta("24h"), 12, 2, (800.0, 300.0, 300.0))
    det = LearnedDetector().fit(*series_ref(train)).calibrate(*series_ref(val))
    s, ref = series_ref(val)
    w0 = s.group == 0
    assert np.quantile(det.score(s, ref)["drift"][w0], 0.99) < 0.5  # healthy where it runs
    test = _fleet(T0 + pd.Timedelta("36h"), 12, 3, (800.0, 300.0, 300.0))
    on = (test["asset"] == "W1") & test["timestamp"].between(T0 + pd.Timedelta("38h"),
                                                             T0 + pd.Timedelta("41h"))  # fmt: skip
    gain = 0.06 * np.linspace(0.0, 1.0, int(on.sum()))
    test.loc[on, "value"] = np.round(test.loc[on, "value"] * (1.0 + gain), 3)
    ev = det.detect(*series_ref(test))
    hit = ev[(ev["group"] == "W1") & (ev["start"] <= T0 + pd.Timedelta("41h"))
             & (ev["end"] >= T0 + pd.Timedelta("38h"))]  # fmt: skip
    assert (hit["kind"] == "calibration_drift").any(), ev
    others = ev[(ev["group"] != "W1") & ev["kind"].isin(["calibration_drift", "bias_step"])]
    assert others.empty, ev


def _hunting_and_wind(start: pd.Timestamp, hours: float, seed: int) -> pd.DataFrame:
    """H: a unit at 200 MW whose governor hunts, a healthy 30-s swing of 1.5 MW always on,
    over its noise (1 MW, tau 60 s); W: a wind unit at 300 MW (noise 0.5 MW + 3 %, tau 40 s).
    Every 4 s."""
    rng = np.random.default_rng(seed)
    n = int(hours * 3600 / STEP_S)
    t = start + pd.to_timedelta(np.arange(n) * STEP_S, unit="s")
    secs = (t - T0).total_seconds().to_numpy()
    ref_h = np.full(n, 200.0)
    hunt = ref_h + 1.5 * np.sin(2 * np.pi * secs / 30.0) + ar1(rng, n, 60.0)
    ref_w = 300.0 * (1.0 + 0.1 * np.sin(2 * np.pi * secs / 86_400.0))
    wind = ref_w + (0.5 + 0.03 * ref_w) * ar1(rng, n, 40.0)
    return pd.concat([
        pd.DataFrame({"timestamp": t, "asset": "H", "value": np.round(hunt, 3), "ref": ref_h}),
        pd.DataFrame({"timestamp": t + pd.Timedelta("0.7s"), "asset": "W",
                      "value": np.round(wind + 0.1 * rng.standard_normal(n), 3), "ref": ref_w}),
    ], ignore_index=True)  # fmt: skip


def test_each_asset_wiggles_in_units_of_its_own_healthy_tail():
    """A unit whose governor hunts swings all the time; in units of its own healthy tail it
    does not set the wiggle threshold of the wind unit, whose 30-min burst of a 24-s
    oscillation of 8 MW (under 3 % of output) is found and typed."""
    train = _hunting_and_wind(T0, 24, 1)
    val = _hunting_and_wind(T0 + pd.Timedelta("24h"), 12, 2)
    det = LearnedDetector().fit(*series_ref(train)).calibrate(*series_ref(val))
    test = _hunting_and_wind(T0 + pd.Timedelta("36h"), 12, 3)
    on = (test["asset"] == "W") & test["timestamp"].between(T0 + pd.Timedelta("40h"),
                                                            T0 + pd.Timedelta("40.5h"))  # fmt: skip
    secs = (test.loc[on, "timestamp"] - T0).dt.total_seconds().to_numpy()
    burst = np.where((secs // 120) % 2 == 0, 8.0 * np.sin(2 * np.pi * secs / 24.0), 0.0)
    test.loc[on, "value"] = np.round(test.loc[on, "value"] + burst, 3)
    ev = det.detect(*series_ref(test))
    hit = ev[(ev["group"] == "W") & (ev["start"] <= T0 + pd.Timedelta("40.5h"))
             & (ev["end"] >= T0 + pd.Timedelta("40h"))]  # fmt: skip
    assert (hit["kind"] == "intermittent_oscillation").any(), ev
    assert (ev["kind"] == "intermittent_oscillation").sum() == 1, ev
