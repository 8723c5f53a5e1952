"""Clear-sky normalisation, smart persistence and the 0-6 h solar/wind nowcasts."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from tests.forecasting.conftest import run_cli
from workbench.forecasting.backtest import backtest, issue_schedule
from workbench.forecasting.base import ForecastData, ForecastError, ForecastSpec, make_forecaster
from workbench.forecasting.clearsky import PvlibProfile, check_location, clear_sky_ghi

LAT, LON = 30.3, -97.7
H = pd.Timedelta("1h")
FAST = {"n_estimators": 40}


def solar(days: int = 40, seed: int = 0, constant: float | None = None) -> pd.Series:
    """Output [MW] = 0.5 x clear-sky GHI x a daily clear-sky index (random or constant)."""
    idx = pd.date_range("2024-03-01", periods=days * 24, freq="1h", tz="UTC")
    ghi = clear_sky_ghi(idx, LAT, LON, H)
    rng = np.random.default_rng(seed)
    daily = rng.uniform(0.3, 1.0, days) if constant is None else np.full(days, constant)
    return pd.Series(0.5 * ghi * np.repeat(daily, 24), index=idx, name="mw")


def spec24(**kw) -> ForecastSpec:
    return ForecastSpec(freq=H, horizon=24, availability_lag={"y": H}, tz="America/Chicago", **kw)


def run(y, model, params, spec=None, issues=None, past=None):
    spec = spec or spec24()
    issues = issues if issues is not None else issue_schedule("2024-03-25", "2024-04-08", "00:00",
                                                              spec.tz)  # fmt: skip
    data = ForecastData(y=y, past=past)
    return backtest(data, spec, model, issues, retrain="weekly", baseline=None,
                    model_params=params)  # fmt: skip


# ------------------------------------------------------------------------------ clear-sky wrapper
@pytest.mark.parametrize(
    ("model", "params"),
    [
        ("clearsky:lightgbm", FAST),
        ("clearsky:lightgbm", {**FAST, "latitude": LAT, "longitude": LON}),
        ("smart_persistence", {}),
        ("smart_persistence", {"latitude": LAT, "longitude": LON}),
    ],
)
def test_night_steps_are_exactly_zero(model, params) -> None:
    res = run(solar(), model, params)
    fc = res.forecasts
    ghi = clear_sky_ghi(pd.DatetimeIndex(fc["target_time"]), LAT, LON, H)
    night = ghi == 0
    assert night.sum() > 100
    assert (~night).sum() > 100
    for col in ("y_pred", "q0.1", "q0.5", "q0.9"):
        assert (fc.loc[night, col] == 0.0).all()
    assert (fc.loc[ghi > 100, "y_pred"] > 0).all()  # twilight may round to 0, the day not
    assert res.metrics()["model"]["mae"] < 0.5 * fc["y_true"].mean()


def test_round_trip_of_a_constant_index() -> None:
    y = solar(constant=0.8)
    res = run(y, "smart_persistence", {"latitude": LAT, "longitude": LON})
    fc = res.forecasts
    lit = fc["y_pred"] > 0
    np.testing.assert_allclose(fc.loc[lit, "y_pred"], fc.loc[lit, "y_true"], rtol=1e-6)
    # below night_share (2 %) of the day's peak the forecast is 0: night and deep twilight
    assert (fc.loc[~lit, "y_true"] < 0.02 * fc["y_true"].max()).all()
    # the empirical envelope is learned, not exact: the round trip holds to a few percent
    env = run(y, "smart_persistence", {}).forecasts
    day = env["y_true"] > 0.2 * env["y_true"].max()
    rel = np.abs(env.loc[day, "y_pred"] / env.loc[day, "y_true"] - 1)
    assert rel.median() < 0.03


def test_envelope_uses_only_training_data() -> None:
    y = solar(seed=3)
    spec = spec24()
    cut = pd.Timestamp("2024-03-25 05:00", tz="UTC")
    last_known = spec.last_known_label([cut])[0]
    spiked = y.copy()
    spiked[spiked.index > last_known] *= 50.0
    fits = [make_forecaster("clearsky:seasonal_naive").fit(ForecastData(y=s), spec, until=cut)
            for s in (y, spiked)]  # fmt: skip
    np.testing.assert_array_equal(fits[0].profile_(y.index), fits[1].profile_(y.index))
    issues = [cut]
    a, b = (f.predict(ForecastData(y=s), issues) for f, s in zip(fits, (y, spiked), strict=True))
    pd.testing.assert_frame_equal(a, b)
    # the check can fail: the same spike before the cut-off moves the envelope
    early = y.copy()
    early[(early.index > last_known - pd.Timedelta("5D")) & (early.index <= last_known)] *= 50.0
    moved = make_forecaster("clearsky:seasonal_naive").fit(ForecastData(y=early), spec, until=cut)
    assert not np.allclose(moved.profile_(y.index), fits[0].profile_(y.index))


@pytest.mark.parametrize("lon", [-97.7, 10.0, 151.2])
def test_pvlib_profile_peaks_near_solar_noon(lon) -> None:
    day = pd.date_range("2024-03-20", periods=24, freq="1h", tz="UTC")
    profile = PvlibProfile(LAT if lon < 100 else -33.9, lon, H, factor=1.0)(day)
    peak_h = (day[int(np.argmax(profile))].hour + 0.5) % 24  # mid-interval
    noon_h = (12.0 - lon / 15.0) % 24
    assert min(abs(peak_h - noon_h), 24 - abs(peak_h - noon_h)) <= 1.0
    assert profile.min() == 0.0  # night


@pytest.mark.parametrize(
    ("lat", "lon", "message"),
    [
        (95.0, 0.0, "expected latitude in \\[-90, 90\\]"),
        (0.0, -181.0, "expected longitude in \\[-180, 180\\]"),
        (45.0, None, "together; found only --latitude"),
        (None, 3.0, "together; found only --longitude"),
    ],
)
def test_bad_location_is_refused(lat, lon, message) -> None:
    with pytest.raises(ForecastError, match=message):
        check_location(lat, lon)
    with pytest.raises(ForecastError, match=message):
        make_forecaster("clearsky:seasonal_naive", latitude=lat, longitude=lon)


def test_inner_parameters_are_checked() -> None:
    with pytest.raises(ForecastError, match="n_estimatorz"):
        make_forecaster("clearsky:lightgbm", n_estimatorz=3)
    assert check_location(None, None) is None


# ----------------------------------------------------------------------------------------- CLI
@pytest.fixture
def solar_csv(tmp_path):
    y = solar(days=30)
    path = tmp_path / "solar.csv"
    pd.DataFrame({"time": y.index.strftime("%Y-%m-%dT%H:%M:%SZ"), "mw": y.round(3)}).to_csv(
        path, index=False
    )
    return path


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--latitude", "95", "--longitude", "0"], "expected latitude in [-90, 90] degrees"),
        (["--longitude", "200", "--latitude", "0"], "expected longitude in [-180, 180] degrees"),
        (["--latitude", "30"], "expected --latitude and --longitude together"),
        (
            ["--latitude", "30", "--longitude", "-97", "--model", "lightgbm"],
            "expected --model clearsky:<inner> or smart_persistence",
        ),
    ],
)
def test_cli_refuses_bad_location(monkeypatch, capsys, tmp_path, solar_csv, extra, message):
    out = tmp_path / "fc.parquet"
    args = ["forecast", "backtest", str(solar_csv), "--time-col", "time", "--target", "mw",
            "--output", str(out), *extra]  # fmt: skip
    code, _, err = run_cli(monkeypatch, capsys, *args)
    assert code != 0
    assert message in " ".join(err.split())
    assert len([line for line in err.strip().splitlines() if line.strip()]) <= 3
    assert not out.exists()


def test_cli_clearsky_with_location(monkeypatch, capsys, tmp_path, solar_csv):
    out = tmp_path / "fc.parquet"
    code, _, err = run_cli(
        monkeypatch, capsys, "forecast", "backtest", str(solar_csv), "--time-col", "time",
        "--target", "mw", "--model", "clearsky:seasonal_naive", "--latitude", str(LAT),
        "--longitude", str(LON), "--test-start", "2024-03-20", "--test-end", "2024-03-28",
        "--output", str(out),
    )  # fmt: skip
    assert code == 0, err
    fc = pd.read_parquet(out)
    night = clear_sky_ghi(pd.DatetimeIndex(fc["target_time"]), LAT, LON, H) == 0
    assert (fc.loc[night, "y_pred"] == 0).all()
    assert (fc.loc[~night, "y_pred"] > 0).any()


# ------------------------------------------------------------------------ satellite nowcast model
def cloudy_hours(days: int = 30, seed: int = 1) -> tuple[pd.Series, pd.DataFrame]:
    """Hourly clear-sky index as an AR(1) process; 'clouds' = 1 - index, known 1 h earlier
    than the output (lag 0 against the output's 1 h)."""
    idx = pd.date_range("2024-03-01", periods=days * 24, freq="1h", tz="UTC")
    rng = np.random.default_rng(seed)
    kc = np.empty(len(idx))
    kc[0] = 0.7
    for i in range(1, len(idx)):
        kc[i] = np.clip(0.7 + 0.9 * (kc[i - 1] - 0.7) + rng.normal(0, 0.12), 0.05, 1.1)
    y = pd.Series(0.5 * clear_sky_ghi(idx, LAT, LON, H) * kc, index=idx, name="mw")
    clouds = pd.DataFrame({"clouds": 1.0 - kc + rng.normal(0, 0.02, len(idx))}, index=idx)
    return y, clouds


def nowcast_spec(past: bool = True) -> ForecastSpec:
    return ForecastSpec(freq=H, horizon=6, availability_lag={"y": H, "clouds": pd.Timedelta(0)},
                        past_covariates=("clouds",) if past else (), tz="UTC")  # fmt: skip


def daylight_issues(start: str, end: str) -> pd.DatetimeIndex:
    issues = pd.date_range(start, end, freq="1h", tz="UTC")
    return issues[clear_sky_ghi(issues, LAT, LON, H) > 300]


def test_satellite_nowcast_uses_fresher_clouds() -> None:
    y, clouds = cloudy_hours(days=60)  # the correction's rows come from a base fitted a
    issues = daylight_issues("2024-04-20", "2024-04-27")  # week earlier: give it history
    params = {**FAST, "latitude": LAT, "longitude": LON, "issues_per_day": 24}
    sat = run(y, "satellite_nowcast", params, nowcast_spec(), issues, clouds)
    base = run(y, "clearsky:lightgbm", params, nowcast_spec(False), issues)
    persistence = run(y, "seasonal_naive", {"season": "1h"}, nowcast_spec(False), issues)
    mae = {k: r.metrics()["model"]["mae"] for k, r in
           {"sat": sat, "base": base, "persistence": persistence}.items()}  # fmt: skip
    assert mae["sat"] < 0.9 * mae["base"] < 0.9 * mae["persistence"]
    assert "cross-validated gain" in sat.fits[0]["correction"]["1"]
    # useless clouds (noise) are dropped by the cross-validation: the base forecast stands
    noise = clouds.assign(clouds=np.random.default_rng(0).uniform(0, 1, len(clouds)))
    blind = run(y, "satellite_nowcast", params, nowcast_spec(), issues, noise)
    assert blind.metrics()["model"]["mae"] < 1.05 * mae["base"]


@pytest.mark.parametrize("model", ["satellite_nowcast", "clearsky:lightgbm", "smart_persistence"])
def test_nowcast_models_do_not_peek(model) -> None:
    y, clouds = cloudy_hours(seed=4)
    spec = nowcast_spec(model == "satellite_nowcast")
    issues = daylight_issues("2024-03-24", "2024-03-27")
    cut = issues[-1]
    params = {"latitude": LAT, "longitude": LON}
    params |= {} if model == "smart_persistence" else {**FAST, "issues_per_day": 24}
    noisy_y, noisy_c = y.copy(), clouds.copy()
    rng = np.random.default_rng(9)
    late_y = noisy_y.index > spec.last_known_label([cut])[0]
    late_c = noisy_c.index > spec.last_known_label([cut], "clouds")[0]
    noisy_y[late_y] = rng.uniform(0, 1000, late_y.sum())
    noisy_c.loc[late_c, "clouds"] = rng.uniform(0, 1, late_c.sum())
    clean = run(y, model, params, spec, issues, clouds).forecasts
    dirty = run(noisy_y, model, params, spec, issues, noisy_c).forecasts
    cols = ["issue_time", "target_time", "step", "y_pred", "q0.1", "q0.5", "q0.9"]
    pd.testing.assert_frame_equal(clean[cols], dirty[cols])
    # and the check can fail: values known at the last issue do move its forecast
    known = (noisy_y.index > cut - pd.Timedelta("2D")) & ~late_y
    noisy_y[known] *= 0.3
    noisy_c.loc[(noisy_c.index > cut - pd.Timedelta("2D")) & ~late_c, "clouds"] = 0.9
    peek = run(noisy_y, model, params, spec, issues[-1:], noisy_c).forecasts
    last = clean[clean["issue_time"] == cut].reset_index(drop=True)
    assert not np.allclose(peek["y_pred"], last["y_pred"])


# ----------------------------------------------------------------------------- ci lakehouse
@pytest.mark.slow
def test_solar_nowcast_on_ci_beats_persistence(ci_gold_catalog) -> None:
    from workbench.forecasting.usecases.nowcast import (
        FRAME_COLUMNS,
        nowcast_backtest,
        nowcast_issues,
        nowcast_usecase,
    )

    case = nowcast_usecase(ci_gold_catalog, "SOLAR_NORTH_01", kind="solar")
    assert case.model == "clearsky:lightgbm"
    assert case.satellite_model == "satellite_nowcast"
    assert case.spec.past_covariates == FRAME_COLUMNS
    # the last frame of an hour (h:45) is known 15 min later: at the hour's end
    assert case.spec.lag(FRAME_COLUMNS[0]) == pd.Timedelta(0)
    assert case.spec.lag("y") == pd.Timedelta("1h")
    assert case.data.past[FRAME_COLUMNS[0]].notna().sum() >= 8  # the ci satellite day
    issues = nowcast_issues(case, "2024-03-20", "2024-03-21")
    assert len(issues) >= 16  # daylight issues only (the horizon sees the sun)
    table, results = nowcast_backtest(case, issues)
    assert list(table.columns) == [
        "clearsky:lightgbm", "satellite_nowcast", "persistence", "smart_persistence"
    ]  # fmt: skip
    assert list(table.index) == [1, 2, 3, 4, 5, 6, "all"]
    for model in ("clearsky:lightgbm", "satellite_nowcast"):
        assert table.loc["all", model] < 0.8 * table.loc["all", "persistence"]
    fc = results["satellite_nowcast"].forecasts
    assert fc["step"].max() == 6
    assert fc["issue_time"].nunique() == len(issues)


@pytest.mark.slow
def test_wind_nowcast_on_ci_beats_persistence(ci_gold_catalog) -> None:
    from workbench.forecasting.usecases.nowcast import (
        nowcast_backtest,
        nowcast_issues,
        nowcast_usecase,
    )

    first = pd.Timestamp("2024-03-16", tz="UTC")
    case = nowcast_usecase(ci_gold_catalog, "WIND_NORTH_01", kind="wind", train_end=first)
    issues = nowcast_issues(case, "2024-03-16", "2024-03-19")
    assert len(issues) == 4 * 24
    table, _ = nowcast_backtest(case, issues)
    assert table.loc["all", "lightgbm"] < 0.9 * table.loc["all", "persistence"]
    with pytest.raises(ForecastError, match=r"expected horizon_h in 1\.\.6"):
        nowcast_usecase(ci_gold_catalog, "WIND_NORTH_01", kind="wind", horizon_h=12)


@pytest.mark.slow
def test_cli_nowcast_usecase(ci_gold_catalog, monkeypatch, capsys, tmp_path) -> None:
    import json

    out, rep = tmp_path / "nowcast.parquet", tmp_path / "nowcast.json"
    code, _, err = run_cli(
        monkeypatch, capsys, "forecast", "backtest", "--usecase", "solar_nowcast", "--asset",
        "SOLAR_NORTH_01", "--test-start", "2024-03-21", "--test-end", "2024-03-21",
        "--output", str(out), "--report", str(rep),
    )  # fmt: skip
    assert code == 0, err
    report = json.loads(rep.read_text())
    assert report["model"] == "clearsky:lightgbm"
    lead = report["mae_by_lead_mw"]
    assert lead["clearsky:lightgbm"]["all"] < lead["persistence"]["all"]
    assert "satellite_nowcast" in lead
    assert pd.read_parquet(out)["step"].max() == 6
    code, _, err = run_cli(
        monkeypatch, capsys, "forecast", "backtest", "--usecase", "tidal_nowcast", "--asset",
        "X", "--test-start", "2024-03-21", "--test-end", "2024-03-21", "--output", str(out),
    )  # fmt: skip
    assert code != 0
    assert "expected --usecase in" in " ".join(err.split())
