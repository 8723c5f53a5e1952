"""LEAR day-ahead price model: recovers a known sparse driver, never peeks, handles DST."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from workbench.forecasting.backtest import backtest, issue_schedule
from workbench.forecasting.base import (
    ForecastData,
    ForecastSpec,
    InsufficientDataError,
    make_forecaster,
)
from workbench.forecasting.lear import (
    NAT,
    AsinhScaler,
    DayLayout,
    LEARForecaster,
    centred_gram,
)

H = pd.Timedelta("1h")
SHORT = {"windows_days": (56, 84)}


def synthetic_prices(days: int = 240, tz: str = "UTC", seed: int = 0, start: str = "2024-01-01"):
    """Hourly prices whose next-day profile is a sparse linear function of known drivers.

    ``p[d, s] = 5 + 0.5 p[d-1, s] + 0.3 p[d-1, 18] + 0.8 c[d, s] + N(0, 1)``, observed with
    spikes (+40..120 on 1 % of the hours); ``c`` is a load-like covariate known ahead, with a
    random daily level so it carries information the price history does not.
    """
    rng = np.random.default_rng(seed)
    hours = np.arange(24)
    c = (
        30
        + 10 * np.sin(2 * np.pi * (hours - 8) / 24)[None, :]
        + rng.normal(0, 2, (days, 1))
        + rng.normal(0, 6, (days, 24))
    )
    p = np.full((days, 24), 145.0)
    for d in range(1, days):
        p[d] = 5 + 0.5 * p[d - 1] + 0.3 * p[d - 1, 18] + 0.8 * c[d] + rng.normal(0, 1.0, 24)
    p = p + (rng.random(p.shape) < 0.01) * rng.uniform(40, 120, p.shape)
    naive = pd.date_range(start, periods=days, freq="D").repeat(24) + pd.to_timedelta(
        np.tile(hours, days), unit="h"
    )
    local = naive.tz_localize(tz, nonexistent="NaT", ambiguous="NaT")
    ok = ~local.isna()
    idx = local[ok].tz_convert("UTC")
    full = pd.date_range(idx[0], idx[-1], freq="1h")
    y = pd.Series(p.ravel()[ok], index=idx, name="price").reindex(full)
    cov = pd.Series(c.ravel()[ok], index=idx, name="load_fc").reindex(full).interpolate()
    return y, cov


@pytest.fixture(scope="module")
def prices():
    return synthetic_prices()


def test_recovers_sparse_drivers_and_beats_naive(prices):
    y, cov = prices
    data = ForecastData(y=y, future=cov.to_frame())
    spec = ForecastSpec(freq=H, horizon=24, future_covariates=("load_fc",))
    issues = issue_schedule("2024-07-20", "2024-08-20", "00:00")
    lear = backtest(data, spec, "lear", issues, retrain="never", model_params=SHORT)
    mae = lear.metrics()["model"]["mae"]
    naive = lear.metrics()["baseline"]["mae"]
    assert mae < 0.7 * naive
    fitted = make_forecaster("lear", **SHORT).fit(data, spec, until=issues[0])
    assert fitted.fit_info["windows_days"] == [56, 84]
    own_lag, cross, top_cov = 0, 0, 0
    for slot in range(24):
        coefs = fitted.coefficients(slot)
        assert (coefs.abs() > 0).sum().max() < 0.25 * len(coefs)  # sparse in every window
        strength = coefs.abs().mean(axis=1).sort_values(ascending=False)
        top_cov += strength.index[0] == f"load_fc_d0_s{slot:02d}"
        own_lag += f"y_lag1_s{slot:02d}" in strength.index[:3]
        cross += strength["y_lag1_s18"] > 0
    # the true drivers: the slot's covariate, its own price yesterday and yesterday's 18:00
    # (a few slots lose their own lag to a spike or to its correlated neighbours)
    assert top_cov == 24
    assert own_lag >= 20
    assert cross >= 18


def test_the_covariate_carries_the_gain(prices):
    """Without the covariate LEAR loses its edge: the coefficients above are not luck."""
    y, cov = prices
    spec = ForecastSpec(freq=H, horizon=24)
    issues = issue_schedule("2024-07-20", "2024-08-20", "00:00")
    blind = backtest(ForecastData(y=y), spec, "lear", issues, model_params=SHORT)
    spec_c = spec.replace(future_covariates=("load_fc",))
    seeing = backtest(ForecastData(y=y, future=cov.to_frame()), spec_c, "lear", issues,
                      model_params=SHORT)  # fmt: skip
    assert seeing.metrics()["model"]["mae"] < 0.8 * blind.metrics()["model"]["mae"]


def _versioned(cov: pd.Series, runs_h: int = 6, reach_h: int = 72) -> pd.DataFrame:
    """Forecast runs every ``runs_h`` hours, each covering ``reach_h`` hours with its own error."""
    rng = np.random.default_rng(3)
    rows = []
    for issue in pd.date_range(cov.index[0], cov.index[-1], freq=f"{runs_h}h"):
        target = pd.date_range(issue + H, periods=reach_h, freq="1h")
        target = target[target <= cov.index[-1]]
        vals = cov.reindex(target).to_numpy() + rng.normal(0, 1.0, len(target))
        rows.append(pd.DataFrame({"issue_time": issue, "target_time": target, "load_fc": vals}))
    return pd.concat(rows).set_index(["issue_time", "target_time"])


def test_versioned_covariate_and_target_after_the_issue_change_nothing(prices):
    y, cov = prices
    y, cov = y[: 150 * 24], cov[: 150 * 24]
    future = _versioned(cov)
    lag = {"y": pd.Timedelta("2h"), "load_fc": pd.Timedelta("1h")}
    spec = ForecastSpec(freq=H, horizon=24, lead=14, future_covariates=("load_fc",),
                        availability_lag=lag)  # fmt: skip
    issues = issue_schedule("2024-05-01", "2024-05-10", "10:00")
    cut = issues[-1]
    params = {"windows_days": (56, 84)}
    clean = backtest(ForecastData(y=y, future=future), spec, "lear", issues, retrain="weekly",
                     model_params=params)  # fmt: skip
    noisy_y = y.copy()
    late = noisy_y.index > cut - 3 * H  # not yet known at the last issue (1 h + 2 h lag)
    noisy_y[late] = np.random.default_rng(1).normal(0, 500, late.sum())
    noisy_f = future.copy()
    run = noisy_f.index.get_level_values("issue_time")
    late_runs = run > cut - lag["load_fc"]  # forecast runs not yet usable at the last issue
    noisy_f.loc[late_runs, "load_fc"] = np.random.default_rng(2).normal(0, 500, late_runs.sum())
    dirty = backtest(ForecastData(y=noisy_y, future=noisy_f), spec, "lear", issues,
                     retrain="weekly", model_params=params)  # fmt: skip
    cols = ["issue_time", "target_time", "step", "y_pred", *spec.quantile_columns]
    pd.testing.assert_frame_equal(clean.forecasts[cols], dirty.forecasts[cols])
    # and the check can fail: a run usable at the last issue does change its forecast
    usable = (run <= cut - lag["load_fc"]) & (run > cut - pd.Timedelta("1D"))
    peek_f = future.copy()
    peek_f.loc[usable, "load_fc"] += 50.0
    peek = backtest(ForecastData(y=y, future=peek_f), spec, "lear", issues[-1:],
                    model_params=params)  # fmt: skip
    last = clean.forecasts[clean.forecasts["issue_time"] == cut].reset_index(drop=True)
    assert not np.allclose(peek.forecasts["y_pred"], last["y_pred"])


def test_windows_longer_than_history_dropped_and_reported(prices):
    y, _ = prices
    data = ForecastData(y=y[: 110 * 24])
    spec = ForecastSpec(freq=H, horizon=24)
    until = pd.Timestamp("2024-04-15", tz="UTC")
    f = LEARForecaster(windows_days=(56, 84, 1092)).fit(data, spec, until=until)
    assert f.fit_info["windows_days"] == [56, 84]
    assert f.fit_info["windows_dropped"] == [1092]
    assert f.fit_info["history_days"] < 1092
    assert len(f.coefficients(3).columns) == 2


def test_too_short_history_refused_with_the_numbers(prices):
    y, _ = prices
    data = ForecastData(y=y[: 40 * 24])
    spec = ForecastSpec(freq=H, horizon=24)
    until = pd.Timestamp("2024-02-09", tz="UTC")
    with pytest.raises(InsufficientDataError, match=r"expected at least 56 days .*found \d+ days"):
        LEARForecaster(windows_days=(56, 84)).fit(data, spec, until=until)


@pytest.mark.parametrize("issue_day", ["2024-03-09", "2024-11-02"])
def test_dst_day_ahead_in_chicago(issue_day):
    y, cov = synthetic_prices(days=330, tz="America/Chicago", seed=4)
    data = ForecastData(y=y, future=cov.to_frame())
    spec = ForecastSpec(freq=H, horizon=24, lead=14, future_covariates=("load_fc",),
                        availability_lag={"y": H}, tz="America/Chicago")  # fmt: skip
    issue = issue_schedule(issue_day, issue_day, "10:00", "America/Chicago")
    f = LEARForecaster(**SHORT).fit(data, spec, until=issue[0])
    pred = f.predict(data, issue)
    assert len(pred) == 24
    assert np.isfinite(pred[["y_pred", *spec.quantile_columns]].to_numpy()).all()
    truth = y.reindex(pd.DatetimeIndex(pred["target_time"])).to_numpy()
    naive = make_forecaster("seasonal_naive").fit(data, spec, until=issue[0]).predict(data, issue)
    ok = np.isfinite(truth)
    assert (
        np.abs(truth[ok] - pred["y_pred"][ok]).mean()
        < np.abs(truth[ok] - naive["y_pred"][ok]).mean()
    )


def test_day_layout_slots_are_local_clock_time():
    spec = ForecastSpec(freq=H, horizon=24, tz="America/Chicago")
    lay = DayLayout(spec)
    spring = pd.date_range("2024-03-10 06:00", "2024-03-11 04:00", freq="1h", tz="UTC")
    day, slot = lay.day_slot(spring)
    assert len(set(day)) == 1
    assert len(spring) == 23
    assert 2 not in set(slot)  # 02:00 does not exist that day
    fall = pd.date_range(
        "2024-11-03 05:00", "2024-11-04 06:00", freq="1h", tz="UTC", inclusive="left"
    )
    day, slot = lay.day_slot(fall)
    assert len(set(day)) == 1
    assert len(fall) == 25
    assert list(slot).count(1) == 2  # 01:00 happens twice
    labels = lay.labels(np.repeat(day[0], 24), np.arange(24))
    assert pd.Timestamp(labels[1], tz="UTC") == pd.Timestamp("2024-11-03 06:00", tz="UTC")
    spring_labels = lay.labels(np.full(24, lay.day_slot(spring[:1])[0][0]), np.arange(24))
    assert (spring_labels == NAT).sum() == 1


def test_multi_day_horizon_fits_one_model_per_gap(prices):
    y, cov = prices
    data = ForecastData(y=y, future=cov.to_frame())
    spec = ForecastSpec(freq=H, horizon=48, future_covariates=("load_fc",))
    issue = pd.DatetimeIndex([pd.Timestamp("2024-06-01", tz="UTC")])
    f = LEARForecaster(**SHORT).fit(data, spec, until=issue[0])
    assert sorted(f.fit_info["gaps"]) == [1, 2]
    pred = f.predict(data, issue)
    assert len(pred) == 48
    assert np.isfinite(pred["y_pred"]).all()


def test_transform_round_trips():
    rng = np.random.default_rng(0)
    x = np.column_stack(
        [
            rng.standard_t(2, 500) * 30 + 40,  # heavy tails, price-like
            np.r_[np.zeros(300), rng.uniform(0, 900, 200)],  # MAD 0 (irradiance at night)
            np.full(500, 7.0),  # constant
        ]
    )
    x[3, 0] = 3000.0
    scaler = AsinhScaler.fit(x)
    z = scaler.transform(x)
    assert np.isfinite(z).all()
    np.testing.assert_allclose(scaler.inverse(z), x, rtol=1e-9, atol=1e-9)
    np.testing.assert_allclose(np.median(z[:, 0]), 0.0, atol=1e-12)
    assert abs(z[3, 0]) < 10  # a 3000 spike is compressed, not dominating
    assert (z[:, 2] == 0).all()


@pytest.mark.parametrize("n", [40, 400])
def test_lasso_is_sklearns_lassolarsic_aic(n):
    """The Gram-based, early-stopped path picks the same model as LassoLarsIC(criterion='aic')."""
    from sklearn.linear_model import LassoLarsIC

    rng = np.random.default_rng(n)
    z = rng.normal(size=(n, 120))
    z[:, 1:30] += z[:, :1]  # correlated inputs, as neighbouring hours are
    target = 0.8 * z[:, 0] - 0.5 * z[:, 7] + 0.3 * z[:, 60] + rng.normal(0, 0.5, n)
    coef, intercept, _ = LEARForecaster().lasso(z, target, centred_gram(z))
    ref = LassoLarsIC(criterion="aic", noise_variance=np.var(target)).fit(z, target)
    np.testing.assert_allclose(coef, ref.coef_, atol=1e-8)
    assert intercept == pytest.approx(ref.intercept_, abs=1e-8)
    assert np.count_nonzero(coef) < 30
