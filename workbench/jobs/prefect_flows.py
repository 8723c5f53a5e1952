"""The job specs as Prefect flows and deployments: the platform's orchestrator runs the jobs.

One deployment per job spec (:func:`deploy_jobs`, ``workbench jobs deploy prefect``), into a
work pool of type ``process``; ``prefect worker start --pool POOL`` on any host with this package
and the job specs runs them. What maps from the YAML:

============================  ==============================================================
job spec                      Prefect
============================  ==============================================================
``schedule.cron``/``timezone``  the deployment's ``Cron(cron, timezone=...)`` schedule
``parameters`` (defaults)     the flow's ``parameters`` (overrides, checked against the spec)
``timeout``                   the attempt task's ``timeout_seconds`` (the runner stops the
                              notebook at the spec's timeout; Prefect's is a backstop a minute
                              later)
``retries`` (max, backoff,    the attempt task's ``retries``, ``retry_delay_seconds`` and a
factor, retry_on)             ``retry_condition_fn`` retrying only the kinds in ``retry_on``
============================  ==============================================================

Each attempt is the SAME papermill runner as ``workbench jobs run`` (:func:`.runner.run_once`):
recorded in ``ops.job_runs``, published to gold in one transaction with the run key's rows
replaced (:func:`workbench.jobs.context.publish`, which serialises concurrent publishes of one
key), so two workers never publish a run key twice. A scheduled flow run sets the date
parameter to the tick's local day, as ``workbench jobs scheduler`` does.

The flow of a job is built from its spec when a worker loads the entrypoint
``workbench.jobs.prefect_flows.<job>`` (the module's ``__getattr__``), so a changed spec needs no
redeploy for its timeout or retries; its schedule does.

A worker host that dies (its worker and the flow run's process with it) is handled the Prefect
way, by automations :func:`deploy_jobs` creates on the server for each deployment:

- **crash on missing heartbeats** (Prefect's "zombie flow run" recipe): the deployment's runs
  emit ``prefect.flow-run.heartbeat`` every :data:`HEARTBEAT_S` seconds
  (``PREFECT_FLOWS_HEARTBEAT_FREQUENCY`` in the deployment's environment); a proactive trigger
  marks a run ``Crashed`` when neither a heartbeat nor a final state follows within
  :func:`crash_window_s` (the job lease plus one heartbeat period);
- **rerun when crashed**: a ``prefect.flow-run.Crashed`` of the deployment with run count
  1..``retries.max`` sets the same flow run ``Scheduled`` (``AwaitingRetry``, what the UI's
  *Retry* does), so a live worker runs it again with the same parameters, and a scheduled run
  keeps its tick. Only jobs whose ``retries.retry_on`` has ``kernel_died`` (the notebook's
  process died) get it.

The run's lease in ``ops.job_runs`` and Prefect agree on a dead attempt: the deployment pins
``WORKBENCH_JOB_LEASE_S`` for its runs, and the crash window is that lease plus a heartbeat
period, so by the time Prefect says Crashed the dead attempt's lease has expired too; the rerun
reconciles it (``failed``, or ``abandoned`` when it had published) before it starts, and refuses
to start while another attempt of its run key still holds a valid lease.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from workbench.core.errors import WorkbenchError
from workbench.jobs.spec import JobSpec

#: Seconds Prefect waits beyond the spec's timeout before it interrupts an attempt itself [s].
BACKSTOP_S = 60.0
#: Prefect's flow-run heartbeat period for the deployments' runs [s] (Prefect's minimum is 30).
HEARTBEAT_S = 30
FLOW_PREFIX = "workbench-"
DEFAULT_POOL = "workbench"
#: The failure kind whose presence in ``retries.retry_on`` makes Prefect rerun a crashed run.
CRASH_KIND = "kernel_died"
#: The events that end a heartbeat's wait: the next heartbeat or a final state.
ALIVE_EVENTS = frozenset(
    {"prefect.flow-run.heartbeat"}
    | {f"prefect.flow-run.{s}" for s in ("Completed", "Failed", "Cancelled", "Crashed")}
)


class PrefectJobError(WorkbenchError):
    """A job's attempt failed under Prefect (the message says which run and why)."""

    def __init__(self, message: str, kind: str | None) -> None:
        super().__init__(message)
        self.kind = kind


def _prefect() -> Any:
    from workbench.core.extras import require

    return require("prefect", "team", "Prefect deployments")


