"""LMP analytics on hand-made frames (known answers) and on the ci lakehouse."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from workbench.core.errors import MissingColumnsError
from workbench.market import lmp, sources
from workbench.market.errors import MarketInputError

T0 = pd.Timestamp("2024-03-01", tz="UTC")


def rows(node, market, stamps, energy, congestion, losses) -> pd.DataFrame:
    energy, congestion, losses = (np.asarray(x, dtype=float) for x in (energy, congestion, losses))
    return pd.DataFrame({
        "timestamp": stamps,
        "node_id": node,
        "market": market,
        "lmp_usd_per_mwh": energy + congestion + losses,
        "energy_usd_per_mwh": energy,
        "congestion_usd_per_mwh": congestion,
        "losses_usd_per_mwh": losses,
    })  # fmt: skip


def two_nodes() -> pd.DataFrame:
    """Nodes A and B, 2 hours; RT every 5 min (flat within an hour), DA hourly.

    Hour 0: B's congestion 6 above A's; hour 1: 0.5 above. RT above DA by 2 at A, below by 1 at B.
    """
    rt = pd.date_range(T0, periods=24, freq="5min")
    da = pd.date_range(T0, periods=2, freq="h")
    e_rt, e_da = np.repeat([30.0, 40.0], 12), np.array([30.0, 40.0])
    return pd.concat([
        rows("BUS_A", "RT", rt, e_rt + 2, np.repeat([-3.0, -0.25], 12), np.full(24, 0.5)),
        rows("BUS_B", "RT", rt, e_rt - 1, np.repeat([3.0, 0.25], 12), np.full(24, 1.0)),
        rows("BUS_A", "DA", da, e_da, [-3.0, -0.25], [0.5, 0.5]),
        rows("BUS_B", "DA", da, e_da, [3.0, 0.25], [1.0, 1.0]),
    ], ignore_index=True)  # fmt: skip


TOPOLOGY = pd.DataFrame({
    "element_id": ["BUS_A", "BUS_B", "IF_A_B", "LINE_A_B_1"],
    "element_type": ["bus", "bus", "interface", "line"],
    "region_id": ["A", "B", "A", "A"],
    "from_id": [None, None, "A", "BUS_A"],
    "to_id": [None, None, "B", "BUS_B"],
    "limit_mw": [np.nan, np.nan, 100.0, 60.0],
})  # fmt: skip


def test_decomposition_means_shares_and_volatility():
    out = lmp.lmp_decomposition(two_nodes()).set_index(["node_id", "market"])
    da_a = out.loc[("BUS_A", "DA")]
    assert da_a["intervals"] == 2
    assert da_a["mean_energy_usd_per_mwh"] == pytest.approx(35.0)
    assert da_a["std_energy_usd_per_mwh"] == pytest.approx(5.0)  # population std of 30, 40
    assert da_a["mean_congestion_usd_per_mwh"] == pytest.approx(-1.625)
    # shares of mean absolute components: 35, 1.625, 0.5
    assert da_a["share_congestion"] == pytest.approx(1.625 / 37.125)
    shares = out[["share_energy", "share_congestion", "share_losses"]].sum(axis=1)
    np.testing.assert_allclose(shares, 1.0)
    assert (out["violations"] == 0).all()


def test_components_that_do_not_add_up_are_reported():
    prices = two_nodes()
    prices.loc[5, "lmp_usd_per_mwh"] += 0.05
    prices.loc[7, "losses_usd_per_mwh"] = np.nan
    bad = lmp.component_violations(prices)
    assert len(bad) == 2
    assert bad["residual_usd_per_mwh"].dropna().tolist() == pytest.approx([0.05])
    out = lmp.lmp_decomposition(prices).set_index(["node_id", "market"])
    assert out.loc[("BUS_A", "RT"), "violations"] == 2
    assert out["violations"].sum() == 2
    # within the cents tolerance nothing is reported
    prices.loc[5, "lmp_usd_per_mwh"] -= 0.045
    assert len(lmp.component_violations(prices)) == 1


def test_gold_column_names_are_accepted_and_bad_input_rejected():
    gold = two_nodes().rename(columns={v: k for k, v in lmp.GOLD_NAMES.items()})
    out = lmp.lmp_decomposition(gold)
    assert len(out) == 4
    with pytest.raises(MissingColumnsError, match="congestion_usd_per_mwh"):
        lmp.lmp_decomposition(two_nodes().drop(columns="congestion_usd_per_mwh"))
    with pytest.raises(MarketInputError, match="'DA' and/or 'RT'"):
        lmp.lmp_decomposition(two_nodes().assign(market="HA"))


def test_congestion_hours_by_price_separation_and_flow():
    prices = two_nodes()
    hours = lmp.interface_hours(prices, TOPOLOGY, threshold_usd_per_mwh=1.0)
    assert hours["separation_usd_per_mwh"].tolist() == pytest.approx([6.0, 0.5])
    assert hours["price_congested"].tolist() == [True, False]
    assert hours["at_limit"].isna().all()
    flows = pd.DataFrame({
        "timestamp": pd.date_range(T0, periods=24, freq="5min"),
        "interface_id": "IF_A_B",
        "flow_mw": np.r_[np.full(11, 80.0), 100.0, np.full(12, 99.0)],
        "limit_mw": 100.0,
    })  # fmt: skip
    hours = lmp.interface_hours(prices, TOPOLOGY, flows, flow_share=0.995)
    assert hours["at_limit"].tolist() == [True, False]
    assert hours["max_loading"].tolist() == pytest.approx([1.0, 0.99])
    summary = lmp.congestion_hours(hours).iloc[0]
    assert summary["hours"] == 2
    assert summary["price_congested_hours"] == 1
    assert summary["at_limit_hours"] == 1
    assert summary["congested_hours"] == 1
    assert summary["mean_abs_separation_congested_usd_per_mwh"] == pytest.approx(6.0)
    topo = TOPOLOGY.replace({"BUS_B": "BUS_C"})
    with pytest.raises(MarketInputError, match="buses of interface IF_A_B"):
        lmp.interface_hours(prices, topo)


def test_price_duration_curve():
    prices = two_nodes()
    curve = lmp.price_duration_curve(prices, hourly=False)
    rt_a = curve.loc[(curve["node_id"] == "BUS_A") & (curve["market"] == "RT")]
    assert len(rt_a) == 24
    assert rt_a["lmp_usd_per_mwh"].is_monotonic_decreasing
    assert rt_a["percent_of_time"].iloc[0] == pytest.approx(100 / 24)
    assert rt_a["percent_of_time"].iloc[-1] == pytest.approx(100.0)
    # hourly, 3 points: max, median, min
    pts = lmp.price_duration_curve(prices, points=3)
    da_b = pts.loc[(pts["node_id"] == "BUS_B") & (pts["market"] == "DA"), "lmp_usd_per_mwh"]
    assert da_b.tolist() == pytest.approx([41.25, (34.0 + 41.25) / 2, 34.0])


def test_dart_spreads_by_node_and_hour():
    dart = lmp.dart_spreads(two_nodes(), tz="America/Chicago")
    assert len(dart) == 4
    a = dart.loc[dart["node_id"] == "BUS_A"]
    assert a["dart_usd_per_mwh"].tolist() == pytest.approx([-2.0, -2.0])  # RT 2 above DA
    assert a["hour"].tolist() == [18, 19]  # 00:00 UTC is 18:00 CST
    summary = lmp.spread_summary(dart).set_index("node_id")
    assert summary.loc["BUS_A", "share_rt_above_da"] == 1.0
    assert summary.loc["BUS_B", "share_rt_above_da"] == 0.0
    assert summary.loc["BUS_B", "mean_dart_usd_per_mwh"] == pytest.approx(1.0)
    by_hour = lmp.spread_summary(dart, by=("node_id", "hour"))
    assert len(by_hour) == 4
    assert (by_hour["hours"] == 1).all()
    dist = lmp.dart_distribution(dart)
    assert list(dist.columns) == ["node_id", "q01", "q05", "q25", "q50", "q75", "q95", "q99"]
    with pytest.raises(MarketInputError, match="both DA and RT"):
        lmp.dart_spreads(two_nodes().query("market == 'RT'"))


def test_on_the_ci_lakehouse(ci_gold_catalog):
    prices = sources.read_prices(ci_gold_catalog)
    parts = lmp.lmp_decomposition(prices)
    assert len(parts) == 10  # 5 nodes x DA/RT
    assert (parts["violations"] == 0).all()
    gold = sources.read_prices(ci_gold_catalog, table="gold.fact_market_prices")
    hourly = lmp.lmp_decomposition(gold)
    assert (hourly["violations"] == 0).all()
    hours = sources.congestion(ci_gold_catalog)
    assert len(hours) == 7
    assert (hours["congested_hours"] <= hours["price_congested_hours"]).all()
    assert (hours["congested_hours"] <= hours["at_limit_hours"]).all()
    assert hours["congested_hours"].sum() > 0
    summary, dist = sources.spreads(ci_gold_catalog, tz="America/Chicago")
    assert (summary["hours"] == 504).all()
    assert summary["share_rt_above_da"].between(0, 1).all()
    assert len(dist) == 5
