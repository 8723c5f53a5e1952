"""``workbench demo`` (what ``make demo`` runs) on the ci profile: the lakehouse and every job."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

JOBS = ("day_ahead_load", "solar_forecast", "wind_forecast", "price_forecast", "anomaly_sweep")


def _workbench(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(Path(sys.executable).parent / "workbench"), *args],
        capture_output=True,
        text=True,
        env={**os.environ, "COLUMNS": "200"},
        timeout=900,
    )


@pytest.mark.slow
@pytest.mark.timeout(1200)  # the ci build, then five jobs (each trains its first model)
def test_demo_builds_the_lakehouse_runs_every_job_and_says_where(workbench_home):
    out = _workbench("demo", "--profile", "ci", "--seed", "3", "--backfill-days", "1")
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-2000:]
    assert f"demo ready: data under {workbench_home}" in out.stdout
    assert "bronze.raw_scada" in out.stdout
    assert " 0 checks failed" in out.stdout
    for job in JOBS:  # every job, on the last issue date (the backfill logic: tests/jobs)
        assert f"{job}: 1 day(s) run, 0 skipped (done before), 0 failed" in out.stdout, job

    from workbench import open_catalog
    from workbench.jobs import runs as job_runs

    cat = open_catalog(read_only=True)
    for name in ("bronze.raw_load", "silver.scada_cleaned", "gold.fact_load", "ops.build_runs"):
        assert int(cat.scan(name).count().execute()) > 0, name
    assert (workbench_home / "lake" / "bronze" / "pmu.zarr").is_dir()
    runs = job_runs.history(limit=100)
    assert sorted(runs.job) == sorted(JOBS)
    assert set(runs.status) == {"succeeded"}
    assert {m["executor"] for m in runs.metrics} == {"in-process"}

    # what it printed is what gold holds: rows with a forecast, per target
    fact_load = cat.read("gold.fact_load")
    with_load = int(fact_load.forecast_load_mw.notna().sum())
    assert with_load > 0
    prices = cat.read("gold.fact_market_prices", where={"market_type": "DA"})
    fc = cat.read("gold.price_forecasts", where={"quantile": 0.5})
    hit = prices.merge(
        fc[["node_id", "timestamp"]].drop_duplicates(),
        left_on=["node", "timestamp"],
        right_on=["node_id", "timestamp"],
    )
    assert len(hit) > 0
    gen = cat.read("gold.generation_forecasts")
    assert set(gen.technology) == {"solar", "wind"}
    events = int(cat.scan("gold.frequency_events").count().execute())
    assert events > 0  # the reliability page has frequency events to show
    cat.close()
    lines = out.stdout.splitlines()
    row = next(ln for ln in lines if ln.strip("│ ").startswith("load "))
    assert f"{with_load:,}" in row
    row = next(ln for ln in lines if ln.strip("│ ").startswith("price "))
    assert f"{len(hit):,}" in row
    row = next(ln for ln in lines if "gold.frequency_events" in ln)
    assert f"{events:,}" in row
