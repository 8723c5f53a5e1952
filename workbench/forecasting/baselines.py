"""Baselines every model must beat: seasonal naive (daily or weekly season) and climatology.

Both are :class:`~workbench.forecasting.calibration.PointForecaster` s, so their quantiles come from
conformal calibration on backtest residuals inside the training window.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from workbench.forecasting.base import ForecastData, ForecastError, ForecastSpec, forecast_grid
from workbench.forecasting.calibration import PointForecaster
from workbench.forecasting.features import seasonal_naive_values
from workbench.forecasting.windows import known_target


class SeasonalNaive(PointForecaster):
    """The value one season before the target, from the most recent season known at the issue.

    For a target ``t`` and last known label ``a``, the forecast is ``y(t - k * season)`` with the
    smallest ``k >= 1`` such that ``t - k * season <= a``, the season counted in local clock time
    of ``spec.tz`` (so across a DST change "yesterday, same time" is 23 or 25 hours back); a
    missing value falls back on the season before (up to 4), then on the last known value.

    Parameters
    ----------
    season : str or pandas.Timedelta
        ``"1D"`` (daily, default) or ``"7D"`` (weekly) or any multiple of the step.
    """

    name = "seasonal_naive"

    def __init__(self, season: str | pd.Timedelta = "1D", **params: Any) -> None:
        super().__init__(season=str(season), **params)
        self.season = pd.Timedelta(season)
        if self.season >= pd.Timedelta("7D"):
            self.name = "seasonal_naive_weekly"

    def _fit_point(self, data: ForecastData, spec: ForecastSpec, until: pd.Timestamp) -> None:
        if self.season < spec.freq or self.season % spec.freq != pd.Timedelta(0):
            raise ForecastError(
                f"expected a season that is a multiple of the step {spec.freq}; found {self.season}"
            )
        self.fit_info["season"] = str(self.season)

    def _predict_point(self, data: ForecastData, issue_times: Any) -> pd.DataFrame:
        return seasonal_naive_values(data, self._require_fitted(), issue_times, self.season)


def weekly_seasonal_naive(**params: Any) -> SeasonalNaive:
    """Seasonal naive with a weekly season (model name ``seasonal_naive_weekly``)."""
    params.setdefault("season", "7D")
    return SeasonalNaive(**params)


class Climatology(PointForecaster):
    """Mean of the training window by local time of day × weekday.

    Groups never seen in training fall back on the time-of-day mean, then the overall mean.
    """

    name = "climatology"

    def _fit_point(self, data: ForecastData, spec: ForecastSpec, until: pd.Timestamp) -> None:
        y = known_target(data, spec, until)
        if y.empty:
            raise ForecastError("expected observed target values to fit climatology; found none")
        local = y.index.tz_convert(spec.tz)
        tod = local.hour * 60 + local.minute
        frame = pd.DataFrame({"tod": tod, "dow": local.dayofweek, "y": y.to_numpy()})
        self.table_ = frame.groupby(["tod", "dow"])["y"].mean()
        self.tod_ = frame.groupby("tod")["y"].mean()
        self.mean_ = float(frame["y"].mean())

    def _predict_point(self, data: ForecastData, issue_times: Any) -> pd.DataFrame:
        spec = self._require_fitted()
        g = forecast_grid(issue_times, spec)
        local = pd.DatetimeIndex(g["target_time"]).tz_convert(spec.tz)
        tod = np.asarray(local.hour * 60 + local.minute)
        dow = np.asarray(local.dayofweek)
        idx = pd.MultiIndex.from_arrays([tod, dow])
        pred = self.table_.reindex(idx).to_numpy(dtype=float, copy=True)
        miss = ~np.isfinite(pred)
        if miss.any():
            pred[miss] = self.tod_.reindex(tod[miss]).to_numpy(dtype=float)
        pred[~np.isfinite(pred)] = self.mean_
        g["y_pred"] = pred
        return g
