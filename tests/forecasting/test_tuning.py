"""Optuna tuning: persistent resumable studies, seeded determinism, pruning by fold scores."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from workbench.forecasting.base import ForecastData, ForecastSpec, InsufficientDataError
from workbench.forecasting.tuning import SEARCH_SPACES, TuningError, tune

# one thread: LightGBM's OpenMP spin-waits badly on a shared 2-core machine
FIXED = {"issues_per_day": 1, "num_threads": 1}


@pytest.fixture(scope="module")
def problem() -> tuple[ForecastData, ForecastSpec]:
    idx = pd.date_range("2024-01-01", periods=24 * 30, freq="1h", tz="UTC")
    rng = np.random.default_rng(0)
    daily = 20 * np.sin(2 * np.pi * idx.hour / 24)
    weekly = 8 * (idx.dayofweek >= 5)
    y = pd.Series(100 + daily - weekly + rng.normal(0, 3, len(idx)), index=idx, name="load_mw")
    return ForecastData(y=y), ForecastSpec(freq=pd.Timedelta("1h"), horizon=24)


def small_space(trial):
    """A cheap LightGBM space with good and clearly bad corners (tiny learning rates)."""
    return {
        "n_estimators": trial.suggest_int("n_estimators", 20, 60, step=20),
        "learning_rate": trial.suggest_float("learning_rate", 1e-3, 0.3, log=True),
        "num_leaves": trial.suggest_int("num_leaves", 4, 16),
    }


def test_study_persists_in_workbench_home_and_resumes(problem, workbench_home: Path) -> None:
    import optuna

    data, spec = problem
    kw = {
        "study_name": "load_a",
        "validation_days": 4,
        "n_folds": 2,
        "search_space": small_space,
        "fixed_params": FIXED,
        "seed": 3,
    }
    first = tune(data, spec, "lightgbm", n_trials=3, **kw)
    db = workbench_home / "optuna.db"
    assert db.is_file()
    assert first.storage == f"sqlite:///{db}"
    assert first.n_complete + first.n_pruned == 3
    second = tune(data, spec, "lightgbm", n_trials=2, **kw)
    study = optuna.load_study(study_name="load_a", storage=second.storage)
    assert len(study.trials) == 5
    assert second.n_complete + second.n_pruned == 5
    assert second.best_value <= first.best_value
    params = [tuple(sorted(t.params.items())) for t in study.trials]
    assert len(set(params)) == 5  # the continuation explored new points, not a replay
    assert study.user_attrs == {"model": "lightgbm", "metric": "mae"}
    # best params make a working forecaster with the fixed ones merged in
    model = second.make_forecaster()
    assert model.params["num_threads"] == 1
    assert model.params["learning_rate"] == second.best_params["learning_rate"]


def test_same_seed_gives_same_best_params(problem, tmp_path: Path) -> None:
    data, spec = problem
    storage = f"sqlite:///{tmp_path / 'studies.db'}"
    runs = [
        tune(
            data,
            spec,
            "lightgbm",
            study_name=name,
            storage=storage,
            n_trials=3,
            validation_days=3,
            n_folds=1,
            seed=11,
            fixed_params={**FIXED, "n_estimators": 40},
        )
        for name in ("run_1", "run_2")
    ]
    assert "lightgbm" in SEARCH_SPACES  # the declared space was used
    assert runs[0].best_params == runs[1].best_params
    assert runs[0].best_value == runs[1].best_value
    pd.testing.assert_frame_equal(runs[0].trials, runs[1].trials)
    assert {"num_leaves", "learning_rate", "min_data_in_leaf"} <= set(runs[0].best_params)


def test_median_pruner_stops_bad_trials(problem) -> None:
    import optuna

    data, spec = problem
    result = tune(
        data,
        spec,
        "lightgbm",
        study_name="prune",
        n_trials=8,
        validation_days=6,
        n_folds=3,
        search_space=small_space,
        fixed_params=FIXED,
        seed=0,
        n_startup_trials=8,
        pruner_startup_trials=2,
        pruner_warmup_folds=0,
    )
    assert result.n_pruned >= 1
    assert result.n_complete + result.n_pruned == 8
    study = optuna.load_study(study_name="prune", storage=result.storage)
    for trial in study.trials:
        steps = sorted(trial.intermediate_values)
        if trial.state == optuna.trial.TrialState.PRUNED:
            assert steps  # stopped after reporting some folds
            assert trial.value in (None, trial.intermediate_values[steps[-1]])
        else:
            assert steps == [0, 1, 2]  # one report per fold
    stopped_early = [t for t in study.trials if len(t.intermediate_values) < 3]
    assert stopped_early  # pruning saved folds
    pruned = [t.intermediate_values[0] for t in study.trials if t.state.name == "PRUNED"]
    complete = [t.intermediate_values[0] for t in study.trials if t.state.name == "COMPLETE"]
    assert np.median(pruned) > np.median(complete)  # the pruned ones were the worse ones


def test_bad_requests_are_explained(problem) -> None:
    data, spec = problem
    with pytest.raises(TuningError, match="expected metric in"):
        tune(data, spec, study_name="x", metric="r2")
    with pytest.raises(TuningError, match="declared search space"):
        tune(data, spec, "climatology", study_name="x")
    with pytest.raises(InsufficientDataError, match="validation issue times"):
        tune(data, spec, study_name="x", validation_days=2, n_folds=5, fixed_params=FIXED)
