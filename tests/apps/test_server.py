"""Server pieces without a browser: auth settings, the executed-notebook view, the CLI."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from workbench.apps.server import ServeError, auth_options, notebook_html


def test_auth_is_off_by_default_and_basic_needs_a_secret(tmp_path):
    assert auth_options("off", {}) == {}
    with pytest.raises(ServeError, match="WORKBENCH_SERVE_PASSWORD"):
        auth_options("basic", {})
    opts = auth_options("basic", {"WORKBENCH_SERVE_PASSWORD": "s3cret"})
    assert opts["basic_auth"] == "s3cret"
    assert len(opts["cookie_secret"]) >= 32
    users = tmp_path / "users.json"
    users.write_text(json.dumps({"planner": "pw"}))
    env = {"WORKBENCH_SERVE_USERS": str(users), "WORKBENCH_SERVE_COOKIE_SECRET": "c"}
    assert auth_options("basic", env) == {"basic_auth": str(users), "cookie_secret": "c"}
    with pytest.raises(ServeError, match="found no file"):
        auth_options("basic", {"WORKBENCH_SERVE_USERS": str(tmp_path / "nope.json")})
    with pytest.raises(ServeError, match="PANEL_OAUTH_KEY"):
        auth_options("oauth", {"PANEL_OAUTH_PROVIDER": "github"})
    with pytest.raises(ServeError, match="expected --auth one of"):
        auth_options("ldap", {})


def test_notebook_view_serves_only_recorded_runs(dash_home, monkeypatch):
    # the rendering of a recorded run is checked in the browser (test_browser.py)
    monkeypatch.setenv("WORKBENCH_HOME", str(dash_home))
    status, page = notebook_html("../../etc/passwd")
    assert status == 404
    assert "no job run" in page


def test_notebook_view_on_an_empty_warehouse(workbench_home):
    status, page = notebook_html("any")
    assert status == 404
    assert "the warehouse has no data yet" in page


def test_cli_rejects_bad_auth_with_one_line(workbench_home):
    out = subprocess.run(
        [sys.executable, "-m", "workbench.cli.main", "serve", "--auth", "basic", "--no-show"],
        capture_output=True,
        text=True,
        env={"WORKBENCH_HOME": str(workbench_home), "PATH": "/usr/bin:/bin"},
    )
    assert out.returncode == 1
    assert "expected WORKBENCH_SERVE_PASSWORD" in out.stderr
    assert "Traceback" not in out.stderr
