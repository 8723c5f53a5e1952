"""Headline tiles: current load, today's forecast peak, real-time price, reserves, frequency.

Each tile is one small aggregate query in the warehouse (Ibis, portable to PostgreSQL), taken at
the data's latest time (the "now" of the warehouse: a demo lakehouse ends in the past). A tile
whose table is missing says which command fills it instead of showing a number. The reserves
tile also carries a colour state against ERCOT's emergency levels (:func:`reserve_state`).
"""

from __future__ import annotations

import html
from dataclasses import dataclass

import ibis
import pandas as pd

from workbench.apps.charts import LOCAL_TZ
from workbench.apps.data import Reader, utc

#: The tables the tiles read (a change in any re-runs them).
TILE_TABLES = (
    "silver.system_load", "gold.fact_load", "gold.load_forecasts", "gold.fact_market_prices",
    "silver.pmu_validated", "silver.system_reserves", "gold.fact_system_reserves",
)  # fmt: skip

#: ERCOT's levels of physical responsive capability [MW] (Watch, EEA 1, 2, 3), from its
#: emergency procedures: below each, the operator appeals for conservation, then declares the
#: Energy Emergency Alert levels (EEA 3 sheds load).
ERCOT_RESERVE_LEVELS_MW = {"watch": 3000.0, "eea1": 2500.0, "eea2": 2000.0, "eea3": 1500.0}
#: ERCOT's peak load [MW] (record about 85 GW, REALISM.md) and the synthetic grid's design peak
#: (about 76 GW with its five regions, :mod:`workbench.sim.regions`): the levels scale by their
#: ratio, as the reserves an operator needs scale with the system it balances.
ERCOT_PEAK_MW, GRID_PEAK_MW = 85_000.0, 76_000.0
#: The levels on this grid [MW], rounded to 10 MW (about 2,680 / 2,240 / 1,790 / 1,340).
RESERVE_LEVELS_MW = {
    state: round(mw * GRID_PEAK_MW / ERCOT_PEAK_MW, -1)
    for state, mw in ERCOT_RESERVE_LEVELS_MW.items()
}
RESERVE_STATE_TEXT = {
    "normal": "normal",
    "watch": "watch: conservation appeal",
    "eea1": "EEA 1: all resources in use",
    "eea2": "EEA 2: load management",
    "eea3": "EEA 3: load shed",
}


@dataclass(frozen=True)
class Tile:
    """One headline number: ``value`` in ``unit`` as of ``as_of`` (``None``: see ``detail``)."""

    key: str
    label: str
    value: float | None
    unit: str
    detail: str
    as_of: pd.Timestamp | None = None
    decimals: int = 0
    state: str | None = None  # a colour state (reserves: normal, watch, eea1, eea2, eea3)


def _latest(t: ibis.Table, column: str) -> pd.Timestamp | None:
    got = t.aggregate(m=t[column].max()).to_pandas()["m"].iloc[0]
    return None if pd.isna(got) else utc(got)


def current_load(r: Reader) -> Tile:
    """System load [MW]: the sum over regions at the latest 5-min (or hourly) interval."""
    name, column = "silver.system_load", "load_mw"
    if not r.exists(name):
        name, column = "gold.fact_load", "actual_load_mw"
    t = r.table(name)
    if t is None:
        return Tile("load", "Current load", None, "MW", "no load yet: run `workbench build`")
    t = t.filter(t[column].notnull())
    last = _latest(t, "timestamp")
    if last is None:
        return Tile("load", "Current load", None, "MW", f"{name} is empty")
    now = t.filter(t.timestamp == last.to_pydatetime())
    got = now.aggregate(mw=now[column].sum(), n=now.count()).to_pandas().iloc[0]
    detail = f"sum of {int(got['n'])} regions ({name})"
    return Tile("load", "Current load", float(got["mw"]), "MW", detail, last)


