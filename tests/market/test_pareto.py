"""Carbon/cost Pareto front (NSGA-II) checked against the exact LP front."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from workbench.market.errors import MarketInputError
from workbench.market.pareto import (
    DispatchProblem,
    exact_front,
    fleet_table,
    lp_extreme,
    non_dominated,
    pareto_front,
    problem_from_catalog,
)


def small_problem() -> DispatchProblem:
    fleet = pd.DataFrame({
        "resource": ["coal", "gas_cc", "gas_ct", "nuclear", "wind"],
        "technology": ["coal", "gas_cc", "gas_ct", "nuclear", "wind"],
        "available_mw": [400.0, 500.0, 300.0, 200.0, 150.0],
        "cost_usd_per_mwh": [20.0, 30.0, 50.0, 10.0, 0.0],
        "co2_kg_per_mwh": [1000.0, 400.0, 600.0, 0.0, 0.0],
    })  # fmt: skip
    return DispatchProblem(fleet, demand_mw=900.0)


def mw_columns(problem: DispatchProblem) -> list[str]:
    return [f"{r}_mw" for r in problem.resources]


def check_front(problem: DispatchProblem, front: pd.DataFrame, gap: float) -> None:
    mw = front[mw_columns(problem)].to_numpy()
    avail = problem.fleet["available_mw"].to_numpy()
    # constraints: demand met exactly, every output within its availability
    np.testing.assert_allclose(mw.sum(axis=1), problem.demand_mw, rtol=1e-9)
    assert (mw >= -1e-9).all()
    assert (mw <= avail + 1e-6).all()
    # objectives are those of the dispatch
    for row, dispatch in zip(front.itertuples(), mw, strict=True):
        assert (row.cost_usd, row.co2_t) == pytest.approx(problem.evaluate(dispatch))
    # non-dominated: no point of the front is dominated by another
    points = front[["cost_usd", "co2_t"]].to_numpy()
    for p in points:
        assert not (np.all(points <= p, axis=1) & np.any(points < p, axis=1)).any()
    # bracketed by the LP extremes: nothing beats the least cost or the least CO2
    cheap, clean = lp_extreme(problem, "cost"), lp_extreme(problem, "co2")
    assert front["cost_usd"].min() >= cheap["cost_usd"] * (1 - 1e-9)
    assert front["co2_t"].min() >= clean["co2_t"] * (1 - 1e-9)
    assert front["cost_usd"].max() <= clean["cost_usd"] * (1 + gap)
    assert front["co2_t"].max() <= cheap["co2_t"] * (1 + gap)
    # the sampler reaches close to both extremes and to the exact front in between
    assert front["cost_usd"].min() <= cheap["cost_usd"] * (1 + gap)
    assert front["co2_t"].min() <= clean["co2_t"] * (1 + 2 * gap)
    # against the exact least cost at each point's CO2: never below it, and close to it
    exact = exact_front(problem, caps=front["co2_t"].to_numpy())
    excess = front["cost_usd"].to_numpy() / exact["cost_usd"].to_numpy() - 1
    assert excess.min() >= -1e-9  # nothing beats the exact front
    assert excess.max() <= gap


def test_lp_extremes_are_the_merit_orders():
    problem = small_problem()
    cheap, clean = lp_extreme(problem, "cost"), lp_extreme(problem, "co2")
    # least cost: wind, nuclear, coal 400, gas_cc 150
    assert cheap[mw_columns(problem)].tolist() == pytest.approx([400, 150, 0, 200, 150], abs=1e-4)
    assert cheap["cost_usd"] == pytest.approx(400 * 20 + 150 * 30 + 200 * 10)
    # least CO2: wind, nuclear, gas_cc 500, then gas_ct 50 (cleaner than coal)
    assert clean[mw_columns(problem)].tolist() == pytest.approx([0, 500, 50, 200, 150], abs=1e-4)
    assert clean["co2_t"] == pytest.approx((500 * 400 + 50 * 600) / 1000)
    exact = exact_front(problem, 11)
    assert non_dominated(exact[["cost_usd", "co2_t"]].to_numpy()).all()
    assert exact["cost_usd"].iloc[0] == pytest.approx(cheap["cost_usd"])
    assert exact["co2_t"].iloc[-1] == pytest.approx(clean["co2_t"])


def test_nsga2_front_on_a_small_fleet():
    problem = small_problem()
    # the least-CO2 dispatch lies on the constraint boundary (the swing resource gas_cc at
    # its limit), which the sampler approaches more slowly: a looser gap than on the ci fleet
    front = pareto_front(problem, n_trials=1500, population_size=40, seed=1)
    assert len(front) >= 10
    check_front(problem, front, gap=0.05)
    again = pareto_front(problem, n_trials=1500, population_size=40, seed=1)
    pd.testing.assert_frame_equal(front, again)  # a fixed seed reproduces the front


def test_nsga2_front_on_the_ci_fleet(ci_gold_catalog):
    problem = problem_from_catalog(ci_gold_catalog, "2024-03-05 18:00")
    assert set(problem.resources) >= {"coal", "gas_cc", "gas_ct", "nuclear", "wind", "solar"}
    front = pareto_front(problem, n_trials=1500, population_size=40, seed=0)
    check_front(problem, front, gap=0.03)
    per_unit = problem_from_catalog(ci_gold_catalog, "2024-03-05 18:00", by="asset")
    assert per_unit.demand_mw == pytest.approx(problem.demand_mw)
    assert len(per_unit.fleet) > len(problem.fleet)
    cheap_unit, cheap = lp_extreme(per_unit, "cost"), lp_extreme(problem, "cost")
    assert cheap_unit["cost_usd"] == pytest.approx(cheap["cost_usd"], rel=1e-6)


def test_bad_fleets_are_rejected():
    problem = small_problem()
    with pytest.raises(MarketInputError, match=r"1550\.0 MW available for 5000\.0 MW demand"):
        DispatchProblem(problem.fleet, 5000.0)
    bad = problem.fleet.assign(available_mw=[-1.0, 1, 1, 1, 1])
    with pytest.raises(MarketInputError, match="available_mw >= 0"):
        DispatchProblem(bad, 2.0)
    assets = pd.DataFrame({"asset_id": ["X"], "technology": ["fusion"], "capacity_mw": [9.0]})
    mix = pd.DataFrame({"technology": ["fusion"], "generation_mw": [5.0]})
    with pytest.raises(MarketInputError, match=r"found none for \['fusion'\]"):
        fleet_table(assets, mix)
