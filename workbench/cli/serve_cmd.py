"""``workbench serve``: the planners' dashboards (Panel) on the catalog's warehouse."""

from __future__ import annotations

import typer

from workbench.cli.console import err_console

AUTH_MODES = ("off", "basic", "oauth")  # as workbench.apps.server.AUTH_MODES (a test checks)


def serve(
    port: int = typer.Option(5006, "--port", min=1, max=65535, help="TCP port to listen on."),
    address: str = typer.Option(
        "127.0.0.1", "--address", help="Interface to bind (loopback by default)."
    ),
    show: bool = typer.Option(True, "--show/--no-show", help="Open the landing page in a browser."),
    auth: str = typer.Option(
        "off",
        "--auth",
        help="off (default), basic (WORKBENCH_SERVE_PASSWORD or WORKBENCH_SERVE_USERS) or oauth "
        "(PANEL_OAUTH_* variables). See README, Dashboards.",
    ),
    allow_origin: list[str] = typer.Option(
        None, "--allow-origin", help="host:port browsers may connect from (behind a proxy)."
    ),
) -> None:
    """Serve the dashboards: load, generation, market, reliability, operations.

    Example:
        workbench serve --port 5006
    """
    if auth not in AUTH_MODES:  # before importing the apps (seconds): a typo fails at once
        raise typer.BadParameter(
            f"expected --auth one of {list(AUTH_MODES)}; found {auth!r}", param_hint="--auth"
        )
    from workbench.apps.server import auth_options
    from workbench.apps.server import serve as start
    from workbench.core.extras import require

    auth_options(auth)  # bad auth settings fail before the heavy imports
    require("panel", feature="workbench serve")
    err_console.print(
        f"dashboards on http://{address}:{port}/ (auth {auth}), answering once every page's "
        "default view is queried and cached (seconds); Ctrl-C stops",
        highlight=False,
    )
    start(port, address, show=show, auth=auth, allow_origin=allow_origin or None)
