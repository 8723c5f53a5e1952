"""Hyper-parameter tuning with Optuna, scored by a rolling-origin backtest in the training window.

:func:`tune` searches a model's declared space (:data:`SEARCH_SPACES`) with a seeded TPE sampler.
Each trial is a small backtest over a validation window at the end of the training window, split
into consecutive folds: fold ``k`` fits on everything known at its first issue time and forecasts
the fold's daily issues. The trial reports its running mean score after each fold, so a
:class:`~optuna.pruners.MedianPruner` stops trials that are worse than the median of earlier ones
at the same fold.

Studies persist in an SQLite database (default ``WORKBENCH_HOME/optuna.db``) under the given study
name: calling :func:`tune` again with the same name continues the study (its sampler seed moves on
by the number of trials already stored, so the continuation explores new points and stays
reproducible). Two fresh studies with the same seed, data and settings give the same best
parameters: the sampler is seeded, trials run one at a time, and models are deterministic.

Nothing here reads the test period: the caller passes ``until`` (the end of the training window)
and every fit and score uses only data before it.

>>> from workbench.forecasting.tuning import tune
>>> result = tune(data, spec, "lightgbm", study_name="load_north", until=train_end,
...               n_trials=20)  # doctest: +SKIP
>>> result.best_params  # doctest: +SKIP
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from workbench.core.errors import WorkbenchError
from workbench.core.extras import require
from workbench.forecasting.base import (
    ForecastData,
    ForecastSpec,
    InsufficientDataError,
    make_forecaster,
)
from workbench.forecasting.windows import resolve_until

if TYPE_CHECKING:
    import optuna
    import pandas as pd

METRICS = ("mae", "rmse", "pinball", "crps", "mape_pct", "smape_pct", "nmae_pct")


class TuningError(WorkbenchError):
    """A tuning run is ill-posed (bad window, unknown metric, no search space)."""


# ------------------------------------------------------------------------------ search spaces
def lightgbm_space(trial: optuna.Trial) -> dict[str, Any]:
    """The LightGBM search space: capacity, learning rate, regularisation, subsampling."""
    return {
        "n_estimators": trial.suggest_int("n_estimators", 100, 600, step=50),
        "learning_rate": trial.suggest_float("learning_rate", 0.02, 0.2, log=True),
        "num_leaves": trial.suggest_int("num_leaves", 7, 63, log=True),
        "min_data_in_leaf": trial.suggest_int("min_data_in_leaf", 5, 100, log=True),
        "feature_fraction": trial.suggest_float("feature_fraction", 0.5, 1.0),
        "lambda_l2": trial.suggest_float("lambda_l2", 1e-3, 10.0, log=True),
    }


def tft_space(trial: optuna.Trial) -> dict[str, Any]:
    """A small TFT space (CPU-sized): width, attention heads, dropout, learning rate."""
    return {
        "hidden_size": trial.suggest_categorical("hidden_size", [8, 16, 32]),
        "num_attention_heads": trial.suggest_categorical("num_attention_heads", [1, 2, 4]),
        "dropout": trial.suggest_float("dropout", 0.0, 0.3),
        "learning_rate": trial.suggest_float("learning_rate", 1e-3, 1e-2, log=True),
    }


def lstm_space(trial: optuna.Trial) -> dict[str, Any]:
    """A small LSTM encoder-decoder space: width, depth, dropout, learning rate."""
    return {
        "hidden_dim": trial.suggest_categorical("hidden_dim", [8, 16, 32]),
        "n_rnn_layers": trial.suggest_int("n_rnn_layers", 1, 2),
        "dropout": trial.suggest_float("dropout", 0.0, 0.3),
        "learning_rate": trial.suggest_float("learning_rate", 1e-3, 1e-2, log=True),
    }


#: Model name -> function(trial) -> constructor parameters. Add one with
#: :func:`register_search_space`.
SEARCH_SPACES: dict[str, Callable[[optuna.Trial], dict[str, Any]]] = {
    "lightgbm": lightgbm_space,
    "tft": tft_space,
    "lstm": lstm_space,
}


def register_search_space(model: str, space: Callable[[optuna.Trial], dict[str, Any]]) -> None:
    """Declare the search space of ``model`` (a function of an Optuna trial returning params)."""
    SEARCH_SPACES[model] = space


# ------------------------------------------------------------------------------------ result
@dataclass
class TuningResult:
    """What a tuning run found.

    Attributes
    ----------
    study_name, storage : str
        Where the study lives (reload it with ``optuna.load_study``).
    model : str
        The tuned model's name (see make_forecaster).
    best_params : dict
        The best trial's parameters (merged over ``fixed_params``).
    best_value : float
        Its validation score (lower is better) [unit of y, for mae/rmse/pinball].
    n_complete, n_pruned, n_failed : int
        Trial counts of the whole study (including earlier calls).
    trials : pandas.DataFrame
        One row per trial: number, state, value, params.
    """

    study_name: str
    storage: str
    model: str
    metric: str
    best_params: dict[str, Any]
    best_value: float
    n_complete: int
    n_pruned: int
    n_failed: int
    trials: pd.DataFrame = field(repr=False)

    def make_forecaster(self) -> Any:
        """An unfitted forecaster with the best parameters."""
        return make_forecaster(self.model, **self.best_params)


# --------------------------------------------------------------------------------- internals
def default_storage() -> str:
    """``sqlite:///WORKBENCH_HOME/optuna.db`` (the folder is created)."""
    from workbench.core.config import workbench_home

    home = workbench_home()
    home.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{home / 'optuna.db'}"


