"""Zonal dispatch: energy balance, merit order, ramps, storage, outages, curtailment, congestion."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from workbench.catalog import load_catalog_spec
from workbench.core.errors import WorkbenchError
from workbench.sim.dispatch import DispatchResult, dispatch
from workbench.sim.events import EVENT_COLUMNS
from workbench.sim.regions import Grid
from workbench.sim.zonal import ptdf_matrix

CATALOG = Path(__file__).resolve().parents[2] / "data_catalog.yaml"
REGIONS = ("NORTH", "WEST", "SOUTH")


def toy_grid(west_limit: float = 1500.0, ramp_scale: float = 1.0, outage_scale: float = 1.0,
             wind_mw: float = 1500.0) -> Grid:  # fmt: skip
    """Three regions: NORTH (load, nuclear, coal, gas), WEST (wind, solar), SOUTH (gas, storage)."""
    regions = pd.DataFrame({
        "region_id": list(REGIONS), "region_name": ["North", "West", "South"],
        "iso_rto": "TEST", "timezone": ["America/Chicago", "America/Denver", "America/Chicago"],
        "population": [6_000_000, 500_000, 4_000_000], "area_sq_km": [1e5, 2e5, 1e5],
        "latitude": [32.8, 31.4, 29.9], "longitude": [-97.0, -103.0, -98.0],
    })  # fmt: skip
    rows = []

    def unit(tech, region, k, cap, mc, min_pu, ramp_pu, rate, hours, **extra):
        rows.append({
            "asset_id": f"{tech.upper()}_{region}_{k:02d}", "asset_name": f"{tech} {k}",
            "technology": tech, "region_id": region, "bus_id": f"BUS_{region}",
            "capacity_mw": cap, "latitude": 30.0, "longitude": -99.0, "owner": "Test",
            "commission_date": pd.Timestamp("2010-01-01").date(),
            "marginal_cost_usd_per_mwh": mc, "min_gen_mw": min_pu * cap,
            "ramp_mw_per_min": ramp_pu * cap * ramp_scale,
            "forced_outage_rate": rate * outage_scale,
            "mean_outage_hours": hours, "heat_rate_mmbtu_per_mwh": 7.0,
            "fuel_cost_usd_per_mmbtu": 3.0 if tech.startswith("gas") else np.nan, **extra,
        })  # fmt: skip

    unit("nuclear", "NORTH", 1, 1000.0, 9.0, 0.95, 0.003, 0.0002, 100.0)
    for k, mc in enumerate((21.0, 23.0), 1):
        unit("coal", "NORTH", k, 600.0, mc, 0.4, 0.01, 0.001, 30.0)
    for k, mc in enumerate((24.0, 25.0, 26.0, 27.0), 1):
        unit("gas_cc", "NORTH", k, 500.0, mc, 0.4, 0.03, 0.001, 20.0)
    for k, mc in enumerate((25.5, 28.0, 30.0), 1):
        unit("gas_cc", "SOUTH", k, 500.0, mc, 0.4, 0.03, 0.001, 20.0)
    for k, mc in enumerate((45.0, 50.0, 55.0), 1):
        unit("gas_ct", "SOUTH", k, 150.0, mc, 0.2, 0.15, 0.002, 8.0)
    unit("gas_ct", "NORTH", 1, 150.0, 60.0, 0.2, 0.15, 0.002, 8.0)
    for k in (1, 2):
        unit("wind", "WEST", k, wind_mw / 2, -20.0 - 5 * k, 0.0, np.nan, np.nan, np.nan)
    unit("solar", "WEST", 1, 600.0, -2.0, 0.0, np.nan, np.nan, np.nan)
    unit("hydro", "SOUTH", 1, 100.0, 1.0, 0.0, np.nan, np.nan, np.nan)
    unit("battery", "SOUTH", 1, 200.0, 1.0, 0.0, 1.0, np.nan, np.nan, storage_mwh=400.0,
         round_trip_efficiency=0.85)  # fmt: skip
    assets = pd.DataFrame(rows)
    topo = [{"element_id": f"BUS_{r}", "element_type": "bus", "region_id": r, "from_id": None,
             "to_id": None, "voltage_kv": 345.0, "limit_mw": np.nan, "reactance_pu": np.nan}
            for r in REGIONS]  # fmt: skip
    for a, b, limit, x in (("WEST", "NORTH", west_limit, 0.05), ("WEST", "SOUTH", 800.0, 0.08),
                           ("NORTH", "SOUTH", 3000.0, 0.02)):  # fmt: skip
        topo.append({"element_id": f"IF_{a}_{b}", "element_type": "interface", "region_id": a,
                     "from_id": a, "to_id": b, "voltage_kv": 345.0, "limit_mw": limit,
                     "reactance_pu": x})  # fmt: skip
    return Grid(regions=regions, assets=assets, topology=pd.DataFrame(topo))


def toy_inputs(grid: Grid, days: int = 4, load_scale: float = 1.0, seed: int = 0,
               start: str = "2024-04-01"):  # fmt: skip
    """5-minute load (daily cycle), solar (bell) and wind (slow random walk) frames."""
    rng = np.random.default_rng(seed)
    index = pd.date_range(start, periods=days * 288, freq="5min", tz="UTC", name="timestamp")
    local_h = ((index.hour + index.minute / 60.0).to_numpy() - 6.0) % 24.0
    shape = 0.78 + 0.22 * np.sin(2 * np.pi * (local_h - 10.0) / 24.0)
    peaks = {"NORTH": 3600.0, "WEST": 300.0, "SOUTH": 2000.0}
    load = pd.DataFrame({
        "timestamp": np.tile(index, 3),
        "region_id": np.repeat(list(REGIONS), len(index)),
        "load_mw": np.concatenate([peaks[r] * load_scale * shape for r in REGIONS]),
    })  # fmt: skip
    assets = grid.assets.set_index("asset_id")
    sun = np.clip(np.sin(2 * np.pi * (local_h - 7.0) / 26.0), 0.0, None) * (local_h < 20)
    solar_ids = assets.index[assets.technology == "solar"]
    solar = pd.DataFrame({a: assets.capacity_mw[a] * 0.9 * sun for a in solar_ids}, index=index)
    wind_cols = {}
    for a in assets.index[assets.technology == "wind"]:
        walk = np.cumsum(rng.normal(0, 0.02, len(index)))
        wind_cols[a] = assets.capacity_mw[a] * np.clip(0.45 + 0.35 * np.sin(walk), 0.0, 0.95)
    return load, solar, pd.DataFrame(wind_cols, index=index)


def _run(grid: Grid, seed: int = 1, **kw) -> tuple[DispatchResult, pd.DataFrame]:
    load, solar, wind = toy_inputs(grid, **kw)
    return dispatch(grid, load, solar, wind, np.random.default_rng(seed)), load


def _wide(frame: pd.DataFrame, key: str, value: str) -> pd.DataFrame:
    return frame.pivot(index="timestamp", columns=key, values=value)


@pytest.fixture(scope="module")
def congested() -> tuple[Grid, DispatchResult, pd.DataFrame]:
    grid = toy_grid(west_limit=600.0, wind_mw=3000.0)
    result, load = _run(grid)
    return grid, result, load


def test_schema_matches_the_catalog(congested) -> None:
    grid, result, _ = congested
    spec = load_catalog_spec(CATALOG, env={"WORKBENCH_HOME": "/tmp"})
    for field, name in (("generation", "bronze.raw_generation"),
                        ("interchange", "bronze.raw_interchange")):  # fmt: skip
        frame = getattr(result, field)
        assert list(frame.columns) == list(spec.dataset(name).columns)
        assert str(frame["timestamp"].dt.tz) == "UTC"
    gen = result.generation
    assert gen["generation_mw"].dtype == "float64"
    assert gen["available"].dtype == bool
    assert set(gen["asset_id"]) == set(grid.assets["asset_id"])
    assert not gen.duplicated(["asset_id", "timestamp"]).any()
    assert list(result.events.columns) == list(EVENT_COLUMNS)
    assert set(result.interchange["interface_id"]) == {"IF_WEST_NORTH", "IF_WEST_SOUTH",
                                                       "IF_NORTH_SOUTH"}  # fmt: skip


def test_energy_balance_every_interval_system_and_region(congested) -> None:
    grid, result, load = congested
    gen = _wide(result.generation, "asset_id", "generation_mw")
    demand = _wide(load, "region_id", "load_mw")
    losses = _wide(result.losses_mw, "region_id", "losses_mw")
    unserved = result.system["unserved_mw"]
    assert (unserved == 0).all()
    system = gen.sum(axis=1) - demand.sum(axis=1) - losses.sum(axis=1)
    assert np.abs(system).max() < 1e-6  # sum of generation = load + losses
    share = losses.sum(axis=1) / demand.sum(axis=1)
    assert 0.015 < share.mean() < 0.035  # losses about 2-3 % of load
    region_of = grid.assets.set_index("asset_id")["region_id"]
    by_region = gen.T.groupby(region_of).sum().T
    flow = _wide(result.interchange, "interface_id", "flow_mw")
    iface = grid.topology.set_index("element_id").loc[flow.columns]
    exports = pd.DataFrame(0.0, index=flow.index, columns=list(REGIONS))
    for k, row in iface.iterrows():
        exports[row.from_id] += flow[k]
        exports[row.to_id] -= flow[k]
    balance = by_region - demand - losses - exports
    assert np.abs(balance.to_numpy()).max() < 1e-6  # generation - load - losses = net exports


def test_congestion_binds_at_the_limit_and_splits_prices(congested) -> None:
    _, result, _ = congested
    flow = _wide(result.interchange, "interface_id", "flow_mw")
    limit = _wide(result.interchange, "interface_id", "limit_mw")
    assert (flow.abs() <= limit + 1.0).all().all()  # redispatch keeps every interface in limit
    binding = _wide(result.binding, "interface_id", "binding").astype(bool)
    assert binding.equals(flow.abs() >= limit - 1.0)
    assert binding["IF_WEST_NORTH"].mean() > 0.2  # tight export interface binds often
    mc = _wide(result.marginal_cost, "region_id", "marginal_cost_usd_per_mwh")
    spread = mc.max(axis=1) - mc.min(axis=1)
    any_binding = binding.any(axis=1)
    assert (spread[~any_binding] == 0).all()  # one price zone without congestion
    assert (spread[any_binding] > 0).mean() > 0.8
    # the exporting side (WEST) is the cheap side while its export is limited
    west_out = binding["IF_WEST_NORTH"] & (flow["IF_WEST_NORTH"] > 0)
    assert (mc.loc[west_out, "WEST"] < mc.loc[west_out, "NORTH"]).mean() > 0.95
    # WEST's marginal plant is a curtailed renewable: negative offers
    assert (mc.loc[west_out, "WEST"] < 0).mean() > 0.9
    assert (result.system["curtailment_mw"][west_out] > 0).mean() > 0.9


def test_merit_order_with_fast_ramps_and_no_congestion() -> None:
    grid = toy_grid(west_limit=5000.0, ramp_scale=50.0, outage_scale=0.0)
    grid.topology.loc[grid.topology["element_type"] == "interface", "limit_mw"] = 1e5
    result, _ = _run(grid)
    gen = _wide(result.generation, "asset_id", "generation_mw")
    assets = grid.assets.set_index("asset_id")
    thermal = assets.index[assets.technology.isin(["coal", "gas_cc", "gas_ct", "nuclear"])]
    mc = result.marginal_cost.groupby("timestamp")["marginal_cost_usd_per_mwh"].first()
    unit = result.marginal_cost.groupby("timestamp")["marginal_asset_id"].first()
    g = gen[thermal]
    cap = assets.capacity_mw[thermal]
    cost = assets.marginal_cost_usd_per_mwh[thermal]
    gas = assets.technology[thermal].str.startswith("gas")
    index = result.system["gas_price_index"]
    fuel_part = np.where(gas, 7.0 * 3.0, 0.0)  # heat rate x fuel cost of the gas units
    cost_t = pd.DataFrame(cost.to_numpy() + np.outer(index - 1.0, fuel_part), index=g.index,
                          columns=thermal)  # fmt: skip
    thermal_marginal = unit.isin(thermal)
    assert thermal_marginal.mean() > 0.8
    for t in g.index[thermal_marginal.to_numpy()][::7]:
        c = mc[t]
        assert cost_t.loc[t, unit[t]] == pytest.approx(c)
        cheaper_on = (cost_t.loc[t] < c - 1e-9) & (g.loc[t] > 0)
        assert (g.loc[t][cheaper_on] >= cap[cheaper_on] - 0.5).all()  # cheaper units full
        dearer = cost_t.loc[t] > c + 1e-9
        assert (g.loc[t][dearer] <= assets.min_gen_mw[thermal][dearer] + 0.5).all()
    # committed units run at or above minimum generation, outside start-up ramps
    on = g > 0
    steady = on & on.shift(1, fill_value=False) & on.shift(-1, fill_value=False)
    below = (g < assets.min_gen_mw[thermal] - 1e-6) & steady
    assert below.to_numpy().mean() < 0.01


def test_ramp_limits_hold(congested) -> None:
    grid, result, _ = congested
    gen = _wide(result.generation, "asset_id", "generation_mw")
    up = _wide(result.generation, "asset_id", "available").astype(bool)
    assets = grid.assets.set_index("asset_id")
    thermal = assets.index[assets.technology.isin(["coal", "gas_cc", "gas_ct", "nuclear"])]
    step = gen[thermal].diff().abs().iloc[1:]
    ramp = assets.ramp_mw_per_min[thermal] * 5.0
    steady = (up[thermal] & up[thermal].shift(1, fill_value=True)).iloc[1:]
    within = (step <= ramp + 1e-6) | ~steady
    assert within.to_numpy().mean() > 0.99  # shortfall cover may add one more ramp step
    # starts and stops where the daily gas price reorders coal and gas CCs: a few more steps
    assert ((step <= 2 * ramp + 1e-6) | ~steady).to_numpy().mean() > 0.998


def test_battery_within_limits_and_shifts_energy(congested) -> None:
    _, result, load = congested
    gen = _wide(result.generation, "asset_id", "generation_mw")
    battery = gen["BATTERY_SOUTH_01"]
    assert battery.abs().max() <= 200.0 + 1e-9
    charged = -battery.clip(upper=0).sum() / 12.0
    discharged = battery.clip(lower=0).sum() / 12.0
    assert charged > 200.0  # it cycles
    assert discharged <= 0.85 * charged + 1e-6  # round-trip efficiency, no free energy
    energy = (battery.clip(lower=0) - 0.85 * (-battery.clip(upper=0))).cumsum() / 12.0
    assert energy.max() <= 1e-6  # never discharges energy it has not stored
    assert (-energy).max() <= 400.0 + 1e-6 + charged  # sanity
    net = load.groupby("timestamp")["load_mw"].sum() - gen.filter(like="WIND").sum(axis=1) \
        - gen.filter(like="SOLAR").sum(axis=1)  # fmt: skip
    assert net[battery > 1].mean() > net[battery < -1].mean() + 300  # buys low, sells high


def test_forced_outages_are_labelled_and_respected() -> None:
    grid = toy_grid(outage_scale=40.0)
    result, _ = _run(grid, days=6)
    events = result.events[result.events["event_type"] == "forced_outage"]
    assert len(events) >= 5
    assert (events["source"] == "generation").all()
    caps = grid.assets.set_index("asset_id")["capacity_mw"]
    assert (events["magnitude"] == events["target_id"].map(caps)).all()
    assert (events["end"] > events["start"]).all()
    gen = result.generation.set_index(["asset_id", "timestamp"]).sort_index()
    for e in events.itertuples():
        rows = gen.loc[e.target_id]
        during = rows[(rows.index >= e.start) & (rows.index < e.end)]
        assert len(during) > 0
        assert (~during["available"]).all()
        assert (during["generation_mw"] == 0).all()
    outside = result.generation[result.generation["available"]]
    assert (outside["generation_mw"] >= -1e-9).sum() > 0


def test_hot_weather_derates_thermal_capacity() -> None:
    grid = toy_grid()
    load, solar, wind = toy_inputs(grid, days=2)
    hours = pd.date_range(load["timestamp"].min(), periods=48, freq="h")
    weather = pd.DataFrame({"timestamp": np.tile(hours, 3),
                            "location_id": np.repeat(list(REGIONS), 48),
                            "temperature_f": 105.0})  # fmt: skip
    cool = dispatch(grid, load, solar, wind, np.random.default_rng(1))
    hot = dispatch(grid, load, solar, wind, np.random.default_rng(1), weather=weather)
    assert hot.system["reserve_mw"].mean() < cool.system["reserve_mw"].mean() - 100.0


def test_capacity_shortage_sheds_load_and_keeps_the_balance() -> None:
    grid = toy_grid(outage_scale=0.0)
    result, load = _run(grid, load_scale=1.9, days=2)
    unserved = result.system["unserved_mw"]
    assert unserved.max() > 0
    shed = result.events[result.events["event_type"] == "load_shed"]
    assert len(shed) > 0
    assert (shed["source"] == "load").all()
    gen = _wide(result.generation, "asset_id", "generation_mw").sum(axis=1)
    demand = load.groupby("timestamp")["load_mw"].sum() + result.system["losses_mw"]
    assert np.abs(gen - (demand - unserved)).max() < 1e-6


def test_same_seed_same_dispatch_and_input_errors() -> None:
    grid = toy_grid()
    a, _ = _run(grid, seed=5, days=2)
    b, _ = _run(grid, seed=5, days=2)
    pd.testing.assert_frame_equal(a.generation, b.generation)
    pd.testing.assert_frame_equal(a.events, b.events)
    load, solar, wind = toy_inputs(grid, days=2)
    with pytest.raises(WorkbenchError, match="WIND_WEST_02"):
        dispatch(grid, load, solar, wind.drop(columns="WIND_WEST_02"), np.random.default_rng(1))
    with pytest.raises(WorkbenchError, match="SOUTH"):
        dispatch(grid, load[load.region_id != "SOUTH"], solar, wind, np.random.default_rng(1))


def test_ptdf_of_the_interfaces() -> None:
    ptdf = ptdf_matrix(toy_grid())
    assert list(ptdf.columns) == list(REGIONS)
    # injecting at WEST and withdrawing at NORTH (the reference) splits over the two paths
    west = ptdf["WEST"]
    assert west["IF_WEST_NORTH"] + west["IF_WEST_SOUTH"] == pytest.approx(1.0)
    assert west["IF_WEST_SOUTH"] == pytest.approx(-west["IF_NORTH_SOUTH"])
    assert 0.5 < west["IF_WEST_NORTH"] < 1.0
    assert (ptdf["NORTH"] == 0).all()
