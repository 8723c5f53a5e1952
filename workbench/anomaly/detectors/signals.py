"""Per-sample signals of the learned detectors, each aimed at one silent SCADA fault.

A silent fault keeps good quality codes and plausible values, so no rule sees it; each leaves a
signature in one of these signals (all per sample, in series order, higher = more unusual):

========== ====================================== ==========================================
signal     what it measures                       fault it reveals
========== ====================================== ==========================================
copy       share of the last ``copy_window``      copied_from_asset (another asset's values,
           samples whose value another group      bit for bit, at the same scan times)
           reported at the same time
level      smoothed residual |value - reference|  bias_step, calibration_drift (a residual
           / the asset's residual scale (5 min)   that steps, or grows slowly)
drift      the same over 30 min                   calibration_drift hidden by process noise
quiet      the asset's healthy slow process        stuck_with_noise on a unit whose process
           variation (1-min means of the          is as fine as its transducer noise
           residual, their variance over          (nuclear): a frozen value keeps the white
           ``quiet_window``) over what the        noise but loses the slow wander
           window shows (square root)
calm       the quiet signal over an hour          a long stuck_with_noise on such a unit: a
                                                  20-min window has ~2.5 degrees of freedom
                                                  of nuclear's wander (heavy healthy tail), an
                                                  hour ~8
white      whiteness of the local variation:      stuck_with_noise (a frozen value plus
           mean squared difference / (2 x local   white transducer noise; the healthy process
           variance); 1 for white noise           is correlated, below 1); scored as the
                                                  rise past the asset's healthy median, in
                                                  units of its healthy spread
wiggle     local median |difference| / the        intermittent_oscillation (bursts of a
           asset's typical |difference|, times    12-60 s sine: larger differences that
           the negative autocorrelation of the    alternate in sign)
           differences at lags of 2-8 samples
========== ====================================== ==========================================

The reference is what the value should be (a state estimate, a schedule, the 5-minute meter
value interpolated); without one the level residual is taken against a centred rolling median
of the series itself (2 hours), which sees a bias step but not a slow drift.
"""

from __future__ import annotations

import numpy as np

SIGNAL_KINDS: dict[str, str] = {
    "copy": "copied_from_asset",
    "level": "bias_step",  # or calibration_drift, by the step at the event's start
    "drift": "calibration_drift",
    "white": "stuck_with_noise",
    "quiet": "stuck_with_noise",
    "calm": "stuck_with_noise",  # the quiet signal over an hour (a long stuck spell)
    "wiggle": "intermittent_oscillation",
}


def rolling(x: np.ndarray, group: np.ndarray, window: int, how: str = "mean",
            center: bool = True) -> np.ndarray:  # fmt: skip
    """Rolling ``how`` (mean, median, var, max) of ``x`` within each group (series order kept)."""
    import pandas as pd

    r = pd.Series(x).groupby(group, sort=True).rolling(window, center=center, min_periods=1)
    return getattr(r, how)().to_numpy()


def group_diff(x: np.ndarray, group: np.ndarray) -> np.ndarray:
    """First difference within each group; 0 at a group's first sample."""
    d = np.zeros(x.size)
    same = group[1:] == group[:-1]
    d[1:] = np.where(same, x[1:] - x[:-1], 0.0)
    return d


