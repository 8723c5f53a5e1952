"""The LangChain tools in a tool-calling loop driven by langchain-core's fake chat model."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.agents.conftest import agent_calls


@pytest.mark.slow
def test_fake_chat_model_calls_two_tools_and_gets_their_results(agent_home: Path):
    from langchain_core.language_models.fake_chat_models import GenericFakeChatModel
    from langchain_core.messages import AIMessage, ToolMessage

    from workbench import open_catalog
    from workbench.agents import langchain_tools, run_tool_loop

    tools = langchain_tools(open_catalog(read_only=True))
    assert {t.name for t in tools} >= {"query", "chart", "forecast", "describe_dataset"}
    sql = "SELECT count(*) AS n FROM gold.dim_regions"
    script = [
        AIMessage("", tool_calls=[
            {"name": "describe_dataset", "args": {"name": "gold.fact_load"}, "id": "c1"},
            {"name": "query", "args": {"sql": sql}, "id": "c2"},
        ]),
        AIMessage("", tool_calls=[{"name": "query", "args": {"sql": "DROP TABLE gold.dim_regions"},
                                   "id": "c3"}]),
        AIMessage("There are 5 regions."),
    ]  # fmt: skip
    model = GenericFakeChatModel(messages=iter(script))
    messages = run_tool_loop(model, tools, "How many regions?", bind=False)

    results = {m.tool_call_id: m for m in messages if isinstance(m, ToolMessage)}
    assert set(results) == {"c1", "c2", "c3"}
    described = json.loads(results["c1"].content)
    assert described["time_column"] == "timestamp"
    assert "actual_load_mw" in [c["name"] for c in described["columns"]]
    assert json.loads(results["c2"].content)["rows"] == [[5]]
    assert results["c3"].status == "error"  # the refusal goes back to the model as text
    assert "query refused" in results["c3"].content
    assert messages[-1].content == "There are 5 regions."
    logged = [(t, o, c) for t, o, _r, _m, _a, c in agent_calls(agent_home / "warehouse.duckdb")]
    assert logged == [("describe_dataset", "ok", "langchain"), ("query", "ok", "langchain"),
                      ("query", "refused", "langchain")]  # fmt: skip


@pytest.mark.slow
def test_scripted_forecasting_agent_backtests_and_charts(agent_home: Path):
    from langchain_core.messages import ToolMessage

    from workbench import open_catalog
    from workbench.agents import langchain_tools, run_tool_loop
    from workbench.agents.example import scripted_forecasting_model

    tools = langchain_tools(open_catalog(read_only=True))
    messages = run_tool_loop(scripted_forecasting_model("NORTH"), tools, "Load tomorrow?",
                             bind=False)  # fmt: skip
    results = {m.tool_call_id: m for m in messages if isinstance(m, ToolMessage)}
    peaks = json.loads(results["call-1"].content)
    assert peaks["columns"] == ["day", "peak_mw"]
    assert peaks["row_count"] == 7
    backtest = json.loads(results["call-2"].content)
    assert backtest["metrics"]["model"]["mae"] > 0
    assert backtest["row_count"] == 24  # the last issue's 24 hourly forecasts
    assert results["call-3"].artifact.startswith(b"\x89PNG")


def test_state_changing_tool_exists_only_when_enabled(agent_home: Path):
    from workbench import open_catalog
    from workbench.agents import AgentTools, langchain_tools
    from workbench.agents.errors import QueryRefusedError

    cat = open_catalog(read_only=True)
    assert "run_job" not in {t.name for t in langchain_tools(cat)}
    assert "run_job" in {t.name for t in langchain_tools(cat, allow_jobs=True)}
    with pytest.raises(QueryRefusedError, match="found 'run_job' disabled"):
        AgentTools(cat).call("run_job", {"job": "load_forecast"})