def forecast_peak(r: Reader, now: pd.Timestamp | None, tz: str = LOCAL_TZ) -> Tile:
    """Peak of the system forecast [MW] over the local day of ``now``: per target hour the
    median of the latest run, summed over regions, then the day's maximum."""
    label = "Today's forecast peak"
    t = r.table("gold.load_forecasts")
    if t is None or now is None:
        return Tile(
            "peak", label, None, "MW", "no load forecasts yet: `workbench jobs run day_ahead_load`"
        )
    day = now.tz_convert(tz).normalize()
    lo, hi = day.tz_convert("UTC"), (day + pd.Timedelta(days=1)).tz_convert("UTC")
    t = t.filter(
        (t.quantile == 0.5)
        & (t.timestamp >= lo.to_pydatetime())
        & (t.timestamp < hi.to_pydatetime())
    )
    rank = ibis.row_number().over(
        group_by=[t.region_id, t.timestamp], order_by=ibis.desc(t.issue_time)
    )
    latest = t.mutate(_r=rank).filter(lambda x: x._r == 0)
    per_hour = latest.group_by("timestamp").aggregate(mw=latest.load_mw.sum())
    got = per_hour.order_by(ibis.desc("mw")).limit(1).to_pandas()
    if got.empty:
        return Tile("peak", label, None, "MW", f"no forecast for {day:%Y-%m-%d} yet")
    at = utc(got["timestamp"].iloc[0])
    detail = f"at {at.tz_convert(tz):%H:%M %Z} on {day:%d %b}, latest runs"
    return Tile("peak", label, float(got["mw"].iloc[0]), "MW", detail, at)


def realtime_price(r: Reader) -> Tile:
    """Real-time LMP [$/MWh]: the mean over nodes at the latest RT hour."""
    t = r.table("gold.fact_market_prices")
    if t is None:
        return Tile("price", "Real-time price", None, "$/MWh", "no prices yet: `workbench build`")
    t = t.filter((t.market_type == "RT") & t.lmp_price.notnull())
    last = _latest(t, "timestamp")
    if last is None:
        return Tile("price", "Real-time price", None, "$/MWh", "no RT prices")
    now = t.filter(t.timestamp == last.to_pydatetime())
    got = now.aggregate(p=now.lmp_price.mean(), n=now.count()).to_pandas().iloc[0]
    detail = f"mean LMP of {int(got['n'])} nodes"
    return Tile("price", "Real-time price", float(got["p"]), "$/MWh", detail, last, 2)


def reserve_state(mw: float) -> str:
    """The colour state of ``mw`` responsive reserves [MW]: the lowest level it is below.

    Levels (:data:`RESERVE_LEVELS_MW`) are ERCOT's 3,000 (Watch) and 2,500 / 2,000 / 1,500 MW
    (EEA 1 / 2 / 3) of physical responsive capability, scaled to this grid by the ratio of its
    design peak to ERCOT's (76 / 85 GW): ERCOT sets them near its largest credible contingency
    (2,750 MW, two nuclear units), which grows with the size of the system. On the synthetic
    grid the responsive reserves are about 10-35 % of demand, lowest at the evening net-load
    peak, and fall to a few GW only when the market's ORDC adder is already large.
    """
    for state in ("eea3", "eea2", "eea1", "watch"):
        if mw < RESERVE_LEVELS_MW[state]:
            return state
    return "normal"


def reserves(r: Reader) -> Tile:
    """System responsive reserves [MW] at the latest 5-min interval (hourly mean in gold
    without silver): the headroom of what is online, like ERCOT's physical responsive
    capability, with its share of demand and a colour state (:func:`reserve_state`)."""
    label = "Reserves"
    name, column = "silver.system_reserves", "responsive_reserve_mw"
    if not r.exists(name):
        name = "gold.fact_system_reserves"
    t = r.table(name)
    if t is None:
        return Tile(
            "reserves",
            label,
            None,
            "MW",
            "no reserves yet: `workbench demo build`, `workbench build`",
        )
    t = t.filter(t[column].notnull())
    last = _latest(t, "timestamp")
    if last is None:
        return Tile("reserves", label, None, "MW", f"{name} is empty")
    now = t.filter(t.timestamp == last.to_pydatetime())
    got = now.aggregate(mw=now[column].max(), demand=now.demand_mw.max()).to_pandas().iloc[0]
    mw, state = float(got["mw"]), reserve_state(float(got["mw"]))
    share = f"{mw / got['demand']:.1%} of demand; " if got["demand"] > 0 else ""
    text = RESERVE_STATE_TEXT[state]
    if state == "normal":
        text += f" (watch below {RESERVE_LEVELS_MW['watch']:,.0f} MW)"
    detail = f"responsive, {share}{text}"
    return Tile("reserves", label, mw, "MW", detail, last, state=state)


