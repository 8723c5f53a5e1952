"""Market page: LMP by node as a heatmap (LMP or one of its energy / congestion / loss
components), the components by node, and day-ahead vs real-time spreads.

Prices come from ``gold.fact_market_prices`` (hourly, ``market_type`` DA or RT); each node's
``region`` there lets the region filter pick its nodes.
"""

from __future__ import annotations

from datetime import timedelta

import pandas as pd

from workbench.apps import charts
from workbench.apps.data import (
    Filters,
    NoDataError,
    PageData,
    Reader,
    bucket,
    choose_resolution,
    data_range,
    from_epoch,
    in_window,
    label,
    resolved_window,
)

TITLE = "Market"
PURPOSE = (
    "**Where and when is power expensive, and why?** LMP by node over time (red = expensive), "
    "each node's price split into energy, congestion and losses (a negative congestion is a "
    "discount, drawn below zero), and the day-ahead vs real-time spread."
)
FILTERS = ("region", "dates", "market")
TABLES = ("gold.fact_market_prices",)
NATIVE = timedelta(hours=1)
COMPONENTS = ("energy_component", "congestion", "losses")
PRICE_COLUMNS = ("lmp_price", *COMPONENTS)
#: Heatmap cells along time at most (nodes × cells stays drawable).
HEATMAP_POINTS = 400


def bounds(r: Reader) -> tuple[pd.Timestamp, pd.Timestamp] | None:
    return data_range(r, "gold.fact_market_prices", "timestamp")


def _prices(r: Reader, f: Filters):
    t = in_window(r.require("gold.fact_market_prices"), "timestamp", f)
    if f.regions:
        t = t.filter(t.region.isin(list(f.regions)))
    return t


def heatmap_frame(r: Reader, f: Filters, step: timedelta) -> pd.DataFrame:
    """Mean price [$/MWh] per node and bucket of the chosen market and component."""
    if f.component not in PRICE_COLUMNS:
        msg = f"expected a price column in {list(PRICE_COLUMNS)}; found {f.component!r}"
        raise NoDataError(msg)
    t = _prices(r, f)
    t = t.filter(t.market_type == f.market)
    t = t.mutate(b=bucket(t.timestamp, step))
    out = (
        t.group_by(["node", "b"])
        .aggregate(price_usd_per_mwh=t[f.component].mean())
        .order_by(["node", "b"])
        .to_pandas()
    )
    out.insert(1, "timestamp", from_epoch(out.pop("b")))
    return out


def components(r: Reader, f: Filters) -> pd.DataFrame:
    """Mean LMP and its components [$/MWh] per node over the window (n = ``hours``)."""
    t = _prices(r, f)
    t = t.filter(t.market_type == f.market)
    aggs = {c: t[c].mean() for c in PRICE_COLUMNS}
    aggs["hours"] = t.count()
    return t.group_by("node").aggregate(**aggs).order_by("node").to_pandas().round(3)


def price_forecast(r: Reader, f: Filters, step: timedelta) -> pd.DataFrame:
    """Median LMP forecast [$/MWh] of the latest run per node and target, per display bucket."""
    import ibis

    cols = ["node", "timestamp", "forecast_usd_per_mwh"]
    t = r.table("gold.price_forecasts")
    if t is None:
        return pd.DataFrame(columns=cols)
    t = in_window(t, "timestamp", f)
    t = t.filter((t.quantile == 0.5) & (t.market == f.market))
    rank = ibis.row_number().over(
        group_by=[t.node_id, t.timestamp], order_by=ibis.desc(t.issue_time)
    )
    t = t.mutate(_r=rank).filter(lambda x: x._r == 0)
    t = t.mutate(b=bucket(t.timestamp, step))
    out = (
        t.group_by(["node_id", "b"])
        .aggregate(forecast_usd_per_mwh=t.lmp_price.mean())
        .order_by(["node_id", "b"])
        .to_pandas()
        .rename(columns={"node_id": "node"})
    )
    out.insert(1, "timestamp", from_epoch(out.pop("b")))
    return out[cols]


def spreads(r: Reader, f: Filters, step: timedelta) -> pd.DataFrame:
    """Mean DA − RT LMP spread [$/MWh] per node and bucket (hours with both prices)."""
    t = _prices(r, f)
    da = t.filter(t.market_type == "DA").select("node", "timestamp", da="lmp_price")
    rt = t.filter(t.market_type == "RT").select(n="node", ts="timestamp", rt="lmp_price")
    j = da.inner_join(rt, [da.node == rt.n, da.timestamp == rt.ts])
    j = j.mutate(spread=j.da - j.rt, b=bucket(j.timestamp, step))
    out = (
        j.group_by(["node", "b"])
        .aggregate(spread_usd_per_mwh=j.spread.mean(), hours=j.count())
        .order_by(["node", "b"])
        .to_pandas()
    )
    out.insert(1, "timestamp", from_epoch(out.pop("b")))
    return out


