"""Forecast jobs through the model registry (MLflow): weekly retrain, reuse by key, never leak."""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
import pytest

from workbench.forecasting.base import Forecaster, forecast_grid
from workbench.jobs.forecast_jobs import JOBS, history, issue_time_for, target_hours


class HourlyMean(Forecaster):
    """The mean of each UTC hour over what was known at fit time (a test model)."""

    name = "test_hourly_mean"

    def fit(self, data, spec, *, until=None):
        last = spec.last_known_label([until])[0] if until is not None else data.y.index[-1]
        known = data.y[data.y.index <= last].dropna()
        self.by_hour_ = known.groupby(known.index.hour).mean()
        self.spread_ = float(known.std())
        self.spec = spec
        return self

    def predict(self, data, issue_times):
        import pandas as pd

        grid = forecast_grid(issue_times, self.spec)
        hours = pd.DatetimeIndex(grid.target_time).hour
        grid["y_pred"] = self.by_hour_.reindex(hours).to_numpy()
        for q, z in zip(self.spec.quantiles, (-1.28, 0.0, 1.28), strict=True):
            grid[f"q{q:g}"] = grid["y_pred"] + z * self.spread_
        return grid


@pytest.fixture
def test_model():
    from workbench.forecasting import base

    base.add_model("test_hourly_mean", HourlyMean, overwrite=True)
    yield "test_hourly_mean"
    base._MODEL_NAMES.pop("test_hourly_mean", None)


@pytest.fixture
def local_store(job_home, monkeypatch):
    """The job home's own MLflow store (never a server named in the environment)."""
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    return job_home


def _weekly(day: date, tz: str = "America/Chicago", window: int = 14):
    """The weekly cadence of ``day`` (its Monday's model) and the days of history it needs."""
    from workbench.jobs.registry_models import Training
    from workbench.jobs.training import retrain_day

    monday = retrain_day(day, "weekly")
    return Training("weekly", monday, issue_time_for(monday, tz, 10), window), window + (
        day - monday
    ).days


def test_weekly_models_are_trained_on_the_retrain_day_reused_in_the_week_and_never_leak(
    local_store, test_model
):
    job_home = local_store
    from workbench import open_catalog
    from workbench.forecasting.registry import ModelRegistry
    from workbench.jobs.models import forecast_series

    cat, job, tz = open_catalog(read_only=True), JOBS["load"], "America/Chicago"

    def forecast(day: date):
        issue = issue_time_for(day, tz, 10)
        training, days = _weekly(day)
        past = history(cat, job, issue, days)
        return forecast_series(
            cat, "load_test", job, past, issue, target_hours(day, tz, 48), (0.1, 0.5, 0.9),
            model_kind=test_model, training=training,
        )  # fmt: skip

    # Monday 2024-03-18: the retrain day trains every series and registers them as champions
    frame, label, info = forecast(date(2024, 3, 18))
    assert label == "test_hourly_mean"
    assert info["model_source"] == (
        "trained in this run for the weekly retrain of 2024-03-18 (5 series)"
    )
    assert info["models_trained"] == 5
    assert info["model_trained_until"] == "2024-03-18T15:00:00+00:00"  # 10:00 CDT
    assert info["model_key"].startswith("load_test|test_hourly_mean|until=2024-03-18T15:00")
    assert info["training_window"]["end"] == "2024-03-18 13:00:00+00:00"  # 1 h lag
    assert len(frame) == 5 * 48
    assert (frame["q0.1"] < frame["q0.9"]).all()
    registry = ModelRegistry()
    assert registry.root == f"sqlite:///{job_home / 'mlflow' / 'mlflow.db'}"  # the private copy
    assert sorted(registry.list_models()) == sorted(
        f"load_test-{r}" for r in ("COAST", "HOUSTON", "NORTH", "SOUTH", "WEST")
    )
    assert registry.get("load_test-NORTH").stage == "champion"
    monday = info

    # Wednesday of the same week: the Monday model, loaded and not refitted
    _, _, info = forecast(date(2024, 3, 20))
    assert info["model_source"] == "reused, trained for the weekly retrain of 2024-03-18 (5 series)"
    assert info["models_trained"] == 0
    assert (
        info["model_versions"]
        == monday["model_versions"]
        == dict.fromkeys(monday["model_versions"], 1)
    )
    assert info["model_key"] == monday["model_key"]
    assert info["training_window"] == monday["training_window"]

    # a backfill into the week before: its own Monday model (trained on what 03-11 knew),
    # registered without replacing the champion, then reused by the next day of that week
    _, _, info = forecast(date(2024, 3, 12))
    assert info["model_source"] == (
        "trained in this run for the weekly retrain of 2024-03-11 (5 series)"
    )
    assert info["training_window"]["end"] == "2024-03-11 13:00:00+00:00"
    assert [v.version for v in registry.history("load_test-NORTH")] == [1, 2]
    assert registry.get("load_test-NORTH").version == 1  # still the champion

    # a champion promoted by a person but trained after the issue is never used for it: the
    # next day of that week reuses its Monday model, found by key among the versions
    later = registry.get("load_test-NORTH", version=1)
    model = registry.load("load_test-NORTH", version=1)
    v3 = registry.register(
        "load_test-NORTH", model, training_window=later.metadata["training_window"]
    )
    registry.promote("load_test-NORTH", v3, force=True, reason="test: a person's champion")
    _, _, info = forecast(date(2024, 3, 13))
    assert info["models_trained"] == 0
    assert info["model_versions"] == dict.fromkeys(info["model_versions"], 2)
    assert info["training_window"]["end"] == "2024-03-11 13:00:00+00:00"
    assert "registry_champion_series" not in info


