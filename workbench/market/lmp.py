"""LMP analytics: decomposition, congestion per interface, duration curves, DA/RT spreads.

Every function takes a frame of market prices in the ``silver.market_prices`` layout
(``timestamp``, ``node_id``, ``market`` DA/RT, ``lmp_usd_per_mwh``, ``energy_usd_per_mwh``,
``congestion_usd_per_mwh``, ``losses_usd_per_mwh``) or the ``gold.fact_market_prices`` one
(``node``, ``market_type`` DA/RT, ``lmp_price``, ``energy_component``, ``congestion``,
``losses``; its ``market`` is the ISO), which is renamed on the way in. Timestamps are interval
starts; naive ones are taken as UTC.

Hourly values: a real-time hour is the mean of its 5-minute intervals (labelled by the hour's
start); day-ahead prices are hourly already.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from workbench.core.errors import MissingColumnsError
from workbench.market.errors import MarketInputError

PRICE = "lmp_usd_per_mwh"
COMPONENTS = ("energy_usd_per_mwh", "congestion_usd_per_mwh", "losses_usd_per_mwh")
GOLD_NAMES = {
    "node": "node_id",
    "market_type": "market",
    "lmp_price": PRICE,
    "energy_component": "energy_usd_per_mwh",
    "congestion": "congestion_usd_per_mwh",
    "losses": "losses_usd_per_mwh",
}
#: Default tolerance of the component check: prices are published in cents [$/MWh].
COMPONENT_TOLERANCE = 0.011


def standard_prices(prices: pd.DataFrame, *, components: bool = True) -> pd.DataFrame:
    """The prices in the silver layout, UTC timestamps, sorted by node, market and time.

    Parameters
    ----------
    prices : pandas.DataFrame
        Silver or gold market price rows.
    components : bool
        Whether the three LMP components are required as well as the LMP.
    """
    if "market_type" in prices:  # gold: ``market`` is the ISO, ``market_type`` DA or RT
        prices = prices.drop(columns=["market"], errors="ignore")
    frame = prices.rename(columns={k: v for k, v in GOLD_NAMES.items() if k in prices})
    need = ["timestamp", "node_id", "market", PRICE, *(COMPONENTS if components else ())]
    missing = set(need) - set(frame.columns)
    if missing:
        raise MissingColumnsError("market prices", missing, frame.columns)
    frame = frame[[c for c in frame.columns if c in need]].copy()
    ts = pd.to_datetime(frame["timestamp"])
    frame["timestamp"] = ts.dt.tz_localize("UTC") if ts.dt.tz is None else ts.dt.tz_convert("UTC")
    markets = set(frame["market"].unique())
    if not markets <= {"DA", "RT"}:
        msg = f"expected markets 'DA' and/or 'RT'; found {sorted(map(str, markets))}"
        raise MarketInputError(msg)
    return frame.sort_values(["node_id", "market", "timestamp"], ignore_index=True)


def component_violations(
    prices: pd.DataFrame, tolerance_usd_per_mwh: float = COMPONENT_TOLERANCE
) -> pd.DataFrame:
    """Rows whose LMP differs from energy + congestion + losses by more than the tolerance.

    Returns
    -------
    pandas.DataFrame
        The offending rows with ``residual_usd_per_mwh`` (LMP minus the components' sum)
        [$/MWh]; rows with a missing price or component are reported too (residual NaN).
    """
    frame = standard_prices(prices)
    residual = frame[PRICE] - frame[list(COMPONENTS)].sum(axis=1, min_count=3)
    bad = ~(residual.abs() <= tolerance_usd_per_mwh)
    return frame.loc[bad].assign(residual_usd_per_mwh=residual[bad]).reset_index(drop=True)


def lmp_decomposition(
    prices: pd.DataFrame, tolerance_usd_per_mwh: float = COMPONENT_TOLERANCE
) -> pd.DataFrame:
    """Energy, congestion and losses by node and market: means, volatility, shares, checks.

    Parameters
    ----------
    prices : pandas.DataFrame
        Silver or gold market price rows.
    tolerance_usd_per_mwh : float
        Largest accepted ``|LMP - (energy + congestion + losses)|`` [$/MWh].

    Returns
    -------
    pandas.DataFrame
        One row per ``node_id`` and ``market``: ``intervals``; ``mean_*`` and ``std_*`` of the LMP
        and each component [$/MWh] (the standard deviation is the volatility);
        ``share_energy``, ``share_congestion``, ``share_losses`` [1]: each component's mean
        absolute value over the sum of the three (so a congestion discount counts as much as a
        premium, and the shares add up to 1); ``violations`` (rows failing the check) and
        ``max_abs_residual_usd_per_mwh``.
    """
    frame = standard_prices(prices)
    frame["residual"] = frame[PRICE] - frame[list(COMPONENTS)].sum(axis=1, min_count=3)
    frame["violation"] = ~(frame["residual"].abs() <= tolerance_usd_per_mwh)
    short = {PRICE: "lmp", **{c: c.split("_")[0] for c in COMPONENTS}}
    groups = frame.groupby(["node_id", "market"], sort=True)
    out = groups.size().rename("intervals").to_frame()
    for col, name in short.items():
        out[f"mean_{name}_usd_per_mwh"] = groups[col].mean()
        out[f"std_{name}_usd_per_mwh"] = groups[col].std(ddof=0)
    magnitude = frame[list(COMPONENTS)].abs().groupby([frame["node_id"], frame["market"]]).mean()
    total = magnitude.sum(axis=1).replace(0.0, np.nan)
    for col in COMPONENTS:
        out[f"share_{short[col]}"] = magnitude[col] / total
    out["violations"] = groups["violation"].sum().astype("int64")
    out["max_abs_residual_usd_per_mwh"] = groups["residual"].apply(lambda r: r.abs().max())
    return out.reset_index()


def hourly_prices(prices: pd.DataFrame, *, components: bool = False) -> pd.DataFrame:
    """Hourly prices per node and market: the mean of each hour's intervals."""
    frame = standard_prices(prices, components=components)
    frame["timestamp"] = frame["timestamp"].dt.floor("h")
    values = [PRICE, *(COMPONENTS if components else ())]
    return frame.groupby(["node_id", "market", "timestamp"], as_index=False)[values].mean()


def interface_hours(
    prices: pd.DataFrame,
    topology: pd.DataFrame,
    flows: pd.DataFrame | None = None,
    *,
    market: str = "RT",
    threshold_usd_per_mwh: float = 1.0,
    flow_share: float = 0.99,
) -> pd.DataFrame:
    """For every interface and hour: the price separation across it and whether it is congested.

    The data give two signals. *Price*: an interface joins two regions; its separation is the
    congestion component at the ``to`` region's bus minus that at the ``from`` region's bus
    (hourly means). The congestion component is used rather than the LMP so that the loss-factor
    difference between the regions does not count as congestion. The interface is *price
    congested* when ``|separation| > threshold``. In a meshed grid one binding interface
    separates prices across several interfaces, so the price signal over-counts; it is what
    the market data alone allow. *Flow* (when ``flows`` is given, ``bronze.raw_interchange``
    layout: timestamp, interface_id, flow_mw, limit_mw): the interface is *at its limit* in an hour
    when any interval's ``|flow_mw| >= flow_share * limit_mw``; this is the direct signal.

    Parameters
    ----------
    prices : pandas.DataFrame
        Silver or gold market prices (components required).
    topology : pandas.DataFrame
        ``silver.grid_topology`` rows: ``bus`` elements with their ``region_id`` and
        ``interface`` elements with ``from_id``/``to_id`` regions and ``limit_mw``.
    flows : pandas.DataFrame, optional
        Interface flows; without them ``at_limit`` is missing (NA).
    market : {"RT", "DA"}
        Which market's prices to separate.
    threshold_usd_per_mwh : float
        Separation above which an hour is price congested [$/MWh].
    flow_share : float
        Share of the limit that counts as at the limit [1].

    Returns
    -------
    pandas.DataFrame
        ``interface_id``, ``timestamp`` (hour start, UTC), ``separation_usd_per_mwh`` [$/MWh],
        ``price_congested`` (bool), ``max_loading`` (max |flow|/limit in the hour [1], NaN
        without flows), ``at_limit`` (boolean, NA without flows) and ``congested`` (price
        congested, and at the limit where flows are known).
    """
    need = {"element_id", "element_type", "region_id", "from_id", "to_id"}
    if need - set(topology.columns):
        raise MissingColumnsError("grid topology", need - set(topology.columns), topology.columns)
    buses = topology.loc[topology["element_type"] == "bus"]
    bus_of = dict(zip(buses["region_id"], buses["element_id"], strict=True))
    ifaces = topology.loc[topology["element_type"] == "interface"]
    if ifaces.empty:
        raise MarketInputError("expected interface elements in the topology; found none")
    hourly = hourly_prices(prices, components=True)
    hourly = hourly.loc[hourly["market"] == market]
    if hourly.empty:
        msg = f"expected {market} prices; found markets {sorted(prices['market'].unique())}"
        raise MarketInputError(msg)
    cong = hourly.pivot(index="timestamp", columns="node_id", values="congestion_usd_per_mwh")
    parts = []
    for row in ifaces.itertuples(index=False):
        sides = [bus_of.get(row.from_id), bus_of.get(row.to_id)]
        if any(s is None or s not in cong for s in sides):
            msg = (
                f"expected prices at the buses of interface {row.element_id} "
                f"({row.from_id} -> {row.to_id}); found buses {sorted(cong.columns)}"
            )
            raise MarketInputError(msg)
        sep = cong[sides[1]] - cong[sides[0]]
        parts.append(
            pd.DataFrame(
                {
                    "interface_id": row.element_id,
                    "timestamp": cong.index,
                    "separation_usd_per_mwh": sep.to_numpy(),
                }
            )
        )
    out = pd.concat(parts, ignore_index=True)
    out["price_congested"] = out["separation_usd_per_mwh"].abs() > threshold_usd_per_mwh
    if flows is not None:
        loading = _hourly_loading(flows)
        out = out.merge(loading, on=["interface_id", "timestamp"], how="left")
        at_limit = (out["max_loading"] >= flow_share).astype("boolean")
        out["at_limit"] = at_limit.mask(out["max_loading"].isna())
        out["congested"] = out["price_congested"] & out["at_limit"].fillna(False)
    else:
        out["max_loading"] = np.nan
        out["at_limit"] = pd.array([pd.NA] * len(out), dtype="boolean")
        out["congested"] = out["price_congested"]
    return out


def _hourly_loading(flows: pd.DataFrame) -> pd.DataFrame:
    need = {"timestamp", "interface_id", "flow_mw", "limit_mw"}
    if need - set(flows.columns):
        raise MissingColumnsError("interface flows", need - set(flows.columns), flows.columns)
    ts = pd.to_datetime(flows["timestamp"])
    ts = ts.dt.tz_localize("UTC") if ts.dt.tz is None else ts.dt.tz_convert("UTC")
    limit = flows["limit_mw"].where(flows["limit_mw"] > 0)
    loading = (flows["flow_mw"].abs() / limit).rename("max_loading")
    frame = pd.DataFrame({
        "interface_id": flows["interface_id"],
        "timestamp": ts.dt.floor("h"),
        "max_loading": loading,
    })  # fmt: skip
    return frame.groupby(["interface_id", "timestamp"], as_index=False)["max_loading"].max()


def congestion_hours(hours: pd.DataFrame) -> pd.DataFrame:
    """Congestion hours per interface from :func:`interface_hours`.

    Returns
    -------
    pandas.DataFrame
        ``interface_id``, ``hours``, ``price_congested_hours``, ``at_limit_hours`` (NA without
        flows), ``congested_hours``, ``congested_share`` [1], and
        ``mean_abs_separation_congested_usd_per_mwh`` [$/MWh] over the congested hours.
    """
    g = hours.groupby("interface_id", sort=True)
    out = g.size().rename("hours").to_frame()
    out["price_congested_hours"] = g["price_congested"].sum().astype("int64")
    out["at_limit_hours"] = g["at_limit"].sum(min_count=1).astype("Int64")
    out["congested_hours"] = g["congested"].sum().astype("int64")
    out["congested_share"] = out["congested_hours"] / out["hours"]
    sep = hours["separation_usd_per_mwh"].abs().where(hours["congested"])
    out["mean_abs_separation_congested_usd_per_mwh"] = sep.groupby(hours["interface_id"]).mean()
    return out.reset_index()


def price_duration_curve(
    prices: pd.DataFrame, *, hourly: bool = True, points: int | None = None
) -> pd.DataFrame:
    """Price duration curves: prices sorted high to low against the share of time.

    Parameters
    ----------
    prices : pandas.DataFrame
        Silver or gold market prices (only the LMP is needed).
    hourly : bool
        Average real time to hours first (so DA and RT curves are over the same hours).
    points : int, optional
        Return this many evenly spaced points per curve (0 % to 100 %) instead of every interval.

    Returns
    -------
    pandas.DataFrame
        ``node_id``, ``market``, ``percent_of_time`` [%] (the share of intervals priced at or
        above the value) and ``lmp_usd_per_mwh`` [$/MWh], per curve from high to low.
    """
    frame = hourly_prices(prices) if hourly else standard_prices(prices, components=False)
    parts = []
    for (node, market), group in frame.groupby(["node_id", "market"], sort=True):
        values = np.sort(group[PRICE].dropna().to_numpy())[::-1]
        n = len(values)
        if points is None:
            pct = 100.0 * np.arange(1, n + 1) / n
        else:
            pct = np.linspace(0.0, 100.0, points)
            values = np.quantile(values, 1.0 - pct / 100.0)
        parts.append(
            pd.DataFrame(
                {
                    "node_id": node,
                    "market": market,
                    "percent_of_time": pct,
                    PRICE: values,
                }
            )
        )
    return pd.concat(parts, ignore_index=True)


def dart_spreads(prices: pd.DataFrame, *, tz: str = "UTC") -> pd.DataFrame:
    """Hourly day-ahead and real-time prices side by side, and their DART spread.

    Returns
    -------
    pandas.DataFrame
        ``timestamp`` (hour start, UTC), ``node_id``, ``hour`` (hour of day in ``tz``),
        ``da_usd_per_mwh``, ``rt_usd_per_mwh`` (mean of the hour's RT intervals) and
        ``dart_usd_per_mwh`` = DA minus RT [$/MWh]; only hours with both prices.
    """
    hourly = hourly_prices(prices)
    wide = hourly.pivot_table(
        index=["timestamp", "node_id"], columns="market", values=PRICE, aggfunc="mean"
    )
    missing = {"DA", "RT"} - set(wide.columns)
    if missing:
        msg = f"expected both DA and RT prices; found no {sorted(missing)} rows"
        raise MarketInputError(msg)
    wide = wide.dropna(subset=["DA", "RT"]).reset_index()
    out = pd.DataFrame({
        "timestamp": wide["timestamp"],
        "node_id": wide["node_id"],
        "hour": wide["timestamp"].dt.tz_convert(tz).dt.hour.astype("int64"),
        "da_usd_per_mwh": wide["DA"],
        "rt_usd_per_mwh": wide["RT"],
    })  # fmt: skip
    out["dart_usd_per_mwh"] = out["da_usd_per_mwh"] - out["rt_usd_per_mwh"]
    return out.sort_values(["node_id", "timestamp"], ignore_index=True)


def spread_summary(dart: pd.DataFrame, by: Sequence[str] = ("node_id",)) -> pd.DataFrame:
    """Mean and spread of DART by node (and hour of day): from :func:`dart_spreads`.

    Returns
    -------
    pandas.DataFrame
        Per group: ``hours``, ``mean_dart_usd_per_mwh``, ``std_dart_usd_per_mwh``,
        ``mean_abs_dart_usd_per_mwh`` [$/MWh] and ``share_rt_above_da`` [1].
    """
    g = dart.groupby(list(by), sort=True)
    out = g.size().rename("hours").to_frame()
    out["mean_dart_usd_per_mwh"] = g["dart_usd_per_mwh"].mean()
    out["std_dart_usd_per_mwh"] = g["dart_usd_per_mwh"].std(ddof=0)
    out["mean_abs_dart_usd_per_mwh"] = (
        dart["dart_usd_per_mwh"].abs().groupby([dart[c] for c in by]).mean()
    )
    rt_above = (dart["rt_usd_per_mwh"] > dart["da_usd_per_mwh"]).astype(float)
    out["share_rt_above_da"] = rt_above.groupby([dart[c] for c in by]).mean()
    return out.reset_index()


def dart_distribution(
    dart: pd.DataFrame,
    quantiles: Sequence[float] = (0.01, 0.05, 0.25, 0.5, 0.75, 0.95, 0.99),
) -> pd.DataFrame:
    """Quantiles of the DART spread per node [$/MWh] (columns ``q01``, ``q05``, ... ``q99``)."""
    q = dart.groupby("node_id")["dart_usd_per_mwh"].quantile(list(quantiles)).unstack()
    q.columns = [f"q{round(100 * level):02d}" for level in q.columns]
    return q.reset_index()
