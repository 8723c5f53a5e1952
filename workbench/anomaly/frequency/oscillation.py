"""Forced-oscillation detection (0.1-2 Hz) with frequency and damping estimates.

Detection: Welch spectrum of the detrended signal (frequency or voltage angle); an oscillation
is a peak in ``[f_lo, f_hi]`` whose power is ``ratio`` times the median power of that band (the
background). Frequency: the peak, refined by parabolic interpolation of the log spectrum.
Damping: the signal is band-passed around the peak (4th-order Butterworth, ±25 %), its Hilbert
envelope is taken, and a line is fitted to the log envelope from its maximum until it decays to
``floor`` of it; the slope is ``-sigma`` and the damping ratio is ``sigma / sqrt(sigma^2 +
omega^2)``. A sustained (forced) oscillation gives a ratio near 0; a ringdown its true ratio.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from workbench.anomaly.base import AnomalyInputError
from workbench.core.extras import require


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
    segment_s: float = 60.0,
    floor: float = 0.1,
) -> dict[str, Any]:
    """Look for a forced oscillation in one signal.

    Parameters
    ----------
    x : array-like
        Evenly sampled signal (frequency [Hz] or voltage angle [deg]); NaN gaps interpolated.
    rate_hz : float
        Sample rate [1/s].
    f_lo, f_hi : float
        Band searched [Hz].
    ratio : float
        Peak-to-background power ratio needed to report an oscillation (10 = 10 dB).
    segment_s : float
        Welch segment length [s] (resolution ``1 / segment_s`` Hz).
    floor : float
        Envelope level (fraction of its maximum) where the damping fit stops.

    Returns
    -------
    dict
        detected (bool), frequency_hz, damping_ratio, amplitude (peak envelope, signal units),
        peak_ratio.
    """
    if not rate_hz > 0 or not 0 < f_lo < f_hi < rate_hz / 2:
        msg = f"expected 0 < f_lo < f_hi < rate/2; found {f_lo}, {f_hi}, rate {rate_hz}"
        raise AnomalyInputError(msg)
    freqs, psd = oscillation_spectrum(x, rate_hz, segment_s)
    band = (freqs >= f_lo) & (freqs <= f_hi)
    if band.sum() < 3:
        raise AnomalyInputError(
            f"expected a signal long enough to resolve {f_lo}-{f_hi} Hz; found {np.size(x)} samples"
        )
    idx = np.flatnonzero(band)
    k = idx[int(np.argmax(psd[idx]))]
    background = float(np.median(psd[idx]))
    peak_ratio = float(psd[k] / background) if background > 0 else float("inf")
    f0 = float(freqs[k])
    if 0 < k < psd.size - 1 and np.all(psd[k - 1 : k + 2] > 0):
        a, b, c = np.log(psd[k - 1 : k + 2])
        denom = a - 2 * b + c
        if denom != 0:
            f0 += float(0.5 * (a - c) / denom) * float(freqs[1] - freqs[0])
    zeta, amp = estimate_damping(x, rate_hz, f0, floor=floor)
    return {
        "detected": bool(peak_ratio >= ratio),
        "frequency_hz": f0,
        "damping_ratio": zeta,
        "amplitude": amp,
        "peak_ratio": peak_ratio,
    }


def estimate_damping(x: Any, rate_hz: float, f0: float, floor: float = 0.1) -> tuple[float, float]:
    """Damping ratio and peak envelope of the mode at ``f0`` [Hz] (see the module docstring)."""
    signal = require("scipy.signal", feature="forced-oscillation damping")
    y = _fill(np.asarray(x, np.float64))
    y = signal.detrend(y)
    nyq = rate_hz / 2.0
    lo, hi = max(0.75 * f0, 0.01) / nyq, min(1.25 * f0, 0.95 * nyq) / nyq
    sos = signal.butter(4, [lo, hi], btype="band", output="sos")
    z = signal.sosfiltfilt(sos, y)
    env = np.abs(signal.hilbert(z))
    edge = min(int(2.0 * rate_hz / f0), env.size // 4)  # filter edge effects
    core = env[edge : env.size - edge] if edge > 0 else env
    if core.size < 4:
        return float("nan"), float("nan")
    k = int(np.argmax(core))
    amp = float(core[k])
    tail = core[k:]
    below = np.flatnonzero(tail < floor * amp)
    stop = int(below[0]) if below.size else tail.size
    if stop < 4:
        return float("nan"), amp
    tt = np.arange(stop) / rate_hz
    slope = float(np.polyfit(tt, np.log(np.fmax(tail[:stop], 1e-300)), 1)[0])
    sigma = max(-slope, 0.0)
    omega = 2 * np.pi * f0
    return float(sigma / np.sqrt(sigma**2 + omega**2)), amp


def _fill(y: np.ndarray) -> np.ndarray:
    bad = ~np.isfinite(y)
    if bad.all():
        raise AnomalyInputError("expected some finite samples; found none")
    if bad.any():
        i = np.arange(y.size)
        y = y.copy()
        y[bad] = np.interp(i[bad], i[~bad], y[~bad])
    return y