def spread_stats(spread: pd.DataFrame) -> pd.DataFrame:
    """Per node: mean, standard deviation and largest absolute DA − RT spread (pure)."""
    cols = ["node", "mean_spread", "std_spread", "max_abs_spread", "buckets"]
    if spread.empty:
        return pd.DataFrame(columns=cols)
    g = spread.groupby("node")["spread_usd_per_mwh"]
    out = pd.DataFrame(
        {
            "mean_spread": g.mean(),
            "std_spread": g.std(),
            "max_abs_spread": g.apply(lambda s: s.abs().max()),
            "buckets": g.size(),
        }
    ).reset_index()
    return out.round(3)[cols]


def query(r: Reader, f: Filters) -> PageData:
    b = bounds(r)
    if b is None:
        msg = "expected rows in gold.fact_market_prices; found none (build the lakehouse first)"
        raise NoDataError(msg)
    lo, hi = resolved_window(f, b, NATIVE)
    w = f.with_(start=lo, end=hi)
    cell = choose_resolution(lo, hi, NATIVE, max_points=HEATMAP_POINTS)
    step = choose_resolution(lo, hi, NATIVE)
    spread = spreads(r, w, step)
    frames = {
        "heatmap": heatmap_frame(r, w, cell),
        "components": components(r, w),
        "spreads": spread,
        "spread_stats": spread_stats(spread),
    }
    h = frames["heatmap"]
    summary = (
        f"{len(h)} heatmap cells ({h['node'].nunique()} nodes, {f.market} {f.component}) at "
        f"{label(cell)} resolution, {len(spread)} spread points at {label(step)}, "
        f"{lo:%Y-%m-%d %H:%M} to {hi:%Y-%m-%d %H:%M} UTC"
    )
    frames["heatmap"].attrs["cell_ms"] = cell.total_seconds() * 1000
    frames["heatmap"].attrs["component"] = f.component
    frames["forecast"] = price_forecast(r, w, step)
    notes = []
    if not r.exists("gold.price_forecasts"):
        notes.append(
            "No price forecasts yet: `workbench jobs run price_forecast` writes "
            "gold.price_forecasts."
        )
    return PageData(frames, summary, notes, f.tz)


def sections(data: PageData) -> list[charts.Section]:
    fr, tz = data.frames, data.tz
    out = []
    h = fr["heatmap"]
    fig = None
    if not h.empty:
        fig = charts.heatmap(
            "market-heatmap", "Price by node over time (blue = cheap, red = expensive)", h,
            y="node", value="price_usd_per_mwh", width_ms=h.attrs.get("cell_ms", 3.6e6),
            value_label="$/MWh", tz=tz,
            centre_zero=h.attrs.get("component") in ("congestion", "losses"),
        )  # fmt: skip
    out.append(charts.Section("market-heatmap", "Price by node", h, fig))
    c = fr["components"]
    fig = None
    n = int(c["hours"].sum()) if "hours" in c and not c.empty else 0
    heading = f"Mean LMP and its components by node (n = {n} node-hours)"
    if not c.empty:
        fig = charts.diverging_stack(
            "market-components", heading, c, x="node", columns=list(COMPONENTS),
            total="lmp_price", y_label="$/MWh",
        )  # fmt: skip
    out.append(charts.Section("market-components", "Energy, congestion and losses", c, fig))
    s = fr["spreads"]
    fig = None
    if not s.empty:
        fig = charts.time_lines(
            "market-spreads", "Day-ahead minus real-time LMP (mean per interval)", s,
            group="node", y="spread_usd_per_mwh", y_label="DA − RT [$/MWh]", unit="$/MWh", tz=tz,
        )  # fmt: skip
    out.append(charts.Section("market-spreads", "DA vs RT spreads", s, fig))
    fc = fr.get("forecast", pd.DataFrame())
    fig = None
    if not fc.empty:
        fig = charts.time_lines(
            "market-forecast", "Latest median price forecast by node", fc, group="node",
            y="forecast_usd_per_mwh", y_label="LMP forecast [$/MWh]", unit="$/MWh", tz=tz,
            dashed=True,
        )  # fmt: skip
    msg = "no price forecasts for this window: `workbench jobs run price_forecast` writes them"
    out.append(charts.Section("market-forecast", "Price forecast", fc, fig, msg))
    stats = fr["spread_stats"].rename(
        columns={
            "mean_spread": "mean DA−RT [$/MWh]", "std_spread": "std [$/MWh]",
            "max_abs_spread": "largest |DA−RT| [$/MWh]", "buckets": "n (intervals)",
        }
    )  # fmt: skip
    out.append(
        charts.Section(
            "market-spread_stats", "Spread statistics per node", fr["spread_stats"], display=stats
        )
    )
    return out
