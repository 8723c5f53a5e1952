"""Every notebook: a synced jupytext pair, no committed outputs, the skeleton, and it runs.

Jupyter notebooks execute through papermill in the ``gridmind`` kernel, marimo notebooks as
plain scripts, both on a private copy of the ``ci`` lakehouse with silver and gold built.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.notebooks.conftest import ROOT, jupyter_notebooks, marimo_notebooks, rel

SKELETON = ("Overview", "Prerequisites", "Parameters", "Imports", "Summary", "What's next")

# parameters that keep a notebook inside the ci profile (21 days of data) and the CI budget;
# everything else runs with the notebook's own defaults (written for the demo lakehouse)
CI_PARAMETERS: dict[str, dict[str, object]] = {
    "notebooks/anomaly/02_scada_anomalies.ipynb": {"hours": 12},
    "notebooks/forecasting/01_load_forecasting.ipynb": {
        "test_days": 5,
        "retrain": "never",
        "validation_days": 4,
        "n_trials": 4,
    },
    "notebooks/forecasting/forecast_explorer.py": {"days": 5, "retrain": "never"},
    "notebooks/forecasting/02_solar_with_satellite.ipynb": {"test_days": 5, "fleet_size": 5},
    "notebooks/forecasting/03_wind.ipynb": {"test_days": 5, "fleet_size": 4, "lstm_epochs": 3},
    "notebooks/market/01_price_and_arbitrage.ipynb": {"test_days": 5, "retrain": "never"},
}

JUPYTER = jupyter_notebooks()
MARIMO = marimo_notebooks()


def test_there_are_notebooks_of_both_kinds():
    assert len(JUPYTER) >= 1
    assert all(p.with_suffix(".py").exists() for p in JUPYTER)


def _cells(nb) -> list[tuple[str, str, tuple[str, ...]]]:
    return [(c.cell_type, c.source.strip(), tuple(c.metadata.get("tags", ()))) for c in nb.cells]


@pytest.mark.parametrize("path", JUPYTER, ids=rel)
def test_pair_is_in_sync(path: Path):
    import jupytext

    ipynb, py = jupytext.read(path), jupytext.read(path.with_suffix(".py"))
    assert _cells(ipynb) == _cells(py), (
        f"{rel(path)} and its .py differ: run `jupytext --sync {rel(path.with_suffix('.py'))}`"
    )
    assert ipynb.metadata.get("kernelspec", {}).get("name") == "gridmind"


@pytest.mark.parametrize("path", JUPYTER, ids=rel)
def test_no_committed_outputs(path: Path):
    raw = json.loads(path.read_text())
    dirty = [
        i
        for i, c in enumerate(raw["cells"])
        if c["cell_type"] == "code" and (c.get("outputs") or c.get("execution_count"))
    ]
    assert not dirty, f"{rel(path)}: cells {dirty} have outputs; clear them before committing"


def _headings(path: Path) -> list[str]:
    import jupytext

    nb = jupytext.read(path)
    lines = [ln for c in nb.cells if c.cell_type == "markdown" for ln in c.source.splitlines()]
    return [ln.strip() for ln in lines if ln.lstrip().startswith("#")]


def _check_skeleton(path: Path, headings: list[str], has_parameters_cell: bool) -> None:
    titles = [h for h in headings if h.startswith("# ")]
    assert len(titles) == 1, f"{rel(path)}: expected one title ('# …'); found {titles}"
    sections = [h.lstrip("#").strip() for h in headings if h.startswith("## ")]
    order = [s for s in sections if s in SKELETON]
    assert order == list(SKELETON), f"{rel(path)}: expected sections {SKELETON}; found {sections}"
    assert has_parameters_cell, f"{rel(path)}: expected a code cell tagged 'parameters'"


@pytest.mark.parametrize("path", JUPYTER, ids=rel)
def test_skeleton(path: Path):
    import jupytext

    nb = jupytext.read(path)
    tagged = [c for c in nb.cells if "parameters" in c.metadata.get("tags", ())]
    _check_skeleton(path, _headings(path), len(tagged) == 1)
    assert "Time to learn" in "\n".join(c.source for c in nb.cells if c.cell_type == "markdown")


@pytest.mark.parametrize("path", MARIMO, ids=rel)
def test_marimo_skeleton(path: Path):
    text = path.read_text()
    headings = [
        ln.strip().lstrip('r"').strip()
        for ln in text.splitlines()
        if ln.strip().lstrip('r"').startswith("#")
    ]
    headings = [h for h in headings if h.startswith(("# ", "## "))]
    _check_skeleton(path, headings, "mo.cli_args()" in text)


@pytest.mark.notebook
@pytest.mark.slow
@pytest.mark.parametrize("path", JUPYTER, ids=rel)
def test_jupyter_notebook_runs(path: Path, notebook_home: Path, tmp_path: Path, timed):
    import papermill

    out = tmp_path / path.name
    with timed(rel(path)):
        papermill.execute_notebook(
            str(path),
            str(out),
            parameters=CI_PARAMETERS.get(rel(path), {}),
            kernel_name="gridmind",
            cwd=str(path.parent),
            progress_bar=False,
            request_save_on_cell_execute=False,
        )
    executed = json.loads(out.read_text())
    errors = [
        o for c in executed["cells"] for o in c.get("outputs", []) if o["output_type"] == "error"
    ]
    assert not errors


# marimo notebooks run (app.run(), what `python app.py` does) in test_marimo_apps.py, which
# also checks what `marimo run` shows first


def test_notebook_root_is_the_project():
    assert (ROOT / "data_catalog.yaml").exists()


@pytest.mark.notebook
@pytest.mark.slow
def test_load_tutorial_promotes_only_the_winner_in_a_scratch_registry(
    notebook_home: Path, tmp_path: Path
):
    """The tutorial never touches the registry the jobs read, and promotes the test winner."""
    import papermill

    from workbench.forecasting.registry import ModelRegistry

    path = ROOT / "notebooks/forecasting/01_load_forecasting.ipynb"
    out = tmp_path / path.name
    papermill.execute_notebook(
        str(path),
        str(out),
        parameters=CI_PARAMETERS[rel(path)],
        kernel_name="gridmind",
        cwd=str(path.parent),
        progress_bar=False,
        request_save_on_cell_execute=False,
    )
    jobs_registry = ModelRegistry(notebook_home / "mlflow")  # the jobs' default store
    assert jobs_registry.list_models() == []  # nothing registered where the jobs look
    text = "\n".join(
        "".join(o.get("text", "")) for c in json.loads(out.read_text())["cells"]
        for o in c.get("outputs", []) if o["output_type"] == "stream"
    )  # fmt: skip
    assert "promoted lightgbm (" in text
    assert "identical forecast after the round trip: True" in text