def validation_issues(
    data: ForecastData,
    spec: ForecastSpec,
    until: pd.Timestamp,
    validation_days: int,
    issue_time: str = "00:00",
) -> pd.DatetimeIndex:
    """Daily issue times (at ``issue_time`` in ``spec.tz``) whose targets all end by ``until``.

    The issues cover the last ``validation_days`` days of the training window, so every target
    of every validation forecast is known at ``until``.
    """
    import pandas as pd

    until = pd.Timestamp(until).tz_convert("UTC")
    hours, _, minutes = issue_time.partition(":")
    offset = pd.Timedelta(hours=int(hours), minutes=int(minutes or 0))
    span = spec.freq * (spec.lead + spec.horizon)
    last = until - span - spec.lag("y")  # the last target of the last issue is known at until
    first = until - pd.Timedelta(days=validation_days) - span
    local_days = pd.date_range(
        first.tz_convert(spec.tz).normalize().tz_localize(None),
        last.tz_convert(spec.tz).normalize().tz_localize(None),
        freq="D",
    )
    issues = (local_days + offset).tz_localize(spec.tz, ambiguous=True, nonexistent="shift_forward")
    issues = issues.tz_convert("UTC")
    issues = issues[(issues > first) & (issues <= last) & (issues > data.y.index[0])]
    return pd.DatetimeIndex(issues)


def evaluate_params(
    model: str,
    params: Mapping[str, Any],
    data: ForecastData,
    spec: ForecastSpec,
    folds: list[pd.DatetimeIndex],
    metric: str = "mae",
    report: Callable[[float, int], None] | None = None,
) -> float:
    """Mean score of ``model(**params)`` over rolling-origin ``folds`` (lower is better).

    Each fold is a :func:`~workbench.forecasting.backtest.backtest` that fits once, at its first
    issue time, on what is known then, and forecasts all its issues without refitting.
    ``report(value, k)`` gets the running mean after fold ``k`` (for pruning); it may raise to
    stop early.
    """
    import numpy as np

    from workbench.forecasting.backtest import backtest
    from workbench.forecasting.metrics import score_frame

    scores: list[float] = []
    for k, issues in enumerate(folds):
        result = backtest(
            data, spec, model, issues, retrain="never", baseline=None, model_params=dict(params)
        )
        scores.append(score_frame(result.forecasts, spec.quantiles, spec.capacity)[metric])
        if report is not None:
            report(float(np.nanmean(scores)), k)
    return float(np.nanmean(scores))


def split_folds(issues: pd.DatetimeIndex, n_folds: int) -> list[pd.DatetimeIndex]:
    """Consecutive, nearly equal chunks of ``issues`` (at least one issue each)."""
    import numpy as np

    if len(issues) < n_folds:
        msg = (
            f"expected at least {n_folds} validation issue times (one per fold); found "
            f"{len(issues)}. Lengthen validation_days or lower n_folds."
        )
        raise InsufficientDataError(msg)
    return [issues[chunk] for chunk in np.array_split(np.arange(len(issues)), n_folds)]


