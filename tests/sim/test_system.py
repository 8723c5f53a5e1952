"""The whole system simulation on the ci profile: layouts, balance, realism, determinism."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from workbench.catalog import load_catalog_spec
from workbench.sim.dispatch import DispatchResult
from workbench.sim.events import EVENT_COLUMNS
from workbench.sim.profiles import get_profile
from workbench.sim.regions import CATALOG_ASSET_COLUMNS, Grid
from workbench.sim.system import SystemData, simulate_system, time_indexes

CATALOG = Path(__file__).resolve().parents[2] / "data_catalog.yaml"
TABLES = {
    "weather": "bronze.raw_weather",
    "weather_forecast": "bronze.raw_weather_forecast",
    "load": "bronze.raw_load",
    "generation": "bronze.raw_generation",
    "interchange": "bronze.raw_interchange",
    "market": "bronze.raw_market",
    "ancillary": "bronze.raw_ancillary",
    "fuel_prices": "bronze.raw_fuel_prices",
    "reserves": "bronze.raw_system_reserves",
}


@pytest.fixture(scope="module")
def ci() -> SystemData:
    return simulate_system(get_profile("ci"), seed=11)


def test_frames_have_the_catalog_layouts(ci: SystemData) -> None:
    spec = load_catalog_spec(CATALOG, env={"WORKBENCH_HOME": "/tmp"})
    assert isinstance(ci.grid, Grid)
    assert isinstance(ci.extras, DispatchResult)
    for field, name in TABLES.items():
        frame = getattr(ci, field)
        assert list(frame.columns) == list(spec.dataset(name).columns), field
        assert len(frame) > 0
    assert list(ci.events.columns) == list(EVENT_COLUMNS)
    assert list(ci.grid.assets[CATALOG_ASSET_COLUMNS].columns) == list(
        spec.dataset("bronze.raw_assets").columns
    )
    profile = get_profile("ci")
    _, five = time_indexes(profile)
    assert len(five) == profile.days * 288
    assert five[0] == pd.Timestamp("2024-03-01", tz="UTC")
    per_asset = ci.generation.groupby("asset_id").size()
    assert (per_asset == len(five)).all()
    assert len(per_asset) == len(ci.grid.assets)
    assert ci.generation["timestamp"].min() == five[0]
    assert ci.generation["timestamp"].max() == five[-1]


def test_energy_balance_and_losses(ci: SystemData) -> None:
    gen = ci.generation.groupby("timestamp")["generation_mw"].sum()
    load = ci.load.groupby("timestamp")["load_mw"].sum()
    system = ci.extras.system
    assert np.abs(gen - (load + system["losses_mw"] - system["unserved_mw"])).max() < 1e-6
    assert 0.015 < system["losses_mw"].sum() / load.sum() < 0.035


def test_a_realistic_march(ci: SystemData) -> None:
    system = ci.extras.system
    assets = ci.grid.assets.set_index("asset_id")
    load = system["load_mw"]
    assert 30_000 < load.mean() < 60_000
    assert load.max() < 80_000
    cap = assets.groupby("technology")["capacity_mw"].sum()
    assert 0.15 < system["solar_mw"].mean() / cap["solar"] < 0.35  # spring solar
    assert 0.2 < system["wind_mw"].mean() / cap["wind"] < 0.5  # windy spring
    local_hour = system.index.tz_convert("America/Chicago").hour
    assert (system["solar_mw"][(local_hour >= 1) & (local_hour <= 4)] == 0).all()
    gen = ci.generation.pivot(index="timestamp", columns="asset_id", values="generation_mw")
    assert (gen.max() <= assets["capacity_mw"][gen.columns] + 1e-6).all()
    nuclear = assets.index[assets.technology == "nuclear"]
    up = ci.generation.pivot(index="timestamp", columns="asset_id", values="available")
    assert (gen[nuclear][up[nuclear]] / assets.capacity_mw[nuclear]).mean().min() > 0.85
    rt = ci.market[ci.market["market"] == "RT"]
    assert 10 < rt["lmp_usd_per_mwh"].median() < 60  # mostly 20-60 $/MWh
    assert rt["lmp_usd_per_mwh"].min() > -40
    outages = ci.events[ci.events["event_type"] == "forced_outage"]
    assert len(outages) > 3
    assert (outages["source"] == "generation").all()
    assert set(ci.events["source"]) <= {"generation", "load"}


def test_same_seed_same_data() -> None:
    short = get_profile("ci").with_(days=1)
    a, b = simulate_system(short, seed=3), simulate_system(short, seed=3)
    for field in ("weather", "load", "generation", "interchange", "market", "ancillary", "events"):
        pd.testing.assert_frame_equal(getattr(a, field), getattr(b, field), obj=field)
    c = simulate_system(short, seed=4)
    assert not np.allclose(a.market["lmp_usd_per_mwh"], c.market["lmp_usd_per_mwh"])


def test_coal_runs_mid_merit(ci: SystemData) -> None:
    assets = ci.grid.assets.set_index("asset_id")
    tech = ci.generation["asset_id"].map(assets["technology"])
    steps = ci.generation["timestamp"].nunique()

    def capacity_factor(t: str) -> float:
        cap = assets.loc[assets["technology"] == t, "capacity_mw"].sum()
        return float(ci.generation.loc[tech == t, "generation_mw"].sum() / (cap * steps))

    coal = capacity_factor("coal")
    assert 0.35 < coal < capacity_factor("nuclear")  # mid-merit: not a peaker, not must-run
    assert coal > 5 * capacity_factor("gas_ct")
    fuel = ci.fuel_prices
    assert len(fuel) == get_profile("ci").days
    assert fuel["price_usd_per_mmbtu"].between(1.0, 15.0).all()
