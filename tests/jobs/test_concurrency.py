"""Dashboards read while jobs write: a reader process and a writer process on one DuckDB file."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import time

import pytest

from workbench.io.warehouse import Warehouse, WarehouseLockedError

WRITER = textwrap.dedent(
    """
    import sys, time, pandas as pd
    from workbench import open_catalog
    from workbench.jobs.context import publish
    for i in range(int(sys.argv[1])):
        cat = open_catalog(read_only=True)
        issue = pd.Timestamp("2024-03-10", tz="UTC") + pd.Timedelta(days=i)
        frame = pd.DataFrame({
            "issue_time": issue,
            "timestamp": [issue + pd.Timedelta(hours=h) for h in range(24)],
            "region_id": "NORTH", "model": "w", "quantile": 0.5, "load_mw": 1.0,
        })
        publish(cat, {"gold.load_forecasts": frame}, f"writer:{i}")
        time.sleep(0.3)  # jobs publish once per run, not back to back: leave readers a window
    print("writer done")
    """
)

READER = textwrap.dedent(
    """
    import json, sys, time
    from workbench import open_catalog
    target, seen = int(sys.argv[1]), []
    cat = open_catalog(read_only=True)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        wh = cat.warehouse()
        n = len(cat.read("gold.load_forecasts")) if wh.exists("gold.load_forecasts") else 0
        wh.close()
        seen.append(n)
        if n == target:
            break
    print(json.dumps(seen))
    """
)


@pytest.mark.slow
def test_reader_and_writer_processes_at_once(job_home):
    runs = 6
    env = {**os.environ, "WORKBENCH_LOCK_TIMEOUT_S": "60"}
    writer = subprocess.Popen(
        [sys.executable, "-c", WRITER, str(runs)], env=env, stdout=subprocess.PIPE, text=True
    )
    reader = subprocess.Popen(
        [sys.executable, "-c", READER, str(runs * 24)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    w_out, _ = writer.communicate(timeout=180)
    r_out, r_err = reader.communicate(timeout=180)
    assert writer.returncode == 0
    assert "writer done" in w_out
    assert reader.returncode == 0, r_err
    seen = json.loads(r_out)
    assert seen[-1] == runs * 24  # the reader saw every commit in the end
    assert len(set(seen)) >= 3, seen  # reads happened between the commits
    # never a half-written run: each job's rows commit together
    assert all(n % 24 == 0 for n in seen)
    assert seen == sorted(seen)
    assert not (job_home / "warehouse.duckdb.write-pending").exists()  # no marker left behind


def test_lock_wait_gives_up_with_a_clear_error(job_home):
    path = job_home / "warehouse.duckdb"
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            f"import duckdb, time; c = duckdb.connect({str(path)!r}); print('held', flush=True); "
            "time.sleep(30)",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "held"
        t0 = time.monotonic()
        reader = Warehouse(f"duckdb:///{path}", read_only=True, lock_timeout_s=0.5)
        with pytest.raises(WarehouseLockedError, match="locked by another process"):
            reader.ping()
        assert 0.4 < time.monotonic() - t0 < 10
    finally:
        holder.kill()
        holder.wait()
    # once the holder is gone the same reader gets in
    reader.ping()
    reader.close()


def test_read_only_catalog_frees_the_file_after_a_read_and_refuses_writes(job_home):
    from workbench import open_catalog
    from workbench.core.errors import DataAccessError

    cat = open_catalog(read_only=True)
    regions = cat.read("gold.dim_regions")
    assert len(regions) == 5
    # a writer in another process gets the file at once: the reader released it
    writer = subprocess.run(
        [
            sys.executable,
            "-c",
            "import duckdb, sys; duckdb.connect(sys.argv[1]).close(); print('wrote')",
            str(job_home / "warehouse.duckdb"),
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert writer.stdout.strip() == "wrote", writer.stderr
    with pytest.raises(DataAccessError, match="read_only=True"):
        cat.write("gold.dim_regions", regions)
    cat.close()
