"""Build silver and gold from bronze: incremental, idempotent, checked, all-or-nothing.

- **Windows.** An incremental table is rebuilt from ``since`` on: its watermark (latest time
  already in it) minus the step's look-back (late data), floored to the UTC day; or the
  ``since`` given; or everything when the table is new. The window's rows are deleted and
  rewritten, so a rebuild on unchanged bronze changes nothing and new bronze merges by key.
- **All or nothing.** Every table of a build is written inside one warehouse transaction; a
  failure anywhere (a transform, a write, a gold contract breach) rolls all of them back.
- **Quality.** Silver sets aside bad rows into ``ops.quarantine`` with a reason and a count;
  each table's contract (:mod:`workbench.lake.contracts`) is checked on what was written (the
  rebuilt window of an incremental table), and
  a gold breach refuses the publication. Results go to ``ops.dq_results`` and lineage to
  ``ops.build_runs`` — also, and especially, when the build fails.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pandas as pd

from workbench.core.errors import WorkbenchError
from workbench.lake.contracts import CheckResult, check_table, now_utc
from workbench.lake.silver import Cleaned
from workbench.lake.steps import STEPS, Step

OnStep = Callable[[str, int, int], None]


class PublishRefusedError(WorkbenchError):
    """A gold table broke its contract: nothing of the build was published."""


@dataclass
class TableReport:
    """What one step did (one row of the summary and of ``ops.build_runs``)."""

    table_name: str
    sources: tuple[str, ...]
    since: datetime | None
    rows_in: int = 0
    rows_out: int = 0
    rows_quarantined: int = 0
    seconds: float = 0.0
    status: str = "pending"
    started_at: datetime = field(default_factory=now_utc)


@dataclass
class BuildResult:
    build_id: str
    tables: list[TableReport]
    checks: list[CheckResult]
    ok: bool
    error: str | None = None


def _floor_day(ts: datetime) -> datetime:
    return datetime(ts.year, ts.month, ts.day, tzinfo=UTC)


def _utc(value: Any) -> pd.Timestamp | None:
    """A time or date (naive means UTC) as an aware UTC timestamp."""
    if value is None:
        return None
    stamp = pd.Timestamp(value)
    return stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp.tz_convert("UTC")


def _window_bound(spec: Any, since: datetime) -> Any:
    """``since`` as the dataset's time column compares it: a date for DATE columns."""
    return since.date() if spec.columns[spec.time_column].type == "date" else since


def _max_time(table: Any, column: str) -> Any:
    value = table[column].max().execute()
    if value is None or (isinstance(value, float) and value != value) or pd.isna(value):
        return None
    return pd.Timestamp(value).to_pydatetime() if not isinstance(value, date) else value


