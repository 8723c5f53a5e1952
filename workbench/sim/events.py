"""Ground-truth labels of injected events (``ops.sim_events``)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

#: Columns of ``ops.sim_events``, in order (see data_catalog.yaml).
EVENT_COLUMNS: tuple[str, ...] = (
    "event_id",
    "event_type",
    "source",
    "target_id",
    "start",
    "end",
    "magnitude",
    "detail",
)


def events_frame(records: Iterable[Mapping[str, Any]]) -> Any:
    """Build an ``ops.sim_events`` frame from dicts with keys :data:`EVENT_COLUMNS`
    (``event_id`` may be omitted: it is derived from source, type, target and start).
    ``start`` and ``end`` are UTC timestamps; ``magnitude`` a float in the event's own unit
    (MW for trips and outages, Hz for oscillation frequency, etc.); ``detail`` optional text
    (e.g. ``source=<asset_id>`` of a ``copied_from_asset`` fault), null where not given."""
    import pandas as pd

    frame = pd.DataFrame(list(records), columns=list(EVENT_COLUMNS))
    if frame.empty:
        return frame.astype(
            {"start": "datetime64[ns, UTC]", "end": "datetime64[ns, UTC]", "detail": "string"}
        )
    frame["start"] = pd.to_datetime(frame["start"], utc=True)
    frame["end"] = pd.to_datetime(frame["end"], utc=True)
    frame["event_id"] = frame["event_id"].astype(object)
    missing = frame["event_id"].isna()
    frame.loc[missing, "event_id"] = (
        frame.loc[missing, "source"]
        + ":"
        + frame.loc[missing, "event_type"]
        + ":"
        + frame.loc[missing, "target_id"].astype(str)
        + ":"
        + frame.loc[missing, "start"].dt.strftime("%Y%m%dT%H%M%S.%f")
    )
    frame["magnitude"] = frame["magnitude"].astype("float64")
    frame["detail"] = frame["detail"].astype(pd.StringDtype())
    return frame
