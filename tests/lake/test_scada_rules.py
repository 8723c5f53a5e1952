"""The platform's SCADA rules on hand-made bronze rows, on DuckDB and on PostgreSQL."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from workbench.io.warehouse import Warehouse
from workbench.lake.scada import clean_scada

T0 = pd.Timestamp("2024-03-10T07:59:58.250", tz="UTC")


def _row(i, asset, value, code, landed=0):
    return {
        "timestamp": T0 + pd.Timedelta(seconds=4 * i),
        "asset_id": asset,
        "value": value,
        "quality_code": code,
        "ingested_at": T0 + pd.Timedelta(seconds=4 * i + 2 + landed),
    }


ROWS = [
    _row(0, "GAS_1", 250.0, 0),  # GOOD
    _row(1, "GAS_1", 251.0, 192),  # GOOD
    _row(2, "GAS_1", 252.0, 24),  # SUSPECT
    _row(3, "GAS_1", 253.0, 152),  # SUSPECT
    _row(4, "GAS_1", 254.0, 8),  # BAD
    _row(5, "GAS_1", 255.0, 64),  # BAD
    _row(6, "GAS_1", -1000.0, 0),  # lower limit itself: kept
    _row(7, "GAS_1", -1000.5, 0),  # below: NULL, row kept
    _row(8, "GAS_1", 10000.0, 192),  # upper limit itself: kept
    _row(9, "GAS_1", 10000.1, 24),  # above: NULL, row kept (SUSPECT)
    _row(10, "GAS_1", 99999.0, 1),  # out of range AND bad: quarantined
    _row(0, "WIND_2", 80.0, 0),  # same time, other asset: its own record
    _row(0, "WIND_2", 81.0, 0, landed=30),  # landed again later: this one wins
]


@pytest.fixture
def cleaned(warehouse_url):
    wh = Warehouse(warehouse_url)
    wh.write("bronze.raw_scada", pd.DataFrame(ROWS))
    result = clean_scada(wh.table("bronze.raw_scada"))
    clean = result.clean.to_pandas().set_index("record_id").sort_index()
    quarantined = result.quarantined.to_pandas()
    yield clean, quarantined
    wh.close()


def _id(asset: str, i: int) -> str:
    ts = T0 + pd.Timedelta(seconds=4 * i)
    return f"{asset}:{ts.value // 1_000_000}"


def test_quality_codes_map_to_status(cleaned):
    clean, _ = cleaned
    status = clean["quality_status"]
    assert status[_id("GAS_1", 0)] == "GOOD"
    assert status[_id("GAS_1", 1)] == "GOOD"
    assert status[_id("GAS_1", 2)] == "SUSPECT"
    assert status[_id("GAS_1", 3)] == "SUSPECT"
    assert set(status) == {"GOOD", "SUSPECT"}


def test_bad_rows_are_dropped_from_silver_and_quarantined(cleaned):
    clean, quarantined = cleaned
    bad_ids = {_id("GAS_1", 4), _id("GAS_1", 5), _id("GAS_1", 10)}
    assert not bad_ids & set(clean.index)
    assert set(quarantined["record_id"]) == bad_ids
    assert sorted(quarantined["quality_code"]) == [1, 8, 64]
    assert len(clean) + len(quarantined) == len(ROWS) - 1  # one duplicate collapsed, none lost


def test_range_limits(cleaned):
    clean, _ = cleaned
    assert clean.loc[_id("GAS_1", 6), "value_mw"] == -1000.0
    assert math.isnan(clean.loc[_id("GAS_1", 7), "value_mw"])
    assert clean.loc[_id("GAS_1", 8), "value_mw"] == 10000.0
    assert math.isnan(clean.loc[_id("GAS_1", 9), "value_mw"])
    assert clean.loc[_id("GAS_1", 9), "quality_status"] == "SUSPECT"  # NULLed, not dropped


def test_record_id_is_the_surrogate_of_asset_and_time(cleaned):
    clean, _ = cleaned
    assert clean.index.is_unique
    assert clean.loc[_id("WIND_2", 0), "value_mw"] == 81.0  # the last landed copy wins
    assert clean.loc[_id("GAS_1", 0), "asset_id"] == "GAS_1"
    assert list(clean.reset_index().columns) == [
        "record_id",
        "timestamp",
        "asset_id",
        "value_mw",
        "quality_code",
        "quality_status",
    ]
