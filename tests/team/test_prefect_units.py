"""The Prefect mapping without a server: the attempt's retry condition, the crash automations."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.jobs.conftest import write_probe_job
from workbench.jobs.prefect_flows import (
    PrefectJobError,
    crash_automations,
    crash_window_s,
    retry_condition,
)
from workbench.jobs.spec import load_job_specs

pytestmark = [pytest.mark.team]


@pytest.fixture
def specs(tmp_path):
    write_probe_job(tmp_path, "crashy", retries=2, retry_on="[kernel_died, timeout]")
    write_probe_job(tmp_path, "steady", retries=1, retry_on="[warehouse_locked]")
    return load_job_specs(tmp_path)


def test_retry_condition_retries_only_the_transient_kinds(specs):
    from prefect.states import Failed
    from prefect.task_engine import TaskRunTimeoutError

    crashy, steady = retry_condition(specs["crashy"]), retry_condition(specs["steady"])
    died = Failed(data=PrefectJobError("run r1 failed", "kernel_died"))
    assert crashy(None, None, died) is True
    assert steady(None, None, died) is False
    backstop = Failed(data=TaskRunTimeoutError("Task run exceeded timeout"))
    assert crashy(None, None, backstop) is True  # Prefect's backstop timeout is a timeout
    assert steady(None, None, backstop) is False
    other = Failed(data=RuntimeError("a Prefect client error"))
    assert crashy(None, None, other) is False  # not retried as a "timeout"


def test_crash_window_covers_the_lease_and_a_heartbeat():
    assert crash_window_s(15) == 45.0
    assert crash_window_s(120, 60) == 180.0
    assert crash_window_s(10, 5) == 40.0  # Prefect's heartbeats are never under 30 s


def test_crash_automations_per_deployment(specs):
    from prefect.client.schemas.objects import StateType
    from prefect.events.schemas.automations import Posture

    got = crash_automations("crashy", "d-1", specs["crashy"], 45.0)
    zombie = got["workbench-crashy/crashy: crash on missing heartbeats"]
    assert zombie.trigger.posture == Posture.Proactive
    assert zombie.trigger.within == timedelta(seconds=45)
    assert zombie.trigger.after == {"prefect.flow-run.heartbeat"}
    assert "prefect.flow-run.Completed" in zombie.trigger.expect
    assert zombie.actions[0].state == StateType.CRASHED
    related = zombie.trigger.match_related
    assert related["prefect.resource.id"] == ["prefect.deployment.d-1"]
    rerun = got["workbench-crashy/crashy: rerun when crashed"]
    assert rerun.trigger.expect == {"prefect.flow-run.Crashed"}
    assert rerun.trigger.match["prefect.run-count"] == ["1", "2"]  # retries.max reruns
    assert (rerun.actions[0].state, rerun.actions[0].name) == (StateType.SCHEDULED, "AwaitingRetry")

    steady = crash_automations("steady", "d-2", specs["steady"], 45.0)
    assert steady["workbench-steady/steady: rerun when crashed"] is None  # removed if present
    assert steady["workbench-steady/steady: crash on missing heartbeats"] is not None