def retry_delays(spec: JobSpec) -> list[float]:
    """The waits before retry 1..max of ``spec`` [s] (backoff × factor ** (n - 1))."""
    return [spec.retries.delay_s(n) for n in range(1, spec.retries.max + 1)]


def _scheduled_tick() -> datetime | None:
    """The tick of a flow run created by its deployment's schedule, else None (on demand)."""
    from prefect.runtime import flow_run

    if not flow_run.id:
        return None
    from uuid import UUID

    from prefect import get_client

    with get_client(sync_client=True) as client:
        run = client.read_flow_run(UUID(str(flow_run.id)))
    if not run.auto_scheduled or run.expected_start_time is None:
        return None
    return run.expected_start_time.astimezone(UTC)


def _attempt(job: str, overrides: Mapping[str, Any]) -> dict[str, Any]:
    """One attempt through the papermill runner; raises :class:`PrefectJobError` when failed."""
    from workbench.jobs.runner import resolve_parameters, run_once
    from workbench.jobs.runs import FAILED, now_utc
    from workbench.jobs.spec import get_job_spec

    spec = get_job_spec(job)
    params = resolve_parameters(spec, overrides, now_utc())
    run_key = spec.key_for(params)
    live = live_attempts(job, run_key)
    if live:
        msg = (
            f"expected no live attempt of run key {run_key}; found {'; '.join(live)} still "
            "holding its lease in ops.job_runs, so this attempt did not start (another host "
            "runs the key, or Prefect declared a run crashed while its lease was valid): wait "
            "for it to end or its lease to expire, then rerun"
        )
        raise PrefectJobError(msg, "attempt_running")
    attempt = _attempt_number()
    run, alerts = run_once(spec, params, run_key, attempt=attempt)
    if run.status == FAILED:
        kind = run.metrics.get("failure_kind")
        msg = f"job {job} run {run.run_id} ({run_key}) failed: {run.error}"
        raise PrefectJobError(msg, kind)
    return {
        "run_id": run.run_id,
        "run_key": run_key,
        "status": run.status,
        "rows_written": run.rows_written,
        "alerts": alerts,
    }


def _attempt_number() -> int:
    """This attempt's number in its flow run: its task's run count, plus, in a flow run Prefect
    reran after a crash, the run counts of the flow run's earlier attempt task runs."""
    from uuid import UUID

    from prefect import get_client
    from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterId
    from prefect.runtime import flow_run, task_run

    tries = int(task_run.run_count or 1)
    if int(flow_run.run_count or 1) <= 1:
        return tries
    flows = FlowRunFilter(id=FlowRunFilterId(any_=[UUID(str(flow_run.id))]))
    with get_client(sync_client=True) as client:
        earlier = client.read_task_runs(flow_run_filter=flows)
    return tries + sum(r.run_count for r in earlier if str(r.id) != str(task_run.id))


def live_attempts(job: str, run_key: str) -> list[str]:
    """The attempts of ``run_key`` still ``running`` with a valid lease, after reconciling.

    :func:`workbench.jobs.runs.reconcile` first ends the attempts whose lease expired or whose
    runner on this host is gone (a crashed worker's); each one left is described for a message.
    """
    from workbench.jobs import runs as job_runs

    job_runs.reconcile()
    running = job_runs.history(job, limit=1000, status=job_runs.RUNNING)
    return [
        f"run {row.run_id} (pid {row.metrics.get('runner_pid')} on "
        f"{row.metrics.get('runner_host')}, lease until {row.metrics.get('lease_expires_at')})"
        for row in running.itertuples()
        if row.parameters.get("run_key") == run_key
    ]


def retry_condition(spec: JobSpec) -> Any:
    """The attempt task's ``retry_condition_fn``: retry only the kinds in ``retries.retry_on``.

    A :class:`PrefectJobError` carries the runner's failure kind; Prefect's backstop timeout
    (``TaskRunTimeoutError``, a ``TimeoutError``) counts as ``timeout``. Any other exception is
    not a transient failure of the job: not retried.
    """

    def retry_on(task: Any, task_run: Any, state: Any) -> bool:
        from prefect.states import get_state_exception

        exc = get_state_exception(state)
        if isinstance(exc, PrefectJobError):
            return exc.kind in spec.retries.retry_on
        if isinstance(exc, TimeoutError):
            return "timeout" in spec.retries.retry_on
        return False

    return retry_on


