"""Darts deep forecasters (TFT, LSTM encoder-decoder) on CPU: fit, predict, no peeking, registry."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from workbench.forecasting.base import ForecastData, ForecastSpec, make_forecaster

pytestmark = pytest.mark.slow

HOURS = 24 * 14
SMALL = {"n_epochs": 1, "batch_size": 64, "n_threads": 1}


def _versioned_forecasts(truth: pd.Series, rng: np.random.Generator) -> pd.DataFrame:
    """Forecasts issued every 6 h for the next 36 h: truth plus an error growing with lead."""
    rows = []
    for issue in truth.index[::6]:
        targets = pd.date_range(issue, periods=36, freq="1h")
        values = truth.reindex(targets).to_numpy() + rng.normal(0, 0.5, 36) * np.arange(1, 37) / 12
        rows.append(
            pd.DataFrame({"issue_time": issue, "target_time": targets, "wind_m_per_s": values})
        )
    frame = pd.concat(rows, ignore_index=True).dropna()
    return frame.set_index(["issue_time", "target_time"])


@pytest.fixture(scope="module")
def wind_problem() -> tuple[ForecastData, ForecastSpec]:
    idx = pd.date_range("2024-03-01", periods=HOURS, freq="1h", tz="UTC")
    rng = np.random.default_rng(7)
    speed = pd.Series(
        8 + 3 * np.sin(2 * np.pi * np.arange(HOURS) / 40) + rng.normal(0, 0.7, HOURS), index=idx
    ).clip(lower=0)
    power = (50 * np.clip((speed - 3) / 9, 0, 1) ** 3).rename("power_mw")
    data = ForecastData(y=power, future=_versioned_forecasts(speed, rng))
    spec = ForecastSpec(
        freq=pd.Timedelta("1h"),
        horizon=24,
        future_covariates=("wind_m_per_s",),
        availability_lag={"y": pd.Timedelta("1h"), "wind_m_per_s": pd.Timedelta("1h")},
        capacity=50.0,
    )
    return data, spec


def _check_frame(pred: pd.DataFrame, spec: ForecastSpec, issues) -> None:
    assert list(pred.columns) == [
        "issue_time",
        "target_time",
        "step",
        "y_pred",
        "q0.1",
        "q0.5",
        "q0.9",
    ]
    assert len(pred) == len(issues) * spec.horizon
    q = pred[spec.quantile_columns].to_numpy()
    assert np.isfinite(q).all()
    assert (np.diff(q, axis=1) >= 0).all()  # quantiles never cross
    assert (pred["y_pred"] == pred["q0.5"]).all()
    first = pred.groupby("issue_time")["target_time"].min()
    assert (first.index == first.to_numpy()).all()  # lead 0: first target is the issue hour


def test_lstm_fits_predicts_on_cpu_without_peeking(wind_problem) -> None:
    data, spec = wind_problem
    until = data.y.index[24 * 11]
    issues = [until, until + pd.Timedelta("1D")]
    model = make_forecaster("lstm", **SMALL).fit(data, spec, until=until)
    assert model.fit_info["output_chunk_length"] == 1 + spec.horizon  # 1 h availability gap
    pred = model.predict(data, issues)
    _check_frame(pred, spec, issues)
    assert model.predict_info["filled"]["y"] == 0

    # the future (targets after each issue's last known value, forecasts issued after the
    # issue) replaced by noise: the forecasts of the first issue do not change
    rng = np.random.default_rng(0)
    y = data.y.copy()
    late = y.index > spec.last_known_label([issues[0]])[0]
    y[late] = rng.normal(0, 100, late.sum())
    fut = data.future.copy()
    after = fut.index.get_level_values(0) > issues[0] - spec.lag("wind_m_per_s")
    fut.loc[after, "wind_m_per_s"] = rng.normal(0, 100, after.sum())
    noisy = model.predict(ForecastData(y=y, future=fut), issues[:1])
    pd.testing.assert_frame_equal(noisy, pred[pred["issue_time"] == issues[0]])

    # the same seed gives the same model
    again = make_forecaster("lstm", **SMALL).fit(data, spec, until=until).predict(data, issues)
    pd.testing.assert_frame_equal(again, pred)


@pytest.mark.filterwarnings("ignore:.*LeafSpec")  # inside pytorch_lightning
def test_registry_saves_a_bare_darts_model_in_its_own_format(wind_problem, tmp_path) -> None:
    from darts import TimeSeries

    from workbench.forecasting.registry import ModelRegistry

    data, spec = wind_problem
    model = make_forecaster("lstm", **SMALL).fit(data, spec, until=data.y.index[24 * 11])
    darts_model = model._model  # the darts BlockRNNModel inside
    series = TimeSeries.from_times_and_values(
        data.y.index[:48].tz_localize(None), np.zeros((48, 1), dtype="float32")
    )
    reg = ModelRegistry(tmp_path)
    version = reg.register("bare_lstm", darts_model)
    loaded, info = reg.load_version("bare_lstm", version=version)
    assert info.metadata["artifact"]["format"] == "darts"
    assert type(loaded).__name__ == "BlockRNNModel"
    future = model._timeseries(  # zeros for every future covariate over input and output
        data.y.index[: 48 + 25], np.zeros((73, 5)), model.fit_info["future_covariates"]
    )
    kw = {
        "series": series,
        "future_covariates": future,
        "predict_likelihood_parameters": True,
        "dataloader_kwargs": {"pin_memory": False},
    }
    a = darts_model.predict(25, **kw).values()
    b = loaded.predict(25, **kw).values()
    np.testing.assert_allclose(a, b)


def test_tft_fits_predicts_and_round_trips_through_the_registry(tmp_path: Path) -> None:
    from workbench.forecasting.registry import ModelRegistry

    idx = pd.date_range("2024-03-01", periods=HOURS, freq="1h", tz="UTC")
    rng = np.random.default_rng(3)
    temp = 10 + 6 * np.sin(2 * np.pi * (idx.hour - 15) / 24) + rng.normal(0, 1, HOURS)
    load = 500 + 80 * np.sin(2 * np.pi * (idx.hour - 6) / 24) + 4 * temp + rng.normal(0, 5, HOURS)
    future = pd.DataFrame({"temperature_c": temp}, index=idx)
    past = pd.DataFrame({"price_usd_per_mwh": 40 + load / 20 + rng.normal(0, 2, HOURS)}, index=idx)
    y = pd.Series(load, index=idx, name="load_mw")
    y.iloc[[50, 51, 200]] = np.nan  # gaps are interpolated in training and counted
    data = ForecastData(y=y, past=past, future=future)
    spec = ForecastSpec(
        freq=pd.Timedelta("1h"),
        horizon=24,
        future_covariates=("temperature_c",),
        past_covariates=("price_usd_per_mwh",),
        tz="Europe/Berlin",
    )
    until = idx[24 * 12]
    model = make_forecaster(
        "tft", hidden_size=8, num_attention_heads=1, hidden_continuous_size=4, **SMALL
    ).fit(data, spec, until=until)
    assert model.fit_info["filled"]["y"] == 3
    assert "cal_hour_sin" in model.fit_info["future_covariates"]
    issues = [until, until + pd.Timedelta("1D")]
    pred = model.predict(data, issues)
    _check_frame(pred, spec, issues)
    # trained two epochs at most, but it must already follow the level of the load
    truth = y.reindex(pd.DatetimeIndex(pred["target_time"])).to_numpy()
    assert abs(np.nanmean(pred["y_pred"]) - np.nanmean(truth)) < 0.25 * np.nanmean(truth)

    reg = ModelRegistry(tmp_path / "registry")
    version = reg.register("load_tft", model, data=data, training_window=(idx[0], until))
    loaded, info = reg.load_version("load_tft", version=version)
    assert info.metadata["artifact"]["format"] == "custom"
    assert len(list((tmp_path / "registry/artifacts").rglob("artifact/darts_model.pt"))) == 1
    assert info.metadata["model"]["params"]["hidden_size"] == 8
    pd.testing.assert_frame_equal(loaded.predict(data, issues), pred)
