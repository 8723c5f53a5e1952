"""Rolling-origin backtests: issue schedule across DST, retrain blocks, accuracy, determinism."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from workbench.forecasting.backtest import (
    backtest,
    issue_schedule,
    parse_time_of_day,
    retrain_groups,
)
from workbench.forecasting.base import ForecastError, ForecastSpec, make_forecaster
from workbench.forecasting.synthetic import synthetic_data

FAST = {"n_estimators": 60}


def test_issue_schedule_keeps_local_time_across_dst():
    issues = issue_schedule("2024-03-29", "2024-04-02", "10:00", "Europe/London")
    assert [t.tz_convert("Europe/London").hour for t in issues] == [10] * 5
    assert issues[0].hour == 10  # GMT
    assert issues[-1].hour == 9  # BST
    with pytest.raises(ForecastError, match="HH:MM"):
        parse_time_of_day("25:00")
    with pytest.raises(ForecastError, match="after the test start"):
        issue_schedule("2024-04-02", "2024-03-29")


def test_retrain_groups():
    issues = issue_schedule("2024-01-25", "2024-02-10", "00:00", "UTC")
    assert len(retrain_groups(issues, "never", "UTC")) == 1
    assert len(retrain_groups(issues, "every", "UTC")) == len(issues)
    assert [len(g) for g in retrain_groups(issues, "monthly", "UTC")] == [7, 10]
    weekly = retrain_groups(issues, "weekly", "UTC")
    assert sum(len(g) for g in weekly) == len(issues)
    assert all(g[0].dayofweek == 0 for g in weekly[1:])
    with pytest.raises(ForecastError, match="retrain"):
        retrain_groups(issues, "daily", "UTC")


@pytest.fixture(scope="module")
def load_data():
    return synthetic_data(days=70, tz="Europe/London", seed=3, start="2024-02-01")


def test_lightgbm_beats_seasonal_naive_with_calibrated_intervals(load_data):
    spec = ForecastSpec(freq=pd.Timedelta("1h"), horizon=36, tz="Europe/London")
    issues = issue_schedule("2024-03-20", "2024-04-07", "09:00", "Europe/London")
    result = backtest(load_data, spec, "lightgbm", issues, retrain="monthly", model_params=FAST)
    fc = result.forecasts
    assert list(fc.columns[:5]) == ["issue_time", "target_time", "step", "y_pred", "y_true"]
    assert len(fc) == len(issues) * 36
    assert len(result.fits) == 2  # March and April
    m = result.metrics()
    assert m["skill"]["skill_mae"] > 0.3
    assert 0.65 <= m["model"]["coverage_80"] <= 0.95
    assert len(m["by_step"]["model"]) == 36
    assert len(m["by_hour"]["model"]) == 24


def test_backtest_is_deterministic(load_data):
    spec = ForecastSpec(freq=pd.Timedelta("1h"), horizon=24)
    issues = issue_schedule("2024-03-25", "2024-03-28")
    a = backtest(load_data, spec, "lightgbm", issues, model_params=FAST, baseline=None)
    b = backtest(load_data, spec, "lightgbm", issues, model_params=FAST, baseline=None)
    pd.testing.assert_frame_equal(a.forecasts, b.forecasts)


def test_auto_selects_inside_training_window(load_data):
    spec = ForecastSpec(freq=pd.Timedelta("1h"), horizon=24)
    model = make_forecaster("auto", candidate_params={"lightgbm": FAST})
    until = pd.Timestamp("2024-03-20", tz="UTC")
    model.fit(load_data, spec, until=until)
    scores = model.fit_info["validation_pinball"]
    assert set(scores) == {"seasonal_naive", "seasonal_naive_weekly", "lightgbm"}
    assert model.fit_info["chosen"] == min(scores, key=scores.get)
    # the same choice whatever happens after `until`
    noisy = load_data.y.copy()
    noisy[noisy.index >= until] = np.random.default_rng(0).normal(
        0, 1e4, (noisy.index >= until).sum()
    )
    from workbench.forecasting.base import ForecastData

    again = make_forecaster("auto", candidate_params={"lightgbm": FAST})
    again.fit(ForecastData(y=noisy), spec, until=until)
    assert again.fit_info["validation_pinball"] == scores


def test_backtest_rejects_issues_before_data(load_data):
    spec = ForecastSpec(freq=pd.Timedelta("1h"), horizon=24)
    with pytest.raises(ForecastError, match="after the start of the data"):
        backtest(load_data, spec, "seasonal_naive", issue_schedule("2024-01-01", "2024-02-05"))
    with pytest.raises(ForecastError, match="at least one issue"):
        backtest(load_data, spec, "seasonal_naive", pd.DatetimeIndex([], tz="UTC"))


def test_plots_draw_headless(load_data):
    from workbench.forecasting.plots import error_heatmap, fan_chart

    spec = ForecastSpec(freq=pd.Timedelta("1h"), horizon=24, tz="Europe/London")
    issues = issue_schedule("2024-03-25", "2024-03-27", "06:00", "Europe/London")
    res = backtest(load_data, spec, "seasonal_naive", issues, baseline=None)
    fig = fan_chart(res.forecasts, tz=spec.tz, history=load_data.y)
    assert len(fig.axes[0].lines) >= 3  # forecast, actual, history (+ the issue line)
    heat = error_heatmap(res.forecasts, tz=spec.tz)
    assert heat.axes[0].images[0].get_array().shape == (24, 24)
    with pytest.raises(ForecastError, match="expected issue time"):
        fan_chart(res.forecasts, issue_time="2020-01-01T00:00Z")
