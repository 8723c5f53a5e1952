"""The dashboards in real headless Chromium, served by ``workbench serve`` on a loopback port."""

from __future__ import annotations

import json
import time
from urllib.parse import parse_qs, urlencode, urlparse

import numpy as np
import pandas as pd
import pytest

from tests.apps.conftest import RUN_STARTS, artifacts_dir

pytestmark = pytest.mark.browser

# Columns and row counts of the data sources drawn now (named "<chart>" or "<chart>:<series>")
SOURCES_JS = """(prefix) => {
  if (!window.Bokeh || !Bokeh.index) return null;
  const out = {};
  for (const v of Bokeh.index.all_views()) {
    const rs = v.model.renderers;
    if (!Array.isArray(rs)) continue;
    for (const r of rs) {
      const src = r.data_source;
      if (src && src.name && src.name.startsWith(prefix))
        out[src.name] = {rows: src.get_length(), columns: Object.keys(src.data)};
    }
  }
  return out;
}"""
# true once a plot drawing a source named ``prefix…`` has finished rendering
DRAWN_JS = """(prefix) => {
  if (!window.Bokeh || !Bokeh.index || !Bokeh.documents[0]) return false;
  for (const v of Bokeh.index.all_views()) {
    const rs = v.model.renderers;
    if (!Array.isArray(rs) || typeof v.has_finished !== "function") continue;
    const uses = rs.some(r => r.data_source && r.data_source.name
                              && r.data_source.name.startsWith(prefix));
    if (uses && v.has_finished()) return true;
  }
  return false;
}"""
# set a Panel widget (found by its title) from the browser, as a user's click would
SET_WIDGET_JS = """([title, value]) => {
  for (const m of Bokeh.documents[0].all_models)
    if (m.title === title && "value" in m) {
      m.value = value;
      if ("value_throttled" in m) m.value_throttled = value;
      return true;
    }
  return false;
}"""


# the columns of every data source whose name starts with ``prefix`` (typed arrays as lists)
DATA_JS = """(prefix) => {
  const out = {};
  for (const m of Bokeh.documents[0].all_models)
    if (m.type === "ColumnDataSource" || (m.data && m.name !== undefined)) {
      if (!m.name || !m.name.startsWith(prefix)) continue;
      const cols = {};
      for (const [k, v] of (m.data instanceof Map ? m.data.entries() : Object.entries(m.data)))
        cols[k] = Array.from(v);
      out[m.name] = cols;
    }
  return out;
}"""
# the value of a widget found by its title
WIDGET_JS = """(title) => {
  for (const m of Bokeh.documents[0].all_models)
    if (m.title === title && "value" in m) return m.value;
  return null;
}"""

# the label chosen in the button group that offers ``label``
CHOSEN_JS = """(label) => {
  for (const m of Bokeh.documents[0].all_models)
    if (Array.isArray(m.labels) && m.labels.includes(label) && "active" in m)
      return m.labels[m.active];
  return null;
}"""
# the x-axis labels of the plots drawing a source named ``prefix…``
AXIS_JS = """(prefix) => {
  const out = [];
  for (const v of Bokeh.index.all_views()) {
    const rs = v.model.renderers;
    if (!Array.isArray(rs) || !rs.some(r => (r.data_source?.name || "").startsWith(prefix)))
      continue;
    for (const a of v.model.below) out.push(a.axis_label);
  }
  return out;
}"""

# the src of every script element of the page
SCRIPTS_JS = "() => Array.from(document.scripts, s => s.src).filter(Boolean)"
#: Model types of the page's document (Panel's BrowserInfo probes WebGL as the page starts)
TYPES_JS = "() => [...Bokeh.documents[0].all_models].map(m => m.type)"


def open_page(tab, url: str, chart: str) -> dict[str, int]:
    tab.page.goto(url)
    tab.page.wait_for_function(DRAWN_JS, arg=chart)
    return rows(tab, chart)


def rows(tab, prefix: str) -> dict[str, int]:
    """Rows per data source drawn now whose name starts with ``prefix``."""
    return {k: v["rows"] for k, v in tab.page.evaluate(SOURCES_JS, prefix).items()}


