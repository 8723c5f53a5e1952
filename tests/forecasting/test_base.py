"""The forecaster interface: spec validation, the grid, the registry, point forecasters."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from workbench.core.errors import MissingColumnsError, WorkbenchError
from workbench.forecasting.base import (
    ForecastData,
    ForecastError,
    ForecastSpec,
    NotFittedError,
    UnknownModelError,
    add_model,
    available_models,
    forecast_grid,
    make_forecaster,
)
from workbench.forecasting.synthetic import synthetic_data

H = pd.Timedelta("1h")


def test_spec_normalises_and_rejects():
    spec = ForecastSpec(freq="30min", horizon=4, quantiles=(0.9, 0.1))
    assert spec.freq == pd.Timedelta("30min")
    assert spec.quantile_columns == ["q0.1", "q0.9"]
    assert spec.lag("y") == pd.Timedelta(0)
    for bad in (
        {"horizon": 0},
        {"quantiles": (0.5, 1.0)},
        {"lead": -1},
        {"availability_lag": {"y": "-1h"}},
        {"future_covariates": ("a",), "past_covariates": ("a",)},
    ):
        with pytest.raises(ForecastError, match="expected"):
            ForecastSpec(freq=H, horizon=bad.pop("horizon", 3), **bad)


def test_last_known_label_uses_lag():
    spec = ForecastSpec(freq=H, horizon=2, availability_lag={"y": pd.Timedelta("2h")})
    t = pd.Timestamp("2024-01-01 10:00", tz="UTC")
    # value labelled t is known at t + 1h + 2h -> last known at 10:00 is 07:00
    assert spec.last_known_label([t])[0] == pd.Timestamp("2024-01-01 07:00", tz="UTC")


def test_forecast_grid_rows():
    spec = ForecastSpec(freq=H, horizon=3, lead=2)
    issues = pd.DatetimeIndex(["2024-01-01", "2024-01-02"], tz="UTC")
    g = forecast_grid(issues, spec)
    assert len(g) == 6
    assert g["step"].tolist() == [1, 2, 3, 1, 2, 3]
    assert g["target_time"].iloc[0] == pd.Timestamp("2024-01-01 02:00", tz="UTC")
    with pytest.raises(ForecastError, match="tz-aware"):
        forecast_grid(pd.DatetimeIndex(["2024-01-01"]), spec)


def test_forecast_data_validation():
    idx = pd.date_range("2024-01-01", periods=5, freq="h")
    with pytest.raises(ForecastError, match="tz-aware UTC"):
        ForecastData(y=pd.Series(np.arange(5.0), idx))
    with pytest.raises(ForecastError, match="in UTC"):
        ForecastData(y=pd.Series(np.arange(5.0), idx.tz_localize("Europe/Paris")))
    y = pd.Series(np.arange(5.0), idx.tz_localize("UTC"))
    with pytest.raises(ForecastError, match="unique, increasing"):
        ForecastData(y=y.iloc[::-1])
    data = ForecastData(y=y)
    with pytest.raises(MissingColumnsError, match="temp"):
        data.check_spec(ForecastSpec(freq=H, horizon=1, past_covariates=("temp",)))
    with pytest.raises(ForecastError, match="regular grid"):
        ForecastData(y=y.drop(y.index[2])).check_spec(ForecastSpec(freq=H, horizon=1))


def test_registry_lists_names_and_accepts_plugins():
    with pytest.raises(UnknownModelError) as err:
        make_forecaster("lightgmb")
    assert "lightgbm" in str(err.value)
    assert isinstance(err.value, WorkbenchError)
    assert {"seasonal_naive", "climatology", "lightgbm", "auto"} <= set(available_models())

    from workbench.forecasting.baselines import SeasonalNaive

    add_model("test_prefix:", lambda suffix, **p: SeasonalNaive(season=suffix, **p))
    model = make_forecaster("test_prefix:2D")
    assert model.season == pd.Timedelta("2D")
    with pytest.raises(ForecastError, match="already taken"):
        add_model("test_prefix:", lambda suffix: None)


@pytest.mark.parametrize("name", ["seasonal_naive", "seasonal_naive_weekly", "climatology"])
def test_every_model_outputs_sorted_quantiles(name):
    data = synthetic_data(days=40)
    spec = ForecastSpec(freq=H, horizon=24, quantiles=(0.05, 0.5, 0.95))
    model = make_forecaster(name)
    with pytest.raises(NotFittedError):
        model.predict(data, [data.y.index[-48]])
    issues = data.y.index[-200::24]
    model.fit(data, spec, until=issues[0])
    pred = model.predict(data, issues)
    assert list(pred.columns) == [
        "issue_time",
        "target_time",
        "step",
        "y_pred",
        "q0.05",
        "q0.5",
        "q0.95",
    ]
    assert len(pred) == len(issues) * 24
    assert (np.diff(pred[spec.quantile_columns].to_numpy(), axis=1) >= 0).all()
    assert model.fit_info["calibration"]["method"] == "split-conformal"
    clone = model.clone()
    assert not clone.is_fitted
    assert clone.get_params() == model.get_params()


def test_unknown_model_error_is_not_a_key_error():
    """Code that catches KeyError for its own lookups must not swallow an unknown model."""
    with pytest.raises(UnknownModelError) as err:
        make_forecaster("lightgbn")
    assert not isinstance(err.value, KeyError)
    assert str(err.value).startswith("expected a model name in [")  # not quoted like a KeyError


@pytest.mark.parametrize(
    ("name", "params", "fragments"),
    [
        ("lightgbm", {"learning_rat": 0.1}, ["'n_estimators'", "any LightGBM parameter",
                                              "'learning_rate' for 'learning_rat'"]),
        ("seasonal_naive", {"sesaon": "1D"}, ["['calibration_days'", "'season' for 'sesaon'"]),
        ("seasonal_naive_weekly", {"window": 3}, ["found unknown ['window']"]),
        ("climatology", {"level_days": 7}, ["'clip_min'", "found unknown ['level_days']"]),
        ("auto", {"candidats": ["lightgbm"]}, ["'candidates' for 'candidats'"]),
        ("auto", {"candidate_params": {"lightgbm": {"n_estimator": 5}}},
         ["'n_estimators' for 'n_estimator'"]),
        ("lstm", {"hidden": 8}, ["'hidden_dim'", "found unknown ['hidden']"]),
    ],
)  # fmt: skip
def test_unknown_model_params_are_refused_listing_the_valid_ones(name, params, fragments):
    from workbench.forecasting.base import UnknownParameterError

    with pytest.raises(UnknownParameterError) as err:
        make_forecaster(name, **params)
    assert isinstance(err.value, WorkbenchError)
    for fragment in fragments:
        assert fragment in str(err.value), str(err.value)


def test_known_model_params_still_build():
    model = make_forecaster("lightgbm", n_estimators=5, reg_lambda=2.0, calibration_days=3)
    assert model.clone().params["reg_lambda"] == 2.0
    assert make_forecaster("seasonal_naive", season="2D", clip_min=0.0).params["season"] == "2D"
