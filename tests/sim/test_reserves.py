"""System reserves of the dispatch on a summer fortnight: layout, accounting, realism."""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
import pytest

from workbench.sim.profiles import get_profile
from workbench.sim.system import SystemData, simulate_system

#: early August 2023, seed 42: hot evenings, a few real-time price spikes from the ORDC adder
SUMMER = get_profile("ci").with_(start=date(2023, 8, 1), days=14)


@pytest.fixture(scope="module")
def summer() -> SystemData:
    return simulate_system(SUMMER, seed=42)


def _share(s: SystemData, column: str) -> pd.Series:
    r = s.reserves.set_index("timestamp")
    return r[column] / r["demand_mw"]


def test_reserves_account_for_the_dispatch(summer: SystemData) -> None:
    r, system = summer.reserves, summer.extras.system
    assert len(r) == SUMMER.days * 288
    assert r["timestamp"].is_monotonic_increasing
    assert r["timestamp"].is_unique
    assert (r["timestamp"].to_numpy() == system.index.to_numpy()).all()
    demand = system["load_mw"] + system["losses_mw"]
    assert np.allclose(r["demand_mw"], demand.to_numpy())
    assert np.allclose(r["reserve_mw"], system["reserve_mw"].to_numpy())
    assert (r["responsive_reserve_mw"] >= 0).all()
    # what is online can respond, and is part of what is available: never more than the ORDC's
    # reserves (plus what was shed, which left the demand unserved)
    slack = r["reserve_mw"] + system["unserved_mw"].to_numpy() - r["responsive_reserve_mw"]
    assert (slack >= -1e-6).all()


def test_reserves_are_those_of_a_real_summer_grid(summer: SystemData) -> None:
    share = _share(summer, "responsive_reserve_mw")
    assert (summer.reserves["reserve_mw"] > 0).mean() > 0.99  # positive nearly always
    assert 0.10 < share.median() < 0.35  # a few % to a few tens of % of demand
    assert 0.02 < share.min() < 0.10  # tight at the worst moments, never gone here
    local_hour = share.index.tz_convert("America/Chicago").hour
    by_hour = share.groupby(local_hour).mean()
    assert 17 <= by_hour.idxmin() <= 22  # lowest at the evening net-load peak
    assert by_hour.min() < 0.7 * by_hour.max()


def test_reserves_drop_where_the_ordc_prices_scarcity(summer: SystemData) -> None:
    rt = summer.market[summer.market["market"] == "RT"]
    energy = rt.groupby("timestamp")["energy_usd_per_mwh"].mean()
    spikes = energy.index[energy > 100.0]  # the ORDC adder on top of a gas unit's offer
    assert len(spikes) > 0
    for column in ("reserve_mw", "responsive_reserve_mw"):
        share = _share(summer, column)
        assert share[spikes].median() < 0.5 * share.median(), column
        assert share[spikes].max() < share.quantile(0.1), column
