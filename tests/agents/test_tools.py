"""The data tools against the ci lakehouse, each checked against a direct computation."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.mark.slow
def test_read_window_and_frequency_events_match_direct_reads(agent_home: Path):
    import duckdb
    import pandas as pd

    from workbench import open_catalog
    from workbench.agents import AgentTools
    from workbench.anomaly.sweep import frequency_events_sweep

    cat = open_catalog(read_only=True)
    tools = AgentTools(cat)
    window = tools.call("read_window", {
        "dataset": "gold.fact_load", "start": "2024-03-10", "end": "2024-03-11",
        "columns": ["timestamp", "actual_load_mw"], "where": {"region": "COAST"},
    })  # fmt: skip
    con = duckdb.connect(str(agent_home / "warehouse.duckdb"), read_only=True)
    truth = con.execute(
        "SELECT actual_load_mw FROM gold.fact_load WHERE region = 'COAST' AND timestamp >= "
        "'2024-03-10' AND timestamp < '2024-03-11' ORDER BY timestamp"
    ).fetchall()
    con.close()
    assert window["row_count"] == 24
    assert [r[1] for r in window["rows"]] == [t[0] for t in truth]

    times = cat.scan("bronze.pmu")["time"].values
    start = pd.Timestamp(times[0]).tz_localize("UTC")
    end = start + pd.Timedelta("5min")
    found = tools.call("frequency_events", {"start": str(start), "end": str(end)})
    direct = frequency_events_sweep(cat.read("bronze.pmu", start=start, end=end))
    assert found["row_count"] == len(direct) > 0
    assert [r[0] for r in found["rows"]] == list(direct["pmu"])
    assert found["columns"][:3] == ["pmu", "start", "end"]


def test_duckdb_connection_refuses_writes_below_the_guard(agent_home: Path, tmp_path: Path):
    from tests.agents.conftest import warehouse_checksums
    from workbench.io.readonly_sql import ReadOnlySql, ReadOnlyViolationError

    warehouse = agent_home / "warehouse.duckdb"
    before = warehouse_checksums(warehouse)
    target = tmp_path / "out.csv"
    statements = [
        "DELETE FROM gold.dim_regions",
        "CREATE TABLE gold.evil AS SELECT 1 AS x",
        "SET threads = 1",
        f"COPY gold.dim_regions TO '{target}'",
        f"ATTACH '{tmp_path / 'other.duckdb'}' AS other",
        "SELECT * FROM read_csv('/etc/hostname')",
    ]
    with ReadOnlySql(f"duckdb:///{warehouse}") as ro:
        for sql in statements:
            with pytest.raises(ReadOnlyViolationError, match="expected a read-only statement"):
                ro.fetch(sql, max_rows=5)
        assert ro.fetch("SELECT count(*) AS n FROM gold.dim_regions", max_rows=5).num_rows == 1
    assert warehouse_checksums(warehouse) == before
    assert not target.exists()
    assert not (tmp_path / "other.duckdb").exists()


@pytest.mark.slow
def test_forecast_tool_reports_the_registry_champion(agent_home: Path):
    import numpy as np
    import pandas as pd
    from sklearn.linear_model import Ridge

    from workbench import open_catalog
    from workbench.agents import AgentTools
    from workbench.agents.errors import AgentError
    from workbench.forecasting.registry import ModelRegistry

    x = pd.DataFrame({"hour": np.arange(48) % 24, "temp": np.linspace(40, 60, 48)})
    y = pd.Series(1000 + 10 * x["hour"] + x["temp"])
    backtest = {"metric": "mae", "value": 12.5, "start": "2024-03-01", "end": "2024-03-08"}
    ModelRegistry().register("load-NORTH", Ridge().fit(x, y), backtest=backtest,
                             stage="champion")  # fmt: skip

    tools = AgentTools(open_catalog(read_only=True))
    found = tools.call("forecast", {"model_name": "load-NORTH"})
    assert (found["model_name"], found["version"], found["stage"]) == ("load-NORTH", 1, "champion")
    assert found["metadata"]["backtest"]["value"] == 12.5
    assert found["metadata"]["model"]["class"].endswith("Ridge")
    with pytest.raises(AgentError, match="load-SOUTH"):
        tools.call("forecast", {"model_name": "load-SOUTH"})


def test_job_status_before_any_job_says_so(agent_home: Path):
    import duckdb

    from workbench import open_catalog
    from workbench.agents import AgentTools

    con = duckdb.connect(str(agent_home / "warehouse.duckdb"))
    con.execute("DROP TABLE IF EXISTS ops.job_runs")
    con.close()
    tools = AgentTools(open_catalog(read_only=True))
    out = tools.call("job_status", {})
    assert out["row_count"] == 0
    assert out["columns"][:3] == ["run_id", "job", "status"]
    assert "no job has run" in out["note"]
