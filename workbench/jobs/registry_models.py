"""Forecasts through the forecasting layer: the registry's production model per series.

For each series (region, plant, node) the model ``<name>-<series>`` is looked up in the model
registry (:class:`workbench.forecasting.registry.ModelRegistry`):

- a **production** version trained on data up to (or before) the issue time is used as is;
- with **none**, a model of the job's kind (:func:`workbench.forecasting.pipeline.fit_forecaster`)
  is fitted on the history known at the issue time and registered as **production**;
- when the production version was trained on data *after* the issue time (a backfill into the
  past), using it would leak the future: a model is fitted for this issue only and not
  registered.

Each forecaster is fitted for issues at the job's issue hour with lead 0 and a horizon reaching
the last target, so one model serves 23-, 24- and 25-hour local days alike; the rows outside the
targets are dropped.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from workbench.forecasting.pipeline import UseCase
    from workbench.forecasting.usecases import CatalogReader


def _case_inputs(case: UseCase, y: Any, spec: Any) -> tuple[Any, Any, dict[str, Any]]:
    """The use case's data (covariates, zone) and model parameters on the job's target grid."""
    from workbench.forecasting.base import ForecastData

    data = ForecastData(y=y, past=None, future=case.data.future)
    spec = case.spec.replace(
        horizon=spec.horizon, lead=0, quantiles=spec.quantiles, past_covariates=()
    )
    return data, spec, case.model_params


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
) -> tuple[Any, str, dict[str, Any]]:
    """Forecast every series of ``past`` with its registry model; see the module doc.

    ``cases`` maps a series id to its catalog use case
    (:class:`workbench.forecasting.usecases.UseCase`): its future covariates (weather forecasts
    as issued, DA prices as published), zone and model parameters (holidays) are used, the
    same as in the backtests; a series without one gets the target alone.
    """
    import math

    import pandas as pd

    from workbench.forecasting.base import ForecastData, ForecastSpec
    from workbench.forecasting.pipeline import fit_forecaster
    from workbench.forecasting.registry import ModelRegistry, RegistryError

    registry = ModelRegistry()
    issue = pd.Timestamp(issue_time).tz_convert("UTC")
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
    frames, used, sources, versions = [], {}, {}, {}
    for series, group in past.groupby("series", sort=True):
        y = group.set_index("timestamp")["value"].sort_index()
        y = y[~y.index.duplicated(keep="last")].astype("float64")
        grid = pd.date_range(y.index[0], wanted[-1], freq="h", tz="UTC")
        y = y.reindex(grid)  # NaN over the forecast period: nothing known there
        y.index = y.index.as_unit("ns")
        model_name = f"{name}-{series}"
        case = (cases or {}).get(str(series))
        if case is not None:
            data, spec_s, case_params = _case_inputs(case, y, spec)
        else:
            data, spec_s, case_params = ForecastData(y=y), spec, {}
        model, source = None, ""
        try:
            model, version = registry.load_version(model_name, "production")
            end = (version.metadata.get("training_window") or {}).get("end")
            fitted_spec = getattr(model, "spec", None)
            if end is not None and pd.Timestamp(end) > issue:
                model, source = None, "fitted for this backfill issue (not registered)"
            elif (
                fitted_spec is None
                or fitted_spec.horizon < horizon
                or fitted_spec.future_covariates != spec_s.future_covariates
            ):
                model, source = None, "retrained and promoted"
            else:
                source, versions[str(series)] = "production model", version.version
        except RegistryError:
            source = "trained and registered as production"
        if model is None:
            known = y[y.index <= spec.last_known_label([issue])[0]]
            model = fit_forecaster(
                model_kind, data, spec_s, issue, case_params=case_params, params=model_params
            )
            if not source.startswith("fitted for this backfill"):
                versions[str(series)] = registry.register(
                    model_name,
                    model,
                    data=known,
                    training_window=(known.index[0], known.index[-1]),
                    stage="production",
                )
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
    counts = pd.Series(list(sources.values())).value_counts()
    info = {
        "model_source": ", ".join(f"{k} ({v} series)" for k, v in counts.items()),
        "model_registry_name": f"{name}-<series>",
        "model_versions": versions,
    }
    return frame, label, info
