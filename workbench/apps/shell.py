"""The frame every page shares: navigation, filters, data summary, charts, CSV downloads, refresh.

A page module (``workbench.apps.pages.*``) provides ``TITLE``, ``FILTERS`` (which of region,
dates, horizon, technology, market it uses), ``TABLES`` (whose changes trigger a refresh),
``query(reader, filters) -> PageData`` and ``sections(data) -> [Section]``. :class:`PageShell`
turns that into a Panel layout: each filter change re-queries the warehouse (a short-lived
read-only connection) and redraws every section; a periodic check re-queries when a job wrote
new rows to the page's tables. Errors become a message on the page, never a traceback.
"""

from __future__ import annotations

import io
import logging
import os
import threading
from collections import OrderedDict
from datetime import timedelta
from types import ModuleType
from typing import Any

import pandas as pd
import panel as pn

from workbench.apps import data as d
from workbench.apps.charts import Section
from workbench.core.errors import WorkbenchError

log = logging.getLogger(__name__)

#: How often a page checks for new rows in its tables [s] (``WORKBENCH_SERVE_REFRESH_S``).
REFRESH_ENV = "WORKBENCH_SERVE_REFRESH_S"
DEFAULT_REFRESH_S = 30.0

PAGES = ("load", "generation", "market", "reliability", "operations")


def refresh_seconds() -> float:
    raw = os.environ.get(REFRESH_ENV, str(DEFAULT_REFRESH_S))
    try:
        value = float(raw)
    except ValueError:
        msg = f"expected {REFRESH_ENV} as a number of seconds; found {raw!r}"
        raise WorkbenchError(msg) from None
    return value


def nav(current: str) -> pn.pane.HTML:
    links = " · ".join(
        f"<b>{p.title()}</b>" if p == current else f'<a href="./{p}">{p.title()}</a>' for p in PAGES
    )
    return pn.pane.HTML(
        f'<div class="wb-nav"><span style="font-size:1.3em">GridMind Workbench</span>'
        f"&nbsp;&nbsp; {links}</div>",
        sizing_mode="stretch_width",
    )


def _csv(frame: pd.DataFrame) -> io.StringIO:
    out = frame.copy()
    for col in out.columns:
        if isinstance(out[col].dtype, pd.DatetimeTZDtype):
            out[col] = out[col].dt.strftime("%Y-%m-%dT%H:%M:%SZ")
    return io.StringIO(out.to_csv(index=False))


class _PageCache:
    """The last pages drawn, by (page, filters, data signature), shared by the sessions.

    Planners opening the same page on unchanged data reuse the frames: only the signature
    query runs. A job writing to a page's tables changes the signature, so nothing stale is
    served.
    """

    def __init__(self, size: int = 32) -> None:
        self.size = size
        self._items: OrderedDict[Any, d.PageData] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: Any) -> d.PageData | None:
        with self._lock:
            if key in self._items:
                self._items.move_to_end(key)
                return self._items[key]
        return None

    def put(self, key: Any, value: d.PageData) -> None:
        with self._lock:
            self._items[key] = value
            while len(self._items) > self.size:
                self._items.popitem(last=False)


_CACHE = _PageCache()


