"""The forecast jobs' bodies: load, solar, wind and price, issued once a day, published to gold.

Every job follows the same steps, called from its (thin) notebook:

1. the issue time: the job's local issue hour on the issue date; targets are the hours from
   the next local midnight, ``horizon_hours`` of them (a day-ahead market's view);
2. the history each series had *at the issue time* (the gold fact, minus its availability lag)
   and, for load and price, the covariates of the catalog use case — the same ones, with the same
   availability rules, as the backtests (:func:`usecase_inputs`): weather forecasts as issued
   before the issue time and holidays for load; weather forecasts for DA prices;
3. the model of the issue's retrain day from the model registry
   (:mod:`workbench.forecasting.registry`): the job's ``retrain`` cadence (weekly by default,
   :mod:`.training`) says which; it is trained now, on what was known at that day's issue
   time, only when no model is registered under its key (see :mod:`.registry_models`);
4. one transaction (:func:`workbench.jobs.context.publish`): the run key's forecast rows are
   replaced and, for load, ``gold.fact_load.forecast_load_mw`` / ``forecast_error`` are filled
   wherever actuals already exist (idempotent: recomputed from all stored runs);
5. metrics for ``ops.job_runs``: the day-ahead MAPE of the previous local day when its actuals
   exist (what the alert rule watches), rows, model source.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

UTC = ZoneInfo("UTC")


@dataclass(frozen=True)
class ForecastJob:
    """What one forecast job reads and writes."""

    kind: str  # load, solar, wind, price
    source: str  # the gold fact with the history
    id_column: str  # the series id in the source and the output
    value_column: str  # the value in the source
    output: str  # the gold forecasts table
    output_value: str  # the value column of the output
    season: timedelta  # of the seasonal baseline
    extra: dict[str, str] = field(default_factory=dict)  # constant output columns
    source_id: str = ""  # the series id in the source when it is named otherwise there

    @property
    def source_id_column(self) -> str:
        return self.source_id or self.id_column


JOBS: dict[str, ForecastJob] = {
    "load": ForecastJob(
        "load", "gold.fact_load", "region_id", "actual_load_mw", "gold.load_forecasts",
        "load_mw", timedelta(days=7), source_id="region",
    ),
    "solar": ForecastJob(
        "solar", "gold.fact_generation", "asset_id", "generation_mw",
        "gold.generation_forecasts", "generation_mw", timedelta(days=1), {"technology": "solar"},
    ),
    "wind": ForecastJob(
        "wind", "gold.fact_generation", "asset_id", "generation_mw",
        "gold.generation_forecasts", "generation_mw", timedelta(days=1), {"technology": "wind"},
    ),
    "price": ForecastJob(
        "price", "gold.fact_market_prices", "node_id", "lmp_price", "gold.price_forecasts",
        "lmp_price", timedelta(days=1), {"market": "DA"}, source_id="node",
    ),
}  # fmt: skip


@dataclass
class ForecastResult:
    """One forecast run: the published frame, rows per table and the metrics recorded."""

    issue_time: datetime
    forecast: Any
    rows: dict[str, int]
    metrics: dict[str, Any]


def issue_time_for(issue_date: date, tz: str, hour: int) -> datetime:
    """The UTC issue time: ``hour`` o'clock local on ``issue_date``."""
    return datetime.combine(issue_date, time(hour), ZoneInfo(tz)).astimezone(UTC)


def target_hours(issue_date: date, tz: str, horizon_hours: int) -> list[datetime]:
    """``horizon_hours`` hourly targets (UTC) from the local midnight after ``issue_date``."""
    first = datetime.combine(issue_date + timedelta(days=1), time(0), ZoneInfo(tz))
    start = first.astimezone(UTC)
    return [start + timedelta(hours=h) for h in range(horizon_hours)]


