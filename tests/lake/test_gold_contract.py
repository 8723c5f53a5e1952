"""The platform's published gold DDL, column for column, on the real ci warehouse.

The names and their order are read from the DuckDB file's own catalog (``information_schema``),
not from the workbench's catalog, so a transform that drops, renames or reorders a column fails
here even if the catalog entry was changed to match it.
"""

from __future__ import annotations

import duckdb
import pytest

#: The platform's DDL (DESIGN.md, "gold DDL"): columns in order, and the kind of type each takes.
PUBLISHED: dict[str, list[tuple[str, str]]] = {
    "fact_generation": [
        ("timestamp", "TIMESTAMP"), ("asset_id", "VARCHAR"), ("asset_type", "VARCHAR"),
        ("region", "VARCHAR"), ("generation_mw", "DOUBLE"), ("capacity_mw", "DOUBLE"),
        ("capacity_factor", "DOUBLE"), ("carbon_intensity", "DOUBLE"),
        ("availability", "DOUBLE"),
    ],
    "fact_load": [
        ("timestamp", "TIMESTAMP"), ("region", "VARCHAR"), ("zone", "VARCHAR"),
        ("actual_load_mw", "DOUBLE"), ("forecast_load_mw", "DOUBLE"), ("forecast_error", "DOUBLE"),
        ("temperature_f", "DOUBLE"), ("humidity_pct", "DOUBLE"),
    ],
    "fact_market_prices": [
        ("timestamp", "TIMESTAMP"), ("market", "VARCHAR"), ("node", "VARCHAR"),
        ("lmp_price", "DOUBLE"), ("energy_component", "DOUBLE"), ("congestion", "DOUBLE"),
        ("losses", "DOUBLE"), ("ancillary_price", "DOUBLE"),
    ],
    "dim_assets": [
        ("asset_id", "VARCHAR"), ("asset_name", "VARCHAR"), ("asset_type", "VARCHAR"),
        ("technology", "VARCHAR"), ("capacity_mw", "DOUBLE"), ("latitude", "DOUBLE"),
        ("longitude", "DOUBLE"), ("region", "VARCHAR"), ("owner", "VARCHAR"),
        ("commission_date", "DATE"), ("is_active", "BOOLEAN"),
    ],
    "dim_regions": [
        ("region_id", "VARCHAR"), ("region_name", "VARCHAR"), ("iso_rto", "VARCHAR"),
        ("timezone", "VARCHAR"), ("population", "BIGINT"), ("area_sq_miles", "BIGINT"),
    ],
}  # fmt: skip
#: Columns the simulator fills: never NULL in a built lakehouse (forecast columns may be: they
#: come from the forecast jobs).
NOT_NULL = {
    "fact_generation": [c for c, _ in PUBLISHED["fact_generation"]],
    "fact_load": ["timestamp", "region", "zone", "actual_load_mw", "temperature_f", "humidity_pct"],
    "fact_market_prices": [c for c, _ in PUBLISHED["fact_market_prices"]] + ["market_type"],
    "dim_assets": [c for c, _ in PUBLISHED["dim_assets"]],
    "dim_regions": [c for c, _ in PUBLISHED["dim_regions"]],
}


@pytest.fixture(scope="module")
def warehouse(ci_medallion):
    con = duckdb.connect(str(ci_medallion / "warehouse.duckdb"), read_only=True)
    yield con
    con.close()


def _columns(con, table: str) -> list[tuple[str, str]]:
    return con.execute(
        "SELECT column_name, data_type FROM information_schema.columns "
        "WHERE table_schema = 'gold' AND table_name = ? ORDER BY ordinal_position",
        [table],
    ).fetchall()


@pytest.mark.parametrize("table", sorted(PUBLISHED))
def test_gold_table_starts_with_the_published_columns_in_order(warehouse, table):
    published = PUBLISHED[table]
    actual = _columns(warehouse, table)
    assert [c for c, _ in actual[: len(published)]] == [c for c, _ in published]
    for (name, kind), (_, found) in zip(published, actual, strict=False):
        assert found.startswith(kind), f"{table}.{name}: expected {kind}; found {found}"


@pytest.mark.parametrize("table", sorted(PUBLISHED))
def test_simulated_gold_columns_are_never_null(warehouse, table):
    columns = NOT_NULL[table]
    counts = ", ".join(f'count(*) - count("{c}")' for c in columns)
    rows, *nulls = warehouse.execute(f"SELECT count(*), {counts} FROM gold.{table}").fetchone()
    assert rows > 0
    assert dict(zip(columns, nulls, strict=True)) == dict.fromkeys(columns, 0)


