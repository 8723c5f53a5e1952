"""Typed tools for AI assistants over a catalog, behind guardrails.

:class:`AgentTools` holds the tools an assistant may call — ``list_datasets``,
``describe_dataset``, ``query``, ``read_window``, ``forecast``, ``detect_anomalies``,
``frequency_events``, ``chart``, ``job_status`` and, only when enabled, ``run_job`` — and
:meth:`AgentTools.call`, the one door every call goes through (the MCP server and the LangChain
tools both use it):

- **read-only**: SQL passes :func:`workbench.agents.sqlguard.check_query` and runs on a
  :class:`workbench.io.readonly_sql.ReadOnlySql` connection, opened for the call and closed after;
- **caps**: at most ``max_rows`` rows and ``max_bytes`` of JSON per result (strings clipped at
  ``max_cell_chars``), at most ``max_window_days`` of data read by a compute tool, at most
  ``max_input_rows`` rows fed to a detector or forecaster; what was cut is said in the result
  (``truncated`` and ``truncated_reason``);
- **timeouts**: SQL is interrupted by the engine after ``timeout_s``; compute tools are waited for
  ``compute_timeout_s`` and answered with a timeout after that (their inputs are capped, so the
  abandoned work ends soon);
- **secrets**: every result and message passes the :class:`~workbench.agents.scrub.Scrubber`;
- **audit**: every call, refused or not, is a row of ``ops.agent_calls``.
"""

from __future__ import annotations

import concurrent.futures
import datetime as dt
import decimal
import inspect
import json
import math
import os
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from workbench.agents.calllog import AgentCall, AgentCallLog
from workbench.agents.errors import (
    AgentError,
    QueryRefusedError,
    ToolDisabledError,
    ToolTimeoutError,
)
from workbench.agents.scrub import Scrubber, url_password
from workbench.agents.sqlguard import DIALECTS, check_query
from workbench.core.errors import WorkbenchError

#: Environment variable naming the warehouse URL agent queries use (a read-only role).
QUERY_URL_ENV = "WORKBENCH_AGENT_WAREHOUSE"
READ_TOOLS = (
    "list_datasets",
    "describe_dataset",
    "query",
    "read_window",
    "forecast",
    "detect_anomalies",
    "frequency_events",
    "chart",
    "job_status",
)
STATE_TOOLS = ("run_job",)

Scalar = str | int | float | bool
Where = dict[str, Scalar | list[Scalar]]


@dataclass(frozen=True)
class Limits:
    """Caps applied to every tool call.

    Attributes
    ----------
    max_rows : int
        Rows returned by one call.
    max_bytes : int
        JSON size of one result [bytes]; rows beyond it are dropped and the result says so.
    max_cell_chars : int
        Longest string value returned [characters].
    timeout_s : float
        Longest SQL run [s] (interrupted by the engine).
    compute_timeout_s : float
        Longest forecast, detection or chart call [s].
    max_window_days : float
        Longest time window a compute tool reads [days].
    max_input_rows : int
        Rows a compute tool reads at most.
    max_pmu_window_s : float
        Longest PMU window ``frequency_events`` scans [s].
    """

    max_rows: int = 500
    max_bytes: int = 200_000
    max_cell_chars: int = 2_000
    timeout_s: float = 10.0
    compute_timeout_s: float = 120.0
    max_window_days: float = 62.0
    max_input_rows: int = 200_000
    max_pmu_window_s: float = 3_600.0


@dataclass
class ChartResult:
    """A rendered chart: PNG bytes and a one-line description for the model."""

    png: bytes
    description: str
    rows: int
    truncated: bool


