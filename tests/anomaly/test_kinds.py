"""Typing of level events from the residual's signature, and precedence of sharper signals."""

from __future__ import annotations

import numpy as np
import pandas as pd

from workbench.anomaly.detectors.kinds import (
    WEAK_PIECE,
    drift_pieces,
    drop_shadowed,
    level_kind,
    smooth_step_misfit,
    step_misfit,
)
from workbench.anomaly.detectors.signals import rolling
from workbench.anomaly.events import events_frame

STEP_NS = 4 * 10**9
LEAD = 450  # 30 min of 4-s samples before the event


def case(kind: str, seed: int = 0, n: int = 1800) -> tuple:
    """(value, expected, smoothed residual, time, whiteness) over a 30-min lead and a 2-h
    event on an asset ramping 200 -> 300 MW with 2 MW of process wander and 0.2 MW of noise."""
    rng = np.random.default_rng(seed)
    total = LEAD + n
    expected = np.linspace(200.0, 300.0, total)
    wander = np.convolve(rng.standard_normal(total), np.ones(15) / np.sqrt(15), "same") * 2.0
    value = expected + wander + 0.2 * rng.standard_normal(total)
    inside = slice(LEAD, total)
    if kind == "bias_step":
        value[inside] += 25.0
    elif kind == "calibration_drift":  # a gain error that began 1 h before the event
        gain = np.clip((np.arange(total) - LEAD + 900) / (n + 900), 0.0, None) * 0.10
        value = value * (1.0 + gain)
    elif kind == "stuck_with_noise":
        value[inside] = value[LEAD] + 0.2 * rng.standard_normal(n)
    group = np.zeros(total, np.int64)
    smooth = rolling(value - expected, group, 75)
    white = np.full(total, 0.1)
    return value, expected, smooth, np.arange(total) * STEP_NS, white


def test_each_signature_gets_its_type():
    for kind in ("bias_step", "calibration_drift", "stuck_with_noise"):
        for seed in range(3):
            v, e, r, t, w = case(kind, seed)
            assert level_kind(v, e, r, t, w, 0.1, LEAD, noise=0.2) == kind, (kind, seed)


def test_an_offset_of_one_noise_sample_is_a_frozen_reading():
    rng = np.random.default_rng(4)
    n = 900
    expected = np.zeros(LEAD + n)  # an idle asset
    value = 0.2 * rng.standard_normal(LEAD + n)
    value[LEAD:] = 0.5 + 0.2 * rng.standard_normal(n)  # frozen at a 2.5-sigma noise draw
    r = rolling(value - expected, np.zeros(value.size, np.int64), 75)
    args = (value, expected, r, np.arange(value.size) * STEP_NS, np.full(value.size, np.nan))
    assert level_kind(*args, 0.1, LEAD, noise=0.2) == "stuck_with_noise"
    value[LEAD:] += 30.0  # an offset of a share of capacity is a bias step
    r = rolling(value - expected, np.zeros(value.size, np.int64), 75)
    args = (value, expected, r, np.arange(value.size) * STEP_NS, np.full(value.size, np.nan))
    assert level_kind(*args, 0.1, LEAD, noise=0.2) == "bias_step"


def test_step_misfit_is_zero_for_a_step_and_positive_for_a_ramp():
    assert step_misfit(np.r_[np.zeros(50), np.full(50, 3.0)]) == 0.0
    assert step_misfit(np.linspace(0.0, 1.0, 100)) > 0.1


