"""Execute a job's Jupyter notebook inside the runner's own process (no kernel, no papermill).

The same notebook, parameterised the way papermill does it (its ``parameters`` cell followed by
an injected cell with the run's values), runs cell by cell in a fresh namespace of this process,
with the same environment the child process would get (the sidecar, ``run_id``, ``run_key``,
the runner's pid), in the notebook's folder. It therefore goes through the same job code —
:func:`workbench.jobs.context.publish` with its run-record check, the same sidecar, metrics and
alerts — and the runner records it in ``ops.job_runs`` like any run, with ``executor:
in-process`` in its metrics.

What it saves: a kernel start and the imports (pandas, Ibis, LightGBM…) per run, which dominate a
backfill of many short runs. What it gives up, and why the scheduler does not use it:

- isolation: a crash of the notebook's code is a crash of the runner;
- a hard timeout: the job's timeout and a cancel are checked *between* cells only (a cell is
  never interrupted);
- Jupyter notebooks only: a marimo notebook is refused (run it through the runner's child).

The saved notebook (``<run_id>.ipynb``) holds the parameterised cells; the failing cell gets
the error as its output, so :func:`workbench.jobs.runner` and a reader find it as after papermill.
"""

from __future__ import annotations

import contextlib
import os
import threading
import time
import traceback
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from workbench.jobs.context import (
    RUN_ID_ENV,
    RUN_KEY_ENV,
    RUNNER_PID_ENV,
    SIDECAR_ENV,
    read_sidecar,
)
from workbench.jobs.spec import JobSpec, JobSpecError

EXECUTOR = "in-process"


@contextlib.contextmanager
def _environment(values: Mapping[str, str]) -> Iterator[None]:
    """Set ``values`` in ``os.environ`` for the block, then restore what was there."""
    saved = {k: os.environ.get(k) for k in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for key, old in saved.items():
            if old is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = old


def _close_figures() -> None:
    """Close the figures the notebook drew (matplotlib keeps them alive across runs)."""
    import sys

    plt = sys.modules.get("matplotlib.pyplot")
    if plt is not None:
        plt.close("all")


def check_in_process(spec: JobSpec) -> None:
    """Refuse a job this executor cannot run (a marimo notebook), before anything runs."""
    if spec.is_marimo():
        msg = (
            f"job {spec.name!r}: expected a Jupyter notebook to run in-process; found the marimo "
            f"notebook {spec.notebook} (run it without --in-process)"
        )
        raise JobSpecError(msg)


def execute_in_process(
    spec: JobSpec,
    notebook_out: Path,
    run_id: str,
    run_key: str,
    params: Mapping[str, Any],
    cancel: threading.Event,
) -> tuple[str | None, str | None, dict[str, Any]]:
    """Run ``spec``'s notebook here; returns (error or None, failure kind or None, sidecar).

    Parameters
    ----------
    spec : JobSpec
        The job (a Jupyter ``.ipynb`` notebook).
    notebook_out : Path
        Where the parameterised notebook is saved; the sidecar and log go beside it.
    run_id, run_key : str
        Injected as parameters and in the environment, as the child process would get them.
    params : mapping
        The run's resolved parameter values.
    cancel : threading.Event
        Checked between cells: once set, the remaining cells are not run.
    """
    import nbformat
    from papermill.iorw import load_notebook_node
    from papermill.parameterize import parameterize_notebook

    check_in_process(spec)
    source = spec.notebook_path()
    nb = load_notebook_node(str(source))  # as papermill reads it (cell tags normalised)
    injected = {**params, "run_id": run_id, "run_key": run_key}
    nb = parameterize_notebook(nb, injected, kernel_name="gridmind", language="python")
    sidecar = notebook_out.with_suffix(".json")
    logfile = notebook_out.with_suffix(".log")
    env = {
        SIDECAR_ENV: str(sidecar),
        RUN_ID_ENV: run_id,
        RUN_KEY_ENV: run_key,
        RUNNER_PID_ENV: str(os.getpid()),
    }
    deadline = time.monotonic() + spec.timeout_s
    namespace: dict[str, Any] = {"__name__": "__main__"}
    error: str | None = None
    kind: str | None = None
    with (
        logfile.open("w") as log,
        _environment(env),
        contextlib.chdir(source.parent),
        contextlib.redirect_stdout(log),
        contextlib.redirect_stderr(log),
    ):
        for i, cell in enumerate(nb.cells):
            if cell.cell_type != "code":
                continue
            if cancel.is_set():
                error = f"cancelled: the runner was asked to stop before cell {i}"
                kind = "cancelled"
                break
            if time.monotonic() > deadline:
                error = (
                    f"timed out after {spec.timeout} (the job's timeout, checked before cell {i})"
                )
                kind = "timeout"
                break
            try:
                exec(compile(cell.source, f"<{source.name} cell {i}>", "exec"), namespace)
            except Exception as exc:  # the cell failed: recorded as the run's failure, as papermill
                ename = type(exc).__name__
                first = (str(exc).strip().splitlines() or [""])[0]
                cell.outputs = [
                    nbformat.v4.new_output(
                        "error",
                        ename=ename,
                        evalue=str(exc),
                        traceback=traceback.format_exception(exc),
                    )
                ]
                error = f"{ename}: {first} (cell {i})"
                kind = "warehouse_locked" if ename == "WarehouseLockedError" else ename
                traceback.print_exc()
                break
    _close_figures()
    nbformat.write(nb, notebook_out)
    return error, kind, read_sidecar(sidecar)
