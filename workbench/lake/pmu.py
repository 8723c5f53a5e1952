"""The PMU cube summarised per PMU and minute (``silver.pmu_validated``): completeness, quality
flags and frequency range, so gaps and bad-quality spans can be found with a table query."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

NOMINAL_HZ = 60.0
BAND_HZ = 0.05


def validate_pmu_cube(
    ds: Any, nominal_hz: float = NOMINAL_HZ, band_hz: float = BAND_HZ
) -> pd.DataFrame:
    """Per PMU and UTC minute: samples, missing (NaN) samples, bad-quality samples,
    min/max frequency [Hz] and samples outside ``nominal ± band``.

    Works on a dask-backed Dataset chunk by chunk (only per-minute counts are materialised).
    """
    freq = ds["frequency_hz"]
    minute = freq["time"].dt.floor("1min")
    missing = freq.isnull()
    outside = (np.abs(freq - nominal_hz) > band_hz) & ~missing
    bad = ds["quality"] == 1 if "quality" in ds else xr_zeros_like(freq)
    grouped = {
        "samples": freq.notnull().groupby(minute).count(),
        "missing_samples": missing.groupby(minute).sum(),
        "bad_quality_samples": bad.groupby(minute).sum(),
        "min_frequency_hz": freq.groupby(minute).min(),
        "max_frequency_hz": freq.groupby(minute).max(),
        "excursion_samples": outside.groupby(minute).sum(),
    }
    frames = [v.load().to_series().rename(k) for k, v in grouped.items()]
    out = pd.concat(frames, axis=1).reset_index()
    out = out.rename(columns={out.columns[0]: "minute"})
    # counts of all samples per minute include the NaN ones
    out["samples"] = out["samples"] + out["missing_samples"]
    out["minute"] = pd.to_datetime(out["minute"]).dt.tz_localize("UTC")
    for col in ("samples", "missing_samples", "bad_quality_samples", "excursion_samples"):
        out[col] = out[col].astype("int64")
    for col in ("min_frequency_hz", "max_frequency_hz"):
        out[col] = out[col].astype("float64").round(6)
    out["pmu"] = out["pmu"].astype(str)
    return out[
        [
            "minute",
            "pmu",
            "samples",
            "missing_samples",
            "bad_quality_samples",
            "min_frequency_hz",
            "max_frequency_hz",
            "excursion_samples",
        ]
    ]


def xr_zeros_like(da: Any) -> Any:
    return da.notnull() & False
