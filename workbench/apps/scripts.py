"""The scripts a page loads: only the bundles its document uses, compiled off the main thread.

Panel's page lists every JS bundle any Panel or Bokeh model could want: ``es-module-shims``
(a polyfill for the ES-module components, ``ReactiveESM``: it probes the browser with blob
imports as it loads) and ``bokeh-gl`` (WebGL glyphs, for ``output_backend="webgl"``) whether or
not the page has such a model. Our pages have neither, so each first visit ran ~0.2 MB of
script for nothing before the chart could be drawn. :func:`install` drops a bundle from a
page's HTML when no model of the document at hand needs it; a page whose document does need
one keeps it, so nothing is dropped on a guess. The sections a page sends after its first
screen are checked by the tests (every page, fully drawn, needs neither bundle).

A page's HTML opens with a small inline script (``prefetch.js``, :func:`with_prefetch`) that
opens the session's websocket and asks for the document while the bundles load and run; Bokeh
is handed the socket and the reply when it asks, instead of asking only after its scripts ran.

The bundles loaded after ``bokeh.min.js`` are served with V8's compile hint
(:func:`hinted_routes`): the browser compiles them on a background thread while
``bokeh.min.js`` runs, rather than function by function on the main thread as the page starts.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path
from typing import Any, ClassVar

log = logging.getLogger(__name__)

#: Script file names (as they end in the page's ``<script src>``) and what needs them
OPTIONAL = {
    "es-module-shims.min.js": "esm",
    "bokeh-gl.min.js": "webgl",
}


def needs(roots: Iterable[Any]) -> set[str]:
    """What of :data:`OPTIONAL` the models under ``roots`` (Bokeh models) need."""
    from bokeh.models import Plot
    from panel.models.esm import ReactiveESM

    found: set[str] = set()
    for model in models(roots):
        if isinstance(model, ReactiveESM):
            found.add("esm")
        elif isinstance(model, Plot) and model.output_backend == "webgl":
            found.add("webgl")
    return found


def models(roots: Iterable[Any]) -> list[Any]:
    """Every model under ``roots``: from their document's index when they are all of one
    document (one pass over a dict; walking the references takes ~10 ms per root)."""
    roots = list(roots)
    docs = {id(r.document): r.document for r in roots}
    if len(docs) == 1 and None not in docs.values():
        doc = next(iter(docs.values()))
        if set(doc.roots) == set(roots):
            return list(doc.models)
    return [m for root in roots for m in root.references()]


def stylesheets(doc: Any) -> list[Any]:
    """The document's ``ImportedStyleSheet`` models (from its index)."""
    from bokeh.models import ImportedStyleSheet

    return [m for m in doc.models if isinstance(m, ImportedStyleSheet)]


def patch_document_css(doc: Any, dist_url: str) -> None:
    """Panel's ``patch_model_css`` for every root of ``doc`` at once: the stylesheet URLs
    rewritten for this server and the events of the rewrite dropped (as Panel does), the
    stylesheets found in the document's index rather than by walking the models from each
    root, which Panel does for every root of every page served."""
    from panel.io import resources
    from panel.io.state import state

    held = doc.callbacks.hold_value
    events = list(doc.callbacks._held_events)
    doc.hold()
    for sheet in stylesheets(doc):
        resources.patch_stylesheet(sheet, dist_url)
    doc.callbacks._held_events = events
    if held or not state._loaded.get(doc):
        doc.callbacks._hold = held
    else:
        doc.unhold()


def patch_model_css(root: Any, dist_url: str) -> None:
    """Panel's ``patch_model_css``, through :func:`patch_document_css` for a root in a
    document (Panel's own walk for one outside any)."""
    from panel.io import resources

    if root.document is None:
        resources.patch_model_css(root, dist_url=dist_url)
    else:
        patch_document_css(root.document, dist_url)


def lean(js_files: list[Any], need: set[str]) -> list[Any]:
    """``js_files`` (URLs: str or Panel's URL) less the optional bundles ``need`` lacks."""

    def wanted(url: Any) -> bool:
        name = str(url).split("?", 1)[0].rsplit("/", 1)[-1]
        return name not in OPTIONAL or OPTIONAL[name] in need

    return [url for url in js_files if wanted(url)]