def test_the_sharper_signal_speaks_for_an_overlap():
    t0 = pd.Timestamp("2024-03-01", tz="UTC").value
    m = 60 * 10**9
    ev = pd.concat(
        [
            events_frame(["A"], [t0], [t0 + 30 * m], [2.0], "intermittent_oscillation").assign(
                detector="learned:wiggle"
            ),
            events_frame(["A"], [t0 + 10 * m], [t0 + 20 * m], [3.0], "stuck_with_noise").assign(
                detector="learned:white"
            ),
            events_frame(["B"], [t0 + 10 * m], [t0 + 20 * m], [3.0], "stuck_with_noise").assign(
                detector="learned:white"
            ),
            events_frame(["B"], [t0 + 8 * m], [t0 + 24 * m], [1.5], "calibration_drift").assign(
                detector="learned:drift"
            ),
        ],
        ignore_index=True,
    )
    out = drop_shadowed(ev)
    assert sorted(zip(out["group"], out["detector"], strict=True)) == [
        ("A", "learned:wiggle"),
        ("B", "learned:white"),
    ]


def test_a_long_fault_that_a_sharper_event_only_touches_stays():
    """A 5-h drift whose last 10 minutes meet an oscillation of the same asset is a fault of
    its own, not the oscillation's shadow."""
    t0 = pd.Timestamp("2024-03-01", tz="UTC").value
    m = 60 * 10**9
    ev = pd.concat(
        [
            events_frame(["A"], [t0], [t0 + 300 * m], [5.0], "calibration_drift").assign(
                detector="learned:level"
            ),
            events_frame(["A"], [t0 + 290 * m], [t0 + 330 * m], [2.0],
                         "intermittent_oscillation").assign(detector="learned:wiggle"),
        ],
        ignore_index=True,
    )  # fmt: skip
    out = drop_shadowed(ev)
    assert sorted(out["detector"]) == ["learned:level", "learned:wiggle"]


def test_a_falling_gain_on_a_rising_unit_is_a_drift_not_a_stuck_reading():
    """A gain falling 0 -> -10 % over 2 h while a 1200-MW unit ramps up 8 %: the reading moves
    less than its residual (as a stuck one's would), but by tens of noise scales."""
    rng = np.random.default_rng(7)
    n = 1800
    total = LEAD + n
    expected = np.r_[np.full(LEAD, 1200.0), np.linspace(1200.0, 1296.0, n)]
    gain = np.r_[np.zeros(LEAD), np.linspace(0.0, -0.10, n)]
    wander = np.convolve(rng.standard_normal(total), np.ones(15) / np.sqrt(15), "same")
    value = expected * (1.0 + gain) + 0.6 * wander + 0.6 * rng.standard_normal(total)
    r = rolling(value - expected, np.zeros(total, np.int64), 75)
    args = (value, expected, r, np.arange(total) * STEP_NS, np.full(total, 0.6))
    assert level_kind(*args, 0.6, LEAD, noise=0.6) == "calibration_drift"


def test_a_drift_from_no_error_that_ends_at_once_is_a_drift_and_a_step_a_bias():
    """A gain error growing from 0 for 16 or 28 min on a steady unit (1000 MW), ended at once
    by a recalibration 2 min before the event ends (hysteresis): the error is 0 until it
    starts, so neither a step nor a line through the whole span fits it; a hinge does, up to
    the error's end (the smoothed residual's fall after it is no part of the fault)."""
    for seed, ramp in zip(range(4), (180, 360, 180, 360), strict=True):
        rng = np.random.default_rng(seed)
        after = 30
        total = LEAD + ramp + after
        expected = np.full(total, 1000.0)
        wander = np.convolve(rng.standard_normal(total), np.ones(15) / np.sqrt(15), "same")
        healthy = expected + 0.6 * wander + 0.6 * rng.standard_normal(total)
        gain = np.zeros(total)
        gain[LEAD - 60 : total - after] = np.linspace(0.0, 0.065, ramp + 60)
        step = healthy.copy()
        step[LEAD : total - after] += 65.0
        for value, kind in ((healthy * (1.0 + gain), "calibration_drift"), (step, "bias_step")):
            r = rolling(value - expected, np.zeros(total, np.int64), 75)
            args = (value, expected, r, np.arange(total) * STEP_NS, np.full(total, 0.1))
            assert level_kind(*args, 0.1, LEAD, noise=0.6) == kind, (seed, kind)


