"""``workbench mcp``: the agent tools as an MCP server (stdio, or HTTP on 127.0.0.1 + token)."""

from __future__ import annotations

import sys

import typer

from workbench.cli.console import err_console


def mcp(
    http: bool = typer.Option(False, "--http", help="Serve streamable HTTP instead of stdio."),
    port: int = typer.Option(
        8765, "--port", min=1, max=65535, help="HTTP port on 127.0.0.1 (with --http)."
    ),
    token: str | None = typer.Option(
        None,
        "--token",
        envvar="WORKBENCH_MCP_TOKEN",
        help="Bearer token for --http (default: a new one, printed once on stderr).",
    ),
    allow_jobs: bool = typer.Option(
        False, "--allow-jobs", help="Expose run_job, which changes state (off by default)."
    ),
    max_rows: int = typer.Option(500, "--max-rows", help="Rows per tool result."),
    timeout_s: float = typer.Option(10.0, "--timeout", help="Longest SQL query, in seconds."),
) -> None:
    """Serve the agent tools (catalog, read-only SQL, forecasts, anomalies, charts) over MCP.

    stdio is for assistants that start the server themselves (desktop apps, IDEs, JupyterLab);
    --http listens on 127.0.0.1 only and answers 401 to requests without the bearer token.

    Example:
        workbench mcp --http --port 8765
    """
    from workbench.agents.mcp_server import new_token, run_http, run_stdio
    from workbench.agents.tools import AgentTools, Limits
    from workbench.io.catalog import open_catalog

    limits = Limits(max_rows=max_rows, timeout_s=timeout_s)
    client = "mcp-http" if http else "mcp-stdio"
    cat = open_catalog(read_only=True)
    if not http:
        run_stdio(AgentTools(cat, limits=limits, allow_jobs=allow_jobs, client=client))
        return
    if token is None:
        token = new_token()
        # printed once, on stderr (stdout stays clean for scripts)
        err_console.print(f"bearer token: {token}", highlight=False, markup=False)
    tools = AgentTools(cat, limits=limits, allow_jobs=allow_jobs, client=client,
                       extra_secrets=(token,))  # fmt: skip
    err_console.print(f"MCP server on http://127.0.0.1:{port}/mcp", highlight=False, markup=False)
    sys.stderr.flush()
    run_http(tools, port, token)
