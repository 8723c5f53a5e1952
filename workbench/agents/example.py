"""An example forecasting agent: a tool-calling loop over the LangChain tools.

:func:`run_tool_loop` is the whole agent: the model answers or asks for tools, each requested
tool runs (its result, or its refusal, goes back as a ``ToolMessage``), until the model answers
without tool calls. Any chat model that supports tools works (``bind=True`` calls its
``bind_tools``): a local server (``ChatOllama``) or a provider (``ChatOpenAI``, key from the
environment). :func:`scripted_forecasting_model` is a langchain-core fake chat model that plays a
fixed script — question → SQL → backtest → chart → answer — so the loop runs with no network.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from workbench.agents.errors import AgentError
from workbench.core.extras import require

SYSTEM_PROMPT = (
    "You are a grid forecasting analyst. Use the tools: list_datasets and describe_dataset to "
    "find data, query for one read-only SELECT (aggregate in SQL), forecast to backtest a "
    "series or look up a champion model, chart to draw a SELECT. Quote numbers from tool "
    "results only."
)


def run_tool_loop(
    model: Any, tools: Sequence[Any], question: str, *, bind: bool = True, max_steps: int = 8
) -> list[Any]:
    """Ask ``model`` ``question`` with ``tools``; return the whole conversation.

    Parameters
    ----------
    model : BaseChatModel
        A chat model; with ``bind=True`` its ``bind_tools(tools)`` is used.
    tools : sequence of BaseTool
        The tools (:func:`workbench.agents.langchain_tools`).
    question : str
        The user's question.
    bind : bool
        Bind the tools to the model (False for a scripted model that already names them).
    max_steps : int
        Model turns before giving up.
    """
    messages_mod = require("langchain_core.messages", "agents", "the example agent")
    runnable = model.bind_tools(list(tools)) if bind else model
    by_name = {t.name: t for t in tools}
    messages = [messages_mod.SystemMessage(SYSTEM_PROMPT), messages_mod.HumanMessage(question)]
    for _ in range(max_steps):
        reply = runnable.invoke(messages)
        messages.append(reply)
        if not reply.tool_calls:
            return messages
        for call in reply.tool_calls:
            tool = by_name.get(call["name"])
            if tool is None:
                text = f"expected a tool among {sorted(by_name)}; found {call['name']!r}"
                messages.append(messages_mod.ToolMessage(text, tool_call_id=call["id"],
                                                         status="error"))  # fmt: skip
                continue
            messages.append(tool.invoke(call))
    raise AgentError(f"expected an answer within {max_steps} model turns; found more tool calls")


def scripted_forecasting_model(region: str = "NORTH") -> Any:
    """A fake chat model scripted to answer "how will load in ``region`` go tomorrow?".

    Turn 1 queries the daily peak load of the region's last week; turn 2 backtests a
    seasonal-naive day-ahead forecast of its hourly load and charts the last week; turn 3
    answers.
    """
    fake = require("langchain_core.language_models.fake_chat_models", "agents", "the example")
    messages_mod = require("langchain_core.messages", "agents", "the example agent")
    ai = messages_mod.AIMessage
    sql = (
        "SELECT CAST(timestamp AS DATE) AS day, max(actual_load_mw) AS peak_mw "
        f"FROM gold.fact_load WHERE region = '{region}' GROUP BY 1 ORDER BY 1 DESC LIMIT 7"
    )
    chart_sql = (
        "SELECT timestamp, actual_load_mw FROM gold.fact_load "
        f"WHERE region = '{region}' ORDER BY timestamp DESC LIMIT 168"
    )
    script = [
        ai("", tool_calls=[{"name": "query", "args": {"sql": sql}, "id": "call-1"}]),
        ai(
            "",
            tool_calls=[
                {
                    "name": "forecast",
                    "id": "call-2",
                    "args": {
                        "dataset": "gold.fact_load",
                        "value_column": "actual_load_mw",
                        "where": {"region": region},
                        "model": "seasonal_naive",
                        "horizon": "24h",
                        "test_days": 3,
                        "history_days": 7,
                    },
                },
                {
                    "name": "chart",
                    "id": "call-3",
                    "args": {
                        "sql": chart_sql,
                        "x": "timestamp",
                        "y": ["actual_load_mw"],
                        "title": f"{region} load, last week",
                    },
                },
            ],
        ),
        ai(f"Daily peaks and a day-ahead backtest for {region} are in the tool results above."),
    ]
    return fake.GenericFakeChatModel(messages=iter(script))
