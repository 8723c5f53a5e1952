"""Operations page: job runs, freshness of each gold table, failures with their executed notebook.

Job runs come from ``ops.job_runs`` (the run log of ``workbench jobs``), builds from
``ops.build_runs``. A failed run links to ``/runs/<run_id>/notebook``, which renders the
notebook papermill executed (see :func:`workbench.apps.server.notebook_html`). The page checks
``ops.job_runs`` every refresh period, so a run that ends shows up without a restart.
"""

from __future__ import annotations

import html

import pandas as pd

from workbench.apps import charts
from workbench.apps.data import NoDataError, PageData, Reader, utc

TITLE = "Operations"
PURPOSE = (
    "**Are the jobs running and the data fresh?** Every job run and its duration, failures "
    "with their executed notebook, and how far each gold table lags the newest data."
)
FILTERS: tuple[str, ...] = ()
TABLES = ("ops.job_runs", "ops.build_runs")
RUN_COLUMNS = [
    "run_id", "job", "status", "started_at", "ended_at", "duration_s", "rows_written", "error",
    "notebook_path",
]  # fmt: skip
#: A gold table is stale when its latest row is this much older than the newest gold row.
STALE_AFTER = pd.Timedelta(days=1)
RUNS_SHOWN = 500


def job_runs(r: Reader) -> pd.DataFrame:
    """The latest runs, newest first."""
    t = r.table("ops.job_runs")
    if t is None:
        return pd.DataFrame(columns=RUN_COLUMNS)
    return t.select(*RUN_COLUMNS).order_by(t.started_at.desc()).limit(RUNS_SHOWN).to_pandas()


def run_summary(runs: pd.DataFrame) -> pd.DataFrame:
    """Per job: runs, failures, last status and start, mean duration (pure)."""
    cols = ["job", "runs", "failed", "last_status", "last_started_at", "mean_duration_s"]
    if runs.empty:
        return pd.DataFrame(columns=cols)
    ordered = runs.sort_values("started_at")
    g = ordered.groupby("job")
    out = pd.DataFrame(
        {
            "runs": g.size(),
            "failed": g["status"].apply(lambda s: int((s == "failed").sum())),
            "last_status": g["status"].last(),
            "last_started_at": g["started_at"].last(),
            "mean_duration_s": g["duration_s"].mean().round(1),
        }
    ).reset_index()
    return out[cols]


def failures(runs: pd.DataFrame) -> pd.DataFrame:
    """The failed runs (pure)."""
    if runs.empty:
        return runs
    return runs[runs["status"] == "failed"].reset_index(drop=True)


def failure_links(failed: pd.DataFrame, tz: str = "UTC") -> pd.DataFrame:
    """Failed runs as escaped HTML cells with a link to the executed notebook (pure)."""
    cols = ["run_id", "job", "started_at", "error", "notebook"]
    if failed.empty:
        return pd.DataFrame(columns=cols)
    out = pd.DataFrame(
        {
            "run_id": failed["run_id"].map(lambda v: html.escape(str(v))),
            "job": failed["job"].map(lambda v: html.escape(str(v))),
            "started_at": failed["started_at"].map(lambda v: when(v, tz)),
            "error": failed["error"].fillna("").map(lambda v: html.escape(str(v)[:300])),
            "notebook": [
                f'<a href="./runs/{html.escape(str(run_id))}/notebook" target="_blank">'
                "executed notebook</a>"
                for run_id in failed["run_id"]
            ],
        }
    )
    return out.reset_index(drop=True)


def freshness(r: Reader) -> pd.DataFrame:
    """Each gold table: rows, latest row time, lag behind the newest gold row, last build."""
    cat = r.catalog
    builds = r.table("ops.build_runs")
    last_build: dict[str, object] = {}
    if builds is not None:
        b = builds.group_by("table_name").aggregate(built_at=builds.ended_at.max()).to_pandas()
        last_build = dict(zip(b["table_name"], b["built_at"], strict=True))
    rows = []
    for name in cat.list(layer="gold"):
        spec = cat.entry(name)
        if spec.kind != "table":
            continue
        row: dict[str, object] = {"table": name, "rows": 0, "latest": pd.NaT}
        if not r.exists(name):
            row["status"] = "missing"
        else:
            t = r.table(name)
            agg = {"rows": t.count()}
            if spec.time_column:
                agg["latest"] = t[spec.time_column].max()
            got = t.aggregate(**agg).to_pandas().iloc[0]
            row["rows"] = int(got["rows"])
            if spec.time_column and not pd.isna(got["latest"]):
                row["latest"] = utc(got["latest"])
            row["status"] = "empty" if row["rows"] == 0 else "ok"
        row["last_build"] = last_build.get(name, pd.NaT)
        rows.append(row)
    return staleness(pd.DataFrame(rows))


