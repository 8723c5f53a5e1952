"""The dashboard server: the five pages, the executed-notebook view of job runs, optional auth.

``workbench serve`` calls :func:`serve`. ``/`` is our landing page
(:mod:`workbench.apps.landing`, not Panel's index); pages are built per browser session by
:func:`workbench.apps.shell.page_factory`; every JS and CSS resource is served by this server
from ``/static`` (no CDN, no web fonts), so the dashboards work with the network cut;
``/runs/<run_id>/notebook`` renders the executed notebook of a job run recorded in
``ops.job_runs`` (only paths recorded there are served).

Authentication is off by default (the server listens on 127.0.0.1). ``auth="basic"`` uses Panel's
basic auth: a single password from ``WORKBENCH_SERVE_PASSWORD`` or a JSON file of
``{"user": "password"}`` named by ``WORKBENCH_SERVE_USERS``; ``auth="oauth"`` uses Panel's OAuth
providers configured by ``PANEL_OAUTH_PROVIDER``, ``PANEL_OAUTH_KEY``, ``PANEL_OAUTH_SECRET``,
``PANEL_OAUTH_REDIRECT_URI`` and ``PANEL_OAUTH_ENCRYPTION``. Both sign their cookie with
``WORKBENCH_SERVE_COOKIE_SECRET`` (a random one per process when unset).
"""

from __future__ import annotations

import contextlib
import html
import logging
import os
import re
import secrets
from pathlib import Path
from typing import Any

from workbench.apps import ready, scripts
from workbench.apps.shell import PAGES, page_factory, warm
from workbench.core.errors import WorkbenchError

log = logging.getLogger(__name__)

AUTH_MODES = ("off", "basic", "oauth")
LOOPBACK = ("127.0.0.1", "localhost", "::1")


class ServeError(WorkbenchError):
    """The dashboard server cannot start as asked (auth settings, address)."""


def auth_options(mode: str, environ: dict[str, str] | None = None) -> dict[str, Any]:
    """Keyword arguments of ``panel.serve`` for an auth mode (pure: reads ``environ``)."""
    env = dict(os.environ if environ is None else environ)
    if mode not in AUTH_MODES:
        msg = f"expected --auth one of {list(AUTH_MODES)}; found {mode!r}"
        raise ServeError(msg)
    if mode == "off":
        return {}
    cookie = env.get("WORKBENCH_SERVE_COOKIE_SECRET") or secrets.token_urlsafe(32)
    if mode == "basic":
        users, password = env.get("WORKBENCH_SERVE_USERS"), env.get("WORKBENCH_SERVE_PASSWORD")
        if users:
            if not Path(users).is_file():
                msg = (
                    f"expected WORKBENCH_SERVE_USERS to name a JSON file of users; found no file "
                    f"at {users}"
                )
                raise ServeError(msg)
            return {"basic_auth": users, "cookie_secret": cookie}
        if not password:
            msg = (
                "expected WORKBENCH_SERVE_PASSWORD (one shared password) or WORKBENCH_SERVE_USERS "
                "(a JSON file of users) for --auth basic; found neither set"
            )
            raise ServeError(msg)
        return {"basic_auth": password, "cookie_secret": cookie}
    missing = [
        v
        for v in ("PANEL_OAUTH_PROVIDER", "PANEL_OAUTH_KEY", "PANEL_OAUTH_SECRET")
        if not env.get(v)
    ]
    if missing:
        msg = f"expected {missing} set for --auth oauth; found them unset (see README, Dashboards)"
        raise ServeError(msg)
    out: dict[str, Any] = {
        "oauth_provider": env["PANEL_OAUTH_PROVIDER"],
        "oauth_key": env["PANEL_OAUTH_KEY"],
        "oauth_secret": env["PANEL_OAUTH_SECRET"],
        "cookie_secret": cookie,
    }
    if env.get("PANEL_OAUTH_REDIRECT_URI"):
        out["oauth_redirect_uri"] = env["PANEL_OAUTH_REDIRECT_URI"]
    if env.get("PANEL_OAUTH_ENCRYPTION"):
        out["oauth_encryption_key"] = env["PANEL_OAUTH_ENCRYPTION"]
    return out


def notebook_html(run_id: str, catalog_path: str | None = None) -> tuple[int, str]:
    """(HTTP status, HTML) of the executed notebook of job run ``run_id``."""
    from workbench.apps import data as d

    try:
        with d.reader(catalog_path) as r:
            t = r.require("ops.job_runs")
            rows = t.filter(t.run_id == run_id).select("notebook_path", "job").to_pandas()
    except WorkbenchError as exc:
        return 404, _page("No job runs", html.escape(str(exc)))
    if rows.empty or not isinstance(rows["notebook_path"].iloc[0], str):
        return 404, _page("Unknown run", f"no job run {html.escape(run_id)} in ops.job_runs")
    path = Path(rows["notebook_path"].iloc[0])
    if not path.is_file():
        body = f"the executed notebook of {html.escape(run_id)} is gone: {html.escape(str(path))}"
        return 404, _page("Notebook missing", body)
    try:
        import nbformat
        from nbconvert import HTMLExporter

        nb = nbformat.read(path, as_version=4)
        body, _ = HTMLExporter(template_name="basic").from_notebook_node(nb)
    except Exception as exc:  # an unreadable notebook: say so, keep serving
        log.warning("cannot render %s: %s", path, exc)
        return 500, _page("Unreadable notebook", html.escape(f"{path}: {exc}"))
    title = f"{rows['job'].iloc[0]} · {run_id}"
    return 200, _page(title, f"<p>{html.escape(str(path))}</p>{body}")


