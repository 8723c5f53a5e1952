# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#   kernelspec:
#     display_name: GridMind (workbench)
#     language: python
#     name: gridmind
# ---

# %% [markdown]
# # AI assistants on the workbench: MCP and LangChain tools behind guardrails
#
# ## Overview
# An assistant — in JupyterLab, in an IDE, or in a LangChain/CrewAI crew — can use the same
# catalog, SQL, forecasts and charts as you, through typed tools: `list_datasets`,
# `describe_dataset`, `query`, `read_window`, `forecast`, `detect_anomalies`, `frequency_events`,
# `chart` and `job_status`. This tutorial calls the tools from Python, shows the guardrails at
# work (a write refused, a huge result capped, every call logged in `ops.agent_calls`), talks to
# `workbench mcp` with the official MCP client, and runs a tool-calling loop driven by a scripted
# chat model: question → SQL → backtest → chart → answer. No network and no model key needed.
#
# ## Prerequisites
# | concept | importance | notes |
# |---|---|---|
# | SQL | necessary | the `query` tool takes one SELECT |
# | the catalog (`00_catalog_and_medallion`) | helpful | dataset names, layers, time columns |
# | LLM tool calling | helpful | a model asks for a tool; the loop runs it and returns the result |
#
# Time to learn: 20 minutes. Data: the demo lakehouse (`make demo`), or any lakehouse that
# `WORKBENCH_HOME` points at (with gold built).

# %% [markdown]
# ## Parameters

# %% tags=["parameters"]
region = "NORTH"  # a region of gold.fact_load
max_rows = 100  # row cap of every tool result

# %% [markdown]
# ## Imports

# %%
import asyncio
import base64
import concurrent.futures
import json
import os
import sys
import tempfile

import pandas as pd
from IPython.display import Image, display
from langchain_core.messages import ToolMessage

from workbench import open_catalog
from workbench.agents import AgentTools, Limits, langchain_tools, run_tool_loop
from workbench.agents.errors import QueryRefusedError
from workbench.agents.example import scripted_forecasting_model

# %% [markdown]
# ## The tools, from Python
# `AgentTools` wraps a catalog. Every call goes through `call(name, arguments)`: the arguments
# are checked against the tool's typed signature, the result is capped in rows and bytes, secrets
# are masked, and the call is written to `ops.agent_calls`. The query connection is read-only; the
# log is written on a separate, short-lived writer connection.

# %%
cat = open_catalog(read_only=True)
tools = AgentTools(cat, limits=Limits(max_rows=max_rows))
print(tools.names)
gold = tools.call("list_datasets", {"layer": "gold"})
pd.DataFrame(gold["rows"], columns=gold["columns"])[["name", "time_column", "description"]]

# %%
sql = (
    "SELECT CAST(timestamp AS DATE) AS day, round(max(actual_load_mw), 1) AS peak_mw "
    f"FROM gold.fact_load WHERE region = '{region}' GROUP BY 1 ORDER BY 1 DESC LIMIT 7"
)
peaks = tools.call("query", {"sql": sql})
pd.DataFrame(peaks["rows"], columns=peaks["columns"])

# %% [markdown]
# ## Guardrails, enforced
# The `query` tool parses the SQL with sqlglot and accepts exactly one read-only SELECT over the
# catalog's tables; it runs the SQL it checked (regenerated, with a row cap) on a connection that
# cannot write (DuckDB `read_only=True` with file access disabled; on PostgreSQL a `READ ONLY`
# transaction under a SELECT-only role). Writes, DDL, `ATTACH`, `COPY`, `INSTALL`/`LOAD`,
# `PRAGMA`, `SET`, file and URL functions, system tables and secret lookups are refused with the
# reason; slow queries are interrupted; big results are cut and say so.

# %%
hostile = [
    "DELETE FROM gold.fact_load",
    "SELECT 1; DROP TABLE gold.fact_load",
    "SELECT * FROM read_csv('/etc/passwd')",
    "SELECT current_setting('s3_secret_access_key')",
]
refusals = []
for text in hostile:
    try:
        tools.call("query", {"sql": text})
    except QueryRefusedError as exc:
        refusals.append(str(exc).split(". The query tool")[0])
assert len(refusals) == len(hostile)  # every one refused
refusals

# %%
big = tools.call("query", {"sql": "SELECT * FROM gold.fact_generation"})
assert big["truncated"]
assert big["row_count"] == max_rows
big["truncated_reason"]

# %% [markdown]
# Every call, refused or not, is in `ops.agent_calls` (tool, arguments, rows, duration, outcome).

# %%
log = cat.read("ops.agent_calls")
assert {"ok", "refused", "capped"} <= set(log["outcome"])
log[["called_at", "tool", "outcome", "rows", "duration_s", "message"]].tail(8)

