"""The one way a forecaster is built for a problem: jobs, notebooks, backtests and the CLI.

A forecast problem is a :class:`UseCase` — the data, the spec, and the parameters that suit each
model on it (holidays for load, the capacity clip for solar...) — whether a catalog use case
(:mod:`workbench.forecasting.usecases`, the shell that reads the catalog) or a user's table.
:func:`build_forecaster` turns a model name into a model for it:

* the use case's parameters for that name, overridden by the caller's;
* for models built from other models (``auto``, ``combination``: their
  :attr:`~workbench.forecasting.base.Forecaster.member_params_arg`), every member's parameters
  from the use case, so ``auto`` tries LightGBM with the same holidays as LightGBM alone.

:func:`~workbench.forecasting.backtest.backtest` and
:func:`~workbench.forecasting.backtest.backtest_case` build through it; the forecast jobs
(:mod:`workbench.jobs.registry_models`) fit through it; notebooks call those. This module is
part of the pure core: no catalog, no files.

>>> params = {"lightgbm": {"holidays_country": "US"}}
>>> model = build_forecaster("auto", case_params=params)  # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from workbench.forecasting.base import (
    ForecastData,
    Forecaster,
    ForecastError,
    ForecastSpec,
    make_forecaster,
    model_class,
)

__all__ = ["UseCase", "build_forecaster", "fit_forecaster"]


@dataclass
class UseCase:
    """A forecast problem: data, spec and the parameters that suit each model on it.

    ``model_params`` maps a model name to its parameters (what :func:`build_forecaster` merges);
    ``notes`` says what was used or skipped (e.g. "no weather forecasts: none used").
    """

    name: str
    data: ForecastData
    spec: ForecastSpec
    issue_time: str = "00:00"
    model_params: dict[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


def build_forecaster(
    model: str | Forecaster,
    *,
    case_params: Mapping[str, Mapping[str, Any]] | None = None,
    params: Mapping[str, Any] | None = None,
) -> Forecaster:
    """A model for a problem: the use case's parameters for it, then ``params`` on top.

    Parameters
    ----------
    model : str or Forecaster
        A model name (:func:`~workbench.forecasting.base.available_models`) or a ready instance
        (returned as is; then ``params`` must be empty).
    case_params : mapping, optional
        ``{model name: parameters}`` of the use case (:attr:`UseCase.model_params`).
    params : mapping, optional
        The caller's parameters; they win over the use case's.

    Raises
    ------
    UnknownModelError, UnknownParameterError
        An unknown name or parameter (nothing is built).
    ForecastError
        Parameters given with a ready instance.
    """
    if isinstance(model, Forecaster):
        if params:
            raise ForecastError(
                f"expected parameters only with a model name; found {sorted(params)} given with "
                f"a ready {model.name} model. Build it with those parameters instead."
            )
        return model
    cases = {k: dict(v) for k, v in (case_params or {}).items()}
    merged = {**cases.get(model, {}), **dict(params or {})}
    klass = model_class(model)
    arg = klass.member_params_arg if klass is not None else None
    if arg is not None and cases:
        members = {k: v for k, v in cases.items() if k != model}
        merged[arg] = {**members, **dict(merged.get(arg) or {})}
    return make_forecaster(model, **merged)


def fit_forecaster(
    model: str | Forecaster,
    data: ForecastData,
    spec: ForecastSpec,
    until: Any,
    *,
    case_params: Mapping[str, Mapping[str, Any]] | None = None,
    params: Mapping[str, Any] | None = None,
) -> Forecaster:
    """:func:`build_forecaster` then fit on what is known at ``until`` (an instance is cloned)."""
    if isinstance(model, Forecaster):
        return build_forecaster(model, params=params).clone().fit(data, spec, until=until)
    built = build_forecaster(model, case_params=case_params, params=params)
    return built.fit(data, spec, until=until)
