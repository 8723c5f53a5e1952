"""Build silver and gold from bronze: incremental, idempotent, checked, all-or-nothing.

- **Windows.** An incremental table is rebuilt from ``since`` on: its watermark (latest time
  already in it) minus the step's look-back (late data), floored to the UTC day; or the
  ``since`` given; or everything when the table is new. The window's rows are deleted and
  rewritten, so a rebuild on unchanged bronze changes nothing and new bronze merges by key.
- **All or nothing, lineage included.** Every table of a build, its quarantined rows, its
  quality results (``ops.dq_results``) and its lineage (``ops.build_runs``) are written inside
  one warehouse transaction; the Parquet datasets are written as new version folders that no
  reader sees until published (:mod:`workbench.io.frames`). The warehouse commit is the single
  commit point; right after it the datasets' pointers are switched (one atomic rename each).
  Readers through the catalog read the version the warehouse committed, so a build killed
  between the commit and the switch is already whole for them, and the next build finishes
  the switch.
- **Readers never wait for a build.** On a DuckDB file the build writes a private copy of the
  warehouse and publishes it in one short commit (:mod:`workbench.io.staging`); on a server
  warehouse (PostgreSQL) MVCC lets readers read the last commit meanwhile.
- **Crashes.** A build holds the build lock (``<warehouse>.lock-build``, released by the
  kernel when its process dies) and first writes its tables' lineage rows as ``running``. The
  next build, under the same lock, marks rows still ``running`` as ``interrupted``, finishes
  a pointer switch the warehouse committed, and removes what dead builds left (staging
  copies, unpublished version folders). A failed build records its lineage and quality
  results (``rolled back`` / ``refused``) and leaves the data as it was.
- **Quality.** Silver sets aside bad rows into ``ops.quarantine`` with a reason and a count;
  each table's contract (:mod:`workbench.lake.contracts`) is checked on what was written (the
  rebuilt window of an incremental table), and a gold breach refuses the publication.
- **Fault injection** (tests): ``WORKBENCH_FAULT_PAUSE=<stage>`` with
  ``WORKBENCH_FAULT_PAUSE_FILE=<path>`` makes the build write ``<stage> <pid>`` to that file at
  the stage and wait while the file exists, so a test can kill it there deterministically
  (or delete the file to let it go on). Stages, in order: ``bronze-read`` (the first step's
  input read), ``silver-written``, ``gold-written`` (everything written, not committed),
  ``warehouse-committed`` (before the pointer switch) and ``parquet-swap`` (a new pointer
  made, not yet switched).
"""

from __future__ import annotations

import os
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

FAULT_PAUSE_ENV = "WORKBENCH_FAULT_PAUSE"
FAULT_PAUSE_FILE_ENV = "WORKBENCH_FAULT_PAUSE_FILE"
FAULT_STAGES = (
    "bronze-read",
    "silver-written",
    "gold-written",
    "warehouse-committed",
    "parquet-swap",
)
LOGS = ("ops.build_runs", "ops.dq_results")  # shared logs: a build owns its build_id's rows