def staleness(frame: pd.DataFrame) -> pd.DataFrame:
    """Mark tables whose latest row lags the newest gold row by more than a day (pure)."""
    cols = ["table", "status", "rows", "latest", "lag_h", "last_build"]
    if frame.empty:
        return pd.DataFrame(columns=cols)
    latest = pd.to_datetime(frame["latest"], utc=True)
    newest = latest.max()
    lag = (newest - latest) / pd.Timedelta(hours=1)
    stale = (frame["status"] == "ok") & latest.notna() & (newest - latest > STALE_AFTER)
    out = frame.assign(
        latest=latest, lag_h=lag.round(1), status=frame["status"].where(~stale, "stale")
    )
    return out[cols]


def when(value: object, tz: str) -> str:
    """A time as ``2024-03-05 09:00 CST`` in ``tz``, or ``never`` (no NaT on a page)."""
    if value is None or pd.isna(value):
        return "never"
    return f"{utc(value).tz_convert(tz):%Y-%m-%d %H:%M %Z}"


def freshness_text(fresh: pd.DataFrame, tz: str) -> pd.DataFrame:
    """The freshness table in words: no NaT, no NaN (pure)."""
    if fresh.empty:
        return fresh

    def lag_text(row: pd.Series) -> str:
        if row["rows"] == 0:
            return "no rows"
        if pd.isna(row["lag_h"]):
            return "— (no time column)"
        return "newest" if row["lag_h"] == 0 else f"{row['lag_h']:,.1f} h behind"

    lag = fresh.apply(lag_text, axis=1)
    latest = [
        when(v, tz) if not pd.isna(v) else ("never" if n == 0 else "— (no time column)")
        for v, n in zip(fresh["latest"], fresh["rows"], strict=True)
    ]
    return pd.DataFrame(
        {
            "table": fresh["table"],
            "status": fresh["status"],
            "rows": fresh["rows"].map(lambda n: f"{int(n):,}"),
            "latest row": latest,
            "lag": lag,
            "last build": fresh["last_build"].map(
                lambda v: "not in ops.build_runs" if pd.isna(v) else when(v, tz)
            ),
        }
    )


def query(r: Reader, f: object) -> PageData:
    if not any(r.exists(n) for n in (*TABLES, "gold.fact_load")):
        msg = "expected ops.job_runs, ops.build_runs or gold tables; found none"
        raise NoDataError(msg)
    runs = job_runs(r)
    frames = {
        "runs": runs,
        "run_summary": run_summary(runs),
        "failures": failures(runs),
        "freshness": freshness(r),
    }
    notes = []
    if not r.exists("ops.job_runs"):
        notes.append("no job runs yet: `workbench jobs run <job>` records them in ops.job_runs")
    fresh = frames["freshness"]
    ok = int((fresh["status"] == "ok").sum()) if not fresh.empty else 0
    summary = (
        f"{len(runs)} job runs ({len(frames['failures'])} failed), "
        f"{ok} of {len(fresh)} gold tables fresh"
    )
    return PageData(frames, summary, notes, getattr(f, "tz", "UTC"))


def sections(data: PageData) -> list[charts.Section]:
    fr = data.frames
    runs = fr["runs"]
    out = []
    fig = None
    if not runs.empty:
        drawn = runs.rename(columns={"started_at": "timestamp"})
        fig = charts.time_lines(
            "ops-runs", f"Job run durations (n = {len(runs)} runs)", drawn, group="job",
            y="duration_s", y_label="duration [s]", unit="s", markers=True, tz=data.tz,
            x_label="run started",
        )  # fmt: skip
        charts.pad_time_range(fig, drawn["timestamp"], tz=data.tz)
        fig.y_range.start = 0
    msg = "no job runs yet: `workbench jobs run <job>` records them"
    out.append(charts.Section("ops-runs", "Job runs", runs, fig, msg))
    out.append(
        charts.Section("ops-run_summary", "Runs by job", fr["run_summary"], message="no job runs")
    )
    fail = fr["failures"]
    out.append(
        charts.Section(
            "ops-failures",
            "Failed runs",
            fail,
            message="no failed runs",
            html=True,
            display=failure_links(fail, data.tz),
        )
    )
    fresh = fr["freshness"]
    out.append(
        charts.Section(
            "ops-freshness", "Freshness of the gold tables", fresh,
            display=freshness_text(fresh, data.tz),
        )
    )  # fmt: skip
    return out
