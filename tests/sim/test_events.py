"""The ground-truth label frame."""

from __future__ import annotations

import pandas as pd

from workbench.sim.events import EVENT_COLUMNS, events_frame


def test_event_ids_are_derived_when_omitted():
    start = pd.Timestamp("2024-03-10T08:00:01.5", tz="UTC")
    frame = events_frame(
        [
            {"event_type": "spike", "source": "scada", "target_id": "GAS_1", "start": start,
             "end": start, "magnitude": 3},
            {"event_id": "given", "event_type": "trip", "source": "pmu", "target_id": "system",
             "start": start, "end": start, "magnitude": 900.0},
        ]
    )  # fmt: skip
    assert list(frame.columns) == list(EVENT_COLUMNS)
    assert frame["event_id"].tolist() == ["scada:spike:GAS_1:20240310T080001.500000", "given"]
    assert frame["magnitude"].dtype == "float64"


def test_no_events_is_an_empty_typed_frame():
    frame = events_frame([])
    assert frame.empty
    assert str(frame["start"].dtype) == "datetime64[ns, UTC]"