class _Builder:
    def __init__(self, cat: Any, since: datetime | None, on_step: OnStep | None) -> None:
        self.cat = cat
        self.wh = cat.warehouse()
        self.since = since
        self.on_step = on_step or (lambda text, done, total: None)
        self.build_id = f"build-{datetime.now(UTC):%Y%m%dT%H%M%S}-{uuid.uuid4().hex[:6]}"
        self.checks: list[CheckResult] = []
        self.reports: list[TableReport] = []
        self.deferred: list[tuple[Step, Any, Any, TableReport]] = []

    # -------------------------------------------------------------- windows
    def window_start(self, step: Step) -> datetime | None:
        spec = self.cat.entry(step.target)
        if not step.incremental or spec.time_column is None:
            return None
        if self.since is not None:
            return _floor_day(self.since)
        if not self.wh.exists(spec.location):
            return None
        mark = _max_time(self.wh.table(spec.location), spec.time_column)
        if mark is None:
            return None
        if isinstance(mark, date) and not isinstance(mark, datetime):
            mark = datetime(mark.year, mark.month, mark.day, tzinfo=UTC)
        return _floor_day(mark - step.lookback)

    def source(self, name: str, start: datetime | None) -> Any:
        spec = self.cat.entry(name)
        if spec.kind == "frames":
            return self.cat.relation(name)  # DuckDB over the Parquet files
        if spec.kind != "table":
            return self.cat.scan(name)
        t = self.wh.table(spec.location)
        if start is None or spec.time_column is None:
            return t
        return t.filter(t[spec.time_column] >= _window_bound(spec, start))

    # -------------------------------------------------------------- one step
    def run_step(self, step: Step) -> TableReport:
        spec = self.cat.entry(step.target)
        since = self.window_start(step)
        report = TableReport(step.target, step.sources, since)
        t0 = time.perf_counter()
        start = None if since is None else since - step.context
        inputs = {name: self.source(name, start) for name in step.sources}
        for name in step.optional_sources:
            if self.wh.exists(self.cat.entry(name).location):
                inputs[name] = self.source(name, start)
        first = inputs[step.sources[0]]
        if hasattr(first, "sizes"):  # a cube: count its samples
            report.rows_in = int(first.sizes.get("time", 0) * first.sizes.get("pmu", 1))
        else:
            report.rows_in = int(first.count().execute())
        result = step.transform(inputs)
        quarantined = None
        if isinstance(result, Cleaned):
            result, quarantined = result.clean, result.quarantined
        if spec.kind == "frames":  # files, not warehouse rows: written once the build commits
            self.deferred.append((step, result, quarantined, report))
            report.status = "pending"
            return report
        bound = None if since is None else _window_bound(spec, since)
        if bound is not None and not isinstance(result, pd.DataFrame):
            result = result.filter(result[spec.time_column] >= bound)
        if bound is None:
            report.rows_out = self.cat.write(step.target, result, mode="replace")
        else:
            self.wh.delete_since(spec.location, spec.time_column, bound)
            report.rows_out = self.cat.write(step.target, result, mode="append")
        if quarantined is not None:
            report.rows_quarantined = self.quarantine(step.target, spec.key, quarantined)
        written = self.wh.table(spec.location)
        if bound is not None:  # rows outside the window were checked when they were written
            written = written.filter(written[spec.time_column] >= bound)
        self.checks += check_table(spec, written)
        self.checks += self.freshness(step, spec)
        report.seconds = time.perf_counter() - t0
        report.status = "built"
        return report

    def freshness(self, step: Step, spec: Any) -> list[CheckResult]:
        """The table keeps up with its main source: its latest time is no more than a day
        (plus one of its own intervals) behind the source's latest time."""
        source_spec = self.cat.entry(step.sources[0])
        tables = spec.kind == source_spec.kind == "table"
        if not tables or spec.time_column is None or source_spec.time_column is None:
            return []
        latest_source = _max_time(self.wh.table(source_spec.location), source_spec.time_column)
        latest = _max_time(self.wh.table(spec.location), spec.time_column)
        if latest_source is None:
            return []
        as_dt = [_utc(v) for v in (latest, latest_source)]
        allowed = timedelta(days=1) + spec.resolution_td
        lag = None if as_dt[0] is None else as_dt[1] - as_dt[0]
        ok = lag is not None and lag <= allowed
        detail = f"latest {as_dt[0]} vs {step.sources[0]} latest {as_dt[1]} (allowed lag {allowed})"
        return [CheckResult(spec.name, "freshness", spec.time_column, ok, 0 if ok else 1, detail)]

    def quarantine(self, table: str, key: Sequence[str], rows: Any) -> int:
        import ibis

        if any(k not in rows.columns for k in key):
            key = [c for c in rows.columns if c != "reason"][:2]
        record_key = ibis.literal("").concat(
            *[x for k in key for x in (rows[k].cast("string"), ibis.literal("|"))]
        )
        out = rows.select(
            build_id=ibis.literal(self.build_id),
            table_name=ibis.literal(table),
            record_key=record_key,
            reason=rows.reason,
        ).distinct()
        return self.cat.write("ops.quarantine", out, mode="upsert")

    # -------------------------------------------------------------- the build
    def run(self, steps: Sequence[Step]) -> BuildResult:
        error: str | None = None
        try:
            with self.wh.transaction():
                for i, step in enumerate(steps):
                    self.on_step(f"building {step.target}", i, len(steps))
                    report = self.run_step(step)
                    self.reports.append(report)
                    breaches = [
                        c for c in self.checks if c.table_name == step.target and not c.passed
                    ]
                    if breaches and step.layer == "gold":
                        report.status = "refused"
                        detail = "; ".join(
                            f"{c.check_name} on {c.column_name}: {c.failures}" for c in breaches
                        )
                        msg = f"{step.target} breaks its contract ({detail}); nothing was published"
                        raise PublishRefusedError(msg)
        except Exception as exc:
            error = str(exc).splitlines()[0]
            for report in self.reports:
                if report.status in ("built", "pending"):
                    report.status = "rolled back"
            self.record()
            if isinstance(exc, WorkbenchError):
                raise
            msg = f"the build failed and was rolled back: {error}"
            raise WorkbenchError(msg) from exc
        try:
            self.write_frames()
        except Exception as exc:
            self.record()
            msg = f"the warehouse tables were built, but writing the Parquet datasets failed: {exc}"
            raise WorkbenchError(msg) from exc
        self.on_step("recording quality results and lineage", len(steps), len(steps))
        self.record()
        return BuildResult(self.build_id, self.reports, self.checks, ok=True)

    def write_frames(self) -> None:
        """Replace the frames datasets (Parquet) of the build, after the warehouse committed."""
        from workbench.io.frames import write_expr_partitioned

        for step, result, quarantined, report in self.deferred:
            t0 = time.perf_counter()
            spec = self.cat.entry(step.target)
            report.rows_out = write_expr_partitioned(result, spec)
            if quarantined is not None:
                report.rows_quarantined = self.quarantine(
                    step.target, spec.key, _to_warehouse(quarantined)
                )
            self.checks += check_table(spec, self.cat.relation(step.target))
            report.seconds += time.perf_counter() - t0
            report.status = "built"

    def record(self) -> None:
        """Write ``ops.dq_results`` and ``ops.build_runs`` (outside the build's transaction)."""
        checked_at = now_utc()
        if self.checks:
            rows = pd.DataFrame([c.row(self.build_id, checked_at) for c in self.checks])
            self.cat.write("ops.dq_results", rows, mode="append")
        if self.reports:
            ended = now_utc()
            runs = pd.DataFrame(
                [
                    {
                        "build_id": self.build_id,
                        "table_name": r.table_name,
                        "sources": ",".join(r.sources),
                        "started_at": r.started_at,
                        "ended_at": ended,
                        "since": r.since,
                        "rows_in": r.rows_in,
                        "rows_out": r.rows_out,
                        "rows_quarantined": r.rows_quarantined,
                        "status": r.status,
                    }
                    for r in self.reports
                ]
            )
            runs["since"] = pd.to_datetime(runs["since"], utc=True)
            self.cat.write("ops.build_runs", runs, mode="append")


def _to_warehouse(rows: Any) -> Any:
    """Rows computed on another engine (DuckDB over Parquet) as an Ibis table of the warehouse."""
    import ibis

    return ibis.memtable(rows.to_pyarrow())


def build_medallion(
    cat: Any,
    *,
    layers: Sequence[str] = ("silver", "gold"),
    since: datetime | None = None,
    tables: Sequence[str] | None = None,
    on_step: OnStep | None = None,
) -> BuildResult:
    """Build the given layers (or tables) of the medallion from what is in bronze now."""
    bad = set(layers) - {"silver", "gold"}
    if bad:
        msg = f"expected layers among ['silver', 'gold']; found {sorted(bad)}"
        raise WorkbenchError(msg)
    steps = [s for s in STEPS if s.layer in layers and (tables is None or s.target in tables)]
    if since is not None and since.tzinfo is None:
        since = since.replace(tzinfo=UTC)
    return _Builder(cat, since, on_step).run(steps)


__all__ = ["BuildResult", "PublishRefusedError", "TableReport", "build_medallion"]
