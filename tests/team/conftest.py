"""The team tier: the workbench on a shared PostgreSQL warehouse with least-privilege roles.

One session-scoped database ``team`` on the session's PostgreSQL server: the roles are created
by ``workbench warehouse roles`` (as the superuser), bronze is simulated and ``workbench build``
run as the writer role; tests read it as the writer or the read-only reader.
"""

from __future__ import annotations

import atexit
import os
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import CATALOG, ROOT

pytestmark = [pytest.mark.team, pytest.mark.postgres]

# Prefect keeps its settings and local state in PREFECT_HOME (default ~/.prefect): a scratch one
_PREFECT_HOME = tempfile.mkdtemp(prefix="workbench-prefect-")
os.environ.setdefault("PREFECT_HOME", _PREFECT_HOME)
atexit.register(shutil.rmtree, _PREFECT_HOME, True)

#: the smallest lakehouse the day-ahead load job runs on (train_days >= 14, 2 days after)
TEAM_DAYS = 17


@dataclass(frozen=True)
class Team:
    """The team's warehouse URLs and the shared WORKBENCH_HOME (lake files, run notebooks)."""

    admin: str
    writer: str
    reader: str
    mlflow: str  # a database of its own for the MLflow tracking store (writer owns it)
    home: Path
    artifacts: Path  # the shared MLflow artifact root

    def env(self, role: str = "writer", **more: str) -> dict[str, str]:
        """The environment of a team process connecting as ``role``."""
        env = {
            **os.environ,
            "PYTHONPATH": str(ROOT),
            "WORKBENCH_HOME": str(self.home),
            "WORKBENCH_CATALOG": str(CATALOG),
            "WORKBENCH_WAREHOUSE": getattr(self, role),
            "MLFLOW_TRACKING_URI": self.mlflow,
            "WORKBENCH_MLFLOW_ARTIFACTS": str(self.artifacts),
            "MPLBACKEND": "Agg",
        }
        env.update(more)
        return env


def workbench(team: Team, *args: str, role: str = "writer", timeout: float = 600, **env: str):
    """``workbench ARGS`` in a subprocess as ``role``; returns the CompletedProcess."""
    return subprocess.run(
        [sys.executable, "-m", "workbench.cli.main", *args],
        env=team.env(role, **env),
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=ROOT,
    )


def _admin_sql(url: str, *statements: str) -> None:
    import psycopg2

    con = psycopg2.connect(url.replace("postgres://", "postgresql://"))
    con.autocommit = True
    try:
        with con.cursor() as cur:
            for statement in statements:
                cur.execute(statement)
    finally:
        con.close()


@pytest.fixture(scope="session")
def team(postgres_server, tmp_path_factory) -> Team:
    """Roles created, bronze simulated and the medallion built on PostgreSQL, as the writer."""
    base = f"127.0.0.1:{postgres_server.port}"
    _admin_sql(
        postgres_server.url,
        "CREATE DATABASE team",
        "CREATE ROLE workbench_writer LOGIN",
        "CREATE DATABASE team_mlflow OWNER workbench_writer",
    )
    root = tmp_path_factory.mktemp("team")
    team = Team(
        admin=f"postgres://postgres@{base}/team",
        writer=f"postgres://workbench_writer@{base}/team",
        reader=f"postgres://workbench_reader@{base}/team",
        mlflow=f"postgresql://workbench_writer@{base}/team_mlflow",
        home=root / "home",
        artifacts=root / "mlflow-artifacts",
    )
    done = workbench(team, "warehouse", "roles", role="admin")
    assert done.returncode == 0, done.stderr
    _simulate(team)
    built = workbench(team, "build")
    assert built.returncode == 0, built.stdout + built.stderr
    return team


def _simulate(team: Team) -> None:
    """Bronze of a short ci profile, written by the writer role (tables in PostgreSQL)."""
    from workbench.io.catalog import open_catalog
    from workbench.sim.build import build_lakehouse
    from workbench.sim.profiles import get_profile

    profile = get_profile("ci").with_(
        days=TEAM_DAYS, scada_assets=4, pmu_count=4, pmu_minutes=2, meter_count=20, meter_days=1
    )
    with pytest.MonkeyPatch.context() as mp:
        for key in ("WORKBENCH_HOME", "WORKBENCH_CATALOG", "WORKBENCH_WAREHOUSE"):
            mp.setenv(key, team.env()[key])
        cat = open_catalog()
        try:
            build_lakehouse(cat, profile, seed=42)
        finally:
            cat.close()


@pytest.fixture
def as_role(team: Team, monkeypatch: pytest.MonkeyPatch):
    """Point this process's catalog at the team warehouse as a role: ``as_role("reader")``."""

    def use(role: str) -> None:
        for key, value in team.env(role).items():
            if key.startswith(("WORKBENCH_", "MLFLOW_")):
                monkeypatch.setenv(key, value)

    return use
