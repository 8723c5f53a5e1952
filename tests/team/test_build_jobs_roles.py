"""Build → job → gold on PostgreSQL as the writer role; the read-only role reads, never writes."""

from __future__ import annotations

import pandas as pd
import pytest

from tests.team.conftest import workbench

pytestmark = [pytest.mark.team, pytest.mark.postgres, pytest.mark.slow]

JOB_ARGS = ("-p", "issue_date=auto", "-p", "train_days=14", "-p", "model=seasonal_baseline")


def _runs(cat, job: str) -> pd.DataFrame:
    t = cat.scan("ops.job_runs")
    t = t.filter(t.job == job)
    return t.select("run_id", "status", "rows_written").to_pandas()


def test_build_then_job_publishes_gold_and_its_run_on_postgres(team, as_role):
    from workbench import open_catalog

    as_role("writer")
    with open_catalog(read_only=True) as cat:
        assert cat.warehouse().backend_name == "postgres"
        built = cat.scan("ops.build_runs").to_pandas()
        assert not built.empty
        assert cat.scan("gold.fact_load").count().execute() == TEAM_LOAD_ROWS

    first = workbench(team, "jobs", "run", "day_ahead_load", *JOB_ARGS)
    assert first.returncode == 0, first.stdout + first.stderr
    assert "succeeded day_ahead_load" in first.stdout
    with open_catalog(read_only=True) as cat:
        forecasts = cat.read("gold.load_forecasts")
        keys = forecasts.run_key.unique().tolist()
        assert len(keys) == 1
        assert keys[0].startswith("day_ahead_load:")
        n = len(forecasts)
        assert n == 5 * 48 * 3  # 5 regions, 48 hours, 3 quantiles
        runs = _runs(cat, "day_ahead_load")
        assert runs.status.tolist() == ["succeeded"]
        filled = cat.scan("gold.fact_load").forecast_load_mw.notnull().sum().execute()
        assert filled > 0


#: rows of gold.fact_load: 5 regions, hourly, TEAM_DAYS days
TEAM_LOAD_ROWS = 5 * 24 * 17


def test_doctor_answers_for_both_roles(team):
    said = {
        "writer": "role 'workbench_writer' writes bronze, silver, gold, ops",
        "reader": "role 'workbench_reader' reads only gold, ops; cannot read bronze, silver",
    }
    for role, access in said.items():
        done = workbench(team, "doctor", role=role, COLUMNS="400")
        line = next(li for li in done.stdout.splitlines() if "│ warehouse" in li)
        assert "│ ok" in line, done.stdout
        assert access in line, line


def test_reader_reads_gold_and_ops_only(team, as_role):
    from workbench import open_catalog
    from workbench.core.errors import WarehouseError

    as_role("reader")
    with open_catalog(read_only=True) as cat:
        assert cat.read("gold.dim_regions").region_id.nunique() == 5
        assert not cat.scan("ops.build_runs").to_pandas().empty
        with pytest.raises(WarehouseError, match="may not read schema 'silver'"):
            cat.read("silver.system_load")


def test_reader_write_is_refused_with_a_clear_message(team, as_role):
    from workbench import open_catalog
    from workbench.io.warehouse import Warehouse, WarehousePermissionError

    as_role("reader")
    with open_catalog(read_only=True) as cat:
        regions = cat.read("gold.dim_regions")
    with Warehouse(team.reader) as wh:
        with pytest.raises(WarehousePermissionError, match="role 'workbench_reader'") as info:
            wh.write("gold.dim_regions", regions, mode="replace")
        assert "\n" not in str(info.value)
        assert "writer role" in str(info.value)
        with pytest.raises(WarehousePermissionError, match="run DELETE"):
            wh.execute("DELETE FROM gold.dim_regions")
    with open_catalog(read_only=True) as cat:  # nothing changed
        assert len(cat.read("gold.dim_regions")) == 5

    # a job started with the reader's URL fails before any notebook runs, in one line
    done = workbench(team, "jobs", "run", "day_ahead_load", *JOB_ARGS, role="reader")
    assert done.returncode != 0
    assert "Traceback" not in done.stderr
    assert "read-only" in done.stderr, done.stderr
    assert "workbench_reader" in done.stderr, done.stderr


def test_concurrent_publishes_of_one_run_key_take_turns(team, as_role):
    """The run key guard on PostgreSQL: two writers at once leave one run's rows, not two."""
    import threading

    from workbench import open_catalog
    from workbench.jobs.context import publish

    as_role("writer")
    key = "guard:2024-03-09"
    start = threading.Barrier(4)

    def one(i: int) -> None:
        issue = pd.Timestamp("2024-03-09", tz="UTC")
        frame = pd.DataFrame(
            {
                "issue_time": issue,
                "timestamp": [issue + pd.Timedelta(hours=h) for h in range(24)],
                "region_id": "NORTH",
                "model": f"writer{i}",
                "quantile": 0.5,
                "load_mw": float(i),
            }
        )
        with open_catalog(read_only=True) as cat:
            start.wait()
            publish(cat, {"gold.load_forecasts": frame}, key)

    threads = [threading.Thread(target=one, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    with open_catalog(read_only=True) as cat:
        t = cat.scan("gold.load_forecasts")
        rows = t.filter(t.run_key == key).to_pandas()
    assert len(rows) == 24  # one writer's rows, whole
    assert rows.model.nunique() == 1
