"""Time to first render of the load dashboard with a year of 5-min load for all regions.

Builds a temporary lakehouse through the catalog: a year of 5-min ``silver.system_load`` for 5
regions (525,600 rows), hourly ``gold.fact_load`` and a daily 48-h quantile forecast run
(``gold.load_forecasts``, 262,800 rows); starts ``workbench serve`` on a free loopback port and
measures in headless Chromium the time from navigation to the load chart drawn (Bokeh's plot
view finished), for the page's default view (the last 7 days) and for ``?range=1y`` (the whole
year, aggregated in the warehouse to at most 1,200 points per region). Each view is opened three
ways: right after a job wrote (re-queried) and with the data unchanged (cached), both in a fresh
browser context (nothing cached: a first visit ever), and cached in a browser context that has
opened the page before (returning: Bokeh's scripts in its cache). Before each visit the
benchmark waits ``--pause`` s, then until the servers are idle (no ready session still being
built), as when one planner opens a page. Also prints the server-side query time of the page,
the points drawn by the first screen, and where the time goes: server side (in this process) the
queries, the first-screen figure and all figures, the whole page's Panel layout, Bokeh models
and JSON; in the browser (median, ms since navigation) the HTML received, the scripts fetched,
Bokeh's JS run, the document built, the load chart drawn and every section drawn (the page sends
the sections below the first screen after it). Goal: under 1 s on 2 cores.

``--reference DIR`` serves the same lakehouse from another checkout (``/work/main``: the code
before this change) in the same run, so the figures under a noisy machine compare side by side.

Usage: ``.venv/bin/python benchmarks/dashboard_render.py [--days 365] [--repeat 5]
[--reference /path/to/other/checkout] [--home /tmp/dash-bench]``
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections import Counter
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
REGIONS = {"COAST": 3000.0, "HOUSTON": 12000.0, "NORTH": 11000.0, "SOUTH": 8000.0, "WEST": 1800.0}
VIEWPORT = {"width": 1400, "height": 1000}
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
    "--disable-background-networking",
]  # fmt: skip
#: Marks, in the page, when Bokeh's JS has run, when its document exists and when the load chart
#: is drawn (ms since navigation); read back with the navigation and script resource timings.
STAGES_INIT = """(() => {
  const t = window.__wbStages = {};
  const mark = (k) => { if (!(k in t)) t[k] = performance.now(); };
  const done = () => {
    if (!window.Bokeh) return false;
    mark("bokeh_js");
    if (!Bokeh.documents || !Bokeh.documents[0]) return false;
    mark("document");
    for (const v of Bokeh.index.all_views()) {
      const rs = v.model.renderers;
      if (!Array.isArray(rs) || typeof v.has_finished !== "function") continue;
      if (rs.some(r => r.data_source && (r.data_source.name || "").startsWith("load-actual"))) {
        mark("plot_view");
        if (v.has_finished()) { mark("drawn"); return true; }
      }
    }
    return false;
  };
  const id = setInterval(() => { if (done()) clearInterval(id); }, 5);
})()"""
STAGES_JS = """() => {
  const nav = performance.getEntriesByType("navigation")[0];
  const res = performance.getEntriesByType("resource");
  const js = res.filter(r => r.name.endsWith(".js") || r.initiatorType === "script");
  return {
    html_start: nav.responseStart, html_end: nav.responseEnd,
    html_kb: nav.encodedBodySize / 1024,
    scripts_end: Math.max(0, ...js.map(r => r.responseEnd)),
    script_kb: js.reduce((n, r) => n + r.encodedBodySize, 0) / 1024, scripts: js.length,
    requests: res.length, dom_ready: nav.domContentLoadedEventEnd, ...window.__wbStages,
  };
}"""
#: True once every section is drawn: the page's data summary, set last, is not empty.
COMPLETE_JS = """() => [...Bokeh.documents[0].all_models].some(
  m => Array.isArray(m.css_classes) && m.css_classes.includes("wb-summary") && m.text)"""
DRAWN_JS = """(prefix) => {
  if (!window.Bokeh || !Bokeh.index || !Bokeh.documents[0]) return false;
  for (const v of Bokeh.index.all_views()) {
    const rs = v.model.renderers;
    if (!Array.isArray(rs) || typeof v.has_finished !== "function") continue;
    if (rs.some(r => r.data_source && (r.data_source.name || "").startsWith(prefix))
        && v.has_finished()) return true;
  }
  return false;
}"""


def build(home: Path, days: int) -> dict[str, int]:
    from workbench import open_catalog
    from workbench.apps import sample

    rng = np.random.default_rng(7)
    t5 = pd.date_range("2024-01-01", periods=days * 288, freq="5min", tz="UTC")
    hour = (t5.hour + t5.minute / 60).to_numpy()
    doy = t5.dayofyear.to_numpy()
    frames = []
    for region, base in REGIONS.items():
        shape = (
            1 + 0.25 * np.sin((hour - 9) / 24 * 2 * np.pi) + 0.15 * np.cos(doy / 365 * 4 * np.pi)
        )
        load = base * shape * (1 + rng.normal(0, 0.01, len(t5)))
        frames.append(pd.DataFrame({"timestamp": t5, "region_id": region, "load_mw": load}))
    five = pd.concat(frames, ignore_index=True)
    hourly = (
        five.set_index("timestamp").groupby("region_id")["load_mw"].resample("1h").mean()
    ).reset_index()
    fact = hourly.rename(columns={"load_mw": "actual_load_mw", "region_id": "region"}).assign(
        zone="LZ_BENCH",
        forecast_load_mw=np.nan,
        forecast_error=np.nan,
        temperature_f=70.0,
        humidity_pct=50.0,
    )
    issues = pd.date_range("2024-01-01 15:00", periods=days - 2, freq="D", tz="UTC")
    forecasts = sample.load_forecasts(hourly, issues)
    regions = pd.DataFrame(
        {
            "region_id": list(REGIONS), "region_name": list(REGIONS), "iso_rto": "BENCH",
            "timezone": "America/Chicago", "population": 1_000_000, "area_sq_miles": 386,
            "zone": "LZ_BENCH", "latitude": 31.0, "longitude": -97.0,
        }
    )  # fmt: skip
    os.environ["WORKBENCH_HOME"] = str(home)
    with open_catalog() as cat:
        cat.write("gold.dim_regions", regions, mode="replace")
        cat.write("silver.system_load", five, mode="replace")
        cat.write("gold.fact_load", fact, mode="replace")
        cat.write("gold.load_forecasts", forecasts, mode="replace")
    return {"silver.system_load": len(five), "gold.load_forecasts": len(forecasts)}


def query_time(home: Path, days: int | None) -> tuple[float, float, str]:
    """Server-side queries of the load page, the last ``days`` days or all: seconds of the
    first (nothing cached) and the median of the next two (per-query cache), the summary."""
    from workbench.apps.data import Filters, data_range, reader
    from workbench.apps.pages import load

    os.environ["WORKBENCH_HOME"] = str(home)
    times, summary = [], ""
    for _ in range(3):
        t0 = time.perf_counter()
        with reader() as r:
            f = Filters()
            if days is not None:
                hi = data_range(r, "silver.system_load", "timestamp")[1]
                f = Filters(start=hi - pd.Timedelta(days=days), end=hi)
            summary = load.query(r, f).summary
        times.append(time.perf_counter() - t0)
    return times[0], statistics.median(times[1:]), summary


def start_server(home: Path, code: Path, log: Path) -> tuple[subprocess.Popen, str]:
    """``workbench serve`` of checkout ``code`` on a free port; (process, base URL)."""
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {
        **os.environ, "WORKBENCH_HOME": str(home), "WORKBENCH_SERVE_REFRESH_S": "0",
        "PYTHONPATH": str(code),
    }  # fmt: skip
    cmd = [sys.executable, "-m", "workbench.cli.main", "serve", "--port", str(port)]
    out = log.open("w")
    server = subprocess.Popen([*cmd, "--no-show"], env=env, stdout=out, stderr=out, cwd=code)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while True:
        try:
            urllib.request.urlopen(f"{url}/liveness", timeout=2).close()
            return server, url
        except OSError:
            if time.monotonic() > deadline or server.poll() is not None:
                sys.exit(f"server did not start: {log.read_text()}")
            time.sleep(0.3)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--days", type=int, default=365)
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument(
        "--pause", type=float, default=3.0,
        help="seconds before each visit, then until the servers are idle (0: back to back)",
    )  # fmt: skip
    ap.add_argument("--chromium", default="/usr/bin/chromium")
    ap.add_argument("--reference", type=Path, help="another checkout served side by side")
    ap.add_argument(
        "--home", type=Path, help="lakehouse folder to reuse (built there when it is missing)"
    )
    args = ap.parse_args()
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory(prefix="dash-bench-") as tmp:
        home = args.home or Path(tmp) / "home"
        if (home / "warehouse.duckdb").exists():
            print(f"reusing the lakehouse in {home} (built by an earlier run)")
        else:
            t0 = time.perf_counter()
            rows = build(home, args.days)
            print(f"built {rows} in {time.perf_counter() - t0:.1f} s")
        for days in (7, None):
            first, again, summary = query_time(home, days)
            print(
                f"load page queries, server side: first {first:.3f} s, "
                f"cached {again:.3f} s: {summary}"
            )
        for query in ("", "range=1y"):
            print(f"load page ?{query:<9} server side: {server_stages(home, query)}")
        codes = {"this checkout": ROOT}
        if args.reference is not None:
            codes["reference " + str(args.reference)] = args.reference.resolve()
        views = {"default view": "/load", "?range=1y": "/load?range=1y"}
        results: dict[tuple[str, str], dict[str, list[float]]] = {}
        served: dict[tuple[str, str, str], list[str]] = {}
        stages: dict[tuple[str, str], list[dict[str, float]]] = {}
        waited: list[float] = []
        servers = {name: start_server(home, code, Path(tmp) / f"serve{i}.log")
                   for i, (name, code) in enumerate(codes.items())}  # fmt: skip
        try:
            with sync_playwright() as p:
                browser = p.chromium.launch(executable_path=args.chromium, args=CHROMIUM_ARGS)
                # a returning planner: one browser profile per server, its cache warmed once
                profiles = {name: browser.new_context(viewport=VIEWPORT) for name in servers}
                for name, (_, url) in servers.items():
                    render(browser, url + "/load", profiles[name])
                pids = [server.pid for server, _ in servers.values()]
                labels = ("re-queried", "cached", "returning")
                for i in range(args.repeat):  # interleaved: the machine's noise hits both alike
                    new_job_run(home, i)  # the page's data changed: its queries run again
                    for name, (_, url) in servers.items():
                        for view, path in views.items():
                            got = results.setdefault((name, view), {k: [] for k in labels})
                            for label in labels:
                                time.sleep(args.pause)
                                if args.pause > 0:
                                    waited.append(wait_idle(pids))
                                profile = profiles[name] if label == "returning" else None
                                wall, marks, session = render(browser, url + path, profile)
                                got[label].append(wall)
                                served.setdefault((name, view, label), []).append(session)
                                if profile is None:
                                    stages.setdefault((name, view), []).append(marks)
                points = {name: drawn_points(browser, url + "/load?range=1y")
                          for name, (_, url) in servers.items()}  # fmt: skip
                browser.close()
        finally:
            for server, _ in servers.values():
                server.terminate()
                server.wait(timeout=10)
    idle = (
        f"then until the servers were idle (waited {statistics.median(waited):.1f} s median, "
        f"{max(waited):.1f} s at most)"
        if waited
        else "back to back"
    )
    print(
        f"first render of /load (navigation to chart drawn), {args.days} days of 5-min load x "
        f"{len(REGIONS)} regions in the warehouse; before each visit {args.pause:g} s, {idle}; "
        "goal < 1 s (re-queried: a job wrote just before; cached: the data unchanged; both in a "
        "fresh browser profile, nothing cached; returning: cached, in a browser profile that "
        "has opened the page before; session: built for the request, or ready = built ahead):"
    )
    for (name, view), got in results.items():
        for label, values in got.items():
            kinds = Counter(served[(name, view, label)])
            print(
                f"  {name:<40} {view:<13} {label:<10} median {statistics.median(values):.3f} s "
                f"(min {min(values):.3f}, max {max(values):.3f}, n={len(values)}; session "
                + ", ".join(f"{k} {n}" for k, n in sorted(kinds.items()))
                + ")"
            )
    for name, n in points.items():
        print(f"  {name}: {n} points drawn for the year")
    print("browser stages, median over runs [ms since navigation]:")
    for (name, view), marks in stages.items():
        print(f"  {name:<40} {view:<13} " + stage_line(marks))


def render(browser, url: str, profile=None) -> tuple[float, dict[str, float], str]:
    """Seconds from navigation to the load chart drawn, in a fresh context (no cache) or in
    browser context ``profile`` (its cache as earlier visits left it), the browser's stages (ms
    since navigation, see ``STAGES_JS``) and how the server had the session (its
    ``X-Workbench-Session`` header: ``ready`` or ``built``; ``-`` when absent)."""
    context = profile or browser.new_context(viewport=VIEWPORT)
    page = context.new_page()
    page.add_init_script(STAGES_INIT)
    t0 = time.perf_counter()
    response = page.goto(url, wait_until="commit")
    page.wait_for_function(DRAWN_JS, arg="load-actual", timeout=60_000, polling=10)
    wall = time.perf_counter() - t0
    page.wait_for_function("() => window.__wbStages && 'drawn' in window.__wbStages")
    # then the sections below the first screen (drawn after it): the next render must not
    # find the server still busy with this one's
    page.wait_for_function(COMPLETE_JS, timeout=60_000, polling=20)
    stages = {**page.evaluate(STAGES_JS), "complete": page.evaluate("performance.now()")}
    page.close()
    if profile is None:
        context.close()
    session = response.headers.get("x-workbench-session", "-") if response is not None else "-"
    return wall, stages, session


def wait_idle(pids: list[int], window: float = 0.5, most_cpu: float = 0.02) -> float:
    """Wait until processes ``pids`` (the servers) used less than ``most_cpu`` s of CPU in each
    of two consecutive ``window`` s (a ready session built after the last visit has finished),
    at most 30 s; the seconds waited."""
    import psutil

    procs = [psutil.Process(p) for p in pids]
    t0 = time.monotonic()
    quiet = 0
    while quiet < 2 and time.monotonic() - t0 < 30:
        before = [sum(p.cpu_times()[:2]) for p in procs]
        time.sleep(window)
        used = [sum(p.cpu_times()[:2]) - b for p, b in zip(procs, before, strict=True)]
        quiet = quiet + 1 if max(used) < most_cpu else 0
    return time.monotonic() - t0


def stage_line(marks: list[dict[str, float]]) -> str:
    """Median of each browser stage: HTML received, scripts fetched, Bokeh JS run, document
    built, load chart's view made and drawn [ms]; sizes [KiB]."""

    def med(key: str) -> float:
        return statistics.median(m.get(key, float("nan")) for m in marks)

    return (
        f"html {med('html_start'):.0f}-{med('html_end'):.0f} ({med('html_kb'):.0f} KiB), "
        f"scripts {med('scripts_end'):.0f} ({med('scripts'):.0f} files, "
        f"{med('script_kb'):.0f} KiB; {med('requests'):.0f} requests), "
        f"bokeh js {med('bokeh_js'):.0f}, dom ready {med('dom_ready'):.0f}, "
        f"document {med('document'):.0f}, chart view {med('plot_view'):.0f}, "
        f"drawn {med('drawn'):.0f}, every section {med('complete'):.0f}"
    )


