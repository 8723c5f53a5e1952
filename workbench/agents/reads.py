"""Windows of catalog tables for the agent tools: validated arguments, Ibis on a read-only link.

Every argument an agent passes (dataset, columns, filters, times) is checked against the
catalog entry before an expression is built; values reach the SQL only as Ibis literals.
"""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING, Any

from workbench.agents.errors import AgentError, QueryRefusedError
from workbench.io.timewindow import to_utc

if TYPE_CHECKING:
    from workbench.agents.tools import AgentTools

SCALARS = (str, int, float, bool)


def table_spec(tools: AgentTools, dataset: str) -> Any:
    """The catalog entry of a table dataset (other kinds are refused with what to use)."""
    spec = tools.reader.entry(dataset)
    if spec.kind != "table":
        msg = (
            f"expected a table dataset (warehouse); found {dataset} is a {spec.kind}. "
            "PMU cubes: use frequency_events"
        )
        raise AgentError(msg)
    return spec


def _check_columns(spec: Any, names: list[str], what: str) -> None:
    missing = [c for c in names if c not in spec.columns]
    if missing:
        known = list(spec.columns)
        msg = f"expected {what} among the columns of {spec.name} {known}; found {missing}"
        raise AgentError(msg)


def window_expr(
    tools: AgentTools,
    ro: Any,
    dataset: str,
    start: str | None,
    end: str | None,
    columns: list[str] | None,
    where: dict[str, Any] | None,
) -> tuple[Any, Any]:
    """An Ibis expression for a window of ``dataset`` (ordered by time) and the entry."""
    spec = table_spec(tools, dataset)
    t = ro.table(spec.location)
    lo, hi = to_utc(start, "start"), to_utc(end, "end")
    if (lo or hi) and spec.time_column is None:
        raise AgentError(f"expected no start/end: {dataset} has no time column; found a window")
    if lo is not None:
        t = t.filter(t[spec.time_column] >= lo)
    if hi is not None:
        t = t.filter(t[spec.time_column] < hi)
    for column, value in (where or {}).items():
        _check_columns(spec, [column], "filter columns")
        values = value if isinstance(value, list) else [value]
        if not values or not all(isinstance(v, SCALARS) for v in values):
            msg = f"expected filter values as text, numbers or lists of them; found {value!r}"
            raise QueryRefusedError(msg)
        t = t.filter(t[column].isin(values)) if isinstance(value, list) else t.filter(
            t[column] == value
        )  # fmt: skip
    if columns:
        _check_columns(spec, list(columns), "columns")
        t = t.select(*columns)
    order = [c for c in [spec.time_column, *spec.key] if c and c in t.columns]
    if order:
        t = t.order_by(list(dict.fromkeys(order)))
    return t, spec


def read_frame(
    tools: AgentTools,
    dataset: str,
    columns: list[str],
    start: str | None,
    end: str | None,
    where: dict[str, Any] | None,
    *,
    default_days: float | None = None,
) -> tuple[Any, Any, str]:
    """A pandas window for a compute tool, inside the window and input-row caps.

    Without ``start``, the window is the last ``default_days`` (default the cap) up to the
    table's latest time. Returns the frame, the entry and a note on what was read.
    """
    lim = tools.limits
    spec = table_spec(tools, dataset)
    if spec.time_column is None:
        raise AgentError(f"expected a dataset with a time column; found none on {dataset}")
    lo, hi = to_utc(start, "start"), to_utc(end, "end")
    days = min(default_days or lim.max_window_days, lim.max_window_days)
    with tools.connect() as ro:
        if lo is None:
            if hi is None:
                t = ro.table(spec.location)
                latest = ro.fetch(ro.compile(t[spec.time_column].max().name("m").as_table()),
                                  max_rows=1).column(0)[0].as_py()  # fmt: skip
                if latest is None:
                    raise AgentError(f"expected rows in {dataset}; found it empty")
                hi = to_utc(latest) + timedelta(microseconds=1)
            lo = hi - timedelta(days=days)
        if hi is None:
            hi = lo + timedelta(days=days)
        if hi - lo > timedelta(days=lim.max_window_days):
            msg = (
                f"expected a window of at most {lim.max_window_days:g} days; found "
                f"{(hi - lo).total_seconds() / 86400:.1f} days. Narrow start/end"
            )
            raise QueryRefusedError(msg)
        expr, _ = window_expr(tools, ro, dataset, lo.isoformat(), hi.isoformat(), columns, where)
        table = ro.fetch(ro.compile(expr.limit(lim.max_input_rows + 1)),
                         max_rows=lim.max_input_rows)  # fmt: skip
    if table.num_rows > lim.max_input_rows:
        msg = (
            f"expected at most {lim.max_input_rows} rows in the window; found more. "
            "Narrow start/end or filter with where"
        )
        raise QueryRefusedError(msg)
    note = f"{table.num_rows} rows of {dataset} from {lo.isoformat()} to {hi.isoformat()}"
    return table.to_pandas(), spec, note
