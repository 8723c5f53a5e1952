"""ROCOF alarms: rate of change of frequency beyond a threshold, sustained over a window."""

from __future__ import annotations

from typing import Any

import numpy as np

from workbench.anomaly.base import AnomalyInputError, duration_ns, times_ns


def rocof_alarms(
    times: Any,
    rocof_hz_per_s: Any,
    threshold_hz_per_s: float = 0.1,
    sustain: Any = "500ms",
    group: str = "all",
) -> Any:
    """Intervals where ``|ROCOF| >= threshold`` holds on consecutive samples for ``sustain``.

    Parameters
    ----------
    times : array-like of timestamps, shape (n,)
        Sorted sample times (UTC).
    rocof_hz_per_s : array-like, shape (n,)
        ROCOF [Hz/s] (a PMU's reported value, or :func:`numpy.gradient` of frequency);
        NaN breaks a run.
    threshold_hz_per_s : float
        Alarm threshold [Hz/s] (protection relays use 0.1-1 Hz/s).
    sustain : str, Timedelta or float
        Shortest run [s], first to last sample, that raises an alarm.
    group : str
        Series id written in the ``group`` column.

    Returns
    -------
    pandas.DataFrame
        group, start, end (UTC), peak_rocof_hz_per_s (signed, largest magnitude), samples.
    """
    import pandas as pd

    t = times_ns(times)
    r = np.asarray(rocof_hz_per_s, np.float64)
    if r.shape != t.shape:
        raise AnomalyInputError(f"expected ROCOF of shape {t.shape}; found {r.shape}")
    if not threshold_hz_per_s > 0:
        raise AnomalyInputError(f"expected threshold_hz_per_s > 0; found {threshold_hz_per_s!r}")
    hold = duration_ns(sustain, "sustain")
    above = np.abs(np.nan_to_num(r, nan=0.0)) >= threshold_hz_per_s
    edges = np.diff(np.r_[0, above.astype(np.int8), 0])
    first, last = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1) - 1
    keep = (t[last] - t[first]) >= hold if first.size else np.zeros(0, bool)
    first, last = first[keep], last[keep]
    peaks = [
        r[a : b + 1][np.argmax(np.abs(r[a : b + 1]))] for a, b in zip(first, last, strict=True)
    ]
    return pd.DataFrame(
        {
            "group": pd.array([group] * first.size, dtype="string"),
            "start": pd.DatetimeIndex(t[first].view("datetime64[ns]"), tz="UTC"),
            "end": pd.DatetimeIndex(t[last].view("datetime64[ns]"), tz="UTC"),
            "peak_rocof_hz_per_s": np.asarray(peaks, np.float64),
            "samples": (last - first + 1).astype(np.int64),
        }
    )
