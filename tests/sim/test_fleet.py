"""Fleet pieces of the dispatch: the seasonal gas price, surprise outages, reserves."""

from __future__ import annotations

import numpy as np
import pandas as pd

from tests.sim.test_dispatch import _run, toy_grid
from workbench.sim.fleet import (
    GAS_HUB_USD_PER_MMBTU,
    fuel_prices,
    gas_price_index,
    surprise_outages,
    thermal_table,
)


def test_gas_price_has_seasons_and_winter_spikes() -> None:
    start = pd.Timestamp("2023-01-01", tz="UTC")
    days = pd.date_range(start, periods=3 * 365, freq="D")
    winter, shoulder = days.month.isin([12, 1, 2]), days.month.isin([4, 5, 10])
    ratios, peaks = [], []
    for seed in range(8):
        index = gas_price_index(start, len(days), np.random.default_rng(seed))
        assert (index > 0).all()
        ratios.append(np.median(index[winter]) / np.median(index[shoulder]))
        peaks.append(index.max() / np.median(index))
    assert np.median(ratios) > 1.15  # winter dearer
    assert np.mean(np.array(peaks) > 1.6) >= 0.5  # cold-snap spikes in most three-year runs
    frame = fuel_prices(start, index)
    assert list(frame.columns) == ["date", "price_usd_per_mmbtu"]
    assert frame["date"].iloc[0] == days[0].date()
    assert len(frame) == len(days)
    assert np.allclose(frame["price_usd_per_mmbtu"], GAS_HUB_USD_PER_MMBTU * index, atol=1e-3)


def test_surprise_outages_are_known_from_the_next_day_ahead_market() -> None:
    grid = toy_grid()
    th = thermal_table(grid.assets[grid.assets["technology"] == "coal"])
    index = pd.date_range("2024-04-01", periods=4 * 288, freq="5min", tz="UTC")
    events = pd.DataFrame({
        "target_id": [th["asset_id"].iloc[0], th["asset_id"].iloc[1]],
        "start": [pd.Timestamp("2024-04-01 12:00", tz="UTC"),  # after the D+1 market closed
                  pd.Timestamp("2024-04-01 08:00", tz="UTC")],  # before it closed
        "end": [pd.Timestamp("2024-04-03 06:00", tz="UTC"),
                pd.Timestamp("2024-04-02 06:00", tz="UTC")],
    })  # fmt: skip
    out = pd.Series(surprise_outages(th, events, index), index=index)
    cap = th["capacity_mw"].to_numpy()
    assert out["2024-04-01 12:00"] == cap[0] + cap[1]
    assert out["2024-04-01 07:55"] == 0.0
    assert out["2024-04-02 12:00"] == cap[0]  # the first is a surprise through day 2
    assert out["2024-04-03 00:00"] == 0.0  # known to the market of day 3


def test_reserves_are_available_capacity_minus_demand() -> None:
    grid = toy_grid(outage_scale=0.0)
    calm, _ = _run(grid, days=2)
    tight, _ = _run(grid, days=2, load_scale=1.1)
    s = calm.system
    batteries = grid.assets.loc[grid.assets["technology"] == "battery", "capacity_mw"].sum()
    supply = s["thermal_available_mw"] + s["wind_mw"] + s["solar_mw"] + s["hydro_mw"]
    gap = s["reserve_mw"] - (supply - s["load_mw"] - s["losses_mw"])
    assert (gap >= -1e-6).all()
    assert (gap <= batteries + 1e-6).all()
    assert tight.system["reserve_mw"].min() < s["reserve_mw"].min() - 400.0
    assert (s["surprise_outage_mw"] == 0).all()
