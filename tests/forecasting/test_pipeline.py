"""One production path (issue 16): every caller builds a forecaster through the same function."""

from __future__ import annotations

import pandas as pd
import pytest

from workbench.forecasting.backtest import backtest, backtest_case, issue_schedule
from workbench.forecasting.base import (
    ForecastError,
    ForecastSpec,
    UnknownModelError,
    UnknownParameterError,
    make_forecaster,
)
from workbench.forecasting.pipeline import UseCase, build_forecaster, fit_forecaster
from workbench.forecasting.synthetic import synthetic_data
from workbench.forecasting.usecases import CatalogReader, DatasetInfo, WarehouseInfo

CASE = {"lightgbm": {"n_estimators": 40, "holidays_country": "US"}, "seasonal_naive": {}}


def test_use_case_parameters_then_the_callers_on_top():
    model = build_forecaster("lightgbm", case_params=CASE)
    assert model.params["n_estimators"] == 40
    assert model.params["holidays_country"] == "US"
    model = build_forecaster("lightgbm", case_params=CASE, params={"n_estimators": 7})
    assert model.params["n_estimators"] == 7
    assert model.params["holidays_country"] == "US"
    assert build_forecaster("lightgbm").params == make_forecaster("lightgbm").params  # defaults


def test_models_built_from_models_get_every_members_parameters():
    auto = build_forecaster("auto", case_params=CASE)
    assert auto.params["candidate_params"]["lightgbm"] == CASE["lightgbm"]
    # a caller's member parameters win over the use case's, member by member
    own = {"candidate_params": {"lightgbm": {"n_estimators": 5}}}
    auto = build_forecaster("auto", case_params=CASE, params=own)
    assert auto.params["candidate_params"]["lightgbm"] == {"n_estimators": 5}
    assert "seasonal_naive" in auto.params["candidate_params"]


def test_bad_names_and_parameters_are_refused_before_anything_is_built():
    with pytest.raises(UnknownModelError, match="lightgbm"):
        build_forecaster("lightgmb", case_params=CASE)
    with pytest.raises(UnknownParameterError, match="n_estimator"):
        build_forecaster("lightgbm", params={"n_estimator": 3})
    ready = make_forecaster("seasonal_naive")
    assert build_forecaster(ready) is ready
    with pytest.raises(ForecastError, match="only with a model name"):
        build_forecaster(ready, params={"season": "7D"})


def test_backtest_case_is_backtest_with_the_use_case_parameters():
    data = synthetic_data(days=60, seed=3)
    spec = ForecastSpec(freq=pd.Timedelta("1h"), horizon=24)
    case = UseCase(name="synthetic", data=data, spec=spec, model_params=CASE)
    issues = issue_schedule("2024-02-20", "2024-02-27", "00:00", "UTC")
    via_case = backtest_case(case, "lightgbm", issues, baseline=None)
    direct = backtest(data, spec, "lightgbm", issues, model_params=CASE["lightgbm"], baseline=None)
    pd.testing.assert_frame_equal(via_case.forecasts, direct.forecasts)
    few = {"n_estimators": 5}
    plain = backtest(data, spec, "lightgbm", issues, model_params=few, baseline=None)
    assert not plain.forecasts["y_pred"].equals(via_case.forecasts["y_pred"])  # params mattered
    fitted = fit_forecaster("lightgbm", data, spec, issues[0], case_params=CASE)
    first = via_case.forecasts[via_case.forecasts.issue_time == issues[0]]
    assert fitted.predict(data, issues[:1])["y_pred"].to_numpy() == pytest.approx(
        first["y_pred"].to_numpy()
    )


def test_the_workbench_catalog_is_what_the_use_cases_are_typed_against(tmp_path, monkeypatch):
    from workbench.io.catalog import open_catalog

    monkeypatch.setenv("WORKBENCH_HOME", str(tmp_path))
    cat = open_catalog()
    try:
        assert isinstance(cat, CatalogReader)
        assert isinstance(cat.entry("gold.fact_load"), DatasetInfo)
        assert isinstance(cat.warehouse("default"), WarehouseInfo)
    finally:
        cat.close()
    assert not isinstance(object(), CatalogReader)
