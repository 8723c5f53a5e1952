"""Small synthetic series for tests, examples and notebooks (public, like ``xarray.testing``).

:func:`synthetic_load` is a load-like series: a daily profile keyed to *local* clock time, lower
weekends, a slow random-walk level and white noise, on a regular UTC grid.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from workbench.forecasting.base import ForecastData


def synthetic_load(
    start: str = "2024-01-01",
    days: int = 60,
    freq: str = "1h",
    tz: str = "UTC",
    noise_mw: float = 20.0,
    walk_mw: float = 2.0,
    seed: int = 0,
) -> pd.Series:
    """A load-like series [MW] on a UTC grid, its shape following local time in ``tz``.

    Parameters
    ----------
    start : str
        First local day.
    days : int
        Length [days].
    freq : str
        Step.
    tz : str
        Zone of the daily profile.
    noise_mw, walk_mw : float
        Standard deviation of the white noise and of the random-walk steps [MW].
    seed : int
        Random seed.
    """
    first = pd.Timestamp(start, tz=tz).tz_convert("UTC")
    idx = pd.date_range(first, first + pd.Timedelta(days=days), freq=freq, inclusive="left")
    local = idx.tz_convert(tz)
    hour = np.asarray(local.hour + local.minute / 60.0)
    rng = np.random.default_rng(seed)
    shape = 1000 + 250 * np.sin(2 * np.pi * (hour - 9) / 24) + 80 * np.cos(4 * np.pi * hour / 24)
    weekend = np.asarray(local.dayofweek >= 5) * -150.0
    walk = np.cumsum(rng.normal(0.0, walk_mw, len(idx)))
    y = shape + weekend + walk + rng.normal(0.0, noise_mw, len(idx))
    return pd.Series(y, index=idx, name="load_mw")


def synthetic_data(**kwargs: object) -> ForecastData:
    """:func:`synthetic_load` wrapped in :class:`ForecastData`."""
    return ForecastData(y=synthetic_load(**kwargs))  # type: ignore[arg-type]
