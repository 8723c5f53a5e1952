"""Satellite nowcast for solar: LightGBM on the clear-sky index, corrected by the latest clouds.

:class:`SatelliteNowcast` (registry name ``satellite_nowcast``) stacks two models:

1. **base** — ``clearsky:lightgbm`` (:mod:`workbench.forecasting.clearsky`) on the target and
   its exact future covariates, trained on the whole history: the clear-sky index ``kc`` per
   lead from the recent output, the time of day and the season;
2. **correction** — per lead ``h``, a least-absolute-deviation linear model of the base's
   index error ``kc(t + h) - kc_base ~ 1 + kc_base + cloud features at the issue`` fitted
   on out-of-sample base forecasts over the last
   ``correction_days`` before the training cut-off (the base is first fitted at the start of
   that window, the LAD rows are its forecasts there, then the base is refitted at the
   cut-off). Satellite archives are short (days), so the correction has a few coefficients
   per lead rather than trees, and a lead keeps it only when it lowers the error by at least
   :data:`MIN_RELATIVE_GAIN` in a leave-one-day-out cross-validation on those rows.

The correction's rows come from a base fitted ``correction_days`` earlier: with little
history (weeks) that base is weaker than the final one and the correction learned on it
over-corrects; with months of output history (the demo's two years) the two agree.

The cloud features are the spec's past covariates (the use case gives the cloud index of the
latest satellite frame at and around the plant), each read at its last label known at the
issue (its availability lag), never later. Where they are missing (night, before the
archive) or a lead had fewer than ``min_rows`` daylight rows, the base forecast stands; which
leads were corrected is in ``fit_info["correction"]``. Quantiles move with the point forecast
(the base's calibrated offsets in ``kc``, shifted by the correction).

The model is pure: the use case (:mod:`workbench.forecasting.usecases.nowcast`) reads the
catalog and the cube.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from workbench.forecasting.base import ForecastData, Forecaster, ForecastError, ForecastSpec
from workbench.forecasting.clearsky import ClearSkyForecaster
from workbench.forecasting.windows import resolve_until

if TYPE_CHECKING:
    from typing import Self

#: Correction rows need a clear-sky output of at least this share of the window's peak.
BRIGHT_SHARE = 0.1
#: Days of cloud rows a correction needs: on 3 days (the demo's archive before its test) the
#: fitted coefficients swung from helping to doubling the lead-1 error between days.
MIN_CV_DAYS = 4
#: Share of the base's error [kc] the cross-validated gain must exceed to keep a correction: a
#: gain of a few percent on a week of rows did not survive the next week (ci-like profile).
MIN_RELATIVE_GAIN = 0.1


def lad(x: np.ndarray, y: np.ndarray, iterations: int = 40) -> np.ndarray:
    """Least-absolute-deviation coefficients by iteratively reweighted least squares.

    The MAE-optimal linear fit, robust to the bimodal clear-sky index (clear or overcast).
    """
    coef, *_ = np.linalg.lstsq(x, y, rcond=None)
    for _ in range(iterations):
        sw = np.sqrt(1.0 / np.maximum(np.abs(y - x @ coef), 1e-3))
        coef, *_ = np.linalg.lstsq(x * sw[:, None], y * sw, rcond=None)
    return coef


def cross_validated_gain(x: np.ndarray, resid: np.ndarray, groups: np.ndarray) -> float:
    """Mean absolute error of the base minus that of the corrected base [kc], leaving out one
    group (day) at a time; positive when the correction helps out of sample. ``-inf`` with
    fewer than :data:`MIN_CV_DAYS` groups (too few days to trust a fit on the rest)."""
    labels = np.unique(groups)
    if len(labels) < MIN_CV_DAYS:
        return float("-inf")
    corrected = np.empty(len(resid))
    for g in labels:
        held = groups == g
        coef = lad(x[~held], resid[~held])
        corrected[held] = resid[held] - x[held] @ coef
    return float(np.mean(np.abs(resid)) - np.mean(np.abs(corrected)))


class SatelliteNowcast(Forecaster):
    """Clear-sky LightGBM plus a per-lead LAD correction on satellite cloud features.

    Parameters
    ----------
    latitude, longitude : float, optional
        Plant location [deg] for the pvlib clear-sky profile (else the empirical envelope).
    correction_days : int
        Days before the cut-off whose issues train the correction [days].
    min_rows : int
        Daylight rows a lead needs for its correction; fewer: that lead is not corrected.
    **inner_params
        Parameters of the base ``clearsky:lightgbm`` (``issues_per_day``, ``n_estimators``...).
    """

    name = "satellite_nowcast"

    def __init__(
        self,
        latitude: float | None = None,
        longitude: float | None = None,
        correction_days: int = 7,
        min_rows: int = 10,
        **inner_params: Any,
    ) -> None:
        super().__init__(
            latitude=latitude,
            longitude=longitude,
            correction_days=correction_days,
            min_rows=min_rows,
            **inner_params,
        )
        if int(correction_days) < 1:
            raise ForecastError(f"expected correction_days >= 1; found {correction_days}")
        self.base = self._base()  # parameters checked now, not at fit
        self.coef_: dict[int, np.ndarray] = {}

    @classmethod
    def check_params(cls, params: Any, model: str | None = None) -> None:
        """The wrapper's parameters are named; the base model checks the rest."""

    def _base(self) -> ClearSkyForecaster:
        own = ("correction_days", "min_rows")
        params = {k: v for k, v in self.params.items() if k not in own}
        return ClearSkyForecaster("lightgbm", **params)

    @staticmethod
    def _split(data: ForecastData, spec: ForecastSpec) -> tuple[ForecastData, ForecastSpec]:
        """The base's view: the target and the future covariates, no past covariates."""
        return ForecastData(y=data.y, future=data.future), spec.replace(past_covariates=())

    @staticmethod
    def _clouds(data: ForecastData, spec: ForecastSpec, issues: pd.Series) -> np.ndarray:
        """Past covariates at each row's issue, at their last known label (row, column)."""
        if not spec.past_covariates or data.past is None:
            return np.empty((len(issues), 0))
        idx = pd.DatetimeIndex(issues)
        cols = []
        for col in spec.past_covariates:
            labels = spec.last_known_label(idx, col)
            cols.append(data.past[col].reindex(labels).to_numpy(dtype=float))
        return np.column_stack(cols)

    def fit(
        self, data: ForecastData, spec: ForecastSpec, *, until: pd.Timestamp | None = None
    ) -> Self:
        """Fit the correction on out-of-sample base forecasts, then the base at ``until``."""
        cut = resolve_until(data, spec, until)
        base_data, base_spec = self._split(data, spec)
        self.coef_ = {}
        info: dict[str, str] = {}
        if spec.past_covariates:
            start = (cut - pd.Timedelta(days=int(self.params["correction_days"]))).ceil(spec.freq)
            last = cut - spec.lag("y") - (spec.lead + spec.horizon) * spec.freq
            issues = pd.date_range(start, last.floor(spec.freq), freq=spec.freq)
            clouds = self._clouds(data, spec, pd.Series(issues))
            issues = issues[np.isfinite(clouds).all(axis=1)] if len(issues) else issues
            if len(issues):
                early = self._base().fit(base_data, base_spec, until=start)
                pred, prof, day = early.predict_index(base_data, issues)
                truth = data.y.reindex(pd.DatetimeIndex(pred["target_time"])).to_numpy(float)
                with np.errstate(divide="ignore", invalid="ignore"):
                    kc = np.clip(truth / prof, 0.0, early.params["kc_max"])
                x = self._design(pred, self._clouds(data, spec, pred["issue_time"]))
                resid = kc - pred["y_pred"].to_numpy(float)
                bright = prof >= BRIGHT_SHARE * np.nanmax(prof)  # no twilight index extremes
                ok = day & bright & np.isfinite(resid) & np.isfinite(x).all(axis=1)
                steps = pred["step"].to_numpy()
                days = pd.DatetimeIndex(pred["issue_time"]).floor("1D").asi8
                for step in range(1, spec.horizon + 1):
                    rows = ok & (steps == step)
                    if rows.sum() < int(self.params["min_rows"]):
                        info[str(step)] = f"skipped: {int(rows.sum())} daylight rows with clouds"
                        continue
                    gain = cross_validated_gain(x[rows], resid[rows], days[rows])
                    if gain <= MIN_RELATIVE_GAIN * float(np.mean(np.abs(resid[rows]))):
                        info[str(step)] = (
                            f"skipped: day-wise cross-validated gain {gain:+.3f} kc is below "
                            f"{MIN_RELATIVE_GAIN:.0%} of the base error"
                        )
                        continue
                    self.coef_[step] = lad(x[rows], resid[rows])
                    info[str(step)] = f"{int(rows.sum())} rows, cross-validated gain {gain:+.3f} kc"
            else:
                info["all"] = "skipped: no issue with cloud features before the cut-off"
        self.base = self._base().fit(base_data, base_spec, until=cut)
        self.spec = spec
        self.fit_info = {"base": self.base.fit_info, "correction": info}
        return self

    @staticmethod
    def _design(pred: pd.DataFrame, clouds: np.ndarray) -> np.ndarray:
        kc = pred["y_pred"].to_numpy(float)
        return np.column_stack([np.ones(len(pred)), kc, clouds])

    def predict(self, data: ForecastData, issue_times: Sequence[pd.Timestamp]) -> pd.DataFrame:
        """Base index forecast, corrected where the clouds are known, times the profile."""
        spec = self._require_fitted()
        base_data, _ = self._split(data, spec)
        pred, prof, day = self.base.predict_index(base_data, issue_times)
        if self.coef_:
            x = self._design(pred, self._clouds(data, spec, pred["issue_time"]))
            steps = pred["step"].to_numpy()
            delta = np.zeros(len(pred))
            for step, coef in self.coef_.items():
                rows = (steps == step) & np.isfinite(x).all(axis=1)
                delta[rows] = x[rows] @ coef
            for col in ("y_pred", *spec.quantile_columns):
                pred[col] = pred[col].to_numpy(float) + delta
        return self.base.to_output(pred, prof, day)
