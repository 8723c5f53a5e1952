"""Tools for AI assistants: the catalog, read-only SQL, forecasts, anomalies and charts.

``import workbench.agents`` loads neither ``mcp`` nor ``langchain-core`` (the ``[agents]`` extra):
:func:`langchain_tools` and the MCP server import them when called.

>>> from workbench import open_catalog
>>> from workbench.agents import AgentTools, langchain_tools
>>> tools = AgentTools(open_catalog(read_only=True))  # doctest: +SKIP
>>> sql = "SELECT region, max(actual_load_mw) AS peak_mw FROM gold.fact_load GROUP BY 1"
>>> tools.call("query", {"sql": sql})  # doctest: +SKIP
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from workbench.core.extras import lazy_attributes

__all__ = ["AgentTools", "Limits", "langchain_tools", "run_tool_loop"]

_LAZY = {
    "AgentTools": "workbench.agents.tools",
    "Limits": "workbench.agents.tools",
    "langchain_tools": "workbench.agents.lc_tools",
    "run_tool_loop": "workbench.agents.example",
}

if TYPE_CHECKING:
    from workbench.agents.example import run_tool_loop
    from workbench.agents.lc_tools import langchain_tools
    from workbench.agents.tools import AgentTools, Limits


__getattr__ = lazy_attributes(__name__, _LAZY)
