"""Rolling features per sample for the learned detectors (Isolation Forest, LSTM autoencoder).

All features are scale-free (divided by the series' robust noise scale or typical interval), so
one model serves assets of any size.
"""

from __future__ import annotations

import numpy as np

from workbench.anomaly.detectors.base import robust_scale
from workbench.anomaly.inputs import LongSeries

FEATURES = (
    "step",  # first difference / noise scale
    "spike",  # |value - centred 5-sample median| / noise scale
    "level",  # (value - centred 31-sample median) / noise scale, clipped
    "roughness",  # rolling 15-sample std of the differences / noise scale (log)
    "stuck",  # log(1 + length of the run of identical values)
    "interval",  # log(time since previous sample / typical interval)
    "missing",  # 1 when the value is missing
)


def rolling_features(series: LongSeries, clip: float = 50.0) -> np.ndarray:
    """Feature matrix (n_samples, len(FEATURES)) in series order, float32, NaN-free."""
    import pandas as pd

    v = series.values.astype(np.float64)
    g, t = series.group, series.time
    scale = robust_scale(v, g)
    frame = pd.DataFrame({"g": g, "v": v})
    by = frame.groupby("g", sort=True)["v"]
    same_group = np.r_[False, g[1:] == g[:-1]]
    diff = np.where(same_group, np.r_[0.0, np.diff(v)], 0.0)
    med5 = by.rolling(5, center=True, min_periods=1).median().to_numpy()
    med31 = by.rolling(31, center=True, min_periods=1).median().to_numpy()
    rough = pd.Series(np.nan_to_num(diff)).groupby(g).rolling(15, min_periods=2).std().to_numpy()
    moved = ~(same_group & (np.r_[0.0, np.diff(v)] == 0.0))
    run_id = np.cumsum(moved)
    run_pos = np.arange(v.size) - np.flatnonzero(moved)[run_id - 1]
    dt = np.where(same_group, np.r_[0, np.diff(t)], 0).astype(np.float64)
    typical = pd.Series(np.where(dt > 0, dt, np.nan)).groupby(g).transform("median").to_numpy()
    feats = np.column_stack(
        [
            diff / scale,
            np.abs(v - med5) / scale,
            (v - med31) / scale,
            np.log1p(np.nan_to_num(rough) / scale),
            np.log1p(run_pos),
            np.log(np.fmax(dt, 1.0) / np.fmax(np.nan_to_num(typical, nan=1.0), 1.0)),
            np.isnan(v).astype(np.float64),
        ]
    )
    feats = np.nan_to_num(feats, nan=0.0, posinf=clip, neginf=-clip)
    return np.clip(feats, -clip, clip).astype(np.float32)
