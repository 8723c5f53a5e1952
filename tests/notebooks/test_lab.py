"""``make lab``: the server it starts (as root here) and what a save writes into the repository."""

from __future__ import annotations

import re

import pytest

from tests.notebooks.conftest import ROOT, git_status

pytestmark = pytest.mark.notebook

TUTORIAL = "tutorials/00_catalog_and_medallion.ipynb"


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
    """What Lab sends after a run (outputs, counts, language_info, timings) never reaches git."""
    model = lab.api(f"contents/{TUTORIAL}?content=1")
    nb = model["content"]
    assert nb["metadata"]["jupytext"]["formats"] == "ipynb,py:percent"
    nb["metadata"]["language_info"] = {"name": "python", "version": "3.11.0"}
    nb["metadata"]["widgets"] = {"application/vnd.jupyter.widget-state+json": {}}
    code = [c for c in nb["cells"] if c["cell_type"] == "code"]
    for n, cell in enumerate(code, start=1):
        cell["execution_count"] = n
        cell["outputs"] = [{"output_type": "stream", "name": "stdout", "text": f"cell {n}\n"}]
        cell["metadata"]["execution"] = {"iopub.status.idle": "2026-01-01T00:00:00Z"}
        cell["metadata"]["scrolled"] = True
    saved = lab.api(f"contents/{TUTORIAL}", "PUT", {"type": "notebook", "content": nb})
    assert saved["path"] == TUTORIAL
    assert git_status(lab.repo) == []
    py = (lab.repo / "notebooks" / TUTORIAL).with_suffix(".py").read_text()
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
