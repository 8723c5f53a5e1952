"""Rule detectors for sensor telemetry: flatline, spike, out-of-range, stale.

Each rule scores every sample with 1.0 at its threshold (see :mod:`.base`) and names its events
after itself (``kind``). :class:`RuleSet` runs several and reports each rule's events; a sample
already out of range is not also reported as a spike.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from workbench.anomaly.base import AnomalyInputError, duration_ns
from workbench.anomaly.detectors.base import SensorDetector, local_scale
from workbench.anomaly.events import concat_events, events_frame
from workbench.anomaly.inputs import LongSeries


class FlatlineRule(SensorDetector):
    """A value stuck (consecutive samples within ``tolerance``) for ``min_duration`` or longer.

    Parameters
    ----------
    min_duration : str, Timedelta or float
        Shortest stuck run [s] that is flagged.
    min_samples : int
        Fewest samples in a flagged run.
    tolerance : float
        Largest change between consecutive samples still "stuck" [value units]; 0 means
        bit-identical, the signature of a frozen transducer or a stale RTU register.
    """

    kind = "flatline"

    def __init__(self, min_duration: Any = "120s", min_samples: int = 5, tolerance: float = 0.0,
                 gap_tolerance: Any = "0s") -> None:  # fmt: skip
        super().__init__(gap_tolerance)
        self.min_ns = max(duration_ns(min_duration, "min_duration"), 1)
        self.min_samples, self.tolerance = int(min_samples), float(tolerance)

    def score(self, series: LongSeries) -> np.ndarray:
        v, g, t = series.values.astype(np.float64), series.group, series.time
        if v.size == 0:
            return np.zeros(0)
        same = np.zeros(v.size, bool)
        same[1:] = (g[1:] == g[:-1]) & (np.abs(v[1:] - v[:-1]) <= self.tolerance)
        start = ~same  # a run starts wherever the value moved (or a group starts)
        rid = np.cumsum(start) - 1
        first = np.flatnonzero(start)
        last = np.append(first[1:] - 1, v.size - 1)
        n = last - first + 1
        dur = t[last] - t[first]
        ok = (n >= self.min_samples) & np.isfinite(v[first])
        run_score = np.where(ok, dur / self.min_ns, 0.0)
        return run_score[rid]


class SpikeRule(SensorDetector):
    """A sample far from the centred rolling median of its neighbours.

    Score = |value - rolling median| / (``threshold`` x local noise scale, see
    :func:`~.base.local_scale`); a
    deviation smaller than ``min_abs`` [value units] never reaches 1.
    """

    kind = "spike"

    def __init__(self, threshold: float = 20.0, window: int = 5, min_abs: float = 0.0,
                 gap_tolerance: Any = "0s") -> None:  # fmt: skip
        super().__init__(gap_tolerance)
        if window < 3 or window % 2 == 0:
            raise AnomalyInputError(f"expected an odd spike window >= 3; found {window!r}")
        self.threshold, self.window, self.min_abs = float(threshold), int(window), float(min_abs)

    def score(self, series: LongSeries) -> np.ndarray:
        import pandas as pd

        v = series.values.astype(np.float64)
        frame = pd.DataFrame({"g": series.group, "v": v})
        med = (
            frame.groupby("g", sort=True)["v"]
            .rolling(self.window, center=True, min_periods=1)
            .median()
            .to_numpy()
        )
        dev = np.abs(v - med)
        s = dev / (self.threshold * local_scale(v, series.group))
        s = np.where(dev >= self.min_abs, s, np.minimum(s, 0.99))
        return np.nan_to_num(s, nan=0.0)


class OutOfRangeRule(SensorDetector):
    """A value outside ``[lower, upper]``; optionally a present row whose value is missing
    (silver SCADA nulls out-of-range values, so there a NULL in a landed row is the sentinel).

    Defaults are the platform's SCADA range limits [MW]."""

    kind = "out_of_range"

    def __init__(self, lower: float = -1000.0, upper: float = 10000.0,
                 missing_is_out: bool = True, gap_tolerance: Any = "0s") -> None:  # fmt: skip
        super().__init__(gap_tolerance)
        if not lower < upper:
            raise AnomalyInputError(f"expected lower < upper; found {lower!r}, {upper!r}")
        self.lower, self.upper, self.missing_is_out = float(lower), float(upper), missing_is_out

    def score(self, series: LongSeries) -> np.ndarray:
        v = series.values.astype(np.float64)
        out = (v < self.lower) | (v > self.upper)
        if self.missing_is_out:
            out |= np.isnan(v)
        return out.astype(np.float64)


