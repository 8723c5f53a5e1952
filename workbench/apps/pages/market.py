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
    """Mean LMP and its components [$/MWh] per node over the window, for the chosen market."""
    t = _prices(r, f)
    t = t.filter(t.market_type == f.market)
    aggs = {c: t[c].mean() for c in PRICE_COLUMNS}
    return t.group_by("node").aggregate(**aggs).order_by("node").to_pandas().round(3)


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
    return PageData(frames, summary)


def sections(data: PageData) -> list[charts.Section]:
    fr = data.frames
    out = []
    h = fr["heatmap"]
    fig = None
    if not h.empty:
        fig = charts.heatmap(
            "market-heatmap", "Price by node over time", h, y="node",
            value="price_usd_per_mwh", width_ms=h.attrs.get("cell_ms", 3.6e6),
            value_label="$/MWh",
        )  # fmt: skip
    out.append(charts.Section("market-heatmap", "Price by node", h, fig))
    c = fr["components"]
    fig = None
    if not c.empty:
        fig = charts.stacked_bars(
            "market-components", "Mean LMP components by node", c, x="node",
            columns=list(COMPONENTS), y_label="$/MWh",
        )  # fmt: skip
    out.append(charts.Section("market-components", "Energy, congestion and losses", c, fig))
    s = fr["spreads"]
    fig = None
    if not s.empty:
        fig = charts.time_lines(
            "market-spreads", "Day-ahead minus real-time LMP", s, group="node",
            y="spread_usd_per_mwh", y_label="DA − RT [$/MWh]",
        )  # fmt: skip
    out.append(charts.Section("market-spreads", "DA vs RT spreads", s, fig))
    out.append(charts.Section("market-spread_stats", "Spread statistics", fr["spread_stats"]))
    return out
