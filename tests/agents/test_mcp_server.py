"""``workbench mcp`` for real: a subprocess, the official MCP client, stdio and HTTP."""

from __future__ import annotations

import asyncio
import base64
import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.agents.conftest import agent_calls
from tests.conftest import CATALOG, ROOT

EXPECTED_TOOLS = {
    "list_datasets",
    "describe_dataset",
    "query",
    "read_window",
    "forecast",
    "detect_anomalies",
    "frequency_events",
    "chart",
    "job_status",
}
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def _env(home: Path) -> dict[str, str]:
    return {
        "WORKBENCH_HOME": str(home),
        "WORKBENCH_CATALOG": str(CATALOG),
        "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]),
        "MPLCONFIGDIR": os.environ["MPLCONFIGDIR"],
    }


async def _stdio_session(home: Path) -> dict:
    from mcp import ClientSession
    from mcp.client.stdio import StdioServerParameters, stdio_client

    params = StdioServerParameters(
        command=sys.executable, args=["-m", "workbench.cli.main", "mcp"], env=_env(home)
    )
    out: dict = {}
    async with stdio_client(params) as (read, write), ClientSession(read, write) as session:
        await session.initialize()
        out["tools"] = {t.name for t in (await session.list_tools()).tools}
        listed = await session.call_tool("list_datasets", {"layer": "gold"})
        out["datasets"] = json.loads(listed.content[0].text)
        sql = (
            "SELECT region, count(*) AS hours, round(max(actual_load_mw), 1) AS peak_mw "
            "FROM gold.fact_load GROUP BY region ORDER BY region"
        )
        out["query"] = json.loads((await session.call_tool("query", {"sql": sql})).content[0].text)
        out["refused"] = await session.call_tool("query", {"sql": "DELETE FROM gold.fact_load"})
        out["chart"] = await session.call_tool("chart", {
            "sql": "SELECT timestamp, region, actual_load_mw FROM gold.fact_load "
                   "WHERE region IN ('NORTH', 'COAST')",
            "x": "timestamp", "y": ["actual_load_mw"], "group": "region", "title": "load",
        })  # fmt: skip
        resource = await session.read_resource("catalog://dataset/gold.fact_load")
        out["resource"] = json.loads(resource.contents[0].text)
    return out


@pytest.mark.slow
def test_stdio_server_lists_tools_queries_gold_and_draws_a_png(agent_home: Path):
    import duckdb

    out = asyncio.run(_stdio_session(agent_home))
    assert out["tools"] == EXPECTED_TOOLS  # run_job is not exposed without --allow-jobs

    names = [row[0] for row in out["datasets"]["rows"]]
    assert "gold.fact_load" in names
    assert all(n.startswith("gold.") for n in names)

    con = duckdb.connect(str(agent_home / "warehouse.duckdb"), read_only=True)
    truth = con.execute(
        "SELECT region, count(*), round(max(actual_load_mw), 1) FROM gold.fact_load "
        "GROUP BY region ORDER BY region"
    ).fetchall()
    con.close()
    assert out["query"]["columns"] == ["region", "hours", "peak_mw"]
    assert [tuple(r) for r in out["query"]["rows"]] == [tuple(r) for r in truth]

    assert out["refused"].is_error
    assert "query refused: expected a SELECT; found a Delete" in out["refused"].content[0].text

    image, text = out["chart"].content
    assert image.type == "image"
    assert image.mime_type == "image/png"
    png = base64.b64decode(image.data)
    assert png.startswith(PNG_MAGIC)
    assert len(png) > 5000
    assert "line chart of actual_load_mw by timestamp" in text.text

    assert out["resource"]["time_column"] == "timestamp"
    logged = [(tool, outcome, client) for tool, outcome, _r, _m, _a, client in
              agent_calls(agent_home / "warehouse.duckdb")]  # fmt: skip
    assert logged == [
        ("list_datasets", "ok", "mcp-stdio"),
        ("query", "ok", "mcp-stdio"),
        ("query", "refused", "mcp-stdio"),
        ("chart", "ok", "mcp-stdio"),
        ("describe_dataset", "ok", "mcp-stdio"),
    ]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def _http_session(url: str, token: str) -> tuple[set[str], dict]:
    from mcp import ClientSession
    from mcp.client.streamable_http import streamable_http_client
    from mcp.shared._httpx_utils import create_mcp_http_client

    headers = {"Authorization": f"Bearer {token}"}
    async with (
        create_mcp_http_client(headers=headers) as http,
        streamable_http_client(url, http_client=http) as (read, write),
        ClientSession(read, write) as session,
    ):
        await session.initialize()
        tools = {t.name for t in (await session.list_tools()).tools}
        result = await session.call_tool(
            "query", {"sql": "SELECT count(*) AS n FROM gold.dim_regions"}
        )
        return tools, json.loads(result.content[0].text)


@pytest.mark.slow
def test_http_server_needs_the_bearer_token(agent_home: Path):
    import httpx2

    port = _free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "workbench.cli.main", "mcp", "--http", "--port", str(port)],
        env={**os.environ, **_env(agent_home)},
        stderr=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        lines = []  # the generated token is printed once, on stderr
        while not lines or not lines[-1].startswith("bearer token: "):
            lines.append(proc.stderr.readline())
            assert lines[-1], f"the server exited before printing its token: {lines}"
        token = lines[-1].split(": ", 1)[1].strip()
        deadline = time.monotonic() + 60
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), 0.2).close()
                break
            except OSError:
                assert proc.poll() is None, proc.stderr.read()
                assert time.monotonic() < deadline
                time.sleep(0.1)
        url = f"http://127.0.0.1:{port}/mcp"
        assert httpx2.post(url, json={}).status_code == 401
        wrong = {"Authorization": "Bearer " + "x" * len(token)}
        assert httpx2.post(url, json={}, headers=wrong).status_code == 401
        tools, result = asyncio.run(_http_session(url, token))
        assert tools == EXPECTED_TOOLS
        assert result["rows"] == [[5]]
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    assert token not in "".join(proc.stdout.read() or "")