def wait_until(check, what: str, timeout_s: float = 30):
    """Poll ``check()`` until it returns a truthy value (server redraws are asynchronous)."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        got = check()
        if got:
            return got
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}: {check()}")


def summary(tab) -> str:
    return tab.page.locator(".wb-summary p").first.inner_text()


def wait_for_summary(tab, text: str, timeout_s: float = 30) -> str:
    def check() -> str | None:
        current = summary(tab)
        return current if text in current else None

    return wait_until(check, f"{text!r} in the data summary", timeout_s)


def check_page(tab, url: str, slug: str, chart: str, text: str) -> dict[str, int]:
    """The page draws its chart with rows, says ``text`` in its summary; screenshot saved."""
    sources = open_page(tab, f"{url}/{slug}", chart)
    assert sources, f"no data source named {chart}* on /{slug}"
    assert sum(sources.values()) > 0
    wait_for_summary(tab, text)  # the markdown of the summary renders after the first chart
    tab.page.wait_for_timeout(300)  # let the last frame paint before the screenshot
    tab.page.screenshot(path=str(artifacts_dir() / f"{slug.split('?')[0]}.png"), full_page=True)
    assert tab.errors == []
    assert tab.external == []
    # no page of ours has a WebGL plot or an ES-module component: their bundles stay unloaded
    loaded = tab.page.evaluate(SCRIPTS_JS)
    assert any("bokeh.min.js" in s for s in loaded)
    assert [s for s in loaded if "bokeh-gl" in s or "es-module-shims" in s] == []
    # nothing reads the browser's details: no model asks them (a WebGL context made to ask)
    types = tab.page.evaluate(TYPES_JS)
    assert "Figure" in types
    assert not [t for t in types if "BrowserInfo" in t]
    return sources


def tile_data(tab) -> dict[str, list[str]]:
    """The raw number and the colour state of each headline tile (``data-value``, ``-state``)."""
    tab.page.locator(".wb-tile").first.wait_for()
    return tab.page.evaluate(
        """() => {
          const out = {};
          const walk = (root) => {
            for (const el of root.querySelectorAll("*")) {
              if (el.classList.contains("wb-tile"))
                out[el.dataset.key] = [el.dataset.value, el.dataset.state];
              if (el.shadowRoot) walk(el.shadowRoot);
            }
          };
          walk(document);
          return out;
        }"""
    )


def warehouse_tiles(home) -> dict[str, float]:
    """The tiles' numbers computed here, in SQL on the warehouse file (read-only)."""
    import duckdb

    con = duckdb.connect(str(home / "warehouse.duckdb"), read_only=True)
    try:
        last = con.sql("SELECT max(timestamp) FROM silver.system_load").fetchone()[0]
        load = con.execute(
            "SELECT sum(load_mw) FROM silver.system_load WHERE timestamp = ?", [last]
        ).fetchone()[0]
        day = pd.Timestamp(last).tz_convert("America/Chicago").normalize()
        lo, hi = day.tz_convert("UTC"), (day + pd.Timedelta(days=1)).tz_convert("UTC")
        peak = con.execute(
            """WITH f AS (
                 SELECT timestamp, load_mw, row_number() OVER (
                   PARTITION BY region_id, timestamp ORDER BY issue_time DESC) AS k
                 FROM gold.load_forecasts
                 WHERE quantile = 0.5 AND timestamp >= ? AND timestamp < ?)
               SELECT max(mw) FROM (SELECT timestamp, sum(load_mw) AS mw FROM f WHERE k = 1
                                    GROUP BY timestamp)""",
            [lo.to_pydatetime(), hi.to_pydatetime()],
        ).fetchone()[0]
        price = con.sql(
            """SELECT avg(lmp_price) FROM gold.fact_market_prices WHERE market_type = 'RT'
               AND timestamp = (SELECT max(timestamp) FROM gold.fact_market_prices
                                WHERE market_type = 'RT')"""
        ).fetchone()[0]
        reserves = con.sql(
            """SELECT responsive_reserve_mw FROM silver.system_reserves
               WHERE timestamp = (SELECT max(timestamp) FROM silver.system_reserves)"""
        ).fetchone()[0]
        freq = con.sql(
            """SELECT min(min_frequency_hz) FROM silver.pmu_validated
               WHERE minute = (SELECT max(minute) FROM silver.pmu_validated)"""
        ).fetchone()[0]
    finally:
        con.close()
    return {"load": load, "peak": peak, "price": price, "reserves": reserves, "frequency": freq}


