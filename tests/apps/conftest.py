"""Fixtures of the dashboard tests: a lakehouse copy with job rows, dashboard servers, Chromium."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlparse

import pandas as pd
import pytest

from tests.conftest import CATALOG, ROOT, copy_home

CHROMIUM = os.environ.get("WORKBENCH_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
    "--disable-background-networking",
]  # fmt: skip
ISSUES = pd.date_range("2024-03-05 15:00", "2024-03-20 15:00", freq="D", tz="UTC")
RUN_STARTS = pd.date_range("2024-03-05 15:00", periods=6, freq="D", tz="UTC")
EVENT_STARTS = pd.date_range("2024-03-02 06:00", periods=8, freq="2D", tz="UTC")


def artifacts_dir() -> Path:
    """Where screenshots go: ``$WORKBENCH_ARTIFACTS`` or ``tests-artifacts/`` at the repo root."""
    base = Path(os.environ.get("WORKBENCH_ARTIFACTS", ROOT / "tests-artifacts"))
    out = base / "dashboards"
    out.mkdir(parents=True, exist_ok=True)
    return out


def fill_job_rows(home: Path) -> None:
    """Write what the scheduled jobs would: forecasts, frequency events, job runs."""
    from workbench import open_catalog
    from workbench.apps import sample

    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("WORKBENCH_HOME", str(home))
        mp.setenv("WORKBENCH_CATALOG", str(CATALOG))
        with open_catalog() as cat:
            actual = cat.read("gold.fact_load", columns=["region", "timestamp", "actual_load_mw"])
            actual = actual.rename(columns={"actual_load_mw": "load_mw", "region": "region_id"})
            cat.write("gold.load_forecasts", sample.load_forecasts(actual, ISSUES))
            cat.write("gold.frequency_events", sample.frequency_events(EVENT_STARTS))
            cat.write("ops.job_runs", sample.job_runs(RUN_STARTS, home / "runs"))


@pytest.fixture(scope="session")
def dash_home(ci_medallion: Path, tmp_path_factory) -> Path:
    """A private copy of the ci medallion with forecast, event and job-run rows (session)."""
    home = copy_home(ci_medallion, tmp_path_factory.mktemp("dash") / "home")
    fill_job_rows(home)
    return home


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """``workbench serve`` in a subprocess on a free loopback port."""

    def __init__(self, home: Path, log: Path, refresh_s: float = 2.0) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = log
        env = {
            **os.environ,
            "WORKBENCH_HOME": str(home),
            "WORKBENCH_CATALOG": str(CATALOG),
            "WORKBENCH_SERVE_REFRESH_S": str(refresh_s),
        }
        env.pop("WORKBENCH_WAREHOUSE", None)
        self._out = log.open("w")
        cmd = [sys.executable, "-m", "workbench.cli.main", "serve", "--port", str(self.port)]
        self.proc = subprocess.Popen(
            [*cmd, "--no-show"], env=env, stdout=self._out, stderr=subprocess.STDOUT
        )

    def wait(self, timeout_s: float = 90) -> Server:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                pytest.fail(f"workbench serve exited: {self.log.read_text()}")
            try:
                with urllib.request.urlopen(f"{self.url}/liveness", timeout=2):
                    return self
            except OSError:
                time.sleep(0.3)
        pytest.fail(f"workbench serve did not answer in {timeout_s} s: {self.log.read_text()}")

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
        self._out.close()


@pytest.fixture(scope="package")
def servers(dash_home: Path, tmp_path_factory) -> Iterator[dict[str, Server]]:
    """A server on the filled lakehouse and one on an empty home, started side by side."""
    if not Path(CHROMIUM).exists() and shutil.which("chromium") is None:
        pytest.fail(f"expected Chromium at {CHROMIUM}; found none (make system-deps installs it)")
    logs = tmp_path_factory.mktemp("serve-logs")
    empty = tmp_path_factory.mktemp("empty-home")
    started = {"data": Server(dash_home, logs / "data.log"), "empty": Server(empty, logs / "e.log")}
    try:
        for s in started.values():
            s.wait()
        yield started
    finally:
        for s in started.values():
            s.stop()


@pytest.fixture(scope="package")
def browser() -> Iterator[object]:
    """One Chromium for the package, closed after it.

    An open sync Playwright keeps an asyncio loop running in this thread, which later sync
    Playwright users (the Lab and team tests) and Prefect's clients would trip over.
    """
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


class Tab:
    """A browser page that records console errors, uncaught page errors, failed responses and
    every request to another host than 127.0.0.1 (which it aborts: the dashboards must work with
    the network cut)."""

    def __init__(self, page) -> None:
        self.page = page
        self.errors: list[str] = []
        self.external: list[str] = []
        page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: self.errors.append(f"page error: {e}"))
        page.on(
            "response",
            lambda r: self.errors.append(f"HTTP {r.status} {r.url}") if r.status >= 400 else None,
        )
        page.route("**/*", self._route)

    def _route(self, route) -> None:
        if urlparse(route.request.url).hostname == "127.0.0.1":
            route.continue_()
        else:
            self.external.append(route.request.url)
            route.abort()


@pytest.fixture
def tab(browser) -> Iterator[Tab]:
    context = browser.new_context(viewport={"width": 1400, "height": 1000}, accept_downloads=True)
    page = context.new_page()
    page.set_default_timeout(30_000)
    yield Tab(page)
    context.close()
