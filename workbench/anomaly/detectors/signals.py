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
memory     log-likelihood ratio per sample of     stuck_with_noise on a unit whose slow
           white noise alone (its own mean)       wander is as large as its noise (nuclear:
           against the asset's healthy AR(1) +    AR(1), tau ~120 s, + white noise of the same
           white model, over ``memory_window``;   size): a frozen reading keeps the white noise
           the signal is exp(15 x it)             only (a likelihood-ratio test, per asset)
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

import itertools

import numpy as np

SIGNAL_KINDS: dict[str, str] = {
    "copy": "copied_from_asset",
    "level": "bias_step",  # or calibration_drift, by the step at the event's start
    "drift": "calibration_drift",
    "white": "stuck_with_noise",
    "quiet": "stuck_with_noise",
    "calm": "stuck_with_noise",  # the quiet signal over an hour (a long stuck spell)
    "memory": "stuck_with_noise",  # likelihood ratio: white noise alone vs healthy AR + white
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


#: share of a window's samples that must be there for the memory signal to speak
FULL_SHARE = 0.8


def ar_white_fit(residual_values: np.ndarray, lags: int = 4) -> tuple[float, ...]:
    """The healthy residual of one asset as AR(1) + white noise, from its autocovariances
    (NaN samples left out of the products): ``gamma(k) = s_a phi ** k`` for ``k >= 1`` (a
    least-squares line through ``log gamma(1..lags)``), ``gamma(0) = s_a + s_w``. Where the
    slow component's size varies (with output), ``s_a`` is its mean and ``s_w`` still the
    white part's.

    Returns ``(phi, theta, s_e, s_w)``: the AR coefficient, the MA coefficient and innovation
    variance of the equivalent ARMA(1, 1) (``(1 - phi B) y = (1 - theta B) e``,
    ``var(e) = s_e``) and the white noise's variance [value units squared]. ``phi = 0`` when
    the residual shows no correlated component, or has under 100 samples (the memory signal
    then stays 0)."""
    if np.isfinite(residual_values).sum() < 100:
        return 0.0, 0.0, 1.0, 1.0
    x = residual_values - np.nanmean(residual_values)
    g0 = float(np.nanmean(x * x))
    gam = np.array([np.nanmean(x[:-k] * x[k:]) for k in range(1, lags + 1)])
    if not np.isfinite(g0) or g0 <= 0 or not (gam > 0).all():
        return 0.0, 0.0, max(g0, 1e-12), max(g0, 1e-12)
    slope, icept = np.polyfit(np.arange(1, lags + 1), np.log(gam), 1)
    phi = float(np.clip(np.exp(slope), 0.0, 0.999))
    s_a = min(float(np.exp(icept)), 0.999 * g0)
    s_w = g0 - s_a
    ma0 = s_a * (1.0 - phi**2) + s_w * (1.0 + phi**2)  # variance of (1 - phi B) y
    rho = phi * s_w / ma0  # minus its lag-1 autocorrelation (at most 1/2)
    theta = (1.0 - np.sqrt(max(1.0 - 4.0 * rho * rho, 0.0))) / (2.0 * rho) if rho > 0 else 0.0
    return phi, float(theta), float(ma0 / (1.0 + theta**2)), float(s_w)


def memory_ratio(values: np.ndarray, group: np.ndarray,
                 model: dict[int, tuple[float, float, float, float]],
                 window: int = 150) -> np.ndarray:  # fmt: skip
    """Per sample, over a centred ``window``: the log-likelihood ratio per sample [nats] of
    white noise alone (variance ``s_w``) against the group's healthy AR(1) + white model
    (``model[group] = (phi, theta, s_e, s_w)``, see :func:`ar_white_fit`; its innovations
    ``e`` of variance ``s_e``), each with the window's own mean::

        0.5 x (log(s_e / s_w) + var(e) / s_e - var(x) / s_w)

    Below 0 where the slow wander is there (healthy: about ``-s_a / (2 s_w)`` plus a little),
    above 0 where it is gone (a frozen reading plus transducer noise). NaN samples are left
    out (the filter runs over a line across them); NaN for a group without a model (``phi = 0``)."""
    from scipy.signal import lfilter, lfilter_zi

    v = values.astype(np.float64)
    ok = np.isfinite(v)
    e = np.full(v.size, np.nan)
    s_e, s_w = np.full(v.size, np.nan), np.full(v.size, np.nan)
    bounds = np.flatnonzero(np.r_[True, group[1:] != group[:-1], True])
    for lo, hi in itertools.pairwise(bounds):
        phi, theta, se, sw = model.get(int(group[lo]), (0.0, 0.0, 1.0, 1.0))
        have = np.flatnonzero(ok[lo:hi])
        if phi <= 0 or have.size == 0:
            continue
        # left-out samples bridged by a line (a jump across a long gap would ring the filter)
        seg = np.interp(np.arange(hi - lo), have, v[lo:hi][have])
        b, a = [1.0, -phi], [1.0, -theta]
        out, _ = lfilter(b, a, seg, zi=lfilter_zi(b, a) * seg[0])
        e[lo:hi], s_e[lo:hi], s_w[lo:hi] = out, se, sw
    e[~ok] = np.nan
    var_x = rolling(np.where(ok, v, np.nan), group, window, "var")
    var_e = rolling(e, group, window, "var")
    lr = 0.5 * (np.log(s_e / s_w) + var_e / s_e - var_x / s_w)
    # a window mostly of left-out samples says nothing (a few samples are no spell)
    return np.where(rolling(ok.astype(np.float64), group, window) >= FULL_SHARE, lr, np.nan)
