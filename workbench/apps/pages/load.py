"""Load page: forecast vs actual by region with quantile bands, errors by horizon and by hour,
the latest forecast run and its accuracy.

Actuals come from ``silver.system_load`` (5-min) when it exists, else from ``gold.fact_load``
(hourly), aggregated in the warehouse to the display step (mean, with the min/max envelope).
Forecasts come from ``gold.load_forecasts``: for each target hour, the latest run issued with a
lead time inside the horizon filter. Errors compare the median (quantile 0.5) with
``gold.fact_load.actual_load_mw``.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import ibis
import pandas as pd

from workbench.apps import charts
from workbench.apps.data import (
    Filters,
    NoDataError,
    PageData,
    Reader,
    bucket,
    cached,
    choose_resolution,
    data_range,
    event_marks,
    from_epoch,
    in_regions,
    in_window,
    label,
    resolved_window,
)

TITLE = "Load"
PURPOSE = (
    "**Is demand tracking the forecast?** Actual load by region against the latest forecast "
    "runs (dashed, 10-90 % band), net load (load − wind − solar), and how far off the "
    "forecasts were by lead time and hour of day."
)
TILES = True
NATIVE = timedelta(minutes=5)
FILTERS = ("region", "dates", "horizon")
TABLES = ("gold.load_forecasts", "gold.fact_load", "silver.system_load", "ops.job_runs")
#: Tables the cached queries also read (their signatures are asked in the same query).
ALSO_READS = (
    "gold.generation_mix",
    "gold.frequency_events",
    "gold.anomaly_events",
    "gold.dim_regions",
)
HOUR = 3600
#: Coarsest display step with the forecast's 10-90 % band drawn: at coarser steps (windows of
#: more than 50 days) the band would be a mean of quantiles over several hours on top of the
#: actual load's min-max band, and the chart draws the median alone.
BAND_MAX_STEP = timedelta(hours=1)


def actual_source(r: Reader) -> tuple[str, str, timedelta]:
    """(table, value column, native step) of the actual load shown."""
    if r.exists("silver.system_load"):
        return "silver.system_load", "load_mw", timedelta(minutes=5)
    return "gold.fact_load", "actual_load_mw", timedelta(hours=1)


def bounds(r: Reader) -> tuple[pd.Timestamp, pd.Timestamp] | None:
    """First and last time of the actual load (the date filter's range)."""
    return data_range(r, actual_source(r)[0], "timestamp")


def actual_series(r: Reader, f: Filters, step: timedelta) -> pd.DataFrame:
    """Mean, min and max load per region and display bucket [MW]."""
    name, column, _ = actual_source(r)
    t = in_window(r.require(name), "timestamp", f)
    if "region" in t.columns:  # gold.fact_load names it as the platform does
        t = t.rename(region_id="region")
    t = in_regions(t, f)
    t = t.filter(t[column].notnull())
    t = t.mutate(b=bucket(t.timestamp, step))
    out = (
        t.group_by(["region_id", "b"])
        .aggregate(
            load_mw=t[column].mean(),
            min_mw=t[column].min(),
            max_mw=t[column].max(),
            samples=t.count(),
        )
        .order_by(["region_id", "b"])
        .to_pandas()
    )
    out.insert(1, "timestamp", from_epoch(out.pop("b")))
    return out


def net_load(r: Reader, f: Filters, actual: pd.DataFrame, step: timedelta) -> pd.DataFrame:
    """System load minus wind and solar [MW] per display bucket (hourly wind and solar).

    Load is summed over the regions shown (mean per bucket, from ``actual``); wind and solar
    from ``gold.generation_mix``, summed per hour then averaged per bucket in the warehouse.
    """
    cols = ["timestamp", "load_mw", "wind_solar_mw", "net_load_mw"]
    g = r.table("gold.generation_mix")
    if g is None or actual.empty:
        return pd.DataFrame(columns=cols)
    g = in_regions(in_window(g, "timestamp", f), f)
    g = g.filter(g.technology.isin(["wind", "solar"]))
    hourly = g.group_by("timestamp").aggregate(mw=g.generation_mw.sum())
    hourly = hourly.mutate(b=bucket(hourly.timestamp, max(step, timedelta(hours=1))))
    vre = hourly.group_by("b").aggregate(wind_solar_mw=hourly.mw.mean()).to_pandas()
    vre["timestamp"] = from_epoch(vre.pop("b"))
    load = actual.groupby("timestamp", as_index=False)["load_mw"].sum()
    if step < timedelta(hours=1):  # compare on the hourly grid of wind and solar
        load = load.assign(timestamp=load["timestamp"].dt.floor("h"))
        load = load.groupby("timestamp", as_index=False)["load_mw"].mean()
    out = load.merge(vre, on="timestamp", how="inner")
    out["net_load_mw"] = out["load_mw"] - out["wind_solar_mw"]
    return out[cols]


def _lead_hours(t: Any) -> Any:
    return (t.timestamp.epoch_seconds() - t.issue_time.epoch_seconds()) / HOUR


def _forecasts(r: Reader, f: Filters) -> Any:
    """Forecast rows in the window and regions, issued before their target, horizon-filtered."""
    t = r.table("gold.load_forecasts")
    if t is None:
        return None
    t = in_regions(in_window(t, "timestamp", f), f)
    t = t.mutate(horizon_h=_lead_hours(t))
    t = t.filter(t.horizon_h > 0)
    if f.horizon_h is not None:
        t = t.filter((t.horizon_h >= f.horizon_h[0]) & (t.horizon_h <= f.horizon_h[1]))
    return t


def forecast_bands(r: Reader, f: Filters, step: timedelta) -> pd.DataFrame:
    """Per region and bucket: the lowest, median and highest quantile of the latest run [MW]."""
    t = _forecasts(r, f)
    if t is None:
        return pd.DataFrame(columns=["region_id", "timestamp", "q_low_mw", "q50_mw", "q_high_mw"])
    rank = ibis.row_number().over(
        group_by=[t.region_id, t.timestamp, t.quantile], order_by=ibis.desc(t.issue_time)
    )
    latest = t.mutate(_r=rank).filter(lambda x: x._r == 0)
    latest = latest.mutate(b=bucket(latest.timestamp, max(step, timedelta(hours=1))))
    agg = (
        latest.group_by(["region_id", "b", "quantile"])
        .aggregate(load_mw=latest.load_mw.mean())
        .to_pandas()
    )
    return pivot_quantiles(agg)


def pivot_quantiles(long: pd.DataFrame) -> pd.DataFrame:
    """Long (region_id, b, quantile, load_mw) → wide low / median / high columns (pure)."""
    cols = ["region_id", "timestamp", "q_low_mw", "q50_mw", "q_high_mw"]
    if long.empty:
        return pd.DataFrame(columns=cols)
    qs = sorted(long["quantile"].unique())
    mid = min(qs, key=lambda q: abs(q - 0.5))
    wide = long.pivot_table(index=["region_id", "b"], columns="quantile", values="load_mw")
    out = pd.DataFrame(
        {"q_low_mw": wide[qs[0]], "q50_mw": wide[mid], "q_high_mw": wide[qs[-1]]}
    ).reset_index()
    out.insert(1, "timestamp", from_epoch(out.pop("b")))
    return out[cols].sort_values(["region_id", "timestamp"]).reset_index(drop=True)


def _median_vs_actual(r: Reader, f: Filters) -> Any:
    t = _forecasts(r, f)
    actual = r.table("gold.fact_load")
    if t is None or actual is None:
        return None
    med = t.filter(t.quantile == 0.5)
    a = actual.filter(actual.actual_load_mw.notnull()).select(
        a_region=actual.region, a_ts=actual.timestamp, actual_mw=actual.actual_load_mw
    )
    j = med.inner_join(a, [med.region_id == a.a_region, med.timestamp == a.a_ts])
    return j.mutate(error_mw=j.load_mw - j.actual_mw)


def error_by_horizon(r: Reader, f: Filters) -> pd.DataFrame:
    """MAE, MAPE and bias of the median forecast by lead time [h] (in the warehouse)."""
    j = _median_vs_actual(r, f)
    cols = ["horizon_h", "mae_mw", "mape_pct", "bias_mw", "hours"]
    if j is None:
        return pd.DataFrame(columns=cols)
    j = j.mutate(h=j.horizon_h.ceil().cast("int64"))
    nonzero = j.actual_mw != 0
    out = (
        j.group_by("h")
        .aggregate(
            mae_mw=j.error_mw.abs().mean(),
            mape_pct=ibis.ifelse(nonzero, j.error_mw.abs() / j.actual_mw.abs(), None).mean() * 100,
            bias_mw=j.error_mw.mean(),
            hours=j.count(),
        )
        .order_by("h")
        .to_pandas()
        .rename(columns={"h": "horizon_h"})
    )
    return out[cols]


def error_by_hour(r: Reader, f: Filters) -> pd.DataFrame:
    """MAE, MAPE and bias of the median forecast by local hour of day of the target."""
    j = _median_vs_actual(r, f)
    cols = ["local_hour", "mae_mw", "mape_pct", "bias_mw", "hours"]
    if j is None:
        return pd.DataFrame(columns=cols)
    per_hour = (
        j.group_by(["region_id", "timestamp"])
        .aggregate(error_mw=j.error_mw.mean(), actual_mw=j.actual_mw.mean())
        .to_pandas()
    )
    return hourly_errors(per_hour, _timezones(r))


def _timezones(r: Reader) -> dict[str, str]:
    t = r.table("gold.dim_regions")
    if t is None:
        return {}
    frame = t.select("region_id", "timezone").to_pandas()
    return dict(zip(frame["region_id"], frame["timezone"], strict=True))


def hourly_errors(per_hour: pd.DataFrame, tz: dict[str, str]) -> pd.DataFrame:
    """Errors per (region_id, timestamp) → by local hour of day (pure; DST-aware per region)."""
    cols = ["local_hour", "mae_mw", "mape_pct", "bias_mw", "hours"]
    if per_hour.empty:
        return pd.DataFrame(columns=cols)
    stamps = pd.to_datetime(per_hour["timestamp"], utc=True)
    hours = pd.Series(stamps.dt.hour.to_numpy(), index=per_hour.index)
    for region, zone in tz.items():
        mask = per_hour["region_id"] == region
        if mask.any():
            hours[mask] = stamps[mask].dt.tz_convert(zone).dt.hour.to_numpy()
    frame = per_hour.assign(
        local_hour=hours,
        abs_mw=per_hour["error_mw"].abs(),
        ape=per_hour["error_mw"].abs() / per_hour["actual_mw"].abs().where(lambda s: s != 0),
    )
    out = frame.groupby("local_hour").agg(
        mae_mw=("abs_mw", "mean"),
        mape_pct=("ape", "mean"),
        bias_mw=("error_mw", "mean"),
        hours=("error_mw", "size"),
    )
    out["mape_pct"] *= 100
    return out.reset_index()[cols]


def latest_run(r: Reader, f: Filters) -> pd.DataFrame:
    """The latest run issued before the window's end, per region: its accuracy so far."""
    cols = [
        "run_key", "issue_time", "model", "region_id", "targets", "hours_with_actuals",
        "mae_mw", "mape_pct", "band_coverage_pct",
    ]  # fmt: skip
    t = r.table("gold.load_forecasts")
    if t is None:
        return pd.DataFrame(columns=cols)
    t = in_regions(t, f)
    if f.end is not None:
        t = t.filter(t.issue_time < f.end.to_pydatetime())
    last = t.aggregate(latest=t.issue_time.max()).to_pandas()["latest"].iloc[0]
    if pd.isna(last):
        return pd.DataFrame(columns=cols)
    rows = t.filter(t.issue_time == pd.Timestamp(last).to_pydatetime()).to_pandas()
    actual = r.table("gold.fact_load")
    if actual is not None:
        targets = pd.to_datetime(rows["timestamp"], utc=True)
        a = actual.filter(
            (actual.timestamp >= targets.min().to_pydatetime())
            & (actual.timestamp <= targets.max().to_pydatetime())
        )
        a = a.select(region_id=a.region, timestamp=a.timestamp, actual_load_mw=a.actual_load_mw)
        a = a.to_pandas()
    else:
        a = pd.DataFrame(columns=["region_id", "timestamp", "actual_load_mw"])
    return run_accuracy(rows, a)[cols]


def run_accuracy(rows: pd.DataFrame, actual: pd.DataFrame) -> pd.DataFrame:
    """One run's forecast rows + actuals → accuracy per region (pure)."""
    wide = rows.pivot_table(
        index=["run_key", "issue_time", "model", "region_id", "timestamp"],
        columns="quantile",
        values="load_mw",
    )
    qs = sorted(wide.columns)
    mid = min(qs, key=lambda q: abs(q - 0.5))
    wide = wide.reset_index()
    wide["timestamp"] = pd.to_datetime(wide["timestamp"], utc=True)
    actual = actual.assign(timestamp=pd.to_datetime(actual["timestamp"], utc=True))
    j = wide.merge(actual, on=["region_id", "timestamp"], how="left")
    has = j["actual_load_mw"].notna()
    err = (j[mid] - j["actual_load_mw"]).abs()
    inside = (j["actual_load_mw"] >= j[qs[0]]) & (j["actual_load_mw"] <= j[qs[-1]])
    j = j.assign(
        has=has, err=err.where(has), ape=(err / j["actual_load_mw"].abs()).where(has) * 100,
        inside=inside.where(has).astype("float64") * 100,
    )  # fmt: skip
    out = j.groupby(["run_key", "issue_time", "model", "region_id"], as_index=False).agg(
        targets=("timestamp", "size"),
        hours_with_actuals=("has", "sum"),
        mae_mw=("err", "mean"),
        mape_pct=("ape", "mean"),
        band_coverage_pct=("inside", "mean"),
    )
    return out.round({"mae_mw": 1, "mape_pct": 2, "band_coverage_pct": 1})


def query(r: Reader, f: Filters) -> PageData:
    """Every frame of the load page for the filters (queries pushed down into the warehouse)."""
    name, _, native = actual_source(r)
    bounds = data_range(r, name, "timestamp")
    if bounds is None:
        msg = f"expected load rows in {name}; found none (build the lakehouse first)"
        raise NoDataError(msg)
    lo, hi = resolved_window(f, bounds, native)
    step = choose_resolution(lo, hi, native)
    w = f.with_(start=lo, end=hi)
    fc, fact = ["gold.load_forecasts", "gold.fact_load"], ["gold.fact_load"]
    actual = cached(r, ("load.actual", w, step), [name], lambda: actual_series(r, w, step))
    mix = ["gold.generation_mix"]
    ev = ["gold.frequency_events", "gold.anomaly_events"]
    frames = {
        "actual": actual,
        "net_load": cached(
            r, ("load.net", w, step), [name, *mix], lambda: net_load(r, w, actual, step)
        ),
        "events": cached(r, ("events", w), ev, lambda: event_marks(r, w)),
        "forecast": cached(r, ("load.fc", w, step), fc, lambda: forecast_bands(r, w, step)),
        "error_by_horizon": cached(r, ("load.eh", w), fc + fact, lambda: error_by_horizon(r, w)),
        "error_by_hour": cached(
            r, ("load.ehh", w), [*fc, *fact, "gold.dim_regions"], lambda: error_by_hour(r, w)
        ),
        "latest_run": cached(r, ("load.run", w), fc + fact, lambda: latest_run(r, w)),
    }
    notes = []
    if not r.exists("gold.load_forecasts"):
        notes.append(
            "No load forecasts yet: `workbench jobs run day_ahead_load` writes gold.load_forecasts."
        )
    elif frames["forecast"].empty:
        notes.append(
            "No forecast targets this window: widen the range or run "
            "`workbench jobs backfill day_ahead_load` for these days."
        )
    a = frames["actual"]
    summary = (
        f"{len(a)} points of actual load ({a['region_id'].nunique()} regions, from {name}) at "
        f"{label(step)} resolution, {len(frames['forecast'])} forecast points, "
        f"{lo:%Y-%m-%d %H:%M} to {hi:%Y-%m-%d %H:%M} UTC"
    )
    return PageData(frames, summary, notes, f.tz, step)


def sections(data: PageData) -> list[charts.Section]:
    """The page's charts and tables."""
    return list(iter_sections(data))


def iter_sections(data: PageData) -> Iterator[charts.Section]:
    """The page's charts and tables, each figure built when its section is asked for (the
    dashboard draws the first screen before building what is below it)."""
    fr, tz = data.frames, data.tz
    a, fc = fr["actual"], fr["forecast"]
    fig = None
    if not a.empty or not fc.empty:
        fig = charts.time_lines(
            "load-actual", "", a, group="region_id", y="load_mw", y_label="load [MW]", unit="MW",
            band=("min_mw", "max_mw"), tz=tz,
        )  # fmt: skip
        banded = data.step is None or data.step <= BAND_MAX_STEP
        if not fc.empty:
            charts.time_lines(
                "load-forecast", "", fc, group="region_id", y="q50_mw", y_label="load [MW]",
                band=("q_low_mw", "q_high_mw") if banded else None, dashed=True, fig=fig,
                legend_suffix=" forecast", tz=tz,
            )  # fmt: skip
        charts.annotate(fig, "load-events", fr["events"], tz=tz)
        fig.title.text = (
            "Actual load (solid, min-max shaded) vs latest forecast (dashed, 10-90 % shaded)"
            if banded
            else f"Actual load (solid, min-max shaded) vs latest forecast (dashed, median; its "
            f"10-90 % band is drawn at {label(BAND_MAX_STEP)} resolution or finer)"
        )
    both = a.merge(
        fc, on=["region_id", "timestamp"], how="outer", suffixes=("", "_forecast")
    ).sort_values(["region_id", "timestamp"])
    yield charts.Section("load-actual", "Forecast vs actual", both, fig)
    nl = fr["net_load"]
    fig = None
    if not nl.empty:
        fig = charts.time_lines(
            "load-net", "System net load = load − wind − solar", nl, group=None,
            y="net_load_mw", y_label="net load [MW]", unit="MW", tz=tz,
        )  # fmt: skip
    msg = "no wind and solar in gold.generation_mix for this window"
    yield charts.Section("load-net", "Net load", nl, fig, msg)
    for key, title, x, x_label in (
        ("error_by_horizon", "by lead time", "horizon_h", "lead time [h]"),
        ("error_by_hour", "by hour of day", "local_hour", "local hour of day (region's zone)"),
    ):
        frame = fr[key]
        fig = None
        n = int(frame["hours"].sum()) if not frame.empty else 0
        heading = f"Mean absolute error of the median forecast {title} (n = {n} forecast hours)"
        if not frame.empty:
            fig = charts.bars(
                f"load-{key}", heading, frame, x=x, y="mae_mw", y_label="MAE [MW]",
                x_label=x_label, unit="MW", n="hours", x_is_number=True,
            )  # fmt: skip
        msg = (
            ""
            if fig is not None
            else "no forecasts with actuals for these filters: run "
            "`workbench jobs run day_ahead_load` and wait for the hours to pass"
        )
        short = f"Forecast error {title}"
        yield charts.Section(f"load-{key}", heading if fig is None else short, frame, fig, msg)
    runs = fr["latest_run"]
    yield charts.Section(
        "load-latest_run",
        "Latest forecast run and its accuracy (mean absolute error of the median)",
        runs,
        None,
        "" if not runs.empty else "no forecast run yet: `workbench jobs run day_ahead_load`",
    )