class StaleRule(SensorDetector):
    """No sample for longer than ``factor`` x the series' median interval (and ``min_gap``).

    The event runs from the last sample before the silence to the first one after it; the score
    of that first sample is gap / threshold."""

    kind = "stale"

    def __init__(
        self, factor: float = 5.0, min_gap: Any = "30s", gap_tolerance: Any = "0s"
    ) -> None:
        super().__init__(gap_tolerance)
        self.factor, self.min_gap_ns = float(factor), duration_ns(min_gap, "min_gap")

    def _gaps(self, series: LongSeries) -> tuple[np.ndarray, np.ndarray]:
        import pandas as pd

        g, t = series.group, series.time
        dt = np.zeros(t.size, np.int64)
        dt[1:] = np.where(g[1:] == g[:-1], t[1:] - t[:-1], 0)
        typical = pd.Series(np.where(dt > 0, dt, np.nan)).groupby(g).transform("median").to_numpy()
        limit = np.fmax(self.factor * np.nan_to_num(typical, nan=0.0), self.min_gap_ns)
        return dt, np.fmax(limit, 1.0)

    def score(self, series: LongSeries) -> np.ndarray:
        dt, limit = self._gaps(series)
        return dt / limit

    def detect(self, series: LongSeries) -> Any:
        dt, limit = self._gaps(series)
        hit = np.flatnonzero(dt / limit >= 1.0)
        return events_frame(
            series.labels[series.group[hit]],
            series.time[hit - 1],
            series.time[hit],
            dt[hit] / limit[hit],
            self.kind,
        )


DEFAULT_RULES = ("flatline", "spike", "out_of_range", "stale")
RULES: dict[str, type[SensorDetector]] = {
    "flatline": FlatlineRule,
    "spike": SpikeRule,
    "out_of_range": OutOfRangeRule,
    "stale": StaleRule,
}


class RuleSet(SensorDetector):
    """Several rules together: score is the maximum, events are each rule's own.

    Parameters
    ----------
    rules : sequence of SensorDetector or str
        Rule instances or names among :data:`RULES` (default: all four with defaults).
    """

    kind = "rules"

    def __init__(self, rules: Sequence[SensorDetector | str] = DEFAULT_RULES,
                 gap_tolerance: Any = "0s") -> None:  # fmt: skip
        super().__init__(gap_tolerance)
        self.rules = []
        for r in rules:
            if isinstance(r, str):
                if r not in RULES:
                    raise AnomalyInputError(f"expected a rule among {sorted(RULES)}; found {r!r}")
                r = RULES[r](gap_tolerance=gap_tolerance)
            self.rules.append(r)

    def _scores(self, series: LongSeries) -> dict[str, np.ndarray]:
        scores = {r.kind: r.score(series) for r in self.rules}
        if "spike" in scores and "out_of_range" in scores:  # one sentinel, one event
            scores["spike"] = np.where(scores["out_of_range"] >= 1.0, 0.0, scores["spike"])
        return scores

    def score(self, series: LongSeries) -> np.ndarray:
        scores = list(self._scores(series).values())
        return np.max(np.vstack(scores), axis=0) if scores else np.zeros(series.time.size)

    def detect(self, series: LongSeries) -> Any:
        from workbench.anomaly.events import merge_flags

        scores = self._scores(series)
        frames = []
        for r in self.rules:
            if isinstance(r, StaleRule):
                frames.append(r.detect(series))
                continue
            s = scores[r.kind]
            frames.append(
                merge_flags(series.group, series.time, s >= 1.0, s, series.labels, r.kind, r.gap_ns)
            )
        return concat_events(frames)
