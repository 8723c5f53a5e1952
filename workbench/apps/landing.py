"""The landing page at ``/``: what the workbench shows, the headline tiles, a card per page.

It replaces Panel's default index (which fetched Google Fonts and a CDN logo and 404'd on
thumbnails): everything here is served by our own server.
"""

from __future__ import annotations

import html
import importlib
from typing import Any

import pandas as pd
import panel as pn

from workbench.apps import data as d
from workbench.apps.charts import LOCAL_TZ
from workbench.apps.shell import nav
from workbench.apps.tiles import TILE_CSS, headline, tiles_html
from workbench.core.errors import WorkbenchError

CARD_CSS = """
.wb-cards {display:grid; grid-template-columns:repeat(auto-fill,minmax(260px,1fr)); gap:12px}
.wb-card {border:1px solid #d0d7de; border-radius:6px; padding:10px 14px; background:#fff}
.wb-card h3 {margin:0 0 6px 0}
.wb-card p {margin:0; color:#444; font-size:0.9em}
"""


def cards_html(pages: tuple[str, ...]) -> str:
    """One card per page: its title linked, its purpose."""
    cards = []
    for slug in pages:
        module = importlib.import_module(f"workbench.apps.pages.{slug}")
        purpose = html.escape(getattr(module, "PURPOSE", "").replace("**", ""))
        cards.append(
            f'<div class="wb-card"><h3><a href="./{slug}">{html.escape(module.TITLE)}</a></h3>'
            f"<p>{purpose}</p></div>"
        )
    return f'<div class="wb-cards">{"".join(cards)}</div>'


def landing_factory(pages: tuple[str, ...], catalog_path: str | None = None) -> Any:
    """A function Panel calls per browser session to build the landing page."""

    def create() -> pn.viewable.Viewable:
        intro = pn.pane.Markdown(
            "**Grid at a glance.** The latest load, forecast peak, price, reserves and frequency "
            "in the warehouse, and the pages behind them. Times are America/Chicago.",
            css_classes=["wb-purpose"],
            sizing_mode="stretch_width",
        )
        tiles = pn.pane.HTML("", css_classes=["wb-tiles-pane"], stylesheets=[TILE_CSS])
        try:
            with d.reader(catalog_path) as r:
                tiles.object = tiles_html(headline(r, LOCAL_TZ), LOCAL_TZ)
        except WorkbenchError as exc:
            tiles.object = (
                f'<p class="wb-message">No data to show yet: {html.escape(str(exc))}. '
                "Build a lakehouse with <code>workbench demo</code>.</p>"
            )
        now = pd.Timestamp.now(tz=LOCAL_TZ)
        refreshed = pn.pane.HTML(
            f'<span class="wb-refreshed-at">last refreshed {now:%Y-%m-%d %H:%M:%S %Z}</span>'
        )
        cards = pn.pane.HTML(cards_html(pages), stylesheets=[CARD_CSS], sizing_mode="stretch_width")
        return pn.Column(nav(""), intro, refreshed, tiles, cards, sizing_mode="stretch_width")

    create.__name__ = "landing_page"
    return create
