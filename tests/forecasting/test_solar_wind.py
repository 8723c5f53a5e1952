"""Solar and wind use cases on the ci lakehouse: aligned data, no peeking, beating persistence."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from workbench.forecasting.backtest import backtest, issue_schedule
from workbench.forecasting.base import ForecastError
from workbench.forecasting.usecases.solar import satellite_features, solar_usecase
from workbench.forecasting.usecases.wind import fit_power_curve, wind_usecase

pytestmark = pytest.mark.slow

SOLAR, WIND = "SOLAR_NORTH_01", "WIND_NORTH_01"
TEST_START, TEST_END = "2024-03-14", "2024-03-19"


def _issues(case):
    return issue_schedule(TEST_START, TEST_END, case.issue_time, case.spec.tz)


def _mae(case, model, params=None) -> float:
    result = backtest(case.data, case.spec, model, _issues(case), baseline=None,
                      model_params=params or {})  # fmt: skip
    return result.metrics()["model"]["mae"]


def test_solar_data_is_aligned_and_holds_forecasts_not_actuals(ci_gold_catalog) -> None:
    case = solar_usecase(ci_gold_catalog, SOLAR)
    data, spec = case.data, case.spec
    y = data.y
    assert str(y.index.tz) == "UTC"
    assert (np.diff(y.index.asi8) == pd.Timedelta("1h").value).all()
    assets = ci_gold_catalog.read("gold.dim_assets", where={"asset_id": SOLAR})
    assert spec.capacity == pytest.approx(float(assets["capacity_mw"].iloc[0]))
    assert spec.lag("y") == pd.Timedelta("1h")  # gold.fact_generation's catalog lag
    assert spec.tz == "America/Chicago"
    # future covariates are versioned forecasts: each row issued before the hour it is for
    assert data.future_is_versioned
    issue = data.future.index.get_level_values("issue_time")
    target = data.future.index.get_level_values("target_time")
    assert (issue < target).all()
    assert set(spec.future_covariates) == set(data.future.columns)
    # ... and not the observations: the forecast GHI differs from the observed GHI
    obs = ci_gold_catalog.read("silver.weather_hourly", where={"location_id": SOLAR})
    obs = obs.set_index(pd.DatetimeIndex(obs["timestamp"]))["ghi_w_per_m2"]
    day = data.future["clearsky_ghi_w_per_m2"].to_numpy() > 100
    fc = data.future["ghi_w_per_m2"].to_numpy()[day]
    seen = obs.reindex(target[day]).to_numpy()
    assert np.mean(np.abs(fc - seen) > 1.0) > 0.5
    # clear-sky physics: no sun at night, index within bounds
    night = data.future["solar_elevation_deg"] < -5
    assert (data.future.loc[night, "clearsky_ghi_w_per_m2"] == 0).all()
    kc = data.future["clearsky_index_fc"]
    assert kc.between(0, 1.5).all()
    assert kc[day].median() > 0.3
    # satellite cloud features joined as past covariates on the target's grid
    assert spec.past_covariates == ("cloud_index", "cloud_index_buffer")
    assert data.past.index.equals(y.index)
    assert data.past["cloud_index"].notna().any()
    assert spec.lag("cloud_index") == pd.Timedelta("15min")


def test_missing_satellite_features_are_skipped_cleanly(catalog) -> None:
    index = pd.date_range("2024-03-01", periods=24, freq="1h", tz="UTC")
    assert satellite_features(catalog, SOLAR, index) is None  # listed, not built here


def test_solar_backtest_beats_persistence(ci_gold_catalog) -> None:
    case = solar_usecase(ci_gold_catalog, SOLAR)
    model = _mae(case, "lightgbm", case.model_params["lightgbm"])
    persistence = _mae(case, "seasonal_naive")  # same hour on the last day known
    assert model < 0.8 * persistence


def test_power_curve_fit() -> None:
    rng = np.random.default_rng(0)
    v = rng.uniform(0, 20, 2000)
    true = 100 * np.clip((v**3 - 27) / (12**3 - 27), 0, 1)
    curve = fit_power_curve(v, true + rng.normal(0, 3, v.size), capacity_mw=100)
    grid = np.linspace(0, 20, 81)
    fitted = curve(grid)
    assert (np.diff(fitted) >= 0).all()
    assert fitted.min() >= 0
    assert fitted.max() <= 100
    expected = 100 * np.clip((grid**3 - 27) / (12**3 - 27), 0, 1)
    assert np.mean(np.abs(fitted - expected)) < 4.0
    assert np.isnan(curve([np.nan]))[0]
    with pytest.raises(ForecastError, match="at least 24 hours"):
        fit_power_curve(v[:10], true[:10], capacity_mw=100)


def test_wind_power_curve_learns_only_from_the_training_window(ci_gold_catalog) -> None:
    early = wind_usecase(ci_gold_catalog, WIND, train_end="2024-03-10")
    late = wind_usecase(ci_gold_catalog, WIND, train_end=TEST_START)
    # observed wind and output of hour t are known at t + 1 h + 1 h (lags of both tables)
    hours = (pd.Timestamp("2024-03-10", tz="UTC") - early.data.y.index[0]) / pd.Timedelta("1h")
    assert early.power_curve.pairs == hours - 1
    assert late.power_curve.pairs > early.power_curve.pairs
    fut = late.data.future
    assert late.spec.future_covariates == ("wind_speed_100m_m_per_s", "power_curve_mw_fc")
    assert fut["power_curve_mw_fc"].between(0, late.spec.capacity).all()
    expected = late.power_curve(fut["wind_speed_100m_m_per_s"].to_numpy())
    np.testing.assert_allclose(fut["power_curve_mw_fc"].to_numpy(), expected)


def test_wind_backtests_beat_persistence(ci_gold_catalog) -> None:
    case = wind_usecase(ci_gold_catalog, WIND, train_end=TEST_START)
    persistence = _mae(case, "seasonal_naive", {"season": "1h"})  # the last value known
    lightgbm = _mae(case, "lightgbm", case.model_params["lightgbm"])
    lstm = _mae(case, "lstm", {**case.model_params["lstm"], "n_epochs": 3, "n_threads": 1})
    assert lightgbm < 0.7 * persistence
    assert lstm < 0.8 * persistence