def _page(title: str, body: str) -> str:
    return (
        f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>{html.escape(title)}</title>"
        "<style>body{font-family:sans-serif;margin:2em} pre{background:#f6f6f6;padding:.5em}"
        f"</style></head><body><h2>{html.escape(title)}</h2>{body}"
        "<p><a href='/operations'>back to operations</a></p></body></html>"
    )


def _notebook_handler(catalog_path: str | None) -> Any:
    from bokeh.server.views.auth_request_handler import AuthRequestHandler
    from tornado.web import authenticated

    class NotebookHandler(AuthRequestHandler):
        @authenticated
        def get(self, run_id: str) -> None:
            status, page = notebook_html(run_id, catalog_path)
            self.set_status(status)
            self.set_header("Content-Type", "text/html; charset=utf-8")
            self.finish(page)

    return NotebookHandler


def slash_redirects(slugs: Any) -> list[tuple[str, Any, dict[str, Any]]]:
    """Routes answering ``/<page>/`` (query kept) with a permanent redirect to ``/<page>``."""
    from tornado.web import RedirectHandler

    pattern = "|".join(re.escape(s.strip("/")) for s in slugs)
    return [(rf"/({pattern})/+", RedirectHandler, {"url": "/{0}", "permanent": True})]


def serve(
    port: int = 5006,
    address: str = "127.0.0.1",
    *,
    show: bool = True,
    auth: str = "off",
    allow_origin: list[str] | None = None,
    catalog_path: str | None = None,
) -> None:
    """Start the dashboard server and block until it is stopped (Ctrl-C).

    Parameters
    ----------
    port : int
        TCP port to listen on.
    address : str
        Interface to bind; loopback by default. Other addresses want ``auth`` set (warned).
    show : bool
        Open the landing page in a browser.
    auth : {"off", "basic", "oauth"}
        See the module docstring for the environment each mode reads.
    allow_origin : list of str, optional
        ``host:port`` values browsers may connect from (behind a proxy); the bound address and
        localhost by default.
    """
    options = auth_options(auth)
    if address not in LOOPBACK and auth == "off":
        log.warning("serving on %s without authentication: anyone on the network can read", address)
    import panel as pn

    # no page reads the browser's details (pn.state.browser_info); asking them makes a WebGL
    # context in every page as it starts (~30 ms of a first render, more with a real GPU)
    pn.config.browser_info = False

    origins = allow_origin or sorted(
        {f"{address}:{port}", f"localhost:{port}", f"127.0.0.1:{port}"}
    )
    from workbench.apps.landing import landing_factory

    took = warm(catalog_path)  # before the first session: the default views' queries are cached
    log.info("pages warmed in %.1f s (%s)", sum(took.values()),
             ", ".join(f"{k} {v:.2f} s" for k, v in took.items()))  # fmt: skip

    # Bokeh and Panel JS/CSS come from this server's /static (Panel's server default, cacheable
    # by the browser); the browser tests abort any request to another host.
    routes = {"/": landing_factory(PAGES, catalog_path)}
    routes |= {slug: page_factory(slug, catalog_path) for slug in PAGES}
    titles = {"/": "GridMind Workbench"} | {slug: f"GridMind · {slug.title()}" for slug in PAGES}
    # without auth, each recently asked view has a session built ahead (workbench.apps.ready),
    # the pages' default views from the start; with auth, a session carries its user's cookies
    # and is built for the request
    with scripts.install(), ready.install() if auth == "off" else contextlib.nullcontext():
        server = pn.serve(
            routes,
            port=port,
            address=address,
            show=show,
            start=False,
            title=titles,
            websocket_origin=origins,
            liveness=True,  # GET /liveness: for the tests, proxies and orchestrators
            extra_patterns=[(r"/runs/([^/]+)/notebook", _notebook_handler(catalog_path))],
            **options,
        )
        # ahead of every route given to Bokeh (its /static comes first): the same bundles,
        # hinted; and a page asked with a trailing slash sent to its own URL (its relative
        # script URLs would miss Panel's bundle there: a blank page)
        server._tornado.add_handlers(r".*", [*scripts.hinted_routes(), *slash_redirects(PAGES)])
        if auth == "off":
            host = "127.0.0.1" if address in ("0.0.0.0", "::", "") else address
            base = f"http://{'[' + host + ']' if ':' in host else host}:{port}"
            server.io_loop.add_callback(ready.prime, base, [f"/{slug}" for slug in PAGES])
        server.start()
        server.io_loop.start()