@contextmanager
def install() -> Iterator[None]:
    """Pages rendered by Panel's server while the block runs load only the bundles they need,
    and their stylesheets are found through the document's index (:func:`patch_model_css`)."""
    import panel.io.server as server

    full, full_patch = server.bundle_resources, server.patch_model_css
    full_page = server.server_html_page_for_session

    def bundle_resources(roots: Any, resources: Any, *args: Any, **kwargs: Any) -> Any:
        bundle = full(roots, resources, *args, **kwargs)
        bundle.js_files = lean(list(bundle.js_files), needs(roots))
        return bundle

    def server_html_page_for_session(session: Any, *args: Any, **kwargs: Any) -> str:
        html = full_page(session, *args, **kwargs)
        return with_prefetch(html, kwargs.get("token") or session.token)

    server.bundle_resources, server.patch_model_css = bundle_resources, patch_model_css
    server.server_html_page_for_session = server_html_page_for_session
    try:
        yield
    finally:
        server.bundle_resources, server.patch_model_css = full, full_patch
        server.server_html_page_for_session = full_page


@lru_cache(maxsize=1)
def prefetch_js() -> str:
    """``prefetch.js`` less its whole-line comments (the page carries it inline)."""
    text = (Path(__file__).with_name("prefetch.js")).read_text()
    return "\n".join(ln for ln in text.splitlines() if not ln.lstrip().startswith("//"))


def with_prefetch(html: str, token: str) -> str:
    """A page's ``html`` with :mod:`prefetch.js <workbench.apps>` first in its head, for the
    session of ``token``: the session's socket opened and its document asked for while
    Bokeh's scripts load and run. A page with no ``<head>`` is left as it is (logged)."""
    at = html.find("<head>")
    if at < 0:
        log.warning("a page without <head>: its document is asked for when Bokeh has loaded")
        return html
    script = "<script>" + prefetch_js().replace("__WB_TOKEN__", json.dumps(token)) + "</script>"
    at += len("<head>")
    return html[:at] + script + html[at:]


#: V8's explicit compile hint (Chromium 136+; other browsers read a comment): compile every
#: function of the file eagerly, on the thread that streams it in, instead of each function on
#: the page's main thread the first time it is called.
COMPILE_HINT = b"//# allFunctionsCalledOnLoad\n"
#: The bundles served with :data:`COMPILE_HINT` first: (URL pattern under the server's root,
#: whose files: ``bokeh`` or ``panel``, served from where their own routes serve them). The
#: bundles loaded after ``bokeh.min.js`` are compiled while it runs; ``bokeh.min.js`` itself is
#: not hinted: nothing runs before it, so the page would wait for all of it to compile (measured:
#: the year view 1.23 s with it hinted against 1.15 s not, quiet, interleaved).
HINTED = (
    (r"/static/js/(bokeh-(?:widgets|tables)\.min\.js)", "bokeh"),
    (r"/static/extensions/panel/(panel\.min\.js)", "panel"),
)


def bundle_dir(owner: str) -> Path:
    """Where ``owner``'s (``bokeh`` or ``panel``) served JS bundles lie."""
    if owner == "bokeh":
        from bokeh.settings import settings

        return settings.bokehjs_path() / "js"
    from panel.io.resources import DIST_DIR

    return Path(DIST_DIR)


@lru_cache(maxsize=8)
def hinted(path: str) -> bytes:
    """The bundle at ``path`` with :data:`COMPILE_HINT` first (read once per process: the
    bundles are part of the installed packages)."""
    return COMPILE_HINT + Path(path).read_bytes()


def hinted_routes() -> list[tuple[str, Any, dict[str, Any]]]:
    """Tornado routes serving the page bundles with the compile hint; given to the server
    before Bokeh's own ``/static`` route, so they answer those URLs. Caching as Bokeh's
    static files: a year for a versioned URL (``?v=`` the hash of Bokeh's file), revalidated
    otherwise; ``ETag`` and ranges as Tornado's static files."""
    from tornado.web import StaticFileHandler

    class HintedBundle(StaticFileHandler):
        # the ETag: a hash of the hinted content, kept apart from Bokeh's hashes of its files
        _static_hashes: ClassVar[dict[str, str | None]] = {}

        @classmethod
        def get_content(cls, abspath: str, start: int | None = None, end: int | None = None):
            return hinted(abspath)[start:end]

        def get_content_size(self) -> int:
            return len(hinted(self.absolute_path))

        @classmethod
        def get_content_version(cls, abspath: str) -> str:
            return hashlib.sha512(hinted(abspath)).hexdigest()

    return [(url, HintedBundle, {"path": str(bundle_dir(owner))}) for url, owner in HINTED]
