"""Notebook discovery and the execution-time summary printed at the end of the session."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOK_DIRS = (ROOT / "notebooks", ROOT / "pipelines" / "papermill" / "notebooks")
TIMINGS: dict[str, float] = {}


def jupyter_notebooks() -> list[Path]:
    """Every committed Jupyter notebook (the .ipynb side of each jupytext pair)."""
    return sorted(p for d in NOTEBOOK_DIRS if d.exists() for p in d.rglob("*.ipynb"))


def marimo_notebooks() -> list[Path]:
    """Every marimo notebook: a plain .py that builds ``app = marimo.App(...)``."""
    return sorted(
        p
        for d in NOTEBOOK_DIRS
        if d.exists()
        for p in d.rglob("*.py")
        if "marimo.App(" in p.read_text()
    )


def rel(path: Path) -> str:
    return str(path.relative_to(ROOT))


@pytest.fixture
def timed():
    """Record how long a notebook takes, for the summary at the end of the session."""

    class _Timer:
        def __call__(self, name: str):
            self.name = name
            return self

        def __enter__(self):
            self.t0 = time.perf_counter()

        def __exit__(self, *exc):
            TIMINGS[self.name] = time.perf_counter() - self.t0

    return _Timer()


def pytest_terminal_summary(terminalreporter) -> None:
    if not TIMINGS:
        return
    terminalreporter.section("notebook execution times")
    for name, seconds in sorted(TIMINGS.items(), key=lambda kv: -kv[1]):
        terminalreporter.write_line(f"{seconds:7.1f} s  {name}")
    terminalreporter.write_line(f"{sum(TIMINGS.values()):7.1f} s  total ({len(TIMINGS)} notebooks)")