def assert_tiles(tab, home) -> None:
    from workbench.apps.tiles import reserve_state

    data = tile_data(tab)
    shown = {k: float(v) for k, (v, _) in data.items() if v}
    expected = warehouse_tiles(home)
    assert set(shown) == set(expected)
    for key, value in expected.items():
        assert shown[key] == pytest.approx(value, rel=1e-9), key
    assert data["reserves"][1] == reserve_state(expected["reserves"])  # its colour


def test_load_page_filters_redraw_every_chart(servers, tab, dash_home):
    before = check_page(tab, servers["data"].url, "load", "load-actual", "points of actual load")
    assert {name.split(":")[1] for name in before} == {"COAST", "HOUSTON", "NORTH", "SOUTH", "WEST"}
    assert "(5 regions" in summary(tab)
    assert rows(tab, "load-error_by_horizon") == {"load-error_by_horizon": 48}  # leads 14..61 h
    assert tab.page.locator(".load-latest_run tbody tr").count() == 5
    # the sections below the first screen, sent after it, replaced their placeholder
    assert tab.page.locator(".wb-deferred").count() == 0
    assert_tiles(tab, dash_home)

    assert tab.page.evaluate(SET_WIDGET_JS, ["Region", ["COAST"]])
    wait_for_summary(tab, "(1 regions")
    after = wait_until(lambda: rows(tab, "load-actual"), "the redrawn load chart")
    assert set(after) == {"load-actual:COAST"}
    assert after["load-actual:COAST"] == before["load-actual:COAST"]
    assert set(rows(tab, "load-forecast")) == {"load-forecast:COAST"}
    assert tab.page.locator(".load-latest_run tbody tr").count() == 1

    assert tab.page.evaluate(SET_WIDGET_JS, ["Horizon [h]", [14, 24]])
    wait_until(
        lambda: rows(tab, "load-error_by_horizon") == {"load-error_by_horizon": 11},
        "11 lead times after the horizon filter",
    )

    # a week instead of three: fewer, finer points of actual load
    start = pd.Timestamp("2024-03-08").value // 10**6
    end = pd.Timestamp("2024-03-15").value // 10**6
    assert tab.page.evaluate(SET_WIDGET_JS, ["Dates", [start, end]])
    text = wait_for_summary(tab, "2024-03-08 00:00 to 2024-03-15 00:00")
    assert "15min resolution" in text
    wait_until(
        lambda: rows(tab, "load-actual") == {"load-actual:COAST": 7 * 96},
        "a week of 15-min points for COAST",
    )
    assert tab.errors == []


def test_generation_page_technology_filter(servers, tab):
    check_page(tab, servers["data"].url, "generation", "gen-mix", "(8 technologies)")
    assert tab.page.evaluate(SET_WIDGET_JS, ["Technology", ["solar", "wind"]])
    wait_for_summary(tab, "(2 technologies)")

    def mix_without_coal() -> set[str] | None:
        now = {k.split(":")[1] for k in tab.page.evaluate(SOURCES_JS, "gen-mix:")}
        return now if "coal" not in now else None

    assert wait_until(mix_without_coal, "the mix without coal") == {"solar", "wind"}
    assert rows(tab, "gen-capacity_factors") == {"gen-capacity_factors": 2}
    assert tab.errors == []


def assert_component_signs(tab, home) -> None:
    """Each LMP component is drawn above zero when its mean is positive, below when negative."""
    import duckdb

    con = duckdb.connect(str(home / "warehouse.duckdb"), read_only=True)
    try:  # the default week: 7 days up to the last hour of prices, RT market
        means = (
            con.sql(
                """SELECT node, avg(energy_component) AS energy_component,
                      avg(congestion) AS congestion, avg(losses) AS losses
               FROM gold.fact_market_prices
               WHERE market_type = 'RT' AND timestamp >= (
                 SELECT max(timestamp) - INTERVAL 7 DAY + INTERVAL 1 HOUR
                 FROM gold.fact_market_prices)
               GROUP BY node"""
            )
            .df()
            .set_index("node")
        )
    finally:
        con.close()
    drawn = tab.page.evaluate(DATA_JS, "market-components:")
    signs = []
    for column in ("energy_component", "congestion", "losses"):
        src = pd.DataFrame(drawn[f"market-components:{column}"]).set_index("node")
        for node, row in src.iterrows():
            low, high = min(row["bottom"], row["top"]), max(row["bottom"], row["top"])
            drawn_sign = 1 if low >= 0 and high > 0 else (-1 if high <= 0 and low < 0 else 0)
            data_sign = int(np.sign(round(means.loc[node, column], 3)))
            assert drawn_sign == data_sign, (node, column, row.to_dict())
            assert high - low == pytest.approx(abs(means.loc[node, column]), abs=1e-3)
            signs.append(data_sign)
    assert -1 in signs  # the data has discounts as well as premiums
    assert 1 in signs


