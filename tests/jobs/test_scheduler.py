"""The scheduler's decisions, driven by a fast test clock (the real runner runs in test_runs)."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.jobs.conftest import write_probe_job
from workbench.jobs.scheduler import (
    Scheduler,
    SchedulerLockedError,
    crontab_lines,
    ticks_between,
)
from workbench.jobs.spec import load_job_spec, load_job_specs


class FakeClock:
    """Time that moves only when the scheduler sleeps (instantly), or when a run takes time."""

    def __init__(self, start: datetime, run_seconds: float = 0.0) -> None:
        self.t = start
        self.run_seconds = run_seconds
        self.sleeps: list[float] = []

    def now(self) -> datetime:
        return self.t

    def sleep(self, seconds: float, stop: threading.Event) -> None:
        self.sleeps.append(seconds)
        self.t += timedelta(seconds=max(seconds, 0.001))


@dataclass
class Outcome:
    ok: bool = True


class RecordingRunner:
    def __init__(self, clock: FakeClock) -> None:
        self.clock = clock
        self.calls: list[tuple[str, dict, datetime]] = []

    def __call__(self, spec, overrides, cancel=None):
        self.calls.append((spec.name, dict(overrides), self.clock.now()))
        self.clock.t += timedelta(seconds=self.clock.run_seconds)
        return Outcome()


def _scheduler(folder: Path, home: Path, start: datetime, **kw) -> tuple[Scheduler, Any]:
    clock = FakeClock(start, **kw)
    runner = RecordingRunner(clock)
    return Scheduler(load_job_specs(folder), home, clock=clock, runner=runner), runner


def test_every_second_cron_fires_each_tick(tmp_path, workbench_home):
    write_probe_job(tmp_path / "jobs", cron="* * * * * *")
    start = datetime(2024, 3, 10, 12, 0, 0, tzinfo=UTC)
    sched, runner = _scheduler(tmp_path / "jobs", workbench_home, start)
    fired = sched.run(max_runs=4)
    assert [f.tick for f in fired] == [start + timedelta(seconds=s) for s in (1, 2, 3, 4)]
    assert all(f.ok for f in fired)
    # the tick's local day (America/Chicago) is the issue date
    assert {c[1]["issue_date"] for c in runner.calls} == {"2024-03-10"}


def test_state_survives_a_restart_and_catchup_policies(tmp_path, workbench_home):
    start = datetime(2024, 3, 1, 17, 0, tzinfo=UTC)  # after 10:00 in Chicago
    for policy, expected in (("all", 3), ("latest", 1), ("none", 0)):
        folder = tmp_path / policy
        write_probe_job(folder, catchup=policy)
        home = tmp_path / f"home-{policy}"
        first, _ = _scheduler(folder, home, start)
        assert first.run(until=start + timedelta(seconds=1)) == []  # first sight: starts now
        # five days later: five 10:00 ticks were missed; max_catchup is 3
        later = start + timedelta(days=5)
        second, runner = _scheduler(folder, home, later)
        fired = second.run(until=later + timedelta(seconds=1))
        assert len(fired) == expected, policy
        days = [c[1]["issue_date"] for c in runner.calls]
        assert days == (["2024-03-04", "2024-03-05", "2024-03-06"][-expected:] if expected else [])
        # nothing is run twice: a third start at the same time fires nothing
        third, _ = _scheduler(folder, home, later)
        assert third.run(until=later + timedelta(seconds=1)) == []


def test_cron_honours_the_timezone_across_dst(tmp_path):
    spec = load_job_spec(write_probe_job(tmp_path))  # 0 10 * * * America/Chicago
    ticks = ticks_between(
        spec, datetime(2024, 3, 9, 0, tzinfo=UTC), datetime(2024, 3, 12, 0, tzinfo=UTC)
    )
    # 10:00 CST is 16:00 UTC; after the switch to CDT on 2024-03-10 it is 15:00 UTC
    assert [t.hour for t in ticks] == [16, 15, 15]


def test_only_one_scheduler_at_a_time(tmp_path, workbench_home):
    write_probe_job(tmp_path / "jobs")
    a, _ = _scheduler(tmp_path / "jobs", workbench_home, datetime(2024, 3, 1, tzinfo=UTC))
    b, _ = _scheduler(tmp_path / "jobs", workbench_home, datetime(2024, 3, 1, tzinfo=UTC))
    with a.lock(), pytest.raises(SchedulerLockedError, match="only scheduler"):
        b.run(max_runs=1)


def test_stop_ends_the_loop(tmp_path, workbench_home):
    write_probe_job(tmp_path / "jobs", cron="* * * * * *")
    sched, runner = _scheduler(tmp_path / "jobs", workbench_home, datetime(2024, 3, 1, tzinfo=UTC))
    original = runner.__call__

    def stop_after_two(spec, overrides, cancel=None):
        out = original(spec, overrides, cancel)
        if len(runner.calls) == 2:
            sched.stop()
        return out

    sched.runner = stop_after_two
    assert len(sched.run()) == 2


def test_crontab_lines(tmp_path):
    write_probe_job(tmp_path, name="probe")
    write_probe_job(tmp_path, name="fast", cron="* * * * * */5")  # seconds are the 6th field
    lines = crontab_lines(load_job_specs(tmp_path), command="/opt/wb/bin/workbench")
    assert "CRON_TZ=America/Chicago" in lines
    assert "0 10 * * * /opt/wb/bin/workbench jobs run probe  # owner: platform" in lines
    assert "* * * * * /opt/wb/bin/workbench jobs run fast  # owner: platform" in lines
