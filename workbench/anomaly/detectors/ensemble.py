"""Combine detectors: normalised scores (1.0 = each detector's threshold), max or voting."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from workbench.anomaly.base import AnomalyInputError
from workbench.anomaly.detectors.base import SensorDetector
from workbench.anomaly.inputs import LongSeries


class EnsembleDetector(SensorDetector):
    """An ensemble of detectors.

    The ensemble score of a sample is the ``min_votes``-th largest member score: with
    ``min_votes=1`` the maximum (any member alarms), with ``min_votes=2`` at least two members
    must reach their threshold, and so on.

    Parameters
    ----------
    members : sequence of SensorDetector
        Detectors whose scores follow the 1.0-is-threshold convention.
    min_votes : int
        Members that must alarm for the ensemble to alarm.
    """

    kind = "ensemble"

    def __init__(self, members: Sequence[SensorDetector], min_votes: int = 1,
                 gap_tolerance: Any = "0s") -> None:  # fmt: skip
        super().__init__(gap_tolerance)
        if not members:
            raise AnomalyInputError("expected at least one ensemble member; found none")
        if not 1 <= int(min_votes) <= len(members):
            msg = f"expected 1 <= min_votes <= {len(members)}; found {min_votes!r}"
            raise AnomalyInputError(msg)
        self.members, self.min_votes = list(members), int(min_votes)

    def fit(self, series: LongSeries) -> EnsembleDetector:
        for m in self.members:
            m.fit(series)
        return self

    def member_scores(self, series: LongSeries) -> np.ndarray:
        """Scores of every member, shape (n_members, n_samples)."""
        return np.vstack([m.score(series) for m in self.members])

    def score(self, series: LongSeries) -> np.ndarray:
        scores = np.sort(self.member_scores(series), axis=0)
        return scores[-self.min_votes]
