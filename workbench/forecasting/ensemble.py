"""Forecast combination (model name ``combination``): the mean, median or a learned weighting.

Combining diverse models is one of the most reliable ways to gain skill in forecasting (the M4
and GEFCom results; Wang et al., 2023, "Forecast combinations: an over 50-year review"): errors
of models built on different information partly cancel. The default members are LightGBM (lags,
calendar, weather) and the two seasonal naives (yesterday's and last week's profile).

:class:`Combination` is a :class:`~workbench.forecasting.calibration.PointForecaster`: its point
is the combination of its members' points, and its quantiles come from the same online conformal
step on the combination's *own* residuals (the validation tail's, then its own out-of-sample
ones). Each member is fitted twice, like any point model: once at the start of the validation
tail (whose forecasts give the weights and the calibration residuals) and once on the whole
window. With ``method="weights"`` the weights are non-negative, sum to 1 and minimise the squared
error of the combination over the validation tail (a constrained least squares, SLSQP).

Members already fitted at the same cut-off (``auto`` fits them as candidates anyway) are reused
through :meth:`Combination.use_fitted` instead of being fitted again.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from workbench.forecasting.base import (
    ForecastData,
    ForecastError,
    ForecastSpec,
    make_forecaster,
)
from workbench.forecasting.calibration import PointForecaster

#: Members unless given: diverse information (trees on lags/weather, yesterday, last week).
DEFAULT_MEMBERS: tuple[str, ...] = ("lightgbm", "seasonal_naive_weekly", "seasonal_naive")
METHODS: tuple[str, ...] = ("mean", "median", "weights")


def simplex_weights(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Non-negative weights summing to 1 that minimise ``mean((x @ w - y) ** 2)``.

    Parameters
    ----------
    x : numpy.ndarray
        ``(rows, members)`` member forecasts [unit of y]; rows with a NaN are dropped.
    y : numpy.ndarray
        ``(rows,)`` observed values [unit of y].

    Returns
    -------
    numpy.ndarray
        ``(members,)`` weights, each >= 0, summing to 1 (equal weights when no row is usable).
    """
    from scipy.optimize import minimize

    k = x.shape[1]
    ok = np.isfinite(x).all(axis=1) & np.isfinite(y)
    equal = np.full(k, 1.0 / k)
    if ok.sum() < k + 1:
        return equal
    xs, ys = x[ok], y[ok]
    scale = float(np.std(ys)) or 1.0  # conditioning: the loss in units of the target's spread
    xs, ys = xs / scale, ys / scale

    def loss(w: np.ndarray) -> float:
        r = xs @ w - ys
        return float(r @ r) / len(r)

    def grad(w: np.ndarray) -> np.ndarray:
        return 2.0 * xs.T @ (xs @ w - ys) / len(ys)

    res = minimize(
        loss,
        equal,
        jac=grad,
        method="SLSQP",
        bounds=[(0.0, 1.0)] * k,
        constraints=({"type": "eq", "fun": lambda w: w.sum() - 1.0},),
        options={"ftol": 1e-10, "maxiter": 200},
    )
    w = np.clip(res.x, 0.0, None)
    if not np.isfinite(w).all() or w.sum() <= 0:
        raise ForecastError(
            f"expected the combination weights to converge; found {res.x} ({res.message}). "
            "Use method='mean' instead."
        )
    return w / w.sum()


