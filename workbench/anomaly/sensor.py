"""Sensor and asset anomalies in a long frame: one call per method, events out.

Pure computation: takes a frame, returns a frame. Methods: ``rules`` (flatline, spike,
out-of-range, stale, each reported under its own kind), ``iforest``, ``lstm`` and ``ensemble``
(rules, Isolation Forest and the LSTM autoencoder, maximum of the normalised scores).
"""

from __future__ import annotations

from typing import Any

from workbench.anomaly.base import AnomalyInputError
from workbench.anomaly.detectors.base import SensorDetector
from workbench.anomaly.inputs import long_series

METHODS = ("rules", "iforest", "lstm", "ensemble")


def make_detector(method: str, gap_tolerance: Any = "0s", seed: int = 0) -> SensorDetector:
    """The detector for a method name (see :data:`METHODS`)."""
    from workbench.anomaly.detectors.ensemble import EnsembleDetector
    from workbench.anomaly.detectors.iforest import IsolationForestDetector
    from workbench.anomaly.detectors.lstm_ae import LSTMAutoencoderDetector
    from workbench.anomaly.detectors.rules import RuleSet

    if method == "rules":
        return RuleSet(gap_tolerance=gap_tolerance)
    if method == "iforest":
        return IsolationForestDetector(seed=seed, gap_tolerance=gap_tolerance)
    if method == "lstm":
        return LSTMAutoencoderDetector(seed=seed, gap_tolerance=gap_tolerance)
    if method == "ensemble":
        members = [
            RuleSet(gap_tolerance=gap_tolerance),
            IsolationForestDetector(seed=seed, gap_tolerance=gap_tolerance),
            LSTMAutoencoderDetector(seed=seed, gap_tolerance=gap_tolerance),
        ]
        return EnsembleDetector(members, gap_tolerance=gap_tolerance)
    raise AnomalyInputError(f"expected a method among {list(METHODS)}; found {method!r}")


def detect_sensor_anomalies(
    frame: Any,
    time_col: str = "timestamp",
    value_col: str = "value_mw",
    group_col: str | None = "asset_id",
    *,
    method: str = "rules",
    gap_tolerance: Any = "0s",
    seed: int = 0,
) -> Any:
    """Anomaly events of every series of a long frame.

    Parameters
    ----------
    frame : pandas.DataFrame
        One row per sample (any order; duplicate (group, time) rows count once).
    time_col, value_col, group_col : str
        Timestamp (UTC), value and series-id columns; ``group_col=None``: one series.
    method : {"rules", "iforest", "lstm", "ensemble"}
        Detector.
    gap_tolerance : str, Timedelta or float
        Flagged samples at most this far apart [s] merge into one event.
    seed : int
        Seed of the learned detectors.

    Returns
    -------
    pandas.DataFrame
        group, start, end (UTC), score (1.0 = threshold), kind.
    """
    if method not in METHODS:
        raise AnomalyInputError(f"expected a method among {list(METHODS)}; found {method!r}")
    series = long_series(frame, time_col, value_col, group_col)
    detector = make_detector(method, gap_tolerance, seed)
    return detector.fit(series).detect(series)
