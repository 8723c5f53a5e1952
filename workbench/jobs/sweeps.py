"""The anomaly sweep job: one day of SCADA and PMU data → gold.anomaly_events and
gold.frequency_events, published together under the run key.

The detection itself is :mod:`workbench.anomaly.sweep` (pure); this module reads its inputs
through the catalog and publishes the results (:func:`workbench.jobs.context.publish`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo


@dataclass
class SweepResult:
    """What one sweep found and wrote."""

    day: date
    frames: dict[str, Any]
    rows: dict[str, int] = field(default_factory=dict)
    metrics: dict[str, Any] = field(default_factory=dict)


def day_window(day: date, tz: str = "UTC") -> tuple[datetime, datetime]:
    """``[start, end)`` in UTC of a local day (23 or 25 hours on DST days)."""
    zone = ZoneInfo(tz)
    start = datetime.combine(day, time(0), zone)
    end = datetime.combine(day + timedelta(days=1), time(0), zone)
    return start.astimezone(ZoneInfo("UTC")), end.astimezone(ZoneInfo("UTC"))


def sweep_day(cat: Any, day: date, *, method: str = "rules", tz: str = "UTC") -> SweepResult:
    """Detect sensor anomalies (SCADA) and frequency events (PMU cube) of one day; no writes."""
    import numpy as np
    import pandas as pd

    from workbench.anomaly.sweep import anomaly_events_sweep, frequency_events_sweep

    start, end = day_window(day, tz)
    scada = cat.read("silver.scada_cleaned", start=start, end=end)
    if scada.empty:
        from workbench.jobs.context import PublishError

        msg = (
            f"expected rows in silver.scada_cleaned on {day.isoformat()} ({tz}); found none, so "
            "nothing was swept (is the day inside the data? try day=auto)"
        )
        raise PublishError(msg)
    events = anomaly_events_sweep(scada, "scada", method=method)
    cube = cat.scan("bronze.pmu")
    times = cube["time"].values  # UTC, naive datetime64
    lo, hi = (pd.Timestamp(t).tz_localize(None).to_datetime64() for t in (start, end))
    window = cube.isel(time=np.flatnonzero((times >= lo) & (times < hi)))
    freq = frequency_events_sweep(window) if window.sizes.get("time", 0) else None
    frames = {"gold.anomaly_events": events}
    if freq is not None:
        frames["gold.frequency_events"] = freq
    metrics = {
        "scada_rows": len(scada),
        "anomaly_events": len(events),
        "pmu_samples": int(window.sizes.get("time", 0)) * int(window.sizes.get("pmu", 0)),
        "frequency_events": 0 if freq is None else len(freq),
    }
    return SweepResult(day, frames, metrics=metrics)


def run_anomaly_sweep(
    cat: Any, day: date, run_key: str, *, method: str = "rules", tz: str = "UTC"
) -> SweepResult:
    """Sweep one day and publish both event tables in one transaction (a rerun replaces)."""
    from workbench.jobs.context import publish, record_metrics

    result = sweep_day(cat, day, method=method, tz=tz)
    result.rows = publish(cat, result.frames, run_key)
    record_metrics(result.metrics)
    return result
