"""Batch frequency-excursion detection over a long frame or a PMU cube.

Same rule and same code path as the streaming detector (:mod:`.episodes`), applied to all the
data at once, so both give the same episodes on the same data.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from workbench.anomaly.base import AnomalyInputError, duration_ns
from workbench.anomaly.frequency.episodes import Episodes, EpisodeState, out_of_band, to_frame
from workbench.anomaly.frequency.stream import validate_rule
from workbench.anomaly.inputs import long_series


def detect_frequency_frame(
    frame: Any,
    time_col: str = "time",
    value_col: str = "frequency_hz",
    group_col: str | None = None,
    quality_col: str | None = None,
    *,
    nominal_hz: float = 60.0,
    band_hz: float = 0.05,
    count: int = 3,
    window: Any = "5s",
) -> Any:
    """Frequency-excursion episodes in a long frame (one row per sample).

    Parameters
    ----------
    frame : pandas.DataFrame
        Samples in any order.
    time_col, value_col : str
        Timestamp column (UTC; naive is UTC) and frequency column [Hz].
    group_col : str, optional
        Series id (PMU); without it the frame is one series, group ``"all"``.
    quality_col : str, optional
        Integer quality, 0 good; flagged samples are ignored.
    nominal_hz, band_hz, count, window
        The rule, as in :class:`~workbench.anomaly.frequency.stream.FrequencyDetector`.

    Returns
    -------
    pandas.DataFrame
        One row per episode: group, start, end, min_hz [Hz], max_hz [Hz], samples_outside.
        Duplicate (group, time) samples count once (the first row wins).
    """
    validate_rule(nominal_hz, band_hz, count)
    window_ns = duration_ns(window, "window")
    if window_ns <= 0:
        raise AnomalyInputError(f"expected window > 0; found {window!r}")
    series = long_series(frame, time_col, value_col, group_col, quality_col)
    lo, hi = float(nominal_hz) - float(band_hz), float(nominal_hz) + float(band_hz)
    mask = out_of_band(series.values, series.quality, lo, hi)
    idx = np.flatnonzero(mask)
    state = EpisodeState(series.labels.size, int(count), window_ns)
    closed = state.update(series.group[idx], series.time[idx], series.values[idx].astype(float))
    return to_frame(Episodes.concat([closed, state.close_all()]), series.labels)


def detect_frequency_cube(
    ds: Any,
    variable: str = "frequency_hz",
    quality: str | None = "quality",
    *,
    nominal_hz: float | None = None,
    band_hz: float = 0.05,
    count: int = 3,
    window: Any = "5s",
    pmu_chunk: int = 2000,
) -> Any:
    """Frequency-excursion episodes in a PMU cube (time x pmu), ``pmu_chunk`` PMUs at a time.

    Parameters
    ----------
    ds : xarray.Dataset
        The cube (``cat.scan("bronze.pmu")`` or a loaded window of it).
    variable : str
        Frequency variable [Hz].
    quality : str or None
        Quality variable (0 good) or None to use every sample.
    nominal_hz : float, optional
        Nominal frequency [Hz]; default the cube's ``nominal_frequency_hz`` attribute, else 60.
    band_hz, count, window
        The rule, as in :class:`~workbench.anomaly.frequency.stream.FrequencyDetector`.
    pmu_chunk : int
        PMUs loaded at once (memory: time steps x pmu_chunk x 5 bytes).

    Returns
    -------
    pandas.DataFrame
        One row per episode: group (PMU id), start, end, min_hz, max_hz, samples_outside.
    """
    if variable not in ds.data_vars:
        msg = f"expected variable {variable!r} in the cube; found {sorted(ds.data_vars)}"
        raise AnomalyInputError(msg)
    if quality is not None and quality not in ds.data_vars:
        quality = None
    nominal = float(
        ds.attrs.get("nominal_frequency_hz", 60.0) if nominal_hz is None else nominal_hz
    )
    validate_rule(nominal, band_hz, count)
    window_ns = duration_ns(window, "window")
    if window_ns <= 0:
        raise AnomalyInputError(f"expected window > 0; found {window!r}")
    da = ds[variable].transpose("time", "pmu")
    t = np.asarray(ds["time"].values).astype("datetime64[ns]").view(np.int64)
    order = None
    if not np.all(t[1:] > t[:-1]):
        order = np.argsort(t, kind="stable")
        keep = np.ones(t.size, bool)
        keep[1:] = t[order][1:] != t[order][:-1]
        order = order[keep]
        t = t[order]
    labels = np.array([str(p) for p in ds["pmu"].values], dtype=object)
    lo, hi = nominal - float(band_hz), nominal + float(band_hz)
    parts = []
    for p0 in range(0, labels.size, max(int(pmu_chunk), 1)):
        p1 = min(p0 + max(int(pmu_chunk), 1), labels.size)
        v = np.asarray(da.isel(pmu=slice(p0, p1)).values)
        q = None
        if quality is not None:
            q = np.asarray(ds[quality].transpose("time", "pmu").isel(pmu=slice(p0, p1)).values)
        if order is not None:
            v, q = v[order], None if q is None else q[order]
        pi, ti = np.nonzero(out_of_band(v, q, lo, hi).T)  # by PMU, then time
        state = EpisodeState(p1 - p0, int(count), window_ns)
        closed = state.update(pi.astype(np.int64), t[ti], v[ti, pi].astype(np.float64))
        ep = Episodes.concat([closed, state.close_all()])
        ep.group = ep.group + p0
        parts.append(ep)
    return to_frame(Episodes.concat(parts), labels)
