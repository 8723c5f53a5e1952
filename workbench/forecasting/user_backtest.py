"""Backtest a model on a user's own table: the core of ``workbench forecast backtest``.

:func:`backtest_table` prepares the table (:mod:`workbench.forecasting.data`), builds the spec
(step inferred if not given, horizon as a duration), schedules one issue per day at the local issue
time between the test start and end, runs the backtest and assembles the report. It has no file
or console I/O; the CLI reads and writes around it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pandas as pd

from workbench.forecasting.backtest import BacktestResult, backtest, issue_schedule
from workbench.forecasting.base import PREDICTION_COLUMNS, ForecastError, ForecastSpec
from workbench.forecasting.data import DataReport, prepare_frame

#: Share of the data used as test period when no test start is given (at most a year).
DEFAULT_TEST_SHARE = 0.25
MIN_HISTORY = pd.Timedelta("14D")


@dataclass
class TableBacktest:
    """A backtest on a user table with its data report."""

    result: BacktestResult
    data_report: DataReport
    issues: pd.DatetimeIndex

    def output(self) -> pd.DataFrame:
        """The forecast rows: issue_time, target_time, step, y_pred, y_true, quantiles."""
        cols = [*PREDICTION_COLUMNS, "y_true", *self.result.spec.quantile_columns]
        return self.result.forecasts[cols]

    def report(self) -> dict[str, Any]:
        """The JSON report: settings, data repairs, metrics overall / by step / by hour."""
        spec = self.result.spec
        metrics = self.result.metrics()
        chosen = sorted({f.get("chosen", self.result.model) for f in self.result.fits})
        return {
            "model": self.result.model,
            "chosen_models": chosen,
            # auto: why each fit chose its model (one line per fit; empty for other models)
            "chosen_because": [f["reason"] for f in self.result.fits if f.get("reason")],
            "baseline": "seasonal_naive",
            "settings": {
                "freq": str(spec.freq),
                "horizon_steps": spec.horizon,
                "quantiles": list(spec.quantiles),
                "tz": spec.tz,
                "future_covariates": list(spec.future_covariates),
                "past_covariates": list(spec.past_covariates),
                "issues": len(self.issues),
                "first_issue": str(self.issues[0]),
                "last_issue": str(self.issues[-1]),
                "refits": len(self.result.fits),
            },
            "data": self.data_report.to_dict(),
            "metrics": {k: metrics[k] for k in ("model", "baseline", "skill") if k in metrics},
            "by_step": metrics["by_step"],
            "by_hour": metrics["by_hour"],
            "fits": self.result.fits,
            "wall_time_s": self.result.wall_time_s,
        }


def _local(value: Any, tz: str, what: str) -> pd.Timestamp:
    try:
        ts = pd.Timestamp(value)
    except ValueError as exc:
        raise ForecastError(f"expected {what} as a date like 2024-06-01; found {value!r}") from exc
    return ts.tz_localize(tz) if ts.tz is None else ts.tz_convert(tz)


def parse_horizon(text: str, freq: pd.Timedelta) -> int:
    """``"1D"``/``"48h"``/``"48"`` (steps) -> number of steps of ``freq``."""
    text = str(text).strip()
    if text.isdigit():
        return int(text)
    try:
        span = pd.Timedelta(text)
    except ValueError as exc:
        raise ForecastError(
            f"expected --horizon as a duration (1D, 48h) or a number of steps; found {text!r}"
        ) from exc
    steps = span / freq
    if steps < 1 or steps != int(steps):
        raise ForecastError(
            f"expected a horizon that is a whole number of {freq} steps; found {text!r}"
        )
    return int(steps)


def backtest_table(
    frame: pd.DataFrame,
    time_col: str,
    target: str,
    *,
    freq: str | None = None,
    horizon: str = "1D",
    issue_time: str = "00:00",
    tz: str | None = None,
    future_covariates: tuple[str, ...] = (),
    past_covariates: tuple[str, ...] = (),
    model: str = "auto",
    model_params: dict[str, Any] | None = None,
    test_start: str | None = None,
    test_end: str | None = None,
    retrain: str = "monthly",
    quantiles: tuple[float, ...] = (0.1, 0.5, 0.9),
    duplicates: str = "error",
    coerce: bool = False,
) -> TableBacktest:
    """Prepare ``frame`` and backtest ``model`` on it (see the module doc)."""
    data, report, zone = prepare_frame(
        frame,
        time_col,
        target,
        tz=tz,
        freq=freq,
        future_covariates=future_covariates,
        past_covariates=past_covariates,
        duplicates=duplicates,
        coerce=coerce,
    )
    step = pd.Timedelta(report.freq)
    spec = ForecastSpec(
        freq=step,
        horizon=parse_horizon(horizon, step),
        quantiles=quantiles,
        future_covariates=tuple(future_covariates),
        past_covariates=tuple(past_covariates),
        tz=zone,
    )
    first, last = data.y.index[0], data.y.index[-1]
    span = last - first
    if test_start is None:
        start = max(
            first + MIN_HISTORY, last - min(DEFAULT_TEST_SHARE * span, pd.Timedelta("365D"))
        )
        report.notes.append(f"test start not given: using {start.tz_convert(zone)}")
    else:
        start = _local(test_start, zone, "--test-start")
    end = last - spec.horizon * step if test_end is None else _local(test_end, zone, "--test-end")
    issues = issue_schedule(start, end, issue_time, zone)
    if len(issues) and issues[0] - first < pd.Timedelta("2D"):
        raise ForecastError(
            f"expected at least 2 days of history before the first issue ({issues[0]}); found "
            f"{issues[0] - first}. Move --test-start later."
        )
    result = backtest(data, spec, model, issues, retrain=retrain, model_params=model_params)
    return TableBacktest(result=result, data_report=report, issues=issues)
