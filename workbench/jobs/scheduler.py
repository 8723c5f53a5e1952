"""The job scheduler: a long-running process that honours the specs' cron schedules.

- **Cron in a timezone** (croniter): ``0 10 * * *`` in ``America/Chicago`` is 10:00 local on
  DST days too; a sixth field adds seconds (``* * * * * */5``).
- **Catch-up**: the last tick handled per job is kept in ``WORKBENCH_HOME/jobs/scheduler.json``.
  Ticks missed while no scheduler ran are handled by the job's ``catchup`` policy: ``all`` runs
  each (oldest first, at most ``max_catchup``), ``latest`` only the most recent, ``none`` none
  that are more than a minute late. A job never seen before starts from now.
- **A scheduled tick sets the date parameter** (``issue_date``) to the tick's local day, so a
  caught-up run forecasts for the day it should have.
- **One instance at a time**: an exclusive ``fcntl`` lock on ``WORKBENCH_HOME/jobs/scheduler.lock``.
- **Graceful stop**: :meth:`Scheduler.stop` (the CLI calls it on SIGTERM/SIGINT) cancels the
  current run cleanly — its child and kernel stopped, the run recorded ``failed`` with the reason,
  gold unchanged — and returns.
- **An injectable clock** (:class:`Clock`) lets tests drive it through many ticks at once.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import threading
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from workbench.core.errors import WorkbenchError
from workbench.jobs.spec import JobSpec

log = logging.getLogger("workbench.jobs")
LATE_GRACE = timedelta(minutes=1)


class SchedulerLockedError(WorkbenchError):
    """Another scheduler holds the lock."""


class Clock(Protocol):
    def now(self) -> datetime: ...

    def sleep(self, seconds: float, stop: threading.Event) -> None: ...


class SystemClock:
    """Wall-clock time (UTC); sleeping wakes early when ``stop`` is set."""

    def now(self) -> datetime:
        return datetime.now(UTC)

    def sleep(self, seconds: float, stop: threading.Event) -> None:
        stop.wait(max(0.0, seconds))


def ticks_between(spec: JobSpec, after: datetime, until: datetime) -> list[datetime]:
    """Cron ticks of ``spec`` in ``(after, until]`` (UTC), computed in the schedule's timezone."""
    from croniter import croniter

    assert spec.schedule is not None
    tz = ZoneInfo(spec.schedule.timezone)
    it = croniter(spec.schedule.cron, after.astimezone(tz))
    out = []
    while True:
        tick = it.get_next(datetime).astimezone(UTC)
        if tick > until:
            return out
        out.append(tick)


def next_tick(spec: JobSpec, after: datetime) -> datetime:
    from croniter import croniter

    assert spec.schedule is not None
    it = croniter(spec.schedule.cron, after.astimezone(ZoneInfo(spec.schedule.timezone)))
    return it.get_next(datetime).astimezone(UTC)


def tick_overrides(spec: JobSpec, tick: datetime) -> dict[str, Any]:
    """Parameters a scheduled tick sets: the date parameter to the tick's local day."""
    name = spec.date_parameter
    if name is None or spec.schedule is None:
        return {}
    day = tick.astimezone(ZoneInfo(spec.schedule.timezone)).date()
    return {name: (day + timedelta(days=spec.schedule.date_offset_days)).isoformat()}


def crontab_lines(specs: Mapping[str, JobSpec], command: str = "workbench") -> list[str]:
    """Lines for a system crontab (one per scheduled job, with its timezone)."""
    lines = []
    for spec in specs.values():
        if spec.schedule is None:
            continue
        fields = spec.schedule.cron.split()
        if len(fields) == 6:  # cron has no seconds: run on the minute
            fields = fields[:5]
        lines.append(f"CRON_TZ={spec.schedule.timezone}")
        lines.append(f"{' '.join(fields)} {command} jobs run {spec.name}  # owner: {spec.owner}")
    return lines


@dataclass
class Fired:
    """One scheduled run the scheduler started."""

    job: str
    tick: datetime
    ok: bool


