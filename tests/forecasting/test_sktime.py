"""sktime estimators behind the workbench Forecaster: quantiles, refit modes, covariates."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from workbench.forecasting.base import ForecastData, ForecastSpec, make_forecaster
from workbench.forecasting.sktime_adapter import SktimeForecaster

DAYS = 30


@pytest.fixture(scope="module")
def problem() -> tuple[ForecastData, ForecastSpec]:
    idx = pd.date_range("2024-03-01", periods=24 * DAYS, freq="1h", tz="UTC")
    rng = np.random.default_rng(0)
    temp = 10 + 5 * np.sin(2 * np.pi * (idx.hour - 14) / 24) + rng.normal(0, 2, len(idx))
    y = 100 + 20 * np.sin(2 * np.pi * idx.hour / 24) + 3 * temp + rng.normal(0, 1, len(idx))
    data = ForecastData(
        y=pd.Series(y, index=idx, name="load_mw"),
        future=pd.DataFrame({"temperature_c": temp}, index=idx),
    )
    spec = ForecastSpec(
        freq=pd.Timedelta("1h"),
        horizon=24,
        future_covariates=("temperature_c",),
        availability_lag={"y": pd.Timedelta("1h")},
    )
    return data, spec


def _issues(data: ForecastData, days: list[int]) -> list[pd.Timestamp]:
    return [data.y.index[0] + pd.Timedelta(days=d) for d in days]


def test_theta_by_name_gives_native_quantiles_without_peeking(problem) -> None:
    data, spec = problem
    issues = _issues(data, [25, 26, 27])
    model = make_forecaster("sktime:ThetaForecaster").fit(data, spec, until=issues[0])
    assert model.params["estimator"].get_params()["sp"] == 1  # the user's estimator is untouched
    assert model.fit_info["quantiles"] == "native (predict_quantiles)"
    pred = model.predict(data, issues)
    assert list(pred.columns) == [
        "issue_time", "target_time", "step", "y_pred", "q0.1", "q0.5", "q0.9",
    ]  # fmt: skip
    assert len(pred) == 3 * spec.horizon
    q = pred[spec.quantile_columns].to_numpy()
    assert np.isfinite(q).all()
    assert (np.diff(q, axis=1) > 0).all()
    truth = data.y.reindex(pd.DatetimeIndex(pred["target_time"])).to_numpy()
    mae = np.mean(np.abs(truth - pred["y_pred"]))
    assert mae < np.std(truth)  # the daily-seasonal theta model tracks the daily shape
    # the future replaced by noise changes nothing for the first issue
    y = data.y.copy()
    late = y.index > spec.last_known_label([issues[0]])[0]
    y[late] = np.random.default_rng(1).normal(0, 500, late.sum())
    noisy = model.predict(ForecastData(y=y, future=data.future), issues[:1])
    pd.testing.assert_frame_equal(noisy, pred.iloc[: spec.horizon])


def test_update_without_refit_matches_refit_for_seasonal_naive(problem) -> None:
    data, spec = problem
    issues = _issues(data, [24, 26, 28])
    kwargs = {"strategy": "last", "sp": 24}
    every = make_forecaster("sktime:NaiveForecaster", **kwargs).fit(data, spec, until=issues[0])
    never = make_forecaster("sktime:NaiveForecaster", refit="never", **kwargs)
    never.fit(data, spec, until=issues[0])
    a, b = every.predict(data, issues), never.predict(data, issues)
    pd.testing.assert_frame_equal(a, b)
    # by hand: the same hour on the latest day already known at the issue (the target is
    # known 1 h late, so the last hour of the horizon reaches back two days)
    targets = pd.DatetimeIndex(a["target_time"])
    known = spec.last_known_label(pd.DatetimeIndex(a["issue_time"]))
    back = np.where(targets - pd.Timedelta("1D") <= known, 1, 2)
    expected = data.y.reindex(targets - pd.to_timedelta(back, unit="D"))
    np.testing.assert_allclose(a["y_pred"], expected.to_numpy())
    assert (back[spec.horizon - 1 :: spec.horizon] == 2).all()


def test_exogenous_covariates_are_used(problem) -> None:
    _, spec = problem
    idx = pd.date_range("2024-03-01", periods=24 * DAYS, freq="1h", tz="UTC")
    rng = np.random.default_rng(5)
    temp = 10 + np.cumsum(rng.normal(0, 1, len(idx)))  # weather that wanders
    y = pd.Series(100 + 3 * temp + rng.normal(0, 1, len(idx)), index=idx, name="load_mw")
    data = ForecastData(y=y, future=pd.DataFrame({"temperature_c": temp}, index=idx))
    issues = _issues(data, [25, 26])
    params = {"order": (1, 0, 0), "window_days": 7}
    model = make_forecaster("sktime:SARIMAX", **params).fit(data, spec, until=issues[0])
    assert model.fit_info["uses_future_covariates"] is True
    pred = model.predict(data, issues)
    # the temperature forecast is used: a hotter forecast changes the forecast
    future = data.future.copy()
    future.loc[future.index >= issues[0], "temperature_c"] += 10.0
    hotter = model.predict(ForecastData(y=data.y, future=future), issues)
    first = slice(0, spec.horizon)  # (the second issue also refits on the changed day)
    rise = hotter["y_pred"].iloc[first] - pred["y_pred"].iloc[first]
    assert (rise > 20).all()  # load rises ~3 MW per degree
    # and it helps: without it the temperature-driven part is unexplained
    plain = make_forecaster("sktime:SARIMAX", **params)
    plain.fit(data, spec.replace(future_covariates=()), until=issues[0])
    truth = data.y.reindex(pd.DatetimeIndex(pred["target_time"])).to_numpy()
    with_x = np.mean(np.abs(truth - pred["y_pred"]))
    without = np.mean(np.abs(truth - plain.predict(data, issues)["y_pred"]))
    assert with_x < 0.5 * without


def test_conformal_quantiles_when_asked_or_not_native(problem) -> None:
    data, spec = problem
    issues = _issues(data, [25, 26])
    model = make_forecaster("sktime:NaiveForecaster", sp=24, quantiles="conformal")
    model.fit(data, spec, until=issues[0])
    assert model.fit_info["quantiles"] == "conformal"
    assert model.fit_info["calibration"]["residuals"] > 0
    pred = model.predict(data, issues)
    q = pred[spec.quantile_columns].to_numpy()
    assert (np.diff(q, axis=1) > 0).all()
    truth = data.y.reindex(pd.DatetimeIndex(pred["target_time"])).to_numpy()
    inside = np.mean((truth >= q[:, 0]) & (truth <= q[:, 2]))
    assert 0.5 <= inside <= 1.0  # an 80 % interval, on 48 points


@pytest.mark.filterwarnings("ignore::FutureWarning")  # sktime on its own defaults
def test_bad_settings_are_explained(problem) -> None:
    from workbench.forecasting.base import ForecastError, UnknownModelError

    with pytest.raises(ForecastError, match="refit 'every' or 'never'"):
        make_forecaster("sktime:NaiveForecaster", refit="weekly")
    with pytest.raises(UnknownModelError, match="sktime:ThetaForecaster"):
        make_forecaster("sktime:ThetaForcaster")
    from sktime.forecasting.trend import PolynomialTrendForecaster

    with pytest.raises(ForecastError, match="prediction intervals"):
        SktimeForecaster(PolynomialTrendForecaster(), quantiles="native").fit(*problem)
