"""``make lab``: the server it starts (as root here) and what a save writes into the repository."""

from __future__ import annotations

import re

import pytest

from tests.notebooks.conftest import ROOT, git_status, jupyter_notebooks

pytestmark = pytest.mark.notebook

TUTORIAL = "tutorials/00_catalog_and_medallion.ipynb"
NOTEBOOKS = [p for p in jupyter_notebooks() if p.is_relative_to(ROOT / "notebooks")]


def test_make_lab_runs_env_lab_sh():
    """The Makefile's lab target is the script the tests start (one command, not two copies)."""
    recipe = re.search(r"^lab:.*\n((?:\t.*\n)+)", (ROOT / "Makefile").read_text(), re.M)
    assert recipe is not None, "expected a 'lab' target in the Makefile"
    assert recipe.group(1).strip() == "WORKBENCH_PYTHON=$(PY) env/lab.sh"


def test_lab_is_ready_with_the_gridmind_kernel(lab):
    status = lab.api("status")
    assert status["started"]
    assert lab.api("kernelspecs")["default"] == "gridmind"
    served = f"Serving notebooks from local directory: {lab.repo / 'notebooks'}"
    assert served in lab.log.read_text()


def test_a_save_with_outputs_and_session_metadata_leaves_git_clean(lab):
    """What Lab sends after a run (outputs, counts, language_info, timings) never reaches git.

    Every notebook under notebooks/ is saved: each committed pair must already be exactly what a
    save writes.
    """
    paths = sorted(str(p.relative_to(ROOT / "notebooks")) for p in NOTEBOOKS)
    assert TUTORIAL in paths
    for path in paths:
        nb = lab.api(f"contents/{path}?content=1")["content"]
        assert nb["metadata"]["jupytext"]["formats"] == "ipynb,py:percent"
        nb["metadata"]["language_info"] = {"name": "python", "version": "3.11.0"}
        nb["metadata"]["widgets"] = {"application/vnd.jupyter.widget-state+json": {}}
        code = [c for c in nb["cells"] if c["cell_type"] == "code"]
        for n, cell in enumerate(code, start=1):
            cell["execution_count"] = n
            cell["outputs"] = [{"output_type": "stream", "name": "stdout", "text": f"cell {n}\n"}]
            cell["metadata"]["execution"] = {"iopub.status.idle": "2026-01-01T00:00:00Z"}
            cell["metadata"]["scrolled"] = True
        saved = lab.api(f"contents/{path}", "PUT", {"type": "notebook", "content": nb})
        assert saved["path"] == path
        assert git_status(lab.repo) == [], f"saving {path} changed the repository"
        py = (lab.repo / "notebooks" / path).with_suffix(".py").read_text()
        assert "jupytext_version" not in py  # the project's jupytext.toml was applied


def test_a_users_edit_is_saved_in_both_files_of_the_pair(lab):
    model = lab.api(f"contents/{TUTORIAL}?content=1")
    nb = model["content"]
    cell = next(c for c in reversed(nb["cells"]) if c["cell_type"] == "markdown")
    cell["source"] += "\nEdited in Lab."
    lab.api(f"contents/{TUTORIAL}", "PUT", {"type": "notebook", "content": nb})
    changed = sorted(line.split()[-1] for line in git_status(lab.repo))
    assert changed == [f"notebooks/{TUTORIAL}", f"notebooks/{TUTORIAL}".replace(".ipynb", ".py")]
    assert "# Edited in Lab." in (lab.repo / "notebooks" / TUTORIAL).with_suffix(".py").read_text()
    # undo, so the browser test that shares this server starts from a clean copy
    cell["source"] = cell["source"].removesuffix("\nEdited in Lab.")
    lab.api(f"contents/{TUTORIAL}", "PUT", {"type": "notebook", "content": nb})
    assert git_status(lab.repo) == []


@pytest.mark.browser
@pytest.mark.slow
def test_run_all_and_save_in_chromium_leaves_git_clean(lab):
    """A new hire's first session: open the tutorial, run all cells, save; git sees nothing."""
    from playwright.sync_api import sync_playwright

    from tests.apps.conftest import CHROMIUM, CHROMIUM_ARGS

    requests: list[str] = []
    errors: list[str] = []

    def route(r) -> None:
        requests.append(r.request.url)
        if r.request.url.startswith(f"{lab.url}/"):
            r.continue_()
        else:
            r.abort()

    code_cells = sum(
        c["cell_type"] == "code"
        for c in lab.api(f"contents/{TUTORIAL}?content=1")["content"]["cells"]
    )
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        context = browser.new_context(viewport={"width": 1400, "height": 1000})
        context.route("**/*", route)
        page = context.new_page()
        page.set_default_timeout(60_000)
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: errors.append(f"page error: {e}"))
        page.goto(f"{lab.url}/lab/tree/{TUTORIAL}?token={lab.token}")
        page.locator(".jp-Notebook .jp-CodeCell").first.wait_for()
        # Lab starts the notebook's kernel (gridmind); under load it may ask first: accept it
        idle = page.get_by_text("GridMind (workbench) | Idle")
        page.locator(".jp-Dialog .jp-mod-accept").or_(idle).first.wait_for()
        if page.locator(".jp-Dialog .jp-mod-accept").count():
            page.locator(".jp-Dialog .jp-mod-accept").click()
        idle.wait_for()
        page.locator(".lm-MenuBar-itemLabel", has_text="Run").first.click()
        page.locator(".lm-Menu-itemLabel", has_text="Run All Cells").first.click()
        # a fresh kernel numbers the cells it runs 1, 2, …: the last one is [n] once all ran
        # (cells scrolled out of view are not drawn, so only the last prompt is read)
        last = page.locator(".jp-Notebook .jp-CodeCell .jp-InputPrompt").last
        last.filter(has_text=f"[{code_cells}]:").wait_for(timeout=120_000)
        idle.wait_for()
        error = page.locator(".jp-Notebook [data-mime-type='application/vnd.jupyter.error']")
        assert error.count() == 0
        save = page.locator(".jp-NotebookPanel-toolbar [data-command='docmanager:save']").first
        with page.expect_response(
            lambda r: r.request.method == "PUT" and f"/api/contents/{TUTORIAL}" in r.url
        ) as saved:
            save.click()
        assert saved.value.ok
        status = git_status(lab.repo)
        browser.close()
    assert status == [], f"the session left changes in git: {status}"
    assert errors == []
    outside = [u for u in requests if not u.startswith(f"{lab.url}/")]
    assert outside == [], f"requests left 127.0.0.1: {outside[:5]}"
    assert any(u.startswith(f"{lab.url}/api/contents/") for u in requests)
