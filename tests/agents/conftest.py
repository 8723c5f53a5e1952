"""Agent-tool fixtures: a private, writable copy of the ci lakehouse with gold built."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import copy_home


@pytest.fixture
def agent_home(ci_medallion: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """WORKBENCH_HOME on a copy of the ci medallion (ops.agent_calls is written there)."""
    home = copy_home(ci_medallion, tmp_path / "home")
    monkeypatch.setenv("WORKBENCH_HOME", str(home))
    return home


def warehouse_checksums(path: Path, skip: tuple[str, ...] = ("ops.agent_calls",)) -> dict:
    """Rows and a content hash of every table of a DuckDB file, and its schemas and views."""
    import duckdb

    con = duckdb.connect(str(path), read_only=True)
    try:
        tables = con.execute(
            "SELECT schema_name || '.' || table_name FROM duckdb_tables() ORDER BY 1"
        ).fetchall()
        sums = {
            name: con.execute(f"SELECT count(*), sum(hash(x)::HUGEINT) FROM {name} AS x").fetchone()
            for (name,) in tables
            if name not in skip
        }
        sums["<schemas>"] = con.execute(
            "SELECT list(schema_name ORDER BY schema_name) FROM duckdb_schemas()"
        ).fetchone()
        sums["<views>"] = con.execute(
            "SELECT count(*) FROM duckdb_views() WHERE NOT internal"
        ).fetchone()
        sums["<databases>"] = con.execute(
            "SELECT list(database_name ORDER BY database_name) FROM duckdb_databases()"
        ).fetchone()
    finally:
        con.close()
    return sums


def agent_calls(path: Path) -> list[tuple]:
    """(tool, outcome, rows, message) of every logged call, oldest first."""
    import duckdb

    con = duckdb.connect(str(path), read_only=True)
    try:
        return con.execute(
            "SELECT tool, outcome, rows, message, arguments, client FROM ops.agent_calls "
            "ORDER BY called_at"
        ).fetchall()
    finally:
        con.close()