class Scheduler:
    """Run the jobs' cron schedules until stopped.

    Parameters
    ----------
    specs : mapping of name → JobSpec
        Jobs; those without ``schedule`` are ignored.
    home : Path
        Where the state file and the lock live (``WORKBENCH_HOME/jobs``).
    clock : Clock, optional
        The time source; :class:`SystemClock` by default.
    runner : callable, optional
        ``runner(spec, overrides, cancel=event)`` → an object with ``ok``; the real
        :func:`workbench.jobs.runner.run_job` by default.
    """

    def __init__(
        self,
        specs: Mapping[str, JobSpec],
        home: Path,
        *,
        clock: Clock | None = None,
        runner: Callable[..., Any] | None = None,
    ) -> None:
        self.specs = {n: s for n, s in specs.items() if s.schedule is not None}
        self.folder = Path(home) / "jobs"
        self.clock = clock or SystemClock()
        if runner is None:
            from workbench.jobs.runner import run_job

            runner = run_job
        self.runner = runner
        self.stop_event = threading.Event()
        self.fired: list[Fired] = []

    # ------------------------------------------------------------------ state
    @property
    def state_path(self) -> Path:
        return self.folder / "scheduler.json"

    def load_state(self) -> dict[str, datetime]:
        if not self.state_path.exists():
            return {}
        raw = json.loads(self.state_path.read_text() or "{}")
        return {job: datetime.fromisoformat(ts) for job, ts in raw.items()}

    def save_state(self, state: Mapping[str, datetime]) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        tmp = self.state_path.with_suffix(".tmp")
        tmp.write_text(json.dumps({j: t.isoformat() for j, t in state.items()}, indent=1))
        tmp.replace(self.state_path)

    @contextlib.contextmanager
    def lock(self) -> Iterator[None]:
        """Hold the single-instance lock (raises :class:`SchedulerLockedError` if taken)."""
        import fcntl

        self.folder.mkdir(parents=True, exist_ok=True)
        path = self.folder / "scheduler.lock"
        with path.open("a+") as handle:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                handle.seek(0)
                holder = handle.read().strip() or "unknown"
                msg = (
                    f"expected to be the only scheduler; found another holding {path} "
                    f"(pid {holder}). Stop it first, or run jobs with `workbench jobs run`"
                )
                raise SchedulerLockedError(msg) from None
            handle.seek(0)
            handle.truncate()
            handle.write(str(os.getpid()))
            handle.flush()
            try:
                yield
            finally:
                handle.seek(0)
                handle.truncate()
                fcntl.flock(handle, fcntl.LOCK_UN)

    # ------------------------------------------------------------------ decisions
    def due(self, state: dict[str, datetime], now: datetime) -> list[tuple[JobSpec, datetime]]:
        """The ticks to run now, per the catch-up policies; updates ``state`` for skipped ones."""
        out: list[tuple[JobSpec, datetime]] = []
        for name, spec in self.specs.items():
            assert spec.schedule is not None
            last = state.setdefault(name, now)
            ticks = ticks_between(spec, last, now)
            if not ticks:
                continue
            policy = spec.schedule.catchup
            if policy == "all":
                keep = ticks[-spec.schedule.max_catchup :]
            elif policy == "latest":
                keep = ticks[-1:]
            else:
                keep = [t for t in ticks[-1:] if now - t <= LATE_GRACE]
            skipped = len(ticks) - len(keep)
            if skipped:
                log.info("job %s: skipping %d missed tick(s) (catchup: %s)", name, skipped, policy)
                state[name] = ticks[-len(keep) - 1] if keep else ticks[-1]
            out += [(spec, t) for t in keep]
        return sorted(out, key=lambda st: st[1])

    def stop(self) -> None:
        """Ask the loop to stop; the current run is cancelled and recorded."""
        self.stop_event.set()

    # ------------------------------------------------------------------ loop
    def run(self, *, max_runs: int | None = None, until: datetime | None = None) -> list[Fired]:
        """Loop until :meth:`stop`, ``max_runs`` runs, or the clock passes ``until``."""
        with self.lock():
            state = self.load_state()
            while not self.stop_event.is_set():
                now = self.clock.now()
                if until is not None and now >= until:
                    break
                for spec, tick in self.due(state, now):
                    if self.stop_event.is_set():
                        break
                    result = self.runner(spec, tick_overrides(spec, tick), cancel=self.stop_event)
                    self.fired.append(Fired(spec.name, tick, bool(getattr(result, "ok", False))))
                    state[spec.name] = tick
                    self.save_state(state)
                    if max_runs is not None and len(self.fired) >= max_runs:
                        self.stop_event.set()
                self.save_state(state)
                if self.stop_event.is_set() or not self.specs:
                    break
                now = self.clock.now()
                wake = min(next_tick(s, max(now, state[n])) for n, s in self.specs.items())
                if until is not None:
                    wake = min(wake, until)
                self.clock.sleep((wake - now).total_seconds(), self.stop_event)
        return self.fired
