"""What every sensor detector does: a normalised score per sample, then events.

Score convention (so detectors combine without tuning): every detector returns a non-negative
score per sample scaled so that **1.0 is its own alarm threshold**; a sample is flagged when its
score is ``>= 1``. Ensembles then take the maximum, or count votes, of these scores.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from workbench.anomaly.base import duration_ns
from workbench.anomaly.events import merge_flags
from workbench.anomaly.inputs import LongSeries


class SensorDetector:
    """Base class: subclasses implement :meth:`score`; :meth:`detect` merges flags to events.

    Parameters
    ----------
    gap_tolerance : str, Timedelta or float
        Flagged samples at most this far apart [s] merge into one event.
    """

    kind = "anomaly"

    def __init__(self, gap_tolerance: Any = "0s") -> None:
        self.gap_ns = duration_ns(gap_tolerance, "gap_tolerance")

    def fit(self, series: LongSeries) -> SensorDetector:
        """Learn from (presumed normal) data; rules need no fitting."""
        return self

    def score(self, series: LongSeries) -> np.ndarray:
        """Normalised anomaly score per sample (1.0 = threshold)."""
        raise NotImplementedError

    def detect(self, series: LongSeries) -> Any:
        """Events (group, start, end, score, kind) of the samples scoring ``>= 1``."""
        s = self.score(series)
        return merge_flags(
            series.group, series.time, s >= 1.0, s, series.labels, self.kind, self.gap_ns
        )


def segments(group: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """First index and length of each group's run in an array sorted by group."""
    if group.size == 0:
        return np.empty(0, np.int64), np.empty(0, np.int64)
    first = np.flatnonzero(np.r_[True, group[1:] != group[:-1]])
    return first, np.diff(np.r_[first, group.size])


def robust_scale(values: np.ndarray, group: np.ndarray) -> np.ndarray:
    """Per-sample robust noise scale of its group: 1.4826 x median |first difference| / sqrt 2,
    floored at 1e-6 of the group's typical magnitude (so flat series don't divide by zero)."""
    import pandas as pd

    frame = pd.DataFrame({"g": group, "v": values.astype(np.float64)})
    diff = frame.groupby("g")["v"].diff().abs()
    mad = diff.groupby(frame["g"]).transform("median").to_numpy()
    level = frame["v"].abs().groupby(frame["g"]).transform("median").to_numpy()
    scale = 1.4826 * mad / np.sqrt(2.0)
    return np.fmax(np.nan_to_num(scale, nan=0.0), 1e-6 * np.fmax(np.nan_to_num(level), 1.0))


def local_scale(values: np.ndarray, group: np.ndarray, window: int = 61) -> np.ndarray:
    """Per-sample local noise scale: 1.4826 x centred rolling median |first difference| / sqrt 2
    over ``window`` samples (zero differences skipped), floored at a tenth of the series'
    :func:`robust_scale` (noise that grows with output, like solar's, needs a local scale; the
    floor keeps still nights sane)."""
    import pandas as pd

    frame = pd.DataFrame({"g": group, "v": values.astype(np.float64)})
    diff = frame.groupby("g")["v"].diff().abs()
    diff = diff.where(diff > 0)  # a stuck stretch is no evidence of a quiet sensor
    med = diff.groupby(frame["g"]).rolling(window, center=True, min_periods=3).median().to_numpy()
    scale = 1.4826 * np.nan_to_num(med, nan=0.0) / np.sqrt(2.0)
    return np.fmax(scale, 0.1 * robust_scale(values, group))
