"""Time windows of the forecasting core: the training cut-off, what is known, daily issues, grids.

Every model and the calibration agree on these few rules (DESIGN.md time conventions):

* :func:`resolve_until` — the training cut-off: a given tz-aware time, or when the last value of
  ``y`` became known;
* :func:`known_target` — the target values known at a time (availability lag applied);
* :func:`daily_issues` / :func:`validation_issues` — daily issue times, and those of the inner
  validation tail whose whole horizon is known at the cut-off;
* :class:`Grid` / :func:`ffill` — integer positions on the target's regular grid, and a
  forward fill on plain arrays.

This module depends on :mod:`workbench.forecasting.base` only, so features, calibration and
models can all use it without import cycles.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from workbench.forecasting.base import ForecastData, ForecastSpec, InsufficientDataError

__all__ = [
    "CAL_FRACTION",
    "DAY",
    "MAX_CAL_DAYS",
    "MIN_CAL_DAYS",
    "MIN_INNER_TRAIN_DAYS",
    "MIN_SHORT_TRAIN_DAYS",
    "Grid",
    "daily_issues",
    "ffill",
    "known_target",
    "resolve_until",
    "validation_issues",
]

DAY = pd.Timedelta("1D")
#: Fewest days of history the inner model needs before the validation tail.
MIN_INNER_TRAIN_DAYS = 7
#: Fewest days of history of the inner model on a short history (half/half split).
MIN_SHORT_TRAIN_DAYS = 3
#: Bounds of the automatic validation tail [days].
MIN_CAL_DAYS, MAX_CAL_DAYS = 14, 56
#: Share of the training window used as the automatic validation tail.
CAL_FRACTION = 0.35


def resolve_until(data: ForecastData, spec: ForecastSpec, until: Any) -> pd.Timestamp:
    """The training cut-off: ``until`` in UTC, or when the last value of ``y`` became known."""
    if until is None:
        return data.y.index[-1] + spec.freq + spec.lag("y")
    ts = pd.Timestamp(until)
    if ts.tz is None:
        raise InsufficientDataError(
            f"expected a tz-aware `until`; found naive {ts}. Use pd.Timestamp(..., tz='UTC')."
        )
    return ts.tz_convert("UTC")


def known_target(data: ForecastData, spec: ForecastSpec, until: pd.Timestamp) -> pd.Series:
    """The target values known at ``until``, NaN dropped."""
    end = spec.last_known_label([until])[0]
    y = data.y[data.y.index <= end]
    return y.dropna()


def daily_issues(anchor: pd.Timestamp, start: pd.Timestamp, end: pd.Timestamp) -> pd.DatetimeIndex:
    """Issue times at ``anchor``'s UTC time of day, every day in ``[start, end]``."""
    if end < start:
        return pd.DatetimeIndex([], tz="UTC")
    offset = anchor - anchor.floor("D")
    first = start.floor("D") + offset
    if first < start:
        first += DAY
    return pd.date_range(first, end, freq="D")


def validation_issues(
    spec: ForecastSpec, until: pd.Timestamp, first_label: pd.Timestamp, days: int | None
) -> pd.DatetimeIndex:
    """Daily issues inside the training window whose whole horizon is known at ``until``."""
    span_days = (until - first_label) / DAY
    if days is None:
        days = int(np.clip(round(CAL_FRACTION * span_days), MIN_CAL_DAYS, MAX_CAL_DAYS))
    reach = (spec.lead + spec.horizon) * spec.freq + spec.freq + spec.lag("y")
    last = until - reach
    first = last - pd.Timedelta(days=days - 1)
    if (first - first_label) / DAY >= MIN_INNER_TRAIN_DAYS:
        return daily_issues(until, first, last)
    # short history: half for the inner fit (at least MIN_SHORT_TRAIN_DAYS), the rest to validate
    first = first_label + max(pd.Timedelta(days=MIN_SHORT_TRAIN_DAYS), (last - first_label) / 2)
    issues = daily_issues(until, first, last)
    return issues if len(issues) >= 2 else pd.DatetimeIndex([], tz="UTC")


class Grid:
    """Integer positions of timestamps on the target's regular grid."""

    def __init__(self, index: pd.DatetimeIndex, freq: pd.Timedelta) -> None:
        self.t0 = index[0].as_unit("ns").value if len(index) else 0
        self.step = freq.value
        self.n = len(index)

    def pos(self, times: Any) -> np.ndarray:
        """Grid positions of ``times`` (may be negative or past the end)."""
        ns = pd.DatetimeIndex(times).as_unit("ns").asi8
        return (ns - self.t0) // self.step

    def take(self, values: np.ndarray, pos: np.ndarray) -> np.ndarray:
        """``values[pos]`` where ``pos`` is on the grid, NaN elsewhere."""
        ok = (pos >= 0) & (pos < self.n)
        out = np.full(pos.shape, np.nan)
        out[ok] = values[pos[ok]]
        return out


def ffill(values: np.ndarray) -> np.ndarray:
    """Forward-fill NaN (the last observed value at each position)."""
    idx = np.where(np.isfinite(values), np.arange(len(values)), 0)
    np.maximum.accumulate(idx, out=idx)
    return values[idx]
