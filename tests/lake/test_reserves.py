"""System reserves through silver and gold on hand-made bronze rows, on DuckDB and PostgreSQL."""

from __future__ import annotations

import pandas as pd
import pytest

from tests.conftest import CATALOG
from workbench.catalog import load_catalog_spec
from workbench.lake import gold, silver
from workbench.lake.contracts import check_table

T0 = pd.Timestamp("2024-08-01 23:00", tz="UTC")
FIVE = pd.date_range(T0, periods=24, freq="5min", name="timestamp")  # two hours


def _bronze() -> pd.DataFrame:
    demand = 60_000.0 + 100.0 * pd.RangeIndex(24).to_numpy()
    responsive = 9_000.0 - 200.0 * pd.RangeIndex(24).to_numpy()
    rows = pd.DataFrame(
        {"timestamp": FIVE, "demand_mw": demand, "reserve_mw": 3 * responsive,
         "responsive_reserve_mw": responsive}
    )  # fmt: skip
    bad = pd.DataFrame(
        {
            "timestamp": [T0 + pd.Timedelta(hours=3), T0 + pd.Timedelta(hours=4)],
            "demand_mw": [50_000.0, -5.0],
            "reserve_mw": [1_000.0, 1_000.0],
            "responsive_reserve_mw": [-1.0, 500.0],
        }
    )
    return pd.concat([rows, rows.iloc[[0]], bad], ignore_index=True)  # a row landed twice


@pytest.fixture
def built(warehouse_url, monkeypatch):
    """The bronze rows written and built through the catalog (its UTC timestamps and types)."""
    from workbench import open_catalog

    monkeypatch.setenv("WORKBENCH_WAREHOUSE", warehouse_url)
    cat = open_catalog()
    # replace: the session's PostgreSQL server may hold tables of an earlier test
    cat.write("bronze.raw_system_reserves", _bronze(), mode="replace")
    cleaned = silver.reserves_5min(cat.scan("bronze.raw_system_reserves"))
    cat.write("silver.system_reserves", cleaned.clean, mode="replace")
    cat.write(
        "gold.fact_system_reserves",
        gold.fact_system_reserves(cat.scan("silver.system_reserves")),
        mode="replace",
    )
    yield cat.warehouse(), cleaned.quarantined.to_pandas()
    cat.close()


def test_reserves_through_silver_and_gold_with_their_contracts(built):
    wh, quarantined = built
    # silver: one row per interval, bad rows quarantined with a reason, none lost
    clean = wh.table("silver.system_reserves").to_pandas()
    assert len(clean) == 24
    assert clean["timestamp"].is_unique
    assert sorted(quarantined["reason"]) == [
        "demand outside 0..200 GW",
        "negative responsive reserves",
    ]
    assert len(clean) + len(quarantined) == len(_bronze()) - 1  # the duplicate collapsed, none lost

    # gold: hourly means, the hour's minimum and the margin
    g = wh.table("gold.fact_system_reserves").to_pandas().sort_values("timestamp")
    assert list(g.columns) == list(_spec("gold.fact_system_reserves").columns)
    assert [pd.Timestamp(t).tz_convert("UTC") for t in g["timestamp"]] == [
        T0,
        T0 + pd.Timedelta(hours=1),
    ]
    first = _bronze().iloc[:12]
    assert g["demand_mw"].iloc[0] == pytest.approx(first["demand_mw"].mean())
    assert g["responsive_reserve_mw"].iloc[0] == pytest.approx(
        first["responsive_reserve_mw"].mean()
    )
    assert g["reserve_mw"].iloc[0] == pytest.approx(first["reserve_mw"].mean())
    assert g["min_responsive_reserve_mw"].tolist() == [6_800.0, 4_400.0]
    assert g["reserve_margin"].iloc[1] == pytest.approx(
        _bronze().iloc[12:24]["responsive_reserve_mw"].mean()
        / _bronze().iloc[12:24]["demand_mw"].mean()
    )

    # contracts: both tables pass; a negative minimum is caught
    for name in ("silver.system_reserves", "gold.fact_system_reserves"):
        results = check_table(_spec(name), wh.table(name))
        assert [(r.check_name, r.passed) for r in results] == [("contract", True)], name
    t = wh.table("gold.fact_system_reserves")
    broken = t.mutate(min_responsive_reserve_mw=t.min_responsive_reserve_mw - 10_000)
    failed = check_table(_spec("gold.fact_system_reserves"), broken)
    assert {r.column_name for r in failed if not r.passed} == {"min_responsive_reserve_mw"}


def _spec(name: str):
    return load_catalog_spec(CATALOG, env={"WORKBENCH_HOME": "/tmp"}).dataset(name)
