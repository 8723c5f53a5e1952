"""The ``ds.grid`` accessor on PMU cubes: frequency deviation, ROCOF, windows, statistics.

Registered the xarray way (:func:`xarray.register_dataset_accessor`) when this module is
imported, which :func:`workbench.io.cubes.open_cube` does; xarray itself warns
(``AccessorRegistrationWarning``) if ``grid`` would override another attribute. Everything is
pure xarray/numpy and stays lazy on dask-backed cubes: nothing is computed until ``.load()``,
``.compute()`` or ``.values``.

Examples
--------
>>> ds = cat.scan("bronze.pmu")  # doctest: +SKIP
>>> ds.grid.sample_rate_hz  # doctest: +SKIP
60.0
>>> dev = ds.grid.good().grid.frequency_deviation()  # Hz from nominal  # doctest: +SKIP
>>> w = ds.grid.window("2024-07-01T12:00Z", "2024-07-01T12:10Z")  # doctest: +SKIP
>>> w.grid.resample_stats("1s")  # mean/min/max/std per second  # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
import xarray as xr

from workbench.core.errors import DataAccessError, MissingColumnsError

NOMINAL_HZ = 60.0
FREQUENCY = "frequency_hz"
QUALITY = "quality"
TIME = "time"


@xr.register_dataset_accessor("grid")
class GridAccessor:
    """Power-grid helpers on a (time × pmu) cube with ``frequency_hz`` [Hz] and ``quality``."""

    def __init__(self, ds: xr.Dataset) -> None:
        self._ds = ds

    # ------------------------------------------------------------------ properties
    @property
    def sample_rate_hz(self) -> float:
        """Reporting rate [frames/s]: the median spacing of the first 1,001 time stamps."""
        times = self._ds.indexes.get(TIME)
        if times is None or len(times) < 2:
            msg = f"expected a {TIME!r} index with at least two stamps; found {self._ds.sizes}"
            raise DataAccessError(msg)
        step_ns = np.median(np.diff(times[:1001].asi8))
        if step_ns <= 0:
            raise DataAccessError(f"expected increasing {TIME} stamps; found a step of {step_ns}")
        return float(round(1e9 / step_ns, 6))

    @property
    def nominal_hz(self) -> float:
        """Nominal frequency [Hz]: the cube's ``nominal_frequency_hz`` attribute, else 60."""
        return float(self._ds.attrs.get("nominal_frequency_hz", NOMINAL_HZ))

    def _var(self, name: str) -> xr.DataArray:
        if name not in self._ds.data_vars:
            raise MissingColumnsError("ds.grid", [name], self._ds.data_vars)
        return self._ds[name]

    # ------------------------------------------------------------------ selections
    def window(self, start: Any = None, end: Any = None) -> xr.Dataset:
        """The half-open window ``[start, end)`` (naive times are UTC), by binary search.

        Lazy. On a cube as ``open_cube`` returned it, the variables the shard reader serves
        come back as dask arrays that read only the window's inner chunks
        (:func:`workbench.io.shard_views.window_view`); values equal xarray's.
        """
        from workbench.io.cubes import time_positions
        from workbench.io.shard_views import window_view

        picks = time_positions(self._ds, TIME, _stamp(start, "start"), _stamp(end, "end"))
        view = window_view(self._ds, TIME, picks)
        return self._ds.isel({TIME: picks}) if view is None else view

    def good(self, good_values: Sequence[int] = (0,)) -> xr.Dataset:
        """The cube with every data variable set to NaN where ``quality`` is not good.

        ``quality`` itself is kept; integer variables become float (NaN needs it).
        """
        quality = self._var(QUALITY)
        ok = quality.isin(list(good_values))
        out = self._ds.copy()
        for name, var in self._ds.data_vars.items():
            if name != QUALITY and TIME in var.dims:
                out[name] = var.where(ok)
        return out

    # ------------------------------------------------------------------ measures
    def frequency_deviation(self, nominal_hz: float | None = None) -> xr.DataArray:
        """Frequency minus nominal [Hz] (``nominal_hz`` defaults to :attr:`nominal_hz`)."""
        nominal = self.nominal_hz if nominal_hz is None else float(nominal_hz)
        out = self._var(FREQUENCY) - nominal
        out.name = "frequency_deviation_hz"
        out.attrs = {"units": "Hz", "nominal_frequency_hz": nominal}
        return out

    def rocof(self, window: str | int = "100ms") -> xr.DataArray:
        """Rate of change of frequency [Hz/s], from ``frequency_hz`` by differencing.

        The backward difference times the sample rate, smoothed by a trailing mean over
        ``window`` (a duration such as ``"100ms"`` or a number of samples; at least one), so
        each value uses only the past. The first sample is NaN.
        """
        rate = self.sample_rate_hz
        if isinstance(window, str):
            seconds = pd.Timedelta(window).total_seconds()
            samples = max(1, round(seconds * rate))
        else:
            samples = int(window)
        if samples < 1:
            raise DataAccessError(f"expected a window of at least one sample; found {window!r}")
        freq = self._var(FREQUENCY)
        diff = (freq - freq.shift({TIME: 1})) * rate
        out = diff.rolling({TIME: samples}, min_periods=1).mean() if samples > 1 else diff
        out.name = "rocof_hz_per_s"
        out.attrs = {"units": "Hz/s", "window_samples": samples}
        return out

    def excursions(self, band_hz: float = 0.05, nominal_hz: float | None = None) -> xr.DataArray:
        """True where ``|frequency - nominal| > band_hz`` (NaN samples are not excursions)."""
        dev = self.frequency_deviation(nominal_hz)
        out = abs(dev) > float(band_hz)
        out.name = "excursion"
        out.attrs = {
            "band_hz": float(band_hz),
            "nominal_frequency_hz": dev.attrs["nominal_frequency_hz"],
        }
        return out

    def resample_stats(
        self,
        freq: str = "1s",
        variables: Sequence[str] | None = None,
        stats: Sequence[str] = ("mean", "min", "max", "std"),
    ) -> xr.Dataset:
        """Statistics per window (interval-start labels), as ``{variable}_{stat}``.

        Parameters
        ----------
        freq : str
            Window length, a pandas offset such as ``"1s"``, ``"1min"``.
        variables : sequence of str, optional
            Data variables to summarise; by default every float variable (not ``quality``).
        stats : sequence of str
            Among ``mean``, ``min``, ``max``, ``std`` (population, ddof=0), ``count``; NaN
            samples are skipped.
        """
        allowed = {"mean", "min", "max", "std", "count"}
        bad = set(stats) - allowed
        if bad:
            raise DataAccessError(f"expected stats among {sorted(allowed)}; found {sorted(bad)}")
        if variables is None:
            variables = [n for n, v in self._ds.data_vars.items() if v.dtype.kind == "f"]
        missing = set(variables) - set(self._ds.data_vars)
        if missing:
            raise MissingColumnsError("ds.grid.resample_stats", missing, self._ds.data_vars)
        subset = self._ds[list(variables)]
        fast = _coarsen_plan(subset, freq)
        out = {}
        if fast is not None:  # regular stamps, whole samples per window: blockwise on dask
            pad, per_window, labels = fast
            padded = subset.pad({TIME: (pad, 0)}) if pad else subset
            windows = padded.drop_vars(TIME).coarsen({TIME: per_window}, boundary="pad")
            for stat in stats:
                summary = getattr(windows, stat)().assign_coords({TIME: labels})
                for name in variables:
                    out[f"{name}_{stat}"] = summary[name]
        else:  # irregular stamps: xarray's resample (one task per window on dask)
            resampled = subset.resample({TIME: freq}, closed="left", label="left")
            for stat in stats:
                summary = getattr(resampled, stat)()
                for name in variables:
                    out[f"{name}_{stat}"] = summary[name]
        return xr.Dataset(out, attrs={"resample": freq})


