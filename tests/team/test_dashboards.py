"""The dashboards in headless Chromium, served from PostgreSQL under the read-only role."""

from __future__ import annotations

import subprocess
import sys
import time
import urllib.request

import pytest

from tests.apps.conftest import CHROMIUM_ARGS, Tab, artifacts_dir, free_port
from tests.conftest import ROOT

pytestmark = [pytest.mark.team, pytest.mark.postgres, pytest.mark.browser, pytest.mark.slow]

# true once the page has a plot that finished rendering (plots in hidden tabs never do)


@pytest.fixture(scope="module")
def reader_server(team, tmp_path_factory):
    """``workbench serve`` connected as ``workbench_reader`` (gold as the build left it)."""
    port = free_port()
    log = tmp_path_factory.mktemp("team-serve") / "serve.log"
    with log.open("w") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "workbench.cli.main", "serve", "--port", str(port), "--no-show"],
            env=team.env("reader", WORKBENCH_SERVE_REFRESH_S="3600"),
            cwd=ROOT,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    try:
        while True:
            if proc.poll() is not None:
                pytest.fail(f"workbench serve exited: {log.read_text()[-3000:]}")
            try:
                with urllib.request.urlopen(f"{url}/liveness", timeout=2):
                    break
            except OSError:
                if time.monotonic() > deadline:
                    pytest.fail(f"workbench serve did not answer: {log.read_text()[-3000:]}")
                time.sleep(0.3)
        yield url, log
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()


@pytest.fixture(scope="module")
def chromium():
    from playwright.sync_api import sync_playwright

    from tests.apps.conftest import CHROMIUM

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


def test_every_page_renders_from_postgres_as_the_reader(reader_server, chromium):
    from workbench.apps.shell import PAGES

    url, log = reader_server
    assert len(PAGES) >= 5
    for slug in PAGES:
        context = chromium.new_context(viewport={"width": 1400, "height": 1000})
        page = context.new_page()
        page.set_default_timeout(60_000)
        tab = Tab(page)
        page.goto(f"{url}/{slug}")
        # done when the data summary is set: the shell sets it last, after every section (those
        # below the first screen too) was drawn; Playwright's locator pierces Panel's shadow DOM
        page.locator(".wb-summary p").filter(has_text="(").first.wait_for(timeout=60_000)
        page.wait_for_timeout(1500)  # late callbacks would log their errors now
        page.screenshot(path=str(artifacts_dir() / f"team-{slug}.png"), full_page=True)
        assert tab.errors == [], (slug, tab.errors)
        context.close()
    text = log.read_text()
    assert "Traceback" not in text, text[-3000:]
    assert "permission denied" not in text.lower(), text[-3000:]
