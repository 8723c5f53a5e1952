"""Isolation Forest (scikit-learn) on rolling features."""

from __future__ import annotations

from typing import Any

import numpy as np

from workbench.anomaly.base import AnomalyInputError
from workbench.anomaly.detectors.base import SensorDetector
from workbench.anomaly.detectors.features import rolling_features
from workbench.anomaly.inputs import LongSeries
from workbench.core.extras import require


class IsolationForestDetector(SensorDetector):
    """Isolation Forest over :func:`~.features.rolling_features`.

    The threshold is the ``1 - contamination`` quantile of the training scores; the normalised
    score maps the training median to 0 and that threshold to 1.

    Parameters
    ----------
    contamination : float
        Expected share of anomalous samples in the training data (0, 0.5).
    n_estimators, max_samples : int
        Forest size and samples per tree.
    seed : int
        Random state (the result is deterministic).
    """

    kind = "iforest"

    def __init__(
        self,
        contamination: float = 0.0005,
        n_estimators: int = 100,
        max_samples: int = 512,
        seed: int = 0,
        gap_tolerance: Any = "0s",
    ) -> None:
        super().__init__(gap_tolerance)
        if not 0.0 < contamination < 0.5:
            raise AnomalyInputError(f"expected 0 < contamination < 0.5; found {contamination!r}")
        self.contamination, self.seed = float(contamination), int(seed)
        self.n_estimators, self.max_samples = int(n_estimators), int(max_samples)
        self.model: Any = None

    def fit(self, series: LongSeries) -> IsolationForestDetector:
        ensemble = require("sklearn.ensemble", feature="the Isolation Forest detector")
        x = rolling_features(series)
        if x.shape[0] < 10:
            raise AnomalyInputError(f"expected at least 10 samples to fit; found {x.shape[0]}")
        self.model = ensemble.IsolationForest(
            n_estimators=self.n_estimators,
            max_samples=min(self.max_samples, x.shape[0]),
            random_state=self.seed,
            n_jobs=1,
        ).fit(x)
        raw = -self.model.score_samples(x)
        self.center = float(np.median(raw))
        self.threshold = float(np.quantile(raw, 1.0 - self.contamination))
        return self

    def score(self, series: LongSeries) -> np.ndarray:
        if self.model is None:
            self.fit(series)
        raw = -self.model.score_samples(rolling_features(series))
        return np.fmax((raw - self.center) / max(self.threshold - self.center, 1e-9), 0.0)