def copy_pairs(values: np.ndarray, group: np.ndarray, time: np.ndarray,
               bin_ns: int = 8_000_000_000, max_repeats: int = 50) -> np.ndarray:  # fmt: skip
    """Pairs (i, j) of samples of two groups with the same exact value in the same or a
    neighbouring time bin, shape (n, 2).

    Values repeated more than ``max_repeats`` times in the whole frame (zeros, limits, stuck
    values) never count: they are common, not copied.
    """
    import pandas as pd

    ok = np.isfinite(values)
    idx = np.flatnonzero(ok)
    key = np.round(values[idx] * 1000.0).astype(np.int64)
    frame = pd.DataFrame({"k": key, "b": time[idx] // bin_ns, "g": group[idx], "i": idx})
    counts = frame["k"].map(frame["k"].value_counts())
    frame = frame[(counts <= max_repeats).to_numpy()]
    right = frame.rename(columns={"g": "g2", "i": "i2"})[["k", "b", "g2", "i2"]]
    pairs = []
    for shift in (-1, 0, 1):
        m = frame.assign(b=frame["b"] + shift).merge(right, on=["k", "b"])
        pairs.append(m.loc[m["g"] != m["g2"], ["i", "i2"]].to_numpy(np.int64))
    return np.vstack(pairs)


def copy_signal(pairs: np.ndarray, deviation: np.ndarray, group: np.ndarray,
                window: int = 31) -> np.ndarray:  # fmt: skip
    """Rolling share (0-1) of samples copied from another group: of a matching pair (see
    :func:`copy_pairs`) the sample that deviates more from its own expectation is the copy."""
    hit = np.zeros(group.size)
    if len(pairs):
        i, j = pairs[:, 0], pairs[:, 1]
        hit[i[deviation[i] > deviation[j]]] = 1.0
    return rolling(hit, group, window)


def residual(values: np.ndarray, group: np.ndarray, reference: np.ndarray | None,
             baseline_window: int = 1801) -> np.ndarray:  # fmt: skip
    """Value minus reference, or minus a centred rolling median when there is no reference."""
    v = np.nan_to_num(values.astype(np.float64))
    if reference is None:
        return v - rolling(v, group, baseline_window, "median")
    return v - np.nan_to_num(reference.astype(np.float64))


def whiteness(values: np.ndarray, group: np.ndarray, window: int = 75) -> np.ndarray:
    """Mean squared difference / (2 x rolling variance): about 1 for white noise, near 0 for a
    smooth correlated process. NaN samples (left out) stay out of the windows."""
    v = values.astype(np.float64)
    d = group_diff(v, group)
    msd = rolling(d * d, group, window)
    var = rolling(v, group, window, "var")
    return np.clip(msd / np.fmax(2.0 * var, 1e-12), 0.0, 2.0)


def wiggle(values: np.ndarray, group: np.ndarray, window: int = 15) -> np.ndarray:
    """Rolling median of |first difference| (value units); NaN samples left out."""
    v = values.astype(np.float64)
    return rolling(np.abs(group_diff(v, group)), group, window, "median")


def swing(values: np.ndarray, group: np.ndarray, window: int = 30,
          lags: tuple[int, ...] = (2, 3, 4, 5, 6, 7, 8)) -> np.ndarray:  # fmt: skip
    """Minus the lowest autocorrelation of the first differences at ``lags`` samples, over a
    rolling ``window``: a sine of period 2 x lag x interval drives it towards 1, a healthy
    process (AR noise, white transducer noise: differences uncorrelated beyond lag 1) keeps it
    near 0. NaN samples are left out."""
    v = values.astype(np.float64)
    d = group_diff(v, group)
    power = np.fmax(rolling(d * d, group, window), 1e-12)
    lowest = np.zeros(v.size)
    for k in lags:
        prev = np.zeros(v.size)
        prev[k:] = np.where(group[k:] == group[:-k], d[:-k], 0.0)
        lowest = np.fmin(lowest, rolling(d * prev, group, window) / power)
    return -lowest


def slow_variance(residual_values: np.ndarray, group: np.ndarray, window: int = 300,
                  smooth: int = 15) -> np.ndarray:  # fmt: skip
    """Variance over ``window`` samples of the ``smooth``-sample means of the residual
    [value units squared]: the slow process wander (regulation, turbulence) that white
    transducer noise, averaged over ``smooth`` samples, hardly reaches. NaN samples are left
    out."""
    return rolling(rolling(residual_values, group, smooth), group, window, "var")
