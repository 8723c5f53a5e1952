"""Reliability page: frequency events and their characterisation, daily reliability metrics,
sensor anomalies and data-quality results.

``gold.frequency_events`` (written by the anomaly sweep job) has one row per excursion with its
nadir, time to nadir, RoCoF and settling time; ``gold.reliability_metrics`` the daily forced
outages, unavailable energy and excursion minutes per region; ``ops.dq_results`` the checks of
the latest medallion build. PMU events carry no region, so the region filter narrows the daily
metrics only.
"""

from __future__ import annotations

from datetime import timedelta

import pandas as pd

from workbench.apps import charts
from workbench.apps.data import (
    Filters,
    NoDataError,
    PageData,
    Reader,
    in_regions,
    in_window,
    utc,
)

TITLE = "Reliability"
NATIVE = timedelta(days=1)
PURPOSE = (
    "**How secure was the system?** Frequency excursions (how deep, how fast), events per day, "
    "forced outages and unavailable energy per day, sensor anomalies and the data-quality "
    "checks of the latest build."
)
FILTERS = ("region", "dates")
TABLES = ("gold.frequency_events", "gold.reliability_metrics", "ops.dq_results")
EVENT_COLUMNS = [
    "pmu", "start", "end", "duration_s", "nadir_hz", "time_to_nadir_s", "rocof_hz_per_s",
    "settling_time_s", "samples_outside",
]  # fmt: skip


def bounds(r: Reader) -> tuple[pd.Timestamp, pd.Timestamp] | None:
    t = r.table("gold.reliability_metrics")
    if t is None:
        return None
    row = t.aggregate(lo=t.date.min(), hi=t.date.max()).to_pandas().iloc[0]
    return None if pd.isna(row["lo"]) else (utc(row["lo"]), utc(row["hi"]))


def frequency_events(r: Reader, f: Filters) -> pd.DataFrame:
    """Excursions in the window, latest first, with their duration [s]."""
    t = r.table("gold.frequency_events")
    if t is None:
        return pd.DataFrame(columns=EVENT_COLUMNS)
    t = in_window(t, "start", f)
    t = t.mutate(duration_s=t.end.epoch_seconds() - t.start.epoch_seconds())
    return t.select(*EVENT_COLUMNS).order_by(t.start.desc()).limit(5000).to_pandas()


def events_per_day(events: pd.DataFrame) -> pd.DataFrame:
    """Count and deepest nadir of events per UTC day (pure)."""
    if events.empty:
        return pd.DataFrame(columns=["day", "events", "lowest_nadir_hz"])
    day = pd.to_datetime(events["start"], utc=True).dt.strftime("%Y-%m-%d")
    out = events.assign(day=day).groupby("day", as_index=False)
    return out.agg(events=("pmu", "size"), lowest_nadir_hz=("nadir_hz", "min"))


def daily_metrics(r: Reader, f: Filters) -> pd.DataFrame:
    """Forced outages, unavailable energy and excursion minutes per day (summed over regions)."""
    t = r.table("gold.reliability_metrics")
    cols = ["date", "forced_outages", "unavailable_mwh", "frequency_excursion_minutes"]
    if t is None:
        return pd.DataFrame(columns=cols)
    t = in_regions(t, f)
    if f.start is not None:
        t = t.filter(t.date >= f.start.date())
    if f.end is not None:
        t = t.filter(t.date < f.end.date())
    out = (
        t.group_by("date")
        .aggregate(
            forced_outages=t.forced_outages.sum(),
            unavailable_mwh=t.unavailable_mwh.sum(),
            frequency_excursion_minutes=t.frequency_excursion_minutes.sum(),
        )
        .order_by("date")
        .to_pandas()
    )
    out["date"] = out["date"].astype(str)
    return out[cols]


def anomalies(r: Reader, f: Filters) -> pd.DataFrame:
    """Sensor and asset anomalies in the window by source and kind."""
    t = r.table("gold.anomaly_events")
    if t is None:
        return pd.DataFrame(columns=["source", "kind", "events", "groups"])
    t = in_window(t, "start", f)
    return (
        t.group_by(["source", "kind"])
        .aggregate(events=t.count(), groups=t.group_id.nunique())
        .order_by(["source", "kind"])
        .to_pandas()
    )