def test_gold_values_hold_together(warehouse):
    q = warehouse.execute
    # dimension and fact agree on region, zone and asset type
    assert q(
        "SELECT count(*) FROM gold.fact_load f JOIN gold.dim_regions r ON f.region = r.region_id "
        "WHERE f.zone <> r.zone"
    ).fetchone() == (0,)
    assert q("SELECT DISTINCT zone FROM gold.dim_regions ORDER BY 1").fetchall() == [
        ("LZ_HOUSTON",),
        ("LZ_NORTH",),
        ("LZ_SOUTH",),
        ("LZ_WEST",),
    ]
    assert q("SELECT DISTINCT market FROM gold.fact_market_prices").fetchall() == [("ERCOT",)]
    assert q("SELECT DISTINCT iso_rto FROM gold.dim_regions").fetchall() == [("ERCOT",)]
    types = dict(
        q("SELECT technology, any_value(asset_type) FROM gold.dim_assets GROUP BY 1").fetchall()
    )
    assert types == {
        "battery": "storage", "coal": "generator", "gas_cc": "generator", "gas_ct": "generator",
        "hydro": "renewable", "nuclear": "generator", "solar": "renewable", "wind": "renewable",
    }  # fmt: skip
    # area: square miles from the registered square kilometres
    pairs = q(
        "SELECT d.area_sq_miles, b.area_sq_km FROM gold.dim_regions d "
        "JOIN bronze.raw_regions b USING (region_id)"
    ).fetchall()
    assert all(abs(mi - km / 2.589988110336) <= 0.5 for mi, km in pairs)
    # availability: the forced-outage share of the hour; some unit is out some of the time
    low, high, out_hours = q(
        "SELECT min(availability), max(availability), count(*) FILTER (availability < 1) "
        "FROM gold.fact_generation"
    ).fetchone()
    assert 0.0 <= low < 1.0 == high
    assert out_hours > 0
    # carbon intensity per technology [t/MWh]
    carbon = dict(
        q(
            "SELECT technology, max(carbon_intensity) FROM gold.fact_generation GROUP BY 1"
        ).fetchall()
    )
    assert carbon["coal"] == pytest.approx(1.0)
    assert carbon["wind"] == 0.0
    assert carbon["gas_cc"] < carbon["gas_ct"] < carbon["coal"]
    # ancillary price: the hour's sum of the four products, the same for DA and RT
    mismatch = q(
        "SELECT count(*) FROM gold.fact_market_prices f JOIN ("
        "  SELECT date_trunc('hour', timestamp) AS ts, sum(price_usd_per_mw) AS p"
        "  FROM bronze.raw_ancillary GROUP BY 1) a ON f.timestamp = a.ts "
        "WHERE abs(f.ancillary_price - a.p) > 1e-9"
    ).fetchone()
    assert mismatch == (0,)
    # humidity: a diurnal cycle (lower in the afternoon than before dawn, local time)
    by_hour = dict(
        q(
            "SELECT hour(timezone('America/Chicago', timestamp)) AS h, avg(humidity_pct) "
            "FROM gold.fact_load WHERE region = 'HOUSTON' GROUP BY 1"
        ).fetchall()
    )
    assert by_hour[15] < by_hour[5] - 10.0


def test_system_reserves_are_the_dispatch_s_hour_by_hour(warehouse):
    q = warehouse.execute
    bronze, silver = (
        q(f"SELECT count(*), sum(responsive_reserve_mw) FROM {t}").fetchone()
        for t in ("bronze.raw_system_reserves", "silver.system_reserves")
    )
    assert bronze[0] == 21 * 288  # the ci profile's 5-minute intervals, none quarantined
    assert silver == pytest.approx(bronze)
    hours, mismatches, nulls = q(
        """SELECT count(*),
                  count(*) FILTER (WHERE abs(g.responsive_reserve_mw - s.mw) > 1e-6
                                   OR abs(g.min_responsive_reserve_mw - s.lo) > 1e-6
                                   OR abs(g.reserve_margin - s.mw / s.demand) > 1e-9),
                  count(*) - count(g.reserve_mw)
           FROM gold.fact_system_reserves g JOIN (
             SELECT date_trunc('hour', timestamp) AS h, avg(responsive_reserve_mw) AS mw,
                    min(responsive_reserve_mw) AS lo, avg(demand_mw) AS demand
             FROM silver.system_reserves GROUP BY 1) s ON s.h = g.timestamp"""
    ).fetchone()
    assert (hours, mismatches, nulls) == (21 * 24, 0, 0)
