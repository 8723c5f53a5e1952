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
    for root in roots:
        for model in root.references():
            if isinstance(model, ReactiveESM):
                found.add("esm")
            elif isinstance(model, Plot) and model.output_backend == "webgl":
                found.add("webgl")
    return found


def lean(js_files: list[Any], need: set[str]) -> list[Any]:
    """``js_files`` (URLs: str or Panel's URL) less the optional bundles ``need`` lacks."""

    def wanted(url: Any) -> bool:
        name = str(url).split("?", 1)[0].rsplit("/", 1)[-1]
        return name not in OPTIONAL or OPTIONAL[name] in need

    return [url for url in js_files if wanted(url)]


@contextmanager
def install() -> Iterator[None]:
    """Pages rendered by Panel's server while the block runs load only the bundles they need."""
    import panel.io.server as server

    full = server.bundle_resources

    def bundle_resources(roots: Any, resources: Any, *args: Any, **kwargs: Any) -> Any:
        bundle = full(roots, resources, *args, **kwargs)
        bundle.js_files = lean(list(bundle.js_files), needs(roots))
        return bundle

    server.bundle_resources = bundle_resources
    try:
        yield
    finally:
        server.bundle_resources = full
