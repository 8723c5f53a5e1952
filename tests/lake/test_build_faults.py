"""Kill a real ``workbench build`` at each stage; readers keep reading while a build runs.

The build pauses where ``WORKBENCH_FAULT_PAUSE`` says (see :mod:`workbench.lake.build`), the
test SIGKILLs it there, then checks what a reader sees, what ``ops.build_runs`` says, and that
the next build recovers and leaves nothing stale behind.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

pytestmark = pytest.mark.slow

TABLES = ("silver.system_load", "gold.fact_load", "silver.meter_readings")
# stages before the warehouse commit leave the old state, those after it the new one
NEW_AFTER = {"warehouse-committed", "parquet-swap"}
ROUNDS = int(os.environ.get("WORKBENCH_FAULT_ROUNDS", "1"))  # kills per stage


@pytest.fixture
def home(ci_medallion, tmp_path, monkeypatch) -> Path:
    """A private built lakehouse: the session's ci medallion (silver and gold built by one
    ``build_medallion``, its run in ``ops.build_runs``) with its warehouse and lake files copied
    (both get mutated). It is the state each test used to build first, without that build."""
    home = tmp_path / "home"
    home.mkdir()
    shutil.copy(ci_medallion / "warehouse.duckdb", home / "warehouse.duckdb")
    shutil.copytree(ci_medallion / "lake", home / "lake", symlinks=True)
    monkeypatch.setenv("WORKBENCH_HOME", str(home))
    return home


def _build(home: Path, stage: str | None = None, marker: Path | None = None) -> subprocess.Popen:
    env = {**os.environ, "WORKBENCH_HOME": str(home), "COLUMNS": "200"}
    if stage is not None:
        env |= {"WORKBENCH_FAULT_PAUSE": stage, "WORKBENCH_FAULT_PAUSE_FILE": str(marker)}
    return subprocess.Popen(
        [sys.executable, "-m", "workbench.cli.main", "build"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )


def _wait_for(marker: Path, proc: subprocess.Popen, timeout_s: float = 600) -> None:
    deadline = time.monotonic() + timeout_s
    while not marker.exists():
        if proc.poll() is not None:
            out = proc.stdout.read() if proc.stdout else ""
            pytest.fail(f"the build ended (rc {proc.returncode}) before pausing:\n{out[-3000:]}")
        assert time.monotonic() < deadline, "the build never reached its pause"
        time.sleep(0.05)


def _state() -> dict[str, int]:
    """What a reader sees: a hash of each table (catalog reads, read-only)."""
    from workbench import open_catalog

    out = {}
    with open_catalog(read_only=True) as cat:
        for name in TABLES:
            frame = cat.relation(name).to_pandas()
            frame = frame.sort_values(list(cat.entry(name).key)).reset_index(drop=True)
            frame = frame[sorted(frame.columns)]
            # two builds of the same bronze agree to ~1e-12, not bit for bit (parallel sums)
            floats = frame.select_dtypes("float").columns
            frame[floats] = frame[floats].round(6)
            out[name] = int(pd.util.hash_pandas_object(frame, index=False).sum())
    return out


def _pointer_rows() -> int:
    """Rows behind the dataset's pointer, read without the catalog's warehouse (a bare spec)."""
    from workbench import open_catalog
    from workbench.io.frames import pinned, scan_parquet_ibis

    with open_catalog(read_only=True) as cat:
        spec = pinned(cat.entry("silver.meter_readings"))
    return int(scan_parquet_ibis(spec).count().execute())


def _runs() -> pd.DataFrame:
    from workbench import open_catalog

    with open_catalog(read_only=True) as cat:
        return cat.read("ops.build_runs")


def _mutate_bronze(home: Path, k: int) -> None:
    """New bronze for the next build: one more day of meter reads moved, load shifted."""
    from workbench import open_catalog
    from workbench.io.frames import write_partitioned

    with open_catalog() as cat:
        wh = cat.warehouse()
        with wh.transaction():
            wh.execute(
                'UPDATE "bronze"."raw_load" SET load_mw = load_mw + 1 '
                "WHERE timestamp >= (SELECT max(timestamp) FROM bronze.raw_load) - INTERVAL 3 HOUR"
            )
        wh.close()
        ts = pd.date_range("2024-03-20T06:00", periods=4, freq="15min", tz="UTC")
        reads = pd.DataFrame(
            {
                "meter_id": f"MTR_FAULT_{k}",
                "timestamp": ts,
                "energy_kwh": 0.5 + k,
                "is_estimated": False,
                "customer_class": "residential",
                "region_id": "NORTH",
                "date": ts.tz_convert("America/Chicago").date,
            }
        )
        write_partitioned([reads], cat.entry("bronze.meter_reads"), prefix=f"fault{k}")


def _stale(home: Path) -> list[str]:
    silver = home / "lake" / "silver"
    current = os.readlink(silver / "meter_readings")
    versions = [p.name for p in silver.glob(".meter_readings.v-*")]
    stale = [p.name for p in home.glob("warehouse.duckdb.build-*")]
    stale += [p.name for p in silver.glob(".meter_readings.link-*")]
    stale += [p.name for p in silver.glob(".meter_readings.*.new")]
    if len(versions) > 2 or current not in versions:  # current + the one before it
        stale += versions
    return stale


@pytest.mark.timeout(600 * ROUNDS + 300)
def test_a_build_killed_at_any_stage_leaves_the_old_or_the_new_state(home, capsys):
    from workbench import open_catalog
    from workbench.lake.build import FAULT_STAGES, build_medallion

    kills = mixed = stale_left = misrecorded = 0
    details: list[str] = []
    k = 0
    for _ in range(ROUNDS):
        for stage in FAULT_STAGES:
            k += 1
            _mutate_bronze(home, k)
            old, known = _state(), set(_runs()["build_id"])
            marker = home / f"paused-{k}"
            proc = _build(home, stage, marker)
            _wait_for(marker, proc)
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
            kills += 1
            seen = _state()
            runs = _runs()
            killed = runs[~runs["build_id"].isin(known)]
            assert killed["build_id"].nunique() == 1, killed
            killed_id = killed["build_id"].iloc[0]

            with open_catalog() as cat:  # the next command: a build, which recovers first
                result = build_medallion(cat)
            new = _state()
            assert new != old, "the mutation must change what a build publishes"
            expected = new if stage in NEW_AFTER else old
            off = [t for t in TABLES if seen[t] != expected[t]]
            mixed += len(off)
            where = {
                t: "old" if seen[t] == old[t] else "new" if seen[t] == new[t] else "?" for t in off
            }
            details += [f"{stage}: {where}"] if off else []
            statuses = set(killed["status"])
            if stage in NEW_AFTER:  # committed: its rows say built, and the data is there
                misrecorded += statuses != {"built"}
            else:  # not committed: rows say running, and the next build says interrupted
                misrecorded += statuses != {"running"}
                after = _runs()
                misrecorded += set(after[after.build_id == killed_id]["status"]) != {"interrupted"}
            assert result.ok
            stale_left += len(_stale(home))
            with open_catalog(read_only=True) as cat:  # the pointer agrees with the warehouse
                assert _pointer_rows() == len(cat.read("silver.meter_readings"))
            assert "running" not in set(_runs()["status"])
    with capsys.disabled():
        print(
            f"\nbuild kills tried {kills}, tables mixed {mixed}, stale folders left "
            f"{stale_left}, misrecorded runs {misrecorded}"
        )
    assert (mixed, stale_left, misrecorded) == (0, 0, 0), details
    assert kills == ROUNDS * len(FAULT_STAGES)


def test_a_reader_in_another_process_reads_while_a_build_runs(home, monkeypatch):
    """Today's failure: the build held the DuckDB write lock, readers failed after the timeout."""
    from workbench import open_catalog
    from workbench.io.warehouse import WarehouseLockedError

    monkeypatch.setenv("WORKBENCH_LOCK_TIMEOUT_S", "2")
    marker = home / "paused"
    proc = _build(home, "silver-written", marker)
    failures: list[str] = []
    reads = 0

    def read() -> None:
        nonlocal reads
        reads += 1
        try:
            with open_catalog(read_only=True) as cat:
                assert len(cat.read("gold.fact_load")) > 0
        except WarehouseLockedError as exc:
            failures.append(str(exc).splitlines()[0])

    while proc.poll() is None and not marker.exists():
        read()
    paused = marker.exists()
    for _ in range(5):  # the build is half-way: silver written, nothing committed
        read()
    marker.unlink(missing_ok=True)
    while proc.poll() is None:
        read()
    out = proc.stdout.read() if proc.stdout else ""
    assert failures == [], f"{len(failures)} of {reads} reads failed: {failures[0]}"
    assert proc.returncode == 0, out[-3000:]
    assert paused


def test_a_write_during_a_build_is_kept_and_the_build_still_publishes(home):
    """A job writing while the build works on its copy: the commit merges instead of swapping."""
    from workbench import open_catalog

    _mutate_bronze(home, 1)
    old = _state()
    marker = home / "paused"
    proc = _build(home, "gold-written", marker)
    _wait_for(marker, proc)
    note = pd.DataFrame({"job": ["day_ahead_load"], "rows": [24]})
    with open_catalog() as cat:  # not blocked by the build: it holds no lock on the file
        assert cat.warehouse().write("gold.job_note", note) == 1
    marker.unlink()
    out, _ = proc.communicate(timeout=600)
    assert proc.returncode == 0, out[-3000:]
    with open_catalog(read_only=True) as cat:
        assert cat.warehouse().table("gold.job_note").to_pandas().equals(note)  # kept
        runs = cat.read("ops.build_runs")
    new = _state()
    assert all(new[t] != old[t] for t in TABLES)  # the build's tables were published
    last = runs[runs.build_id == runs.sort_values("started_at").build_id.iloc[-1]]
    assert set(last["status"]) == {"built"}
    assert not list(home.glob("warehouse.duckdb.build-*"))
