"""Test-session setup: every test runs against its own WORKBENCH_HOME, never the user's data."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
CATALOG = ROOT / "data_catalog.yaml"

# Libraries that write under $HOME at import (matplotlib, IPython, Jupyter, marimo) get a scratch
# home for the whole session, so no test depends on the developer's or CI's home folder.
_SCRATCH = Path(tempfile.mkdtemp(prefix="workbench-tests-"))
for var, sub in (
    ("MPLCONFIGDIR", "mpl"),
    ("IPYTHONDIR", "ipython"),
    ("JUPYTER_CONFIG_DIR", "jupyter-config"),
    ("JUPYTER_RUNTIME_DIR", "jupyter-runtime"),
    ("XDG_CACHE_HOME", "cache"),
):
    os.environ[var] = str(_SCRATCH / sub)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    shutil.rmtree(_SCRATCH, ignore_errors=True)


@pytest.fixture(autouse=True)
def workbench_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh WORKBENCH_HOME per test; the project's catalog; no ambient warehouse/MLflow URL."""
    home = tmp_path / "workbench-home"
    monkeypatch.setenv("WORKBENCH_HOME", str(home))
    monkeypatch.setenv("WORKBENCH_CATALOG", str(CATALOG))
    for var in ("WORKBENCH_WAREHOUSE", "WORKBENCH_LAKE", "WORKBENCH_DEBUG", "MLFLOW_TRACKING_URI"):
        monkeypatch.delenv(var, raising=False)
    return home


@pytest.fixture
def catalog(workbench_home: Path):
    """The project's catalog, opened on the per-test WORKBENCH_HOME."""
    from workbench import open_catalog

    cat = open_catalog()
    yield cat
    cat.close()


@pytest.fixture(scope="session")
def postgres_server():
    """A real PostgreSQL server for the session (Debian's binaries, a temporary cluster)."""
    from workbench.testing.postgres import TemporaryPostgres

    with TemporaryPostgres() as server:
        yield server


@pytest.fixture(params=["duckdb", "postgres"])
def warehouse_url(request, tmp_path):
    """The same test on a DuckDB file and on the PostgreSQL server (schemas dropped after)."""
    if request.param == "duckdb":
        yield f"duckdb:///{tmp_path}/warehouse.duckdb"
        return
    server = request.getfixturevalue("postgres_server")
    yield server.url
    import ibis

    con = ibis.connect(server.url)
    for schema in ("bronze", "silver", "gold", "ops"):
        con.raw_sql(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE').close()
    con.con.commit()
    con.disconnect()


@pytest.fixture(scope="session")
def ci_lakehouse(tmp_path_factory) -> Path:
    """The ``ci`` profile built once per session (seed 42); returns its WORKBENCH_HOME.

    ``WORKBENCH_TEST_CI_LAKEHOUSE=DIR`` reuses (or first builds) it in DIR across sessions, for
    quick local runs; CI leaves it unset and builds a fresh one.
    """
    from workbench.io.catalog import open_catalog
    from workbench.sim.build import build_lakehouse
    from workbench.sim.profiles import get_profile

    cached = os.environ.get("WORKBENCH_TEST_CI_LAKEHOUSE")
    if cached and (Path(cached) / ".complete").exists():
        return Path(cached)
    home = Path(cached) if cached else tmp_path_factory.mktemp("ci-lakehouse")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("WORKBENCH_HOME", str(home))
        mp.setenv("WORKBENCH_CATALOG", str(CATALOG))
        mp.delenv("WORKBENCH_WAREHOUSE", raising=False)
        mp.delenv("WORKBENCH_LAKE", raising=False)
        cat = open_catalog()
        build_lakehouse(cat, get_profile("ci"), seed=42)
        cat.close()
    (home / ".complete").touch()
    return home


@pytest.fixture
def ci_catalog(ci_lakehouse: Path, monkeypatch: pytest.MonkeyPatch):
    """A catalog opened on the session's ``ci`` lakehouse (read it, don't rewrite it)."""
    from workbench import open_catalog

    monkeypatch.setenv("WORKBENCH_HOME", str(ci_lakehouse))
    cat = open_catalog()
    yield cat
    cat.close()


@pytest.fixture(scope="session")
def ci_medallion(ci_lakehouse: Path, tmp_path_factory) -> Path:
    """The ``ci`` lakehouse with silver and gold built (a separate copy); returns its home.

    With ``WORKBENCH_TEST_CI_LAKEHOUSE=DIR`` it is kept in ``DIR-medallion`` across sessions.
    """
    from workbench.io.catalog import open_catalog
    from workbench.lake.build import build_medallion

    cached = os.environ.get("WORKBENCH_TEST_CI_LAKEHOUSE")
    if cached and (Path(f"{cached}-medallion") / ".complete").exists():
        return Path(f"{cached}-medallion")
    home = Path(f"{cached}-medallion") if cached else tmp_path_factory.mktemp("ci-medallion")
    shutil.rmtree(home, ignore_errors=True)
    home.mkdir(parents=True)
    shutil.copy(ci_lakehouse / "warehouse.duckdb", home / "warehouse.duckdb")
    shutil.copytree(ci_lakehouse / "lake", home / "lake", symlinks=True)
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("WORKBENCH_HOME", str(home))
        mp.setenv("WORKBENCH_CATALOG", str(CATALOG))
        mp.delenv("WORKBENCH_WAREHOUSE", raising=False)
        mp.delenv("WORKBENCH_LAKE", raising=False)
        cat = open_catalog()
        build_medallion(cat)
        from workbench.features.satellite import build_satellite_features
        from workbench.io.satellite import ingest_satellite

        ingest_satellite(cat)
        build_satellite_features(cat)
        cat.close()
    (home / ".complete").touch()
    return home


@pytest.fixture
def ci_gold_catalog(ci_medallion: Path, monkeypatch: pytest.MonkeyPatch):
    """A catalog on the ci lakehouse with silver and gold built (read it, don't rewrite it)."""
    from workbench import open_catalog

    monkeypatch.setenv("WORKBENCH_HOME", str(ci_medallion))
    cat = open_catalog()
    yield cat
    cat.close()


def copy_home(src: Path, dst: Path) -> Path:
    """A private, writable copy of a lakehouse home (warehouse file copied, lake files linked)."""
    dst.mkdir(parents=True)
    shutil.copy(src / "warehouse.duckdb", dst / "warehouse.duckdb")
    (dst / "lake").symlink_to(src / "lake")
    return dst
