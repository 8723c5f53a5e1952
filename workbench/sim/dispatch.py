"""Zonal economic dispatch of the synthetic grid, every 5 minutes, vectorised over time.

Steps, each a pure function of arrays (fleet data and scheduled resources in
:mod:`workbench.sim.fleet`, the network in :mod:`workbench.sim.zonal`):

1. Losses per region, a quadratic function of load (about 2-3 % of load); demand = load + losses.
2. Hydro and batteries scheduled on the system net load; forced outages and hot-weather
   derates set the available thermal capacity.
3. Commitment and copper-plate dispatch: thermal units stacked in merit order
   (``marginal_cost_usd_per_mwh``, gas units scaled by a daily gas price index) and committed
   while cheaper capacity is short of a rolling-maximum need (1 h look-around for combustion
   turbines, 6 h for combined cycles, 24 h for coal; nuclear always runs) plus online reserve;
   the residual above minimum generation fills the stack through cumulative sums. Surplus
   (minimum generation above net load) curtails wind and solar, highest offer first.
4. Zonal transmission: interface flows from regional injections by PTDFs; overloaded interfaces
   are relieved by redispatch between regions, and then bind.
5. Ramp limits: a forward and a backward rate-limiting pass (closed forms with cumulative
   minima); what a unit cannot deliver goes to units of the same region with headroom.
6. Marginal unit and price zone of every region; reserves for the scarcity pricing
   (available capacity minus demand: outages, hot weather and the evening net-load peak make
   them tight) and the responsive reserves of the units online (what an ISO's reserves
   display shows). Neither draws random numbers.

Steps 3-4 and 6 run on blocks of a week of rows, on two threads.

Energy balance holds every interval: sum of generation (battery charging negative) = load +
losses - unserved, system-wide, and per region generation - load - losses + unserved = net
exports = sum of interface flows leaving the region. Interface flows are lossless (interface
losses are part of the regions' losses). Unserved load is zero unless capacity runs out.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.ndimage import maximum_filter1d

from workbench.core.errors import WorkbenchError
from workbench.sim.fleet import (
    THERMAL,
    DayWindows,
    battery_schedule,
    forced_outages,
    gas_price_index,
    hot_derate,
    hydro_output,
    offers,
    shed_events,
    surprise_outages,
    thermal_table,
)
from workbench.sim.zonal import (
    BINDING_TOL_MW,
    DispatchState,
    fill_in_order,
    interface_ptdf,
    marginal_units,
    relieve_congestion,
)

LOSS_BASE, LOSS_SLOPE = 0.014, 0.025  # losses = load * (base + slope * load / regional size) [1]
COMMIT_MARGIN = 0.03  # committed capacity above the rolling-maximum need [1]
ONLINE_RESERVE = 0.04  # online headroom kept for reserves, share of the thermal need [1]
#: commitment look-around [5-min steps] of gas CTs, gas CCs and coal (coal units self-commit
#: for days; nuclear always runs)
COMMIT_WINDOWS = {"gas_ct": 12, "gas_cc": 72, "coal": 288, "nuclear": 288}
_BIG = 1e9


@dataclass
class DispatchResult:
    """Outcome of :func:`dispatch`; long frames id-major (grid order of ids), then timestamp.

    Attributes
    ----------
    generation : bronze.raw_generation (timestamp, asset_id, generation_mw [MW], available).
    interchange : bronze.raw_interchange (timestamp, interface_id, flow_mw, limit_mw [MW]).
    losses_mw : timestamp, region_id, losses_mw [MW].
    marginal_cost : timestamp, region_id, marginal_cost_usd_per_mwh [$/MWh], marginal_asset_id,
        marginal_loading [1] (position of the marginal unit in its range; curtailed renewables:
        delivered / available).
    binding : timestamp, interface_id, binding (flow at its limit), direction (+1 from->to, -1).
    events : ops.sim_events rows (forced outages; load shed if capacity ran out).
    system : per interval (index timestamp): load_mw, losses_mw, solar_mw, wind_mw (available),
        curtailment_mw, hydro_mw, battery_mw, thermal_mw, unserved_mw, reserve_mw (available
        capacity: thermal after outages and derates, wind and solar available, hydro, battery
        output and headroom; minus load and losses: the ORDC's reserves),
        responsive_reserve_mw (what can respond within minutes, like ERCOT's physical
        responsive capability: headroom of the thermal units online, committed or still
        generating, after outages and derates; curtailed wind and solar; battery discharge
        headroom within half an hour of stored energy), thermal_available_mw,
        surprise_outage_mw (capacity out on outages that began after the day-ahead market of
        the interval's day closed), gas_price_index [1].
    """

    generation: pd.DataFrame
    interchange: pd.DataFrame
    losses_mw: pd.DataFrame
    marginal_cost: pd.DataFrame
    binding: pd.DataFrame
    events: pd.DataFrame
    system: pd.DataFrame


def dispatch(
    grid,
    load: pd.DataFrame,
    solar: pd.DataFrame,
    wind: pd.DataFrame,
    rng: np.random.Generator,
    *,
    weather: pd.DataFrame | None = None,
) -> DispatchResult:
    """Dispatch every asset of ``grid`` against ``load``, every 5 minutes.

    Parameters
    ----------
    grid : workbench.sim.regions.Grid
        Regions, assets (with engineering columns) and topology (buses, interfaces).
    load : pandas.DataFrame
        ``bronze.raw_load`` rows (timestamp, region_id, load_mw [MW]) on a regular 5-minute grid.
    solar, wind : pandas.DataFrame
        Available output [MW], wide (index timestamp, one column per asset_id), from
        :func:`workbench.sim.renewables.solar_output` and ``wind_output``.
    rng : numpy.random.Generator
        Source of outages, hydro budgets, battery behaviour, offers and the gas price index.
    weather : pandas.DataFrame, optional
        Hourly ``bronze.raw_weather``; with it, thermal capacity is derated in hot weather
        (:data:`HOT_DERATE_PER_F` per degF of the region's temperature above 59 degF).

    Returns
    -------
    DispatchResult
    """
    r_out, r_hydro, r_batt, r_fuel, r_offer = rng.spawn(5)
    regions = grid.regions["region_id"].tolist()
    reg_of = {r: i for i, r in enumerate(regions)}
    index, load_mw = _load_matrix(load, regions)
    n, n_reg = load_mw.shape
    assets = grid.assets.reset_index(drop=True)
    iface = grid.topology.loc[grid.topology["element_type"] == "interface"].reset_index(drop=True)
    by_region = assets.assign(_r=assets["region_id"].map(reg_of)).sort_values("_r", kind="stable")
    th = thermal_table(by_region.loc[by_region["technology"].isin(THERMAL)])
    re = by_region.loc[by_region["technology"].isin(["solar", "wind"])].reset_index(drop=True)
    hy = assets.loc[assets["technology"] == "hydro"].reset_index(drop=True)
    bt = assets.loc[assets["technology"] == "battery"].reset_index(drop=True)
    th_r, re_r, hy_r, bt_r = (t["region_id"].map(reg_of).to_numpy(int) for t in (th, re, hy, bt))
    tech = th["technology"].to_numpy()

    re_avail = _renewables(re, solar, wind, index)
    losses = load_mw * (LOSS_BASE + LOSS_SLOPE * load_mw / _region_size(assets, iface, regions))
    net = (load_mw + losses).sum(1) - re_avail.sum(1)
    windows = DayWindows(index)
    hydro = hydro_output(hy, net, windows, index, r_hydro)
    battery, soc = battery_schedule(bt, net - hydro.sum(1), windows, r_batt)
    avail, events = forced_outages(th, index, r_out)
    if weather is not None:
        avail *= hot_derate(th, weather, index)
    fuel_day = gas_price_index(index[0], int(windows.day.max()) + 1, r_fuel)
    cost_day = th["marginal_cost_usd_per_mwh"].to_numpy() + np.outer(fuel_day - 1, th["fuel_part"])
    residual = net - hydro.sum(1) - battery.sum(1)
    to_region = np.eye(n_reg)
    shed = np.zeros((n, n_reg))
    fixed = hydro @ to_region[hy_r] + battery @ to_region[bt_r] - load_mw - losses
    ptdf, fr, to = interface_ptdf(iface, reg_of)
    limit = iface["limit_mw"].to_numpy(dtype=float)
    windows_steps = sorted(set(COMMIT_WINDOWS.values()))
    units = _Units(th["capacity_mw"].to_numpy(float), th["min_gen_mw"].to_numpy(float),
                   th["ramp_mw_per_min"].to_numpy(float) * 5.0,
                   np.array([windows_steps.index(COMMIT_WINDOWS[t]) for t in tech]),
                   tech == "gas_ct", tech == "nuclear", th_r, re_r, offers(re, r_offer),
                   cost_day, np.argsort(cost_day, axis=1, kind="stable"), windows.day)  # fmt: skip
    needs = _needs(residual, windows_steps)
    target = np.zeros((n, len(th)))
    committed = np.zeros((n, len(th)), dtype=bool)
    re_used = re_avail.copy()

    def economic(rows: slice) -> None:  # commitment, copper plate, congestion relief
        st = _dispatch_rows(units, rows, avail[rows], re_avail[rows], residual[rows], needs[rows])
        shed[rows] = st.shortage[:, None] * load_mw[rows] / load_mw[rows].sum(1, keepdims=True)
        relieve_congestion(st, ptdf, fr, to, limit, fixed[rows] + shed[rows], to_region)
        target[rows], committed[rows], re_used[rows] = st.target, st.committed, st.re_used

    _run_chunks(economic, n)
    gen = _ramp_limit(target, units.ramp, avail < 0.5)
    unserved = shed.copy()
    flow = np.zeros((n, len(limit)))
    mc, loading = np.zeros((n, n_reg)), np.zeros((n, n_reg))
    unit = np.zeros((n, n_reg), dtype=int)
    responsive = np.zeros(n)

    def settle(rows: slice) -> None:  # ramp shortfalls, flows, marginal units, reserves
        cap = units.capacity * avail[rows]
        g, lost = _reallocate(gen[rows], target[rows] - gen[rows], cap, units.ramp, units.quick,
                              th_r, n_reg)  # fmt: skip
        gen[rows], unserved[rows] = g, unserved[rows] + lost
        online = committed[rows] | (g > 0)  # headroom of the units online (responsive reserve)
        responsive[rows] = (np.clip(cap - g, 0.0, None) * online).sum(1)
        region_gen = g @ to_region[th_r] + re_used[rows] @ to_region[re_r]
        flow[rows] = (region_gen + fixed[rows] + unserved[rows]) @ ptdf.T
        binding = np.abs(flow[rows]) >= limit - BINDING_TOL_MW
        st = DispatchState(target[rows], committed[rows], re_used[rows], re_avail[rows], cap,
                           units.cost_day[units.day[rows]], units.offer, th_r, re_r, units.quick,
                           units.min_gen, units.nuclear)  # fmt: skip
        mc[rows], unit[rows], loading[rows] = marginal_units(st, g, binding, fr, to, n_reg)

    _run_chunks(settle, n)
    binding = np.abs(flow) >= limit - BINDING_TOL_MW
    surprise = surprise_outages(th, events, index)
    events = pd.concat([events, shed_events(unserved, index, regions)], ignore_index=True)
    # reserves of the ORDC: available capacity (thermal after outages and derates, renewables
    # available, hydro, battery output and headroom) minus demand
    thermal_avail = (units.capacity * avail).sum(1)
    supply = thermal_avail + re_avail.sum(1) + hydro.sum(1)
    if len(bt):
        headroom = np.minimum(bt["capacity_mw"].to_numpy() - battery, 2.0 * soc)
        # a charging battery can stop charging: never less than nothing
        supply += np.clip(battery + np.clip(headroom, 0.0, None), 0.0, None).sum(1)
    reserve = supply - (load_mw + losses).sum(1)
    # responsive reserves: online thermal headroom (in settle), curtailed renewables, battery
    # discharge headroom
    responsive += (re_avail - re_used).sum(1)
    if len(bt):
        responsive += np.clip(headroom, 0.0, None).sum(1)

    tables = (th, re, hy, bt)
    position = {a: i for i, a in enumerate(a for t in tables for a in t["asset_id"])}
    columns = assets["asset_id"].map(position).to_numpy()  # the grid's asset order
    ups = np.hstack([avail > 0.5, np.ones((n, len(re) + len(hy) + len(bt)), dtype=bool)])
    generation = to_long(index, "asset_id", assets["asset_id"].tolist(), {
        "generation_mw": np.hstack([gen, re_used, hydro, battery])[:, columns],
        "available": ups[:, columns],
    })  # fmt: skip
    system = pd.DataFrame(
        {
            "load_mw": load_mw.sum(1),
            "losses_mw": losses.sum(1),
            "solar_mw": re_avail[:, (re["technology"] == "solar").to_numpy()].sum(1),
            "wind_mw": re_avail[:, (re["technology"] == "wind").to_numpy()].sum(1),
            "curtailment_mw": (re_avail - re_used).sum(1),
            "hydro_mw": hydro.sum(1),
            "battery_mw": battery.sum(1),
            "thermal_mw": gen.sum(1),
            "unserved_mw": unserved.sum(1),
            "reserve_mw": reserve,
            "responsive_reserve_mw": responsive,
            "thermal_available_mw": thermal_avail,
            "surprise_outage_mw": surprise,
            "gas_price_index": fuel_day[windows.day],
        },
        index=index,
    )
    iface_ids = iface["element_id"].tolist()
    unit_ids = th["asset_id"].tolist() + re["asset_id"].tolist()
    return DispatchResult(
        generation=generation,
        interchange=to_long(index, "interface_id", iface_ids,
                            {"flow_mw": flow, "limit_mw": np.broadcast_to(limit, flow.shape)}),
        losses_mw=to_long(index, "region_id", regions, {"losses_mw": losses}),
        marginal_cost=to_long(index, "region_id", regions, {
            "marginal_cost_usd_per_mwh": mc,
            "marginal_asset_id": (unit, unit_ids),
            "marginal_loading": loading,
        }),
        binding=to_long(index, "interface_id", iface_ids,
                        {"binding": binding, "direction": np.sign(flow).astype(np.int8)}),
        events=events,
        system=system,
    )  # fmt: skip


CHUNK_STEPS = 2016  # rows per block of the row-wise stages (a week of 5-minute steps)


def _run_chunks(func, n: int) -> None:
    """Run ``func(slice)`` over blocks of rows, on two threads (numpy releases the GIL)."""
    from concurrent.futures import ThreadPoolExecutor

    blocks = [slice(lo, min(lo + CHUNK_STEPS, n)) for lo in range(0, n, CHUNK_STEPS)]
    if len(blocks) == 1:
        func(blocks[0])
        return
    with ThreadPoolExecutor(max_workers=2) as pool:
        list(pool.map(func, blocks))


@dataclass(frozen=True)
class _Units:
    """Static data of the thermal units (sorted by region) and the renewables' offers."""

    capacity: np.ndarray  # [MW]
    min_gen: np.ndarray  # [MW]
    ramp: np.ndarray  # [MW per 5-minute step]
    window: np.ndarray  # look-around class (column of the needs)
    quick: np.ndarray  # quick-start (gas CT)
    nuclear: np.ndarray
    th_r: np.ndarray
    re_r: np.ndarray
    offer: np.ndarray  # renewables [$/MWh]
    cost_day: np.ndarray  # (day, unit) [$/MWh]
    order_day: np.ndarray  # merit order per day
    day: np.ndarray  # day of each step


def _needs(residual: np.ndarray, windows: list[int]) -> np.ndarray:
    """Capacity to keep online [MW], (time, look-around): rolling maxima of the thermal residual
    centred on each step, plus margin and online reserve."""
    factor = 1.0 + COMMIT_MARGIN + ONLINE_RESERVE
    return np.column_stack(
        [maximum_filter1d(residual, size=w + 1, mode="nearest") * factor for w in windows]
    )


def _dispatch_rows(units: _Units, rows: slice, avail, re_avail, residual, needs):
    """Commitment and copper-plate merit-order dispatch of a block of rows (a DispatchState)."""
    cap = units.capacity * avail
    cost, order = units.cost_day[units.day[rows]], units.order_day[units.day[rows]]
    cap_s = np.take_along_axis(cap, order, axis=1)
    before = np.cumsum(cap_s, axis=1) - cap_s
    need = np.take_along_axis(needs, units.window[order], axis=1)
    committed = np.empty(cap.shape, dtype=bool)
    np.put_along_axis(committed, order, (before < need) & (cap_s > 0), axis=1)
    committed |= units.nuclear & (cap > 0)
    min_on = committed * np.minimum(units.min_gen, cap)
    above_min = residual - min_on.sum(1)
    surplus = np.clip(-above_min, 0.0, None)
    re_order = np.broadcast_to(np.argsort(-units.offer, kind="stable"), re_avail.shape)
    curtail = fill_in_order(re_avail, re_order, np.minimum(surplus, re_avail.sum(1)))
    excess = surplus - curtail.sum(1)  # must-run above all renewables: thermal backs off
    total_min = np.maximum(min_on.sum(1), 1e-9)
    target = min_on * np.clip(1.0 - excess / total_min, 0.0, 1.0)[:, None]
    flex = committed * (cap - min_on)
    target += fill_in_order(flex, order, np.clip(above_min, 0.0, None))
    st = DispatchState(
        target, committed, re_avail - curtail, re_avail, cap, cost, units.offer,
        units.th_r, units.re_r, units.quick, units.min_gen, units.nuclear,
    )  # fmt: skip
    st.shortage = np.clip(above_min - flex.sum(1), 0.0, None)  # capacity ran out: load is shed
    return st


def to_long(
    index: pd.DatetimeIndex, id_name: str, ids: list[str], columns: dict[str, object]
) -> pd.DataFrame:
    """Long frame ``timestamp, <id_name>, *columns`` from wide ``(time, id)`` arrays, id-major.

    A column given as ``(codes, labels)`` becomes strings (code -1: missing).
    """
    n, k = len(index), len(ids)
    frame = {
        "timestamp": pd.DatetimeIndex(np.tile(index.asi8, k), dtype=index.dtype),
        id_name: _strings(np.repeat(np.arange(k), n), ids),
    }
    for name, values in columns.items():
        if isinstance(values, tuple):
            codes, labels = values
            frame[name] = _strings(np.asarray(codes).ravel(order="F"), labels)
        else:
            frame[name] = np.asarray(values).ravel(order="F")
    return pd.DataFrame(frame)


def _strings(codes: np.ndarray, labels: list[str]) -> pd.api.extensions.ExtensionArray:
    """Pandas ``str`` array of ``labels[codes]`` (code -1: missing), via an Arrow dictionary."""
    import pyarrow as pa

    codes = np.asarray(codes, dtype=np.int32)
    missing = codes < 0
    indices = pa.array(np.where(missing, 0, codes), mask=missing if missing.any() else None)
    dictionary = pa.DictionaryArray.from_arrays(indices, pa.array(list(labels) or [""]))
    return pd.array(dictionary.cast(pa.large_string()), dtype=pd.StringDtype("pyarrow", np.nan))


def _load_matrix(load: pd.DataFrame, regions: list[str]) -> tuple[pd.DatetimeIndex, np.ndarray]:
    wide = load.pivot_table(index="timestamp", columns="region_id", values="load_mw").sort_index()
    missing = sorted(set(regions) - set(wide.columns))
    if missing:
        msg = f"expected load for every region; missing {missing}, found {sorted(wide.columns)}"
        raise WorkbenchError(msg)
    if wide[regions].isna().any().any():
        msg = "expected a complete 5-minute load matrix; found gaps (fill them before dispatch)"
        raise WorkbenchError(msg)
    index = pd.DatetimeIndex(wide.index, name="timestamp")
    steps = np.diff(index.asi8)
    if len(index) < 2 or (steps != steps[0]).any() or index[1] - index[0] != pd.Timedelta("5min"):
        msg = "expected a regular 5-minute load index; found irregular or too few timestamps"
        raise WorkbenchError(msg)
    return index, wide[regions].to_numpy(dtype=float)


def _renewables(
    re: pd.DataFrame, solar: pd.DataFrame, wind: pd.DataFrame, index: pd.DatetimeIndex
) -> np.ndarray:
    wide = pd.concat([solar, wind], axis=1)
    missing = sorted(set(re["asset_id"]) - set(wide.columns))
    if missing:
        msg = f"expected output for every solar and wind asset; missing {missing}"
        raise WorkbenchError(msg)
    wide = wide.reindex(index=index, columns=re["asset_id"].tolist())
    if wide.isna().any().any():
        msg = "expected renewable output at every load timestamp; found gaps"
        raise WorkbenchError(msg)
    return np.clip(wide.to_numpy(dtype=float), 0.0, None).reshape(len(index), len(re))


def _region_size(assets: pd.DataFrame, iface: pd.DataFrame, regions: list[str]) -> np.ndarray:
    """Installed capacity plus transfer capability of each region [MW] (scales its losses)."""
    size = assets.groupby("region_id")["capacity_mw"].sum().reindex(regions).fillna(0.0)
    for end in ("from_id", "to_id"):
        size += iface.groupby(end)["limit_mw"].sum().reindex(regions).fillna(0.0)
    return np.maximum(size.to_numpy(dtype=float), 1.0)


def _ramp_limit(target: np.ndarray, ramp: np.ndarray, tripped: np.ndarray) -> np.ndarray:
    """Rate-limited output <= target [MW]: ``|g[t] - g[t-1]| <= ramp`` except at trips.

    Forward pass ``h[t] = min(G[t], h[t-1] + R)`` and backward pass ``g[t] = min(h[t], g[t+1] + R)``
    in closed form, ``h[t] = R t + min_{s<=t} (G[s] - R s)``, as cumulative minima carried
    across blocks of rows: a start ramps up from zero, a planned stop ramps down ahead of time,
    a forced outage drops at once.
    """
    n = len(target)
    out = np.empty_like(target)
    blocks = [slice(lo, min(lo + CHUNK_STEPS, n)) for lo in range(0, n, CHUNK_STEPS)]
    carry = np.full(target.shape[1], np.inf)
    for rows in blocks:  # forward
        steps = np.arange(rows.start, rows.stop, dtype=float)[:, None] * ramp
        running = np.minimum(np.minimum.accumulate(target[rows] - steps, axis=0), carry)
        carry = running[-1]
        out[rows] = running + steps
    carry = np.full(target.shape[1], np.inf)
    for rows in reversed(blocks):  # backward, with trips unforeseen
        steps = np.arange(rows.start, rows.stop, dtype=float)[:, None] * ramp
        ahead = np.where(tripped[rows], _BIG, out[rows]) + steps
        running = np.minimum(np.minimum.accumulate(ahead[::-1], axis=0)[::-1], carry)
        carry = running[0]
        g = np.where(tripped[rows], 0.0, np.clip(np.minimum(out[rows], running - steps), 0, None))
        tol = 1e-6 * (1.0 + ramp * n)  # round-off of the closed form
        out[rows] = np.where(target[rows] - g < tol, target[rows], g)
    return out


def _reallocate(gen, short, cap, ramp, quick, th_r, n_reg) -> tuple[np.ndarray, np.ndarray]:
    """Give each region's ramp shortfall to its own units: within their ramp, then any headroom,
    then quick starts. Returns output [MW] and what no unit could give (unserved) per region."""
    to_region = np.eye(n_reg)[th_r]
    unserved = np.zeros((len(gen), n_reg))
    rows = np.nonzero(short.max(1) > 1e-9)[0]
    if rows.size == 0:
        return gen, unserved
    gen_all, gen, cap = gen, gen[rows], cap[rows]
    left = short[rows] @ to_region
    for stage in range(3):
        online = gen > 0
        headroom = np.clip(cap - gen, 0.0, None)
        room = (np.where(online, np.minimum(headroom, ramp), 0.0), np.where(online, headroom, 0.0),
                np.where(online, 0.0, cap * quick))[stage]  # fmt: skip
        room_r = room @ to_region
        frac = np.divide(left, room_r, out=np.zeros_like(left), where=room_r > 1e-9)
        give = room * np.clip(frac, 0.0, 1.0)[:, th_r]
        gen = gen + give
        left = left - give @ to_region
    gen_all[rows] = gen
    unserved[rows] = np.where(left > 1e-6, left, 0.0)
    return gen_all, unserved
