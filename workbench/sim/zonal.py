"""The zonal network of the dispatch: flows, congestion relief, price zones, marginal units.

- :func:`ptdf_matrix` / :func:`interface_ptdf`: DC power-flow distribution factors of the
  interfaces (reactance from the topology, else inversely proportional to the limit).
- :func:`relieve_congestion`: an overloaded interface is relieved by moving generation from an
  exporting to an importing region (its own ends first, then any pair that relieves it) along
  their merit orders, a few passes, vectorised over the overloaded intervals; it then *binds*.
- :func:`marginal_units`: the price zone of a region is the set of regions joined by
  non-binding interfaces (in a meshed network a binding interface separates every region: each
  keeps its own marginal unit); the marginal unit of a zone is the lowest-offer curtailed plant
  if it curtails, else the dearest partly loaded thermal unit not held back by its ramp, else
  the cheapest online unit with headroom, else (scarcity) the dearest unit online.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from workbench.core.errors import WorkbenchError

FLOW_PASSES = 6  # congestion relief passes
BINDING_TOL_MW = 1.0


def fill_in_order(room: np.ndarray, order: np.ndarray, amount: np.ndarray) -> np.ndarray:
    """Take ``amount[t]`` from ``room[t, :]`` visiting columns in ``order[t, :]`` [MW]."""
    room_s = np.take_along_axis(room, order, axis=1)
    before = np.cumsum(room_s, axis=1) - room_s
    taken_s = np.clip(amount[:, None] - before, 0.0, room_s)
    taken = np.empty_like(taken_s)
    np.put_along_axis(taken, order, taken_s, axis=1)
    return taken


@dataclass
class DispatchState:
    """Mutable dispatch of thermal units and renewables during congestion relief."""

    target: np.ndarray  # thermal output (time, unit) [MW]
    committed: np.ndarray  # (time, unit) bool
    re_used: np.ndarray  # delivered renewables (time, plant) [MW]
    re_avail: np.ndarray
    cap: np.ndarray  # available thermal capacity (time, unit) [MW]
    cost: np.ndarray  # (time, unit) [$/MWh]
    offer: np.ndarray  # (plant,) [$/MWh]
    th_r: np.ndarray
    re_r: np.ndarray
    quick: np.ndarray  # quick-start units (may start for redispatch)
    min_gen: np.ndarray  # (unit,) [MW]
    must_run: np.ndarray  # (unit,) bool: nuclear, never decommitted for congestion
    shortage: np.ndarray | None = None  # (time,) [MW] demand above all committed capacity


def ptdf_matrix(grid) -> pd.DataFrame:
    """DC power-flow distribution factors of the zonal network [MW flow per MW injected].

    Rows: interface ids; columns: region ids; injection at a region withdrawn at the first
    region (for balanced injections the flows do not depend on that choice).
    """
    regions = grid.regions["region_id"].tolist()
    topo = grid.topology
    iface = topo.loc[topo["element_type"] == "interface"].reset_index(drop=True)
    ptdf, _, _ = interface_ptdf(iface, {r: i for i, r in enumerate(regions)})
    return pd.DataFrame(ptdf, index=iface["element_id"].tolist(), columns=regions)


def interface_ptdf(
    iface: pd.DataFrame, reg_of: dict[str, int]
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """DC power-flow distribution factors (interface, region) and interface end regions."""
    n_reg, n_if = len(reg_of), len(iface)
    fr = iface["from_id"].map(reg_of)
    to = iface["to_id"].map(reg_of)
    if fr.isna().any() or to.isna().any():
        msg = f"expected interfaces between known regions {sorted(reg_of)}; found {iface.to_dict()}"
        raise WorkbenchError(msg)
    fr, to = fr.to_numpy(int), to.to_numpy(int)
    x = iface.get("reactance_pu", pd.Series(np.nan, index=iface.index)).to_numpy(float)
    limit = iface["limit_mw"].to_numpy(float)
    x = np.where(np.isfinite(x) & (x > 0), x, 100.0 / np.maximum(limit, 1.0))
    incidence = np.zeros((n_if, n_reg))
    incidence[np.arange(n_if), fr] = 1.0
    incidence[np.arange(n_if), to] = -1.0
    bbus = incidence.T @ (incidence / x[:, None])
    if n_reg > 1 and np.linalg.matrix_rank(bbus[1:, 1:]) < n_reg - 1:
        msg = "expected interfaces connecting every region; found an island"
        raise WorkbenchError(msg)
    inverse = np.zeros((n_reg, n_reg))
    inverse[1:, 1:] = np.linalg.inv(bbus[1:, 1:]) if n_reg > 1 else 0.0
    return (incidence / x[:, None]) @ inverse, fr, to


def relieve_congestion(
    st: DispatchState, ptdf, fr, to, limit, fixed: np.ndarray, to_region: np.ndarray
) -> None:
    """Redispatch ``st`` in place until no interface carries more than its limit.

    Parameters
    ----------
    st : DispatchState
        Copper-plate dispatch of a block of rows; targets, commitment and renewables change.
    ptdf : numpy.ndarray
        (interface, region) distribution factors; ``fr``, ``to`` the interface ends.
    limit : numpy.ndarray
        Transfer limit of each interface [MW], both directions.
    fixed : numpy.ndarray
        (time, region) injections not redispatched [MW]: hydro + batteries - load - losses
        (+ shed load).
    to_region : numpy.ndarray
        Identity (region, region), rows gathered by unit region to sum units per region.
    """

    def injection() -> np.ndarray:
        return st.target @ to_region[st.th_r] + st.re_used @ to_region[st.re_r] + fixed

    inj = injection()
    for _ in range(FLOW_PASSES):
        if not (np.abs(inj @ ptdf.T) - limit > BINDING_TOL_MW).any():
            return
        for k in range(len(limit)):
            for sign in (1.0, -1.0):
                over = sign * (inj @ ptdf[k]) - limit[k]
                rows = np.nonzero(over > BINDING_TOL_MW)[0]
                if rows.size == 0:
                    continue
                a, b = (fr[k], to[k]) if sign > 0 else (to[k], fr[k])
                for src, dst in _relief_pairs(sign * ptdf[k], a, b):
                    sens = sign * (ptdf[k, src] - ptdf[k, dst])  # flow relief per MW moved
                    moved = _shift(st, rows, over[rows] / sens, src, dst)
                    inj[rows, src] -= moved
                    inj[rows, dst] += moved
                    over[rows] -= moved * sens
                    keep = over[rows] > BINDING_TOL_MW
                    rows = rows[keep]
                    if rows.size == 0:
                        break


def _relief_pairs(sens: np.ndarray, a: int, b: int) -> list[tuple[int, int]]:
    """(exporting, importing) region pairs that relieve an interface, its own ends first, then
    any region pair whose shift lowers the flow (by their distribution factors)."""
    pairs = [(a, b)]
    others = [(i, j) for i in range(len(sens)) for j in range(len(sens))
              if i != j and (i, j) != (a, b) and sens[i] - sens[j] > 0.05]  # fmt: skip
    others.sort(key=lambda p: (p[0] != a and p[1] != b, -(sens[p[0]] - sens[p[1]])))
    return pairs + others


def _shift(st: DispatchState, rows: np.ndarray, need: np.ndarray, a: int, b: int) -> np.ndarray:
    """Move up to ``need`` [MW] of generation from region ``a`` to region ``b`` on ``rows``.

    ``a`` lowers output above minimum (dearest first), then decommits units (not nuclear,
    dearest first: it saves their cost, where curtailing only forgoes a production credit), then
    curtails (highest offer first); ``b`` raises curtailed renewables, then committed headroom
    (cheapest first), then starts quick-start units. Returns the amount moved [MW].
    """
    ta, ra = np.nonzero(st.th_r == a)[0], np.nonzero(st.re_r == a)[0]
    tb, rb = np.nonzero(st.th_r == b)[0], np.nonzero(st.re_r == b)[0]
    m = len(rows)
    g_a, g_b = st.target[np.ix_(rows, ta)], st.target[np.ix_(rows, tb)]
    on_a, on_b = st.committed[np.ix_(rows, ta)], st.committed[np.ix_(rows, tb)]
    used_a, used_b = st.re_used[np.ix_(rows, ra)], st.re_used[np.ix_(rows, rb)]
    cost_a, cost_b = st.cost[np.ix_(rows, ta)], st.cost[np.ix_(rows, tb)]
    cap_b = st.cap[np.ix_(rows, tb)]
    floor = np.where(on_a, np.minimum(g_a, np.minimum(st.min_gen[ta], st.cap[np.ix_(rows, ta)])), 0)
    floor_kept = np.where(st.must_run[ta], floor, 0.0)
    down_room = np.clip(np.hstack([g_a - floor, floor - floor_kept, used_a]), 0.0, None)
    down_prio = np.hstack(
        [-cost_a, 1e3 - cost_a, np.broadcast_to(2e3 - st.offer[ra], (m, ra.size))]
    )
    up_room = np.clip(np.hstack([
        st.re_avail[np.ix_(rows, rb)] - used_b,
        np.where(on_b, cap_b - g_b, 0.0),
        np.where(~on_b & st.quick[tb], cap_b, 0.0),
    ]), 0.0, None)  # fmt: skip
    up_prio = np.hstack([np.broadcast_to(st.offer[rb], (m, rb.size)), cost_b, cost_b + 1e4])
    moved = np.minimum(need, np.minimum(down_room.sum(1), up_room.sum(1)))
    down = fill_in_order(down_room, np.argsort(down_prio, axis=1, kind="stable"), moved)
    up = fill_in_order(up_room, np.argsort(up_prio, axis=1, kind="stable"), moved)
    n_a, n_rb, n_b = ta.size, rb.size, tb.size
    g_a -= down[:, :n_a] + down[:, n_a : 2 * n_a]
    started = up[:, n_rb + n_b :]
    g_b += up[:, n_rb : n_rb + n_b] + started
    st.target[np.ix_(rows, ta)] = np.clip(g_a, 0.0, None)
    st.target[np.ix_(rows, tb)] = g_b
    st.committed[np.ix_(rows, tb)] = on_b | (started > 0)
    st.re_used[np.ix_(rows, ra)] = used_a - down[:, 2 * n_a :]
    st.re_used[np.ix_(rows, rb)] = used_b + up[:, :n_rb]
    return moved


def _zones(binding: np.ndarray, fr, to, n_reg: int) -> np.ndarray:
    """Price-zone label per (time, region): regions joined by non-binding interfaces."""
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    n = len(binding)
    if binding.shape[1] == 0:
        return np.zeros((n, n_reg), dtype=int)
    codes = binding.astype(np.int64) @ (1 << np.arange(binding.shape[1], dtype=np.int64))
    labels = np.zeros((n, n_reg), dtype=int)
    for code in np.unique(codes):
        open_ = ~((code >> np.arange(len(fr))) & 1).astype(bool)
        graph = coo_matrix((np.ones(open_.sum()), (fr[open_], to[open_])), shape=(n_reg, n_reg))
        labels[codes == code] = connected_components(graph, directed=False)[1]
    return labels


#: marginal candidates in order of precedence, and the sign of their score (cost = sign * score):
#: the lowest-offer curtailed plant, the dearest partly loaded unit, the cheapest online unit
#: with headroom (the next to move), the dearest unit online (all at full output: scarcity)
_KINDS = (-1.0, 1.0, -1.0, 1.0)


def _pick(score, best, same, kinds: int = len(_KINDS)) -> tuple[np.ndarray, ...]:
    """Best candidate over the regions marked in ``same[t, region, mate]``, by kind in the
    order of :data:`_KINDS` (the first ``kinds`` of them)."""
    n, n_reg = score.shape[:2]
    mc = np.zeros((n, n_reg))
    unit = np.full((n, n_reg), -1)
    decided = np.zeros((n, n_reg), dtype=bool)
    rows = np.arange(n)[:, None]
    for k, sign in enumerate(_KINDS[:kinds]):
        values = np.where(same, score[:, None, :, k], -np.inf)
        mate = np.argmax(values, axis=2)
        top = np.take_along_axis(values, mate[..., None], axis=2)[..., 0]
        use = ~decided & np.isfinite(top)
        mc = np.where(use, sign * top, mc)
        unit = np.where(use, best[rows, mate, k], unit)
        decided |= use
    return mc, unit, decided


def marginal_units(
    st: DispatchState, gen: np.ndarray, binding: np.ndarray, fr, to, n_reg: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The marginal unit of every region and interval.

    Parameters
    ----------
    st : DispatchState
        The dispatch of a block of rows (targets, commitment, renewables, costs, offers).
    gen : numpy.ndarray
        (time, unit) thermal output after ramp limits [MW].
    binding : numpy.ndarray
        (time, interface) bool.
    fr, to : numpy.ndarray
        End regions of the interfaces.
    n_reg : int

    Returns
    -------
    cost : numpy.ndarray
        (time, region) marginal cost of the marginal unit [$/MWh] (a plant's offer if curtailed).
    unit : numpy.ndarray
        (time, region) index into thermal units then renewable plants (-1: none).
    loading : numpy.ndarray
        (time, region) position of the unit between minimum and capacity, or delivered /
        available for a curtailed plant [1].
    """
    n, n_th = gen.shape
    min_on = np.minimum(st.min_gen, st.cap)
    partial = (gen > min_on + 0.5) & (gen < st.cap - 0.5) & (gen >= st.target - 0.5)
    curtailed = st.re_avail - st.re_used > 0.5
    score = np.full((n, n_reg, len(_KINDS)), -np.inf)
    best = np.full((n, n_reg, len(_KINDS)), -1)
    room = (gen > 0.5) & (gen < st.cap - 0.5)
    kinds = (
        (st.re_r, np.where(curtailed, -st.offer, -np.inf), n_th),
        (st.th_r, np.where(partial, st.cost, -np.inf), 0),
        (st.th_r, np.where(room, -st.cost, -np.inf), 0),
        (st.th_r, np.where(gen > 0.5, st.cost, -np.inf), 0),
    )
    for k, (regions, values, offset) in enumerate(kinds):
        bounds = np.searchsorted(regions, np.arange(n_reg + 1))  # units sorted by region
        for r in range(n_reg):
            lo, hi = bounds[r], bounds[r + 1]
            if hi > lo:
                arg = np.argmax(values[:, lo:hi], axis=1)
                score[:, r, k] = values[np.arange(n), lo + arg]
                best[:, r, k] = lo + arg + offset
    zone = _zones(binding, fr, to, n_reg)
    mc, unit, _ = _pick(score, best, zone[:, :, None] == zone[:, None, :])
    # a binding interface in a meshed network separates every region: its own unit first
    alone = np.broadcast_to(np.eye(n_reg, dtype=bool), (n, n_reg, n_reg))
    own_mc, own_unit, own = _pick(score, best, alone)
    use_own = own & binding.any(1)[:, None]
    mc, unit = np.where(use_own, own_mc, mc), np.where(use_own, own_unit, unit)
    th_unit = np.clip(unit, 0, n_th - 1)
    re_unit = np.clip(unit - n_th, 0, max(st.re_avail.shape[1] - 1, 0))
    g_m = np.take_along_axis(gen, th_unit, axis=1)
    lo, hi = (
        np.take_along_axis(min_on, th_unit, axis=1),
        np.take_along_axis(st.cap, th_unit, axis=1),
    )
    loading = np.clip((g_m - lo) / np.maximum(hi - lo, 1e-9), 0.0, 1.0)
    if st.re_avail.shape[1]:
        used = np.take_along_axis(st.re_used, re_unit, axis=1)
        avail = np.take_along_axis(st.re_avail, re_unit, axis=1)
        loading = np.where(unit >= n_th, used / np.maximum(avail, 1e-9), loading)
    return mc, unit, np.where(unit < 0, np.nan, loading)
