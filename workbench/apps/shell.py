"""The frame every page shares: navigation, filters, data summary, charts, CSV downloads, refresh.

A page module (``workbench.apps.pages.*``) provides ``TITLE``, ``FILTERS`` (which of region,
dates, horizon, technology, market it uses), ``TABLES`` (whose changes trigger a refresh),
``query(reader, filters) -> PageData`` and ``sections(data) -> [Section]``. :class:`PageShell`
turns that into a Panel layout: each filter change re-queries the warehouse (a short-lived
read-only connection) and redraws every section; a periodic check re-queries when a job wrote
new rows to the page's tables. Errors become a message on the page, never a traceback.
"""

from __future__ import annotations

import html
import io
import logging
import os
import threading
import time
from collections import OrderedDict
from collections.abc import Iterator
from datetime import timedelta
from types import ModuleType
from typing import Any
from urllib.parse import urlencode

import pandas as pd
import panel as pn

from workbench.apps import data as d
from workbench.apps.charts import LOCAL_TZ, Section, table_text
from workbench.apps.ready import SHELLS
from workbench.apps.tiles import TILE_CSS, TILE_TABLES, headline, tiles_html
from workbench.core.errors import WorkbenchError

log = logging.getLogger(__name__)

#: How often a page checks for new rows in its tables [s] (``WORKBENCH_SERVE_REFRESH_S``).
REFRESH_ENV = "WORKBENCH_SERVE_REFRESH_S"
DEFAULT_REFRESH_S = 30.0

PAGES = ("load", "generation", "market", "reliability", "operations")


def read_signatures(r: d.Reader, names: tuple[str, ...]) -> tuple[Any, ...]:
    """Signatures of ``names`` (:func:`workbench.apps.data.signature`), queried only when the
    warehouse file changed since they were last asked."""
    return d.versioned(r, ("signature", names), names, lambda: d.signature(r, names))


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
    home = '<a href="./">Home</a>' if current else "<b>Home</b>"
    return pn.pane.HTML(
        f'<div class="wb-nav"><span style="font-size:1.3em">GridMind Workbench</span>'
        f"&nbsp;&nbsp; {home} · {links}</div>",
        sizing_mode="stretch_width",
        stylesheets=[TILE_CSS],
    )


def _csv(frame: pd.DataFrame) -> io.StringIO:
    out = frame.copy()
    for col in out.columns:
        if isinstance(out[col].dtype, pd.DatetimeTZDtype):
            out[col] = out[col].dt.strftime("%Y-%m-%dT%H:%M:%SZ")
    return io.StringIO(out.to_csv(index=False))