def history(
    cat: Any, job: ForecastJob, issue_time: datetime, days: int, ids: Sequence[str] | None = None
) -> Any:
    """Hourly values per series known at ``issue_time`` (availability lag of the source)."""
    entry = cat.entry(job.source)
    known_until = issue_time - timedelta(hours=1) - entry.availability_lag_td
    t = cat.scan(job.source)
    t = t.filter((t.timestamp >= issue_time - timedelta(days=days)) & (t.timestamp <= known_until))
    if job.kind in ("solar", "wind"):
        assets = cat.scan("gold.dim_assets")
        chosen = assets.filter(assets.technology == job.kind).select(a_id=assets.asset_id)
        t = t.inner_join(chosen, t.asset_id == chosen.a_id)
    if job.kind == "price":
        t = t.filter(t.market_type == job.extra["market"])
    if ids:
        t = t.filter(t[job.source_id_column].isin(list(ids)))
    out = t.select(
        series=t[job.source_id_column],
        timestamp=t.timestamp,
        value=t[job.value_column].cast("float64"),
    )
    frame = out.filter(out.value.notnull()).to_pandas()
    return frame.sort_values(["series", "timestamp"]).reset_index(drop=True)


def usecase_inputs(
    cat: Any,
    job: ForecastJob,
    series: Sequence[str],
    issue_time: datetime,
    end: datetime,
    days: int,
) -> dict[str, Any]:
    """Per series, the catalog use case (covariates, zone, model parameters) of load and price.

    Other kinds (solar, wind) get none here and forecast from the target alone. The window is
    ``days`` before the issue to ``end``; whatever the use case reads after the issue time is
    only used as its availability rules allow (forecasts issued before it, no actuals).
    """
    if job.kind not in ("load", "price"):
        return {}
    from workbench.forecasting.usecases.load import load_usecase
    from workbench.forecasting.usecases.price import price_usecase

    start = issue_time - timedelta(days=days)
    cases = {}
    for sid in series:
        if job.kind == "load":
            cases[str(sid)] = load_usecase(cat, str(sid), start=start, end=end)
        else:
            market = job.extra["market"]
            cases[str(sid)] = price_usecase(cat, str(sid), market, start=start, end=end)
    return cases


def long_output(
    job: ForecastJob, forecast: Any, issue_time: datetime, model: str, quantiles: Sequence[float]
) -> Any:
    """Forecast (series, timestamp, one column per quantile) → the gold table's long rows."""
    import pandas as pd

    parts = []
    for q in quantiles:
        part = pd.DataFrame(
            {
                "issue_time": pd.Timestamp(issue_time),
                "timestamp": forecast["timestamp"].to_numpy(),
                job.id_column: forecast["series"].to_numpy(),
                "model": model,
                "quantile": float(q),
                job.output_value: forecast[f"q{q:g}"].to_numpy(dtype="float64"),
            }
        )
        for col, value in job.extra.items():
            part[col] = value
        parts.append(part)
    return pd.concat(parts, ignore_index=True)


def fill_fact_load(wh: Any, start: datetime, end: datetime) -> dict[str, int]:
    """Set ``forecast_load_mw`` / ``forecast_error`` of ``gold.fact_load`` rows in ``[start, end)``.

    The same rule as the medallion's :func:`workbench.lake.gold.fact_load`: the median of the
    latest run issued before the hour. Runs inside the publishing transaction, so it sees this
    run's rows; only hours with actuals and a forecast change.
    """
    import ibis

    if not wh.exists("gold.fact_load") or not wh.exists("gold.load_forecasts"):
        return {"gold.fact_load": 0}
    fl, fc = wh.table("gold.fact_load"), wh.table("gold.load_forecasts")
    rows = fl.filter((fl.timestamp >= start) & (fl.timestamp < end))
    med = fc.filter(
        (fc.quantile == 0.5)
        & (fc.issue_time < fc.timestamp)
        & (fc.timestamp >= start)
        & (fc.timestamp < end)
    )
    rank = ibis.row_number().over(
        group_by=[med.region_id, med.timestamp], order_by=med.issue_time.desc()
    )
    best = (
        med.mutate(_r=rank)
        .filter(lambda t: t._r == 0)
        .select(f_region=med.region_id, f_ts=med.timestamp, f_mw=med.load_mw)
    )
    j = rows.inner_join(best, [rows.region == best.f_region, rows.timestamp == best.f_ts])
    filled = {"forecast_load_mw": j.f_mw, "forecast_error": j.actual_load_mw - j.f_mw}
    new = j.select(*[filled.get(c, j[c]).name(c) for c in rows.columns])
    n = wh.write("gold.fact_load", new, mode="upsert", key=["region", "timestamp"])
    return {"gold.fact_load": n}


