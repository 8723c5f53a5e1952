"""Shared pieces of the anomaly layer: its error, durations and times as integer nanoseconds."""

from __future__ import annotations

from typing import Any

import numpy as np

from workbench.core.errors import WorkbenchError


class AnomalyInputError(WorkbenchError):
    """Input to a detector or scorer is malformed (columns, types, parameters)."""


def duration_ns(value: Any, name: str) -> int:
    """A duration as integer nanoseconds: ``"5s"``, ``"500ms"``, a Timedelta or seconds.

    Raises :class:`AnomalyInputError` for anything else or a negative duration.
    """
    import pandas as pd

    try:
        if isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool):
            ns = round(float(value) * 1e9)
        else:
            ns = int(pd.Timedelta(value).value)
    except (ValueError, TypeError) as exc:
        msg = f"expected {name} as a duration like '5s', '500ms' or seconds; found {value!r}"
        raise AnomalyInputError(msg) from exc
    if ns < 0:
        raise AnomalyInputError(f"expected {name} >= 0; found {value!r}")
    return ns


def times_ns(times: Any, name: str = "times") -> np.ndarray:
    """Timestamps as int64 nanoseconds since the epoch (UTC); naive values are taken as UTC.

    Accepts a pandas DatetimeIndex/Series, a datetime64 array or int64 nanoseconds.
    """
    import pandas as pd

    arr = np.asarray(times) if not isinstance(times, (pd.Index, pd.Series)) else times
    if isinstance(arr, np.ndarray) and arr.dtype.kind in "iu":
        return arr.astype(np.int64, copy=False)
    if isinstance(arr, np.ndarray) and arr.dtype.kind == "M":
        return arr.astype("datetime64[ns]").view(np.int64)
    try:
        idx = pd.DatetimeIndex(pd.to_datetime(arr, utc=True))
    except (ValueError, TypeError) as exc:
        msg = f"expected {name} as timestamps; found values that do not parse ({exc})"
        raise AnomalyInputError(msg) from exc
    if idx.hasnans:
        raise AnomalyInputError(f"expected {name} without missing timestamps; found NaT")
    return idx.as_unit("ns").asi8