def job_flow(job: str) -> Any:
    """The Prefect flow of job ``job``: its attempt task carries the spec's timeout and retries."""
    from workbench.jobs.spec import get_job_spec

    prefect = _prefect()
    spec = get_job_spec(job)
    attempt = prefect.task(
        _attempt,
        name=f"{job}-attempt",
        retries=spec.retries.max,
        retry_delay_seconds=retry_delays(spec) or 0,
        retry_condition_fn=retry_condition(spec),
        timeout_seconds=spec.timeout_s + BACKSTOP_S,
        persist_result=False,
    )

    def run(parameters: dict[str, Any] | None = None) -> dict[str, Any]:
        """Run the job once (with the spec's retries); ``parameters`` override its defaults."""
        from workbench.jobs.scheduler import tick_overrides

        overrides = dict(parameters or {})
        tick = _scheduled_tick()
        if tick is not None:
            overrides = {**tick_overrides(spec, tick), **overrides}
        return attempt(job, overrides)

    run.__name__ = job
    run.__qualname__ = job
    run.__module__ = __name__
    return prefect.flow(
        run,
        name=f"{FLOW_PREFIX}{job}",
        description=spec.description,
        persist_result=False,
        validate_parameters=True,
    )


def __getattr__(name: str) -> Any:
    """``workbench.jobs.prefect_flows.<job>``: the flow of a job spec (the entrypoint)."""
    if name.startswith("__"):
        raise AttributeError(name)
    from workbench.jobs.spec import JobSpecError, load_job_specs

    try:
        specs = load_job_specs()
    except JobSpecError as exc:
        raise AttributeError(f"{name}: {exc}") from exc
    if name not in specs:
        raise AttributeError(f"no job spec named {name!r}; found {sorted(specs)}")
    return job_flow(name)


def crash_window_s(lease_s: float, heartbeat_s: int = HEARTBEAT_S) -> float:
    """Seconds without a heartbeat after which Prefect marks a run Crashed [s].

    The lease plus one heartbeat period: the process's last heartbeat came at most
    ``heartbeat_s`` before it died and its last lease renewal at most at its death, so when the
    window closes the attempt's lease in ``ops.job_runs`` has expired as well.
    """
    return float(lease_s) + max(int(heartbeat_s), HEARTBEAT_S)


def crash_automations(
    job: str, deployment_id: str, spec: JobSpec, window_s: float
) -> dict[str, Any]:
    """The automations of one deployment: name → ``AutomationCore``, or None to remove it.

    ``<deployment>: crash on missing heartbeats`` for every job; ``<deployment>: rerun when
    crashed`` (run counts 1..``retries.max``) when ``kernel_died`` is in ``retries.retry_on``.
    """
    from datetime import timedelta

    from prefect.client.schemas.objects import StateType
    from prefect.events.actions import ChangeFlowRunState
    from prefect.events.schemas.automations import AutomationCore, EventTrigger, Posture

    name = f"{FLOW_PREFIX}{job}/{job}"
    ours = {
        "prefect.resource.id": f"prefect.deployment.{deployment_id}",
        "prefect.resource.role": "deployment",
    }
    zombie = AutomationCore(
        name=f"{name}: crash on missing heartbeats",
        description=(
            f"Marks a run of {name} Crashed when it sends no heartbeat for {window_s:g} s "
            "(its process or host died); the job lease has expired by then."
        ),
        trigger=EventTrigger(
            after={"prefect.flow-run.heartbeat"},
            expect=set(ALIVE_EVENTS),
            match={"prefect.resource.id": "prefect.flow-run.*"},
            match_related=ours,
            for_each={"prefect.resource.id"},
            posture=Posture.Proactive,
            threshold=1,
            within=timedelta(seconds=window_s),
        ),
        actions=[
            ChangeFlowRunState(
                state=StateType.CRASHED,
                message=f"no heartbeat for {window_s:g} s: its worker host or process died",
            )
        ],
    )
    reruns = spec.retries.max if CRASH_KIND in spec.retries.retry_on else 0
    rerun = None
    if reruns:
        rerun = AutomationCore(
            name=f"{name}: rerun when crashed",
            description=(
                f"Runs a crashed run of {name} again (same flow run and parameters), at most "
                f"{reruns} time(s): {CRASH_KIND} is in the job's retries.retry_on."
            ),
            trigger=EventTrigger(
                expect={"prefect.flow-run.Crashed"},
                match={
                    "prefect.resource.id": "prefect.flow-run.*",
                    "prefect.run-count": [str(n) for n in range(1, reruns + 1)],
                },
                match_related=ours,
                for_each={"prefect.resource.id"},
                posture=Posture.Reactive,
                threshold=1,
            ),
            actions=[
                ChangeFlowRunState(
                    state=StateType.SCHEDULED,
                    name="AwaitingRetry",
                    message=f"rerun of a crashed run ({CRASH_KIND} is in retries.retry_on)",
                )
            ],
        )
    return {zombie.name: zombie, f"{name}: rerun when crashed": rerun}


