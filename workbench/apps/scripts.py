"""The scripts a page loads: only the bundles its document uses.

Panel's page lists every JS bundle any Panel or Bokeh model could want: ``es-module-shims``
(a polyfill for the ES-module components, ``ReactiveESM``: it probes the browser with blob
imports as it loads) and ``bokeh-gl`` (WebGL glyphs, for ``output_backend="webgl"``) whether or
not the page has such a model. Our pages have neither, so each first visit ran ~0.2 MB of
script for nothing before the chart could be drawn. :func:`install` drops a bundle from a
page's HTML when no model of the document at hand needs it; a page whose document does need
one keeps it, so nothing is dropped on a guess. The sections a page sends after its first
screen are checked by the tests (every page, fully drawn, needs neither bundle).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Any

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
    for model in _models(roots):
        if isinstance(model, ReactiveESM):
            found.add("esm")
        elif isinstance(model, Plot) and model.output_backend == "webgl":
            found.add("webgl")
    return found


def _models(roots: Iterable[Any]) -> Iterable[Any]:
    """Every model under ``roots``: from their document's index when they are all of one
    document (one pass over a dict; walking the references takes ~10 ms per root)."""
    roots = list(roots)
    docs = {id(r.document): r.document for r in roots}
    if len(docs) == 1 and None not in docs.values():
        doc = next(iter(docs.values()))
        if set(doc.roots) == set(roots):
            return list(doc.models)
    return [m for root in roots for m in root.references()]


def patch_model_css(root: Any, dist_url: str) -> None:
    """Panel's ``patch_model_css`` (the stylesheet URLs rewritten for this server, the events
    dropped), finding the stylesheets in the document's index rather than by walking the
    models from each root, which Panel does for every root of every page served."""
    from bokeh.models import ImportedStyleSheet
    from panel.io import resources
    from panel.io.state import state

    doc = root.document
    if doc is None:
        return resources.patch_model_css(root, dist_url=dist_url)
    held = doc.callbacks.hold_value
    events = list(doc.callbacks._held_events)
    doc.hold()
    for model in list(doc.models):
        if isinstance(model, ImportedStyleSheet):
            resources.patch_stylesheet(model, dist_url)
    doc.callbacks._held_events = events
    if held or not state._loaded.get(doc):
        doc.callbacks._hold = held
    else:
        doc.unhold()
    return None


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

    def bundle_resources(roots: Any, resources: Any, *args: Any, **kwargs: Any) -> Any:
        bundle = full(roots, resources, *args, **kwargs)
        bundle.js_files = lean(list(bundle.js_files), needs(roots))
        return bundle

    server.bundle_resources, server.patch_model_css = bundle_resources, patch_model_css
    try:
        yield
    finally:
        server.bundle_resources, server.patch_model_css = full, full_patch
