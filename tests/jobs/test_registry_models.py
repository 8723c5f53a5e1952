"""Forecast jobs through the model registry: train and promote once, reuse, never leak."""

from __future__ import annotations

from datetime import date

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


def test_production_model_is_trained_once_then_reused_and_backfills_do_not_leak(
    job_home, test_model
):
    from workbench import open_catalog
    from workbench.forecasting.registry import ModelRegistry
    from workbench.jobs.models import forecast_series

    cat, job, tz = open_catalog(read_only=True), JOBS["load"], "America/Chicago"

    def forecast(day: date):
        issue = issue_time_for(day, tz, 10)
        targets = target_hours(day, tz, 48)
        past = history(cat, job, issue, 14)
        return forecast_series(
            cat, "load_test", job, past, issue, targets, (0.1, 0.5, 0.9), model_kind=test_model
        )

    frame, label, info = forecast(date(2024, 3, 18))
    assert label == "test_hourly_mean"
    assert info["model_source"] == "trained and registered as production (5 series)"
    assert len(frame) == 5 * 48
    assert (frame["q0.1"] < frame["q0.9"]).all()
    registry = ModelRegistry()
    assert registry.root.startswith(str(job_home))  # the private copy, not the shared fixture
    assert sorted(registry.list_models()) == sorted(
        f"load_test-{r}" for r in ("COAST", "HOUSTON", "NORTH", "SOUTH", "WEST")
    )
    assert registry.get("load_test-NORTH").stage == "production"

    _, _, info = forecast(date(2024, 3, 20))
    assert info["model_source"] == "production model (5 series)"
    assert info["model_versions"] == dict.fromkeys(info["model_versions"], 1)

    # an issue before the production model's training window ended: fit for it, keep production
    _, _, info = forecast(date(2024, 3, 12))
    assert info["model_source"] == "fitted for this backfill issue (not registered) (5 series)"
    assert [v.version for v in registry.history("load_test-NORTH")] == [1]


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