def day_ahead_mape(cat: Any, day: date, tz: str) -> float | None:
    """MAPE [%] of ``gold.fact_load``'s forecasts over the local ``day`` (None without any)."""
    start = datetime.combine(day, time(0), ZoneInfo(tz)).astimezone(UTC)
    end = datetime.combine(day + timedelta(days=1), time(0), ZoneInfo(tz)).astimezone(UTC)
    t = cat.scan("gold.fact_load")
    t = t.filter((t.timestamp >= start) & (t.timestamp < end) & t.forecast_load_mw.notnull())
    t = t.filter(t.actual_load_mw != 0)
    value = (t.forecast_error.abs() / t.actual_load_mw.abs()).mean().execute()
    cat.close()
    return None if value is None or value != value else round(float(value) * 100, 3)


def run_forecast(
    cat: Any,
    kind: str,
    issue_date: date,
    run_key: str,
    *,
    tz: str = "America/Chicago",
    issue_hour: int = 10,
    horizon_hours: int = 48,
    train_days: int = 56,
    quantiles: Sequence[float] = (0.1, 0.5, 0.9),
    model_name: str | None = None,
    model: str = "lightgbm",
    model_params: str | dict[str, Any] | None = None,
    fallback: str | None = None,
    retrain: str = "weekly",
) -> ForecastResult:
    """Forecast every series of ``kind`` for one issue and publish it (see the module doc).

    ``fallback`` (``"seasonal_baseline"``) is used only when the model's optional dependency
    is missing and the job's spec declares it; the run is then recorded ``degraded``.
    ``retrain`` (``weekly`` or ``daily``) is the cadence of the model's training: the history
    read reaches back ``train_days`` before the retrain day's issue time, so a model trained
    now for that day sees what it would have seen then.
    """
    from workbench.jobs.context import PublishError, publish, record_metrics
    from workbench.jobs.models import forecast_series
    from workbench.jobs.registry_models import Training
    from workbench.jobs.training import retrain_day

    job = JOBS[kind]
    issue_time = issue_time_for(issue_date, tz, issue_hour)
    targets = target_hours(issue_date, tz, horizon_hours)
    day = retrain_day(issue_date, retrain)  # refuses an unknown cadence before any read
    training = Training(retrain, day, issue_time_for(day, tz, issue_hour), train_days)
    days = train_days + (issue_date - day).days if model != "seasonal_baseline" else train_days
    past = history(cat, job, issue_time, days)
    cases: dict[str, Any] = {}
    if not past.empty and model != "seasonal_baseline":
        end = targets[-1] + timedelta(hours=1)
        ids = sorted(past["series"].unique())
        cases = usecase_inputs(cat, job, ids, issue_time, end, days)
    cat.close()  # hold no warehouse connection while the model trains
    if past.empty:
        msg = (
            f"expected history in {job.source} before {issue_time:%Y-%m-%d %H:%M} UTC; found none "
            "(is the issue date inside the data? try issue_date=auto)"
        )
        raise PublishError(msg)
    name = model_name or f"{kind}_day_ahead"
    if isinstance(model_params, str):
        import json

        try:
            model_params = json.loads(model_params or "{}")
        except ValueError as exc:
            msg = f"expected model_params as a JSON object; found {model_params!r} ({exc})"
            raise PublishError(msg) from None
    forecast, label, info = forecast_series(
        cat, name, job, past, issue_time, targets, quantiles, model_kind=model,
        model_params=dict(model_params or {}), cases=cases, fallback=fallback, training=training,
    )  # fmt: skip
    frame = long_output(job, forecast, issue_time, label, quantiles)
    after = None
    if kind == "load":
        span = (issue_time - timedelta(days=3), targets[-1] + timedelta(hours=1))
        after = lambda wh: fill_fact_load(wh, *span)  # noqa: E731
    rows = publish(cat, {job.output: frame}, run_key, after=after)
    metrics: dict[str, Any] = {
        "issue_time": issue_time.isoformat(),
        "series": int(forecast["series"].nunique()),
        "targets": len(targets),
        "model": label,
        **info,
    }
    if kind == "load":
        metrics["mape_day_ahead_pct"] = day_ahead_mape(cat, issue_date - timedelta(days=1), tz)
        metrics["mape_next_day_pct"] = day_ahead_mape(cat, issue_date + timedelta(days=1), tz)
    record_metrics(metrics)
    return ForecastResult(issue_time, frame, rows, metrics)
