"""The model a forecast job uses: a registered model per series, retrained on the job's cadence.

:func:`forecast_series` is the jobs' one entry point. It goes through
:mod:`workbench.jobs.registry_models`: the model of the issue's retrain day (weekly or daily,
:mod:`workbench.jobs.training`) found in the registry by its key, else one fitted on the
history known at the retrain day's issue time and registered.
``model=seasonal_baseline`` asks for :func:`seasonal_baseline`: the same hour one season before
(a week for load, a day otherwise), the latest one known at the issue time, with quantiles from
its own recent errors.

No silent fallback: an unknown model name is refused before anything runs
(:func:`check_model_name`, the ``choices_from: forecast_models`` of a job parameter). The
baseline replaces an unavailable model (a missing optional dependency) only when the caller
passes ``fallback="seasonal_baseline"`` — a spec declares it — and then the run is recorded
``degraded`` with the reason (:func:`workbench.jobs.context.record_degraded`).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

BASELINE = "seasonal_baseline"


def seasonal_baseline(
    past: Any,
    targets: Sequence[datetime],
    season: Any,
    quantiles: Sequence[float],
    *,
    error_days: int = 28,
    non_negative: bool = False,
) -> Any:
    """Seasonal-naive forecasts with empirical quantiles, per series.

    Parameters
    ----------
    past : pandas.DataFrame
        ``series``, ``timestamp`` (hourly, UTC), ``value``: what was known at the issue time.
    targets : sequence of datetime
        Target hours (UTC).
    season : timedelta
        The season; each target uses the latest multiple of it that is known.
    quantiles : sequence of float
        Quantile levels, e.g. ``(0.1, 0.5, 0.9)``.
    error_days : int
        Days of history whose errors (same lag) give the quantile offsets [d].
    non_negative : bool
        Clip forecasts at zero (generation).

    Returns
    -------
    pandas.DataFrame
        ``series``, ``timestamp`` and one column ``q<level>`` per quantile.
    """
    import numpy as np
    import pandas as pd

    step = pd.Timedelta(hours=1)
    season = pd.Timedelta(season)
    target_index = pd.DatetimeIndex(pd.to_datetime(list(targets), utc=True))
    rows = []
    for series, group in past.groupby("series", sort=True):
        s = group.set_index("timestamp")["value"].sort_index()
        s = s[~s.index.duplicated(keep="last")]
        s = s.reindex(pd.date_range(s.index[0], s.index[-1], freq=step))
        last = s.index[-1]
        multiples = np.maximum(1, np.ceil((target_index - last) / season).astype(int))
        out = {"series": series, "timestamp": target_index}
        base = np.full(len(target_index), np.nan)
        offsets = {q: np.zeros(len(target_index)) for q in quantiles}
        for m in np.unique(multiples):
            lag = season * int(m)
            picks = multiples == m
            base[picks] = s.reindex(target_index[picks] - lag).to_numpy()
            recent = s[s.index > last - pd.Timedelta(days=error_days)]
            errors = (recent - s.reindex(recent.index - lag).to_numpy()).dropna()
            for q in quantiles:
                offsets[q][picks] = float(errors.quantile(q)) if len(errors) else 0.0
        # a hole in the history: fall back to the series' mean at that hour of day
        by_hour = s.groupby(s.index.hour).mean()
        holes = np.isnan(base)
        base[holes] = by_hour.reindex(target_index[holes].hour).to_numpy()
        for q in quantiles:
            values = base + offsets[q]
            out[f"q{q:g}"] = np.maximum(values, 0.0) if non_negative else values
        rows.append(pd.DataFrame(out))
    frame = pd.concat(rows, ignore_index=True)
    cols = [f"q{q:g}" for q in quantiles]
    frame[cols] = np.sort(frame[cols].to_numpy(), axis=1)  # quantiles never cross
    return frame


def model_choices() -> list[str]:
    """Model names a job accepts: the factory's names and prefixes (``sktime:``), the baseline."""
    from workbench.forecasting.base import available_models

    return sorted({*available_models(), BASELINE})


def check_model_name(value: str, parameter: str = "model") -> str:
    """``value`` if the model factory knows it, else a one-line :class:`JobSpecError`.

    A plain name must be registered; a prefixed one (``sktime:ThetaForecaster``) goes to its
    prefix's rule (the sktime factory looks the class up). Nothing is fitted.
    """
    from workbench.forecasting.base import UnknownModelError, make_forecaster
    from workbench.jobs.spec import JobSpecError

    names = model_choices()
    plain = [n for n in names if not n.endswith(":")]
    prefixes = [n for n in names if n.endswith(":")]
    if value in plain:
        return value
    prefix, sep, rest = value.partition(":")
    if sep and rest and f"{prefix}:" in prefixes:
        try:
            make_forecaster(value)
        except UnknownModelError:  # by name: it need not be a KeyError
            pass
        else:
            return value
    rules = ", ".join(f"'{p}<ClassName>'" for p in prefixes)
    msg = (
        f"parameter {parameter!r}: expected a model name in {plain}"
        + (f" or {rules}" if rules else "")
        + f"; found {value!r} (nothing was run)"
    )
    raise JobSpecError(msg)


def forecast_series(
    cat: Any,
    name: str,
    job: Any,
    past: Any,
    issue_time: datetime,
    targets: Sequence[datetime],
    quantiles: Sequence[float],
    *,
    model_kind: str = "lightgbm",
    model_params: dict[str, Any] | None = None,
    cases: dict[str, Any] | None = None,
    fallback: str | None = None,
    training: Any = None,
) -> tuple[Any, str, dict[str, Any]]:
    """Forecasts of every series in ``past`` for ``targets``; returns (frame, model, info).

    ``frame`` has ``series``, ``timestamp`` and ``q<level>`` columns; ``model`` names the model
    for the output's ``model`` column; ``info`` goes to the run's metrics (``model_source``).
    ``cases`` (series id -> catalog use case) gives the forecasting model its covariates.
    ``fallback`` (``"seasonal_baseline"`` or None) is what replaces a model whose optional
    dependency is missing; without it that raises. An unknown name always raises.
    ``training`` (:class:`workbench.jobs.registry_models.Training`) is the retrain cadence of
    the model; None retrains for this issue.
    """
    from workbench.core.errors import MissingExtraError

    if fallback not in (None, "", BASELINE):
        msg = f"expected fallback None or {BASELINE!r}; found {fallback!r}"
        raise ValueError(msg)
    if model_kind != BASELINE:
        check_model_name(model_kind)
        try:
            from workbench.forecasting.base import make_forecaster

            make_forecaster(model_kind)  # a missing extra raises here, before any fit
        except MissingExtraError as exc:
            if not fallback:
                raise
            reason = f"model {model_kind!r} unavailable ({exc}); used the declared fallback"
        else:
            from workbench.jobs.registry_models import forecast_with_registry

            return forecast_with_registry(
                cat, name, job, past, issue_time, targets, quantiles, model_kind=model_kind,
                model_params=model_params, cases=cases, training=training,
            )  # fmt: skip
    frame = seasonal_baseline(
        past, targets, job.season, quantiles, non_negative=job.kind in ("solar", "wind")
    )
    label = f"{BASELINE}_{job.season.days}d"
    if model_kind == BASELINE:
        return frame, label, {"model_source": "seasonal baseline (asked for)"}
    from workbench.jobs.context import record_degraded

    record_degraded(reason)
    return frame, label, {"model_source": f"seasonal baseline: {reason}", "degraded": reason}
