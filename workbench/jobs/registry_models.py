"""Forecasts through the forecasting layer: a trained model per series, retrained on a cadence.

For each series (region, plant, node) the models ``<name>-<series>`` live in the model
registry (:class:`workbench.forecasting.registry.ModelRegistry`, MLflow's Model Registry).
Which version forecasts an issue follows the job's retrain cadence (:mod:`.training`):

- the model of the issue's **retrain day** (the Monday on or before it for ``weekly``), found by
  its :class:`~workbench.jobs.training.TrainKey` (job, model, training cut-off, configuration
  and code hashes) on a registered version — the champion is checked first, then the other
  versions — is **reused**: loaded, not refitted;
- with none, a model is **trained** on what was known at the retrain day's issue time (values
  after that cut-off are masked, so whichever day of the week triggers the fit gives the same
  model), registered with its key and promoted to **champion** when it is the job's newest
  (a retrain into the past, in a backfill, is registered but leaves the champion alone);
- a champion a person promoted (a version without a job's key) is used as is while it was
  trained on data known at the issue and can serve the job (horizon, covariates); the job does
  not replace it.

Every model used passes :func:`~workbench.jobs.training.check_no_peek`: its training window
ends no later than the last value known at the issue time. The run's metrics say which
model made the forecast: the key, the versions, the training window, and what was trained now.

Within one process (a backfill in process), a version's metadata and the latest model artifact
per series are kept in memory: a registered version never changes, so reusing the loaded
object is the same as loading it again.

Each forecaster is fitted for issues at the job's issue hour with lead 0 and a horizon reaching
the last target, so one model serves 23-, 24- and 25-hour local days alike; the rows outside the
targets are dropped.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any

from workbench.jobs.training import (
    TrainedModelError,
    TrainKey,
    check_no_peek,
    code_hash,
    config_hash,
)

if TYPE_CHECKING:
    from workbench.forecasting.pipeline import UseCase
    from workbench.forecasting.usecases import CatalogReader

REUSED = "reused"
TRAINED = "trained"
CHAMPION = "registry champion"


@dataclass(frozen=True)
class Training:
    """When the models of a run were (or are to be) trained.

    Attributes
    ----------
    cadence : str
        ``daily`` or ``weekly`` (:data:`workbench.jobs.training.CADENCES`).
    day : date or None
        The retrain day (local issue date) whose model serves this issue.
    until : datetime
        The retrain day's issue time [UTC]: the training cut-off.
    window_days : int or None
        Days of history before ``until`` the model is fitted on [d]; None: all of ``past``.
    """

    cadence: str
    day: date | None
    until: datetime
    window_days: int | None = None


# (store, model name, version) -> its ModelVersion; (store, model name) -> (version, model)
_INFO: dict[tuple[str, str, int], Any] = {}
_MODEL: dict[tuple[str, str], tuple[int, Any]] = {}


def _info(registry: Any, name: str, version: int) -> Any:
    key = (registry.root, name, version)
    if key not in _INFO:
        _INFO[key] = registry.get(name, version=version)
    return _INFO[key]


def _model(registry: Any, name: str, version: int) -> Any:
    """The model object of ``name`` v``version`` (the latest one loaded per name is kept)."""
    held = _MODEL.get((registry.root, name))
    if held is not None and held[0] == version:
        return held[1]
    model, info = registry.load_version(name, version=version)
    _INFO[(registry.root, name, version)] = info
    _MODEL[(registry.root, name)] = (version, model)
    return model


def _train_key_of(info: Any) -> str | None:
    return (info.metadata.get("extra") or {}).get("train_key")


def _find(registry: Any, name: str, key: str, champion: int | None) -> int | None:
    """The newest version of ``name`` registered under ``key``; None when there is none.

    Without a champion the search is skipped: the job's first model of a series is always
    promoted, so none means nothing was registered (or a person removed the alias: the model
    is then trained again, and the run says so).
    """
    if champion is None:
        return None
    for info in reversed(registry.history(name)):
        _INFO[(registry.root, name, info.version)] = info
        if _train_key_of(info) == key:
            return info.version
    return None


def _case_inputs(case: UseCase, y: Any, spec: Any) -> tuple[Any, Any, dict[str, Any]]:
    """The use case's data (covariates, zone) and model parameters on the job's target grid."""
    from workbench.forecasting.base import ForecastData

    data = ForecastData(y=y, past=None, future=case.data.future)
    spec = case.spec.replace(
        horizon=spec.horizon, lead=0, quantiles=spec.quantiles, past_covariates=()
    )
    return data, spec, case.model_params


def _can_serve(model: Any, horizon: int, spec: Any) -> bool:
    fitted = getattr(model, "spec", None)
    return (
        fitted is not None
        and fitted.horizon >= horizon
        and fitted.future_covariates == spec.future_covariates
    )


def _train(
    registry: Any,
    model_name: str,
    inputs: tuple[Any, Any, dict[str, Any]],
    training: Training,
    key: TrainKey,
    champion: int | None,
    model_kind: str,
    model_params: Mapping[str, Any] | None,
) -> tuple[Any, Any]:
    """Fit on what was known at ``training.until``, register under ``key``; (model, info)."""
    import numpy as np

    from workbench.forecasting.base import ForecastData
    from workbench.forecasting.pipeline import fit_forecaster

    data, spec, case_params = inputs
    until = key.until
    cut = spec.last_known_label([until])[0]
    y = data.y.copy()
    y[y.index > cut] = np.nan  # masked: the model of the cut-off never sees what came after
    if training.window_days is not None:
        y = y[y.index >= until - timedelta(days=training.window_days)]
    first = y.first_valid_index()
    y = y[y.index >= first] if first is not None else y
    data = ForecastData(y=y, past=data.past, future=data.future)
    model = fit_forecaster(
        model_kind, data, spec, until, case_params=case_params, params=model_params
    )
    known = y[y.index <= cut]
    number = registry.register(
        model_name,
        model,
        data=known,
        training_window=(known.index[0], known.index[-1]),
        metadata={
            "train_key": key.text,
            "retrain": training.cadence,
            "retrain_day": training.day.isoformat() if training.day else None,
            "trained_until": until.isoformat(),
        },
    )
    if champion is None:
        registry.promote(model_name, number)
    else:
        held = _info(registry, model_name, champion)
        held_until = (held.metadata.get("extra") or {}).get("trained_until")
        if _train_key_of(held) is not None and held_until is not None:
            import pandas as pd

            if pd.Timestamp(held_until) <= pd.Timestamp(until):  # the job's newest model
                registry.promote(
                    model_name,
                    number,
                    force=True,
                    reason=f"job {key.job}: {training.cadence} retrain for "
                    f"{training.day or until.date()} (trained until {until.isoformat()})",
                )
    _MODEL[(registry.root, model_name)] = (number, model)
    return model, _info(registry, model_name, number)


def forecast_with_registry(
    cat: CatalogReader,
    name: str,
    job: Any,
    past: Any,
    issue_time: datetime,
    targets: Sequence[datetime],
    quantiles: Sequence[float],
    *,
    model_kind: str = "lightgbm",
    model_params: Mapping[str, Any] | None = None,
    cases: Mapping[str, UseCase] | None = None,
    training: Training | None = None,
) -> tuple[Any, str, dict[str, Any]]:
    """Forecast every series of ``past`` with its trained model; see the module doc.

    ``cases`` maps a series id to its catalog use case
    (:class:`workbench.forecasting.usecases.UseCase`): its future covariates (weather forecasts
    as issued, DA prices as published), zone and model parameters (holidays) are used, the
    same as in the backtests; a series without one gets the target alone. ``training`` is the
    cadence (:class:`Training`); None retrains for this issue (``daily``) on all of ``past``.
    """
    import math

    import pandas as pd

    from workbench.forecasting.base import ForecastData, ForecastSpec
    from workbench.forecasting.model_artifacts import jsonable
    from workbench.forecasting.registry import ModelRegistry

    registry = ModelRegistry()
    issue = pd.Timestamp(issue_time).tz_convert("UTC")
    training = training or Training("daily", None, issue.to_pydatetime())
    if pd.Timestamp(training.until) > issue:
        msg = f"expected a training cut-off on or before the issue {issue}; found {training.until}"
        raise TrainedModelError(msg)
    wanted = pd.DatetimeIndex(pd.to_datetime(list(targets), utc=True))
    horizon = math.ceil((wanted[-1] - issue) / pd.Timedelta(hours=1)) + 1
    lag = cat.entry(job.source).availability_lag_td
    spec = ForecastSpec(
        freq=pd.Timedelta(hours=1),
        horizon=horizon,
        lead=0,
        quantiles=tuple(quantiles),
        availability_lag={"y": pd.Timedelta(lag)},
    )
    last_known = spec.last_known_label([issue])[0]
    inputs = {}
    for series, group in past.groupby("series", sort=True):
        y = group.set_index("timestamp")["value"].sort_index()
        y = y[~y.index.duplicated(keep="last")].astype("float64")
        grid = pd.date_range(y.index[0], wanted[-1], freq="h", tz="UTC")
        y = y.reindex(grid)  # NaN over the forecast period: nothing known there
        y.index = y.index.as_unit("ns")
        case = (cases or {}).get(str(series))
        inputs[series] = (
            _case_inputs(case, y, spec) if case is not None else (ForecastData(y=y), spec, {})
        )
    config = {
        "model": model_kind,
        "params": dict(model_params or {}),
        "window_days": training.window_days,
        "horizon": horizon,
        "quantiles": list(quantiles),
        "series": {str(s): [jsonable(i[1]), jsonable(i[2])] for s, i in inputs.items()},
    }
    until = pd.Timestamp(training.until).tz_convert("UTC").to_pydatetime()
    key = TrainKey(name, model_kind, until, config_hash(config), code_hash())
    frames, used, sources, versions, windows = [], {}, {}, {}, []
    for series, (data, spec_s, case_params) in inputs.items():
        model_name = f"{name}-{series}"
        champion = registry.alias_version(model_name, "champion")
        model, info, source = None, None, ""
        if champion is not None:
            held = _info(registry, model_name, champion)
            end = (held.metadata.get("training_window") or {}).get("end")
            if _train_key_of(held) == key.text:
                info, source = held, REUSED
            elif (
                _train_key_of(held) is None and end is not None and pd.Timestamp(end) <= last_known
            ):
                candidate = _model(registry, model_name, champion)  # a person's champion
                if _can_serve(candidate, horizon, spec_s):
                    model, info, source = candidate, held, CHAMPION
        if info is None:
            found = _find(registry, model_name, key.text, champion)
            if found is not None:
                info, source = _info(registry, model_name, found), REUSED
        if info is None:
            model, info = _train(
                registry, model_name, (data, spec_s, case_params), training, key, champion,
                model_kind, model_params,
            )  # fmt: skip
            source = TRAINED
        if model is None:
            model = _model(registry, model_name, info.version)
        window = info.metadata.get("training_window") or {}
        check_no_peek(window.get("end"), last_known, f"{model_name} v{info.version}")
        windows.append((window["start"], window["end"]))
        versions[str(series)] = info.version
        pred = model.predict(data, [issue])
        pred = pred[pred.target_time.isin(wanted)]
        out = pd.DataFrame({"series": series, "timestamp": pred.target_time.to_numpy()})
        for q in quantiles:
            out[f"q{q:g}"] = pred[f"q{q:g}"].to_numpy(dtype="float64")
        if job.kind in ("solar", "wind"):
            cols = [f"q{q:g}" for q in quantiles]
            out[cols] = out[cols].clip(lower=0.0)
        frames.append(out)
        used[str(series)] = getattr(model, "name", model_kind)
        sources[str(series)] = source
    frame = pd.concat(frames, ignore_index=True)
    label = model_kind if len(set(used.values())) != 1 else next(iter(used.values()))
    return frame, label, _record(name, training, key, sources, versions, windows)


def _record(
    name: str,
    training: Training,
    key: TrainKey,
    sources: Mapping[str, str],
    versions: Mapping[str, int],
    windows: Sequence[tuple[Any, Any]],
) -> dict[str, Any]:
    """What ``ops.job_runs`` says about the models of a run (the ``info`` of the forecast)."""
    import pandas as pd

    day = training.day.isoformat() if training.day else training.until.isoformat()
    words = {
        TRAINED: f"trained in this run for the {training.cadence} retrain of {day}",
        REUSED: f"reused, trained for the {training.cadence} retrain of {day}",
        CHAMPION: "registry champion promoted by a person (no retrain by the job)",
    }
    counts = pd.Series([words[s] for s in sources.values()]).value_counts()
    info: dict[str, Any] = {
        "model_source": ", ".join(f"{k} ({v} series)" for k, v in counts.items()),
        "model_registry_name": f"{name}-<series>",
        "model_versions": dict(versions),
        "retrain": training.cadence,
        "retrain_day": day,
        "model_key": key.text,
        "model_trained_until": key.until.isoformat(),
        "models_trained": sum(s == TRAINED for s in sources.values()),
        "training_window": {
            "start": str(min(pd.Timestamp(w[0]) for w in windows)),
            "end": str(max(pd.Timestamp(w[1]) for w in windows)),
        },
    }
    champions = sorted(s for s, src in sources.items() if src == CHAMPION)
    if champions:
        info["registry_champion_series"] = champions
    return info