# ---------------------------------------------------------------------------------------- API
def tune(
    data: ForecastData,
    spec: ForecastSpec,
    model: str = "lightgbm",
    *,
    study_name: str,
    until: pd.Timestamp | None = None,
    n_trials: int = 20,
    validation_days: int = 14,
    n_folds: int = 3,
    issue_time: str = "00:00",
    metric: str = "mae",
    seed: int = 0,
    storage: str | None = None,
    search_space: Callable[[optuna.Trial], dict[str, Any]] | None = None,
    fixed_params: Mapping[str, Any] | None = None,
    n_startup_trials: int = 5,
    pruner_startup_trials: int = 3,
    pruner_warmup_folds: int = 1,
    timeout_s: float | None = None,
) -> TuningResult:
    """Tune ``model`` on ``data`` by a rolling-origin backtest in the training window.

    Parameters
    ----------
    data, spec : ForecastData, ForecastSpec
        The series and problem (as for any forecaster).
    model : str
        A :func:`~workbench.forecasting.base.make_forecaster` name with a search space.
    study_name : str
        The Optuna study; an existing one in ``storage`` is continued.
    until : pandas.Timestamp, optional
        End of the training window (default: end of ``y``); nothing after it is used.
    n_trials : int
        Trials to run in this call (added to the study's earlier ones).
    validation_days : int
        Length of the validation window at the end of the training window [d].
    n_folds : int
        Consecutive folds of the validation window; each refits once.
    issue_time : str
        Daily issue time ``HH:MM`` in ``spec.tz``.
    metric : {"mae", "rmse", "pinball", "crps", "mape_pct", "smape_pct", "nmae_pct"}
        Score to minimise (:func:`~workbench.forecasting.metrics.score_frame`); pinball is the
        mean over ``spec.quantiles``; nmae_pct needs ``spec.capacity``.
    seed : int
        Seed of the TPE sampler (and of models that take a ``seed``, via ``fixed_params``).
    storage : str, optional
        An Optuna RDB URL; default ``sqlite:///WORKBENCH_HOME/optuna.db``.
    search_space : callable, optional
        ``trial -> params``; default :data:`SEARCH_SPACES[model]`.
    fixed_params : mapping, optional
        Parameters passed to every trial (not tuned), e.g. ``{"n_jobs": 1}``.
    n_startup_trials : int
        Random trials before TPE models the space.
    pruner_startup_trials, pruner_warmup_folds : int
        :class:`~optuna.pruners.MedianPruner` settings: trials finished before pruning starts,
        and folds a trial runs before it may be pruned.
    timeout_s : float, optional
        Stop starting new trials after this many seconds.
    """

    optuna = require("optuna", feature="tuning forecasters")
    if metric not in METRICS:
        raise TuningError(f"expected metric in {list(METRICS)}; found {metric!r}")
    space = search_space or SEARCH_SPACES.get(model)
    if space is None:
        msg = (
            f"expected a model with a declared search space {sorted(SEARCH_SPACES)}; found "
            f"{model!r}. Pass search_space=... or register_search_space({model!r}, fn)."
        )
        raise TuningError(msg)
    make_forecaster(model, **dict(fixed_params or {}))  # fail fast on an unknown name
    data.check_spec(spec)
    until = resolve_until(data, spec, until)
    issues = validation_issues(data, spec, until, validation_days, issue_time)
    folds = split_folds(issues, n_folds)
    storage = storage or default_storage()

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    logging.getLogger("optuna").setLevel(logging.WARNING)
    # the sampler is re-created on each call: seed it past the stored trials so a continued study
    # explores new points instead of replaying the first ones, and stays reproducible
    probe = optuna.create_study(
        study_name=study_name, storage=storage, direction="minimize", load_if_exists=True
    )
    done = len(probe.trials)
    study = optuna.create_study(
        study_name=study_name,
        storage=storage,
        direction="minimize",
        load_if_exists=True,
        sampler=optuna.samplers.TPESampler(seed=seed + done, n_startup_trials=n_startup_trials),
        pruner=optuna.pruners.MedianPruner(
            n_startup_trials=pruner_startup_trials, n_warmup_steps=pruner_warmup_folds
        ),
    )
    study.set_user_attr("model", model)
    study.set_user_attr("metric", metric)
    fixed = dict(fixed_params or {})

    def objective(trial: optuna.Trial) -> float:
        params = {**space(trial), **fixed}

        def report(value: float, k: int) -> None:
            trial.report(value, k)
            if trial.should_prune():
                raise optuna.TrialPruned(f"fold {k}: running {metric} {value:.4g} above median")

        return evaluate_params(model, params, data, spec, folds, metric, report)

    study.optimize(objective, n_trials=n_trials, timeout=timeout_s, n_jobs=1)
    return _result(study, model, metric, storage, fixed)


def _result(
    study: optuna.Study, model: str, metric: str, storage: str, fixed: Mapping[str, Any]
) -> TuningResult:
    import optuna
    import pandas as pd

    state = optuna.trial.TrialState
    counts = {s: sum(t.state == s for t in study.trials) for s in state}
    if counts[state.COMPLETE] == 0:
        msg = (
            f"expected at least one complete trial in study {study.study_name!r}; found "
            f"{counts[state.PRUNED]} pruned and {counts[state.FAIL]} failed. Run more trials."
        )
        raise TuningError(msg)
    rows = [
        {"number": t.number, "state": t.state.name, "value": t.value, **t.params}
        for t in study.trials
    ]
    best = study.best_trial
    return TuningResult(
        study_name=study.study_name,
        storage=storage,
        model=model,
        metric=metric,
        best_params={**best.params, **fixed},
        best_value=float(best.value),
        n_complete=counts[state.COMPLETE],
        n_pruned=counts[state.PRUNED],
        n_failed=counts[state.FAIL],
        trials=pd.DataFrame(rows),
    )
