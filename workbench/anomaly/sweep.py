"""The anomaly sweep's pure core: frames shaped like ``gold.frequency_events`` and
``gold.anomaly_events`` (every column but ``run_key``, which the job adds).

A job reads the inputs through the catalog (``cat.scan("bronze.pmu")``,
``cat.read("silver.scada_cleaned", start=..., end=...)``), calls these functions and writes the
result; nothing here touches storage.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from workbench.anomaly.frequency.batch import detect_frequency_cube
from workbench.anomaly.frequency.characterise import characterise
from workbench.anomaly.sensor import detect_sensor_anomalies

FREQUENCY_EVENT_COLUMNS = (
    "pmu",
    "start",
    "end",
    "min_hz",
    "max_hz",
    "samples_outside",
    "nadir_hz",
    "time_to_nadir_s",
    "rocof_hz_per_s",
    "settling_time_s",
)
ANOMALY_EVENT_COLUMNS = ("source", "group_id", "kind", "start", "end", "score", "detector")


def frequency_events_sweep(
    ds: Any,
    *,
    nominal_hz: float | None = None,
    band_hz: float = 0.05,
    count: int = 3,
    window: Any = "5s",
) -> Any:
    """Excursion episodes of every PMU of a cube, each characterised (nadir, time to nadir,
    initial ROCOF, settling time; see :mod:`.frequency.characterise`).

    Returns a frame with :data:`FREQUENCY_EVENT_COLUMNS` (``gold.frequency_events`` minus
    ``run_key``).
    """
    import pandas as pd

    nominal = float(
        ds.attrs.get("nominal_frequency_hz", 60.0) if nominal_hz is None else nominal_hz
    )
    episodes = detect_frequency_cube(
        ds, nominal_hz=nominal, band_hz=band_hz, count=count, window=window
    )
    times = np.asarray(ds["time"].values).astype("datetime64[ns]").view(np.int64)
    rows = []
    for pmu, group in episodes.groupby("group", sort=True):
        f = np.asarray(ds["frequency_hz"].sel(pmu=pmu).values, np.float64)
        if "quality" in ds.data_vars:
            f = np.where(np.asarray(ds["quality"].sel(pmu=pmu).values) == 0, f, np.nan)
        for start in group["start"]:
            rows.append(characterise(times, f, start, nominal_hz=nominal, band_hz=band_hz))
    extra = pd.DataFrame(rows, index=episodes.sort_values(["group", "start"]).index)
    out = episodes.join(extra.drop(columns="energy_not_served_mwh", errors="ignore"))
    out = out.rename(columns={"group": "pmu"})
    for col in FREQUENCY_EVENT_COLUMNS[6:]:
        if col not in out:
            out[col] = np.nan
    return out[list(FREQUENCY_EVENT_COLUMNS)].reset_index(drop=True)


def anomaly_events_sweep(
    frame: Any,
    source: str,
    *,
    time_col: str = "timestamp",
    value_col: str = "value_mw",
    group_col: str = "asset_id",
    method: str = "rules",
    gap_tolerance: Any = "0s",
    seed: int = 0,
) -> Any:
    """Sensor anomaly events of a telemetry frame (``silver.scada_cleaned``: the defaults;
    ``silver.generation``: ``time_col="timestamp", value_col="generation_mw"``).

    Returns a frame with :data:`ANOMALY_EVENT_COLUMNS` (``gold.anomaly_events`` minus
    ``run_key``); ``detector`` is the method, ``kind`` the rule or method that fired.
    """
    events = detect_sensor_anomalies(
        frame, time_col, value_col, group_col, method=method, gap_tolerance=gap_tolerance,
        seed=seed,
    )  # fmt: skip
    out = events.rename(columns={"group": "group_id"})
    out.insert(0, "source", source)
    out["detector"] = method
    out["source"] = out["source"].astype("string")
    out["detector"] = out["detector"].astype("string")
    return out[list(ANOMALY_EVENT_COLUMNS)]