def test_a_model_trained_after_the_issue_time_is_refused():
    import pandas as pd

    from workbench.jobs.training import TrainedModelError, check_no_peek, retrain_day

    issue_known = pd.Timestamp("2024-03-12 14:00", tz="UTC")
    check_no_peek(issue_known, issue_known, "m v1")  # up to the last known hour: fine
    with pytest.raises(TrainedModelError, match="expected a model trained on data up to"):
        check_no_peek(issue_known + pd.Timedelta(hours=1), issue_known, "m v1")
    with pytest.raises(TrainedModelError, match="found none"):
        check_no_peek(None, issue_known, "m v1")
    # the retrain day of a week is never after its issues
    days = [date(2024, 3, 10) + pd.Timedelta(days=i) for i in range(14)]
    assert {retrain_day(d, "weekly").weekday() for d in days} == {0}
    assert all(0 <= (d - retrain_day(d, "weekly")).days < 7 for d in days)
    assert all(retrain_day(d, "daily") == d for d in days)
    with pytest.raises(TrainedModelError, match="expected retrain in"):
        retrain_day(days[0], "hourly")


def test_the_job_forecasts_with_the_champion_read_from_mlflow(local_store, test_model):
    import copy

    from workbench import open_catalog
    from workbench.forecasting.registry import ModelRegistry
    from workbench.jobs.models import forecast_series

    cat, job, tz = open_catalog(read_only=True), JOBS["load"], "America/Chicago"

    def forecast(day: date):
        issue = issue_time_for(day, tz, 10)
        training, days = _weekly(day)
        past = history(cat, job, issue, days)
        frame, _, info = forecast_series(
            cat, "load_test", job, past, issue, target_hours(day, tz, 48), (0.1, 0.5, 0.9),
            model_kind=test_model, training=training,
        )  # fmt: skip
        return frame.sort_values(["series", "timestamp"]).reset_index(drop=True), info

    forecast(date(2024, 3, 18))  # trains v1 of every series and makes it champion
    registry = ModelRegistry()
    champion, v1 = registry.load_version("load_test-NORTH")
    assert v1.version == 1
    before, info = forecast(date(2024, 3, 20))
    assert info["model_versions"]["NORTH"] == 1
    # v2: the same model shifted by 100 MW, registered as challenger: the job ignores it
    shifted = copy.deepcopy(champion)
    shifted.by_hour_ = shifted.by_hour_ + 100.0
    v2 = registry.register(
        "load_test-NORTH", shifted, training_window=v1.metadata["training_window"],
        stage="challenger",
    )  # fmt: skip
    assert v2 == 2
    with_challenger, info = forecast(date(2024, 3, 20))
    pd.testing.assert_frame_equal(with_challenger, before)
    assert info["model_versions"]["NORTH"] == 1
    # promoted (forced: v1, trained by the job, has no backtest to compare): the job follows
    registry.promote("load_test-NORTH", v2, force=True, reason="test: shifted by 100 MW")
    after, info = forecast(date(2024, 3, 20))
    assert info["model_versions"]["NORTH"] == 2
    assert info["model_source"] == (
        "reused, trained for the weekly retrain of 2024-03-18 (4 series), "
        "registry champion promoted by a person (no retrain by the job) (1 series)"
    )
    assert info["registry_champion_series"] == ["NORTH"]
    north = after.series == "NORTH"
    cols = ["q0.1", "q0.5", "q0.9"]
    np.testing.assert_allclose(after.loc[north, cols], before.loc[north, cols] + 100.0)
    pd.testing.assert_frame_equal(after[~north], before[~north])
    assert registry.events("load_test-NORTH")[-1]["reason"] == "test: shifted by 100 MW"