def test_an_oscillation_on_an_idle_asset_is_no_frozen_reading():
    """Around 0 an oscillation's median offset is a noise sample's, but its spread is its
    amplitude (10 x the noise): not a reading frozen at a noise draw."""
    rng = np.random.default_rng(5)
    n = 600
    expected = np.zeros(LEAD + n)  # an idle asset
    value = 0.2 * rng.standard_normal(LEAD + n)
    value[LEAD:] += 2.0 * np.sin(2 * np.pi * np.arange(n) * 4.0 / 30.0)  # 30-s period
    r = rolling(value - expected, np.zeros(value.size, np.int64), 75)
    args = (value, expected, r, np.arange(value.size) * STEP_NS, np.full(value.size, np.nan))
    assert level_kind(*args, 0.1, LEAD, noise=0.2) != "stuck_with_noise"


def test_a_level_event_of_minutes_is_no_drift():
    """A residual that grows for 3 min and ends a minute later is one smoothed swing, not a
    gain error growing over hours: under the level window (5 min) it is no drift."""
    for seed in range(2):
        rng = np.random.default_rng(seed)
        ramp, after = 45, 15
        total = LEAD + ramp + after
        expected = np.full(total, 1000.0)
        wander = np.convolve(rng.standard_normal(total), np.ones(15) / np.sqrt(15), "same")
        gain = np.zeros(total)
        gain[LEAD - 15 : total - after] = np.linspace(0.0, 0.065, ramp + 15)
        value = (expected + 0.6 * wander + 0.6 * rng.standard_normal(total)) * (1.0 + gain)
        r = rolling(value - expected, np.zeros(total, np.int64), 75)
        args = (value, expected, r, np.arange(total) * STEP_NS, np.full(total, 0.1))
        assert level_kind(*args, 0.1, LEAD, noise=0.6) == "bias_step", seed


def test_a_reading_frozen_where_it_was_while_the_unit_idles_is_stuck_a_jump_a_bias():
    """A battery at 580 MW goes idle (the reference falls to 0 in 3 min) while its reading
    stays at 578 MW with transducer noise for 96 min, then reads the truth again for the
    event's last 4 min (its hysteresis tail): the residual came from the reference
    moving away, the reading kept its value from before the event (stuck). The same offset
    reached by a jump of the reading over a still reference is a bias step."""
    rng = np.random.default_rng(5)
    n, ramp = 1500, 45
    expected = np.r_[np.full(LEAD, 580.0), np.linspace(580.0, 0.0, ramp), np.zeros(n - ramp)]
    wander = np.convolve(rng.standard_normal(LEAD + n), np.ones(5) / np.sqrt(5), "same") * 4.0
    healthy = expected + np.where(expected > 0, wander, 0.0) + 0.3 * rng.standard_normal(LEAD + n)
    value = healthy.copy()
    value[LEAD:] = 578.0 + 0.3 * rng.standard_normal(n)  # frozen, the truth idles
    value[-60:] = healthy[-60:]  # the event's last 4 min: the reading back (hysteresis tail)
    group = np.zeros(value.size, np.int64)
    white = np.where(expected > 0, 0.3, np.nan)
    args = (expected, rolling(value - expected, group, 75), np.arange(value.size) * STEP_NS,
            white, 0.3, LEAD, 0.33)  # fmt: skip
    assert level_kind(value, *args[:-3], *args[-3:]) == "stuck_with_noise"
    idle = np.zeros(LEAD + n)  # an idle asset whose reading jumps by 578 MW: a bias step
    jumped = 0.3 * rng.standard_normal(LEAD + n) + np.where(np.arange(LEAD + n) >= LEAD, 578, 0)
    args = (idle, rolling(jumped - idle, group, 75), np.arange(idle.size) * STEP_NS,
            np.full(idle.size, np.nan), 0.3, LEAD, 0.33)  # fmt: skip
    assert level_kind(jumped, *args) == "bias_step"


