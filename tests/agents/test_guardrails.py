"""The guardrail corpus: hostile inputs against the real tools on a real DuckDB warehouse.

Each input is refused, capped or timed out as expected; every table of the warehouse is
unchanged afterwards (rows and content hash), no file appears, and each call is a row of
``ops.agent_calls`` with its outcome.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.agents.conftest import agent_calls, warehouse_checksums

REFUSED, CAPPED, TIMEOUT = "refused", "capped", "timeout"


def corpus(tmp: Path) -> list[tuple[str, dict, str]]:
    out_csv, attach, export = tmp / "out.csv", tmp / "x.duckdb", tmp / "export"
    q = [
        # writes and DDL
        "INSERT INTO gold.fact_load SELECT * FROM gold.fact_load",
        "UPDATE gold.fact_load SET actual_load_mw = 0",
        "DELETE FROM gold.fact_load",
        "DROP TABLE gold.fact_load",
        "CREATE TABLE gold.evil AS SELECT 1 AS x",
        "ALTER TABLE gold.fact_load ADD COLUMN evil INTEGER",
        "CREATE VIEW gold.evil_view AS SELECT 1 AS x",
        "SELECT * INTO gold.evil_copy FROM gold.fact_load",
        "WITH d AS (DELETE FROM gold.fact_load RETURNING *) SELECT count(*) FROM d",
        "SELECT * FROM gold.fact_load FOR UPDATE",
        # attach, copy, extensions, settings, transactions
        f"ATTACH '{attach}' AS evil",
        f"COPY gold.fact_load TO '{out_csv}'",
        f"EXPORT DATABASE '{export}'",
        "INSTALL httpfs",
        "LOAD httpfs",
        "PRAGMA database_list",
        "SET threads = 1",
        "SET enable_external_access = true",
        "CALL checkpoint()",
        "BEGIN TRANSACTION",
        # file and URL table functions
        "SELECT * FROM read_csv('/etc/passwd')",
        "SELECT * FROM read_parquet('/tmp/*.parquet')",
        "SELECT * FROM read_json('https://example.com/x.json')",
        "SELECT * FROM glob('/etc/*')",
        "SELECT * FROM '/etc/passwd'",
        "SELECT * FROM 'https://example.com/data.csv'",
        "SELECT * FROM query('DROP TABLE gold.fact_load')",
        # several statements and comment tricks
        "SELECT 1; DROP TABLE gold.fact_load",
        "SELECT 1; -- harmless\nDELETE FROM gold.fact_load",
        f"SELECT 1 /* ; */; ATTACH '{attach}'",
        "/* SELECT */ DELETE FROM gold.fact_load",
        "SELECT 1 --\n; DROP TABLE gold.fact_load",
        "SELECT 1;;SELECT 2",
        "SELECT 1 /*" + "x" * 30_000 + "*/",
        # secrets, settings, system tables, the environment
        "SELECT * FROM duckdb_secrets()",
        "SELECT current_setting('s3_secret_access_key')",
        "SELECT getenv('HOME')",
        "SELECT * FROM information_schema.tables",
        "SELECT * FROM pg_catalog.pg_authid",
        "SELECT * FROM some_table_without_schema",
    ]
    cases = [("query", {"sql": s}, REFUSED) for s in q]
    cases += [
        # huge results: capped in rows, bytes, string length
        ("query", {"sql": "SELECT * FROM range(100000000)"}, CAPPED),
        ("query", {"sql": "SELECT r, repeat('y', 1500) AS pad FROM range(400) t(r)"}, CAPPED),
        ("query", {"sql": "SELECT repeat('x', 5000000) AS big"}, CAPPED),
        # slow queries: interrupted
        ("query", {"sql": "SELECT count(*) FROM range(1000000000) a, range(100000) b"}, TIMEOUT),
        # the other tools' arguments
        ("chart", {"sql": "DROP TABLE gold.fact_load", "x": "a", "y": ["b"]}, REFUSED),
        ("read_window", {"dataset": "gold.fact_load", "where": {"region": {"$ne": 1}}}, REFUSED),
        (
            "forecast",
            {
                "dataset": "gold.fact_load",
                "value_column": "actual_load_mw",
                "where": {"region": "NORTH"},
                "model": "tft",
            },
            REFUSED,
        ),
        ("frequency_events", {"start": "2024-03-01", "end": "2024-03-02"}, REFUSED),
        ("run_job", {"job": "load_forecast"}, REFUSED),
        ("query", {"sql": "SELECT 1", "path": "/etc/passwd"}, REFUSED),
    ]
    return cases


@pytest.mark.slow
def test_hostile_inputs_are_refused_capped_or_timed_out_and_logged(agent_home: Path, tmp_path):
    from workbench import open_catalog
    from workbench.agents import AgentTools, Limits
    from workbench.agents.errors import AgentError, QueryRefusedError, ToolTimeoutError

    sandbox = tmp_path / "sandbox"  # where COPY, EXPORT and ATTACH would write
    sandbox.mkdir()
    cases = corpus(sandbox)
    assert len(cases) >= 40
    warehouse = agent_home / "warehouse.duckdb"
    before = warehouse_checksums(warehouse)
    limits = Limits(max_rows=200, max_bytes=50_000, max_cell_chars=1000, timeout_s=1.0)
    tools = AgentTools(open_catalog(read_only=True), limits=limits)
    wrong = []
    for tool, args, expected in cases:
        try:
            result = tools.call(tool, args)
        except QueryRefusedError as exc:
            got, text = REFUSED, str(exc)
        except ToolTimeoutError as exc:
            got, text = TIMEOUT, str(exc)
        except AgentError as exc:
            got, text = f"error: {exc}", str(exc)
        else:
            got = CAPPED if result.get("truncated") else "ok"
            text = result.get("truncated_reason", "")
            assert len(result["rows"]) <= limits.max_rows
            assert all(len(str(v)) <= 1000 + 20 for row in result["rows"] for v in row)
        says_why = text.startswith(
            ("query refused", "expected", "more than", "result over", "strings")
        )
        if got != expected or not says_why:
            wrong.append((tool, args, expected, got, text[:80]))
    assert wrong == []

    assert warehouse_checksums(warehouse) == before  # every table, schema and view unchanged
    assert not list(sandbox.iterdir())  # no COPY/EXPORT/ATTACH file appeared
    logged = agent_calls(warehouse)
    assert [(t, o) for t, o, *_ in logged] == [(t, e) for t, _, e in cases]
    assert all(m for _t, o, _r, m, *_ in logged if o != CAPPED)  # every refusal says why
    assert {c for *_, c in logged} == {"python"}


def test_guard_messages_name_what_was_found():
    from workbench.agents.errors import QueryRefusedError
    from workbench.agents.sqlguard import check_query

    tables = ["gold.fact_load"]
    with pytest.raises(QueryRefusedError, match="expected exactly one statement; found 2"):
        check_query("SELECT 1; SELECT 2", tables=tables)
    with pytest.raises(QueryRefusedError, match=r"found getenv\(\)"):
        check_query("SELECT getenv('HOME')", tables=tables)
    with pytest.raises(QueryRefusedError, match=r"system table information_schema\.tables"):
        check_query("SELECT * FROM information_schema.tables", tables=tables)
    with pytest.raises(QueryRefusedError, match="found a Delete inside it"):
        check_query("WITH d AS (DELETE FROM gold.fact_load RETURNING *) SELECT * FROM d",
                    tables=tables)  # fmt: skip


def test_guard_accepts_ordinary_analysis_and_caps_it():
    from workbench.agents.sqlguard import check_query

    tables = ["gold.fact_load", "gold.dim_regions"]
    sql = (
        "WITH daily AS (SELECT region, CAST(timestamp AS DATE) AS day, max(actual_load_mw) AS peak "
        "FROM gold.fact_load GROUP BY 1, 2) SELECT d.region, r.region_name, avg(peak) FROM daily d "
        "JOIN gold.dim_regions r ON r.region_id = d.region GROUP BY 1, 2 "
        "UNION ALL SELECT 'x', 'y', 1.0 FROM range(1)"
    )
    guarded = check_query(sql, tables=tables, max_rows=50)
    assert guarded.tables == ("gold.dim_regions", "gold.fact_load")
    assert guarded.sql.endswith("LIMIT 51")
    pg = check_query("SELECT pg_sleep(1), * FROM gold.fact_load", tables=tables, dialect="postgres")
    assert pg.tables == ("gold.fact_load",)


@pytest.mark.parametrize(
    "sql",
    [
        "SELECT * FROM pg_authid",
        "SELECT * FROM pg_catalog.pg_shadow",
        "SELECT pg_read_file('/etc/passwd')",
        "SELECT current_setting('data_directory')",
        "SELECT set_config('default_transaction_read_only', 'off', false)",
        "SELECT nextval('gold.seq')",
        "SELECT * FROM dblink('host=x', 'select 1') AS t(a int)",
        "SELECT lo_import('/etc/passwd')",
        "COPY gold.fact_load TO PROGRAM 'rm -rf /'",
        "SELECT pg_terminate_backend(1)",
    ],
)
def test_postgres_dialect_refusals(sql: str):
    from workbench.agents.errors import QueryRefusedError
    from workbench.agents.sqlguard import check_query

    with pytest.raises(QueryRefusedError, match="query refused"):
        check_query(sql, tables=["gold.fact_load"], dialect="postgres")


def test_secrets_are_masked_in_text_values_and_clipped_text(monkeypatch):
    from workbench.agents.scrub import Scrubber, url_password

    monkeypatch.setenv("GRID_API_TOKEN", "tok-9f8e7d6c5b4a")
    url = "postgres://agent:p%40ss-w0rd@db:5432/grid?sslmode=require"
    scrub = Scrubber([url_password(url)])
    assert url_password(url) == "p@ss-w0rd"
    assert "p%40ss-w0rd" not in scrub.text(f"cannot connect to {url}")
    assert scrub.text("error near p@ss-w0rd and tok-9f8e7d6c5b4a") == "error near *** and ***"
    assert scrub.value({"a": ["x p@ss-w0rd"], "n": 1}) == {"a": ["x ***"], "n": 1}
    # a secret straddling the clip point is masked, not cut in half
    clipped = scrub.clipped("y" * 95 + "p@ss-w0rd" + "z" * 100, 100)
    assert "p@ss" not in clipped
    assert clipped.endswith("…[clipped]")
