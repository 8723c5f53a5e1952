"""An MLflow SQLite store for the tracking and registry tests.

Creating MLflow's tables runs its migrations (about 10 s), so one empty store is migrated per
session and its database file copied into each test's ``WORKBENCH_HOME/mlflow``: every test
gets its own real SQLite tracking store and model registry.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest


def run_cli(monkeypatch, capsys, *args: str) -> tuple[int, str, str]:
    """Run ``workbench *args`` in this process; returns (exit code, stdout, stderr)."""
    from workbench.cli.main import main

    monkeypatch.setattr(sys, "argv", ["workbench", *args])
    code = 0
    try:
        main()
    except SystemExit as exc:
        code = int(exc.code or 0)
    out = capsys.readouterr()
    return code, out.out, out.err


@pytest.fixture(scope="session")
def mlflow_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An empty, migrated MLflow SQLite database."""
    from workbench.forecasting.tracking import client

    folder = tmp_path_factory.mktemp("mlflow-template")
    client(f"sqlite:///{folder / 'mlflow.db'}")
    return folder / "mlflow.db"


@pytest.fixture
def mlflow_home(workbench_home: Path, mlflow_template: Path, monkeypatch) -> Path:
    """``WORKBENCH_HOME/mlflow`` holding a fresh copy of the empty store; no ambient server."""
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    folder = workbench_home / "mlflow"
    folder.mkdir(parents=True)
    shutil.copyfile(mlflow_template, folder / "mlflow.db")
    return folder


def seed_store(folder: Path, template: Path) -> Path:
    """Copy the empty store into ``folder`` (a registry root); returns ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(template, folder / "mlflow.db")
    return folder


@pytest.fixture
def registry_root(tmp_path: Path, mlflow_template: Path) -> Path:
    """A registry folder (``ModelRegistry(root)``) holding a fresh copy of the empty store."""
    return seed_store(tmp_path / "registry", mlflow_template)
