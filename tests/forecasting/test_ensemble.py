"""The combination: simplex weights, better than members with opposite biases, no crossing."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest

from workbench.forecasting.backtest import backtest, issue_schedule
from workbench.forecasting.base import (
    ForecastData,
    ForecastError,
    ForecastSpec,
    add_model,
    make_forecaster,
)
from workbench.forecasting.baselines import SeasonalNaive
from workbench.forecasting.ensemble import Combination, simplex_weights
from workbench.forecasting.synthetic import synthetic_load


class _Shifted(SeasonalNaive):
    """Yesterday's value plus a fixed bias [MW] (a member with a known, constant error)."""

    def __init__(self, bias: float = 0.0, **params: Any) -> None:
        super().__init__(**params)
        self.params["bias"] = bias
        self.bias = bias

    def clone(self) -> _Shifted:
        params = dict(self.params)
        return _Shifted(params.pop("bias"), **params)

    def _predict_point(self, data: ForecastData, issue_times: Any) -> pd.DataFrame:
        out = super()._predict_point(data, issue_times)
        out["y_pred"] = out["y_pred"] + self.bias
        return out


add_model("test_high", lambda **p: _Shifted(80.0, **p), overwrite=True)
add_model("test_low", lambda **p: _Shifted(-80.0, **p), overwrite=True)

SPEC = ForecastSpec(freq="1h", horizon=24)


@pytest.fixture(scope="module")
def data():
    return ForecastData(y=synthetic_load(days=80, seed=2, noise_mw=10, walk_mw=0.5))


def test_simplex_weights_recover_a_mixture_and_stay_on_the_simplex():
    rng = np.random.default_rng(0)
    x = rng.normal(0, 1, (500, 3))
    y = 0.7 * x[:, 0] + 0.3 * x[:, 1] + rng.normal(0, 0.01, 500)
    w = simplex_weights(x, y)
    assert w == pytest.approx([0.7, 0.3, 0.0], abs=0.01)
    # a member anti-correlated with the truth gets weight 0, never a negative one
    w = simplex_weights(np.column_stack([y + 0.5, -y, y - 0.5]), y)
    assert (w >= 0).all()
    assert w.sum() == pytest.approx(1.0)
    assert w[1] == pytest.approx(0.0, abs=1e-6)
    assert w[[0, 2]] == pytest.approx([0.5, 0.5], abs=0.01)


def test_combination_beats_members_with_opposite_biases(data):
    issues = issue_schedule("2024-03-01", "2024-03-19", "00:00")
    members = ("test_high", "test_low")
    scores = {}
    for model, params in [
        ("test_high", {}),
        ("test_low", {}),
        ("combination", {"members": members, "method": "weights"}),
    ]:
        res = backtest(data, SPEC, model, issues, retrain="weekly", model_params=params)
        scores[model] = res.metrics()["model"]["mae"]
        if model == "combination":
            for fit in res.fits:
                w = np.array(list(fit["weights"].values()))
                assert (w >= 0).all()
                assert w.sum() == pytest.approx(1.0, abs=1e-3)
                assert w == pytest.approx([0.5, 0.5], abs=0.05)
            pred = res.forecasts
            q = pred[SPEC.quantile_columns].to_numpy()
            assert (np.diff(q, axis=1) >= 0).all()  # quantiles never cross
            assert ((pred["q0.1"] <= pred["y_pred"]) & (pred["y_pred"] <= pred["q0.9"])).all()
    assert scores["combination"] < 0.6 * min(scores["test_high"], scores["test_low"])


@pytest.mark.parametrize("method", ["mean", "median"])
def test_fixed_methods(data, method):
    cut = pd.Timestamp("2024-03-01", tz="UTC")
    members = ("seasonal_naive", "seasonal_naive_weekly", "test_high")
    model = Combination(members=members, method=method).fit(data, SPEC, until=cut)
    pred = model.predict(data, [cut])
    parts = [
        make_forecaster(m).fit(data, SPEC, until=cut).predict(data, [cut])["y_pred"].to_numpy()
        for m in members
    ]
    expect = np.mean(parts, axis=0) if method == "mean" else np.median(parts, axis=0)
    np.testing.assert_allclose(pred["y_pred"].to_numpy(), expect)
    assert model.fit_info["method"] == method


def test_bad_members_and_methods_are_refused():
    with pytest.raises(ForecastError, match="expected method in"):
        Combination(method="vote")
    with pytest.raises(ForecastError, match="expected at least two distinct members"):
        Combination(members=("lightgbm",))
    with pytest.raises(ForecastError, match="expected point forecasters as members"):
        Combination(members=("auto", "seasonal_naive"))


def test_use_case_parameters_reach_the_members():
    from workbench.forecasting.pipeline import build_forecaster

    model = build_forecaster("combination", case_params={"lightgbm": {"n_estimators": 7}})
    assert model.members_["lightgbm"].params["n_estimators"] == 7
