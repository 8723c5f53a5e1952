"""Typing and precedence of learned events: which silent fault a residual's signature shows.

A level event (the smoothed residual |value - reference| past its threshold) is one of three
faults, told apart by how the value moves inside the event:

- **stuck_with_noise**: the value does not follow the reference (its own spread is under
  half the spread of its residual, over the event or robustly over its core: the truth
  moves, the reading does not) and stays within a few noise scales (a frozen reading's
  spread is its transducer noise; a gain falling while the unit ramps up also holds the
  value steadier than its residual, but it moves by tens of noise scales), or, on an idle
  asset, its offset and its spread are the size of one noise sample (a reading frozen at a
  noise draw: a bias step is a share of capacity, an oscillation spreads by its amplitude),
  or, on a running asset, its variation is white, or it stays within a few noise scales of
  where it read before the event while the reference moved away (a battery or a unit that
  turned down to idle under a frozen reading: a bias step moves the reading instead).
  A level event's own slow wander is not a test: over its 5-30 min core the 1-min means have
  a few degrees of freedom, and on the iteration seeds (41-46, 61-63, 81-83, 91-93) that test
  called 13 drifts and bias steps stuck for at most 1 stuck spell (the calibrated quiet and
  calm signals look at the wander instead);
- **calibration_drift**: the residual is a gain error, ``reference x (a + b t)`` or one
  that is 0 until it starts and grows after (``reference x b x max(t - t0, 0)``: a drift
  that began inside the span), fitting the smoothed residual of the event (up to its last
  sample at half its peak: past it the fault ended) and the 30 minutes before it better
  than a step (the error grows with time and scales with output), or nearly
  as well when the error was already there before the event, and the event lasts at least
  :data:`DRIFT_MIN_S` (5 min);
- **bias_step**: otherwise, a constant offset.

Events of one group that overlap are the same fault seen by several signals; the sharper
signal speaks (:data:`PRECEDENCE`). Events of one group and type that overlap or follow within
:data:`PIECE_GAP_S` are pieces of one fault and become one event (:func:`merge_pieces`).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from workbench.anomaly.detectors.signals import rolling

#: learned detectors from the sharpest signature to the vaguest; an event overlapping an event
#: of an earlier detector (same group) is dropped
PRECEDENCE = (
    ("learned:copy",),
    ("learned:wiggle",),
    ("learned:white", "learned:quiet", "learned:calm", "learned:memory"),
    ("learned:level",),
    ("learned:drift",),
)
#: a vaguer event is the same fault as sharper ones when they cover this share of its span
SHADOW_SHARE = 0.5
#: a sharper fault shadows this far [s] on each side: the drift signal's 30-min mean sees it
#: up to 15 min off, and hysteresis carries the event further
SHADOW_WIDEN_S = 1800.0
#: a gain error explains the residual (event and lead) when its misfit is under this share of
#: a step's; or under ``DRIFT_FIT_GROWN`` x it when the error before the event was already
#: over ``PRE_SHARE`` of its size inside (it grew into the event: a step was not there)
DRIFT_FIT, DRIFT_FIT_GROWN, PRE_SHARE = 1.0, 2.0, 0.15
#: a level event shorter than this [s] (the level signal's 5-min window) is no drift: a gain
#: error grows over hours and shows for as long as the unit runs, not for one smoothed swing
DRIFT_MIN_S = 300.0
#: a value whose spread is under this share of its residual's does not follow the reference
STUCK_SPREAD = 0.5
#: samples before a level event (2 min of 4-s samples) whose median reading a frozen one keeps
ONSET_SAMPLES = 30
#: a still reading within this share of its residual of the reading before the event, which
#: then matched the reference as closely, stayed where it was: the residual came from the
#: reference moving away
ONSET_SHARE = 0.25
#: share of an event's samples at each end left out of the stuck tests (its core speaks)
EDGE_TRIM = 0.15
#: an offset within this many sample-to-sample noise scales is a frozen noise sample
FROZEN_NOISE = 5.0
#: events of one group and type at most this far apart [s] are pieces of one fault:
#: - stuck_with_noise: the white, quiet, memory and calm signals see one stuck spell over
#:   windows of 10, 20, 20 and 60 min, side by side or overlapping (within the detector's
#:   5-min gap);
#: - intermittent_oscillation: its bursts pause for up to 5 min, and a short weak burst can
#:   fall under the wiggle signal's persistence, so two bursts seen can be a pause, a burst
#:   and a pause apart (up to about 13 min);
#: - calibration_drift: a gain error shows as gain x output, so it fades wherever the asset
#:   turns down and shows again when it turns up; it lasts until the sensor is recalibrated
#:   (hours), so the same asset's drift seen again within the hour is the same drift.
#: Other types (a bias step, a copy, the rules' faults) are not joined across a gap.
#: a bias-typed level event under this score (x its threshold) near a drift is a piece of it
WEAK_PIECE = 1.5
PIECE_GAP_S = {
    "stuck_with_noise": 300.0,
    "intermittent_oscillation": 900.0,
    "calibration_drift": 3600.0,
}


def level_kind(value: np.ndarray, expected: np.ndarray, smooth_residual: np.ndarray,
               time_ns: np.ndarray, white: np.ndarray, healthy_white: float,
               lead: int = 0, noise: float = 0.0, window: int = 0) -> str:  # fmt: skip
    """The fault type of one level event from its samples.

    Parameters
    ----------
    value, expected : numpy.ndarray
        The reading and what it should read [value units], over the event.
    smooth_residual : numpy.ndarray
        The smoothed residual (5-min mean of value - expected) [value units].
    time_ns : numpy.ndarray
        Sample times [ns].
    white : numpy.ndarray
        Whiteness where the asset runs, NaN where it idles.
    healthy_white : float
        The asset's healthy median whiteness.
    lead : int
        Leading samples before the event proper (up to 30 min; every array starts with
        them): the gain-error fit runs over them too, against a step anywhere in the span (a
        piece of a long drift is flat on its own; before it the error grew).
    noise : float
        The asset's sample-to-sample noise [value units]: an offset within ``FROZEN_NOISE`` x
        it, with a spread of the same size, is one frozen noise sample (a stuck reading of an
        idle asset), not a bias; a core that spreads by more than that moves, and is not
        stuck whatever its residual does (0: unknown, no such test).
    window : int
        Samples of the mean that smoothed the residual: a step then changes over that many
        samples, and that is the step the gain error is weighed against
        (:func:`smooth_step_misfit`; 0: a sharp step only).

    Returns
    -------
    str
        ``stuck_with_noise``, ``calibration_drift`` or ``bias_step``.
    """
    finite = np.isfinite(value) & np.isfinite(expected) & np.isfinite(smooth_residual)
    ok = finite[lead:]
    v, e = value[lead:][ok], expected[lead:][ok]
    if v.size < 3:
        return "bias_step"
    # the event's core: hysteresis extends an event past the fault by minutes
    k = int(EDGE_TRIM * v.size)
    cv, ce = v[k : v.size - k], e[k : v.size - k]
    frozen = FROZEN_NOISE * noise
    # a reading that moves by many noise scales is not frozen, however the reference moves
    # (a gain falling while a unit ramps up holds the value steadier than its residual)
    still = noise <= 0.0 or spread(cv) < frozen
    lagging = np.std(v) < STUCK_SPREAD * np.std(v - e)
    if still and (lagging or spread(cv) < STUCK_SPREAD * spread(cv - ce)):
        return "stuck_with_noise"
    # the reading stayed where it was before the event while the reference moved away (a unit
    # that turned down or idled under a frozen reading): a bias step moves the reading instead
    # (the reading matched the reference before: a drift's residual was already there)
    lo = max(lead - ONSET_SAMPLES, 0)
    before, ref_before = value[lo:lead], expected[lo:lead]
    fin = np.isfinite(before) & np.isfinite(ref_before)
    size = ONSET_SHARE * abs(float(np.median(cv - ce)))
    if (still and fin.any() and abs(float(np.median(cv) - np.median(before[fin]))) < size
            and abs(float(np.median(before[fin] - ref_before[fin]))) < size):  # fmt: skip
        return "stuck_with_noise"
    running = np.isfinite(white[lead:][ok][k : v.size - k])  # an idle asset has no wander
    if abs(float(np.median(v - e))) < frozen and spread(cv - ce) < frozen and running.mean() < 0.5:
        return "stuck_with_noise"
    busy = np.isfinite(white[lead:])
    if busy.mean() >= 0.5 and float(np.mean(white[lead:][busy])) >= (1.0 + healthy_white) / 2:
        return "stuck_with_noise"
    if time_ns[-1] - time_ns[lead] < DRIFT_MIN_S * 1e9:
        return "bias_step"
    r, e, t = smooth_residual[finite], expected[finite], time_ns[finite]
    # up to the last sample at half the event's peak error or more: past it the fault has
    # ended and hysteresis carries the event down the smoothed residual's fall
    n_lead = int(finite[:lead].sum())
    big = np.abs(r[n_lead:]) >= 0.5 * float(np.max(np.abs(r[n_lead:])))
    stop = n_lead + int(np.flatnonzero(big)[-1]) + 1
    # the gain error as the level window sees it: the output it multiplies, smoothed alike (a
    # unit that starts within the window makes a drift's residual rise as a step's does)
    if window >= 2:
        e = rolling(e, np.zeros(e.size, np.int64), window)
    r, e, t = r[:stop], e[:stop], t[:stop]
    hours = (t - t[0]) / 3.6e12
    design = np.column_stack([e, e * hours])
    coef, *_ = np.linalg.lstsq(design, r, rcond=None)
    line = float(np.sum((r - design @ coef) ** 2))
    step = min(step_misfit(r), smooth_step_misfit(r, window))
    fit = min(line, hinge_misfit(r, e, hours)) / max(step, 1e-300)
    before = smooth_residual[:lead][finite[:lead]]
    inside = abs(float(np.median(smooth_residual[lead:][ok])))
    pre = abs(float(np.median(before))) / max(inside, 1e-12) if before.size >= 10 else 0.0
    # grown into the event: the error before it was smaller than inside (a larger one before
    # is another fault that ended, as a bias step just before a second one)
    if fit < DRIFT_FIT or (fit < DRIFT_FIT_GROWN and PRE_SHARE < pre < 1.0):
        return "calibration_drift"
    return "bias_step"


def spread(x: np.ndarray) -> float:
    """Robust standard deviation: 1.4826 x the median absolute deviation [units of x]."""
    return 1.4826 * float(np.median(np.abs(x - np.median(x)))) if x.size else 0.0


def step_misfit(r: np.ndarray) -> float:
    """Least sum of squares of ``r`` about one level before and one after a change point
    (anywhere, or none) [units of r squared]."""
    n = r.size
    c1, c2 = np.cumsum(r), np.cumsum(r * r)
    k = np.arange(1, n + 1)
    left = c2 - c1**2 / k  # misfit of r[:k] about its mean
    rc1, rc2 = c1[-1] - c1, c2[-1] - c2
    m = n - k
    right = np.where(m > 0, rc2 - rc1**2 / np.maximum(m, 1), 0.0)
    return float(np.min(left + right))


def smooth_step_misfit(r: np.ndarray, window: int, every: int = 5) -> float:
    """Least sum of squares of ``r`` about a step seen through a centred ``window``-sample
    mean: one level, a straight change over ``window`` samples (from ``k`` every ``every``
    samples) and another level further from 0 (an onset: a fault's end falls instead, and a
    drift that ends inside the span falls too) [units of r squared]. The smoothed residual
    of a bias step has that shape; a two-level step fits its ramp badly, and a gain error
    growing from 0 (:func:`hinge_misfit`) fits it well where the span ends a few minutes
    after the step (a bias step cut by the day's end)."""
    n = r.size
    if window < 2 or n < 3:
        return step_misfit(r)
    starts = np.arange(-window, n, every)
    x = np.clip((np.arange(n)[None, :] - starts[:, None]) / window, 0.0, 1.0)
    xc = x - x.mean(axis=1, keepdims=True)
    rc = r - r.mean()
    sxx, sxr = np.einsum("ij,ij->i", xc, xc), xc @ rc
    onset = sxr * np.sign(r[np.argmax(np.abs(r))]) > 0  # towards the peak, away from 0
    explained = np.where((sxx > 0) & onset, sxr**2 / np.where(sxx > 0, sxx, 1.0), 0.0)
    return float(rc @ rc - explained.max())


def hinge_misfit(r: np.ndarray, expected: np.ndarray, hours: np.ndarray,
                 every: int = 15) -> float:  # fmt: skip
    """Least sum of squares of ``r`` about a gain error that is 0 until a start ``h0`` and
    grows linearly after it, ``expected x b x max(hours - h0, 0)`` (``h0`` every ``every``
    samples): a drift that began inside the span, from no error [units of r squared]."""
    starts = hours[::every]
    x = expected[None, :] * np.clip(hours[None, :] - starts[:, None], 0.0, None)
    sxx, sxr = np.einsum("ij,ij->i", x, x), x @ r
    explained = np.where(sxx > 0, sxr**2 / np.where(sxx > 0, sxx, 1.0), 0.0)
    return float(r @ r - explained.max())


def drift_pieces(events: Any) -> Any:
    """Retype as ``calibration_drift`` each ``bias_step`` level event whose score stays under
    :data:`WEAK_PIECE` (x its threshold) and that lies within the drift's piece gap
    (:data:`PIECE_GAP_S`) of a calibration_drift event of the same group: a gain error near
    the detection limit crosses the level threshold in short pieces as the output and the
    noise move, and a piece on its own fits a step as well as a ramp; a bias step is a
    share of capacity and stands out."""
    if events.empty:
        return events
    kind = events["kind"].astype(str).to_numpy(object)
    group = events["group"].astype(str).to_numpy(object)
    start = events["start"].astype("int64").to_numpy()
    end = events["end"].astype("int64").to_numpy()
    weak = ((kind == "bias_step") & (events["score"].to_numpy(float) < WEAK_PIECE)
            & (events["detector"].astype(str).to_numpy(object) == "learned:level"))  # fmt: skip
    drift = np.flatnonzero(kind == "calibration_drift")
    gap = int(PIECE_GAP_S["calibration_drift"] * 1e9)
    piece = np.zeros(kind.size, bool)
    for i in np.flatnonzero(weak):
        same = group[drift] == group[i]
        piece[i] = (same & (start[drift] <= end[i] + gap) & (end[drift] >= start[i] - gap)).any()
    return events.assign(kind=events["kind"].mask(piece, "calibration_drift"))


def drop_shadowed(events: Any) -> Any:
    """Drop each learned event that lies mostly (:data:`SHADOW_SHARE` of its span or more)
    within the faults of detectors earlier in :data:`PRECEDENCE` (same group; a fault is the
    hull of its pieces, :func:`piece_hulls`, widened by :data:`SHADOW_WIDEN_S`): an oscillation
    whitens the variation and moves the level, a copy does both, a stuck value leaves a
    residual; the vaguer signal only speaks for a fault no sharper one found. A vaguer event
    that a sharper one only touches is a fault of its own (a 5-h drift whose last minutes
    meet an oscillation of the same asset is still a drift)."""
    if events.empty:
        return events.reset_index(drop=True)
    return events[~shadowed(events)].reset_index(drop=True)


def shadowed(events: Any, near: bool = False) -> np.ndarray:
    """Whether each event is the shadow of sharper ones (see :func:`drop_shadowed`): of those
    it overlaps, or with ``near`` also of those within :data:`SHADOW_WIDEN_S` of it."""
    rank = {d: k for k, names in enumerate(PRECEDENCE) for d in names}
    out = np.zeros(len(events), bool)
    if events.empty:
        return out
    r = events["detector"].astype(str).map(rank).fillna(len(PRECEDENCE)).to_numpy()
    g = events["group"].astype(str).to_numpy(object)
    s = events["start"].astype("int64").to_numpy()
    e = events["end"].astype("int64").to_numpy()
    # a sharper event covers the hull of its fault: the pauses between the pieces of one
    # fault (an oscillation's bursts) are the fault too
    hs, he = piece_hulls(g, events["kind"].astype(str).to_numpy(object), s, e)
    w = int(SHADOW_WIDEN_S * 1e9)
    reach = w if near else 0
    for i in range(len(events)):
        over = np.flatnonzero((g == g[i]) & (s - reach <= e[i]) & (e + reach >= s[i]) & (r < r[i]))
        if over.size == 0:
            continue
        # the span the sharper faults cover (their union, clipped to this event), widened by
        # the longest window of the vaguer signals (they see a fault that far off)
        lo, hi = np.clip(hs[over] - w, s[i], e[i]), np.clip(he[over] + w, s[i], e[i])
        order = np.argsort(lo)
        covered, upto = 0, s[i]
        for a, b in zip(lo[order], hi[order], strict=True):
            covered += max(0, b - max(a, upto))
            upto = max(upto, b)
        out[i] = covered >= SHADOW_SHARE * max(e[i] - s[i], 1)
    return out


def piece_hulls(group: np.ndarray, kind: np.ndarray, start: np.ndarray, end: np.ndarray,
                gap_s: dict[str, float] | None = None) -> tuple[np.ndarray, ...]:  # fmt: skip
    """Per event, the first start and last end [ns] of the fault it is a piece of: events of
    one group and kind that overlap or lie at most ``gap_s[kind]`` [s] apart
    (:data:`PIECE_GAP_S`) are one fault; other kinds are their own hull."""
    gaps = PIECE_GAP_S if gap_s is None else gap_s
    hs, he = start.copy(), end.copy()
    for key in {(a, b) for a, b in zip(group, kind, strict=True)}:
        idx = np.flatnonzero((group == key[0]) & (kind == key[1]))
        gap = gaps.get(str(key[1]), -1.0) * 1e9
        idx = idx[np.argsort(start[idx], kind="stable")]
        first, reach = 0, end[idx[0]]
        for n in range(1, idx.size + 1):
            if n < idx.size and start[idx[n]] <= reach + gap:
                reach = max(reach, end[idx[n]])
                continue
            hs[idx[first:n]], he[idx[first:n]] = start[idx[first]], reach
            if n < idx.size:
                first, reach = n, end[idx[n]]
    return hs, he


def merge_pieces(events: Any, gap_s: dict[str, float] | None = None) -> Any:
    """Join the events of one group and kind that overlap or lie at most ``gap_s[kind]`` [s]
    apart (:data:`PIECE_GAP_S`) into one: the earliest start, the latest end, the highest
    score, every detector (``+``-joined, in order) and, where present, every ``scores``
    entry. Kinds not in ``gap_s`` are left as they are (events sorted by group and start)."""
    import pandas as pd

    gaps = PIECE_GAP_S if gap_s is None else gap_s
    if events.empty:
        return events.reset_index(drop=True)
    ev = events.sort_values(["group", "kind", "start"], kind="stable", ignore_index=True)
    g = ev["group"].astype(str).to_numpy(object)
    k = ev["kind"].astype(str).to_numpy(object)
    start = ev["start"].astype("int64").to_numpy()
    end = ev["end"].astype("int64").to_numpy()
    gap_ns = np.array([gaps.get(kind, -1.0) for kind in k]) * 1e9  # -1: never joined
    piece = np.zeros(len(ev), np.int64)
    reach = end[0]
    for i in range(1, len(ev)):
        joined = g[i] == g[i - 1] and k[i] == k[i - 1] and start[i] <= reach + gap_ns[i]
        piece[i] = piece[i - 1] + (0 if joined else 1)
        reach = max(reach, end[i]) if joined else end[i]
    if piece[-1] == len(ev) - 1:
        return ev.sort_values(["group", "start"], kind="stable", ignore_index=True)
    agg: dict[str, Any] = dict.fromkeys(ev.columns, "first")
    agg.update(start="min", end="max", score="max")
    if "detector" in ev.columns:
        agg["detector"] = lambda d: "+".join(dict.fromkeys("+".join(d.astype(str)).split("+")))
    if "scores" in ev.columns:
        agg["scores"] = lambda d: ";".join(d.astype(str))
    out = ev.groupby(piece, sort=True).agg(agg)
    for col in ("group", "kind", "detector", "scores"):
        if col in out.columns:
            out[col] = out[col].astype(pd.StringDtype())
    return out.sort_values(["group", "start"], kind="stable", ignore_index=True)
