"""Every marimo notebook runs, and as ``marimo run`` shows it: controls first, a good default.

Each notebook runs top to bottom in this process (``app.run()``: what ``python app.py`` does)
on a private copy of the ci lakehouse, with the CI parameters of ``test_notebooks``; its outputs
come back in the order ``marimo run`` lays them out (the cells' order in the file). The layout
rules hold for every marimo notebook (they are apps); each app has its own default to check.
"""

from __future__ import annotations

import importlib.util
import re
import sys
from pathlib import Path

import pytest

from tests.notebooks.conftest import ROOT, marimo_notebooks, rel
from tests.notebooks.test_notebooks import CI_PARAMETERS

CONTROLS = ("<marimo-dropdown", "<marimo-slider")
PROSE = 'class="paragraph"'  # a markdown paragraph (headings are not prose)


def run_app(path: Path, monkeypatch: pytest.MonkeyPatch):
    """``app.run()`` of the notebook at ``path`` with its CI arguments; (outputs, defs)."""
    args = [f"--{k}={v}" for k, v in CI_PARAMETERS.get(rel(path), {}).items()]
    monkeypatch.setattr(sys, "argv", [str(path), *args])
    monkeypatch.chdir(path.parent)
    spec = importlib.util.spec_from_file_location(f"app_{path.stem}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.app.run()


def _texts(outputs) -> list[str]:
    return [getattr(o, "text", "") or "" for o in outputs]


def _first(texts: list[str], needles: tuple[str, ...] | str) -> int:
    needles = (needles,) if isinstance(needles, str) else needles
    return next(i for i, t in enumerate(texts) if any(n in t for n in needles))


def check_layout(path: Path, outputs) -> None:
    """Title, then controls before any prose; interactive plots; long prose collapsed."""
    texts = _texts(outputs)
    figures = [o for o in outputs if type(o).__module__.startswith("matplotlib")]
    assert not figures, f"{rel(path)}: a static matplotlib figure is shown"
    shown = [t for t in texts if t]
    assert "<h1" in shown[0], f"{rel(path)}: expected the title first; found {shown[0][:80]}"
    controls, prose = _first(texts, CONTROLS), _first(texts, PROSE)
    assert controls < prose, f"{rel(path)}: expected controls (output {controls}) before prose"
    assert controls <= 2, f"{rel(path)}: expected the controls right under the title"
    # interactive plots: Bokeh with BokehJS inlined (nothing from a CDN), no static PNG
    plots = [t for t in texts if "<iframe" in t and "Bokeh" in t]
    assert plots, f"{rel(path)}: expected Bokeh plots"
    assert all("cdn.bokeh.org" not in t for t in plots)
    static = [t for t in texts if re.search(r"<img[^>]*data:image/png", t)]  # a matplotlib figure
    assert not static, f"{rel(path)}: a static PNG is shown"
    # the long prose (overview, prerequisites, parameters) comes later, collapsed
    assert _first(texts, "<marimo-accordion") > controls


def check_frequency_browser(outputs, defs) -> None:
    """It opens on the generator trip, found in the labels, on the PMU that fell lowest."""
    import pandas as pd

    labels = defs["labels"]
    assert (labels["event_type"] == "generator_trip").sum() == 1
    assert labels["event_type"].iloc[0] != "generator_trip"  # not simply the first event
    opened = labels.iloc[defs["event_pick"].value]
    assert opened["event_type"] == "generator_trip"
    assert defs["default_note"].startswith("Opened on the generator trip")
    t0 = opened["start"].tz_convert(None)
    after = defs["good"]["frequency_hz"].sel(time=slice(t0, t0 + pd.Timedelta("1min")))
    lowest = after.min("time").to_series().idxmin()
    assert defs["pmu_pick"].value == lowest
    plot = outputs[_first(_texts(outputs), "<iframe")].text
    assert f"{lowest}: generator trip at" in plot


def check_forecast_explorer(outputs, defs) -> None:
    """Region, model and issue side by side; the metrics say how many hours they rest on."""
    controls = outputs[_first(_texts(outputs), CONTROLS)].text
    assert controls.count("<marimo-dropdown") == 3
    for label in ("region", "model", "issue"):
        assert f"u003e{label}&#92;u003c" in controls  # the label, as marimo escapes it
    assert defs["issue"].value == defs["issues"][-1].isoformat()  # the latest issue
    assert defs["scores"].loc["lightgbm · this issue", "n (hours)"] == 48


CHECKS = {
    "notebooks/anomaly/frequency_event_browser.py": check_frequency_browser,
    "notebooks/forecasting/forecast_explorer.py": check_forecast_explorer,
}


def test_every_marimo_notebook_has_its_checks():
    assert sorted(rel(p) for p in marimo_notebooks()) == sorted(CHECKS)
    assert all((ROOT / p).exists() for p in CHECKS)


@pytest.mark.notebook
@pytest.mark.slow
@pytest.mark.parametrize("path", marimo_notebooks(), ids=rel)
def test_marimo_app_runs_with_controls_first(path: Path, notebook_home, monkeypatch, timed):
    with timed(rel(path)):
        outputs, defs = run_app(path, monkeypatch)
    check_layout(path, outputs)
    CHECKS[rel(path)](outputs, defs)
