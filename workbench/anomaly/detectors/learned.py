"""Learned detectors of the silent SCADA faults: fitted per asset, calibrated, typed.

:class:`LearnedDetector` turns the signals of :mod:`.signals` into events in three steps:

1. **fit** on a training period known to be good: per asset (group) it learns the scale of the
   level residual and of the local variation as a line in |expected value| (noise grows with
   output), the normal whiteness, and its healthy residual as AR(1) + white noise (the memory
   signal's model). Samples inside labelled faults (widened by ``margin``) or
   flagged by the rules are left out, and how many were left out is recorded
   (:attr:`LearnedDetector.excluded`); a training window that keeps less than
   ``min_clean_share`` of its samples is refused.
2. **calibrate** on a later validation period: one threshold per signal (signals are already
   per-asset scale-free), the lowest whose events stay at or below ``target_rate`` false events
   per asset-day on the validation data (its labelled and rule-flagged samples masked), that
   budget shared by the signals of one fault type (white, quiet and calm: a third each).
3. **detect**: a signal's score is its value over its threshold (1.0 = alarm); flagged samples
   merge into events (``gap``), shorter than ``min_duration`` dropped; each event is typed from
   its signal and, for the level residual, its shape (a residual already at full size when the
   event starts is a ``bias_step``, one that grows is a ``calibration_drift``; the 30 minutes
   before the event that the typing looks at stop where a fault of another signature ended).
   A level event that lies mostly within a copy, whiteness or wiggle fault (or within 30 min
   of one) is the same fault seen twice and is dropped;
   events of one asset and type that overlap or follow closely are pieces of one fault and
   become one (``kinds.merge_pieces``: one fault, one event).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from workbench.anomaly.base import AnomalyInputError, duration_ns
from workbench.anomaly.detectors.kinds import (
    drift_pieces,
    drop_shadowed,
    level_kind,
    merge_pieces,
)
from workbench.anomaly.detectors.signals import (
    SIGNAL_KINDS,
    ar_white_fit,
    copy_pairs,
    copy_signal,
    group_diff,
    memory_ratio,
    residual,
    rolling,
    slow_variance,
    swing,
    whiteness,
    wiggle,
)
from workbench.anomaly.events import concat_events, empty_events, events_frame
from workbench.anomaly.inputs import LongSeries

SIGNALS = tuple(SIGNAL_KINDS)
#: samples of persistence (centred rolling median) per signal before thresholding
PERSIST = {"copy": 1, "level": 31, "drift": 1, "white": 45, "quiet": 45, "calm": 45, "memory": 45,
           "wiggle": 9}  # fmt: skip
#: flagged samples at most this many times ``gap`` apart merge (a drift wanders near its threshold)
GAP_FACTOR = {"copy": 1, "level": 1, "drift": 6, "white": 1, "quiet": 1, "calm": 1, "memory": 1,
              "wiggle": 1}  # fmt: skip
#: events shorter than this many times ``min_duration`` are dropped (a wrong source mapping
#: lasts: a few exact matches with another asset within minutes are chance, not a copy; the
#: hour-long calm window sees stuck spells of tens of minutes, not short dips; the memory
#: signal's 20-min window over a stuck spell (10 min or more) makes an event of minutes, a
#: healthy window that looks white for a moment does not)
MIN_FACTOR = {"copy": 5, "level": 1, "drift": 1, "white": 1, "quiet": 1, "calm": 10, "memory": 5,
              "wiggle": 1}  # fmt: skip
#: samples of the local noise scale (:func:`local_noise`: 450 x 4 s = 30 min)
LOCAL_WINDOW = 450
#: quantile of an asset's healthy quiet and calm ratios (healthy wander / the window's) and
#: of its healthy wiggle that is their unit: each asset's signal in units of its own tail
TAIL_Q = 0.99
#: share of a white, quiet or calm window in which the asset must run for the signal to speak
BUSY_SHARE = 0.95
#: time before a level event [ns] that its typing also looks at (a step, or a growing error)
LEAD_NS = 1800 * 10**9
#: signals whose events end a level event's lead: faults of another signature (the drift
#: signal sees the same residual as the level one, so it does not)
LEAD_STOPS = ("copy", "white", "quiet", "calm", "memory", "wiggle")
#: signals whose thresholds also come from a tail fit (the copy signal is a bounded share)
TAIL_FIT = ("level", "drift", "white", "quiet", "calm", "wiggle")
#: samples whose log-likelihood ratio (white noise alone against the asset's healthy AR(1) +
#: white model, per sample) makes the memory signal's log (15 x 4 s: a minute's samples)
MEMORY_SCALE = 15.0
#: least threshold per signal: the memory signal is a likelihood ratio (per minute of samples);
#: at 1 white noise alone is as likely as the healthy model, and a steady unit's 20-min windows
#: reach that a few times a day (tuning seeds 151-153: 5 false events at 1, 1 at exp(0.5))
FLOOR = {"memory": float(np.exp(0.5))}
#: hysteresis: an event extends over neighbouring samples down to this share of the threshold
#: (a fault whose score hovers at the threshold is one event, not a string of pieces)
HOLD = {
    "copy": 1.0,
    "level": 0.6,
    "drift": 0.6,
    "white": 0.8,
    "quiet": 0.8,
    "calm": 0.8,
    "memory": 0.8,
    "wiggle": 1.0,
}


class LearnedDetector:
    """Per-asset residual, whiteness, wiggle and copy detectors with calibrated thresholds.

    Parameters
    ----------
    target_rate : float
        False events per asset-day allowed on the validation period per fault type (the
        signals that report one type, as white, quiet and calm for stuck_with_noise, share it).
    level_window : int
        Samples averaged into the level residual (75 x 4 s = 5 min).
    drift_window : int
        Samples averaged into the drift residual (450 x 4 s = 30 min): a slow gain error
        hidden by output-proportional process noise over 5 minutes shows over 30.
    white_window : int
        Samples of the whiteness statistic (150 x 4 s = 10 min, the shortest stuck_with_noise).
    memory_window : int
        Samples of the memory signal's likelihood ratio (300 x 4 s = 20 min: over 10 min a
        healthy steady unit's wander looks white too often; tuning seeds 151-153).
    gap, min_duration : str, Timedelta or float
        Flagged samples at most ``gap`` apart [s] merge; shorter events [s] are dropped.
    margin : str, Timedelta or float
        Widening [s] of labelled faults and rule events left out of training and calibration.
    min_clean_share : float
        Fewest share of training samples that must remain once faults are left out.
    rules : bool
        Mask samples the rules flag (flatline, spike, out of range): they are the rules' events.
    """

    kind = "learned"

    def __init__(self, target_rate: float = 0.05, level_window: int = 75, gap: Any = "300s",
                 min_duration: Any = "60s", margin: Any = "600s", min_clean_share: float = 0.5,
                 rules: bool = True, drift_window: int = 450,
                 white_window: int = 150, quiet_window: int = 300,
                 calm_window: int = 900, memory_window: int = 300) -> None:  # fmt: skip
        if not target_rate > 0:
            raise AnomalyInputError(
                f"expected target_rate > 0 events/asset-day; found {target_rate!r}"
            )
        self.target_rate, self.level_window = float(target_rate), int(level_window)
        self.drift_window, self.white_window = int(drift_window), int(white_window)
        self.quiet_window, self.calm_window = int(quiet_window), int(calm_window)
        self.memory_window = int(memory_window)
        self.gap_ns, self.min_ns = (
            duration_ns(gap, "gap"),
            duration_ns(min_duration, "min_duration"),
        )
        self.margin_ns, self.min_clean_share = duration_ns(margin, "margin"), float(min_clean_share)
        self.rules = bool(rules)
        self.params: dict[str, dict[str, tuple[float, ...]]] = {}
        self.thresholds: dict[str, float] = {}
        #: per signal the tail-fit threshold (:meth:`_tail_threshold`; 0 = none) of calibrate
        self.tail_thresholds: dict[str, float] = {}
        self.excluded: dict[str, int] = {}
        self.last_mask_counts: dict[str, int] = {}
        self.uses_reference: bool | None = None
        #: first and last timestamp [ns since epoch, UTC] of the data fit or calibrate saw
        self.seen_ns: tuple[int, int] | None = None

    def _saw(self, series: LongSeries) -> None:
        lo, hi = int(series.time.min()), int(series.time.max())
        old = self.seen_ns or (lo, hi)
        self.seen_ns = (min(lo, old[0]), max(hi, old[1]))

    # ------------------------------------------------------------------ raw signals
    def _mask(self, series: LongSeries, labels: Any, widen: bool = True) -> np.ndarray:
        """Samples to ignore: rule-flagged and (if given) labelled, widened by ``margin`` when
        fitting or calibrating (``widen``); when scoring only the flagged samples themselves
        (the signals leave them out of their windows; an oscillation whose peaks the spike rule
        flags must stay visible to the wiggle signal)."""
        bad = np.zeros(series.time.size, bool)
        if self.rules:
            from workbench.anomaly.detectors.rules import FlatlineRule, OutOfRangeRule, SpikeRule

            for rule in (FlatlineRule(), SpikeRule(), OutOfRangeRule()):
                bad |= rule.score(series) >= 1.0
            bad |= ~np.isfinite(series.values)
        self.last_mask_counts = {"rule_flagged": int(bad.sum()), "labelled": 0}
        if labels is not None and len(labels):
            labelled = label_mask(series, labels, self.margin_ns)
            self.last_mask_counts["labelled"] = int(labelled.sum())
            bad |= labelled
        return _widen(bad, series, self.margin_ns) if widen else bad

    def _raw(self, series: LongSeries, reference: np.ndarray | None,
             bad: np.ndarray) -> dict[str, np.ndarray]:  # fmt: skip
        """Raw signals; ``bad`` samples (rule-flagged, labelled) stay out of the residual means
        (a sentinel 15 minutes away must not move a 30-minute mean)."""
        g, v = series.group, series.values.astype(np.float64)
        r = np.where(bad, np.nan, residual(v, g, reference))
        clean = np.where(bad, np.nan, v)
        expected = np.abs(np.nan_to_num(v if reference is None else reference))
        return {
            "x": expected,
            "pairs": copy_pairs(v, g, series.time),
            "level": rolling(r, g, self.level_window),
            "drift": rolling(r, g, self.drift_window),
            "white": whiteness(clean, g, self.white_window),
            # the slow wander of the residual, or of the reading itself where that is less (a
            # frozen reading of a ramping unit: its residual carries the ramp, the value not)
            "quiet": np.fmin(
                slow_variance(r, g, self.quiet_window), slow_variance(clean, g, self.quiet_window)
            ),
            "calm": np.fmin(
                slow_variance(r, g, self.calm_window), slow_variance(clean, g, self.calm_window)
            ),
            "expected": np.nan_to_num(v) - np.nan_to_num(residual(v, g, reference)),
            "clean": clean,
            "resid": r,
            "wiggle": wiggle(clean, g),
            "swing": swing(clean, g),
            "local": local_noise(clean, g, LOCAL_WINDOW),
        }

    # ------------------------------------------------------------------ fit
    def fit(self, series: LongSeries, reference: np.ndarray | None = None,
            labels: Any = None) -> LearnedDetector:  # fmt: skip
        """Learn the per-asset scales from a training period (faults left out)."""
        self.uses_reference = reference is not None
        self._saw(series)
        bad = self._mask(series, labels)
        share = 1.0 - bad.mean() if bad.size else 0.0
        self.excluded["training_samples_left_out"] = int(bad.sum())
        self.excluded["training_rule_flagged_samples"] = self.last_mask_counts["rule_flagged"]
        self.excluded["training_labelled_samples"] = self.last_mask_counts["labelled"]
        self.excluded["training_samples"] = int(bad.size)
        if share < self.min_clean_share:
            msg = (
                f"expected a training period with at least {self.min_clean_share:.0%} of samples "
                f"free of labelled or rule-detected faults; found {share:.0%} "
                f"({int(bad.sum())} of {bad.size} left out). Pick a cleaner training window"
            )
            raise AnomalyInputError(msg)
        raw = self._raw(series, reference, bad)
        for gi, label in enumerate(series.labels):
            sel = (series.group == gi) & ~bad
            if sel.sum() < 100:
                raise AnomalyInputError(
                    f"expected at least 100 clean training samples for {label!r}; found "
                    f"{int(sel.sum())}"
                )
            x = raw["x"][sel]
            hi = float(np.quantile(x, 0.95))
            top = float(np.quantile(np.abs(np.nan_to_num(series.values[sel])), 0.999))
            busy = x > 0.05 * max(hi, 1e-9)
            local = raw["local"][sel]
            self.params[str(label)] = {
                "level": _scale_line(x, np.abs(raw["level"][sel]), 0.003 * top),
                "drift": _local_scale(np.abs(raw["drift"][sel]), local, busy, 0.002 * top),
                "wiggle": _scale_line(x, raw["wiggle"][sel], 0.001 * top),
                "white": _white_params(raw["white"][sel][busy], 0.05 * max(hi, 1e-9)),
                "noise": (_noise_scale(series.values, series.group, sel),),
                "quiet": _quiet_params(x[busy], raw["quiet"][sel][busy], 1e-4 * top),
                "calm": _quiet_params(x[busy], raw["calm"][sel][busy], 1e-4 * top),
            }
            # the wiggle in units of the asset's own healthy tail (as the quiet and calm
            # ratios): on the tuning seeds 201, 204 and 205 the batteries' healthy wiggle set
            # the threshold all assets share, and wind and solar bursts stayed under it
            p = self.params[str(label)]
            own = series.group == gi
            w = _wiggle(p["wiggle"], raw["wiggle"][own], raw["swing"][own], raw["x"][own])
            w = rolling(np.nan_to_num(w), np.zeros(w.size, np.int64), PERSIST["wiggle"], "median")
            p["wiggle_unit"] = (max(float(np.quantile(w[sel[own]], TAIL_Q)), 1e-6),)
            # the healthy residual's AR(1) + white model, where the asset runs
            on = sel[own] & (raw["x"][own] > 0.05 * max(hi, 1e-9))
            p["memory"] = ar_white_fit(np.where(on, raw["resid"][own], np.nan))
        # an asset that never ran in training (a peaker) takes the fleet's local-noise ratio
        known = [p["drift"][1] for p in self.params.values() if np.isfinite(p["drift"][1])]
        fleet = float(np.median(known)) if known else 0.0
        for p in self.params.values():
            if not np.isfinite(p["drift"][1]):
                p["drift"] = (p["drift"][0], fleet)
        return self

    def _memory_ratio(self, series: LongSeries, clean: np.ndarray) -> np.ndarray:
        models = {gi: self.params[str(lab)]["memory"][:4] for gi, lab in enumerate(series.labels)}
        return memory_ratio(clean, series.group, models, self.memory_window)

    # ------------------------------------------------------------------ scores
    def signals(self, series: LongSeries, reference: np.ndarray | None = None,
                mask: np.ndarray | None = None) -> dict[str, np.ndarray]:  # fmt: skip
        """Per-asset normalised signals (before thresholds), masked samples set to 0."""
        if not self.params:
            raise AnomalyInputError("expected a fitted learned detector; call fit() first")
        if (reference is not None) != self.uses_reference:
            want = "with" if self.uses_reference else "without"
            msg = f"expected data {want} a reference column, as in training; found the opposite"
            raise AnomalyInputError(msg)
        if mask is None:
            mask = self._mask(series, None, widen=False)
        raw = self._raw(series, reference, mask)
        g, x = series.group, raw["x"]
        out = {s: np.zeros(x.size) for s in SIGNALS}
        whiteness_busy = np.full(x.size, np.nan)  # whiteness where the asset runs, else NaN
        busy = np.zeros(x.size)
        # the healthy AR memory lost: the likelihood ratio of white noise alone against the
        # asset's healthy model, per MEMORY_SCALE samples (a natural unit, the same for all)
        lr = np.clip(self._memory_ratio(series, raw["clean"]) * MEMORY_SCALE, -50.0, 50.0)
        out["memory"] = np.exp(np.nan_to_num(lr, nan=-50.0))
        for gi, label in enumerate(series.labels):
            p = self.params.get(str(label))
            sel = g == gi
            if p is None:
                raise AnomalyInputError(
                    f"expected groups seen in training; found {label!r} (train on it first)"
                )
            xs = x[sel]
            out["level"][sel] = np.abs(raw["level"][sel]) / (p["level"][0] + p["level"][1] * xs)
            scale = np.fmax(p["drift"][1] * np.nan_to_num(raw["local"][sel]), p["drift"][0])
            out["drift"][sel] = np.abs(raw["drift"][sel]) / scale
            out["wiggle"][sel] = (_wiggle(p["wiggle"], raw["wiggle"][sel], raw["swing"][sel], xs)
                                  / p["wiggle_unit"][0])  # fmt: skip
            # share of the correlated (process) variance lost, relative to the asset's own
            white = np.fmax(raw["white"][sel] - p["white"][0], 0.0) / p["white"][2]
            out["white"][sel] = np.where(xs > p["white"][1], white, 0.0)
            whiteness_busy[sel] = np.where(xs > p["white"][1], raw["white"][sel], np.nan)
            # the slow process wander the asset shows when healthy, over what the window shows
            for s in ("quiet", "calm"):
                slow = np.sqrt(np.fmax(raw[s][sel], 1e-12))
                out[s][sel] = (p[s][0] + p[s][1] * xs) / slow / p[s][2]
            busy[sel] = xs > p["white"][1]
        # only windows where the asset ran throughout (a start or stop is no healthy wander)
        windows = (("white", self.white_window), ("quiet", self.quiet_window),
                   ("calm", self.calm_window), ("memory", self.memory_window))  # fmt: skip
        for s, window in windows:
            out[s] = np.where(rolling(busy, g, window) >= BUSY_SHARE, out[s], 0.0)
        # of a matching pair the copy deviates more over 30 min (a neighbour of the same
        # technology reads close to the truth over 5 min, the source only over both)
        out["copy"] = copy_signal(raw["pairs"], out["drift"], g)
        for s in SIGNALS:
            if PERSIST[s] > 1:
                out[s] = rolling(out[s], g, PERSIST[s], "median")
            out[s] = np.where(mask, 0.0, np.nan_to_num(out[s]))
        out["residual"] = np.nan_to_num(raw["level"])
        out["whiteness"] = whiteness_busy
        out["expected"] = raw["expected"]
        return out

    def calibrate(self, series: LongSeries, reference: np.ndarray | None = None,
                  labels: Any = None) -> LearnedDetector:  # fmt: skip
        """Thresholds per signal: the lowest with <= ``target_rate`` events per asset-day,
        shared among the signals of one fault type."""
        self._saw(series)
        mask = self._mask(series, labels)
        sig = self.signals(series, reference, mask)
        days = asset_days(series)
        for s in SIGNALS:
            # signals that report the same fault type share its budget
            share = sum(SIGNAL_KINDS[o] == SIGNAL_KINDS[s] for o in SIGNALS)
            allowed = self.target_rate * days / share
            vals = sig[s][sig[s] > 0]
            if vals.size == 0:
                self.thresholds[s] = 1.0
                continue
            cands = np.unique(np.quantile(vals, np.r_[np.linspace(0.5, 0.999, 40),
                                                      1 - np.logspace(-4, -7, 10)]))  # fmt: skip
            chosen = float(vals.max()) * 1.01 + 1e-9
            for c in cands:
                if len(self._runs(series, sig[s], c, s)) <= allowed:
                    chosen = float(c)
                    break
            tail = self._tail_threshold(series, sig[s], s, allowed) if s in TAIL_FIT else 0.0
            # under one allowed event the count only says "above the highest peak": one
            # outlier then sets the threshold; the tail fit to the 30 highest speaks instead
            self.thresholds[s] = max(tail if allowed < 1 and tail > 0 else chosen, tail,
                                     FLOOR.get(s, 1e-9))  # fmt: skip
            self.tail_thresholds[s] = tail
        self.calibration = {"asset_days": days, "target_rate": self.target_rate,
                            "masked_samples": int(mask.sum())}  # fmt: skip
        return self

    def _tail_threshold(self, series: LongSeries, score: np.ndarray, signal: str,
                        allowed: float) -> float:  # fmt: skip
        """Threshold at which a Pareto tail fitted to the highest event peaks expects
        ``allowed`` events: the peaks of the events at a low threshold (90th percentile of the
        signal), the ``k`` <= 30 highest over the k-th (``u``), with the mean log excess
        ``beta`` (Hill's estimator, bias-corrected ``k / (k - 1)``), give ``u (k /
        allowed) ** beta``. It extends the count past the validation maximum where the
        validation period is short (fewer asset-days than 1 / target rate); a heavy tail
        (the quiet signal is a ratio of variances with few degrees of freedom) is not taken
        for a light one. 0 with under 5 events."""
        pos = score[score > 0]
        if pos.size == 0:
            return 0.0
        runs = self._runs(series, score, float(np.quantile(pos, 0.9)), signal)
        peaks = np.sort([float(score[i : j + 1].max()) for i, j in runs])[::-1]
        if peaks.size < 5:
            return 0.0
        k = min(peaks.size, 30)
        u = peaks[k - 1]
        beta = float(np.mean(np.log(peaks[:k] / u))) * k / (k - 1)
        return float(u * (k / allowed) ** beta) if allowed < k else 0.0

    def calibrate_unsupervised(self, series: LongSeries, reference: np.ndarray | None = None,
                               contamination: float = 0.01) -> LearnedDetector:  # fmt: skip
        """Thresholds without labels or a clean period: per signal the larger of the
        ``1 - contamination`` quantile and median + 8 x 1.4826 MAD (robust) of the signal on
        the data itself, so at most about ``contamination`` of the samples alarm."""
        if not 0.0 < contamination < 0.5:
            raise AnomalyInputError(f"expected 0 < contamination < 0.5; found {contamination!r}")
        self._saw(series)
        sig = self.signals(series, reference)
        for s in SIGNALS:
            v = sig[s]
            med = float(np.median(v))
            mad = 1.4826 * float(np.median(np.abs(v - med)))
            robust = med + 8.0 * mad if s != "copy" else 0.5
            self.thresholds[s] = max(float(np.quantile(v, 1.0 - contamination)), robust, 1e-9)
        self.calibration = {"contamination": contamination, "asset_days": asset_days(series)}
        return self

    def score(self, series: LongSeries, reference: np.ndarray | None = None) -> dict[str, Any]:
        """Scores per signal (1.0 = its calibrated threshold) and the signed residual."""
        if not self.thresholds:
            raise AnomalyInputError("expected a calibrated learned detector; call calibrate()")
        sig = self.signals(series, reference)
        out = {s: sig[s] / self.thresholds[s] for s in SIGNALS}
        out["residual"], out["whiteness"] = sig["residual"], sig["whiteness"]
        out["expected"] = sig["expected"]
        return out

    # ------------------------------------------------------------------ events
    def _runs(self, series: LongSeries, score: np.ndarray, threshold: float,
              signal: str) -> list[tuple[int, int]]:  # fmt: skip
        """(first, last) sample index of the events of ``signal``: samples at or above
        ``HOLD[signal] x threshold`` merged (at most ``gap`` x ``GAP_FACTOR`` apart) into runs
        that reach ``threshold`` somewhere and last >= ``min_duration`` x ``MIN_FACTOR``."""
        flags = score >= HOLD[signal] * threshold
        idx = np.flatnonzero(flags)
        if idx.size == 0:
            return []
        g, t = series.group[idx], series.time[idx]
        new = np.ones(idx.size, bool)
        new[1:] = (g[1:] != g[:-1]) | (t[1:] - t[:-1] > self.gap_ns * GAP_FACTOR[signal])
        first = np.flatnonzero(new)
        last = np.append(first[1:] - 1, idx.size - 1)
        peak = np.maximum.reduceat(score[idx], first)
        keep = (t[last] - t[first] >= self.min_ns * MIN_FACTOR[signal]) & (peak >= threshold)
        return list(zip(idx[first[keep]], idx[last[keep]], strict=True))

    def detect(self, series: LongSeries, reference: np.ndarray | None = None) -> Any:
        """Typed events: group, start, end, score, kind, detector (``learned:<signal>``)."""
        sc = self.score(series, reference)
        frames = []
        found = {s: self._runs(series, sc[s], 1.0, s) for s in SIGNALS}
        # last samples of the faults other signatures found (a copy, a stuck spell, an
        # oscillation): a level event's lead stops there, what came before is another fault
        others = np.array(sorted(j for s in LEAD_STOPS for _, j in found[s]), np.int64)
        # first samples of those faults: a level event is typed up to the first that starts
        # inside it (past it the residual is another fault's: a drift that a copy follows)
        onsets = np.array(sorted(i for s in LEAD_STOPS for i, _ in found[s]), np.int64)
        for s in SIGNALS:
            runs = found[s]
            if not runs:
                continue
            a = np.array(runs)
            best = np.array([sc[s][i : j + 1].max() for i, j in runs])
            kinds = [SIGNAL_KINDS[s]] * len(runs)
            if s == "level":
                healthy = [self.params[str(lab)]["white"][0] for lab in series.labels]
                noise = [self.params[str(lab)]["noise"][0] for lab in series.labels]
                kinds = [
                    level_kind(series.values[h : k + 1], sc["expected"][h : k + 1],
                               sc["residual"][h : k + 1], series.time[h : k + 1],
                               sc["whiteness"][h : k + 1], healthy[series.group[i]], i - h,
                               noise[series.group[i]], self.level_window)
                    for i, j in runs
                    for h in [lead_start(series, i, LEAD_NS, others)]
                    for k in [typed_end(series, i, j, onsets, self.min_ns)]
                ]  # fmt: skip
            ev = events_frame(series.labels[series.group[a[:, 0]]], series.time[a[:, 0]],
                              series.time[a[:, 1]], best, kinds)  # fmt: skip
            frames.append(ev.assign(detector=f"learned:{s}"))
        if not frames:
            return empty_events().assign(detector=pd_string([]))
        ev = concat_events(frames)
        return merge_pieces(drift_pieces(drop_shadowed(ev)))


def lead_start(series: LongSeries, i: int, lead_ns: int, stops: np.ndarray | None = None) -> int:
    """Index of the first sample of ``i``'s group at most ``lead_ns`` [ns] before it, and
    after the last of the sorted sample indices ``stops`` before ``i`` (ends of other faults)."""
    g, t = series.group, series.time
    first = int(np.searchsorted(g, g[i], "left"))
    if stops is not None and stops.size:
        k = int(np.searchsorted(stops, i, "left"))
        if k and stops[k - 1] >= first:
            first = int(stops[k - 1]) + 1
    return first + int(np.searchsorted(t[first : i + 1], t[i] - lead_ns, "left"))


def typed_end(series: LongSeries, i: int, j: int, onsets: np.ndarray, min_ns: int) -> int:
    """Last sample of the event ``(i, j)`` that its typing reads: the sample before the first
    of the sorted sample indices ``onsets`` (starts of other faults) at least ``min_ns`` [ns]
    into the event, else ``j``."""
    k = int(np.searchsorted(onsets, i, "right"))
    while k < onsets.size and onsets[k] <= j:
        if series.time[onsets[k]] - series.time[i] >= min_ns:
            return int(onsets[k]) - 1
        k += 1
    return j


def pd_string(values: list[str]) -> Any:
    import pandas as pd

    return pd.array(values, dtype="string")


def _white_params(white: np.ndarray, busy_above: float) -> tuple[float, float, float]:
    """(median, busy threshold [value units], spread) of the healthy whiteness of a running
    asset: the white signal is how far past its median the whiteness goes, in units of its
    own spread (99th percentile - median, at least 0.05): a process as white as its noise
    (nuclear) spreads little further than it, a smooth one (gas) far less than a stuck value."""
    white = white[np.isfinite(white)]
    if white.size == 0:
        return 1.0, busy_above, 1.0
    med, q99 = np.quantile(white, [0.5, 0.99])
    return float(med), busy_above, max(float(q99 - med), 0.05)


def _wiggle(line: tuple[float, ...], amp: np.ndarray, swing: np.ndarray,
            x: np.ndarray) -> np.ndarray:  # fmt: skip
    """The wiggle signal before its unit: the square root of the variation over its healthy
    line in the output (``line``: a, b) times the swing (how much the variation alternates)."""
    scaled = amp / (line[0] + line[1] * x)
    return np.sqrt(np.fmax(scaled, 0.0)) * np.fmax(swing, 0.0)


def local_noise(clean: np.ndarray, group: np.ndarray, window: int) -> np.ndarray:
    """The noise where each sample is [value units]: the centred ``window``-sample rolling
    median of |first difference| of the reading (left-out samples and the steps next to
    them skipped). Process noise grows with output, and where an asset runs at levels
    training never saw (a windy validation day after two calm ones) a scale learned as a
    line in the output extrapolates; this one is measured there. A bias or a gain error
    leaves it (one jump in a median of hundreds of steps); NaN where no step is left."""
    d = np.abs(group_diff(clean, group))
    d[np.r_[True, group[1:] != group[:-1]]] = np.nan
    return rolling(d, group, window, "median")


def _local_scale(y: np.ndarray, local: np.ndarray, busy: np.ndarray,
                 floor: float) -> tuple[float, float]:  # fmt: skip
    """(floor, c): the drift residual's healthy scale is ``max(c x local, floor)``,
    ``c`` the median of ``y / local`` where the asset runs (``busy``; NaN when it ran for
    under 100 samples: :meth:`LearnedDetector.fit` then takes the fleet's median, as an idle
    asset's residual is white transducer noise, whose mean shrinks far faster than a running
    asset's), ``floor`` a fraction of its largest value (a bias of a few % of capacity must
    show on an idle asset)."""
    ok = np.isfinite(y) & np.isfinite(local) & (local > 0) & busy
    c = float(np.median(y[ok] / local[ok])) if ok.sum() >= 100 else float("nan")
    return max(floor, 1e-6), c


def _noise_scale(values: np.ndarray, group: np.ndarray, sel: np.ndarray) -> float:
    """Sample-to-sample noise of one asset [value units]: 1.4826 x the median |first
    difference| / sqrt(2) over its clean training samples (``sel``, one group)."""
    d = group_diff(np.nan_to_num(values.astype(np.float64)), group)[sel][1:]
    return float(1.4826 * np.median(np.abs(d)) / np.sqrt(2.0)) if d.size else 0.0


def _quiet_params(x: np.ndarray, slow_var: np.ndarray,
                  floor: float) -> tuple[float, float, float]:  # fmt: skip
    """Healthy slow wander [value units] as a line ``a + b x`` in the expected value, fitted
    where the asset runs, and the unit of its quiet (or calm) ratio: the ratio's healthy
    ``TAIL_Q`` quantile (at least 1). A steady unit's wander is always there (its ratio stays
    near 1); a weather-driven one's stops on a clear day, and its healthy calm spells would
    otherwise alarm as a lost wander. (0, 0, 1) (the signal stays 0) when it ran for under
    100 samples."""
    ok = np.isfinite(slow_var)
    if ok.sum() < 100:
        return 0.0, 0.0, 1.0
    a, b = _scale_line(x[ok], np.sqrt(slow_var[ok]), floor)
    ratio = (a + b * x[ok]) / np.sqrt(np.fmax(slow_var[ok], 1e-12))
    return a, b, max(float(np.quantile(ratio, TAIL_Q)), 1.0)


def _scale_line(x: np.ndarray, y: np.ndarray, floor: float) -> tuple[float, float]:
    """``a + b x`` through the medians of y in quintiles of x; ``a`` floored at ``floor`` (a
    fraction of the asset's largest value: an asset idle in training must not look noiseless);
    where y does not grow with x, the median of y (b = 0); where the intercept falls under
    the floor, the line through (0, floor) nearest the medians.
    Samples with a non-finite ``y`` (windows of left-out samples only) are ignored."""
    ok = np.isfinite(y)
    x, y = x[ok], y[ok]
    edges = np.unique(np.quantile(x, [0, 0.2, 0.4, 0.6, 0.8, 1.0]))
    floor = max(floor, 0.1 * float(np.median(y)), 1e-6)
    if edges.size < 3:
        return max(float(np.median(y)), floor), 0.0
    bins = np.clip(np.searchsorted(edges, x, side="right") - 1, 0, edges.size - 2)
    xm = np.array([np.median(x[bins == b]) for b in range(edges.size - 1) if (bins == b).any()])
    ym = np.array([np.median(y[bins == b]) for b in range(edges.size - 1) if (bins == b).any()])
    b, a = np.polyfit(xm, ym, 1) if xm.size >= 2 else (0.0, float(np.median(y)))
    if b <= 0.0:  # no growth with output: a level, not the intercept of a falling line (a
        # narrow range of x, as a nuclear unit's, puts that far off at x = 0)
        return max(float(np.median(y)), floor), 0.0
    if a < floor:  # a line through (0, floor) instead: a narrow range of x far from 0 puts
        # the intercept below the floor, and flooring it alone lifts the whole line
        b = float(np.sum(xm * (ym - floor)) / max(float(np.sum(xm * xm)), 1e-300))
        return floor, max(b, 0.0)
    return float(a), float(b)


def _widen(flags: np.ndarray, series: LongSeries, margin_ns: int) -> np.ndarray:
    """Flags widened by ``margin_ns`` on both sides within each group."""
    if margin_ns <= 0 or not flags.any():
        return flags
    key = series.group.astype(np.float64) * 1e19 + series.time.astype(np.float64)
    on = np.flatnonzero(flags)
    lo = np.searchsorted(key, key[on] - margin_ns, "left")
    hi = np.searchsorted(key, key[on] + margin_ns, "right")
    delta = np.zeros(flags.size + 1, np.int64)
    np.add.at(delta, lo, 1)
    np.add.at(delta, hi, -1)
    return np.cumsum(delta[:-1]) > 0


def label_mask(series: LongSeries, labels: Any, margin_ns: int = 0) -> np.ndarray:
    """Samples inside labelled events (``target_id``, ``start``, ``end``) of their group."""
    import pandas as pd

    out = np.zeros(series.time.size, bool)
    pos = {str(lab): i for i, lab in enumerate(series.labels)}
    start = pd.DatetimeIndex(pd.to_datetime(labels["start"], utc=True)).as_unit("ns").asi8
    end = pd.DatetimeIndex(pd.to_datetime(labels["end"], utc=True)).as_unit("ns").asi8
    for tid, s, e in zip(labels["target_id"].astype(str), start, end, strict=True):
        gi = pos.get(tid)
        if gi is None:
            continue
        sel = series.group == gi
        out[sel] |= (series.time[sel] >= s - margin_ns) & (series.time[sel] <= e + margin_ns)
    return out


def asset_days(series: LongSeries) -> float:
    """Sum over groups of the span covered [days]."""
    total = 0.0
    for gi in np.unique(series.group):
        t = series.time[series.group == gi]
        total += (t[-1] - t[0]) / 86_400e9
    return max(total, 1e-9)