class Combination(PointForecaster):
    """Point combination of several models, with conformal quantiles of its own.

    Parameters
    ----------
    members : sequence of str
        Model names of point forecasters (at least two).
    method : {"mean", "median", "weights"}
        Equal-weight mean, median, or weights learned on the validation tail (non-negative,
        summing to 1; equal weights when the history is too short for a tail).
    member_params : dict, optional
        ``{name: {param: value}}`` passed to :func:`make_forecaster` for each member.
    **params
        Calibration parameters (``calibration_days``, ``clip_min``...).
    """

    name = "combination"
    member_params_arg = "member_params"

    def __init__(
        self,
        members: Sequence[str] = DEFAULT_MEMBERS,
        method: str = "weights",
        member_params: dict[str, dict[str, Any]] | None = None,
        **params: Any,
    ) -> None:
        super().__init__(
            members=tuple(members),
            method=method,
            member_params=dict(member_params or {}),
            **params,
        )
        if method not in METHODS:
            raise ForecastError(f"expected method in {list(METHODS)}; found {method!r}")
        if len(set(members)) < 2:
            raise ForecastError(
                f"expected at least two distinct members to combine; found {list(members)}"
            )
        self.members_: dict[str, PointForecaster] = {}
        for name in members:
            model = make_forecaster(name, **self.params["member_params"].get(name, {}))
            if not isinstance(model, PointForecaster):
                raise ForecastError(
                    f"expected point forecasters as members; found {name!r} "
                    f"({type(model).__name__}), which makes its own quantiles"
                )
            self.members_[name] = model
        self.weights_ = np.full(len(members), 1.0 / len(members))
        self._prefit: dict[str, PointForecaster] = {}

    def use_fitted(self, fitted: Mapping[str, PointForecaster]) -> None:
        """Reuse members already fitted (with :meth:`fit`) at the cut-off of the next fit.

        Their validation-tail forecasts and fitted state are used as they are; a member fitted
        at another cut-off is fitted again.
        """
        self._prefit = {n: m for n, m in fitted.items() if n in self.members_}

    def _reusable(self, name: str, until: pd.Timestamp) -> PointForecaster | None:
        m = self._prefit.get(name)
        if m is not None and getattr(m, "calibrated_until_", None) == until:
            return m
        return None

    def validation_point(
        self, data: ForecastData, spec: ForecastSpec, issues: pd.DatetimeIndex
    ) -> pd.DataFrame | None:
        """Members' forecasts of the validation tail, the weights learned on them, combined."""
        until = self._until
        cols = []
        grid = None
        for name, member in self.members_.items():
            done = self._reusable(name, until)
            pred = getattr(done, "validation_pred_", None) if done is not None else None
            if pred is None or not pd.DatetimeIndex(pred["issue_time"].unique()).equals(issues):
                pred = member.validation_point(data, spec, issues)
            if pred is None:
                return None  # a member cannot fit before the tail: equal weights, fit_info says
            pred = pred.reset_index(drop=True)
            grid = pred[["issue_time", "target_time", "step"]] if grid is None else grid
            cols.append(pred["y_pred"].to_numpy(dtype=float))
        x = np.column_stack(cols)
        assert grid is not None
        target = pd.DatetimeIndex(grid["target_time"])
        truth = data.y.reindex(target).to_numpy(dtype=float, copy=True)
        truth[target > spec.last_known_label([until])[0]] = np.nan
        if self.params["method"] == "weights":
            self.weights_ = simplex_weights(x, truth)
        ok = np.isfinite(truth)
        self.fit_info["member_validation_mae"] = {
            n: float(np.nanmean(np.abs(x[ok, i] - truth[ok]))) for i, n in enumerate(self.members_)
        }
        out = grid.copy()
        out["y_pred"] = self._combine(x)
        return out

    def fit(
        self, data: ForecastData, spec: ForecastSpec, *, until: pd.Timestamp | None = None
    ) -> Combination:
        """Fit members, learn weights on the validation tail, calibrate the combination."""
        from workbench.forecasting.windows import resolve_until

        self._until = resolve_until(data, spec, until)
        super().fit(data, spec, until=self._until)
        self.fit_info["method"] = self.params["method"]
        self.fit_info["weights"] = {
            n: round(float(w), 4) for n, w in zip(self.members_, self.weights_, strict=True)
        }
        self.fit_info["reused_members"] = sorted(self._prefit)
        self._prefit = {}  # do not keep other models alive
        return self

    def _fit_point(self, data: ForecastData, spec: ForecastSpec, until: pd.Timestamp) -> None:
        for name, member in list(self.members_.items()):
            done = self._reusable(name, until)
            if done is not None:
                self.members_[name] = done
                continue
            member._fit_point(data, spec, until)
            member.spec = spec

    def _predict_point(self, data: ForecastData, issue_times: Any) -> pd.DataFrame:
        grid = None
        cols = []
        for member in self.members_.values():
            pred = member._predict_point(data, issue_times).reset_index(drop=True)
            grid = pred[["issue_time", "target_time", "step"]] if grid is None else grid
            cols.append(pred["y_pred"].to_numpy(dtype=float))
        assert grid is not None
        out = grid.copy()
        out["y_pred"] = self._combine(np.column_stack(cols))
        return out

    def _combine(self, x: np.ndarray) -> np.ndarray:
        """Rows of member forecasts -> one point each (a missing member is left out)."""
        if self.params["method"] == "median":
            with np.errstate(all="ignore"):
                return np.nanmedian(x, axis=1)
        w = np.where(np.isfinite(x), self.weights_[None, :], 0.0)
        total = w.sum(axis=1)
        with np.errstate(all="ignore"):
            return np.where(total > 0, np.nansum(x * w, axis=1) / total, np.nan)
