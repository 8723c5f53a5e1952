"""The compute tools behind :class:`~workbench.agents.tools.AgentTools`: forecasts, anomalies,
frequency events. Each reads a capped window through :mod:`workbench.agents.reads` and calls
the same forecasting and anomaly code as jobs and notebooks.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from workbench.agents.errors import AgentError, QueryRefusedError
from workbench.agents.reads import read_frame

if TYPE_CHECKING:
    from workbench.agents.tools import AgentTools

#: Models an agent may backtest (fast to fit; the deep models are for jobs and notebooks).
BACKTEST_MODELS = ("seasonal_naive", "seasonal_naive_weekly", "climatology", "lightgbm")
#: Detectors an agent may run (the LSTM autoencoder is left to the sweep job).
ANOMALY_METHODS = ("rules", "iforest", "learned", "ensemble")
#: Metadata of a model version shown to an agent.
CHAMPION_FIELDS = ("model", "metrics", "backtest", "training_window", "created_at",
                   "features", "data_version", "code_version")  # fmt: skip


def _table(frame: Any) -> Any:
    import pyarrow as pa

    return pa.Table.from_pandas(frame.reset_index(drop=True), preserve_index=False)


def champion(tools: AgentTools, name: str) -> dict[str, Any]:
    """The champion version of registered model ``name`` and its lineage."""
    from workbench.forecasting.registry import ModelRegistry

    info = ModelRegistry().get(name)
    meta = {k: info.metadata[k] for k in CHAMPION_FIELDS if k in info.metadata}
    out = {"model_name": info.name, "version": info.version, "stage": info.stage,
           "metadata": meta, "row_count": 1, "truncated": False}  # fmt: skip
    return tools.scrubber.value(out)


def backtest_series(
    tools: AgentTools,
    dataset: str | None,
    value_column: str | None,
    where: dict[str, Any] | None,
    model: str,
    horizon: str,
    test_days: int,
    history_days: int,
) -> dict[str, Any]:
    """A rolling daily backtest of one series of a table over its last ``test_days`` days."""
    import pandas as pd

    from workbench.forecasting.user_backtest import backtest_table

    if dataset is None or value_column is None:
        msg = "expected model_name (champion) or dataset and value_column (backtest); found neither"
        raise AgentError(msg)
    if model not in BACKTEST_MODELS:
        raise QueryRefusedError(f"expected model among {list(BACKTEST_MODELS)}; found {model!r}")
    if not (1 <= int(test_days) <= 31 and 7 <= int(history_days) <= 365):
        found = f"{test_days}, {history_days}"
        msg = f"expected 1 <= test_days <= 31 and 7 <= history_days <= 365; found {found}"
        raise QueryRefusedError(msg)
    spec = tools.reader.entry(dataset)
    time_col = spec.time_column
    frame, spec, note = read_frame(
        tools, dataset, [c for c in (time_col, value_column) if c], None, None, where,
        default_days=int(test_days) + int(history_days),
    )  # fmt: skip
    if frame.empty:
        raise AgentError(f"expected rows of {dataset} to backtest; found none (check where)")
    last = pd.Timestamp(frame[time_col].max())
    test_start = (last - pd.Timedelta(days=int(test_days))).strftime("%Y-%m-%d")
    bt = backtest_table(frame, time_col, value_column, horizon=horizon, model=model,
                        test_start=test_start, retrain="never", tz="UTC")  # fmt: skip
    report = bt.report()
    out = bt.output()
    last_issue = out[out["issue_time"] == out["issue_time"].max()]
    result = tools.rows_result(_table(last_issue), note=note)
    result["metrics"] = tools.scrubber.value(
        {k: report["metrics"][k] for k in ("model", "baseline", "skill") if k in report["metrics"]}
    )
    result["settings"] = report["settings"]
    return result


def anomalies(
    tools: AgentTools,
    dataset: str,
    value_column: str,
    start: str | None,
    end: str | None,
    group_column: str | None,
    where: dict[str, Any] | None,
    method: str,
) -> dict[str, Any]:
    """Anomaly events of a table's series in a capped window."""
    from workbench.anomaly.sensor import detect_sensor_anomalies

    if method not in ANOMALY_METHODS:
        raise QueryRefusedError(f"expected method among {list(ANOMALY_METHODS)}; found {method!r}")
    spec = tools.reader.entry(dataset)
    cols = [c for c in (spec.time_column, value_column, group_column) if c]
    frame, spec, note = read_frame(tools, dataset, cols, start, end, where, default_days=7)
    if frame.empty:
        raise AgentError(f"expected rows of {dataset} in the window; found none")
    events = detect_sensor_anomalies(frame, spec.time_column, value_column, group_column,
                                     method=method)  # fmt: skip
    keep = [c for c in ("group", "start", "end", "score", "kind", "detector") if c in events]
    return tools.rows_result(_table(events[keep]), note=f"{len(events)} events; {note}")


def frequency(
    tools: AgentTools, start: str, end: str, band_hz: float, count: int
) -> dict[str, Any]:
    """Characterised frequency excursions of every PMU in ``[start, end)`` (capped window)."""
    from workbench.anomaly.sweep import frequency_events_sweep
    from workbench.io.timewindow import to_utc

    lo, hi = to_utc(start, "start"), to_utc(end, "end")
    if lo is None or hi is None:
        raise QueryRefusedError(f"expected start and end; found {start!r}, {end!r}")
    span = (hi - lo).total_seconds()
    if not 0 < span <= tools.limits.max_pmu_window_s:
        msg = (
            f"expected 0 < end - start <= {tools.limits.max_pmu_window_s:g} s of PMU data; "
            f"found {span:g} s"
        )
        raise QueryRefusedError(msg)
    ds = tools.reader.read("bronze.pmu", start=lo, end=hi, columns=["frequency_hz", "quality"])
    if ds.sizes.get("time", 0) == 0:
        raise AgentError(f"expected PMU samples between {start} and {end}; found none")
    events = frequency_events_sweep(ds, band_hz=band_hz, count=count)
    note = f"{ds.sizes['pmu']} PMUs x {ds.sizes['time']} samples scanned"
    return tools.rows_result(_table(events), note=note)
