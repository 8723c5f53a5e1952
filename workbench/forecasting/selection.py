"""``auto``: pick a model by validation inside the training window only.

Each candidate is fitted on the training window minus a validation tail (the same split the
calibration uses), forecasts daily issues over that tail, and is scored by the mean pinball loss
over its quantiles (which rewards both a good median and honest intervals). The winner is refitted
on the whole window. Nothing after the training cut-off is looked at.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Self

import numpy as np
import pandas as pd

from workbench.forecasting.base import (
    ForecastData,
    Forecaster,
    ForecastError,
    ForecastSpec,
    make_forecaster,
)
from workbench.forecasting.metrics import pinball_loss
from workbench.forecasting.windows import known_target, resolve_until, validation_issues

#: Candidates of ``auto`` unless given.
#: Climatology is left out: its conformal median absorbs the level of the validation window,
#: which makes it look good there and go stale after (measured on drifting series).
DEFAULT_CANDIDATES: tuple[str, ...] = ("seasonal_naive", "seasonal_naive_weekly", "lightgbm")
#: The last candidate (the richest model) is kept unless another beats it by this share.
PREFERENCE_MARGIN = 0.03


class AutoForecaster(Forecaster):
    """Choose among ``candidates`` by validation pinball loss inside the training window.

    Parameters
    ----------
    candidates : sequence of str
        Model names to try; the last one is preferred unless another scores better by more
        than :data:`PREFERENCE_MARGIN` (less variance in the choice from one refit to the next).
    candidate_params : dict, optional
        ``{name: {param: value}}`` passed to :func:`make_forecaster`.
    validation_days : int, optional
        Length of the validation tail [days] (default: automatic, 7-56).
    """

    name = "auto"
    member_params_arg = "candidate_params"

    def __init__(
        self,
        candidates: Sequence[str] = DEFAULT_CANDIDATES,
        candidate_params: dict[str, dict[str, Any]] | None = None,
        validation_days: int | None = None,
    ) -> None:
        super().__init__(
            candidates=tuple(candidates),
            candidate_params=dict(candidate_params or {}),
            validation_days=validation_days,
        )
        if not candidates:
            raise ForecastError("expected at least one candidate model; found none")
        for name in candidates:  # an unknown name or parameter fails now, not as a "skip"
            self._make(name)
        self.chosen_: Forecaster | None = None

    def _make(self, name: str) -> Forecaster:
        return make_forecaster(name, **self.params["candidate_params"].get(name, {}))

    def fit(
        self, data: ForecastData, spec: ForecastSpec, *, until: pd.Timestamp | None = None
    ) -> Self:
        """Score each candidate on the validation tail, then refit the best on everything."""
        until = resolve_until(data, spec, until)
        y = known_target(data, spec, until)
        if y.empty:
            raise ForecastError(f"expected target values known before {until}; found none")
        issues = validation_issues(spec, until, y.index[0], self.params["validation_days"])
        scores: dict[str, float] = {}
        errors: dict[str, str] = {}
        if len(issues):
            for name in self.params["candidates"]:
                try:
                    model = self._make(name).fit(data, spec, until=issues[0])
                except ForecastError as exc:  # e.g. too little history for this model
                    errors[name] = str(exc)
                    continue
                pred = model.predict(data, issues)
                truth = y.reindex(pd.DatetimeIndex(pred["target_time"])).to_numpy(dtype=float)
                ok = np.isfinite(truth)
                scores[name] = float(
                    np.mean(
                        [
                            pinball_loss(truth[ok], pred[col].to_numpy()[ok], q)
                            for q, col in zip(spec.quantiles, spec.quantile_columns, strict=True)
                        ]
                    )
                )
        order = sorted(scores, key=scores.__getitem__) or list(self.params["candidates"])
        preferred = self.params["candidates"][-1]
        if preferred in scores and scores[order[0]] > (1 - PREFERENCE_MARGIN) * scores[preferred]:
            order.remove(preferred)
            order.insert(0, preferred)
        last_error: ForecastError | None = None
        for name in order:  # best first; fall through a candidate that cannot fit on all data
            try:
                self.chosen_ = self._make(name).fit(data, spec, until=until)
                break
            except ForecastError as exc:
                last_error = exc
                errors[name] = str(exc)
        if self.chosen_ is None:
            raise last_error or ForecastError("expected a candidate that fits; found none")
        self.spec = spec
        self.fit_info = {
            "chosen": self.chosen_.name,
            "validation_pinball": scores,
            "validation_issues": len(issues),
            "skipped": errors,
            "chosen_fit": self.chosen_.fit_info,
        }
        return self

    def predict(self, data: ForecastData, issue_times: Sequence[pd.Timestamp]) -> pd.DataFrame:
        """Forecast with the chosen model."""
        self._require_fitted()
        assert self.chosen_ is not None
        return self.chosen_.predict(data, issue_times)