def url_args() -> dict[str, str]:
    """The query parameters of the URL the session was opened with (first value of each)."""
    raw = getattr(pn.state, "session_args", None) or {}
    out = {}
    for key, values in raw.items():
        if values:
            v = values[0]
            out[key] = v.decode() if isinstance(v, bytes) else str(v)
    return out


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
    """One browser session's view of one page.

    The page's state (quick range or custom dates, time zone, regions, ...) lives in the URL's
    query (``?range=7d&tz=utc&region=COAST``): the page opens on what a shared URL says and
    rewrites the query on every change.
    """

    def __init__(
        self, slug: str, page: ModuleType, catalog_path: str | None = None, *, draw: bool = True
    ) -> None:
        self.slug = slug
        self.page = page
        self.catalog_path = catalog_path
        self.signature: Any = None
        self.read_signature: Any = None  # of every table read: the page's, tiles', queries'
        self.bounds: tuple[pd.Timestamp, pd.Timestamp] | None = None
        self.summary = pn.pane.Markdown("", css_classes=["wb-summary"], sizing_mode="stretch_width")
        self.refreshed = pn.pane.HTML("", css_classes=["wb-refreshed"], sizing_mode="stretch_width")
        self.tiles = pn.pane.HTML("", css_classes=["wb-tiles-pane"], stylesheets=[TILE_CSS])
        self.body = pn.Column(sizing_mode="stretch_width")
        self.widgets: dict[str, Any] = {}
        self._building = False
        self._pending = False
        self._syncing = False
        self._drawing = 0  # drawings begun, so a deferred one knows it is outdated
        self._drawn_once = False
        #: the sections below the first screen, not yet sent: (sent above them, to build,
        #: the data, the drawing they belong to)
        self._deferred: tuple[list[Any], Iterator[Section], d.PageData, int] | None = None
        self.settled_at: float | None = None  # when every section (or a message) was sent
        purpose = pn.pane.Markdown(
            getattr(page, "PURPOSE", ""), css_classes=["wb-purpose"], sizing_mode="stretch_width"
        )
        self.layout = pn.Column(
            nav(slug),
            purpose,
            pn.Row(sizing_mode="stretch_width"),
            self.refreshed,
            self.tiles,
            self.summary,
            self.body,
            sizing_mode="stretch_width",
        )
        args = url_args()
        try:  # one read-only connection for the filters' options and the first drawing
            with d.reader(self.catalog_path) as r:
                self._init_widgets(r, args)
                if draw:
                    self.refresh(r)
                else:  # :func:`warm`: the queries only
                    self._fetch(r)
        except Exception as exc:  # no warehouse yet, locked, or a bug: a message, not a trace
            if not self.widgets:
                self._init_widgets(None, args)
            self._failed(exc)
        period = refresh_seconds()
        if period > 0 and pn.state.curdoc is not None:
            pn.state.add_periodic_callback(self.check, period=int(period * 1000))

    # ------------------------------------------------------------------ filters
    def _init_widgets(self, r: d.Reader | None, args: dict[str, str]) -> None:
        options = self._options(r) if r is not None else {}
        w = self.widgets
        wanted = self.page.FILTERS
        if "dates" in wanted:
            chosen = args.get("range", d.DEFAULT_RANGE.replace(" ", ""))
            labels = {k.replace(" ", ""): k for k in d.QUICK_RANGES}
            w["range"] = pn.widgets.RadioButtonGroup(
                name="Range", options=[*d.QUICK_RANGES, "custom"],
                value=labels.get(chosen, "custom" if chosen == "custom" else d.DEFAULT_RANGE),
                button_type="primary", button_style="outline",
            )  # fmt: skip
        if "dates" in wanted and options.get("bounds"):
            lo, hi = options["bounds"]
            self.bounds = options["bounds"]
            first, last = lo.date(), (hi + timedelta(days=1)).date()
            value = (first, last)
            if w["range"].value == "custom" and "start" in args and "end" in args:
                value = (pd.Timestamp(args["start"]).date(), pd.Timestamp(args["end"]).date())
            w["dates"] = pn.widgets.DateRangeSlider(
                name="Dates", start=first, end=last, value=value, step=1, width=320,
            )  # fmt: skip
            self._show_window()
        w["tz"] = pn.widgets.RadioButtonGroup(
            name="Time zone", options={"Chicago": LOCAL_TZ, "UTC": "UTC"},
            value="UTC" if args.get("tz", "").lower() == "utc" else LOCAL_TZ,
            button_type="default",
        )  # fmt: skip
        if "region" in wanted:
            regions = options.get("regions", [])
            w["region"] = pn.widgets.MultiChoice(
                name="Region", options=regions, placeholder="all regions", width=240,
                value=[v for v in args.get("region", "").split(",") if v in regions],
            )  # fmt: skip
        if "technology" in wanted:
            techs = options.get("technologies", [])
            w["technology"] = pn.widgets.MultiChoice(
                name="Technology", options=techs, placeholder="all technologies", width=240,
                value=[v for v in args.get("technology", "").split(",") if v in techs],
            )  # fmt: skip
        if "horizon" in wanted:
            lo_h, hi_h = 0, 72
            if "-" in args.get("horizon", ""):
                a, _, b = args["horizon"].partition("-")
                if a.isdigit() and b.isdigit():
                    lo_h, hi_h = int(a), int(b)
            w["horizon"] = pn.widgets.IntRangeSlider(
                name="Horizon [h]", start=0, end=72, value=(lo_h, hi_h), step=1, width=220
            )
        if "market" in wanted:
            w["market"] = pn.widgets.RadioButtonGroup(
                name="Market", options=["RT", "DA"], button_type="primary",
                value="DA" if args.get("market") == "DA" else "RT",
            )  # fmt: skip
            prices = {"LMP": "lmp_price", "energy": "energy_component", "congestion": "congestion",
                      "losses": "losses"}  # fmt: skip
            w["component"] = pn.widgets.Select(
                name="Price", options=prices, width=140,
                value=args.get("component") if args.get("component") in prices.values()
                else "lmp_price",
            )  # fmt: skip
        for name, widget in w.items():
            prop = "value_throttled" if hasattr(widget.param, "value_throttled") else "value"
            widget.param.watch(lambda e, n=name: self._changed(n), prop)
        self.layout[2].objects = list(w.values())

    def _changed(self, name: str) -> None:
        if self._syncing:
            return
        if name == "dates" and "range" in self.widgets:
            self._syncing = True
            self.widgets["range"].value = "custom"
            self._syncing = False
        if name == "range":
            self._show_window()
        self.refresh()

    def _show_window(self) -> None:
        """Move the date slider onto the quick range's window (no redraw of its own)."""
        w = self.widgets
        if "dates" not in w or self.bounds is None or w["range"].value == "custom":
            return
        lo, hi = d.quick_window(w["range"].value, self.bounds, self._native())
        self._syncing = True
        try:
            first = max(lo.date(), w["dates"].start)
            w["dates"].value = (first, min((hi + timedelta(days=1)).date(), w["dates"].end))
        finally:
            self._syncing = False

    def _native(self) -> timedelta:
        return getattr(self.page, "NATIVE", timedelta(hours=1))

    def _reads(self) -> tuple[str, ...]:
        """Every table the page, its tiles and its cached queries read."""
        extra = TILE_TABLES if getattr(self.page, "TILES", False) else ()
        extra += tuple(getattr(self.page, "ALSO_READS", ()))
        return tuple(dict.fromkeys((*self.page.TABLES, *extra)))

    def _options(self, r: d.Reader) -> dict[str, Any]:
        """The filters' options and the data's bounds (once per warehouse version)."""
        return d.versioned(r, ("options", self.slug), self._reads(), lambda: self._ask_options(r))

    def _ask_options(self, r: d.Reader) -> dict[str, Any]:
        out: dict[str, Any] = {"regions": d.regions(r)}
        if "technology" in self.page.FILTERS:
            out["technologies"] = d.distinct(r, "gold.generation_mix", "technology")
        bounds_of = getattr(self.page, "bounds", None)
        if bounds_of is not None:
            out["bounds"] = bounds_of(r)
        return out

    def filters(self) -> d.Filters:
        w = self.widgets
        kwargs: dict[str, Any] = {"tz": w["tz"].value}
        if "region" in w and w["region"].value:
            kwargs["regions"] = tuple(w["region"].value)
        if "technology" in w and w["technology"].value:
            kwargs["technologies"] = tuple(w["technology"].value)
        if "range" in w and w["range"].value != "custom" and self.bounds is not None:
            lo, hi = d.quick_window(w["range"].value, self.bounds, self._native())
            if w["range"].value != "all":
                kwargs["start"], kwargs["end"] = lo, hi
        elif "dates" in w:
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

    def url_state(self) -> dict[str, str]:
        """The page's state as URL query parameters (what a shared link reopens)."""
        w = self.widgets
        out: dict[str, str] = {"tz": "utc" if w["tz"].value == "UTC" else "local"}
        if "range" in w:
            out["range"] = w["range"].value.replace(" ", "")
            if w["range"].value == "custom" and "dates" in w:
                lo, hi = w["dates"].value
                out["start"], out["end"] = (
                    f"{pd.Timestamp(lo):%Y-%m-%d}",
                    f"{pd.Timestamp(hi):%Y-%m-%d}",
                )
        for name in ("region", "technology"):
            if name in w:
                out[name] = ",".join(w[name].value)
        if "horizon" in w:
            out["horizon"] = "{}-{}".format(*w["horizon"].value)
        if "market" in w:
            out["market"], out["component"] = w["market"].value, w["component"].value
        return out

    # ------------------------------------------------------------------ drawing
    def refresh(self, reader: d.Reader | None = None) -> None:
        """Re-query the page's data for the current filters and redraw every section."""
        if self._building:  # a change while drawing: draw again once this drawing ends
            self._pending = True
            return
        self._building = True
        self.body.loading = True
        try:
            while True:
                self._pending = False
                try:
                    if reader is not None:
                        self._query_and_draw(reader)
                        reader = None  # a second pass opens its own connection
                    else:
                        with d.reader(self.catalog_path) as r:
                            self._query_and_draw(r)
                    if pn.state.location is not None:
                        pn.state.location.update_query(**self.url_state())
                except Exception as exc:
                    self._failed(exc)
                if not self._pending:
                    break
        finally:
            self.body.loading = False
            self._building = False

    def _query_and_draw(self, r: d.Reader) -> None:
        data, tiles, tz = self._fetch(r)
        if tiles is not None:
            self.tiles.object = tiles_html(tiles, tz)
        self._draw(data)
        self.stamp(tz)

    def stamp(self, tz: str | None = None) -> None:
        """Say when the data shown was last checked (now) and link to this view."""
        now = pd.Timestamp.now(tz=tz or self.filters().tz)
        share = html.escape(f"./{self.slug}?{urlencode(self.url_state())}")
        self.refreshed.object = (
            f'<span class="wb-refreshed-at">last refreshed {now:%Y-%m-%d %H:%M:%S %Z}</span>'
            f" · checks for new rows every {refresh_seconds():g} s · "
            f'<a class="wb-share" href="{share}">link to this view</a>'
        )

    def is_current(self) -> bool:
        """Whether every table the page drew from (its own, its tiles', its cached queries')
        still has the signature it had then; False when the page drew no data."""
        if self.read_signature is None:
            return False
        names = self._reads()
        try:
            with d.reader(self.catalog_path) as r:
                now = read_signatures(r, names)
        except WorkbenchError:
            return False
        return now == self.read_signature

    def _fetch(self, r: d.Reader) -> tuple[d.PageData, list[Any] | None, str]:
        """The page's data and tiles for the current filters (cached while the tables are
        unchanged), and the time zone they are drawn in."""
        names = self._reads()
        # one query for the page's, its tiles' and cached queries' tables; while the warehouse
        # file is unchanged, not even that
        every = read_signatures(r, names)
        r.remember_signatures(every, names)
        self.read_signature = every
        self.signature = tuple(row for row in every if row[0] in self.page.TABLES)
        bounds_of = getattr(self.page, "bounds", None)
        if "range" in self.widgets and bounds_of is not None:  # new rows move the quick ranges
            bounds = d.versioned(r, ("bounds", self.slug), names, lambda: bounds_of(r))
            self.bounds = bounds or self.bounds
        f = self.filters()
        key = (self.slug, r.where, f, self.signature)
        data = _CACHE.get(key)
        if data is None:
            data = self.page.query(r, f)
            data.tz = f.tz
            _CACHE.put(key, data)
        tiles = None
        if getattr(self.page, "TILES", False):
            tiles = d.cached(r, ("tiles", f.tz), TILE_TABLES, lambda: headline(r, f.tz))
        return data, tiles, f.tz

    def _failed(self, exc: Exception) -> None:
        self.read_signature = None  # not a view to hand out again: the next one tries anew
        if isinstance(exc, d.NoDataError):
            self._message(
                f"**No data to show yet.** {exc}. `workbench demo` builds a demo lakehouse with "
                "every job's output; `workbench build` builds yours.",
                "warning",
            )
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
                names = self.page.TABLES
                current = read_signatures(r, names)
        except WorkbenchError:
            current = None
        if current != self.signature:
            self.refresh()

    def _message(self, text: str, kind: str) -> None:
        self.summary.object = ""
        self.body.objects = [pn.pane.Alert(text, alert_type=kind, css_classes=["wb-message"])]
        self.settled_at = time.monotonic()

    def _draw(self, data: d.PageData) -> None:
        """Draw the page's sections, then its summary.

        The first drawing of a browser session puts only the first section in the document the
        browser loads, with a placeholder below; the other sections are sent once the browser
        has drawn it (``pn.state.onload``), so the first screen does not wait for the charts
        below the fold. They are built then, or earlier by :meth:`prepare` (a session built
        ahead has the time). A page's ``iter_sections`` (when it has one) builds each figure
        only when its section is asked for. Later drawings (a filter, new rows) draw everything.
        """
        self._drawing += 1
        self._deferred = None
        items: list[Any] = [
            pn.pane.Alert(n, alert_type="info", css_classes=["wb-note"]) for n in data.notes
        ]
        sections = iter(getattr(self.page, "iter_sections", self.page.sections)(data))
        first = next(sections, None)
        if first is not None:
            items.append(self._section(first, data.tz))
        if self._drawn_once or pn.state.curdoc is None or first is None:
            self._draw_rest(items, sections, data, self._drawing)
            return
        self._drawn_once = True
        self.body.objects = [
            *items,
            pn.pane.Markdown("*drawing the charts below…*", css_classes=["wb-deferred"]),
        ]
        self._deferred = (items, sections, data, self._drawing)
        pn.state.onload(self._draw_deferred)

    def prepare(self) -> None:
        """Build the sections below the first screen now (not yet sent), so that the browser's
        first screen is followed only by their sending, not by their queries' figures and
        Panel layouts holding the server; a session built ahead calls this."""
        if self._deferred is None:
            return
        items, sections, data, drawing = self._deferred
        built = self._built(items, sections, data.tz)
        self._deferred = None if built is None else (built, iter(()), data, drawing)

    def _draw_deferred(self) -> None:
        if self._deferred is not None:
            deferred, self._deferred = self._deferred, None
            self._draw_rest(*deferred)

    def _draw_rest(
        self, items: list[Any], sections: Iterator[Section], data: d.PageData, drawing: int
    ) -> None:
        """Append the remaining sections, then the summary (unless a newer drawing began)."""
        if drawing != self._drawing:
            return
        built = self._built(items, sections, data.tz)
        if built is None:
            return
        self._drawn_once = True
        self.body.objects = built
        self.summary.object = data.summary  # last: once it changes, the charts have too
        self.settled_at = time.monotonic()

    def _built(self, items: list[Any], sections: Iterator[Section], tz: str) -> list[Any] | None:
        """``items`` and the built ``sections``; None (a message drawn) when one fails."""
        try:
            return [*items, *(self._section(s, tz) for s in sections)]
        except Exception as exc:  # same as a failed query: a message, not a trace
            self._failed(exc)
            return None

    def _section(self, s: Section, tz: str) -> pn.viewable.Viewable:
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
            shown = s.display if s.display is not s.frame else table_text(s.frame, tz)
            content = pn.pane.DataFrame(
                shown, index=False, escape=not s.html, sizing_mode="stretch_width",
                css_classes=["wb-table"], max_rows=200,
            )  # fmt: skip
        else:
            content = pn.pane.Markdown(f"*{s.message}*", css_classes=["wb-empty"])
        return pn.Column(header, content, sizing_mode="stretch_width", css_classes=[s.key])


def warm(catalog_path: str | None = None) -> dict[str, float]:
    """Run every page's default-view queries once, before the server takes sessions.

    The results land in the shared caches (:data:`_CACHE`, the per-query cache of
    :mod:`workbench.apps.data`), keyed on the tables' signatures as every session's are, so the
    first planner to open a page waits for no query, and nothing stale is ever served. A page
    whose data is missing is skipped here and says so when opened. Returns seconds per page.
    """
    import importlib
    import time

    took = {}
    for slug in PAGES:
        t0 = time.perf_counter()
        PageShell(slug, importlib.import_module(f"workbench.apps.pages.{slug}"), catalog_path,
                  draw=False)  # fmt: skip
        took[slug] = time.perf_counter() - t0
    return took


def page_factory(slug: str, catalog_path: str | None = None) -> Any:
    """A function Panel calls per browser session to build page ``slug``."""
    import importlib

    module = importlib.import_module(f"workbench.apps.pages.{slug}")

    def create() -> pn.viewable.Viewable:
        shell = PageShell(slug, module, catalog_path)
        if pn.state.curdoc is not None:  # served: a ready session is checked through its shell
            SHELLS[pn.state.curdoc] = shell
        return shell.layout

    create.__name__ = f"{slug}_page"
    return create
