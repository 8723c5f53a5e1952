"""Carbon versus cost: the Pareto front of one hour's dispatch (Optuna NSGA-II, LP as a check).

The decision is the output of every resource of the fleet (one row per technology, or per
unit) for one hour, each within ``[0, available_mw]``; the fleet must meet ``demand_mw``. The
two objectives are the hour's cost ``sum(cost_usd_per_mwh * mw)`` [$] and its CO2
``sum(co2_kg_per_mwh * mw) / 1000`` [t]. The model is linear, without unit commitment (no
minimum generation, no ramps): a screening view of the trade-off, not a unit schedule.

NSGA-II (:class:`optuna.samplers.NSGAIISampler`, fixed seed) samples the output of every
resource but one, the *swing* resource (the one with the most available MW), which takes up
the rest of demand, so every dispatch balances exactly. When the swing resource would have to
produce more than it has (unmet demand) or less than nothing (over-supply), the trial is
infeasible: both are reported as constraint values (feasible when <= 0), which NSGA-II's
constrained domination ranks below every feasible trial. They are set with
``Trial.set_constraint``, Optuna 5's replacement of the sampler's deprecated
``constraints_func`` (same semantics). The front is the non-dominated set of feasible trials.
The crossover is BLX-alpha: Optuna's default (uniform) crossover only swaps parents' values, so
new outputs come from mutation alone and the front converges slowly on this continuous problem
(on the ci fleet, 1,500 trials: worst cost excess over the exact front 1.5 % with the default,
0.6-0.8 % with BLX-alpha).

:func:`lp_extreme` (min cost, min CO2; lexicographic so the extremes are Pareto optimal) and
:func:`exact_front` (epsilon-constraint LPs) are exact for this linear problem; they check the
sampler and bound what it can reach.

Costs and emission factors: the catalog's asset table has no cost or heat-rate columns, so the
fleet uses technology defaults: marginal costs as the simulator's thermal defaults
(:data:`MARGINAL_COST_USD_PER_MWH`; wind, solar and hydro 0, production credits ignored) and
CO2 factors from :data:`workbench.lake.gold.CARBON_KG_PER_MWH` (the ones
``gold.carbon_emissions`` uses).
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from workbench.core.errors import MissingColumnsError
from workbench.core.extras import require
from workbench.lake.gold import CARBON_KG_PER_MWH
from workbench.market.errors import MarketInputError

#: Marginal cost by technology [$/MWh] (the simulator's thermal defaults; others 0).
MARGINAL_COST_USD_PER_MWH: dict[str, float] = {
    "nuclear": 9.0,
    "coal": 24.0,
    "gas_cc": 26.0,
    "gas_ct": 45.0,
    "hydro": 0.0,
    "wind": 0.0,
    "solar": 0.0,
}
#: Technologies whose availability in an hour is their observed output (weather, water).
VARIABLE = ("wind", "solar", "hydro")
FLEET_COLUMNS = ["resource", "technology", "available_mw", "cost_usd_per_mwh", "co2_kg_per_mwh"]


@dataclass(frozen=True)
class DispatchProblem:
    """One hour's dispatch: a fleet and the demand it must meet.

    Parameters
    ----------
    fleet : pandas.DataFrame
        One row per resource: ``resource`` (unique id), ``technology``, ``available_mw`` [MW],
        ``cost_usd_per_mwh`` [$/MWh], ``co2_kg_per_mwh`` [kg/MWh].
    demand_mw : float
        Demand to meet [MW] (for one hour, so MW and MWh coincide).
    """

    fleet: pd.DataFrame
    demand_mw: float

    def __post_init__(self) -> None:
        missing = set(FLEET_COLUMNS) - set(self.fleet.columns)
        if missing:
            raise MissingColumnsError("fleet", missing, self.fleet.columns)
        numbers = self.fleet[FLEET_COLUMNS[2:]].to_numpy(dtype=float)
        if not np.isfinite(numbers).all() or (self.fleet["available_mw"] < 0).any():
            msg = "expected finite fleet numbers and available_mw >= 0; found NaN or negative"
            raise MarketInputError(msg)
        if self.fleet["resource"].duplicated().any():
            msg = "expected one row per resource in the fleet; found duplicated resource ids"
            raise MarketInputError(msg)
        capacity = float(self.fleet["available_mw"].sum())
        if not (np.isfinite(self.demand_mw) and self.demand_mw > 0):
            raise MarketInputError(f"expected demand_mw > 0; found {self.demand_mw}")
        if capacity < self.demand_mw:
            msg = (
                f"expected available capacity to cover demand; found {capacity:.1f} MW "
                f"available for {self.demand_mw:.1f} MW demand; add resources or lower demand"
            )
            raise MarketInputError(msg)

    @property
    def resources(self) -> list[str]:
        return self.fleet["resource"].astype(str).tolist()

    def evaluate(self, mw: np.ndarray) -> tuple[float, float]:
        """Cost [$] and CO2 [t] of a dispatch (MW per resource, in fleet order)."""
        cost = float(mw @ self.fleet["cost_usd_per_mwh"].to_numpy(dtype=float))
        co2 = float(mw @ self.fleet["co2_kg_per_mwh"].to_numpy(dtype=float)) / 1000.0
        return cost, co2


def fleet_table(
    assets: pd.DataFrame,
    mix: pd.DataFrame,
    *,
    by: str = "technology",
    costs: Mapping[str, float] | None = None,
    factors: Mapping[str, float] | None = None,
) -> DispatchProblem:
    """The dispatch problem of one hour from the asset table and that hour's generation mix.

    Thermal units are available at their capacity (``gold.dim_assets.capacity_mw``); wind, solar
    and hydro at the output the mix records for the hour (a lower bound of what was available
    where they were curtailed). Batteries are left out; demand is the hour's total output,
    batteries' net included (load plus losses).

    Parameters
    ----------
    assets : pandas.DataFrame
        ``gold.dim_assets`` rows (asset_id, technology, capacity_mw).
    mix : pandas.DataFrame
        ``gold.generation_mix`` rows of *one* hour (technology, generation_mw), any regions.
    by : {"technology", "asset"}
        One decision per technology, or one per thermal unit (variable resources stay per
        technology, their output known only in aggregate).
    costs, factors : mapping, optional
        Marginal cost [$/MWh] and CO2 factor [kg/MWh] by technology, overriding the defaults.
    """
    if by not in ("technology", "asset"):
        raise MarketInputError(f"expected by='technology' or 'asset'; found {by!r}")
    for what, frame, need in (
        ("assets", assets, {"asset_id", "technology", "capacity_mw"}),
        ("generation mix", mix, {"technology", "generation_mw"}),
    ):
        if need - set(frame.columns):
            raise MissingColumnsError(what, need - set(frame.columns), frame.columns)
    if "timestamp" in mix and mix["timestamp"].nunique() > 1:
        msg = f"expected the generation mix of one hour; found {mix['timestamp'].nunique()}"
        raise MarketInputError(msg)
    cost = {**MARGINAL_COST_USD_PER_MWH, **(costs or {})}
    co2 = {**CARBON_KG_PER_MWH, **(factors or {})}
    thermal = assets.loc[~assets["technology"].isin([*VARIABLE, "battery"])]
    unknown = sorted(set(thermal["technology"]) - set(cost))
    if unknown:
        msg = f"expected a marginal cost for every technology; found none for {unknown}"
        raise MarketInputError(msg)
    if by == "technology":
        rows = thermal.groupby("technology", as_index=False)["capacity_mw"].sum()
        rows = rows.rename(columns={"capacity_mw": "available_mw"})
        rows.insert(0, "resource", rows["technology"])
    else:
        rows = pd.DataFrame({
            "resource": thermal["asset_id"],
            "technology": thermal["technology"],
            "available_mw": thermal["capacity_mw"],
        })  # fmt: skip
    variable = mix.loc[mix["technology"].isin(VARIABLE)]
    variable = variable.groupby("technology", as_index=False)["generation_mw"].sum()
    variable = pd.DataFrame({
        "resource": variable["technology"],
        "technology": variable["technology"],
        "available_mw": variable["generation_mw"].clip(lower=0.0),
    })  # fmt: skip
    fleet = pd.concat([rows, variable], ignore_index=True)
    fleet["cost_usd_per_mwh"] = fleet["technology"].map(cost).astype(float)
    fleet["co2_kg_per_mwh"] = fleet["technology"].map(co2).astype(float)
    demand = float(mix["generation_mw"].sum())
    return DispatchProblem(fleet[FLEET_COLUMNS].reset_index(drop=True), demand)


def problem_from_catalog(cat: Any, timestamp: Any, *, by: str = "technology") -> DispatchProblem:
    """The system-wide dispatch problem of the hour starting at ``timestamp`` (UTC).

    Reads ``gold.dim_assets`` and the hour of ``gold.generation_mix`` (all regions: the
    interchange between regions nets out).
    """
    start = pd.Timestamp(timestamp)
    start = start.tz_localize("UTC") if start.tz is None else start.tz_convert("UTC")
    mix = cat.read("gold.generation_mix", start=start, end=start + pd.Timedelta(hours=1))
    if mix.empty:
        msg = f"expected gold.generation_mix rows for the hour {start}; found none"
        raise MarketInputError(msg)
    return fleet_table(cat.read("gold.dim_assets"), mix, by=by)


def _linprog(problem: DispatchProblem, c: np.ndarray, a_ub=None, b_ub=None) -> np.ndarray:
    optimize = require("scipy.optimize", feature="the dispatch LP")
    avail = problem.fleet["available_mw"].to_numpy(dtype=float)
    res = optimize.linprog(
        c,
        A_ub=a_ub,
        b_ub=b_ub,
        A_eq=np.ones((1, len(avail))),
        b_eq=[problem.demand_mw],
        bounds=np.column_stack([np.zeros_like(avail), avail]),
        method="highs",
    )
    if res.status != 0:
        msg = f"expected the dispatch LP to solve; found status {res.status}: {res.message}"
        raise MarketInputError(msg)
    return np.clip(res.x, 0.0, avail)


def _row(problem: DispatchProblem, mw: np.ndarray) -> dict[str, float]:
    cost, co2 = problem.evaluate(mw)
    return {
        "cost_usd": cost,
        "co2_t": co2,
        **{f"{r}_mw": float(v) for r, v in zip(problem.resources, mw, strict=True)},
    }


def lp_extreme(problem: DispatchProblem, objective: str) -> pd.Series:
    """The dispatch of least cost (``"cost"``) or least CO2 (``"co2"``), exactly, by LP.

    Lexicographic: the other objective is minimised among the optima of the first, so each
    extreme is Pareto optimal. Returns ``cost_usd``, ``co2_t`` and ``<resource>_mw``.
    """
    cost = problem.fleet["cost_usd_per_mwh"].to_numpy(dtype=float)
    co2 = problem.fleet["co2_kg_per_mwh"].to_numpy(dtype=float) / 1000.0
    if objective not in ("cost", "co2"):
        raise MarketInputError(f"expected objective 'cost' or 'co2'; found {objective!r}")
    first, second = (cost, co2) if objective == "cost" else (co2, cost)
    best = _linprog(problem, first) @ first
    slack = 1e-9 * max(1.0, abs(best))
    mw = _linprog(problem, second, first[None, :], [best + slack])
    return pd.Series(_row(problem, mw))


def exact_front(
    problem: DispatchProblem, points: int = 21, *, caps: Sequence[float] | None = None
) -> pd.DataFrame:
    """The exact Pareto front by epsilon-constraint LPs: the least cost under CO2 caps.

    Parameters
    ----------
    problem : DispatchProblem
        The fleet and the demand.
    points : int
        Number of caps, evenly spaced between the two extremes' CO2.
    caps : sequence of float, optional
        CO2 caps [t] to use instead (e.g. the CO2 of another front's points, to compare costs).

    Returns
    -------
    pandas.DataFrame
        Columns as :func:`pareto_front`, one row per cap: by increasing cost, or in the order
        of ``caps`` when given.
    """
    ordered = caps is not None
    if caps is None:
        cheap, clean = lp_extreme(problem, "cost"), lp_extreme(problem, "co2")
        caps = np.linspace(clean["co2_t"], cheap["co2_t"], points)
    cost = problem.fleet["cost_usd_per_mwh"].to_numpy(dtype=float)
    co2 = problem.fleet["co2_kg_per_mwh"].to_numpy(dtype=float) / 1000.0
    rows = []
    for cap in caps:
        mw = _linprog(problem, cost, co2[None, :], [cap + 1e-9 * max(1.0, cap)])
        rows.append(_row(problem, mw))
    frame = pd.DataFrame(rows)
    return frame if ordered else frame.sort_values("cost_usd", ignore_index=True)


def non_dominated(points: np.ndarray) -> np.ndarray:
    """Mask of the rows of ``points`` (n, 2), to be minimised, that no other row dominates."""
    keep = np.ones(len(points), dtype=bool)
    for i, p in enumerate(points):
        dominated = np.all(points <= p, axis=1) & np.any(points < p, axis=1)
        keep[i] = not dominated.any()
    return keep


def pareto_front(
    problem: DispatchProblem,
    *,
    n_trials: int = 1500,
    population_size: int = 40,
    seed: int = 0,
) -> pd.DataFrame:
    """The cost/CO2 Pareto front of the dispatch found by Optuna's NSGA-II.

    Parameters
    ----------
    problem : DispatchProblem
        The fleet and the demand.
    n_trials : int
        Trials of the study (generations times ``population_size``).
    population_size : int
        NSGA-II population.
    seed : int
        Sampler seed (the result is reproducible).

    Returns
    -------
    pandas.DataFrame
        The non-dominated feasible dispatches, by increasing cost: ``cost_usd`` [$] and
        ``co2_t`` [t] for the hour, and ``<resource>_mw`` [MW] for every resource; the
        dispatch meets demand exactly and stays within availability.
    """
    optuna = require("optuna", feature="the carbon/cost Pareto front")
    avail = problem.fleet["available_mw"].to_numpy(dtype=float)
    names = problem.resources
    swing = int(np.argmax(avail))
    free = [i for i in range(len(avail)) if i != swing and avail[i] > 0]

    def objective(trial: Any) -> tuple[float, float]:
        mw = np.zeros(len(avail))
        for i in free:
            mw[i] = trial.suggest_float(names[i], 0.0, avail[i])
        need = problem.demand_mw - mw.sum()  # what the swing resource must produce
        trial.set_constraint("unmet_mw", need - avail[swing])
        trial.set_constraint("excess_mw", -need)
        mw[swing] = min(max(need, 0.0), avail[swing])
        trial.set_user_attr("mw", mw.tolist())
        return problem.evaluate(mw)

    with warnings.catch_warnings():  # BLX-alpha is flagged experimental (API may change)
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        crossover = optuna.samplers.nsgaii.BLXAlphaCrossover()
    sampler = optuna.samplers.NSGAIISampler(
        population_size=population_size, seed=seed, crossover=crossover
    )
    verbosity = optuna.logging.get_verbosity()
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    try:
        study = optuna.create_study(directions=["minimize", "minimize"], sampler=sampler)
        study.optimize(objective, n_trials=n_trials)
    finally:
        optuna.logging.set_verbosity(verbosity)
    feasible = [t for t in study.trials if t.values and all(v <= 0 for v in t.constraints.values())]
    if not feasible:
        msg = f"expected feasible dispatches after {n_trials} trials; found none; add trials"
        raise MarketInputError(msg)
    frame = pd.DataFrame([_row(problem, np.asarray(t.user_attrs["mw"])) for t in feasible])
    keep = non_dominated(frame[["cost_usd", "co2_t"]].to_numpy())
    front = frame.loc[keep].drop_duplicates(subset=["cost_usd", "co2_t"])
    return front.sort_values("cost_usd", ignore_index=True)
