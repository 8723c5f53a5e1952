"""Load and price use cases on the ci lakehouse (gold tables): aligned data, no future actuals."""

from __future__ import annotations

import pandas as pd
import pytest

from workbench.forecasting.backtest import backtest, issue_schedule
from workbench.forecasting.features import build_features
from workbench.forecasting.pipeline import build_forecaster
from workbench.forecasting.usecases.load import load_usecase
from workbench.forecasting.usecases.price import node_region, price_usecase


@pytest.fixture
def north(ci_gold_catalog):
    return load_usecase(ci_gold_catalog, "NORTH")


def test_load_usecase_uses_catalog_lags_and_forecasts(north, ci_gold_catalog):
    spec, data = north.spec, north.data
    assert spec.lag("y") == pd.Timedelta(
        ci_gold_catalog.entry("gold.fact_load").availability_lag_td
    )
    assert spec.tz == "America/Chicago"
    assert spec.future_covariates == ("temperature_f", "relative_humidity_pct")
    assert data.future_is_versioned
    assert data.y.index.freq is None or data.y.index.freq == pd.Timedelta("1h")
    assert data.y.notna().mean() > 0.95
    # features at an issue only use forecasts issued at or before it
    issue = pd.Timestamp("2024-03-12 12:00", tz="UTC")
    feats = build_features(data, spec, [issue])
    issued = data.future.index.get_level_values("issue_time")
    usable = data.future[issued <= issue]
    latest = usable.groupby(level="target_time").tail(1).droplevel("issue_time")
    expected = latest["temperature_f"].reindex(pd.DatetimeIndex(feats["target_time"]))
    pd.testing.assert_series_equal(
        feats["f_fut_temperature_f"].reset_index(drop=True),
        expected.reset_index(drop=True).rename("f_fut_temperature_f"),
        check_dtype=False,
    )


def test_load_backtest_beats_seasonal_naive(north):
    issues = issue_schedule("2024-03-12", "2024-03-18", north.issue_time, north.spec.tz)
    params = {**north.model_params["lightgbm"], "n_estimators": 150}
    res = backtest(north.data, north.spec, "lightgbm", issues, model_params=params)
    m = res.metrics()
    assert m["model"]["n"] > 0.9 * len(issues) * north.spec.horizon
    assert m["skill"]["skill_mae"] > 0.1
    assert "f_holiday" in res.fits[0]["features"]


def test_day_ahead_price_targets_next_local_day(ci_gold_catalog):
    uc = price_usecase(ci_gold_catalog, "BUS_COAST", "DA")
    assert node_region("BUS_COAST") == "COAST"
    assert uc.spec.lead == 14
    issues = issue_schedule("2024-03-14", "2024-03-18", uc.issue_time, uc.spec.tz)
    res = backtest(uc.data, uc.spec, "lightgbm", issues, model_params={"n_estimators": 100})
    fc = res.forecasts
    first = fc[fc["step"] == 1]["target_time"].dt.tz_convert(uc.spec.tz)
    assert set(first.dt.hour) == {0}  # each issue at 10:00 covers the next local day
    assert fc["y_true"].notna().mean() > 0.9
    rt = price_usecase(ci_gold_catalog, "BUS_COAST", "RT")
    assert rt.spec.lead == 0
    # day-ahead prices: LEAR competes in auto and sits in the combination; RT keeps the defaults
    auto = build_forecaster("auto", case_params=uc.model_params)
    assert "lear" in auto.params["candidates"]
    assert "lear" in auto.params["candidate_params"]["combination"]["members"]
    assert auto.params["candidate_params"]["lightgbm"]["holidays_subdiv"] == "TX"
    assert "lear" not in build_forecaster("auto", case_params=rt.model_params).params["candidates"]


