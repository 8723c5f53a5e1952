"""Rows shaped like what the scheduled jobs write, for trying the dashboards without running them.

The browser tests and ``benchmarks/dashboard_render.py`` use these to fill
``gold.load_forecasts``, ``gold.frequency_events`` and ``ops.job_runs`` of a private copy of a
lakehouse. Deterministic for a given seed.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

QUANTILES = (0.1, 0.5, 0.9)


def load_forecasts(
    actual: pd.DataFrame,
    issue_times: Sequence[pd.Timestamp],
    *,
    horizon_hours: int = 48,
    lead_hours: int = 14,
    model: str = "lightgbm",
    seed: int = 0,
) -> pd.DataFrame:
    """Day-ahead-like quantile forecasts around hourly actuals (``region_id, timestamp, load_mw``).

    Each issue time forecasts ``horizon_hours`` hours starting ``lead_hours`` after it; the median
    is the actual with noise growing with the lead time, the band ±5 % around it.
    """
    rng = np.random.default_rng(seed)
    hourly = actual.assign(timestamp=pd.to_datetime(actual["timestamp"], utc=True))
    hourly = hourly.set_index(["region_id", "timestamp"])["load_mw"].sort_index()
    parts = []
    for issue in issue_times:
        issue = pd.Timestamp(issue)
        first = issue.floor("h") + pd.Timedelta(hours=lead_hours)
        targets = pd.date_range(first, periods=horizon_hours, freq="h")
        for region in hourly.index.get_level_values(0).unique():
            base = hourly.loc[region].reindex(targets).interpolate().bfill().ffill()
            lead = (targets - issue) / pd.Timedelta(hours=1)
            noise = rng.normal(0, 0.01 + 0.0004 * lead.to_numpy(), len(targets))
            median = base.to_numpy() * (1 + noise)
            for q in QUANTILES:
                parts.append(
                    pd.DataFrame(
                        {
                            "run_key": f"load/{issue:%Y%m%dT%H%M}",
                            "issue_time": issue,
                            "timestamp": targets,
                            "region_id": region,
                            "model": model,
                            "quantile": q,
                            "load_mw": median * (1 + (q - 0.5) * 0.125),
                        }
                    )
                )
    return pd.concat(parts, ignore_index=True)


def frequency_events(starts: Sequence[pd.Timestamp], seed: int = 0) -> pd.DataFrame:
    """Characterised under-frequency events, one per start, on PMUs ``PMU_0001``…"""
    rng = np.random.default_rng(seed)
    n = len(starts)
    nadir = 60 - rng.uniform(0.06, 0.25, n)
    begin = pd.to_datetime(list(starts), utc=True)
    return pd.DataFrame(
        {
            "run_key": "anomaly_sweep/sample",
            "pmu": [f"PMU_{i % 6 + 1:04d}" for i in range(n)],
            "start": begin,
            "end": begin + pd.to_timedelta(rng.uniform(5, 60, n), unit="s"),
            "min_hz": nadir,
            "max_hz": 60 + rng.uniform(0, 0.02, n),
            "samples_outside": rng.integers(3, 400, n),
            "nadir_hz": nadir,
            "time_to_nadir_s": rng.uniform(2, 12, n),
            "rocof_hz_per_s": -rng.uniform(0.01, 0.2, n),
            "settling_time_s": rng.uniform(10, 90, n),
        }
    )


def job_runs(started: Sequence[pd.Timestamp], folder: Path, *, fail_every: int = 3) -> pd.DataFrame:
    """Runs of the load forecast job; every ``fail_every``-th failed, with an executed notebook.

    Writes each run's notebook (a minimal valid ``.ipynb`` with its output) under ``folder``.
    """
    folder.mkdir(parents=True, exist_ok=True)
    rows = []
    for i, start in enumerate(pd.to_datetime(list(started), utc=True)):
        failed = fail_every > 0 and i % fail_every == fail_every - 1
        run_id = f"load_day_ahead-{start:%Y%m%dT%H%M%S}-{i:03d}"
        notebook = folder / f"{run_id}.ipynb"
        notebook.write_text(json.dumps(_notebook(run_id, failed)))
        duration = 12.0 + i
        rows.append(
            {
                "run_id": run_id,
                "job": "load_day_ahead",
                "status": "failed" if failed else "succeeded",
                "parameters": json.dumps({"issue_date": f"{start:%Y-%m-%d}"}),
                "started_at": start,
                "ended_at": start + pd.Timedelta(seconds=duration),
                "duration_s": duration,
                "rows_written": 0 if failed else 720,
                "metrics": json.dumps({"mape_day_ahead_pct": 2.1 + 0.1 * i}),
                "error": "PublishError: expected history; found none" if failed else None,
                "notebook_path": str(notebook),
            }
        )
    frame = pd.DataFrame(rows)
    frame["rows_written"] = frame["rows_written"].astype("int64")
    frame["error"] = frame["error"].astype("string")
    return frame


def _notebook(run_id: str, failed: bool) -> dict:
    text = "PublishError: expected history; found none" if failed else f"published {run_id}"
    output = (
        {"output_type": "error", "ename": "PublishError", "evalue": text, "traceback": [text]}
        if failed
        else {"output_type": "stream", "name": "stdout", "text": [text + "\n"]}
    )
    return {
        "cells": [
            {
                "cell_type": "code",
                "execution_count": 1,
                "id": "run",
                "metadata": {},
                "outputs": [output],
                "source": ["run_forecast(cat, 'load', issue_date, run_key)"],
            }
        ],
        "metadata": {"kernelspec": {"name": "gridmind", "display_name": "gridmind"}},
        "nbformat": 4,
        "nbformat_minor": 5,
    }
