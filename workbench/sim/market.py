"""Energy and ancillary-service prices from the dispatch.

Real time (every 5 minutes, every pricing node):

- each region's marginal unit (:attr:`DispatchResult.marginal_cost`) offers along its curve:
  marginal cost times ``1 + 0.12 * loading`` plus a small non-negative noise, never below its
  marginal cost (a curtailed wind or solar plant offers its negative production-credit bid,
  and the offer is never below that bid: negative prices, down to about -30 $/MWh).
- *energy* and *congestion*: ``LMP_r = energy - sum_l mu_l * dir_l * PTDF[l, r]`` over the
  binding interfaces ``l`` (PTDFs with the load-weighted reference), the shadow prices
  ``mu_l >= 0`` and the energy fitted to the regions' offers by least squares for each pattern
  of binding interfaces. With no interface binding all regions share one marginal unit: energy
  is its offer, congestion exactly zero. When one binds, congestion is positive on the
  importing side and negative on the exporting side.
- *scarcity*: an operating-reserve demand curve (ORDC) adder ``(VOLL - energy) * LOLP(reserve)``
  on the energy component (reserves = available capacity - demand), driving it toward the
  5,000 $/MWh cap when outages, forecast errors or the evening net-load peak leave it short.
- *losses*: energy times the region's marginal loss factor (twice its average loss fraction minus
  the fixed part, lowered in exporting regions): a few % of energy.

Day ahead (hourly): what the market cleared the day before on forecasts
(:mod:`workbench.sim.dayahead`): the hourly real-time energy moved along the supply curve from
the realised to the forecast net load, the ORDC adder on the day-ahead reserves (which miss
the forecast errors and the outages that began after the market closed), hourly congestion
and losses. Real time = day ahead + the realised errors, so it is the more volatile.

Ancillary services (hourly): regulation up/down, spinning and non-spinning reserve prices
[$/MW-h] from the day-ahead energy price and scarcity; regulation down rises when prices are low.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.signal import lfilter
from scipy.special import ndtr

from workbench.core.errors import WorkbenchError
from workbench.sim.dayahead import day_ahead_view, forecast_errors
from workbench.sim.dispatch import LOSS_BASE, DispatchResult, to_long
from workbench.sim.zonal import ptdf_matrix

MARKET_COLUMNS = [
    "timestamp",
    "node_id",
    "market",
    "lmp_usd_per_mwh",
    "energy_usd_per_mwh",
    "congestion_usd_per_mwh",
    "losses_usd_per_mwh",
]
ANCILLARY_COLUMNS = ["timestamp", "product", "price_usd_per_mw"]
OFFER_CAP = 5000.0  # $/MWh, also the value of lost load of the ORDC
OFFER_SLOPE = 0.12  # offer rise from minimum to full load of the marginal unit [1]
MIN_CONTINGENCY = 0.04  # ORDC minimum contingency level, share of load [1]
RESERVE_SIGMA = 0.025  # ORDC reserve-error standard deviation, share of load [1]


def price_market(
    grid,
    dispatch_result: DispatchResult,
    load: pd.DataFrame,
    rng: np.random.Generator,
    *,
    errors: pd.DataFrame | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Real-time and day-ahead LMPs per node, and hourly ancillary-service prices.

    Parameters
    ----------
    grid : workbench.sim.regions.Grid
        Regions, topology (buses = pricing nodes, interfaces).
    dispatch_result : DispatchResult
        Output of :func:`workbench.sim.dispatch.dispatch` on the same ``load``.
    load : pandas.DataFrame
        ``bronze.raw_load`` rows (timestamp, region_id, load_mw [MW]).
    rng : numpy.random.Generator
        Source of offer, day-ahead forecast and ancillary noise.
    errors : pandas.DataFrame, optional
        Hourly day-ahead forecast errors (actual minus forecast) ``load_error_mw``,
        ``wind_error_mw``, ``solar_error_mw`` [MW] indexed by hour; drawn by
        :func:`workbench.sim.dayahead.forecast_errors` when not given (zeros: the day-ahead
        market foresees load, wind and solar; outages it did not know of still surprise it).

    Returns
    -------
    market : pandas.DataFrame
        ``bronze.raw_market`` rows: RT every 5 minutes and DA hourly for every node, prices in
        [$/MWh], ``lmp = energy + congestion + losses``.
    ancillary : pandas.DataFrame
        ``bronze.raw_ancillary`` rows: hourly ``price_usd_per_mw`` [$/MW-h] for products regup,
        regdown, spin, nonspin.
    """
    r_offer, r_da, r_as = rng.spawn(3)
    regions = grid.regions["region_id"].tolist()
    res = dispatch_result
    mc = _wide(res.marginal_cost, "region_id", "marginal_cost_usd_per_mwh", regions)
    index = mc.index
    loading = _wide(res.marginal_cost, "region_id", "marginal_loading", regions).to_numpy()
    load_mw = _wide(load, "region_id", "load_mw", regions).reindex(index).to_numpy()
    losses = _wide(res.losses_mw, "region_id", "losses_mw", regions).to_numpy()
    ptdf = ptdf_matrix(grid)
    iface = ptdf.index.tolist()
    binding = _wide(res.binding, "interface_id", "binding", iface).to_numpy(dtype=bool)
    direction = _wide(res.binding, "interface_id", "direction", iface).to_numpy(dtype=float)
    flow = _wide(res.interchange, "interface_id", "flow_mw", iface).to_numpy()
    system = res.system.reindex(index)
    n = len(index)

    # offers along the marginal unit's curve: never below its marginal cost
    cost = mc.to_numpy()
    noise = 0.015 * np.abs(_ar1(r_offer, n, 1, phi=0.9))
    markup = OFFER_SLOPE * np.nan_to_num(loading, nan=0.5) + noise
    offer = np.where(cost >= 0, cost * (1.0 + markup), cost * (1.0 - np.minimum(markup, 0.5)))
    # energy and congestion: a fit of the regions' offers by shadow prices of binding interfaces
    p = ptdf.to_numpy()
    topo = grid.topology.set_index("element_id")
    fr = topo.loc[iface, "from_id"].map({r: i for i, r in enumerate(regions)}).to_numpy(int)
    to = topo.loc[iface, "to_id"].map({r: i for i, r in enumerate(regions)}).to_numpy(int)
    share = np.nanmean(load_mw / load_mw.sum(1, keepdims=True), axis=0)
    energy, congestion = _shadow_prices(
        offer, binding * np.sign(direction), p - (p @ share)[:, None]
    )

    # scarcity: ORDC adder on reserves (available capacity minus demand)
    total_load = load_mw.sum(1)
    adder = ordc_adder(system["reserve_mw"].to_numpy(), total_load, energy)
    energy_rt = np.minimum(energy + adder, OFFER_CAP)

    # losses: marginal loss factor per region
    exports = _exports(flow, fr, to, len(regions))
    loss_share = losses / np.maximum(load_mw, 1.0)
    mlf = 2.0 * loss_share - LOSS_BASE - 0.03 * exports / (load_mw + np.abs(exports) + 1.0)
    mlf = np.clip(mlf, -0.03, 0.06)

    nodes = grid.topology.loc[grid.topology["element_type"] == "bus", ["element_id", "region_id"]]
    node_region = nodes["region_id"].map({r: i for i, r in enumerate(regions)}).to_numpy(int)
    rt = _market_rows(index, nodes["element_id"].tolist(), node_region, "RT",
                      energy_rt, congestion, mlf)  # fmt: skip
    da = _day_ahead(index, system, energy, congestion, mlf, nodes, node_region, r_da,
                    errors)  # fmt: skip
    # key order: node, market (DA before RT), timestamp; both frames are node-major already
    k = len(node_region)
    rows = np.concatenate([
        np.concatenate([len(rt) + np.arange(j * len(da) // k, (j + 1) * len(da) // k),
                        np.arange(j * n, (j + 1) * n)])
        for j in range(k)
    ])  # fmt: skip
    market = pd.concat([rt, da], ignore_index=True).take(rows).reset_index(drop=True)
    ancillary = _ancillary(da, adder, index, r_as)
    return market[MARKET_COLUMNS], ancillary


def _shadow_prices(
    offer: np.ndarray, state: np.ndarray, ptdf: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Energy price and congestion components that reproduce the regions' offers.

    ``LMP_r = energy - sum_l mu_l * dir_l * PTDF[l, r]`` with one shadow price ``mu_l >= 0`` per
    binding interface: a least-squares fit over regions, for each pattern of binding interfaces
    and directions. Without binding interfaces every region has the same offer and the fit is
    exact (congestion 0).

    Parameters
    ----------
    offer : numpy.ndarray
        (time, region) offer of each region's marginal unit [$/MWh].
    state : numpy.ndarray
        (time, interface) +1 / -1 binding in / against its direction, 0 not binding.
    ptdf : numpy.ndarray
        (interface, region) distribution factors with the load-weighted reference.

    Returns
    -------
    energy : numpy.ndarray
        (time,) [$/MWh].
    congestion : numpy.ndarray
        (time, region) [$/MWh], zero where no interface binds.
    """
    n, n_reg = offer.shape
    energy = offer.mean(1)
    congestion = np.zeros((n, n_reg))
    codes = (state.astype(np.int64) + 1) @ (3 ** np.arange(state.shape[1], dtype=np.int64))
    for code in np.unique(codes[state.any(1)]):
        rows = np.nonzero(codes == code)[0]
        signs = state[rows[0]]
        lines = np.nonzero(signs)[0]
        effect = -(signs[lines, None] * ptdf[lines])  # (line, region): congestion per unit mu
        design = np.column_stack([np.ones(n_reg), effect.T])
        fit = np.linalg.lstsq(design, offer[rows].T, rcond=None)[0]
        mu = np.clip(fit[1:], 0.0, None)  # (line, rows)
        cong = (effect.T @ mu).T  # (rows, region)
        congestion[rows] = cong
        energy[rows] = (offer[rows] - cong).mean(1)
    return energy, congestion


def _wide(frame: pd.DataFrame, key: str, value: str, columns: list[str]) -> pd.DataFrame:
    """``value`` by timestamp and ``key``; a reshape when ``frame`` is in the id-major layout
    of :func:`workbench.sim.dispatch.to_long` (one block of sorted timestamps per id)."""
    k = len(columns)
    if k and len(frame) % k == 0 and len(frame):
        n = len(frame) // k
        ids = frame[key].to_numpy()
        stamps = pd.DatetimeIndex(frame["timestamp"]).asi8
        first = stamps[:n]
        if (
            (ids == np.repeat(np.asarray(columns, dtype=object), n)).all()
            and (stamps.reshape(k, n) == first).all()
            and (np.diff(first) > 0).all()
        ):
            values = frame[value].to_numpy().reshape(k, n).T
            index = pd.DatetimeIndex(frame["timestamp"].iloc[:n], name="timestamp")
            return pd.DataFrame(values, index=index, columns=columns)
    wide = frame.pivot(index="timestamp", columns=key, values=value).sort_index()
    return wide.reindex(columns=columns)


def _ar1(rng: np.random.Generator, n: int, m: int, phi: float) -> np.ndarray:
    shocks = rng.standard_normal((n, m))
    shocks[0] /= np.sqrt(1 - phi**2)
    return lfilter([np.sqrt(1 - phi**2)], [1.0, -phi], shocks, axis=0)


def _exports(flow: np.ndarray, fr: np.ndarray, to: np.ndarray, n_reg: int) -> np.ndarray:
    """Net exports per region [MW] from interface flows."""
    incidence = np.zeros((flow.shape[1], n_reg))
    incidence[np.arange(len(fr)), fr] = 1.0
    incidence[np.arange(len(to)), to] -= 1.0
    return flow @ incidence


def _market_rows(index, nodes, node_region, market, energy, congestion, mlf) -> pd.DataFrame:
    """Rows of one market: components rounded to cents, LMP their sum."""
    k = len(nodes)
    e = np.round(np.repeat(energy[:, None], k, axis=1), 2)
    c = np.round(congestion[:, node_region], 2) + 0.0  # no negative zeros
    loss = np.round(energy[:, None] * mlf[:, node_region], 2)
    frame = to_long(index, "node_id", nodes, {
        "lmp_usd_per_mwh": np.round(e + c + loss, 2),
        "energy_usd_per_mwh": e,
        "congestion_usd_per_mwh": c,
        "losses_usd_per_mwh": loss,
    })  # fmt: skip
    frame.insert(2, "market", pd.array(np.full(len(frame), market), dtype="str"))
    return frame


def _hourly(x: np.ndarray, index: pd.DatetimeIndex) -> pd.DataFrame:
    return pd.DataFrame(x, index=index).groupby(index.floor("h")).mean()


def ordc_adder(
    reserve: np.ndarray, load: np.ndarray, energy: np.ndarray, *, floor_step: bool = True
) -> np.ndarray:
    """Operating-reserve demand curve adder [$/MWh]: ``(VOLL - energy) * LOLP``.

    ``LOLP = 1 - Phi((reserve - X) / sigma)`` with the minimum contingency level
    ``X = MIN_CONTINGENCY * load`` and ``sigma = RESERVE_SIGMA * load``; 1 at or below ``X``
    (with ``floor_step``).
    The adder never takes energy above :data:`OFFER_CAP` (the value of lost load, VOLL), and
    is exactly zero below 1 cent.

    Parameters
    ----------
    reserve : numpy.ndarray
        Available capacity minus demand [MW].
    load : numpy.ndarray
        System load [MW].
    energy : numpy.ndarray
        Energy price before the adder [$/MWh].
    floor_step : bool
        Real time: the loss-of-load probability is 1 at or below the minimum contingency level.
    """
    floor = MIN_CONTINGENCY * load
    lolp = 1.0 - ndtr((reserve - floor) / (RESERVE_SIGMA * np.maximum(load, 1.0)))
    if floor_step:
        lolp = np.where(reserve <= floor, 1.0, lolp)
    adder = np.clip((OFFER_CAP - np.maximum(energy, 0.0)) * lolp, 0.0, None)
    return np.where(adder < 0.01, 0.0, adder)


def _day_ahead(index, system, energy, congestion, mlf, nodes, node_region, rng, errors):
    """Hourly day-ahead prices: the real-time solution seen through the day-ahead forecasts
    (:mod:`workbench.sim.dayahead`), with the ORDC adder on the day-ahead reserves."""
    columns = ["load_mw", "losses_mw", "wind_mw", "solar_mw", "reserve_mw", "surprise_outage_mw",
               "gas_price_index"]  # fmt: skip
    hourly = _hourly(np.column_stack([system[columns].to_numpy(float), energy]), index)
    hours = pd.DatetimeIndex(hourly.index, name="timestamp")
    frame = pd.DataFrame(hourly.iloc[:, :-1].to_numpy(), index=hours, columns=columns)
    if errors is None:
        errors = forecast_errors(frame, rng)
    else:
        errors = _given_errors(errors, hours)
    reserve, base = day_ahead_view(frame, hourly.iloc[:, -1].to_numpy(), errors)
    # the day-ahead market prices its own reserves on the smooth curve: no step to the cap at
    # the minimum contingency level (that is real time's, when reserves are actually gone)
    adder = ordc_adder(reserve, frame["load_mw"].to_numpy(), base, floor_step=False)
    da_energy = np.minimum(base + adder, OFFER_CAP)
    da_congestion = _hourly(congestion, index).to_numpy()
    da_mlf = _hourly(mlf, index).to_numpy()
    return _market_rows(hours, nodes["element_id"].tolist(), node_region, "DA",
                        da_energy, da_congestion, da_mlf)  # fmt: skip


def _given_errors(errors: pd.DataFrame, hours: pd.DatetimeIndex) -> pd.DataFrame:
    columns = ["load_error_mw", "wind_error_mw", "solar_error_mw"]
    missing = [c for c in columns if c not in errors]
    if missing or not hours.isin(errors.index).all():
        msg = (
            f"expected forecast errors {columns} for every hour of the dispatch; found "
            f"columns {list(errors.columns)} over {len(errors)} hours; pass one row per hour"
        )
        raise WorkbenchError(msg)
    return errors.loc[hours, columns].astype(float)


def _ancillary(da: pd.DataFrame, adder: np.ndarray, index, rng) -> pd.DataFrame:
    """Hourly clearing prices of regup, regdown, spin, nonspin [$/MW-h]."""
    energy = da.groupby("timestamp")["energy_usd_per_mwh"].first()
    hours = pd.DatetimeIndex(energy.index, name="timestamp")
    scarcity = _hourly(adder, index)[0].reindex(hours).to_numpy() / 3.0
    lam = energy.to_numpy()
    up, down = np.clip(lam, 0.0, None), np.clip(-lam, 0.0, None)
    noise = np.exp(0.3 * _ar1(rng, len(hours), 4, phi=0.9) - 0.045)
    prices = np.column_stack([
        (4.0 + 0.15 * up) * noise[:, 0] + 0.9 * scarcity,
        (3.0 + 0.05 * up + 0.4 * down) * noise[:, 1],
        (3.0 + 0.12 * up) * noise[:, 2] + 0.9 * scarcity,
        (1.0 + 0.05 * up) * noise[:, 3] + 0.5 * scarcity,
    ])  # fmt: skip
    products = ["regup", "regdown", "spin", "nonspin"]
    frame = to_long(hours, "product", products, {"price_usd_per_mw": np.round(prices, 2)})
    return frame[ANCILLARY_COLUMNS]
