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


def test_a_page_loads_the_webgl_and_es_module_bundles_only_when_a_model_needs_them():
    import panel as pn
    from bokeh.document import Document
    from bokeh.plotting import figure

    from workbench.apps import scripts

    files = [
        "static/extensions/panel/bundled/reactiveesm/es-module-shims@^1.10.0/dist/es-module-shims.min.js",
        "static/js/bokeh.min.js?v=1",
        "static/js/bokeh-gl.min.js?v=2",
        "static/js/bokeh-widgets.min.js?v=3",
        "static/extensions/panel/panel.min.js?v=4",
    ]
    canvas, gl = figure(), figure(output_backend="webgl")
    for fig in (canvas, gl):
        fig.line([0, 1], [1, 2])
    assert scripts.needs([canvas]) == set()
    assert scripts.needs([pn.Row(pn.pane.Bokeh(gl)).get_root(Document())]) == {"webgl"}

    class Counter(pn.custom.JSComponent):
        _esm = "export function render({ model }) { return 'x' }"

    assert scripts.needs([Counter().get_root(Document())]) == {"esm"}

    assert scripts.lean(files, set()) == [files[1], files[3], files[4]]
    assert scripts.lean(files, {"webgl"}) == files[1:]
    assert scripts.lean(files, {"esm", "webgl"}) == files


def test_stylesheets_patched_through_the_document_index_as_panel_patches_them(
    dash_home, monkeypatch
):
    """The page's stylesheet URLs come out as Panel's own walk from each root makes them; the
    models found through the document's index are the ones the walk finds."""
    from bokeh.document import Document
    from bokeh.models import ImportedStyleSheet
    from panel.io import resources
    from panel.io.state import set_curdoc

    from workbench.apps import scripts, shell
    from workbench.apps.pages import load

    monkeypatch.setenv("WORKBENCH_HOME", str(dash_home))
    monkeypatch.setenv(shell.REFRESH_ENV, "0")
    urls = {}
    for patch in (resources.patch_model_css, scripts.patch_model_css):
        doc = Document()
        with set_curdoc(doc):
            doc.add_root(shell.PageShell("load", load).layout.get_root(doc))
        sheets = [m for m in doc.roots[0].references() if isinstance(m, ImportedStyleSheet)]
        assert sheets
        assert {m.id for m in scripts.models(doc.roots)} == {
            m.id for m in doc.roots[0].references()
        }
        for sheet in sheets:  # as a page built outside a server has them
            sheet.url = sheet.url.replace("static/extensions/panel/", resources.CDN_DIST)
        for root in doc.roots:
            patch(root, dist_url="static/extensions/panel/")
        urls[patch] = sorted(m.url for m in sheets)
    assert urls[scripts.patch_model_css] == urls[resources.patch_model_css]
    assert all(u.startswith("static/extensions/panel/") for u in urls[resources.patch_model_css])
