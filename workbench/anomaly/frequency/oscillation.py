"""Forced-oscillation detection (0.1-2 Hz) with frequency and damping estimates.

Detection works on raw grid frequency, whose spectrum is *red* (slow wander, governors and AGC
put most power at the lowest frequencies), as well as on ROCOF or voltage angle:

1. the signal (NaN gaps interpolated) is pre-whitened by a first difference, which flattens a
   red background (it multiplies the spectrum by about ``omega^2``);
2. its Welch spectrum is taken, and each bin of ``[f_lo, f_hi]`` is compared with its *local*
   background: the geometric median of the bins 3 to ``3 + neighbours`` away on either side
   (the peak's own main lobe excluded), not the band median, which a sloping spectrum makes
   meaningless;
3. an oscillation needs both a peak ``ratio`` times its local background and an amplitude of at
   least ``min_amplitude`` (signal units, e.g. 0.5 mHz on frequency in Hz): the largest
   envelope of the signal band-passed around the peak (see damping below), so that a short
   ringdown counts with its initial amplitude.

Across many PMUs (:func:`detect_oscillation_pmus`): a forced oscillation swings regions by
different amounts and often in opposite phase (its mode shape), so the median over PMUs, the
usual "system frequency", can cancel it while each PMU shows it plainly. The PMUs are split into
their common mode (the median over PMUs: governors, AGC and load wander, the red background,
plus any in-phase oscillation) and each PMU's deviation from it (local swings: the red wander
cancels); the pre-whitened spectra of the deviations are averaged over PMUs, which also steadies
the background estimate, and a peak is searched in both components.

Frequency: the peak, refined by parabolic interpolation of the log spectrum, limited to half a
bin either side. Damping: the signal is band-passed around the peak (4th-order Butterworth,
±25 %), its Hilbert envelope is taken (and smoothed over one period), and a line is fitted to
the log envelope from where it first reaches 90 % of its maximum until it decays to ``floor``
of the maximum and stays below for three periods (a brief dip of a weak, noisy oscillation does
not end the fit); the slope is ``-sigma`` and the damping ratio ``sigma / sqrt(sigma^2 +
omega^2)``. A sustained (forced) oscillation gives a ratio near 0; a ringdown its true ratio.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from workbench.anomaly.base import AnomalyInputError
from workbench.core.extras import require

_LOBE = 2  # bins either side of a peak that belong to its main lobe (Hann window)


def oscillation_spectrum(x: Any, rate_hz: float, segment_s: float = 60.0) -> tuple[Any, Any]:
    """Welch power spectral density of the linearly detrended ``x`` (NaN filled by
    interpolation); returns (frequencies [Hz], PSD [unit^2/Hz])."""
    signal = require("scipy.signal", feature="forced-oscillation detection")
    y = _fill(np.asarray(x, np.float64))
    nper = int(min(max(segment_s * rate_hz, 16), y.size))
    return signal.welch(y, fs=rate_hz, nperseg=nper, detrend="linear")


def detect_oscillation(
    x: Any,
    rate_hz: float,
    *,
    f_lo: float = 0.1,
    f_hi: float = 2.0,
    ratio: float = 10.0,
    min_amplitude: float = 5e-4,
    segment_s: float = 60.0,
    neighbours: int = 8,
    floor: float = 0.1,
) -> dict[str, Any]:
    """Look for a forced oscillation in one signal.

    Parameters
    ----------
    x : array-like
        Evenly sampled signal (frequency [Hz], ROCOF [Hz/s] or voltage angle [deg]); NaN gaps
        interpolated.
    rate_hz : float
        Sample rate [1/s].
    f_lo, f_hi : float
        Band searched [Hz].
    ratio : float
        Peak-to-local-background power ratio needed to report an oscillation (10 = 10 dB),
        measured on the pre-whitened (differenced) spectrum.
    min_amplitude : float
        Smallest amplitude reported [signal units]; the default, 5e-4, is 0.5 mHz on frequency
        in Hz. Set it for the signal analysed (e.g. degrees for a voltage angle).
    segment_s : float
        Welch segment length [s] (resolution ``1 / segment_s`` Hz), at most half the signal so
        that at least 3 half-overlapping segments are averaged (one segment's spectrum is too
        noisy for a power ratio).
    neighbours : int
        Bins on each side, beyond the peak's main lobe, that form the local background.
    floor : float
        Envelope level (fraction of its maximum) where the damping fit stops.

    Returns
    -------
    dict
        detected (bool), frequency_hz, damping_ratio, amplitude (largest envelope around the
        peak, signal units), peak_ratio (peak / local background power).

    Raises
    ------
    AnomalyInputError
        For a band outside ``(0, rate/2)``, a signal too short for the band, or one without
        finite samples.
    """
    signal = require("scipy.signal", feature="forced-oscillation detection")
    _check_band(rate_hz, f_lo, f_hi, ratio, min_amplitude, neighbours)
    y = _fill(np.asarray(x, np.float64))
    nper = _segment(y.size, rate_hz, segment_s, f_lo, f_hi)
    d = np.diff(y) * rate_hz
    freqs, psd = signal.welch(d, fs=rate_hz, nperseg=nper, detrend="linear")
    peak_ratio, f0, _ = _peak(freqs, psd, f_lo, f_hi, int(neighbours), np.size(x))
    zeta, amplitude = estimate_damping(y, rate_hz, f0, floor=floor)
    return {
        "detected": bool(peak_ratio >= ratio and amplitude >= min_amplitude),
        "frequency_hz": f0,
        "damping_ratio": zeta,
        "amplitude": amplitude,
        "peak_ratio": peak_ratio,
    }


def detect_oscillation_pmus(
    x: Any,
    rate_hz: float,
    *,
    f_lo: float = 0.1,
    f_hi: float = 2.0,
    ratio: float = 10.0,
    min_amplitude: float = 5e-4,
    segment_s: float = 60.0,
    neighbours: int = 8,
    floor: float = 0.1,
    min_valid: float = 0.9,
) -> dict[str, Any]:
    """Look for a forced oscillation across PMUs, in their common mode and in their deviations
    from it (see the module docstring).

    Parameters
    ----------
    x : array-like, shape (n_time, n_pmu)
        Evenly sampled frequency [Hz] (or ROCOF, angle) per PMU; NaN where a sample is missing
        or flagged.
    rate_hz, f_lo, f_hi, ratio, min_amplitude, segment_s, neighbours, floor
        As in :func:`detect_oscillation`; ``ratio`` applies to the component searched.
    min_valid : float
        Share of finite samples a PMU needs to take part (its gaps are interpolated).

    Returns
    -------
    dict
        As :func:`detect_oscillation` (``amplitude`` and ``damping_ratio`` of the PMU that
        swings most at the peak, or of the common mode), plus ``component`` ("common" or
        "inter-area": where the peak stands higher above its background) and ``pmus`` (the
        number of PMUs used).

    Raises
    ------
    AnomalyInputError
        For a non 2-D input, no PMU with enough finite samples, or a band or length that
        :func:`detect_oscillation` rejects.
    """
    signal = require("scipy.signal", feature="forced-oscillation detection")
    arr = np.asarray(x, np.float64)
    if arr.ndim != 2:
        raise AnomalyInputError(f"expected a 2-D (time x pmu) array; found shape {arr.shape}")
    _check_band(rate_hz, f_lo, f_hi, ratio, min_amplitude, neighbours)
    use = np.isfinite(arr).mean(axis=0) >= min_valid
    if not use.any():
        msg = (
            f"expected a PMU with at least {min_valid:.0%} finite samples; found none of "
            f"{arr.shape[1]}; pass a window with data or lower min_valid"
        )
        raise AnomalyInputError(msg)
    y = np.column_stack([_fill(arr[:, p]) for p in np.flatnonzero(use)])
    common = np.median(y, axis=1)
    parts = {"common": common[:, None], "inter-area": y - common[:, None]}
    nper = _segment(y.shape[0], rate_hz, segment_s, f_lo, f_hi)
    best = None
    for name, part in parts.items():
        if name == "inter-area" and part.shape[1] < 2:
            continue  # one PMU has no deviation from itself
        d = np.diff(part, axis=0) * rate_hz
        freqs, psd = signal.welch(d, fs=rate_hz, nperseg=nper, detrend="linear", axis=0)
        found = _peak(freqs, psd.mean(axis=1), f_lo, f_hi, int(neighbours), y.shape[0])
        if best is None or found[0] > best[0]:
            best = (*found, name, psd)
    peak_ratio, f0, k, name, psd = best
    sig = common if name == "common" else parts[name][:, int(np.argmax(psd[k]))]
    zeta, amplitude = estimate_damping(sig, rate_hz, f0, floor=floor)
    return {
        "detected": bool(peak_ratio >= ratio and amplitude >= min_amplitude),
        "frequency_hz": f0,
        "damping_ratio": zeta,
        "amplitude": amplitude,
        "peak_ratio": peak_ratio,
        "component": name,
        "pmus": int(y.shape[1]),
    }


def pmu_oscillation_spectra(
    x: Any, rate_hz: float, segment_s: float = 60.0, min_valid: float = 0.9
) -> tuple[Any, Any, Any]:
    """The two pre-whitened spectra :func:`detect_oscillation_pmus` searches: frequencies [Hz],
    the common mode's PSD and the deviations' PSD averaged over PMUs [(unit/s)^2/Hz]."""
    signal = require("scipy.signal", feature="forced-oscillation detection")
    arr = np.asarray(x, np.float64)
    if arr.ndim != 2:
        raise AnomalyInputError(f"expected a 2-D (time x pmu) array; found shape {arr.shape}")
    use = np.flatnonzero(np.isfinite(arr).mean(axis=0) >= min_valid)
    if use.size == 0:
        raise AnomalyInputError(f"expected a PMU with {min_valid:.0%} finite samples; found none")
    y = np.column_stack([_fill(arr[:, p]) for p in use])
    common = np.median(y, axis=1)
    nper = int(min(max(segment_s * rate_hz, 16), y.shape[0] // 2))
    out = []
    for part in (common[:, None], y - common[:, None]):
        d = np.diff(part, axis=0) * rate_hz
        freqs, psd = signal.welch(d, fs=rate_hz, nperseg=nper, detrend="linear", axis=0)
        out.append(psd.mean(axis=1))
    return freqs, out[0], out[1]


def _check_band(
    rate_hz: float, f_lo: float, f_hi: float, ratio: float, min_amplitude: float, neighbours: int
) -> None:
    if not rate_hz > 0 or not 0 < f_lo < f_hi < rate_hz / 2:
        msg = f"expected 0 < f_lo < f_hi < rate/2; found {f_lo}, {f_hi}, rate {rate_hz}"
        raise AnomalyInputError(msg)
    if not ratio > 0 or not min_amplitude >= 0 or int(neighbours) < 2:
        msg = (
            "expected ratio > 0, min_amplitude >= 0 and neighbours >= 2; "
            f"found {ratio}, {min_amplitude}, {neighbours}"
        )
        raise AnomalyInputError(msg)


def _segment(n: int, rate_hz: float, segment_s: float, f_lo: float, f_hi: float) -> int:
    """Welch segment length [samples]: ``segment_s`` at most half the signal (>= 3 segments)."""
    nper = int(min(max(segment_s * rate_hz, 16), n // 2))
    if n < 16 or nper * (f_hi - f_lo) / rate_hz < 3:
        raise AnomalyInputError(
            f"expected a signal long enough to resolve {f_lo}-{f_hi} Hz; found {n} samples"
        )
    return nper


def _peak(
    freqs: np.ndarray, psd: np.ndarray, f_lo: float, f_hi: float, neighbours: int, n: int
) -> tuple[float, float, int]:
    """The band's bin standing highest above its local background: (power ratio, frequency
    [Hz] refined by parabolic interpolation of the log spectrum, bin index)."""
    idx = np.flatnonzero((freqs >= f_lo) & (freqs <= f_hi))
    if idx.size < 3:
        raise AnomalyInputError(
            f"expected a signal long enough to resolve {f_lo}-{f_hi} Hz; found {n} samples"
        )
    df = float(freqs[1] - freqs[0])
    logp = np.log(np.fmax(psd, np.finfo(np.float64).tiny))
    bg_log = _local_background(logp, idx, neighbours)
    usable = np.isfinite(bg_log)  # the lowest bins lack a left background
    if not usable.any():
        msg = (
            f"expected a spectrum resolving {f_lo}-{f_hi} Hz with background on both sides; "
            f"found {idx.size} bins of {df:.3g} Hz; use a longer segment_s or signal"
        )
        raise AnomalyInputError(msg)
    idx, bg_log = idx[usable], bg_log[usable]
    local = logp[idx] - bg_log
    j = int(np.argmax(local))
    k = int(idx[j])
    f0 = float(freqs[k])
    if 0 < k < psd.size - 1:
        a, b, c = logp[k - 1 : k + 2]
        denom = a - 2 * b + c
        if denom < 0:  # a maximum: the vertex lies within half a bin
            f0 += float(np.clip(0.5 * (a - c) / denom, -0.5, 0.5)) * df
    f0 = float(np.clip(f0, max(f_lo - 0.5 * df, 0.5 * df), f_hi + 0.5 * df))
    return float(np.exp(local[j])), f0, k


def _local_background(logp: np.ndarray, idx: np.ndarray, n: int) -> np.ndarray:
    """Local background log power of each bin in ``idx``: the larger of the median log powers
    of the bins ``_LOBE + 1`` to ``_LOBE + n`` away on its left and on its right (bin 0 and bins
    beyond the spectrum's end left out), so that a peak must stand above both sides of a
    sloping spectrum. NaN where a side has fewer than 2 bins."""
    steps = np.arange(_LOBE + 1, _LOBE + n + 1)
    sides = []
    for offs in (-steps, steps):
        nb = idx[:, None] + offs[None, :]
        ok = (nb >= 1) & (nb < logp.size)
        vals = np.where(ok, logp[np.clip(nb, 0, logp.size - 1)], np.nan)
        med = np.full(idx.size, np.nan)
        enough = ok.sum(axis=1) >= 2
        med[enough] = np.nanmedian(vals[enough], axis=1)
        sides.append(med)
    return np.fmax(sides[0], sides[1]) + np.where(np.isnan(sides[0] + sides[1]), np.nan, 0.0)


def estimate_damping(x: Any, rate_hz: float, f0: float, floor: float = 0.1) -> tuple[float, float]:
    """Damping ratio and peak envelope of the mode at ``f0`` [Hz] (see the module docstring).

    Returns NaN for the damping ratio when the envelope is too short to fit. Raises
    :class:`AnomalyInputError` for ``f0`` outside ``(0, rate/2)`` or a signal too short to
    band-pass.
    """
    signal = require("scipy.signal", feature="forced-oscillation damping")
    nyq = rate_hz / 2.0
    if not (rate_hz > 0 and np.isfinite(f0) and 0 < f0 < 0.95 * nyq):
        raise AnomalyInputError(
            f"expected 0 < f0 < 0.95 * rate/2 [Hz]; found f0={f0}, rate {rate_hz}"
        )
    y = signal.detrend(_fill(np.asarray(x, np.float64)))
    lo = min(max(0.75 * f0, 1e-3 * nyq), 0.9 * nyq) / nyq
    hi = min(1.25 * f0, 0.95 * nyq) / nyq
    sos = signal.butter(4, [lo, hi], btype="band", output="sos")
    try:
        z = signal.sosfiltfilt(sos, y)
    except ValueError as exc:  # too short for the filter's padding
        msg = (
            f"expected a signal longer than the band-pass filter's padding; found {y.size} samples"
        )
        raise AnomalyInputError(msg) from exc
    env = np.abs(signal.hilbert(z))
    period = max(round(rate_hz / f0), 1)
    if env.size > period:
        env = np.convolve(env, np.ones(period) / period, mode="same")
    edge = min(int(2.0 * rate_hz / f0), env.size // 4)  # filter edge effects
    core = env[edge : env.size - edge] if edge > 0 else env
    if core.size < 4:
        return float("nan"), float("nan")
    amp = float(core.max())
    k = int(np.flatnonzero(core >= 0.9 * amp)[0])
    tail = core[k:]
    # the fit stops where the envelope falls below the floor and stays there for 3 periods: a
    # few-mHz forced oscillation in noise dips briefly (a beat with the noise), a ringdown stays
    held = 3 * period
    below = (tail < floor * amp).astype(np.int64)
    run = np.flatnonzero(np.convolve(below, np.ones(held, np.int64), mode="valid") == held)
    stop = int(run[0]) if run.size else tail.size
    if stop < 4:
        return float("nan"), amp
    tt = np.arange(stop) / rate_hz
    slope = float(np.polyfit(tt, np.log(np.fmax(tail[:stop], 1e-300)), 1)[0])
    sigma = max(-slope, 0.0)
    omega = 2 * np.pi * f0
    return float(sigma / np.sqrt(sigma**2 + omega**2)), amp


def _fill(y: np.ndarray) -> np.ndarray:
    if y.ndim != 1:
        raise AnomalyInputError(f"expected a 1-D signal; found shape {y.shape}")
    bad = ~np.isfinite(y)
    if bad.all():
        raise AnomalyInputError("expected some finite samples; found none")
    if bad.any():
        i = np.arange(y.size)
        y = y.copy()
        y[bad] = np.interp(i[bad], i[~bad], y[~bad])
    return y
