"""From per-sample flags and scores to events with a start and an end."""

from __future__ import annotations

from typing import Any

import numpy as np

EVENT_COLUMNS = ("group", "start", "end", "score", "kind")


def merge_flags(
    group: np.ndarray,
    time: np.ndarray,
    flags: np.ndarray,
    score: np.ndarray,
    labels: np.ndarray,
    kind: str,
    gap_ns: int = 0,
) -> Any:
    """Merge flagged samples into events, per group.

    Flagged samples of one group whose times are at most ``gap_ns`` apart belong to the same
    event (unflagged samples between them included): an event runs from its first to its last
    flagged sample. With ``gap_ns=0`` only flagged samples adjacent in the series merge.

    Parameters
    ----------
    group, time : numpy.ndarray
        Group index and time [ns] per sample, sorted by (group, time).
    flags : bool array
        Samples flagged anomalous.
    score : float array
        Anomaly score per sample; an event's score is the maximum over its flagged samples.
    labels : object array
        Group ids, indexed by ``group``.
    kind : str
        The ``kind`` of every event.
    gap_ns : int
        Gap tolerance [ns].

    Returns
    -------
    pandas.DataFrame
        group, start, end (UTC), score, kind.
    """
    idx = np.flatnonzero(flags)
    if idx.size == 0:
        return empty_events()
    g, t = group[idx], time[idx]
    new = np.ones(idx.size, bool)
    adjacent = idx[1:] == idx[:-1] + 1
    new[1:] = (g[1:] != g[:-1]) | ~(adjacent | (t[1:] - t[:-1] <= gap_ns))
    first = np.flatnonzero(new)
    last = np.append(first[1:] - 1, idx.size - 1)
    best = np.maximum.reduceat(np.nan_to_num(score[idx], nan=0.0), first)
    return events_frame(labels[g[first]], t[first], t[last], best, kind)


def events_frame(groups: Any, start_ns: Any, end_ns: Any, score: Any, kind: Any) -> Any:
    """An events frame (:data:`EVENT_COLUMNS`) from arrays (times in ns, UTC)."""
    import pandas as pd

    n = len(start_ns)
    kinds = np.full(n, kind, dtype=object) if isinstance(kind, str) else np.asarray(kind, object)
    return pd.DataFrame(
        {
            "group": pd.array(np.asarray(groups, dtype=object), dtype="string"),
            "start": pd.DatetimeIndex(
                np.asarray(start_ns, np.int64).view("datetime64[ns]"), tz="UTC"
            ),
            "end": pd.DatetimeIndex(np.asarray(end_ns, np.int64).view("datetime64[ns]"), tz="UTC"),
            "score": np.asarray(score, np.float64),
            "kind": pd.array(kinds, dtype="string"),
        }
    )


def empty_events() -> Any:
    return events_frame([], [], [], [], [])


def concat_events(frames: list[Any]) -> Any:
    import pandas as pd

    frames = [f for f in frames if len(f)]
    if not frames:
        return empty_events()
    out = pd.concat(frames, ignore_index=True)
    return out.sort_values(["group", "start", "kind"], kind="stable", ignore_index=True)