def _stamp(value: Any, name: str) -> pd.Timestamp | None:
    """A window bound as a UTC Timestamp, nanoseconds kept (naive means UTC)."""
    if value is None:
        return None
    try:
        stamp = pd.Timestamp(value)
    except (TypeError, ValueError):
        msg = f"expected {name} as a time such as '2024-07-01T00:00Z'; found {value!r}"
        raise DataAccessError(msg) from None
    return stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp.tz_convert("UTC")


def _coarsen_plan(ds: xr.Dataset, freq: str) -> tuple[int, int, pd.DatetimeIndex] | None:
    """(front padding, samples per window, window labels) when the stamps are regular (within
    2 ns: 30 fps stamps are rounded to whole ns) and a window holds a whole number of samples,
    starting on a sample; else None."""
    times = ds.indexes.get(TIME)
    if times is None or len(times) < 2:
        return None
    ns = times.asi8
    step = (ns[-1] - ns[0]) / (len(ns) - 1)
    if step <= 0:
        return None
    grid = ns[0] + np.round(np.arange(len(ns)) * step).astype(np.int64)
    width = pd.Timedelta(freq).value
    per_window = width / step
    first = times[0].floor(pd.Timedelta(freq))
    pad = (ns[0] - first.value) / step
    whole = abs(per_window - round(per_window)) * step < 2 and abs(pad - round(pad)) * step < 2
    if np.abs(ns - grid).max() > 2 or not whole or round(per_window) < 1:
        return None
    pad, per_window = round(pad), round(per_window)
    n_windows = -(-(pad + len(ns)) // per_window)
    return pad, per_window, pd.date_range(first, periods=n_windows, freq=freq)


__all__ = ["GridAccessor"]