def fault_pause(stage: str) -> None:
    """The fault-injection hook (see the module docstring); does nothing unless asked."""
    wanted = os.environ.get(FAULT_PAUSE_ENV)
    if not wanted:
        return
    if wanted not in FAULT_STAGES:
        msg = f"expected {FAULT_PAUSE_ENV} among {list(FAULT_STAGES)}; found {wanted!r}"
        raise WorkbenchError(msg)
    if wanted != stage:
        return
    marker = os.environ.get(FAULT_PAUSE_FILE_ENV)
    if not marker:
        msg = f"expected {FAULT_PAUSE_FILE_ENV} naming a file with {FAULT_PAUSE_ENV}; found none"
        raise WorkbenchError(msg)
    from pathlib import Path

    Path(marker).write_text(f"{stage} {os.getpid()}")
    while Path(marker).exists():
        time.sleep(0.05)


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
    recovered: list[str] = field(default_factory=list)  # what this build cleaned up first


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
        self.main = cat  # the user's catalog: what is published
        self.cat = cat  # the catalog the steps write (bound to a staging copy on DuckDB)
        self.wh = cat.warehouse()
        self.since = since
        self.on_step = on_step or (lambda text, done, total: None)
        self.build_id = f"build-{datetime.now(UTC):%Y%m%dT%H%M%S}-{uuid.uuid4().hex[:6]}"
        self.checks: list[CheckResult] = []
        self.reports: list[TableReport] = []
        self.versions: dict[str, str] = {}  # frames dataset → the version this build wrote
        self.recovered: list[str] = []

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
        fault_pause("bronze-read")
        result = step.transform(inputs)
        quarantined = None
        if isinstance(result, Cleaned):
            result, quarantined = result.clean, result.quarantined
        if spec.kind == "frames":  # files: a new version, published after the commit
            return self.write_frames(step, spec, result, quarantined, report, t0)
        bound = None if since is None else _window_bound(spec, since)
        if bound is not None and not isinstance(result, pd.DataFrame):
            result = result.filter(result[spec.time_column] >= bound)
        if bound is None or not self.wh.exists(spec.location):  # --since on a new table too
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
        from workbench.io.staging import build_lock

        with build_lock(self.lock_path()):
            self.recover()
            self.announce(steps)
            staging = self.stage()
            try:
                with self.wh.transaction():
                    self.build(steps)
                    self.record()
                if staging is not None:
                    staging.commit(
                        self.owned_tables(), dict.fromkeys(LOGS, ("build_id", self.build_id))
                    )
            except Exception as exc:
                error = self.fail(exc, staging)
                if error is exc:
                    raise
                raise error from exc
            fault_pause("warehouse-committed")
            self.on_step("publishing the Parquet datasets", len(steps), len(steps))
            for name, version in self.versions.items():
                self.publish(self.main.entry(name), version)
            if staging is not None:
                self.main.warehouse().close()  # hold no lock on the file once built
        return BuildResult(
            self.build_id, self.reports, self.checks, ok=True, recovered=self.recovered
        )

    def lock_path(self) -> Any:
        from pathlib import Path

        from workbench.core.config import workbench_home

        path = self.main.warehouse().duckdb_path
        if path is not None:
            return path.with_name(path.name + ".lock-build")
        return Path(workbench_home()) / "build.lock"

    def stage(self) -> Any:
        """On a DuckDB file: build into a private copy (readers keep the file meanwhile)."""
        from workbench.io.staging import StagedWarehouse

        if self.main.warehouse().duckdb_path is None:
            return None  # a server warehouse: MVCC, the build writes it in one transaction
        staging = StagedWarehouse(self.main.warehouse(), self.build_id)
        self.wh = staging.begin()
        self.cat = self.main.with_warehouse(self.wh)
        return staging

    def build(self, steps: Sequence[Step]) -> None:
        for i, step in enumerate(steps):
            self.on_step(f"building {step.target}", i, len(steps))
            report = self.run_step(step)
            self.reports.append(report)
            breaches = [c for c in self.checks if c.table_name == step.target and not c.passed]
            if breaches and step.layer == "gold":
                report.status = "refused"
                detail = "; ".join(
                    f"{c.check_name} on {c.column_name}: {c.failures}" for c in breaches
                )
                msg = f"{step.target} breaks its contract ({detail}); nothing was published"
                raise PublishRefusedError(msg)
            last_of_layer = i + 1 == len(steps) or steps[i + 1].layer != step.layer
            if last_of_layer:
                fault_pause(f"{step.layer}-written")

    def owned_tables(self) -> list[str]:
        """Warehouse tables this build rewrote (copied whole by a merging commit)."""
        tables = [
            self.cat.entry(r.table_name).location
            for r in self.reports
            if self.cat.entry(r.table_name).kind == "table"
        ]
        return [*tables, self.cat.entry("ops.quarantine").location]

    def fail(self, exc: Exception, staging: Any) -> Exception:
        """Undo what is not committed, record the failure; return the error to raise."""
        from workbench.io.frames import version_path

        error = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        for report in self.reports:
            if report.status in ("built", "pending"):
                report.status = "rolled back"
        if staging is not None:
            staging.discard()
        for name, version in self.versions.items():
            _remove_tree(version_path(self.main.entry(name), version))
        self.versions.clear()
        self.cat, self.wh = self.main, self.main.warehouse()
        self.record()
        if isinstance(exc, WorkbenchError):
            return exc
        return WorkbenchError(f"the build failed and was rolled back: {error}")

    def write_frames(
        self, step: Step, spec: Any, result: Any, quarantined: Any, report: TableReport, t0: float
    ) -> TableReport:
        """Write a frames dataset as a new version folder, checked; published after the commit."""
        from workbench.io.frames import pinned, scan_parquet_ibis, write_version

        self.versions[spec.name] = self.build_id
        report.rows_out = write_version(result, spec, self.build_id)
        if quarantined is not None:
            report.rows_quarantined = self.quarantine(
                step.target, spec.key, _to_warehouse(quarantined)
            )
        version = pinned(spec, self.build_id)
        self.checks += check_table(version, scan_parquet_ibis(version))
        report.seconds = time.perf_counter() - t0
        report.status = "built"
        return report

    def publish(self, spec: Any, version: str) -> list[Any]:
        """Switch the dataset's pointer to ``version``; keep the version before it for readers
        still reading it, and remove the rest (returned)."""
        from workbench.io.frames import (
            clean_versions,
            current_version,
            prepare_pointer,
            switch_pointer,
        )

        before = current_version(spec) or "legacy"  # a plain folder becomes version "legacy"
        link = prepare_pointer(spec, version)
        fault_pause("parquet-swap")
        switch_pointer(spec, link)
        keep = set(self.committed_versions(spec.name)[:1]) | {version, before}
        return clean_versions(spec, keep)

    def committed_versions(self, name: str) -> list[str]:
        """Build ids that committed ``name`` (status ``built``), newest first."""
        wh = self.main.warehouse()
        if not wh.exists("ops.build_runs"):
            return []
        t = wh.table("ops.build_runs")
        rows = t.filter((t.table_name == name) & (t.status == "built"))
        ordered = rows.order_by(rows.ended_at.desc()).select("build_id").to_pyarrow()
        return [v.as_py() for v in ordered["build_id"]]

    # -------------------------------------------------------------- crashes
    def recover(self) -> None:
        """Clean up after builds that died (we hold the build lock, so none is alive)."""
        from workbench.io.frames import clean_versions, current_version, version_path
        from workbench.io.staging import stale_copies

        wh = self.main.warehouse()
        if wh.exists("ops.build_runs"):
            t = wh.table("ops.build_runs")
            dead = t.filter(t.status == "running").select("build_id").distinct().to_pyarrow()
            for build_id in sorted({v.as_py() for v in dead["build_id"]}):
                literal = build_id.replace("'", "''")
                with wh.transaction():
                    wh.execute(
                        'UPDATE "ops"."build_runs" SET status = \'interrupted\' '
                        f"WHERE status = 'running' AND build_id = '{literal}'"
                    )
                self.recovered.append(f"marked {build_id} interrupted")
        if wh.duckdb_path is not None:
            for path in stale_copies(wh.duckdb_path):
                self.recovered.append(f"removed {path.name}")
        for step in STEPS:
            spec = self.main.entry(step.target)
            if spec.kind != "frames" or "://" in spec.location:
                continue
            committed = self.committed_versions(spec.name)
            finish = committed and current_version(spec) != committed[0]
            if finish and version_path(spec, committed[0]).is_dir():  # committed, not switched
                removed = self.publish(spec, committed[0])
                self.recovered.append(f"published {spec.name} version {committed[0]}")
                self.recovered += [f"removed {path.name}" for path in removed]
            # versions of builds that died before their commit (the current one stays)
            for path in clean_versions(spec, set(committed[:2])):
                self.recovered.append(f"removed {path.name}")

    def announce(self, steps: Sequence[Step]) -> None:
        """Lineage rows ``running`` for the tables about to be built (committed at once)."""
        planned = [TableReport(s.target, s.sources, None, status="running") for s in steps]
        self.main.write("ops.build_runs", self.runs_frame(planned), mode="append")

    def runs_frame(self, reports: Sequence[TableReport]) -> pd.DataFrame:
        ended = now_utc()
        runs = pd.DataFrame(
            [
                {
                    "build_id": self.build_id,
                    "table_name": r.table_name,
                    "sources": ",".join(r.sources),
                    "started_at": r.started_at,
                    "ended_at": None if r.status == "running" else ended,
                    "since": r.since,
                    "rows_in": r.rows_in,
                    "rows_out": r.rows_out,
                    "rows_quarantined": r.rows_quarantined,
                    "status": r.status,
                }
                for r in reports
            ]
        )
        runs["since"] = pd.to_datetime(runs["since"], utc=True)
        runs["ended_at"] = pd.to_datetime(runs["ended_at"], utc=True)
        return runs

    def record(self) -> None:
        """Write ``ops.dq_results`` and ``ops.build_runs`` (replacing the ``running`` rows) in
        one transaction: inside the build's own when it succeeds."""
        literal = self.build_id.replace("'", "''")
        with self.wh.transaction():
            if self.wh.exists("ops.build_runs"):
                self.wh.execute(f'DELETE FROM "ops"."build_runs" WHERE build_id = \'{literal}\'')
            if self.checks:
                checked_at = now_utc()
                rows = pd.DataFrame([c.row(self.build_id, checked_at) for c in self.checks])
                self.cat.write("ops.dq_results", rows, mode="append")
            if self.reports:
                self.cat.write("ops.build_runs", self.runs_frame(self.reports), mode="append")


def _remove_tree(path: Any) -> None:
    import shutil

    shutil.rmtree(path, ignore_errors=True)


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