def test_a_step_seen_through_the_5_minute_mean_is_a_step_and_a_fall_is_no_onset():
    """The smoothed residual of a bias step rises over the level window: the smoothed-step
    model fits it exactly (a two-level step does not), fits a long gain ramp badly, and
    does not take a fault's end (a fall towards 0) for a step."""
    group = np.zeros(600, np.int64)
    rise = rolling(np.r_[np.zeros(300), np.full(300, 25.0)], group, 75)
    assert smooth_step_misfit(rise, 75) < 0.02 * step_misfit(rise)  # onsets every 5 samples
    ramp = rolling(np.linspace(0.0, 25.0, 600), group, 75)
    assert smooth_step_misfit(ramp, 75) > 0.5 * step_misfit(ramp)
    fall = rise[::-1].copy()  # a fault that ends: from 25 down to 0
    assert smooth_step_misfit(fall, 75) > 100.0 * smooth_step_misfit(rise, 75) + 100.0


def test_a_bias_step_cut_by_the_data_end_minutes_after_it_began_is_a_step():
    """A step that began 9 minutes before the data ends: through the 5-min mean the
    residual rises for 5 of them, which a gain error growing from 0 fits as well as a sharp
    step does not; weighed against the step as the mean sees it, it is a bias step."""
    for seed in range(4):
        v, e, r, t, w = case("none", seed, n=135)  # 30-min lead + 9 min
        v = v.copy()
        v[LEAD:] += 25.0
        r = rolling(v - e, np.zeros(v.size, np.int64), 75)
        kind = level_kind(v, e, r, t, w, 0.1, LEAD + 30, noise=0.2, window=75)
        assert kind == "bias_step", seed


def test_an_error_larger_before_the_event_is_another_fault_not_a_drift_that_grew():
    """The lead holds a larger bias step that ended 10 min before this one began: the error
    before the event is no smaller part of a growing one."""
    for seed in range(4):
        v, e, r, t, w = case("none", seed, n=600)
        v = v.copy()
        v[LEAD - 400 : LEAD - 150] += 40.0  # the first step, 17 min long
        v[LEAD:] += 25.0
        r = rolling(v - e, np.zeros(v.size, np.int64), 75)
        assert level_kind(v, e, r, t, w, 0.1, LEAD, noise=0.2, window=75) == "bias_step", seed


def test_weak_level_pieces_beside_a_drift_are_the_drift():
    """A bias-typed level event under WEAK_PIECE x its threshold within the drift piece gap
    of a drift of the same asset is a piece of it; a strong one, one far off, one on another
    asset and one of another detector keep their type."""
    ev = pd.concat(
        [
            _level("A", 0, 90, "calibration_drift", 2.0),
            _level("A", 120, 135, "bias_step", 1.2),  # 30 min after the drift: a piece
            _level("A", 140, 160, "bias_step", 3.0),  # strong: a bias step of its own
            _level("A", 400, 420, "bias_step", 1.1),  # 5 h later
            _level("B", 100, 110, "bias_step", 1.1),  # another asset
            _level("A", 95, 105, "bias_step", 1.1).assign(detector="learned:drift"),
        ],
        ignore_index=True,
    )
    kinds = list(drift_pieces(ev)["kind"].astype(str))
    assert kinds == ["calibration_drift", "calibration_drift", "bias_step", "bias_step",
                     "bias_step", "bias_step"]  # fmt: skip
    assert WEAK_PIECE > 1.0


def _level(group: str, start_min: float, end_min: float, kind: str, score: float) -> pd.DataFrame:
    t0 = pd.Timestamp("2024-03-01", tz="UTC")
    start, end = t0 + pd.Timedelta(minutes=start_min), t0 + pd.Timedelta(minutes=end_min)
    return events_frame([group], [start.value], [end.value], [score], [kind]).assign(
        detector="learned:level"
    )