def test_an_unknown_model_is_refused_never_replaced_by_the_baseline(ci_gold_catalog):
    # defect 1: UnknownModelError was caught as a KeyError and the baseline published
    from workbench.jobs.models import forecast_series
    from workbench.jobs.spec import JobSpecError

    cat, job, tz = ci_gold_catalog, JOBS["price"], "America/Chicago"
    issue = issue_time_for(date(2024, 3, 18), tz, 10)
    past = history(cat, job, issue, 14)
    targets = target_hours(date(2024, 3, 18), tz, 48)
    for name in ("no_such_model", "sktime:NoSuch"):
        with pytest.raises(JobSpecError, match=f"found '{name}'"):
            forecast_series(
                cat, "p", job, past, issue, targets, (0.1, 0.5, 0.9), model_kind=name,
                fallback="seasonal_baseline",
            )  # fmt: skip


def _needs_extra(**params):
    from workbench.core.errors import MissingExtraError

    raise MissingExtraError("imaginary_lib", "imaginary", feature="the test model")


def test_a_missing_extra_falls_back_only_when_declared_and_says_degraded(
    ci_gold_catalog, tmp_path, monkeypatch
):
    from workbench.core.errors import MissingExtraError
    from workbench.forecasting import base
    from workbench.jobs.context import SIDECAR_ENV, read_sidecar
    from workbench.jobs.models import forecast_series

    base.add_model("test_needs_extra", _needs_extra, overwrite=True)
    sidecar = tmp_path / "run.json"
    monkeypatch.setenv(SIDECAR_ENV, str(sidecar))
    try:
        cat, job, tz = ci_gold_catalog, JOBS["price"], "America/Chicago"
        issue = issue_time_for(date(2024, 3, 18), tz, 10)
        past = history(cat, job, issue, 14)
        targets = target_hours(date(2024, 3, 18), tz, 48)
        args = (cat, "p", job, past, issue, targets, (0.1, 0.5, 0.9))
        with pytest.raises(MissingExtraError, match="imaginary"):
            forecast_series(*args, model_kind="test_needs_extra")
        assert read_sidecar(sidecar)["degraded"] == []
        frame, label, info = forecast_series(
            *args, model_kind="test_needs_extra", fallback="seasonal_baseline"
        )
    finally:
        base._MODEL_NAMES.pop("test_needs_extra", None)
    assert label == "seasonal_baseline_1d"
    assert frame.series.nunique() == 5
    assert "'test_needs_extra' unavailable" in info["degraded"]
    assert read_sidecar(sidecar)["degraded"] == [info["degraded"]]