# %% [markdown]
# ## An MCP client session against `workbench mcp`
# Desktop assistants and JupyterLab extensions start `workbench mcp` and speak MCP over its
# stdin/stdout. Here the official `mcp` client does the same: it lists the tools and calls
# `query` and `chart` (the chart comes back as a PNG image). `workbench mcp --http --port 8765`
# serves the same on `127.0.0.1` behind a bearer token.


# %%
async def mcp_session() -> dict:
    from mcp import ClientSession
    from mcp.client.stdio import StdioServerParameters, stdio_client

    keep = ("WORKBENCH_HOME", "WORKBENCH_CATALOG", "PYTHONPATH", "MPLCONFIGDIR")
    params = StdioServerParameters(
        command=sys.executable,
        args=["-m", "workbench.cli.main", "mcp"],
        env={k: os.environ[k] for k in keep if k in os.environ},
    )
    # the server's log goes to a file: a notebook's stderr is not a real file
    with tempfile.TemporaryFile("w+") as errlog:
        async with (
            stdio_client(params, errlog=errlog) as (read, write),
            ClientSession(read, write) as session,
        ):
            await session.initialize()
            listed = await session.list_tools()
            answer = await session.call_tool("query", {"sql": sql})
            drawn = await session.call_tool(
                "chart",
                {
                    "sql": "SELECT timestamp, region, actual_load_mw FROM gold.fact_load "
                    "ORDER BY timestamp DESC LIMIT 840",
                    "x": "timestamp",
                    "y": ["actual_load_mw"],
                    "group": "region",
                    "title": "Load per region, last week",
                },
            )
    return {"tools": [t.name for t in listed.tools], "answer": answer, "chart": drawn}


def run_async(coroutine):
    """Run a coroutine to completion from a notebook cell (whose event loop is running)."""
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coroutine).result()


session = run_async(mcp_session())
print(session["tools"])
assert json.loads(session["answer"].content[0].text)["rows"] == peaks["rows"]

# %%
png = base64.b64decode(session["chart"].content[0].data)
assert png.startswith(b"\x89PNG")
display(Image(png))

# %% [markdown]
# ## A tool-calling loop: question → SQL → backtest → chart → answer
# `langchain_tools(cat)` gives the same tools as LangChain tools. `run_tool_loop` is a complete
# agent: the model answers or asks for tools, each tool runs and its result (or its refusal) goes
# back to the model. The model here is langchain-core's `GenericFakeChatModel` playing a script,
# so the notebook runs offline; the loop is the same with a real model.

# %%
lc_tools = langchain_tools(cat, limits=Limits(max_rows=max_rows))
question = f"How does load in {region} look, and how good is a day-ahead naive forecast?"
conversation = run_tool_loop(scripted_forecasting_model(region), lc_tools, question, bind=False)
for message in conversation:
    content = str(message.content)
    print(f"{type(message).__name__:>14}: {content[:160]}{'…' if len(content) > 160 else ''}")

# %%
results = {m.tool_call_id: m for m in conversation if isinstance(m, ToolMessage)}
backtest = json.loads(results["call-2"].content)
print(json.dumps(backtest["metrics"]["model"], indent=1)[:400])
assert backtest["metrics"]["model"]["mae"] > 0  # the backtest scored real forecasts
display(Image(results["call-3"].artifact))

# %% [markdown]
# ### With a real model
# Any LangChain chat model that supports tool calling works: bind the tools and let it drive.
# Nothing here runs; the key comes from the environment, never from the notebook:
#
# ```python
# from langchain_openai import ChatOpenAI  # pip install langchain-openai
# model = ChatOpenAI(model="gpt-4o-mini")  # reads OPENAI_API_KEY from the environment
# conversation = run_tool_loop(model, lc_tools, question)  # bind=True: model.bind_tools(...)
# ```
#
# A local server works the same way: `ChatOllama(model="qwen2.5")` from `langchain-ollama`.
#
# For a desktop assistant, register the server in its MCP configuration:
# `{"command": "workbench", "args": ["mcp"], "env": {"WORKBENCH_HOME": "/path/to/lakehouse"}}`.

# %% [markdown]
# ## Summary
# - The agent tools are typed functions over the catalog; `AgentTools.call` is the one door.
# - Guardrails are enforced: one read-only SELECT on a read-only connection, caps and timeouts
#   on every tool, secrets masked, every call in `ops.agent_calls`.
# - The same tools serve MCP (`workbench mcp`, stdio or HTTP with a token) and LangChain.
#
# ## What's next
# - `workbench mcp --help`; `--allow-jobs` exposes `run_job`, the one tool that changes state.
# - `01_load_forecasting` (in `notebooks/forecasting/`): the forecasts behind the `forecast` tool.

# %%
cat.close()
