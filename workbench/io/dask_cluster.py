"""Scale-out compute: a dask.distributed client, local by default, remote when configured.

:func:`get_client` answers, in this order:

1. ``WORKBENCH_DASK_SCHEDULER`` (or ``address=``) set, e.g. ``tcp://scheduler:8786``: a client
   connected to that scheduler (the current client is reused when it is already connected
   there). The workers must see the lake's paths (a shared file system or fsspec URLs).
2. A client already running in this process (yours, or one made by an earlier call): reused.
3. Otherwise a new :class:`distributed.LocalCluster` sized from this machine: worker processes
   (one per core, at most 4, the rest of the cores as threads), the machine's memory shared
   between them, and the dashboard on a free port; its link is printed once and is
   ``client.dashboard_link`` (a notebook shows it in the client's repr).

Scripts that start a LocalCluster with worker processes must run it under
``if __name__ == "__main__":`` (the workers are spawned and re-import the script).
"""

from __future__ import annotations

import os
import sys
from typing import Any

from workbench.core.errors import WorkbenchError
from workbench.core.extras import require

SCHEDULER_ENV = "WORKBENCH_DASK_SCHEDULER"
MAX_LOCAL_WORKERS = 4

_started: dict[str, Any] = {}  # the LocalCluster and client this module started


class DaskClusterError(WorkbenchError):
    """No Dask scheduler could be reached, or its address is malformed."""


def available_cores() -> int:
    """Cores this process may run on (its CPU affinity, else the machine's count)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def local_cluster_shape(cores: int | None = None) -> tuple[int, int]:
    """Worker processes and threads per worker for a LocalCluster on ``cores`` cores.

    One process per core up to :data:`MAX_LOCAL_WORKERS` (processes sidestep the GIL for
    pandas work; more than a few cost memory and transfer time), the remaining cores as threads.
    """
    cores = max(1, available_cores() if cores is None else int(cores))
    workers = min(cores, MAX_LOCAL_WORKERS)
    return workers, max(1, cores // workers)


def get_client(
    address: str | None = None,
    *,
    n_workers: int | None = None,
    threads_per_worker: int | None = None,
    memory_limit: str | float | None = "auto",
    processes: bool = True,
    quiet: bool = False,
    timeout_s: float = 10.0,
) -> Any:
    """A :class:`distributed.Client`: remote if configured, else the current one or a new local.

    Parameters
    ----------
    address : str, optional
        Scheduler address (``tcp://host:port``); default ``$WORKBENCH_DASK_SCHEDULER``.
    n_workers, threads_per_worker : int, optional
        Size of a new LocalCluster; default :func:`local_cluster_shape` of this machine.
    memory_limit : str or float, optional
        Memory per worker of a new LocalCluster [bytes, or ``"4GB"``]; ``"auto"`` shares the
        machine's memory equally between the workers.
    processes : bool
        Workers as processes (default) or threads of this process.
    quiet : bool
        Don't print the dashboard link of a new LocalCluster.
    timeout_s : float
        How long to try to reach a remote scheduler [s].

    Returns
    -------
    distributed.Client
    """
    distributed = require("distributed", feature="running on a Dask cluster")
    address = address or os.environ.get(SCHEDULER_ENV) or None
    current = _current_client(distributed)
    if address:
        if "://" not in address or not address.split("://", 1)[1]:
            msg = (
                f"expected a Dask scheduler address like tcp://host:8786 in {SCHEDULER_ENV}; "
                f"found {address!r}"
            )
            raise DaskClusterError(msg)
        if current is not None and current.scheduler.address == address:
            return current
        try:
            return distributed.Client(address, timeout=f"{timeout_s}s", set_as_default=True)
        except (OSError, TimeoutError) as exc:
            msg = (
                f"expected a Dask scheduler at {address}; found none reachable within "
                f"{timeout_s:g} s ({type(exc).__name__}); start one (`dask scheduler`) or "
                f"unset {SCHEDULER_ENV} to run on a LocalCluster"
            )
            raise DaskClusterError(msg) from exc
    if current is not None:
        return current
    workers, threads = local_cluster_shape()
    cluster = distributed.LocalCluster(
        n_workers=n_workers or workers,
        threads_per_worker=threads_per_worker or threads,
        memory_limit=memory_limit,
        processes=processes,
        dashboard_address=":0",
    )
    client = distributed.Client(cluster, set_as_default=True)
    _started.update(cluster=cluster, client=client)
    if not quiet:
        print(f"dask dashboard: {client.dashboard_link}", file=sys.stderr)
    return client


def close_client() -> None:
    """Close the client and LocalCluster this module started (no-op when none)."""
    client, cluster = _started.pop("client", None), _started.pop("cluster", None)
    if client is not None:
        client.close()
    if cluster is not None:
        cluster.close()


def _current_client(distributed: Any) -> Any:
    """The running default client of this process, or None."""
    try:
        client = distributed.default_client()
    except ValueError:
        return None
    return client if client.status == "running" else None
