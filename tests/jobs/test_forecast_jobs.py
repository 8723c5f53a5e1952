"""The day-ahead load job for real: forecasts in gold, gold.fact_load filled like the medallion."""

from __future__ import annotations

from datetime import date

import pytest

from workbench.jobs.forecast_jobs import issue_time_for, target_hours
from workbench.jobs.models import seasonal_baseline
from workbench.jobs.runner import run_job
from workbench.jobs.spec import get_job_spec


def test_targets_are_the_next_local_days_across_dst():
    # 2024-03-10 is 23 hours long in Chicago: 48 targets from local midnight of the next day
    targets = target_hours(date(2024, 3, 9), "America/Chicago", 48)
    assert targets[0].isoformat() == "2024-03-10T06:00:00+00:00"  # midnight CST
    assert targets[24].isoformat() == "2024-03-11T06:00:00+00:00"  # 01:00 CDT
    assert issue_time_for(date(2024, 3, 11), "America/Chicago", 10).hour == 15  # 10:00 CDT


def test_seasonal_baseline_uses_only_known_history():
    import numpy as np
    import pandas as pd

    idx = pd.date_range("2024-03-01", periods=24 * 14, freq="h", tz="UTC")
    values = np.tile(np.arange(24, dtype=float), 14) + np.repeat(np.arange(14) * 100.0, 24)
    past = pd.DataFrame({"series": "a", "timestamp": idx, "value": values})
    targets = list(pd.date_range(idx[-1] + pd.Timedelta(hours=1), periods=48, freq="h"))
    out = seasonal_baseline(past, targets, pd.Timedelta(days=1), (0.1, 0.5, 0.9))
    assert len(out) == 48
    assert (out["q0.1"] <= out["q0.5"]).all()
    assert (out["q0.5"] <= out["q0.9"]).all()
    # day 1 ahead uses the last known day (+ its typical day-on-day change of +100)
    assert out["q0.5"].iloc[0] == pytest.approx(values[-24] + 100.0)
    assert out["q0.5"].iloc[24] == pytest.approx(values[-24] + 200.0)


@pytest.mark.notebook
def test_day_ahead_load_job_publishes_and_fills_fact_load(job_home):
    import pandas as pd

    from workbench import open_catalog
    from workbench.lake import gold

    spec = get_job_spec("day_ahead_load")
    first = run_job(spec, {"issue_date": "2024-03-18"})
    assert first.ok, first.last.error
    second = run_job(spec, {"issue_date": "2024-03-20"})
    assert second.ok, second.last.error
    metrics = second.last.metrics
    # the 03-18 forecast covered 03-19, whose actuals exist: its MAPE is the alert's metric
    assert 0 < metrics["mape_day_ahead_pct"] < 50
    assert metrics["series"] == 5
    # weekly retrain: Monday 03-18 trained the models, Wednesday reused them; the run log says so
    from workbench.jobs import runs as job_runs

    runs = job_runs.history("day_ahead_load").set_index("run_id")
    monday, wednesday = runs.metrics[first.last.run_id], runs.metrics[second.last.run_id]
    assert monday["retrain"] == wednesday["retrain"] == "weekly"
    assert monday["retrain_day"] == wednesday["retrain_day"] == "2024-03-18"
    assert (monday["models_trained"], wednesday["models_trained"]) == (5, 0)
    assert wednesday["model_source"].startswith("reused, trained for the weekly retrain of 2024")
    assert wednesday["model_key"] == monday["model_key"]
    assert wednesday["model_versions"] == monday["model_versions"]
    assert pd.Timestamp(wednesday["training_window"]["end"]) < pd.Timestamp(monday["issue_time"])
    # the production models forecast with the use case's covariates, as in the backtests
    from workbench.forecasting.registry import ModelRegistry

    model, _ = ModelRegistry().load_version("load_day_ahead-NORTH", "production")
    assert model.spec.future_covariates == ("temperature_f", "relative_humidity_pct")
    assert model.spec.tz == "America/Chicago"
    assert {"f_fut_temperature_f", "f_holiday"} <= set(model.fit_info["features"])

    with open_catalog(read_only=True) as cat:
        fc = cat.read("gold.load_forecasts")
        assert sorted(fc.run_key.unique()) == [
            "day_ahead_load:2024-03-18",
            "day_ahead_load:2024-03-20",
        ]
        assert len(fc) == 2 * 5 * 48 * 3  # runs × regions × hours × quantiles
        assert not fc.duplicated(["run_key", "region_id", "timestamp", "quantile"]).any()
        filled = cat.read("gold.fact_load", start="2024-03-19", end="2024-03-22")
        # what the medallion computes from silver and the stored forecasts, for the same hours
        expected = gold.fact_load(
            cat.scan("silver.system_load"),
            cat.scan("silver.weather_hourly"),
            cat.scan("gold.dim_regions"),
            cat.scan("gold.load_forecasts"),
        )
        lo, hi = filled.timestamp.min(), filled.timestamp.max()
        expected = expected.filter(
            (expected.timestamp >= lo.to_pydatetime()) & (expected.timestamp <= hi.to_pydatetime())
        ).to_pandas()
    expected["timestamp"] = pd.to_datetime(expected.timestamp, utc=True)
    assert filled.forecast_load_mw.notna().sum() > 5 * 24
    merged = filled.merge(expected, on=["region", "timestamp"], suffixes=("", "_medallion"))
    assert len(merged) == len(filled)
    both = merged.dropna(subset=["forecast_load_mw_medallion"])
    assert both.forecast_load_mw.to_numpy() == pytest.approx(
        both.forecast_load_mw_medallion.to_numpy()
    )
    assert (both.forecast_error - (both.actual_load_mw - both.forecast_load_mw)).abs().max() < 1e-9