def test_rt_price_sees_day_ahead_prices_only_once_published(ci_gold_catalog):
    import numpy as np

    uc = price_usecase(ci_gold_catalog, "BUS_COAST", "RT")
    assert uc.spec.future_covariates[-1] == "da_price_usd_per_mwh"
    tz = uc.spec.tz
    spec = uc.spec.replace(horizon=36)
    da = ci_gold_catalog.read(
        "gold.fact_market_prices", where={"node": "BUS_COAST", "market_type": "DA"}
    )
    da = da.set_index(pd.to_datetime(da["timestamp"], utc=True))["lmp_price"]
    # published 13:00 local the day before, known 1 h later (the table's availability lag)
    for hour, tomorrow_known in ((12, False), (15, True)):
        issue = pd.Timestamp(f"2024-03-12 {hour}:00", tz=tz).tz_convert("UTC")
        f = build_features(uc.data, spec, [issue])
        local_day = f["target_time"].dt.tz_convert(tz).dt.day.to_numpy()
        got = f["f_fut_da_price_usd_per_mwh"].to_numpy()
        want = da.reindex(pd.DatetimeIndex(f["target_time"])).to_numpy()
        today, tomorrow = local_day == 12, local_day == 13
        assert np.allclose(got[today], want[today])
        if tomorrow_known:
            assert np.allclose(got[tomorrow], want[tomorrow])
        else:
            assert np.isnan(got[tomorrow]).all()
    assert "f_fut_da_price_usd_per_mwh" in set(f.columns)


# ------------------------------------------------------------ nothing dropped, nothing guessed
@pytest.fixture
def gold_copy(ci_medallion, tmp_path, monkeypatch):
    """A private copy of the ci lakehouse (silver and gold built) that a test may damage."""
    from tests.conftest import copy_home

    home = copy_home(ci_medallion, tmp_path / "home")
    monkeypatch.setenv("WORKBENCH_HOME", str(home))
    return home


def _sql(home, statement: str) -> None:
    import duckdb

    con = duckdb.connect(str(home / "warehouse.duckdb"))
    try:
        con.execute(statement)
    finally:
        con.close()


def test_missing_weather_forecasts_raise_unless_auto_is_asked(gold_copy):
    from workbench import open_catalog
    from workbench.forecasting.base import ForecastError

    _sql(gold_copy, "DROP TABLE silver.weather_forecast_hourly")
    with open_catalog() as cat:
        with pytest.raises(ForecastError, match=r"weather forecasts.*not built.*weather='auto'"):
            load_usecase(cat, "NORTH")
        with pytest.raises(ForecastError, match=r"weather forecasts.*not built"):
            price_usecase(cat, "BUS_COAST", "DA")
        uc = load_usecase(cat, "NORTH", weather="auto")
        assert uc.spec.future_covariates == ()
        assert any("weather='auto'" in note for note in uc.notes)
        with pytest.raises(ForecastError, match="expected weather=True"):
            load_usecase(cat, "NORTH", weather="maybe")


def test_no_weather_rows_for_the_location_raise(gold_copy):
    from workbench import open_catalog
    from workbench.forecasting.base import ForecastError

    _sql(gold_copy, "DELETE FROM silver.weather_forecast_hourly WHERE location_id = 'NORTH'")
    with open_catalog() as cat, pytest.raises(ForecastError, match=r"'NORTH'.*found no rows"):
        load_usecase(cat, "NORTH")


def test_unknown_region_time_zone_raises_instead_of_utc(gold_copy):
    from workbench import open_catalog
    from workbench.forecasting.base import ForecastError

    _sql(gold_copy, "UPDATE gold.dim_regions SET timezone = 'Bogus/Zone' WHERE region_id = 'NORTH'")
    _sql(gold_copy, "DELETE FROM gold.dim_regions WHERE region_id = 'COAST'")
    with open_catalog() as cat:
        with pytest.raises(ForecastError, match="found 'Bogus/Zone'"):
            load_usecase(cat, "NORTH")
        with pytest.raises(ForecastError, match=r"expected a region_id.*found 'COAST'"):
            price_usecase(cat, "BUS_COAST", "DA")
    _sql(gold_copy, "DROP TABLE gold.dim_regions")
    with open_catalog() as cat, pytest.raises(ForecastError, match=r"gold\.dim_regions built"):
        load_usecase(cat, "NORTH", weather="auto")


def test_gold_load_not_built_is_an_error_unless_silver_is_asked(gold_copy):
    from workbench import open_catalog
    from workbench.forecasting.base import ForecastError

    _sql(gold_copy, "DROP TABLE gold.fact_load")
    with open_catalog() as cat:
        with pytest.raises(ForecastError, match="source='silver'"):
            load_usecase(cat, "NORTH")
        uc = load_usecase(cat, "NORTH", source="silver")
        assert uc.data.y.notna().mean() > 0.95
        assert any("silver.system_load" in note for note in uc.notes)
