"""Characterise a frequency disturbance: nadir, time to nadir, ROCOF, settling, energy.

Definitions (one series, e.g. one PMU or the median over PMUs):

- baseline: median frequency over the ``baseline`` span ending ``lookback`` before the
  episode start (before the disturbance);
- nadir: the sample farthest from the baseline within ``search`` after the episode start, on
  the side of the episode (under- or over-frequency); ``nadir_hz`` is its value;
- onset: walking back from the nadir, the first sample of the final stretch whose deviation
  from the baseline is at least 25 % of the nadir's (noise before a disturbance stays below
  that); ``time_to_nadir_s`` is nadir time - onset;
- ROCOF: least-squares slope of frequency over ``rocof_window`` from the onset [Hz/s] (the
  "initial ROCOF" that sets relay and inertia studies);
- settling time: from onset to the first sample after the nadir from which the frequency stays
  within ``[nominal - band, nominal + band]`` for ``hold`` (NaN if it never does in the data);
- energy not served by frequency response [MWh]: ``beta / 0.1 Hz x integral of |f - nominal|
  dt`` outside the band from onset to settling (or the end of the data), with ``beta`` the
  system's frequency-response characteristic [MW/0.1 Hz]: the power the primary response did not
  deliver while frequency was outside the band. NaN without ``beta``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from workbench.anomaly.base import duration_ns, times_ns

CHARACTER_COLUMNS = (
    "nadir_hz",
    "time_to_nadir_s",
    "rocof_hz_per_s",
    "settling_time_s",
    "energy_not_served_mwh",
)


def characterise(
    times: Any,
    frequency_hz: Any,
    start: Any,
    *,
    nominal_hz: float = 60.0,
    band_hz: float = 0.05,
    lookback: Any = "10s",
    baseline: Any = "5s",
    search: Any = "60s",
    rocof_window: Any = "500ms",
    hold: Any = "10s",
    beta_mw_per_0_1hz: float | None = None,
) -> dict[str, float]:
    """Characterise the disturbance around an episode that starts at ``start``.

    Parameters
    ----------
    times, frequency_hz : array-like, shape (n,)
        Sorted sample times (UTC) and frequency [Hz] of one series; NaN samples are skipped.
    start : timestamp-like
        The episode start (first out-of-band sample of the triggering group).
    nominal_hz, band_hz : float
        Nominal frequency and band half-width [Hz].
    lookback, baseline, search, rocof_window, hold : durations
        See the module docstring.
    beta_mw_per_0_1hz : float, optional
        Frequency-response characteristic [MW/0.1 Hz] for the energy not served.

    Returns
    -------
    dict
        :data:`CHARACTER_COLUMNS` [Hz, s, Hz/s, s, MWh]; NaN where undefined.
    """
    import pandas as pd

    t_all, f_all = times_ns(times), np.asarray(frequency_hz, np.float64)
    ok = np.isfinite(f_all)
    t, f = t_all[ok], f_all[ok]
    out = dict.fromkeys(CHARACTER_COLUMNS, float("nan"))
    t0 = int(pd.Timestamp(start).value) if not isinstance(start, (int, np.integer)) else int(start)
    look, base = duration_ns(lookback, "lookback"), duration_ns(baseline, "baseline")
    pre = (t >= t0 - look - base) & (t < t0 - look)
    win = (t >= t0 - look) & (t <= t0 + duration_ns(search, "search"))
    if not win.any():
        return out
    ref = float(np.median(f[pre])) if pre.any() else float(nominal_hz)
    tw, fw = t[win], f[win]
    at_start = fw[np.searchsorted(tw, t0)] if np.searchsorted(tw, t0) < tw.size else fw[-1]
    sign = -1.0 if at_start < ref else 1.0
    k = int(np.argmax(sign * (fw - ref)))
    out["nadir_hz"] = float(fw[k])
    depth = abs(fw[k] - ref)
    near = np.flatnonzero(np.abs(fw[: k + 1] - ref) < 0.25 * depth)
    onset_i = min(int(near[-1]) + 1, k) if near.size else 0
    onset = tw[onset_i]
    out["time_to_nadir_s"] = (tw[k] - onset) / 1e9
    rw = (tw >= onset) & (tw <= onset + duration_ns(rocof_window, "rocof_window"))
    if rw.sum() >= 2:
        x = (tw[rw] - onset) / 1e9
        out["rocof_hz_per_s"] = float(np.polyfit(x, fw[rw], 1)[0])
    # settling: after the nadir, inside the band and staying there for `hold`
    after = t >= tw[k]
    ta, fa = t[after], f[after]
    inside = np.abs(fa - nominal_hz) <= band_hz
    hold_ns = duration_ns(hold, "hold")
    settle_end = ta[-1] if ta.size else onset
    if inside.any():
        n = ta.size
        nxt = np.minimum.accumulate(np.where(~inside, np.arange(n), n)[::-1])[::-1]
        end_t = np.where(nxt < n, ta[np.minimum(nxt, n - 1)], ta[-1])  # next out-of-band sample
        good = inside & (end_t - ta >= hold_ns)
        if good.any():
            i = int(np.argmax(good))
            settle_end = ta[i]
            out["settling_time_s"] = (ta[i] - onset) / 1e9
    if beta_mw_per_0_1hz is not None:
        seg = (t >= onset) & (t <= settle_end)
        if seg.sum() >= 2:
            dev = np.abs(f[seg] - nominal_hz)
            dev = np.where(dev > band_hz, dev, 0.0)
            hz_s = float(np.trapezoid(dev, (t[seg] - t[seg][0]) / 1e9))
            out["energy_not_served_mwh"] = float(beta_mw_per_0_1hz) / 0.1 * hz_s / 3600.0
    return out