def server_stages(home: Path, query: str) -> str:
    """In this process, the load page built as ``workbench serve`` builds it for URL query
    ``query``: seconds of the warehouse queries (cached: second build), of the first-screen
    figure and of all figures, of the whole page's Panel layout and Bokeh document serialised
    to JSON (its size). Here, outside a session, the page draws every section at once; in a
    session the first document holds only the first."""
    from bokeh.core.json_encoder import serialize_json
    from bokeh.document import Document

    from workbench.apps import shell
    from workbench.apps.data import reader
    from workbench.apps.pages import load

    os.environ["WORKBENCH_HOME"] = str(home)
    os.environ[shell.REFRESH_ENV] = "0"
    args = dict(kv.split("=", 1) for kv in query.split("&") if kv)
    url_args = shell.url_args
    shell.url_args = lambda: args  # what a session opened with ``?query`` reads
    try:
        filters = shell.PageShell("load", load).filters()  # warms the caches as a visit does
        t0 = time.perf_counter()
        with reader() as r:
            data = load.query(r, filters)
        t1 = time.perf_counter()
        first = next(iter(load.iter_sections(data)))
        t_first = time.perf_counter()
        sections = load.sections(data)
        t2 = time.perf_counter()
        layout = shell.PageShell("load", load).layout
        t3 = time.perf_counter()
        doc = Document()
        doc.add_root(layout.get_root(doc))
        t4 = time.perf_counter()
        size = len(serialize_json(doc.to_json()))
        t5 = time.perf_counter()
    finally:
        shell.url_args = url_args
    del sections, first
    return (
        f"queries {t1 - t0:.3f} s (cached), first-screen figure {t_first - t1:.3f} s, all "
        f"figures {t2 - t_first:.3f} s; whole page {t3 - t2:.3f} s (queries cached + figures + "
        f"Panel layout), its Bokeh models {t4 - t3:.3f} s, JSON {t5 - t4:.3f} s "
        f"({size / 1024:.0f} KiB)"
    )


def drawn_points(browser, url: str) -> int:
    context = browser.new_context()
    page = context.new_page()
    page.goto(url)
    page.wait_for_function(DRAWN_JS, arg="load-actual", timeout=60_000)
    n = page.evaluate(
        """() => [...Bokeh.documents[0].all_models]
           .filter(m => (m.name || '').startsWith('load-') && m.get_length)
           .reduce((n, m) => n + m.get_length(), 0)"""
    )
    context.close()
    return n


def new_job_run(home: Path, i: int) -> None:
    from workbench import open_catalog
    from workbench.apps import sample

    os.environ["WORKBENCH_HOME"] = str(home)
    start = pd.Timestamp("2025-01-01 15:00", tz="UTC") + pd.Timedelta(days=i)
    with open_catalog() as cat:
        cat.write("ops.job_runs", sample.job_runs([start], home / "runs", fail_every=0))


if __name__ == "__main__":
    main()