class AgentTools:
    """The agent tools over a catalog.

    Parameters
    ----------
    cat : Catalog
        The catalog (its spec and warehouses); the tools open their own read-only connections.
    limits : Limits
        Caps and timeouts.
    query_url : str, optional
        Warehouse URL for queries: ``WORKBENCH_AGENT_WAREHOUSE`` or the catalog's default
        warehouse. On PostgreSQL it must be a role that may only SELECT (checked).
    allow_jobs : bool
        Expose ``run_job`` (state-changing). Off unless asked for.
    client : str
        Who calls, for the log (``python``, ``mcp-stdio``, ``mcp-http``, ``langchain``).
    extra_secrets : iterable of str
        More values to mask (an HTTP bearer token).

    Examples
    --------
    >>> tools = AgentTools(open_catalog(read_only=True))  # doctest: +SKIP
    >>> tools.call("query", {"sql": "SELECT count(*) AS n FROM gold.fact_load"})  # doctest: +SKIP
    {'columns': ['n'], 'rows': [[8064]], 'row_count': 1, 'truncated': False, ...}
    """

    def __init__(
        self,
        cat: Any,
        *,
        limits: Limits | None = None,
        query_url: str | None = None,
        allow_jobs: bool = False,
        client: str = "python",
        extra_secrets: tuple[str, ...] = (),
    ) -> None:
        from workbench.io.catalog import Catalog

        self.spec, self.path = cat.spec, cat.path
        self.reader = Catalog(cat.spec, cat.path, read_only=True)
        self.limits = limits or Limits()
        self.allow_jobs = allow_jobs
        self.client = client
        default_url = self.reader.warehouse().url
        self.query_url = query_url or os.environ.get(QUERY_URL_ENV) or default_url
        self.scrubber = Scrubber([url_password(self.query_url), url_password(default_url),
                                  *extra_secrets])  # fmt: skip
        for cred in self.spec.credentials.values():
            for var in cred.env.values():
                self.scrubber.add(os.environ.get(var))
        self.log = AgentCallLog(self.spec, self.path, self.scrubber)
        scheme = self.query_url.split(":", 1)[0].split("+")[0]
        self.dialect = DIALECTS.get(scheme, "duckdb")

    # ------------------------------------------------------------------ the door
    @property
    def names(self) -> tuple[str, ...]:
        """The tools exposed: the read tools, plus ``run_job`` when enabled."""
        return READ_TOOLS + (STATE_TOOLS if self.allow_jobs else ())

    def function(self, name: str) -> Callable[..., Any]:
        """The typed method behind tool ``name`` (its signature and docstring are the schema)."""
        if name in STATE_TOOLS and not self.allow_jobs:
            msg = (
                f"expected an enabled tool; found {name!r} disabled (it changes state: start the "
                "server with --allow-jobs or AgentTools(allow_jobs=True) to expose it)"
            )
            raise ToolDisabledError(msg)
        if name not in READ_TOOLS + STATE_TOOLS:
            raise AgentError(f"expected a tool among {list(self.names)}; found {name!r}")
        return getattr(self, name)

    def description(self, name: str) -> str:
        """The tool's description for a model: its docstring up to the parameters."""
        doc = inspect.getdoc(self.function(name)) or name
        return doc.split("\nParameters\n")[0].strip()

    def call(self, name: str, arguments: Mapping[str, Any] | None = None) -> Any:
        """Run tool ``name`` with ``arguments`` under the caps; log the call; scrub the answer.

        Returns the tool's JSON-like dict (or a :class:`ChartResult`). Raises an
        :class:`AgentError` (``QueryRefusedError``, ``ToolTimeoutError``...) whose message is
        scrubbed and meant for the model.
        """
        arguments = dict(arguments or {})
        started, t0 = dt.datetime.now(dt.UTC), time.perf_counter()
        outcome, message, result, error = "error", "", None, None
        try:
            fn = self.function(name)
            try:
                bound = inspect.signature(fn).bind(**arguments)
            except TypeError as exc:
                params = list(inspect.signature(fn).parameters)
                msg = f"expected arguments of {name} among {params}; found {sorted(arguments)}"
                raise QueryRefusedError(f"{msg} ({exc})") from None
            timeout = (
                self.limits.timeout_s + 5 if name == "query" else self.limits.compute_timeout_s
            )
            result = self._within(fn, bound, timeout, name)
            truncated = result.truncated if isinstance(result, ChartResult) else result.get(
                "truncated", False
            )  # fmt: skip
            outcome = "capped" if truncated else "ok"
        except (QueryRefusedError, ToolDisabledError) as exc:
            outcome, error = "refused", QueryRefusedError(self.scrubber.text(str(exc)))
        except ToolTimeoutError as exc:
            outcome, error = "timeout", ToolTimeoutError(self.scrubber.text(str(exc)))
        except WorkbenchError as exc:
            from workbench.io.readonly_sql import QueryTimeoutError, ReadOnlyViolationError

            text = self.scrubber.text(str(exc).splitlines()[0] if str(exc) else type(exc).__name__)
            if isinstance(exc, QueryTimeoutError):
                outcome, error = "timeout", ToolTimeoutError(text)
            elif isinstance(exc, ReadOnlyViolationError):
                outcome, error = "refused", QueryRefusedError(text)
            else:
                outcome, error = "error", AgentError(text)
        except Exception as exc:
            message = self.scrubber.text(f"{type(exc).__name__}: {exc}")
            self._record(name, arguments, started, t0, "error", message, None)
            raise  # a bug, not a refusal: logged, then surfaced as is
        if error is not None:
            message = str(error)
        self._record(name, arguments, started, t0, outcome, message, result)
        if error is not None:
            raise error
        return result

    def _within(self, fn: Callable[..., Any], bound: Any, timeout: float, name: str) -> Any:
        pool = concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix=f"agent-{name}")
        future = pool.submit(fn, *bound.args, **bound.kwargs)
        try:
            return future.result(timeout=timeout)
        except concurrent.futures.TimeoutError:
            msg = (
                f"expected {name} to finish within {timeout:g} s; found it still running, so "
                "its answer was abandoned. Ask for a shorter window or fewer series"
            )
            raise ToolTimeoutError(msg) from None
        finally:
            pool.shutdown(wait=False)

    def _record(self, name, arguments, started, t0, outcome, message, result) -> None:
        if isinstance(result, ChartResult):
            rows, size = result.rows, len(result.png)
        elif isinstance(result, dict):
            rows = int(result.get("row_count", 0))
            size = len(json.dumps(result, default=str))
        else:
            rows, size = 0, 0
        call = AgentCall(name, arguments, rows, size, time.perf_counter() - t0, outcome,
                         message, self.client, called_at=started)  # fmt: skip
        self.log.record(call)

    # ------------------------------------------------------------------ helpers
    def tables(self) -> list[str]:
        """The warehouse tables a query may read (``schema.table``)."""
        return [d.location for d in self.spec.datasets if d.kind == "table"]

    def connect(self) -> Any:
        """A fresh read-only connection for one call (close it, or use ``with``)."""
        from workbench.io.readonly_sql import ReadOnlySql

        return ReadOnlySql(self.query_url, timeout_s=self.limits.timeout_s)

    def rows_result(self, table: Any, *, note: str = "") -> dict[str, Any]:
        """An Arrow table (at most ``max_rows + 1`` rows) as a capped, scrubbed JSON result."""
        lim = self.limits
        columns = list(table.column_names)
        reasons = []
        if table.num_rows > lim.max_rows:
            table = table.slice(0, lim.max_rows)
            reasons.append(f"more than {lim.max_rows} rows: the first {lim.max_rows} are shown")
        rows, size, clipped = [], 2, False
        for record in table.to_pylist():
            row = [self._cell(record[c]) for c in columns]
            clipped |= any(isinstance(v, str) and v.endswith("…[clipped]") for v in row)
            row_size = len(json.dumps(row, default=str)) + 1
            if size + row_size > lim.max_bytes:
                reasons.append(f"result over {lim.max_bytes} bytes: {len(rows)} rows are shown")
                break
            rows.append(row)
            size += row_size
        if clipped:
            reasons.append(f"strings longer than {lim.max_cell_chars} characters were clipped")
        out = {"columns": columns, "rows": rows, "row_count": len(rows),
               "truncated": bool(reasons), "truncated_reason": "; ".join(reasons)}  # fmt: skip
        if note:
            out["note"] = note
        return out

    def _cell(self, value: Any) -> Any:
        if value is None or isinstance(value, (bool, int)):
            return value
        if isinstance(value, float):
            return None if math.isnan(value) or math.isinf(value) else value
        if isinstance(value, decimal.Decimal):
            return float(value)
        if isinstance(value, (dt.datetime, dt.date, dt.time)):
            return value.isoformat()
        if isinstance(value, dt.timedelta):
            return value.total_seconds()
        if isinstance(value, (bytes, bytearray)):
            return f"<{len(value)} bytes>"
        if isinstance(value, (list, tuple, dict)):
            value = json.dumps(value, default=str)
        return self.scrubber.clipped(str(value), self.limits.max_cell_chars)

    def run_sql(self, sql: str, *, max_rows: int | None = None) -> Any:
        """Guard and run ``sql``; an Arrow table of at most ``max_rows + 1`` rows."""
        cap = self.limits.max_rows if max_rows is None else max_rows
        guarded = check_query(sql, tables=self.tables(), dialect=self.dialect, max_rows=cap)
        with self.connect() as ro:
            return ro.fetch(guarded.sql, max_rows=cap)

    # ------------------------------------------------------------------ catalog tools
    def list_datasets(self, layer: str | None = None) -> dict[str, Any]:
        """List the datasets of the catalog (name, layer, kind, description).

        Layers: bronze (raw), silver (cleaned), gold (business facts and forecasts), ops (runs,
        checks, agent calls). Tables can be read with ``query`` or ``read_window``.

        Parameters
        ----------
        layer : str, optional
            Only this layer (bronze, silver, gold, ops).
        """
        import pyarrow as pa

        names = self.reader.list(layer=layer)
        entries = [self.reader.entry(n) for n in names]
        table = pa.table({
            "name": [e.name for e in entries],
            "layer": [e.layer for e in entries],
            "kind": [e.kind for e in entries],
            "time_column": [e.time_column for e in entries],
            "description": [e.description for e in entries],
        })  # fmt: skip
        return self.rows_result(table)

    def describe_dataset(self, name: str) -> dict[str, Any]:
        """Describe one dataset: its columns with types and units, key, time column, resolution.

        Parameters
        ----------
        name : str
            Dataset name as listed by list_datasets, e.g. ``gold.fact_load``.
        """
        e = self.reader.entry(name)
        columns = [{"name": c, "type": col.type, "unit": col.unit, "description": col.description}
                   for c, col in e.columns.items()]  # fmt: skip
        out = {
            "name": e.name, "description": e.description, "kind": e.kind, "layer": e.layer,
            "table": e.location if e.kind == "table" else None, "key": list(e.key),
            "time_column": e.time_column, "timezone": e.timezone, "resolution": e.resolution,
            "availability_lag": e.availability_lag, "owner": e.owner, "columns": columns,
            "row_count": len(columns), "truncated": False,
        }  # fmt: skip
        return self.scrubber.value(out)

    def query(self, sql: str) -> dict[str, Any]:
        """Run one read-only SQL SELECT over the catalog's tables (schema.table names).

        Only a single SELECT (WITH, UNION allowed) on tables such as gold.fact_load is
        accepted; writes, DDL, ATTACH, COPY, PRAGMA, SET, file or URL functions and system tables
        are refused. The result is capped in rows and bytes and the query is interrupted when
        it runs too long: aggregate in SQL rather than fetching raw rows.

        Parameters
        ----------
        sql : str
            The SELECT statement, in the warehouse's dialect (DuckDB or PostgreSQL).
        """
        return self.rows_result(self.run_sql(sql))

    def read_window(
        self,
        dataset: str,
        start: str | None = None,
        end: str | None = None,
        columns: list[str] | None = None,
        where: Where | None = None,
    ) -> dict[str, Any]:
        """Read a time window of a table dataset, optionally some columns and equality filters.

        Parameters
        ----------
        dataset : str
            A table dataset, e.g. ``gold.fact_load``.
        start, end : str, optional
            Half-open window [start, end) on the time column, ISO times (naive = UTC).
        columns : list of str, optional
            Columns to return (default all).
        where : dict, optional
            Equality filters ``{"region": "NORTH"}`` or lists ``{"region": ["NORTH", "COAST"]}``.
        """
        from workbench.agents.reads import window_expr

        with self.connect() as ro:
            expr, spec = window_expr(self, ro, dataset, start, end, columns, where)
            table = ro.fetch(ro.compile(expr.limit(self.limits.max_rows + 1)),
                             max_rows=self.limits.max_rows)  # fmt: skip
        return self.rows_result(table, note=f"ordered by {spec.time_column or 'key'}")

    def job_status(self, job: str | None = None, limit: int = 10) -> dict[str, Any]:
        """The latest job runs (newest first): job, status, start, duration, rows written, error.

        Parameters
        ----------
        job : str, optional
            Only this job.
        limit : int
            How many runs (at most the row cap).
        """
        limit = max(1, min(int(limit), self.limits.max_rows))
        cols = ["run_id", "job", "status", "started_at", "ended_at", "duration_s",
                "rows_written", "error"]  # fmt: skip
        with self.connect() as ro:
            if not ro.exists("ops.job_runs"):
                import pyarrow as pa

                empty = pa.table({c: pa.array([], pa.string()) for c in cols})
                note = "no job has run on this warehouse yet (ops.job_runs does not exist)"
                return self.rows_result(empty, note=note)
            t = ro.table("ops.job_runs")
            if job is not None:
                t = t.filter(t.job == job)
            expr = t.select(*cols).order_by(t.started_at.desc()).limit(limit)
            table = ro.fetch(ro.compile(expr), max_rows=limit)
        return self.rows_result(table)

    # ------------------------------------------------------------------ compute tools
    def forecast(
        self,
        model_name: str | None = None,
        dataset: str | None = None,
        value_column: str | None = None,
        where: Where | None = None,
        model: str = "seasonal_naive",
        horizon: str = "24h",
        test_days: int = 7,
        history_days: int = 28,
    ) -> dict[str, Any]:
        """Forecasts: the registry's champion for a model name, or a quick backtest of a series.

        With ``model_name`` (e.g. ``load-NORTH``): the champion version of that model in the
        model registry, with its training window and backtest metrics. Otherwise a rolling
        daily backtest of one series of a table (``dataset`` + ``value_column`` + ``where``
        selecting one series) over its last ``test_days`` days: skill and errors against the
        seasonal-naive baseline, and the last issue's forecast.

        Parameters
        ----------
        model_name : str, optional
            A registered model name (champion mode).
        dataset, value_column : str, optional
            The series to backtest (backtest mode), e.g. gold.fact_load and actual_load_mw.
        where : dict, optional
            Equality filters that select one series, e.g. {"region": "NORTH"}.
        model : str
            seasonal_naive, seasonal_naive_weekly, climatology or lightgbm.
        horizon : str
            Forecast horizon per issue, e.g. 24h.
        test_days, history_days : int
            Days backtested, and days of history before them.
        """
        from workbench.agents.analysis import backtest_series, champion

        if model_name is not None:
            return champion(self, model_name)
        return backtest_series(self, dataset, value_column, where, model, horizon,
                               test_days, history_days)  # fmt: skip

    def detect_anomalies(
        self,
        dataset: str,
        value_column: str,
        start: str | None = None,
        end: str | None = None,
        group_column: str | None = None,
        where: Where | None = None,
        method: str = "rules",
    ) -> dict[str, Any]:
        """Anomaly events (flatlines, spikes, out-of-range, stale values...) in a table's series.

        Parameters
        ----------
        dataset, value_column : str
            The table and its numeric column, e.g. silver.scada_cleaned and value_mw.
        start, end : str, optional
            Window (ISO times, UTC); default the last days of the table, at most the cap.
        group_column : str, optional
            Series id column (e.g. asset_id); without it the rows are one series.
        where : dict, optional
            Equality filters.
        method : str
            rules, iforest, learned or ensemble.
        """
        from workbench.agents.analysis import anomalies

        return anomalies(self, dataset, value_column, start, end, group_column, where, method)

    def frequency_events(
        self, start: str, end: str, band_hz: float = 0.05, count: int = 3
    ) -> dict[str, Any]:
        """Frequency excursions in the PMU cube: 3 samples outside 60 +/- 0.05 Hz within 5 s.

        Each event gives the PMU, start, end, nadir [Hz], time to nadir [s], ROCOF [Hz/s] and
        settling time [s]. Stored sweeps are in gold.frequency_events (use query).

        Parameters
        ----------
        start, end : str
            Window [start, end) in UTC, at most an hour.
        band_hz : float
            Half-width of the normal band [Hz].
        count : int
            Samples outside the band within 5 s that make an event.
        """
        from workbench.agents.analysis import frequency

        return frequency(self, start, end, band_hz, count)

    def chart(
        self,
        sql: str,
        x: str,
        y: list[str],
        kind: str = "line",
        group: str | None = None,
        title: str = "",
    ) -> ChartResult:
        """Draw a PNG chart of a read-only SELECT's result (line, scatter, bar or area).

        Parameters
        ----------
        sql : str
            The SELECT whose rows are drawn (same rules as query).
        x : str
            Column on the horizontal axis.
        y : list of str
            Numeric columns on the vertical axis.
        kind : str
            line, scatter, bar or area.
        group : str, optional
            Column splitting the rows into series (one line per value).
        title : str
            Chart title.
        """
        from workbench.agents.charts import render_chart

        points = self.limits.max_input_rows
        table = self.run_sql(sql, max_rows=points)
        truncated = table.num_rows > points
        frame = table.slice(0, points).to_pandas()
        png = render_chart(frame, kind=kind, x=x, y=y, group=group, title=title)
        cut = f" (first {points} rows of more)" if truncated else ""
        text = f"{kind} chart of {', '.join(y)} by {x}: {len(frame)} rows{cut}, {len(png)} B PNG"
        return ChartResult(png, text, len(frame), truncated)

    # ------------------------------------------------------------------ state-changing
    def run_job(self, job: str, parameters: dict[str, str] | None = None) -> dict[str, Any]:
        """Run a scheduled job now (changes state: writes its outputs). Enabled explicitly only.

        Parameters
        ----------
        job : str
            Job name as listed by job_status / ``workbench jobs list``.
        parameters : dict, optional
            Parameter overrides, text values.
        """
        import pyarrow as pa

        from workbench.jobs import runs as job_runs
        from workbench.jobs.runner import resolve_parameters, run_job
        from workbench.jobs.spec import get_job_spec

        if not self.allow_jobs:  # the door checks it too; a direct call is refused the same way
            self.function("run_job")
        spec = get_job_spec(job)
        params = resolve_parameters(spec, parameters or {}, job_runs.now_utc())
        result = run_job(spec, params)
        runs = result.attempts
        table = pa.table({
            "run_id": [r.run_id for r in runs], "status": [r.status for r in runs],
            "error": [r.error for r in runs],
        })  # fmt: skip
        return self.rows_result(table, note="ok" if result.ok else "the job failed")