def _apply_automations(client: Any, wanted: Mapping[str, Any]) -> list[str]:
    """Create or update each automation by name (None: delete); returns the names kept."""
    kept = []
    for name, automation in wanted.items():
        found = client.read_automations_by_name(name=name)
        for extra in found[1:] if automation is not None else found:
            client.delete_automation(extra.id)
        if automation is None:
            continue
        if found:
            client.update_automation(found[0].id, automation)
        else:
            client.create_automation(automation)
        kept.append(name)
    return kept


@dataclass(frozen=True)
class Deployed:
    """One job's deployment: its id and the names of its automations on the server."""

    id: str
    automations: list[str]


def deploy_jobs(
    specs: Mapping[str, JobSpec],
    *,
    pool: str = DEFAULT_POOL,
    paused: bool = False,
    jobs_dir: str | None = None,
    heartbeat_s: int = HEARTBEAT_S,
) -> dict[str, Deployed]:
    """Create or update one deployment per job spec in work pool ``pool``, with automations.

    The pool is created (type ``process``) when missing. Needs ``PREFECT_API_URL``. With
    ``jobs_dir`` the flow runs get ``WORKBENCH_JOBS_DIR`` set to it (the workers' path to the
    specs); otherwise workers use their own ``WORKBENCH_JOBS_DIR`` or the packaged specs. The
    runs also get ``WORKBENCH_JOB_LEASE_S`` (this process's lease) and
    ``PREFECT_FLOWS_HEARTBEAT_FREQUENCY`` (``heartbeat_s``, at least 30 s) pinned, which the
    crash window of :func:`crash_automations` is computed from. Idempotent: deployments and
    automations are updated by name.
    """
    _prefect()  # the [team] extra, named when missing
    from prefect.client.orchestration import get_client
    from prefect.deployments.runner import EntrypointType
    from prefect.exceptions import ObjectNotFound

    from workbench.jobs.runs import LEASE_ENV, lease_s

    if heartbeat_s < HEARTBEAT_S:
        msg = f"expected a heartbeat period of at least {HEARTBEAT_S} s; found {heartbeat_s}"
        raise PrefectJobError(msg + " (Prefect's minimum): pass 30 or more", None)
    lease = lease_s()
    env = {LEASE_ENV: f"{lease:g}", "PREFECT_FLOWS_HEARTBEAT_FREQUENCY": str(heartbeat_s)}
    if jobs_dir:
        env["WORKBENCH_JOBS_DIR"] = jobs_dir
    with get_client(sync_client=True) as client:
        try:
            client.read_work_pool(pool)
        except ObjectNotFound:
            from prefect.client.schemas.actions import WorkPoolCreate

            client.create_work_pool(WorkPoolCreate(name=pool, type="process"))
    from prefect.schedules import Cron

    out = {}
    for name, spec in sorted(specs.items()):
        flow = job_flow(name)
        schedules = (
            [Cron(spec.schedule.cron, timezone=spec.schedule.timezone)] if spec.schedule else []
        )
        deployment = flow.to_deployment(
            name=name,
            schedules=schedules,
            paused=paused,
            parameters={"parameters": {}},
            description=spec.description,
            tags=["workbench", f"owner:{spec.owner}"],
            entrypoint_type=EntrypointType.MODULE_PATH,
            job_variables={"env": env},
        )
        deployment.entrypoint = f"{__name__}.{name}"
        deployment_id = str(deployment.apply(work_pool_name=pool))
        wanted = crash_automations(name, deployment_id, spec, crash_window_s(lease, heartbeat_s))
        with get_client(sync_client=True) as client:
            out[name] = Deployed(deployment_id, _apply_automations(client, wanted))
    return out