def frequency(r: Reader) -> Tile:
    """Lowest system frequency [Hz] over the PMUs in the latest minute of the PMU cube."""
    t = r.table("silver.pmu_validated")
    if t is None:
        return Tile("frequency", "Frequency", None, "Hz", "no PMU data: `workbench build`")
    t = t.filter(t.min_frequency_hz.notnull())
    last = _latest(t, "minute")
    if last is None:
        return Tile("frequency", "Frequency", None, "Hz", "no PMU minutes")
    now = t.filter(t.minute == last.to_pydatetime())
    got = now.aggregate(
        lo=now.min_frequency_hz.min(), hi=now.max_frequency_hz.max(), n=now.count()
    ).to_pandas()
    row = got.iloc[0]
    detail = f"lowest of {int(row['n'])} PMUs (highest {row['hi']:.3f} Hz)"
    return Tile("frequency", "Frequency", float(row["lo"]), "Hz", detail, last, 3)


def headline(r: Reader, tz: str = LOCAL_TZ) -> list[Tile]:
    """The headline tiles, in reading order."""
    load = current_load(r)
    return [load, forecast_peak(r, load.as_of, tz), realtime_price(r), reserves(r), frequency(r)]


def tiles_html(tiles: list[Tile], tz: str = LOCAL_TZ) -> str:
    """The tiles as HTML cards; each carries its raw number in ``data-value`` for the tests."""
    cards = []
    for tile in tiles:
        if tile.value is None:
            number, raw = "—", ""
        else:
            number = f"{tile.value:,.{tile.decimals}f} {tile.unit}"
            raw = repr(tile.value)
        when = "" if tile.as_of is None else f"{tile.as_of.tz_convert(tz):%d %b %H:%M %Z}"
        state = "" if tile.state is None else f" wb-tile-{tile.state}"
        cards.append(
            f'<div class="wb-tile{state}" data-key="{tile.key}" data-value="{raw}"'
            f' data-state="{tile.state or ""}">'
            f'<div class="wb-tile-label">{html.escape(tile.label)}</div>'
            f'<div class="wb-tile-value">{html.escape(number)}</div>'
            f'<div class="wb-tile-detail">{html.escape(tile.detail)}'
            f"{'<br>as of ' + when if when else ''}</div></div>"
        )
    return f'<div class="wb-tiles">{"".join(cards)}</div>'


TILE_CSS = """
.wb-tiles {display:flex; gap:12px; flex-wrap:wrap; margin:4px 0 8px 0}
.wb-tile {border:1px solid #d0d7de; border-radius:6px; padding:8px 14px; min-width:200px;
          background:#f8fafc}
.wb-tile-label {font-size:0.85em; color:#555}
.wb-tile-value {font-size:1.6em; font-weight:600}
.wb-tile-detail {font-size:0.75em; color:#666}
.wb-tile-normal {border-left:6px solid #2e7d32}
.wb-tile-watch {border-left:6px solid #f9a825; background:#fffbe6}
.wb-tile-eea1 {border-left:6px solid #ef6c00; background:#fff3e0}
.wb-tile-eea2 {border-left:6px solid #d84315; background:#fbe9e7}
.wb-tile-eea3 {border-left:6px solid #b71c1c; background:#ffebee}
"""
