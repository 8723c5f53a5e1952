"""Headline tiles: current load, today's forecast peak, real-time price, system frequency.

Each tile is one small aggregate query in the warehouse (Ibis, portable to PostgreSQL), taken at
the data's latest time (the "now" of the warehouse: a demo lakehouse ends in the past). A tile
whose table is missing says which command fills it instead of showing a number. The warehouse
holds no reserve quantities (only ancillary prices), so there is no reserves tile.
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
    "silver.pmu_validated",
)  # fmt: skip


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
    return [load, forecast_peak(r, load.as_of, tz), realtime_price(r), frequency(r)]


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
        cards.append(
            f'<div class="wb-tile" data-key="{tile.key}" data-value="{raw}">'
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
"""
