"""The ``workbench`` command driven as a user would: a real process, its output, its exit code."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import CATALOG

WORKBENCH = str(Path(sys.executable).parent / "workbench")


def run(*args: str, cwd: Path | None = None, env: dict[str, str] | None = None):
    return subprocess.run(
        [WORKBENCH, *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        env={**os.environ, "COLUMNS": "200", **(env or {})},
        timeout=120,
    )


def test_catalog_list_lists_every_entry():
    from workbench.catalog import load_catalog_spec

    out = run("catalog", "list")
    assert out.returncode == 0, out.stderr
    names = [d.name for d in load_catalog_spec(CATALOG).datasets]
    for name in names:
        assert name in out.stdout
    assert f"{len(names)} datasets" in out.stderr  # the title; stdout is the rows


def test_catalog_list_by_layer():
    out = run("catalog", "list", "--layer", "ops")
    assert out.returncode == 0
    assert "ops.job_runs" in out.stdout
    assert "gold.fact_load" not in out.stdout


def test_describe_with_a_one_letter_typo_suggests_and_fails():
    out = run("catalog", "describe", "gold.fact_lod")
    assert out.returncode != 0
    assert "did you mean 'gold.fact_load'" in out.stderr
    assert len(out.stderr.strip().splitlines()) == 1  # one line, no traceback
    assert "Traceback" not in out.stderr


def test_describe_prints_columns_and_units():
    out = run("catalog", "describe", "bronze.raw_scada")
    assert out.returncode == 0, out.stderr
    assert "quality_code" in out.stdout
    assert "availability lag" in out.stdout


def test_a_broken_catalog_is_one_line_and_non_zero(tmp_path):
    broken = tmp_path / "data_catalog.yaml"
    broken.write_text(CATALOG.read_text().replace("owner: grid-data", "owner: 7", 1))
    out = run("catalog", "list", env={"WORKBENCH_CATALOG": str(broken)})
    assert out.returncode == 1
    assert out.stderr.startswith("error: ")
    assert "key 'owner'" in out.stderr
    assert "found int 7" in out.stderr


def test_the_catalog_is_found_from_a_subfolder_of_the_project(tmp_path):
    project = tmp_path / "project"
    (project / "notebooks" / "forecasting").mkdir(parents=True)
    (project / "data_catalog.yaml").write_text(CATALOG.read_text())
    env = {k: v for k, v in os.environ.items() if k not in ("WORKBENCH_CATALOG", "WORKBENCH_HOME")}
    out = subprocess.run(
        [WORKBENCH, "catalog", "describe", "bronze.pmu"],
        capture_output=True,
        text=True,
        cwd=project / "notebooks" / "forecasting",
        env=env,
    )
    assert out.returncode == 0, out.stderr
    assert f"{project}/.workbench/lake/bronze/pmu.zarr" in out.stdout.replace("\n", "")


def test_doctor_reports_and_passes_on_a_healthy_install(workbench_home):
    out = run("doctor")
    assert out.returncode == 0, out.stdout + out.stderr
    for check in ("python", "packages", "catalog", "warehouse", "kernel", "chromium", "postgresql"):
        assert check in out.stdout
    assert (workbench_home / "warehouse.duckdb").exists()  # it really connected


def test_doctor_fails_when_the_warehouse_is_unreachable():
    out = run("doctor", env={"WORKBENCH_WAREHOUSE": "postgres://nobody@127.0.0.1:9/none"})
    assert out.returncode == 1
    assert "warehouse" in out.stdout
    assert "fail" in out.stdout


def test_usage_errors_exit_non_zero():
    out = run("catalog", "describe")
    assert out.returncode == 2
    lines = out.stderr.strip().splitlines()
    assert lines == ["error: missing argument 'NAME' (see 'workbench catalog describe --help')"]


@pytest.mark.parametrize("args", [("--help",), ("catalog", "--help"), ("demo", "--help")])
def test_help(args):
    out = run(*args)
    assert out.returncode == 0
    assert "Usage" in out.stdout


def test_version():
    from workbench import __version__

    assert run("--version").stdout.strip() == __version__
