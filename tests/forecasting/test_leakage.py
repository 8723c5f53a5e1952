"""Backtests never peek: the future cannot change past forecasts; late covariates are masked."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from workbench.forecasting.backtest import backtest, issue_schedule
from workbench.forecasting.base import ForecastData, ForecastSpec
from workbench.forecasting.features import FeatureConfig, build_features
from workbench.forecasting.synthetic import synthetic_load

H = pd.Timedelta("1h")
FAST = {"n_estimators": 60}


@pytest.fixture(scope="module")
def y():
    return synthetic_load(days=60, seed=5, start="2024-01-01")


@pytest.mark.parametrize(
    "model", ["lightgbm", "seasonal_naive", "climatology", "auto", "combination", "lear"]
)
def test_future_replaced_by_noise_changes_nothing_before(y, model):
    spec = ForecastSpec(freq=H, horizon=24, availability_lag={"y": pd.Timedelta("2h")})
    issues = issue_schedule("2024-02-10", "2024-02-20", "06:00")
    cut = issues[-1]
    noisy = y.copy()
    after = noisy.index > cut - 3 * H  # labels not yet known at the last issue (1 h + 2 h lag)
    noisy[after] = np.random.default_rng(1).normal(0, 5000, after.sum())
    params = FAST if model == "lightgbm" else {"candidate_params": {"lightgbm": FAST}}
    params = {} if model in ("seasonal_naive", "climatology") else params
    params = {"windows_days": (14, 28)} if model == "lear" else params
    params = {"member_params": {"lightgbm": FAST}} if model == "combination" else params
    clean = backtest(ForecastData(y=y), spec, model, issues, retrain="weekly", model_params=params)
    dirty = backtest(
        ForecastData(y=noisy), spec, model, issues, retrain="weekly", model_params=params
    )
    cols = ["issue_time", "target_time", "step", "y_pred", *spec.quantile_columns]
    pd.testing.assert_frame_equal(clean.forecasts[cols], dirty.forecasts[cols])
    # and the check can fail: labels known at the last issue do change its forecast
    noisy[(noisy.index > cut - pd.Timedelta("7D")) & ~after] += 1e3
    peek = backtest(ForecastData(y=noisy), spec, model, issues[-1:], model_params=params)
    last = clean.forecasts[clean.forecasts["issue_time"] == cut].reset_index(drop=True)
    assert not np.allclose(peek.forecasts["y_pred"], last["y_pred"])


def test_covariate_available_late_is_not_used_early(y):
    # the covariate is tomorrow's target: a perfect predictor if it were known at once
    leak = pd.Series(y.shift(-24).to_numpy(), index=y.index, name="leak")
    data = ForecastData(y=y, past=leak.to_frame())
    issues = issue_schedule("2024-02-15", "2024-02-28", "00:00")
    scores = {}
    for lag in ("0h", "30h"):
        spec = ForecastSpec(
            freq=H, horizon=24, past_covariates=("leak",), availability_lag={"leak": lag}
        )
        res = backtest(data, spec, "lightgbm", issues, model_params=FAST, baseline=None)
        scores[lag] = res.metrics()["model"]["mae"]
    plain = backtest(
        ForecastData(y=y),
        ForecastSpec(freq=H, horizon=24),
        "lightgbm",
        issues,
        model_params=FAST,
        baseline=None,
    ).metrics()["model"]["mae"]
    assert scores["0h"] < 0.7 * plain  # known at once, it leaks the future: the test can fail
    assert scores["30h"] > 0.9 * plain  # available only after the horizon: no gain


def test_versioned_future_covariate_uses_latest_issue_before():
    y = synthetic_load(days=5, seed=1)
    target = y.index[60:72]
    early = pd.Timestamp("2024-01-02 00:00", tz="UTC")
    late = pd.Timestamp("2024-01-03 06:00", tz="UTC")
    rows = [(early, t, 1.0) for t in target] + [(late, t, 2.0) for t in target]
    future = pd.DataFrame(rows, columns=["issue_time", "target_time", "temp_c"]).set_index(
        ["issue_time", "target_time"]
    )
    data = ForecastData(y=y, future=future)
    lag = {"temp_c": pd.Timedelta("1h")}
    spec = ForecastSpec(freq=H, horizon=12, future_covariates=("temp_c",), availability_lag=lag)
    issue = pd.Timestamp("2024-01-03 06:00", tz="UTC")  # the late run is not available yet (lag)
    f = build_features(data, spec, [issue])
    covered = f["target_time"].isin(target)
    assert covered.sum() == 6
    assert (f.loc[covered, "f_fut_temp_c"] == 1.0).all()
    assert f.loc[~covered, "f_fut_temp_c"].isna().all()
    f = build_features(data, spec, [issue + H])
    assert (f.loc[f["target_time"].isin(target), "f_fut_temp_c"] == 2.0).all()


def test_weather_features_use_only_forecasts_issued_before():
    # hourly temperature forecast runs every 6 h, 72 h long; features of an issue must not
    # change when every run issued after it (minus the lag) is replaced
    y = synthetic_load(days=12, seed=3)
    runs = pd.date_range(y.index[0], y.index[-1], freq="6h")
    rng = np.random.default_rng(0)
    rows = [
        (r, t, 60 + 20 * np.sin(t.hour / 24 * 2 * np.pi) + rng.normal(0, 2))
        for r in runs
        for t in pd.date_range(r, periods=72, freq="1h")
    ]
    future = pd.DataFrame(rows, columns=["issue_time", "target_time", "temperature_f"])
    future = future.set_index(["issue_time", "target_time"])
    lag = {"temperature_f": pd.Timedelta("2h")}
    spec = ForecastSpec(
        freq=H, horizon=24, future_covariates=("temperature_f",), availability_lag=lag
    )
    issue = pd.Timestamp("2024-01-08 06:00", tz="UTC")
    cfg = FeatureConfig(holidays_country="US")
    before = build_features(ForecastData(y=y, future=future), spec, [issue], cfg)
    late = future.index.get_level_values(0) > issue - lag["temperature_f"]
    changed = future.copy()
    changed.loc[late, "temperature_f"] += 40.0
    after = build_features(ForecastData(y=y, future=changed), spec, [issue], cfg)
    cols = [c for c in before.columns if "temperature_f" in c or "dd_" in c]
    weather = {"f_temperature_f_smooth", "f_temperature_f_lag1d", "f_cdd_temperature_f_smooth"}
    assert weather <= set(cols)
    pd.testing.assert_frame_equal(before, after)
    # and the check can fail: the run just before the issue does change them
    last_run = future.index.get_level_values(0) == issue - pd.Timedelta("6h")
    changed.loc[last_run, "temperature_f"] += 40
    moved = build_features(ForecastData(y=y, future=changed), spec, [issue], cfg)
    assert not np.allclose(moved["f_temperature_f_smooth"], before["f_temperature_f_smooth"])
