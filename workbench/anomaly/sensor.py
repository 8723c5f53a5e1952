"""Sensor and asset anomalies in a long frame: one call per method, events out.

Pure computation: takes a frame, returns a frame. Methods: ``rules`` (flatline, spike,
out-of-range, stale, each reported under its own kind), ``iforest``, ``lstm`` (untyped),
``learned`` (the per-asset detectors of the silent faults, typed, see
:mod:`.detectors.learned`) and ``ensemble`` (rules + learned, with provenance).
"""

from __future__ import annotations

from typing import Any

from workbench.anomaly.base import AnomalyInputError, duration_ns
from workbench.anomaly.detectors.base import SensorDetector
from workbench.anomaly.inputs import long_series, parse_times
from workbench.core.errors import MissingColumnsError

METHODS = ("rules", "iforest", "lstm", "learned", "ensemble")
#: methods that run the learned detectors (with a fitted model, or unsupervised without one)
LEARNED_METHODS = ("learned", "ensemble")


def make_detector(method: str, gap_tolerance: Any = "0s", seed: int = 0) -> SensorDetector:
    """The detector for a method name among ``rules``, ``iforest``, ``lstm`` and
    ``ensemble_scores`` (the maximum of those three's scores: the pre-issue-17 ensemble, kept
    for notebooks that compare scores); ``learned`` and ``ensemble`` are not single detectors,
    see :func:`detect_sensor_anomalies`."""
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
    if method == "ensemble_scores":  # rules, iforest and lstm: the maximum of the scores
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
    model: Any = None,
    reference_col: str | None = None,
    contamination: float = 0.01,
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
        Seed of the Isolation Forest and the LSTM.
    model : LearnedDetector, optional
        A fitted and calibrated learned detector (``learned``/``ensemble``); without one they
        run unsupervised: fitted on the frame itself, thresholds from ``contamination``.
    reference_col : str, optional
        Expected value per sample (as in training) for the level residual.
    contamination : float
        Unsupervised mode: share of samples allowed to alarm per signal.

    Returns
    -------
    pandas.DataFrame
        group, start, end (UTC), score (1.0 = threshold), kind; ``learned`` and ``ensemble``
        add ``detector`` (who found it) and, for ``ensemble``, ``scores`` (each finder's).
    """
    if method not in METHODS:
        raise AnomalyInputError(f"expected a method among {list(METHODS)}; found {method!r}")
    series = long_series(frame, time_col, value_col, group_col)
    if method in LEARNED_METHODS:
        from workbench.anomaly.detectors.ensemble import combine
        from workbench.anomaly.detectors.learned import LearnedDetector
        from workbench.anomaly.detectors.rules import RuleSet

        reference = None
        if reference_col is not None:
            reference = long_series(frame, time_col, reference_col, group_col).values
        if model is None:
            model = LearnedDetector().fit(series, reference)
            model.calibrate_unsupervised(series, reference, contamination)
        learned = model.detect(series, reference)
        if method == "learned":
            return learned
        tol = duration_ns(gap_tolerance, "gap_tolerance")
        return combine(RuleSet(gap_tolerance=gap_tolerance).detect(series), learned, tol)
    detector = make_detector(method, gap_tolerance, seed)
    return detector.fit(series).detect(series)


def fit_learned(
    frame: Any,
    time_col: str,
    value_col: str,
    group_col: str | None,
    *,
    split: Any,
    labels: Any = None,
    reference_col: str | None = None,
    target_rate: float = 0.05,
) -> Any:
    """Fit learned detectors on the rows before ``split`` and calibrate them on the rest.

    Parameters
    ----------
    frame : pandas.DataFrame
        Long frame covering a training and a validation period.
    split : timestamp-like
        First time of the validation period (UTC); rows before it train.
    labels : pandas.DataFrame, optional
        Known faults (``target_id``, ``start``, ``end``): left out of training and calibration.
    target_rate : float
        False events per asset-day allowed on the validation period.

    Returns
    -------
    LearnedDetector
        Fitted and calibrated; ``excluded`` says how many training samples were left out.
    """
    import pandas as pd

    from workbench.anomaly.detectors.learned import LearnedDetector

    cut = pd.Timestamp(split)
    cut = cut.tz_localize("UTC") if cut.tz is None else cut.tz_convert("UTC")
    if time_col not in frame.columns:
        raise MissingColumnsError("anomaly input", [time_col], [str(c) for c in frame.columns])
    times = parse_times(frame[time_col], time_col)
    parts = [frame[times < cut.value], frame[times >= cut.value]]
    for name, part in zip(("training", "validation"), parts, strict=True):
        if len(part) < 2:
            msg = (
                f"expected rows on both sides of the split {cut.isoformat()}; found "
                f"{len(part)} {name} rows. Move the split inside the data"
            )
            raise AnomalyInputError(msg)
    series = [long_series(p, time_col, value_col, group_col) for p in parts]
    refs = [
        None if reference_col is None else long_series(p, time_col, reference_col, group_col).values
        for p in parts
    ]
    det = LearnedDetector(target_rate=target_rate)
    det.fit(series[0], refs[0], labels)
    return det.calibrate(series[1], refs[1], labels)


def event_coverage(events: Any, frame: Any, time_col: str, value_col: str,
                   group_col: str | None) -> dict[str, float]:  # fmt: skip
    """Estimated contamination: the share of samples [fraction] inside events, overall (key
    ``"all"``) and per event kind; what an unsupervised run reports of what it found."""
    import numpy as np

    series = long_series(frame, time_col, value_col, group_col)
    pos = {str(lab): i for i, lab in enumerate(series.labels)}
    inside = {"all": np.zeros(series.time.size, bool)}
    for ev in events.itertuples():
        sel = series.group == pos[str(ev.group)]
        hit = sel & (series.time >= ev.start.value) & (series.time <= ev.end.value)
        inside.setdefault(str(ev.kind), np.zeros(series.time.size, bool))
        inside[str(ev.kind)] |= hit
        inside["all"] |= hit
    return {k: float(v.mean()) for k, v in inside.items()}