class PageShell:
    """One browser session's view of one page."""

    def __init__(self, slug: str, page: ModuleType, catalog_path: str | None = None) -> None:
        self.slug = slug
        self.page = page
        self.catalog_path = catalog_path
        self.signature: Any = None
        self.summary = pn.pane.Markdown("", css_classes=["wb-summary"], sizing_mode="stretch_width")
        self.body = pn.Column(sizing_mode="stretch_width")
        self.widgets: dict[str, Any] = {}
        self._building = False
        self.layout = pn.Column(
            nav(slug),
            pn.Row(sizing_mode="stretch_width"),
            self.summary,
            self.body,
            sizing_mode="stretch_width",
        )
        try:  # one read-only connection for the filters' options and the first drawing
            with d.reader(self.catalog_path) as r:
                self._init_widgets(r)
                self.refresh(r)
        except Exception as exc:  # no warehouse yet, locked, or a bug: a message, not a trace
            if not self.widgets:
                self._init_widgets(None)
            self._failed(exc)
        period = refresh_seconds()
        if period > 0 and pn.state.curdoc is not None:
            pn.state.add_periodic_callback(self.check, period=int(period * 1000))

    # ------------------------------------------------------------------ filters
    def _init_widgets(self, r: d.Reader | None) -> None:
        options = self._options(r) if r is not None else {}
        w = self.widgets
        wanted = self.page.FILTERS
        if "region" in wanted:
            w["region"] = pn.widgets.MultiChoice(
                name="Region", options=options.get("regions", []), placeholder="all regions",
                width=320,
            )  # fmt: skip
        if "technology" in wanted:
            w["technology"] = pn.widgets.MultiChoice(
                name="Technology", options=options.get("technologies", []),
                placeholder="all technologies", width=320,
            )  # fmt: skip
        if "dates" in wanted and options.get("bounds"):
            lo, hi = options["bounds"]
            first, last = lo.date(), (hi + timedelta(days=1)).date()
            w["dates"] = pn.widgets.DateRangeSlider(
                name="Dates (UTC)", start=first, end=last, value=(first, last), step=1, width=360,
            )  # fmt: skip
        if "horizon" in wanted:
            w["horizon"] = pn.widgets.IntRangeSlider(
                name="Horizon [h]", start=0, end=72, value=(0, 72), step=1, width=260
            )
        if "market" in wanted:
            w["market"] = pn.widgets.RadioButtonGroup(
                name="Market", options=["RT", "DA"], value="RT", button_type="primary"
            )
            w["component"] = pn.widgets.Select(
                name="Price",
                options={
                    "LMP": "lmp_price",
                    "energy": "energy_component",
                    "congestion": "congestion",
                    "losses": "losses",
                },
                value="lmp_price",
                width=160,
            )
        for widget in w.values():
            prop = "value_throttled" if hasattr(widget.param, "value_throttled") else "value"
            widget.param.watch(lambda _e: self.refresh(), prop)
        row = self.layout[1]
        row.objects = list(w.values())

    def _options(self, r: d.Reader) -> dict[str, Any]:
        out: dict[str, Any] = {"regions": d.regions(r)}
        if "technology" in self.page.FILTERS:
            out["technologies"] = d.distinct(r, "gold.generation_mix", "technology")
        bounds_of = getattr(self.page, "bounds", None)
        if bounds_of is not None:
            out["bounds"] = bounds_of(r)
        return out

    def filters(self) -> d.Filters:
        w = self.widgets
        kwargs: dict[str, Any] = {}
        if "region" in w and w["region"].value:
            kwargs["regions"] = tuple(w["region"].value)
        if "technology" in w and w["technology"].value:
            kwargs["technologies"] = tuple(w["technology"].value)
        if "dates" in w:
            lo, hi = w["dates"].value
            bound_lo, bound_hi = w["dates"].start, w["dates"].end
            if pd.Timestamp(lo) > pd.Timestamp(bound_lo):
                kwargs["start"] = pd.Timestamp(lo)
            if pd.Timestamp(hi) < pd.Timestamp(bound_hi):
                kwargs["end"] = pd.Timestamp(hi)
        if "horizon" in w and tuple(w["horizon"].value) != (w["horizon"].start, w["horizon"].end):
            kwargs["horizon_h"] = tuple(int(v) for v in w["horizon"].value)
        if "market" in w:
            kwargs["market"] = w["market"].value
            kwargs["component"] = w["component"].value
        return d.Filters(**kwargs)

    # ------------------------------------------------------------------ drawing
    def refresh(self, reader: d.Reader | None = None) -> None:
        """Re-query the page's data for the current filters and redraw every section."""
        if self._building:
            return
        self._building = True
        self.body.loading = True
        try:
            f = self.filters()
            if reader is not None:
                self._query_and_draw(reader, f)
            else:
                with d.reader(self.catalog_path) as r:
                    self._query_and_draw(r, f)
        except Exception as exc:
            self._failed(exc)
        finally:
            self.body.loading = False
            self._building = False

    def _query_and_draw(self, r: d.Reader, f: d.Filters) -> None:
        self.signature = d.signature(r, self.page.TABLES)
        key = (self.slug, self.catalog_path, f, self.signature)
        data = _CACHE.get(key)
        if data is None:
            data = self.page.query(r, f)
            _CACHE.put(key, data)
        self._draw(data)

    def _failed(self, exc: Exception) -> None:
        if isinstance(exc, d.NoDataError):
            self._message(f"**No data to show yet.** {exc}", "warning")
        elif isinstance(exc, WorkbenchError):
            self._message(f"**Cannot show this page:** {exc}", "danger")
        else:  # a bug must not show the planner a traceback
            log.error("dashboard page %s failed", self.slug, exc_info=exc)
            self._message(
                f"**Unexpected error** ({type(exc).__name__}: {exc}); details are in the "
                "server log (`workbench serve` output).",
                "danger",
            )

    def check(self) -> None:
        """Periodic: redraw when a job changed one of the page's tables."""
        try:
            with d.reader(self.catalog_path) as r:
                current = d.signature(r, self.page.TABLES)
        except WorkbenchError:
            current = None
        if current != self.signature:
            self.refresh()

    def _message(self, text: str, kind: str) -> None:
        self.summary.object = ""
        self.body.objects = [pn.pane.Alert(text, alert_type=kind, css_classes=["wb-message"])]

    def _draw(self, data: d.PageData) -> None:
        items: list[Any] = [
            pn.pane.Alert(n, alert_type="info", css_classes=["wb-note"]) for n in data.notes
        ]
        for section in self.page.sections(data):
            items.append(self._section(section))
        self.body.objects = items
        self.summary.object = data.summary  # last: once it changes, the charts have too

    def _section(self, s: Section) -> pn.viewable.Viewable:
        download = pn.widgets.FileDownload(
            callback=lambda frame=s.frame: _csv(frame),
            filename=f"{self.slug}-{s.key}.csv",
            label=f"CSV ({len(s.frame)} rows)",
            button_type="light",
            width=160,
            disabled=s.frame.empty,
        )
        header = pn.Row(pn.pane.Markdown(f"### {s.title}"), pn.Spacer(), download)
        if s.figure is not None:
            content: Any = pn.pane.Bokeh(s.figure, sizing_mode="stretch_width")
        elif not s.frame.empty:
            content = pn.pane.DataFrame(
                s.display, index=False, escape=not s.html, sizing_mode="stretch_width",
                css_classes=["wb-table"], max_rows=200,
            )  # fmt: skip
        else:
            content = pn.pane.Markdown(f"*{s.message}*", css_classes=["wb-empty"])
        return pn.Column(header, content, sizing_mode="stretch_width", css_classes=[s.key])


def page_factory(slug: str, catalog_path: str | None = None) -> Any:
    """A function Panel calls per browser session to build page ``slug``."""
    import importlib

    module = importlib.import_module(f"workbench.apps.pages.{slug}")

    def create() -> pn.viewable.Viewable:
        return PageShell(slug, module, catalog_path).layout

    create.__name__ = f"{slug}_page"
    return create
