"""silver.meter_readings from hand-made bronze reads: duplicates, estimates, DST, bad values."""

from __future__ import annotations

import pandas as pd

from workbench.io.frames import write_partitioned


def _reads(meter: str, start: str, periods: int, tz: str = "America/Chicago") -> pd.DataFrame:
    ts = pd.date_range(start, periods=periods, freq="15min", tz="UTC")
    return pd.DataFrame(
        {
            "meter_id": meter,
            "timestamp": ts,
            "energy_kwh": 0.3,
            "is_estimated": False,
            "customer_class": "residential",
            "region_id": "NORTH",
            "date": ts.tz_convert(tz).date,
        }
    )


def test_meter_readings_dedupe_keep_actuals_quarantine_and_keep_dst_days(catalog):
    from workbench.lake.build import build_medallion

    # the fall-back day 2024-11-03 in Chicago: 05:00Z to 06:00Z next day = 25 local hours
    day = _reads("MTR_1", "2024-11-03T05:00", 100)
    estimated_copy = day.iloc[[10]].assign(is_estimated=True, energy_kwh=0.25)
    bad = _reads("MTR_2", "2024-11-03T05:00", 2).assign(energy_kwh=[-1.0, 0.4])
    write_partitioned([day, estimated_copy, bad], catalog.entry("bronze.meter_reads"), clear=True)

    result = build_medallion(catalog, layers=("silver",), tables=["silver.meter_readings"])
    report = result.tables[0]
    assert report.rows_in == 103
    assert report.rows_out == 101  # 100 + MTR_2's good read; the estimated duplicate collapsed
    assert report.rows_quarantined == 1
    silver = catalog.read("silver.meter_readings", where={"meter_id": "MTR_1"})
    assert len(silver) == 100  # the 25-hour local day keeps its 100 quarter-hours
    assert set(silver["date"].astype(str)) == {"2024-11-03"}
    assert not silver["is_estimated"].any()  # the actual read won over the estimate
    assert silver["timestamp"].dt.tz is not None
    assert all(c.passed for c in result.checks)
