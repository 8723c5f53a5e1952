"""The MCP server: the agent tools and the catalog's entries on the official ``mcp`` SDK.

- **stdio** (:func:`run_stdio`): for desktop assistants, IDEs and JupyterLab, which start
  ``workbench mcp`` themselves. Nothing but protocol messages goes to stdout.
- **streamable HTTP** (:func:`run_http`): bound to ``127.0.0.1`` only, every request must carry
  ``Authorization: Bearer <token>`` (compared in constant time); anything else gets ``401``.

Tools are :class:`~workbench.agents.tools.AgentTools` methods registered with their signatures
(so the input schemas are the typed parameters) and run through :meth:`AgentTools.call` (caps,
log, scrubbing); a refusal reaches the client as a tool error with its one-line message.
Resources: ``catalog://datasets`` (the list) and ``catalog://dataset/{name}`` (one entry).
"""

from __future__ import annotations

import functools
import hmac
import inspect
import json
import secrets
from typing import Any

from workbench.agents.errors import AgentError
from workbench.agents.tools import AgentTools, ChartResult
from workbench.core.extras import require

HOST = "127.0.0.1"
INSTRUCTIONS = (
    "GridMind Workbench: power-grid data (load, generation, prices, PMU frequency) in a "
    "bronze/silver/gold warehouse. Start with list_datasets and describe_dataset, query with one "
    "read-only SELECT on schema.table names (aggregate in SQL), chart a SELECT's result."
)


def _tool_function(tools: AgentTools, name: str) -> Any:
    """A function with the tool's signature that runs it through ``tools.call``."""
    mcp_exceptions = require("mcp.server.mcpserver.exceptions", "agents", "the MCP server")
    image = require("mcp.server.mcpserver", "agents", "the MCP server").Image
    method = tools.function(name)
    signature = inspect.signature(method, eval_str=True)

    @functools.wraps(method)
    def run(**kwargs: Any) -> Any:
        try:
            result = tools.call(name, kwargs)
        except AgentError as exc:
            raise mcp_exceptions.ToolError(str(exc)) from None
        if isinstance(result, ChartResult):
            return [image(data=result.png, format="png"), result.description]
        return json.dumps(result, default=str)

    run.__signature__ = signature.replace(return_annotation=str)  # type: ignore[attr-defined]
    run.__annotations__ = {p.name: p.annotation for p in signature.parameters.values()}
    run.__annotations__["return"] = str
    del run.__wrapped__  # the schema comes from __signature__, not the method
    return run


def build_server(tools: AgentTools) -> Any:
    """An ``MCPServer`` with the tools of ``tools`` and the catalog resources."""
    mcpserver = require("mcp.server.mcpserver", "agents", "the MCP server")
    from workbench import __version__

    server = mcpserver.MCPServer(
        name="gridmind-workbench",
        version=__version__,
        instructions=INSTRUCTIONS,
        log_level="WARNING",
    )
    for name in tools.names:
        server.add_tool(
            _tool_function(tools, name),
            name=name,
            description=tools.description(name),
            structured_output=False,
        )

    @server.resource("catalog://datasets", name="datasets", mime_type="application/json")
    def datasets() -> str:
        return json.dumps(tools.call("list_datasets", {}), default=str)

    @server.resource("catalog://dataset/{name}", name="dataset", mime_type="application/json")
    def dataset(name: str) -> str:
        return json.dumps(tools.call("describe_dataset", {"name": name}), default=str)

    return server


def run_stdio(tools: AgentTools) -> None:
    """Serve over stdin/stdout until the client closes the pipe."""
    build_server(tools).run("stdio")


def new_token() -> str:
    """A fresh bearer token (32 random bytes, URL-safe)."""
    return secrets.token_urlsafe(32)


class BearerAuth:
    """ASGI middleware: ``401`` unless ``Authorization: Bearer <token>`` matches."""

    def __init__(self, app: Any, token: str) -> None:
        if len(token) < 16:
            raise AgentError(f"expected a bearer token of 16+ characters; found {len(token)}")
        self.app, self._token = app, token.encode()

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            headers = dict(scope.get("headers") or [])
            given = headers.get(b"authorization", b"")
            scheme, _, value = given.partition(b" ")
            if scheme.lower() != b"bearer" or not hmac.compare_digest(value.strip(), self._token):
                body = b'{"error": "expected Authorization: Bearer <token>; found none or another"}'
                await send({"type": "http.response.start", "status": 401, "headers": [
                    (b"content-type", b"application/json"),
                    (b"www-authenticate", b'Bearer realm="workbench-mcp"'),
                ]})  # fmt: skip
                await send({"type": "http.response.body", "body": body})
                return
        await self.app(scope, receive, send)


def http_app(tools: AgentTools, token: str) -> Any:
    """The streamable-HTTP ASGI app (endpoint ``/mcp``) behind bearer authentication."""
    return BearerAuth(build_server(tools).streamable_http_app(host=HOST), token)


def run_http(tools: AgentTools, port: int, token: str) -> None:
    """Serve streamable HTTP on ``127.0.0.1:port`` until interrupted."""
    uvicorn = require("uvicorn", "agents", "the MCP HTTP server")
    tools.scrubber.add(token)
    config = uvicorn.Config(http_app(tools, token), host=HOST, port=port, log_level="warning")
    uvicorn.Server(config).run()
