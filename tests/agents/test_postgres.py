"""The query tool under a read-only PostgreSQL role (the session's real PostgreSQL server)."""

from __future__ import annotations

import pandas as pd
import pytest

PASSWORD = "agent-s3cret-pw-42"


@pytest.fixture
def pg_agent(postgres_server, monkeypatch):
    """gold.fact_load in PostgreSQL, and a role that may only SELECT on gold and ops."""
    import ibis

    from workbench import open_catalog
    from workbench.io.types import ibis_schema
    from workbench.io.warehouse import Warehouse

    monkeypatch.setenv("WORKBENCH_WAREHOUSE", postgres_server.url)
    cat = open_catalog()
    spec = cat.entry("gold.fact_load")
    times = pd.date_range("2024-03-01", periods=48, freq="h", tz="UTC")
    typed = {"string": "z", "float64": 0.0, "timestamp": times[0]}
    frame = pd.DataFrame({c: [typed[col.type]] * len(times) for c, col in spec.columns.items()})
    frame["timestamp"], frame["region"] = times, "NORTH"
    frame["actual_load_mw"] = [1000.0 + i for i in range(len(times))]
    with Warehouse(postgres_server.url) as wh:
        wh.write("gold.fact_load", frame, schema=ibis_schema(spec))
    con = ibis.connect(postgres_server.url)
    for sql in (
        "DROP ROLE IF EXISTS agent_ro",
        f"CREATE ROLE agent_ro LOGIN PASSWORD '{PASSWORD}'",
        "GRANT USAGE ON SCHEMA gold, ops TO agent_ro",
        "GRANT SELECT ON ALL TABLES IN SCHEMA gold, ops TO agent_ro",
    ):
        con.raw_sql(sql).close()
    port = postgres_server.url.rsplit(":", 1)[1].split("/")[0]
    yield cat, f"postgres://agent_ro:{PASSWORD}@127.0.0.1:{port}/postgres"
    cat.close()
    for schema in ("bronze", "silver", "gold", "ops"):
        con.raw_sql(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE').close()
    con.raw_sql("DROP OWNED BY agent_ro").close()
    con.raw_sql("DROP ROLE agent_ro").close()
    con.disconnect()


@pytest.mark.postgres
def test_query_tool_under_a_read_only_role(pg_agent, postgres_server):
    import ibis

    from workbench.agents import AgentTools, Limits
    from workbench.agents.errors import QueryRefusedError, ToolTimeoutError
    from workbench.io.readonly_sql import ReadOnlySql, ReadOnlyViolationError

    cat, ro_url = pg_agent
    tools = AgentTools(cat, query_url=ro_url, limits=Limits(timeout_s=1.0))
    result = tools.call("query", {"sql": "SELECT count(*) AS n, max(actual_load_mw) AS peak "
                                         "FROM gold.fact_load WHERE region = 'NORTH'"})  # fmt: skip
    assert result["rows"] == [[48, 1047.0]]

    with pytest.raises(QueryRefusedError, match="found a Update statement"):
        tools.call("query", {"sql": "UPDATE gold.fact_load SET actual_load_mw = 0"})
    with pytest.raises(QueryRefusedError, match=r"system table pg_catalog\.pg_authid"):
        tools.call("query", {"sql": "SELECT rolpassword FROM pg_catalog.pg_authid"})
    with pytest.raises(ToolTimeoutError, match="statement_timeout"):
        tools.call("query", {"sql": "SELECT pg_sleep(30) FROM gold.fact_load LIMIT 1"})

    # below the guard, the connection itself refuses writes with a clear message
    with ReadOnlySql(ro_url) as ro, pytest.raises(ReadOnlyViolationError) as err:
        ro.fetch("DELETE FROM gold.fact_load", max_rows=10)
    assert "expected a read-only statement; the warehouse refused it" in str(err.value)
    assert PASSWORD not in str(err.value)
    # and a role that could write is refused before any query
    superuser = ReadOnlySql(postgres_server.url)
    with superuser, pytest.raises(ReadOnlyViolationError, match="may only SELECT"):
        superuser.fetch("SELECT 1", max_rows=1)

    con = ibis.connect(postgres_server.url)
    assert con.raw_sql("SELECT count(*) FROM gold.fact_load").fetchone()[0] == 48
    logged = con.raw_sql("SELECT tool, outcome, message, arguments FROM ops.agent_calls "
                         "ORDER BY called_at").fetchall()  # fmt: skip
    con.disconnect()
    assert [(t, o) for t, o, *_ in logged] == [
        ("query", "ok"),
        ("query", "refused"),
        ("query", "refused"),
        ("query", "timeout"),
    ]
    assert not any(PASSWORD in (m or "") + (a or "") for _t, _o, m, a in logged)
