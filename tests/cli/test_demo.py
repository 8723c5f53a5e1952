"""``workbench demo`` (what ``make demo`` runs) on the ci profile: bronze, silver, gold."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest


@pytest.mark.slow
def test_demo_builds_the_whole_lakehouse_and_says_where(workbench_home):
    out = subprocess.run(
        [str(Path(sys.executable).parent / "workbench"), "demo", "--profile", "ci", "--seed", "3"],
        capture_output=True,
        text=True,
        env={**os.environ, "COLUMNS": "200"},
        timeout=600,
    )
    assert out.returncode == 0, out.stderr[-2000:]
    assert f"demo ready: data under {workbench_home}" in out.stdout
    assert "bronze.raw_scada" in out.stdout
    assert "gold.fact_load" in out.stdout
    assert " 0 checks failed" in out.stdout

    from workbench import open_catalog

    cat = open_catalog()
    for name in ("bronze.raw_load", "silver.scada_cleaned", "gold.fact_load", "ops.build_runs"):
        assert int(cat.scan(name).count().execute()) > 0, name
    assert (workbench_home / "lake" / "bronze" / "pmu.zarr").is_dir()
    cat.close()