def test_market_page_csv_download_holds_what_is_drawn(servers, tab, tmp_path, dash_home):
    sources = check_page(tab, servers["data"].url, "market", "market-heatmap", "heatmap cells")
    with tab.page.expect_download() as info:
        tab.page.locator(".market-heatmap button", has_text="CSV").click()
    path = tmp_path / "heatmap.csv"
    info.value.save_as(path)
    frame = pd.read_csv(path)
    assert list(frame.columns) == ["node", "timestamp", "price_usd_per_mwh"]
    assert len(frame) == sources["market-heatmap"]
    assert_component_signs(tab, dash_home)
    assert tab.page.evaluate(SET_WIDGET_JS, ["Region", ["WEST"]])
    wait_until(
        lambda: rows(tab, "market-heatmap") == {"market-heatmap": len(frame) // 5},
        "the heatmap of the WEST node only",
    )
    assert tab.errors == []


def test_reliability_page(servers, tab):
    url = "reliability?range=all"  # the default week holds one of the eight events
    check_page(tab, servers["data"].url, url, "rel-events", "8 frequency events")
    assert tab.page.locator(".rel-dq tbody tr").count() > 0


def test_operations_page_links_failures_and_picks_up_new_runs(servers, dash_home, tab, monkeypatch):
    from workbench import open_catalog
    from workbench.apps import sample

    n = len(RUN_STARTS)
    check_page(tab, servers["data"].url, "operations", "ops-runs", f"{n} job runs (2 failed)")
    links = tab.page.locator(".ops-failures a", has_text="executed notebook")
    assert links.count() == 2
    with tab.page.context.expect_page() as info:
        links.first.click()
    notebook = info.value
    notebook.wait_for_load_state()
    assert "PublishError: expected history; found none" in notebook.content()
    assert "load_day_ahead" in notebook.title()
    notebook.close()

    monkeypatch.setenv("WORKBENCH_HOME", str(dash_home))
    new = sample.job_runs([pd.Timestamp("2024-03-21 15:00", tz="UTC")], dash_home / "runs")
    new["run_id"] = "load_day_ahead-new"
    with open_catalog() as cat:  # a writer while the server reads (short-lived connections)
        cat.write("ops.job_runs", new, mode="upsert")
    try:
        wait_for_summary(tab, f"{n + 1} job runs")  # the periodic refresh, no reload
        wait_until(
            lambda: rows(tab, "ops-runs") == {"ops-runs:load_day_ahead": n + 1},
            "the new run in the chart",
        )
    finally:
        with open_catalog() as cat:
            cat.warehouse().con.raw_sql(
                "DELETE FROM ops.job_runs WHERE run_id = 'load_day_ahead-new'"
            )
    assert tab.errors == []


def test_empty_warehouse_shows_a_message(servers, tab):
    from workbench.apps.ready import SESSION_HEADER

    for slug in ("load", "operations", "load"):
        response = tab.page.goto(f"{servers['empty'].url}/{slug}")
        message = tab.page.locator(".wb-message p").first
        message.wait_for()
        assert "No data to show yet" in message.inner_text()
        assert "Traceback" not in tab.page.content()
        # a message is built for each request (the data may have come since): none kept ready
        assert response.headers[SESSION_HEADER.lower()] == "built"
    tab.page.screenshot(path=str(artifacts_dir() / "empty.png"), full_page=True)
    assert tab.errors == []


def test_landing_page_is_ours_and_offline(servers, tab, dash_home):
    tab.page.goto(servers["data"].url + "/")
    assert_tiles(tab, dash_home)
    links = tab.page.locator(".wb-card a")
    links.first.wait_for()
    assert links.count() == 5
    tab.page.wait_for_timeout(300)
    tab.page.screenshot(path=str(artifacts_dir() / "landing.png"), full_page=True)
    assert tab.errors == []
    assert tab.external == []


def test_a_url_with_state_reopens_the_same_view(servers, browser, tab):
    from tests.apps.conftest import Tab

    url = f"{servers['data'].url}/market?range=30d&tz=utc&market=DA&component=congestion"
    open_page(tab, url, "market-heatmap")
    text = wait_for_summary(tab, "(5 nodes, DA congestion)")
    assert tab.page.evaluate(CHOSEN_JS, "UTC") == "UTC"
    assert tab.page.evaluate(AXIS_JS, "market-heatmap") == ["time (UTC)"]
    assert tab.page.evaluate(SET_WIDGET_JS, ["Region", ["COAST", "WEST"]])
    wait_for_summary(tab, "(2 nodes, DA congestion)")

    def share() -> dict[str, str]:  # the page's "link to this view" (also its URL's query)
        href = tab.page.locator(".wb-share").first.get_attribute("href") or ""
        return {k: v[0] for k, v in parse_qs(urlparse(href).query).items()}

    state = wait_until(lambda: share() if share().get("region") == "COAST,WEST" else None, "link")
    assert state["range"] == "30d"
    assert state["tz"] == "utc"
    shared = f"{servers['data'].url}/market?{urlencode(state)}"
    text = summary(tab)
    other = Tab(tab.page.context.new_page())  # a colleague opening the shared link
    rows_there = open_page(other, shared, "market-heatmap")
    assert wait_for_summary(other, "(2 nodes") == text
    assert rows_there == rows(tab, "market-heatmap")
    assert other.page.evaluate(WIDGET_JS, "Region") == ["COAST", "WEST"]
    assert other.page.evaluate(CHOSEN_JS, "30 d") == "30 d"
    assert other.page.evaluate(CHOSEN_JS, "UTC") == "UTC"
    other.page.screenshot(path=str(artifacts_dir() / "market-shared-url.png"), full_page=True)
    assert tab.errors + other.errors == []
    assert tab.external + other.external == []


def test_a_view_opened_again_is_built_ahead_and_never_stale(servers, dash_home, tab, monkeypatch):
    """``workbench serve`` keeps a session of each asked view built ahead (workbench.apps.ready):
    opening the view again is answered from it, with the same content; once a job wrote to the
    page's tables, the next opening shows the new rows at once, never the session built before.
    """
    from workbench import open_catalog
    from workbench.apps import sample
    from workbench.apps.ready import SESSION_HEADER

    n = len(RUN_STARTS)
    url = f"{servers['data'].url}/operations"

    def visit() -> tuple[str, str]:
        """(how the server had the session, the first data summary the page shows)"""
        response = tab.page.goto(url)
        tab.page.wait_for_function(DRAWN_JS, arg="ops-runs")
        first = wait_until(lambda: summary(tab), "the data summary")  # set once, when drawn
        return response.headers.get(SESSION_HEADER.lower(), "-"), first

    how, first = visit()
    assert f"{n} job runs" in first
    seen = [how]
    while seen[-1] != "ready" and len(seen) < 20:  # built a moment after the page settles
        tab.page.wait_for_timeout(500)
        how, again = visit()
        seen.append(how)
        assert again == first
    assert seen[-1] == "ready", f"expected a session built ahead; found {seen}"
    assert rows(tab, "ops-runs") == {"ops-runs:load_day_ahead": n}
    # its sections below the first screen, built ahead, replaced their placeholder
    assert tab.page.locator(".wb-deferred").count() == 0

    monkeypatch.setenv("WORKBENCH_HOME", str(dash_home))
    new = sample.job_runs([pd.Timestamp("2024-03-22 15:00", tz="UTC")], dash_home / "runs")
    new["run_id"] = "load_day_ahead-ready"
    tab.page.wait_for_timeout(1500)  # the next ready session is built before the write
    with open_catalog() as cat:
        cat.write("ops.job_runs", new, mode="upsert")
    try:
        how, after = visit()
        assert f"{n + 1} job runs" in after, f"session {how} showed {after!r}"
        assert rows(tab, "ops-runs") == {"ops-runs:load_day_ahead": n + 1}
    finally:
        with open_catalog() as cat:
            cat.warehouse().con.raw_sql(
                "DELETE FROM ops.job_runs WHERE run_id = 'load_day_ahead-ready'"
            )
    assert tab.errors == []


def test_bundles_after_bokeh_come_with_the_compile_hint(servers, tab):
    """The bundles a page loads after ``bokeh.min.js`` are Bokeh's and Panel's files with V8's
    compile hint first, cached like Bokeh's static files under their versioned URL, with an
    ETag of their own; ``bokeh.min.js`` is Bokeh's file as it ships."""
    import urllib.request
    from pathlib import Path

    from bokeh.settings import settings
    from panel.io.resources import DIST_DIR

    from workbench.apps import scripts

    tab.page.goto(f"{servers['data'].url}/load")
    tab.page.wait_for_function(DRAWN_JS, arg="load-actual")
    loaded = tab.page.evaluate(SCRIPTS_JS)
    files = {
        "bokeh.min.js": settings.bokehjs_path() / "js" / "bokeh.min.js",
        "bokeh-widgets.min.js": settings.bokehjs_path() / "js" / "bokeh-widgets.min.js",
        "bokeh-tables.min.js": settings.bokehjs_path() / "js" / "bokeh-tables.min.js",
        "panel.min.js": Path(DIST_DIR) / "panel.min.js",
    }
    by_name = {urlparse(u).path.rsplit("/", 1)[-1]: u for u in loaded}
    assert set(files) <= set(by_name), loaded
    etags = {}
    for name, path in files.items():
        with urllib.request.urlopen(by_name[name]) as r:
            body, headers = r.read(), r.headers
        shipped = path.read_bytes()
        if name == "bokeh.min.js":
            assert body == shipped
        else:
            assert body == scripts.COMPILE_HINT + shipped
            assert int(headers["Content-Length"]) == len(shipped) + len(scripts.COMPILE_HINT)
        assert "max-age=" in headers["Cache-Control"]  # a versioned URL: cached
        etags[name] = headers["ETag"]
    plain = f"{servers['data'].url}/static/js/bokeh-widgets.min.js"  # unversioned: revalidated
    with urllib.request.urlopen(plain) as r:
        assert "max-age" not in (r.headers.get("Cache-Control") or "")
        assert r.read().startswith(scripts.COMPILE_HINT)
    # each ETag names what was sent: the hinted bundle's is not the hash of Bokeh's file
    assert etags["bokeh-widgets.min.js"].strip('"') not in by_name["bokeh-widgets.min.js"]
    assert etags["bokeh.min.js"].strip('"') in by_name["bokeh.min.js"]


def test_the_document_is_asked_for_from_the_head_on_the_one_socket_bokeh_uses(servers, tab):
    """The page's first script opens the session's socket and asks for the document
    (PULL-DOC-REQ) before Bokeh's scripts have run; Bokeh takes that socket and that reply:
    one socket and one pull per page, and the socket stays live both ways (the sections below
    the first screen come after the browser says it has drawn)."""
    sockets, pulls = [], []

    def opened(ws) -> None:
        sockets.append(ws.url)

        def sent(payload) -> None:
            if isinstance(payload, str) and '"PULL-DOC-REQ"' in payload:
                pulls.append(json.loads(payload)["msgid"])

        ws.on("framesent", sent)

    tab.page.on("websocket", opened)
    tab.page.goto(f"{servers['data'].url}/load")
    tab.page.wait_for_function(DRAWN_JS, arg="load-actual")
    first = tab.page.evaluate("() => document.head.querySelector('script').textContent")
    assert "PULL-DOC-REQ" in first
    assert "src" not in tab.page.evaluate(
        "() => Object.fromEntries([...document.head.querySelector('script').attributes]"
        ".map(a => [a.name, a.value]))"
    )
    wait_for_summary(tab, "points of actual load")  # browser → server → browser after the pull
    assert len(sockets) == 1, sockets
    assert urlparse(sockets[0]).path == "/load/ws"
    assert len(pulls) == 1, pulls
    assert pulls[0].startswith("wb-prefetch-")
    assert tab.page.evaluate("() => WebSocket.name") == "WebSocket"  # the browser's own again
    assert tab.errors == []


def test_a_page_asked_with_a_trailing_slash_opens_at_its_own_url(servers, tab):
    """``/load/?range=30d`` (a typed or pasted URL) opens the load page at ``/load`` with its
    query, drawn and without errors (there, the page's relative script URLs would miss Panel's
    bundle and draw nothing)."""
    tab.page.goto(f"{servers['data'].url}/load/?range=30d")
    tab.page.wait_for_function(DRAWN_JS, arg="load-actual")
    here = urlparse(tab.page.url)
    assert here.path == "/load"
    assert parse_qs(here.query)["range"] == ["30d"]
    assert tab.errors == []
