"""Rolling-origin backtests that never peek.

One issue per day at a local time of day (``issue_time`` in the zone ``spec.tz``) from the test
start to the test end. Each issue forecasts ``spec.horizon`` steps from ``issue + lead * freq``
using only what is known at the issue (see :mod:`workbench.forecasting.features`). Models are
refitted on a schedule — ``never`` (once, at the first issue), ``monthly``, ``weekly`` (local
calendar) or ``every`` issue — each fit with ``until`` = the first issue it serves, so training
never sees a value that was not yet known. The seasonal-naive baseline runs on the same issues.

The result holds the forecasts (``issue_time, target_time, step, y_pred, y_true, q...``), the
baseline's, and the metrics overall, by step and by local hour, with skill vs the baseline.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd

from workbench.forecasting.base import (
    ForecastData,
    Forecaster,
    ForecastError,
    ForecastSpec,
)
from workbench.forecasting.metrics import add_skill, score_by, score_frame
from workbench.forecasting.pipeline import UseCase, build_forecaster

Retrain = Literal["never", "monthly", "weekly", "every"]
RETRAIN_CHOICES: tuple[str, ...] = ("never", "monthly", "weekly", "every")


def parse_time_of_day(text: str) -> pd.Timedelta:
    """``"10:00"`` or ``"10:30:00"`` -> offset from local midnight."""
    try:
        parts = [int(p) for p in str(text).split(":")]
        if not 1 <= len(parts) <= 3 or not 0 <= parts[0] < 24:
            raise ValueError
        parts += [0] * (3 - len(parts))
        if not (0 <= parts[1] < 60 and 0 <= parts[2] < 60):
            raise ValueError
    except ValueError:
        raise ForecastError(
            f"expected an issue time of day as HH:MM (e.g. 10:00); found {text!r}"
        ) from None
    return pd.Timedelta(hours=parts[0], minutes=parts[1], seconds=parts[2])


def _as_local(ts: Any, tz: str) -> pd.Timestamp:
    ts = pd.Timestamp(ts)
    return ts.tz_localize(tz) if ts.tz is None else ts.tz_convert(tz)


def issue_schedule(
    start: Any, end: Any, issue_time: str = "00:00", tz: str = "UTC"
) -> pd.DatetimeIndex:
    """Daily issue times at ``issue_time`` local (``tz``), within ``[start, end]``, in UTC.

    Naive ``start``/``end`` are read in ``tz``; an ``end`` at local midnight (a date) includes that
    whole day. On a DST change a nonexistent local issue time is
    moved forward to the first valid instant, an ambiguous one takes the first (summer-time)
    occurrence.
    """
    offset = parse_time_of_day(issue_time)
    lo, hi = _as_local(start, tz), _as_local(end, tz)
    if hi == hi.normalize():
        hi = hi + pd.Timedelta("1D") - pd.Timedelta("1ns")
    if hi < lo:
        raise ForecastError(f"expected the test end after the test start; found {lo} .. {hi}")
    days = pd.date_range(
        lo.tz_localize(None).normalize(), hi.tz_localize(None).normalize(), freq="D"
    )
    local = (days + offset).tz_localize(tz, nonexistent="shift_forward", ambiguous=True)
    utc = local.tz_convert("UTC")
    return utc[(utc >= lo) & (utc <= hi)]


def retrain_groups(issues: pd.DatetimeIndex, retrain: str, tz: str) -> list[pd.DatetimeIndex]:
    """Split issue times into the blocks served by one fit each."""
    if retrain not in RETRAIN_CHOICES:
        raise ForecastError(f"expected retrain in {list(RETRAIN_CHOICES)}; found {retrain!r}")
    if not len(issues):
        return []
    if retrain == "never":
        return [issues]
    if retrain == "every":
        return [issues[i : i + 1] for i in range(len(issues))]
    local = issues.tz_convert(tz).tz_localize(None)
    key = local.to_period("M" if retrain == "monthly" else "W")
    return [issues[key == k] for k in pd.unique(key)]


@dataclass
class BacktestResult:
    """Forecasts and scores of a backtest."""

    model: str
    forecasts: pd.DataFrame
    baseline: pd.DataFrame | None
    spec: ForecastSpec
    fits: list[dict[str, Any]] = field(default_factory=list)
    wall_time_s: float = 0.0

    def metrics(self) -> dict[str, Any]:
        """Overall metrics of the model and baseline, the skill, and the per-step tables."""
        q, cap, tz = self.spec.quantiles, self.spec.capacity, self.spec.tz
        out: dict[str, Any] = {"model": score_frame(self.forecasts, q, cap)}
        by_step = {"model": _records(score_by(self.forecasts, "step", q, cap, tz))}
        by_hour = {"model": _records(score_by(self.forecasts, "hour", q, cap, tz))}
        if self.baseline is not None:
            out["baseline"] = score_frame(self.baseline, q, cap)
            out["skill"] = add_skill(out["model"], out["baseline"])
            by_step["baseline"] = _records(score_by(self.baseline, "step", q, cap, tz))
            by_hour["baseline"] = _records(score_by(self.baseline, "hour", q, cap, tz))
        out["by_step"] = by_step
        out["by_hour"] = by_hour
        return out


def _records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    frame = frame.reset_index()
    return [
        {k: (None if isinstance(v, float) and not np.isfinite(v) else v) for k, v in r.items()}
        for r in frame.to_dict(orient="records")
    ]


def _run(
    model: Forecaster,
    data: ForecastData,
    spec: ForecastSpec,
    groups: list[pd.DatetimeIndex],
) -> tuple[pd.DataFrame, list[dict[str, Any]]]:
    parts, fits = [], []
    for group in groups:
        m = model.clone().fit(data, spec, until=group[0])
        parts.append(m.predict(data, group))
        fits.append({"until": str(group[0]), "issues": len(group), **_jsonable(m.fit_info)})
    pred = pd.concat(parts, ignore_index=True)
    truth = data.y.reindex(pd.DatetimeIndex(pred["target_time"])).to_numpy(dtype=float)
    pred.insert(4, "y_true", truth)
    return pred, fits


def _jsonable(info: dict[str, Any]) -> dict[str, Any]:
    import json

    return json.loads(json.dumps(info, default=str))


def backtest(
    data: ForecastData,
    spec: ForecastSpec,
    model: str | Forecaster,
    issues: pd.DatetimeIndex,
    *,
    retrain: str = "never",
    baseline: str | None = "seasonal_naive",
    model_params: dict[str, Any] | None = None,
    case_params: dict[str, dict[str, Any]] | None = None,
) -> BacktestResult:
    """Run a rolling-origin backtest.

    Parameters
    ----------
    data, spec : ForecastData, ForecastSpec
        The series (it may run past the test end) and the problem.
    model : str or Forecaster
        A model name (see :func:`~workbench.forecasting.base.make_forecaster`) or an instance
        (cloned for each fit).
    issues : pandas.DatetimeIndex
        Issue times (see :func:`issue_schedule`).
    retrain : {"never", "monthly", "weekly", "every"}
        Refit schedule.
    baseline : str, optional
        Model name of the baseline scored on the same issues (``None`` to skip).
    model_params : dict, optional
        Parameters for a model given by name (they win over ``case_params``).
    case_params : dict, optional
        ``{model name: parameters}`` of the use case; the model is built by
        :func:`~workbench.forecasting.pipeline.build_forecaster`, like in the jobs.
    """
    if not len(issues):
        raise ForecastError(
            "expected at least one issue time between the test start and end; found none. "
            "Check --test-start/--test-end and --issue-time."
        )
    data.check_spec(spec)
    if issues[0] <= data.y.index[0]:
        raise ForecastError(
            f"expected the first issue time after the start of the data ({data.y.index[0]}); "
            f"found {issues[0]}. Move the test start later so the model has history to learn from."
        )
    groups = retrain_groups(issues, retrain, spec.tz)
    inst = build_forecaster(model, case_params=case_params, params=model_params)
    t0 = time.perf_counter()
    pred, fits = _run(inst, data, spec, groups)
    wall = time.perf_counter() - t0
    base = None
    if baseline is not None:
        base, _ = _run(build_forecaster(baseline), data, spec, [issues])
    return BacktestResult(
        model=inst.name, forecasts=pred, baseline=base, spec=spec, fits=fits, wall_time_s=wall
    )


def backtest_case(
    case: UseCase,
    model: str | Forecaster,
    issues: pd.DatetimeIndex,
    *,
    retrain: str = "never",
    baseline: str | None = "seasonal_naive",
    model_params: dict[str, Any] | None = None,
) -> BacktestResult:
    """:func:`backtest` on a use case: its data, spec and per-model parameters.

    ``model_params`` override the use case's for ``model``; members of ``auto`` and
    ``combination`` get the use case's parameters too (see
    :func:`~workbench.forecasting.pipeline.build_forecaster`).
    """
    return backtest(
        case.data,
        case.spec,
        model,
        issues,
        retrain=retrain,
        baseline=baseline,
        model_params=model_params,
        case_params=case.model_params,
    )