def dq_results(r: Reader) -> pd.DataFrame:
    """The checks of the latest build: failed ones first, then the passed ones."""
    cols = ["table_name", "check_name", "column_name", "passed", "failures", "detail"]
    t = r.table("ops.dq_results")
    if t is None:
        return pd.DataFrame(columns=["build_id", "checked_at", *cols])
    latest = t.aggregate(b=t.checked_at.max()).to_pandas()["b"].iloc[0]
    if pd.isna(latest):
        return pd.DataFrame(columns=["build_id", "checked_at", *cols])
    build = t.filter(t.checked_at == latest).select("build_id").limit(1).to_pandas()
    rows = t.filter(t.build_id == build["build_id"].iloc[0]).to_pandas()
    rows = rows.sort_values(["passed", "table_name", "check_name"]).reset_index(drop=True)
    return rows[["build_id", "checked_at", *cols]]


def query(r: Reader, f: Filters) -> PageData:
    if not any(r.exists(n) for n in TABLES):
        msg = "expected reliability tables (gold.reliability_metrics, ops.dq_results); found none"
        raise NoDataError(msg)
    events = frequency_events(r, f)
    frames = {
        "events": events,
        "events_per_day": events_per_day(events),
        "daily": daily_metrics(r, f),
        "anomalies": anomalies(r, f),
        "dq": dq_results(r),
    }
    notes = []
    if not r.exists("gold.frequency_events"):
        notes.append(
            "No frequency events yet: `workbench jobs run anomaly_sweep` writes "
            "gold.frequency_events and gold.anomaly_events."
        )
    dq = frames["dq"]
    failed = int((~dq["passed"].astype(bool)).sum()) if not dq.empty else 0
    summary = (
        f"{len(events)} frequency events, {len(frames['daily'])} days of reliability metrics, "
        f"{len(dq)} data-quality checks in the latest build ({failed} failed)"
    )
    return PageData(frames, summary, notes, f.tz)


def sections(data: PageData) -> list[charts.Section]:
    fr = data.frames
    ev = fr["events"]
    out = []
    fig = None
    sweep = "no frequency events: `workbench jobs run anomaly_sweep` looks for them"
    if not ev.empty:
        fig = charts.scatter(
            "rel-events", f"Frequency events: nadir vs RoCoF (n = {len(ev)} events)", ev,
            x="rocof_hz_per_s", y="nadir_hz", x_label="RoCoF [Hz/s]", y_label="nadir [Hz]",
        )  # fmt: skip
    out.append(charts.Section("rel-events", "Frequency events", ev, fig, sweep))
    per_day = fr["events_per_day"]
    fig = None
    if not per_day.empty:
        fig = charts.daily_bars(
            "rel-events_per_day", "Frequency events per day", per_day, day="day", y="events",
            y_label="events per day", unit="events",
        )  # fmt: skip
    out.append(charts.Section("rel-events_per_day", "Events per day", per_day, fig, sweep))
    if not ev.empty:
        out.append(charts.Section("rel-event_table", "Event characterisation", ev))
    daily = fr["daily"]
    fig = None
    if not daily.empty:
        fig = charts.daily_bars(
            "rel-daily", f"Unavailable energy per day, all regions (n = {len(daily)} days)",
            daily, day="date", y="unavailable_mwh", y_label="unavailable energy [MWh]",
            unit="MWh",
        )  # fmt: skip
    out.append(charts.Section("rel-daily", "Daily reliability metrics", daily, fig))
    out.append(
        charts.Section(
            "rel-anomalies",
            "Sensor and asset anomalies",
            fr["anomalies"],
            message="no anomaly events: `workbench jobs run anomaly_sweep` looks for them",
        )
    )
    out.append(charts.Section("rel-dq", "Data-quality results (latest build)", fr["dq"]))
    return out
