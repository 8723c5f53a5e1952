"""Prices: LMP components, marginal cost floor, congestion signs, scarcity, day ahead, AS."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from tests.sim.test_dispatch import toy_grid, toy_inputs
from workbench.catalog import load_catalog_spec
from workbench.sim.dispatch import dispatch
from workbench.sim.market import MIN_CONTINGENCY, OFFER_CAP, ordc_adder, price_market
from workbench.sim.regions import Grid

CATALOG = Path(__file__).resolve().parents[2] / "data_catalog.yaml"


def _priced(grid, seed: int = 1, **kw):
    load, solar, wind = toy_inputs(grid, **kw)
    result = dispatch(grid, load, solar, wind, np.random.default_rng(seed))
    market, ancillary = price_market(grid, result, load, np.random.default_rng(seed + 1))
    return result, market, ancillary


@pytest.fixture(scope="module")
def congested():
    return _priced(toy_grid(west_limit=600.0, wind_mw=3000.0))


def _rt(market: pd.DataFrame, column: str) -> pd.DataFrame:
    rt = market[market["market"] == "RT"]
    return rt.pivot(index="timestamp", columns="node_id", values=column)


def test_schema_nodes_and_markets(congested) -> None:
    result, market, ancillary = congested
    spec = load_catalog_spec(CATALOG, env={"WORKBENCH_HOME": "/tmp"})
    assert list(market.columns) == list(spec.dataset("bronze.raw_market").columns)
    assert list(ancillary.columns) == list(spec.dataset("bronze.raw_ancillary").columns)
    assert str(market["timestamp"].dt.tz) == "UTC"
    n = result.system.shape[0]
    counts = market.groupby(["node_id", "market"]).size()
    assert set(market["node_id"]) == {"BUS_NORTH", "BUS_WEST", "BUS_SOUTH"}
    assert (counts.xs("RT", level="market") == n).all()
    assert (counts.xs("DA", level="market") == n // 12).all()
    da = market[market["market"] == "DA"]
    assert (da["timestamp"].dt.minute == 0).all()
    assert not market.duplicated(["node_id", "market", "timestamp"]).any()
    assert set(ancillary["product"]) == {"regup", "regdown", "spin", "nonspin"}
    assert len(ancillary) == 4 * (n // 12)
    assert (ancillary["price_usd_per_mw"] >= 0).all()


def test_lmp_is_the_sum_of_its_components(congested) -> None:
    _, market, _ = congested
    parts = market[["energy_usd_per_mwh", "congestion_usd_per_mwh", "losses_usd_per_mwh"]]
    assert np.allclose(market["lmp_usd_per_mwh"], parts.sum(axis=1), atol=1e-9)
    # losses are a few % of energy
    ratio = market["losses_usd_per_mwh"].abs() / market["energy_usd_per_mwh"].abs().clip(1)
    assert ratio.max() < 0.07
    assert 0.005 < ratio.mean() < 0.05


def test_energy_never_below_the_marginal_cost(congested) -> None:
    result, market, _ = congested
    mc = result.marginal_cost.pivot(index="timestamp", columns="region_id",
                                     values="marginal_cost_usd_per_mwh")  # fmt: skip
    energy = _rt(market, "energy_usd_per_mwh")["BUS_NORTH"]
    binding = result.binding.groupby("timestamp")["binding"].any()
    free = ~binding
    assert free.sum() > 50
    # one price zone: energy is the marginal unit's offer, never below its marginal cost
    # (a curtailed plant's negative offer included: then energy is negative, down to that offer)
    assert (energy[free] >= mc.loc[free, "NORTH"] - 0.006).all()
    assert (energy[free] <= mc.loc[free, "NORTH"].abs() * 1.2 + 0.02 + mc.loc[free, "NORTH"]).all()
    # congested: energy lies between the cheapest and the dearest zone's offer
    lo, hi = mc[binding].min(axis=1), mc[binding].max(axis=1)
    offer_hi = np.where(hi > 0, hi * 1.2, hi) + 0.02
    assert ((energy[binding] >= lo - 0.02) & (energy[binding] <= offer_hi)).all()


def test_congestion_only_when_binding_with_signs(congested) -> None:
    result, market, _ = congested
    congestion = _rt(market, "congestion_usd_per_mwh")
    binding = result.binding.pivot(index="timestamp", columns="interface_id", values="binding")
    flow = result.interchange.pivot(index="timestamp", columns="interface_id", values="flow_mw")
    none = ~binding.any(axis=1)
    assert (congestion[none] == 0).all().all()  # exactly zero without a binding interface
    west_export = binding["IF_WEST_NORTH"] & (flow["IF_WEST_NORTH"] > 0)
    assert west_export.sum() > 100
    big = west_export & (congestion.abs().max(axis=1) > 1.0)
    assert big.sum() > 0.8 * west_export.sum()  # large when it binds
    assert (congestion.loc[big, "BUS_WEST"] < 0).all()  # exporting side negative
    assert (congestion.loc[big, "BUS_NORTH"] > 0).all()  # importing side positive
    lmp = _rt(market, "lmp_usd_per_mwh")
    assert (lmp.loc[big, "BUS_WEST"] < 0).mean() > 0.8  # curtailed wind: negative prices
    assert lmp.min().min() > -40.0  # down to about -30 $/MWh


def test_scarcity_drives_prices_toward_the_cap() -> None:
    result, market, ancillary = _priced(toy_grid(outage_scale=0.0), load_scale=1.15, days=2)
    energy = _rt(market, "energy_usd_per_mwh")["BUS_NORTH"]
    reserve = result.system["reserve_mw"] / result.system["load_mw"]
    assert energy.max() > 1000.0
    assert energy.max() <= OFFER_CAP
    assert (market["lmp_usd_per_mwh"] <= OFFER_CAP * 1.07).all()
    assert (energy[reserve <= MIN_CONTINGENCY] >= OFFER_CAP - 0.01).all()  # out of reserves
    assert (energy[reserve > 0.15] < 100.0).all()  # ample reserves: no adder to speak of
    assert energy[reserve < 0.07].mean() > 10 * energy[reserve > 0.15].mean()
    regup = ancillary[ancillary["product"] == "regup"].set_index("timestamp")["price_usd_per_mw"]
    assert regup.max() > 10 * regup.median()  # reserves are scarce too


def test_day_ahead_is_a_smoother_version_of_real_time(congested) -> None:
    _, market, _ = congested
    rt = _rt(market, "lmp_usd_per_mwh")["BUS_NORTH"]
    da = market[(market["market"] == "DA") & (market["node_id"] == "BUS_NORTH")]
    da = da.set_index("timestamp")["lmp_usd_per_mwh"]
    rt_hourly = rt.groupby(rt.index.floor("h")).mean()
    # cleared on forecasts, the day ahead tracks real time without its surprises
    assert np.corrcoef(da, rt_hourly.loc[da.index])[0, 1] > 0.6
    assert da.std() < rt.std()
    assert da.diff().abs().mean() < 12 * rt.diff().abs().mean()  # an hour of RT moves more


def test_same_seed_same_prices() -> None:
    grid = toy_grid()
    _, a, x = _priced(grid, seed=3, days=2)
    _, b, y = _priced(grid, seed=3, days=2)
    pd.testing.assert_frame_equal(a, b)
    pd.testing.assert_frame_equal(x, y)


def test_ordc_adder_rises_monotonically_to_the_cap() -> None:
    load = np.full(400, 10_000.0)
    reserve = np.linspace(3_000.0, -500.0, 400)  # shrinking reserves [MW]
    energy = np.full(400, 30.0)
    adder = ordc_adder(reserve, load, energy)
    assert (np.diff(adder) >= 0).all()  # less reserve, never a lower adder
    assert (energy + adder <= OFFER_CAP + 1e-9).all()
    assert adder[0] == 0.0  # ample reserves: no adder at all
    short = reserve <= MIN_CONTINGENCY * load
    assert np.allclose(energy[short] + adder[short], OFFER_CAP)  # out of reserves: the cap
    middle = (reserve > MIN_CONTINGENCY * load) & (reserve < 0.1 * load)
    assert ((adder[middle] > 0) & (adder[middle] < OFFER_CAP - 30.0)).all()
    # a dear marginal unit leaves less room to the cap; a negative price does not add room
    assert (
        ordc_adder(np.array([500.0]), np.array([10_000.0]), np.array([300.0]))[0]
        < adder[np.argmin(np.abs(reserve - 500.0))]
    )
    assert ordc_adder(np.array([-10.0]), np.array([10_000.0]), np.array([-20.0]))[0] == OFFER_CAP


def test_no_binding_interface_no_congestion_anywhere() -> None:
    grid = toy_grid(wind_mw=3000.0)
    topo = grid.topology.copy()
    topo.loc[topo["element_type"] == "interface", "limit_mw"] = 1e6
    free = Grid(regions=grid.regions, assets=grid.assets, topology=topo)
    result, market, _ = _priced(free)
    assert not result.binding["binding"].any()
    assert (market["congestion_usd_per_mwh"] == 0).all()  # every node, RT and DA
    rt = market[market["market"] == "RT"]
    assert rt.groupby("timestamp")["energy_usd_per_mwh"].nunique().max() == 1  # one price


def _errors(hours: pd.DatetimeIndex, load_error: np.ndarray | float = 0.0) -> pd.DataFrame:
    return pd.DataFrame(
        {"load_error_mw": load_error, "wind_error_mw": 0.0, "solar_error_mw": 0.0}, index=hours
    )


def test_real_time_minus_day_ahead_is_the_injected_errors() -> None:
    grid = toy_grid(outage_scale=0.0)  # no outage can surprise the day-ahead market
    load, solar, wind = toy_inputs(grid, days=3, load_scale=0.85)
    result = dispatch(grid, load, solar, wind, np.random.default_rng(4))
    hours = pd.date_range(result.system.index[0], periods=72, freq="h", name="timestamp")

    def spread(errors):
        market, _ = price_market(grid, result, load, np.random.default_rng(5), errors=errors)
        rt = _rt(market, "energy_usd_per_mwh")["BUS_NORTH"]
        da = market[(market["market"] == "DA") & (market["node_id"] == "BUS_NORTH")]
        da = da.set_index("timestamp")["energy_usd_per_mwh"]
        return rt.groupby(rt.index.floor("h")).mean() - da

    perfect = spread(_errors(hours))
    # the day-ahead market expected 600 MW less load in the evenings: it cleared cheaper, and
    # real time (the load that came) is dearer by the slope of the supply curve; every other
    # hour is priced exactly as with perfect forecasts
    evening = np.isin(hours.hour, [22, 23, 0, 1])
    extra = spread(_errors(hours, np.where(evening, 600.0, 0.0))) - perfect
    assert extra[~evening].abs().max() < 0.011  # cents of rounding
    assert (extra[evening] >= -0.011).all()
    assert extra[evening].mean() > 1.0
    # with perfect forecasts what remains is real time's own surprise (a day-ahead market that
    # knew yesterday's departures from the supply curve): small on average
    assert abs(perfect.mean()) < 0.1 * rt_level(grid, result, load)


def rt_level(grid, result, load) -> float:
    market, _ = price_market(grid, result, load, np.random.default_rng(5))
    return float(_rt(market, "energy_usd_per_mwh")["BUS_NORTH"].abs().mean())


def test_negative_prices_only_with_renewable_surplus(congested) -> None:
    result, market, _ = congested
    lmp = _rt(market, "lmp_usd_per_mwh")
    negative = (lmp < 0).any(axis=1)
    assert negative.sum() > 50
    curtailed = result.system["curtailment_mw"] > 0.5
    assert curtailed[negative].all()  # every negative price: wind or solar curtailed
    mc = result.marginal_cost.pivot(index="timestamp", columns="region_id",
                                     values="marginal_cost_usd_per_mwh")  # fmt: skip
    assert (mc[negative].min(axis=1) < 0).all()  # a curtailed plant's offer sets a price
    assert lmp.min().min() > -40.0  # production-credit bids: down to about -30 $/MWh
