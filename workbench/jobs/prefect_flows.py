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
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from workbench.core.errors import WorkbenchError
from workbench.jobs.spec import JobSpec

#: Seconds Prefect waits beyond the spec's timeout before it interrupts an attempt itself [s].
BACKSTOP_S = 60.0
FLOW_PREFIX = "workbench-"
DEFAULT_POOL = "workbench"


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
    from prefect.runtime import task_run

    from workbench.jobs.runner import resolve_parameters, run_once
    from workbench.jobs.runs import FAILED, now_utc
    from workbench.jobs.spec import get_job_spec

    spec = get_job_spec(job)
    params = resolve_parameters(spec, overrides, now_utc())
    run_key = spec.key_for(params)
    attempt = int(task_run.run_count or 1)
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


def _transient(spec: JobSpec) -> Any:
    """A ``retry_condition_fn``: retry only a failure whose kind is in ``retries.retry_on``."""

    def retry_on(task: Any, task_run: Any, state: Any) -> bool:
        try:
            state.result()
        except PrefectJobError as exc:
            return exc.kind in spec.retries.retry_on
        except Exception:  # Prefect's own errors (a task timeout): retry as ``timeout`` would
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
        retry_condition_fn=_transient(spec),
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


def deploy_jobs(
    specs: Mapping[str, JobSpec],
    *,
    pool: str = DEFAULT_POOL,
    paused: bool = False,
    jobs_dir: str | None = None,
) -> dict[str, str]:
    """Create or update one deployment per job spec in work pool ``pool``; returns name → id.

    The pool is created (type ``process``) when missing. Needs ``PREFECT_API_URL``. With
    ``jobs_dir`` the flow runs get ``WORKBENCH_JOBS_DIR`` set to it (the workers' path to the
    specs); otherwise workers use their own ``WORKBENCH_JOBS_DIR`` or the packaged specs.
    """
    _prefect()  # the [team] extra, named when missing
    from prefect.client.orchestration import get_client
    from prefect.deployments.runner import EntrypointType
    from prefect.exceptions import ObjectNotFound

    with get_client(sync_client=True) as client:
        try:
            client.read_work_pool(pool)
        except ObjectNotFound:
            from prefect.client.schemas.actions import WorkPoolCreate

            client.create_work_pool(WorkPoolCreate(name=pool, type="process"))
    from prefect.schedules import Cron

    ids = {}
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
            job_variables={"env": {"WORKBENCH_JOBS_DIR": jobs_dir}} if jobs_dir else None,
        )
        deployment.entrypoint = f"{__name__}.{name}"
        ids[name] = str(deployment.apply(work_pool_name=pool))
    return ids
