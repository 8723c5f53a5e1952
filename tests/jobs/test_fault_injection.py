"""Fault injection: SIGKILL a real job run before, during and after its publish, repeatedly.

Each kill starts ``workbench jobs run probe`` (a real runner process, papermill and a kernel)
on a private copy of the ci medallion lakehouse with ``WORKBENCH_FAULT_PAUSE`` set, waits
until the notebook's :func:`~workbench.jobs.context.publish` pauses at that point, then kills
either the runner alone or the whole process tree with SIGKILL. Afterwards:

- no process of the run survives (the child dies with its runner);
- gold holds exactly the old rows of the run key or exactly the new ones — never a mix, never
  a duplicate;
- ``ops.job_runs`` (after :func:`~workbench.jobs.runs.reconcile`, as ``jobs history`` does)
  says which: ``failed`` with 0 rows when gold kept the old state, ``abandoned``/``succeeded``
  with the new row count when it holds the new one; never ``running``.

The figures (kills tried / rows lost / rows duplicated / runs misrecorded) are printed.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from workbench.jobs import runs as job_runs
from workbench.jobs.runner import _descendants

pytestmark = [pytest.mark.slow, pytest.mark.notebook]

POINTS = ("before_publish", "during_publish", "after_publish")
TARGETS = ("runner", "tree")
REPEATS = 2
KEY = "probe:2024-03-10"


def _gold() -> list[tuple]:
    from workbench import open_catalog

    with open_catalog(read_only=True) as cat:
        frame = cat.read("gold.load_forecasts")
    frame = frame[frame.run_key == KEY]
    return sorted(zip(frame.timestamp.astype(str), frame["quantile"], frame.load_mw, strict=True))


def _cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "workbench.cli.main", *args],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, **(env or {})},
    )


def _last_run() -> dict:
    """The newest probe run, as ``jobs history`` reports it: stale ``running`` rows reconciled
    first (in this process: the reconcile is what is tested; the CLI's table is tested in
    tests/jobs/test_runs.py and tests/cli)."""
    job_runs.reconcile()
    row = job_runs.history("probe", 1).iloc[0]
    rows = row.rows_written
    return {"status": row.status, "rows": None if rows is None or rows != rows else int(rows)}


def _wait_for(predicate, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = predicate()
        if found:
            return found
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def _kill_at(home: Path, point: str, target: str, rows: int) -> set[int]:
    """Start a run that pauses at ``point``; SIGKILL ``target``; return the pids it had."""
    folder = home / "runs" / "probe"
    before = set(folder.glob(f"*.paused-{point}")) if folder.exists() else set()
    env = {**os.environ, "WORKBENCH_FAULT_PAUSE": point}
    runner = subprocess.Popen(
        [sys.executable, "-m", "workbench.cli.main", "jobs", "run", "probe", "-p", f"rows={rows}"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=env,
    )
    try:
        _wait_for(
            lambda: set(folder.glob(f"*.paused-{point}")) - before, 240, f"the pause at {point}"
        )
        tree = {runner.pid, *_descendants(runner.pid)}
        victims = [runner.pid] if target == "runner" else sorted(tree)
        for pid in victims:
            os.kill(pid, signal.SIGKILL)
        runner.wait(timeout=30)
        survivors = lambda: {p for p in tree if job_runs.pid_alive(p)}  # noqa: E731
        _wait_for(lambda: not survivors(), 30, f"the run's processes to die ({survivors()})")
    finally:
        if runner.poll() is None:
            runner.kill()
            runner.wait()
    return tree


def test_sigkill_at_each_publish_point_leaves_old_or_new_state_recorded_truthfully(
    job_home, jobs_dir, capsys
):
    first = _cli("jobs", "run", "probe", "-p", "rows=3")
    assert first.returncode == 0, first.stdout + first.stderr
    kills = lost = duplicated = misrecorded = 0
    outcomes: dict[str, set[str]] = {}
    rows = 3
    for _ in range(REPEATS):
        for point in POINTS:
            for target in TARGETS:
                old = _gold()
                rows += 1  # each run writes a different number of rows: its state is visible
                _kill_at(job_home, point, target, rows)
                kills += 1
                run = _last_run()
                now = _gold()
                keys = [(ts, q) for ts, q, _ in now]
                duplicated += len(keys) - len(set(keys))
                if now == old:
                    state = "old"
                    if run["status"] != "failed" or run["rows"] != 0:
                        misrecorded += 1
                elif len(now) == rows * 1 and len(set(keys)) == rows:
                    state = "new"
                    if run["status"] not in ("abandoned", "succeeded") or run["rows"] != rows:
                        misrecorded += 1
                else:
                    state = "mixed"
                    lost += max(0, len(old) - len(now))
                outcomes.setdefault(f"{point}/{target}", set()).add(f"{state}:{run['status']}")
                assert run["status"] != "running", run
    with capsys.disabled():
        print(
            f"\nfault injection: kills tried {kills} / rows lost {lost} / rows duplicated "
            f"{duplicated} / runs misrecorded {misrecorded}; outcomes {outcomes}"
        )
    assert (lost, duplicated, misrecorded) == (0, 0, 0), outcomes
    assert kills == REPEATS * len(POINTS) * len(TARGETS)
    # the commit is the line: killed before it, gold kept the old rows; after it, the new ones
    for target in TARGETS:
        assert outcomes[f"before_publish/{target}"] == {"old:failed"}
        assert outcomes[f"during_publish/{target}"] == {"old:failed"}
        assert outcomes[f"after_publish/{target}"] == {"new:abandoned"}
