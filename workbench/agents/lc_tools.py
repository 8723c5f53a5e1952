"""The agent tools as LangChain tools (``langchain-core``), for LangChain agents and CrewAI crews.

Each tool is a ``StructuredTool`` whose argument schema is the tool method's typed signature and
whose call goes through :meth:`AgentTools.call` (caps, ``ops.agent_calls``, scrubbing). A
refusal is returned to the model as the tool's error text (``handle_tool_error``), so it can
correct its SQL. ``chart`` answers with its description as content and the PNG bytes as the
artifact (``response_format="content_and_artifact"``).
"""

from __future__ import annotations

import inspect
import json
from typing import Any

from workbench.agents.errors import AgentError
from workbench.agents.tools import AgentTools, ChartResult
from workbench.core.extras import require


def _args_schema(tools: AgentTools, name: str) -> Any:
    import pydantic

    fields: dict[str, Any] = {}
    for p in inspect.signature(tools.function(name), eval_str=True).parameters.values():
        default = ... if p.default is inspect.Parameter.empty else p.default
        fields[p.name] = (p.annotation, default)
    return pydantic.create_model(f"{name}_args", **fields)


def _tool(tools: AgentTools, name: str) -> Any:
    lc_tools = require("langchain_core.tools", "agents", "LangChain tools")
    is_chart = name == "chart"

    def run(**kwargs: Any) -> Any:
        try:
            result = tools.call(name, kwargs)
        except AgentError as exc:
            raise lc_tools.ToolException(str(exc)) from None
        if isinstance(result, ChartResult):
            return result.description, result.png
        return json.dumps(result, default=str)

    return lc_tools.StructuredTool.from_function(
        func=run,
        name=name,
        description=tools.description(name),
        args_schema=_args_schema(tools, name),
        infer_schema=False,
        handle_tool_error=True,
        response_format="content_and_artifact" if is_chart else "content",
    )


def langchain_tools(cat: Any, **options: Any) -> list[Any]:
    """The agent tools as LangChain ``StructuredTool`` objects.

    Parameters
    ----------
    cat : Catalog or AgentTools
        A catalog (tools are built on it with ``options``) or ready :class:`AgentTools`.
    **options
        :class:`AgentTools` options: ``limits``, ``query_url``, ``allow_jobs``.

    Examples
    --------
    >>> tools = langchain_tools(open_catalog(read_only=True))  # doctest: +SKIP
    >>> agent_model = ChatOpenAI(model="...").bind_tools(tools)  # doctest: +SKIP
    """
    agent = cat if isinstance(cat, AgentTools) else AgentTools(cat, client="langchain", **options)
    return [_tool(agent, name) for name in agent.names]
