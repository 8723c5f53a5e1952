"""The simulated grid: catalog schema, ERCOT-like sizes, a consistent fleet and network."""

from __future__ import annotations

import re
from collections import deque
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd
import pytest

from workbench.catalog import load_catalog_spec
from workbench.core.errors import WorkbenchError
from workbench.sim.regions import (
    CATALOG_ASSET_COLUMNS,
    ENGINEERING_ASSET_COLUMNS,
    TECHNOLOGIES,
    THERMAL_TECHNOLOGIES,
    Grid,
    design_peak_mw,
    distance_km,
    make_grid,
    region_traits,
)

CATALOG = Path(__file__).resolve().parents[2] / "data_catalog.yaml"


@pytest.fixture(scope="module")
def grid() -> Grid:
    return make_grid(5, np.random.default_rng(7))


def _catalog_columns(name: str) -> list[str]:
    return list(load_catalog_spec(CATALOG, env={"WORKBENCH_HOME": "/tmp"}).dataset(name).columns)


def test_frames_have_exactly_the_catalog_columns(grid: Grid) -> None:
    assert list(grid.regions.columns) == _catalog_columns("bronze.raw_regions")
    assert _catalog_columns("bronze.raw_assets") == CATALOG_ASSET_COLUMNS
    assert list(grid.assets.columns) == CATALOG_ASSET_COLUMNS + ENGINEERING_ASSET_COLUMNS
    assert list(grid.topology.columns) == _catalog_columns("bronze.raw_topology")
    assert grid.regions["population"].dtype == np.int64


def test_regions_are_texas_like_and_differ_by_an_order_of_magnitude(grid: Grid) -> None:
    regions = grid.regions
    assert {"NORTH", "SOUTH", "WEST", "HOUSTON", "COAST"} == set(regions["region_id"])
    zones = {ZoneInfo(tz).key for tz in regions["timezone"]}  # valid IANA names
    assert "America/Chicago" in zones
    assert "America/Denver" in zones
    peaks = design_peak_mw(regions)
    assert 70_000 <= peaks.sum() <= 85_000
    assert peaks.max() / peaks.min() >= 8.0
    assert regions["latitude"].between(25.5, 36.5).all()
    assert regions["longitude"].between(-106.7, -93.5).all()


def test_fleet_mix_ids_and_reserve_margin(grid: Grid) -> None:
    assets = grid.assets
    assert 60 <= len(assets) <= 120
    assert assets["asset_id"].is_unique
    assert assets["asset_name"].is_unique
    assert set(assets["technology"]) == set(TECHNOLOGIES)
    for row in assets.itertuples():
        assert re.fullmatch(rf"{row.technology.upper()}_{row.region_id}_\d{{2}}", row.asset_id)
        assert row.bus_id == f"BUS_{row.region_id}"
    firm = assets.loc[assets["technology"].isin(THERMAL_TECHNOLOGIES), "capacity_mw"].sum()
    margin = firm / design_peak_mw(grid.regions).sum() - 1.0
    # firm capacity about the design peak: wind, solar and storage carry the reserve margin, so
    # outages and a windless evening peak can run reserves short (scarcity pricing)
    assert -0.05 <= margin <= 0.06
    renewables = assets.loc[assets["technology"].isin(["wind", "solar", "battery"]), "capacity_mw"]
    assert renewables.sum() > 0.5 * design_peak_mw(grid.regions).sum()
    assert (assets["capacity_mw"] > 0).all()
    assert assets["commission_date"].max() < pd.Timestamp("2023-01-01").date()
    # wind mostly in the west, no coal there
    by_region = assets.pivot_table(index="region_id", columns="technology",
                                   values="capacity_mw", aggfunc="sum", fill_value=0.0)  # fmt: skip
    assert by_region["wind"].idxmax() == "WEST"
    assert by_region.loc["WEST", "coal"] == 0.0


