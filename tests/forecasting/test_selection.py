"""``auto``: the best seasonal naive unless a richer model beats it significantly, never peeking."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from tests.forecasting.conftest import run_cli
from workbench.forecasting.base import ForecastData, ForecastError, ForecastSpec
from workbench.forecasting.selection import NAIVE_MODELS, AutoForecaster, diebold_mariano

H = pd.Timedelta("1h")
FAST = {"lightgbm": {"n_estimators": 60}}
IDX = pd.date_range("2024-01-01", periods=24 * 70, freq="1h", tz="UTC")


def seasonal_random_walk(seed: int = 3) -> pd.Series:
    """Each day's profile is yesterday's plus noise: yesterday at the same hour is optimal."""
    rng = np.random.default_rng(seed)
    days = len(IDX) // 24
    profile = 1000 + 200 * np.sin(2 * np.pi * (np.arange(24) - 9) / 24)
    walk = np.cumsum(rng.normal(0, 30, (days, 24)), axis=0) + profile
    return pd.Series(walk.ravel(), index=IDX, name="y")


def driven(seed: int = 4) -> tuple[pd.Series, pd.DataFrame]:
    """A load that follows an exogenous covariate known ahead (and nothing else)."""
    rng = np.random.default_rng(seed)
    x = pd.Series(rng.normal(0, 1, len(IDX)), index=IDX).rolling(6, min_periods=1).mean()
    hour = IDX.hour.to_numpy()
    y = 1000 + 100 * np.sin(2 * np.pi * hour / 24) + 300 * x.to_numpy()
    y = y + rng.normal(0, 5, len(IDX))
    return pd.Series(y, index=IDX, name="y"), pd.DataFrame({"x": x.to_numpy()}, index=IDX)


SPEC = ForecastSpec(freq=H, horizon=24)
CUT = pd.Timestamp("2024-03-05", tz="UTC")


def test_naive_kept_when_nothing_beats_it_and_says_why():
    model = AutoForecaster(candidate_params=FAST).fit(
        ForecastData(y=seasonal_random_walk()), SPEC, until=CUT
    )
    info = model.fit_info
    assert info["chosen"] == "seasonal_naive"
    assert info["best_naive"] == "seasonal_naive"
    assert "no richer model beat it significantly" in info["reason"]
    assert set(info["validation_mae"]) == {
        "seasonal_naive",
        "seasonal_naive_weekly",
        "lightgbm",
        "combination",
    }
    for test in info["tests"].values():  # each richer candidate was tested against the naive
        assert test["p_value"] >= 0.05 or test["mae_gain"] <= 0
    assert info["validation_days"] >= 14


def test_richer_model_chosen_with_a_strong_exogenous_driver():
    y, x = driven()
    spec = SPEC.replace(future_covariates=("x",))
    model = AutoForecaster(candidate_params=FAST).fit(ForecastData(y=y, future=x), spec, until=CUT)
    info = model.fit_info
    assert info["chosen"] not in NAIVE_MODELS
    assert info["tests"][info["chosen"]]["p_value"] < 0.05
    assert info["reason"].startswith(info["chosen"] + ": validation MAE")
    pred = model.predict(ForecastData(y=y, future=x), [CUT])
    truth = y.reindex(pd.DatetimeIndex(pred["target_time"])).to_numpy()
    naive = y.reindex(pd.DatetimeIndex(pred["target_time"]) - pd.Timedelta("1D")).to_numpy()
    assert np.mean(np.abs(pred["y_pred"] - truth)) < 0.5 * np.mean(np.abs(naive - truth))


def test_choice_does_not_depend_on_data_after_the_cutoff():
    y, x = driven()
    spec = SPEC.replace(future_covariates=("x",))
    noisy = y.copy()
    after = noisy.index >= CUT - H  # not known at CUT (label + 1 h)
    noisy[after] = np.random.default_rng(0).normal(0, 1e4, after.sum())
    a = AutoForecaster(candidate_params=FAST).fit(ForecastData(y=y, future=x), spec, until=CUT)
    b = AutoForecaster(candidate_params=FAST).fit(ForecastData(y=noisy, future=x), spec, until=CUT)
    assert a.fit_info["chosen"] == b.fit_info["chosen"]
    assert a.fit_info["validation_mae"] == b.fit_info["validation_mae"]
    assert a.fit_info["tests"] == b.fit_info["tests"]
    # and the check can fail: a change before the cut-off moves the scores
    early = y.copy()
    early[(early.index > CUT - pd.Timedelta("10D")) & ~after] += 500.0
    c = AutoForecaster(candidate_params=FAST).fit(ForecastData(y=early, future=x), spec, until=CUT)
    assert c.fit_info["validation_mae"] != a.fit_info["validation_mae"]


def test_extra_names_are_candidates_and_a_naive_is_required():
    model = AutoForecaster(candidates=("seasonal_naive",), extra=("climatology",))
    assert model.params["candidates"] == ("seasonal_naive", "climatology")
    with pytest.raises(ForecastError, match="expected a seasonal naive among the candidates"):
        AutoForecaster(candidates=("lightgbm",))


def test_diebold_mariano_one_sided():
    rng = np.random.default_rng(0)
    better = 1.0 + rng.normal(0, 1, 40)
    stat, p = diebold_mariano(better, lag=1)
    assert stat > 3
    assert p < 0.01
    stat, p = diebold_mariano(-better, lag=1)
    assert p > 0.99
    noise = rng.normal(0, 1, 40)
    noise -= noise.mean()
    assert diebold_mariano(noise, lag=1)[1] == pytest.approx(0.5, abs=0.01)
    assert diebold_mariano(np.array([1.0, 2.0]), lag=0) == (0.0, 1.0)


def test_cli_backtest_auto_says_why(monkeypatch, capsys, tmp_path):
    import json

    y = seasonal_random_walk()
    frame = pd.DataFrame({"time": y.index.strftime("%Y-%m-%dT%H:%M:%SZ"), "load": y.to_numpy()})
    path, rep = tmp_path / "load.csv", tmp_path / "report.json"
    frame.to_csv(path, index=False)
    code, out, err = run_cli(
        monkeypatch, capsys, "forecast", "backtest", str(path), "--time-col", "time", "--target",
        "load", "--tz", "UTC", "--model", "auto", "--test-start", "2024-03-01", "--test-end",
        "2024-03-05", "--retrain", "never", "--report", str(rep), "--no-track",
        "--output", str(tmp_path / "fc.parquet"),
    )  # fmt: skip
    assert code == 0, err
    report = json.loads(rep.read_text())
    assert report["chosen_models"] == ["seasonal_naive"]
    (why,) = report["chosen_because"]
    assert why.startswith("seasonal_naive (best naive")
    assert f"chosen because (last fit): {why}" in " ".join(out.split())