def test_engineering_columns_are_physical(grid: Grid) -> None:
    a = grid.assets.set_index("technology")
    thermal = a.loc[["gas_cc", "gas_ct", "coal", "nuclear"]]
    expected = thermal["heat_rate_mmbtu_per_mwh"] * thermal["fuel_cost_usd_per_mmbtu"]
    expected += thermal["variable_om_usd_per_mwh"]
    assert np.allclose(thermal["marginal_cost_usd_per_mwh"], expected, atol=0.02)
    assert a.loc["gas_cc", "heat_rate_mmbtu_per_mwh"].between(6.0, 8.0).all()
    assert a.loc["gas_ct", "heat_rate_mmbtu_per_mwh"].between(9.0, 12.0).all()
    # CO2 follows the fuel: ~53 kg/MMBtu for gas, ~95 for coal, none for nuclear
    gas = a.loc[["gas_cc", "gas_ct"]]
    assert np.allclose(gas["co2_kg_per_mwh"] / gas["heat_rate_mmbtu_per_mwh"], 53.07, rtol=0.01)
    assert (a.loc["coal", "co2_kg_per_mwh"] > 900).all()
    assert (a.loc["nuclear", "co2_kg_per_mwh"] == 0).all()
    assert (a["min_gen_mw"] <= a["capacity_mw"]).all()
    assert a["forced_outage_rate"].between(1e-5, 5e-3).all()
    wind = a.loc["wind"]
    assert (wind["cut_in_m_per_s"] < wind["rated_m_per_s"]).all()
    assert (wind["rated_m_per_s"] < wind["cut_out_m_per_s"]).all()
    assert wind["hub_height_m"].between(80, 110).all()
    assert (wind["marginal_cost_usd_per_mwh"] <= 0).all()  # production-credit bidding
    solar = a.loc["solar"]
    assert set(solar["tracking"]) <= {"single_axis", "fixed"}
    assert solar["dc_ac_ratio"].between(1.1, 1.4).all()
    battery = a.loc["battery"]
    assert (battery["storage_mwh"] >= battery["capacity_mw"]).all()
    assert battery["round_trip_efficiency"].between(0.75, 0.95).all()
    # not applicable stays NaN
    assert a.loc["wind", "heat_rate_mmbtu_per_mwh"].isna().all()
    assert a.loc[["gas_cc", "coal"], "storage_mwh"].isna().all()
    assert a.loc["battery", "tracking"].isna().all()


def test_assets_lie_inside_their_region(grid: Grid) -> None:
    pos = grid.regions.set_index("region_id")
    a = grid.assets
    centre = pos.loc[a["region_id"]]
    d = distance_km(a["latitude"].to_numpy(), a["longitude"].to_numpy(),
                    centre["latitude"].to_numpy(), centre["longitude"].to_numpy())  # fmt: skip
    assert (d <= 0.45 * np.sqrt(centre["area_sq_km"].to_numpy()) + 40.0).all()


def test_topology_buses_lines_interfaces_connect_every_region(grid: Grid) -> None:
    topo = grid.topology
    ids = list(grid.regions["region_id"])
    assert grid.nodes == [f"BUS_{r}" for r in ids]
    assert set(topo["element_type"]) == {"bus", "line", "interface"}
    iface = grid.interfaces
    assert set(iface["from_id"]) | set(iface["to_id"]) <= set(ids)
    assert (iface["limit_mw"] > 0).all()
    assert (iface["reactance_pu"] > 0).all()
    pairs = {frozenset(p) for p in zip(iface["from_id"], iface["to_id"], strict=True)}
    assert len(pairs) == len(iface)  # one interface per neighbouring pair
    lines = topo.loc[topo["element_type"] == "line"]
    assert set(lines["from_id"]) | set(lines["to_id"]) <= set(grid.nodes)
    # every interface is backed by lines whose N-1 capacity covers its limit
    for row in iface.itertuples():
        own = lines.loc[lines["element_id"].str.startswith(f"LINE_{row.from_id}_{row.to_id}_")]
        assert own["limit_mw"].sum() - own["limit_mw"].max() >= 0.6 * row.limit_mw
    # connected: a breadth-first walk from the first region reaches every region
    seen, todo = {ids[0]}, deque([ids[0]])
    while todo:
        here = todo.popleft()
        for p in pairs:
            if here in p:
                (there,) = p - {here}
                if there not in seen:
                    seen.add(there)
                    todo.append(there)
    assert seen == set(ids)


def test_same_seed_same_grid_and_other_sizes() -> None:
    a, b = make_grid(5, np.random.default_rng(3)), make_grid(5, np.random.default_rng(3))
    pd.testing.assert_frame_equal(a.assets, b.assets)
    pd.testing.assert_frame_equal(a.topology, b.topology)
    c = make_grid(5, np.random.default_rng(4))
    assert not a.assets["capacity_mw"].equals(c.assets["capacity_mw"])
    big = make_grid(8, np.random.default_rng(3))
    assert len(big.regions) == 8
    assert design_peak_mw(big.regions).sum() <= 90_000
    with pytest.raises(WorkbenchError, match="n_regions"):
        make_grid(0, np.random.default_rng(3))


def test_region_traits_fall_back_for_unknown_regions(grid: Grid) -> None:
    assert region_traits("HOUSTON").dew_point_summer_f > region_traits("WEST").dew_point_summer_f
    other = grid.regions.iloc[:1].assign(region_id="MARS", latitude=30.0)
    traits = region_traits("MARS", other)
    assert traits.region_id == "MARS"
    assert traits.latitude == 30.0
    with pytest.raises(WorkbenchError, match="MARS"):
        region_traits("MARS")
