"""bronze → silver: deduplicated, range-checked, typed tables (portable Ibis expressions).

Each transform takes bronze Ibis tables and returns a :class:`Cleaned` pair: the rows that pass
into silver and the rows quarantined with a reason. Nothing is silently dropped: every bronze row
ends in one of the two (duplicates collapse to one row, counted by the build).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import ibis.expr.types as ir


@dataclass(frozen=True)
class Cleaned:
    """Rows for silver, and the rows set aside with a ``reason`` column."""

    clean: ir.Table
    quarantined: ir.Table


def latest_per_key(t: ir.Table, key: list[str], order: list[str] | None = None) -> ir.Table:
    """One row per key: the last by ``order`` (descending), ties broken by every column."""
    import ibis

    order_by = [t[c].desc() for c in (order or [])] + [t[c] for c in t.columns if c not in key]
    rank = ibis.row_number().over(group_by=[t[k] for k in key], order_by=order_by)
    return t.mutate(_rank=rank).filter(lambda x: x._rank == 0).drop("_rank")


def split_on(t: ir.Table, problems: list[tuple[ir.BooleanValue, str]]) -> Cleaned:
    """Quarantine the rows matching any problem predicate (a NULL predicate is no problem:
    say ``col.isnull()`` explicitly where a value is required)."""
    import ibis

    if not problems:
        return Cleaned(t, t.filter(ibis.literal(False)).mutate(reason=ibis.literal("")))
    reason = ibis.cases(*[(pred.fill_null(False), text) for pred, text in problems], else_=None)
    marked = t.mutate(reason=reason)
    clean = marked.filter(marked.reason.isnull()).drop("reason")
    return Cleaned(clean, marked.filter(marked.reason.notnull()))


def load_5min(raw: ir.Table) -> Cleaned:
    """``bronze.raw_load`` → ``silver.system_load``: one row per region and 5 minutes."""
    t = latest_per_key(raw, ["region_id", "timestamp"])
    return split_on(
        t, [(t.load_mw < 0, "negative load"), (t.load_mw > 200_000, "load above 200 GW")]
    )


def reserves_5min(raw: ir.Table) -> Cleaned:
    """``bronze.raw_system_reserves`` → ``silver.system_reserves``: one row per 5 minutes.

    ``reserve_mw`` may be negative (capacity ran out, load was shed); responsive reserves and
    demand may not.
    """
    t = latest_per_key(raw, ["timestamp"])
    return split_on(
        t,
        [
            (t.demand_mw.isnull() | t.responsive_reserve_mw.isnull(), "missing demand or reserves"),
            (~t.demand_mw.between(0, 200_000), "demand outside 0..200 GW"),
            (t.responsive_reserve_mw < 0, "negative responsive reserves"),
            (t.reserve_mw.abs() > 500_000, "reserves beyond ±500 GW"),
        ],
    )


def generation_5min(raw: ir.Table) -> Cleaned:
    """``bronze.raw_generation`` → ``silver.generation``."""
    t = latest_per_key(raw, ["asset_id", "timestamp"])
    return split_on(t, [(t.generation_mw.abs() > 10_000, "generation beyond ±10 GW for one asset")])


def weather_hourly(raw: ir.Table) -> Cleaned:
    """``bronze.raw_weather`` → ``silver.weather_hourly`` (observations only)."""
    t = latest_per_key(raw, ["location_id", "timestamp"])
    return split_on(t, _weather_problems(t))


def weather_forecast_hourly(raw: ir.Table) -> Cleaned:
    """``bronze.raw_weather_forecast`` → ``silver.weather_forecast_hourly``, with the lead time.

    Forecasts stay apart from observations: each row keeps its ``issue_time`` and gains
    ``lead_hours`` (valid time minus issue time), so models train on what was known.
    """
    t = latest_per_key(raw, ["location_id", "issue_time", "timestamp"])
    lead = (t.timestamp.epoch_seconds() - t.issue_time.epoch_seconds()) / 3600
    t = t.mutate(lead_hours=lead.cast("int32"))
    return split_on(
        t, [(t.lead_hours <= 0, "valid time not after issue time"), *_weather_problems(t)]
    )


def _weather_problems(t: ir.Table) -> list[tuple[ir.BooleanValue, str]]:
    return [
        (~t.temperature_f.between(-60, 135), "temperature outside -60..135 °F"),
        (~t.relative_humidity_pct.between(0, 100), "humidity outside 0..100 %"),
        (~t.cloud_cover_pct.between(0, 100), "cloud cover outside 0..100 %"),
        (t.wind_speed_100m_m_per_s < 0, "negative wind speed"),
        (~t.ghi_w_per_m2.between(0, 1500), "GHI outside 0..1500 W/m2"),
    ]


def market_prices(raw: ir.Table) -> Cleaned:
    """``bronze.raw_market`` → ``silver.market_prices``: components must add up to the LMP."""
    t = latest_per_key(raw, ["node_id", "market", "timestamp"])
    parts = t.energy_usd_per_mwh + t.congestion_usd_per_mwh + t.losses_usd_per_mwh
    return split_on(
        t,
        [
            (t.lmp_usd_per_mwh.isnull(), "missing LMP"),
            (~t.market.isin(["DA", "RT"]), "market is neither DA nor RT"),
            ((t.lmp_usd_per_mwh - parts).abs() > 0.01, "LMP differs from its components"),
            (~t.lmp_usd_per_mwh.between(-1000, 10_000), "LMP outside -1000..10000 $/MWh"),
        ],
    )


def grid_topology(raw: ir.Table) -> Cleaned:
    """``bronze.raw_topology`` → ``silver.grid_topology``."""
    t = latest_per_key(raw, ["element_id"])
    return split_on(
        t,
        [
            (~t.element_type.isin(["bus", "line", "interface"]), "unknown element type"),
            (t.limit_mw < 0, "negative limit"),
        ],
    )


def meter_readings(raw: ir.Table) -> Cleaned:
    """``bronze.meter_reads`` → ``silver.meter_readings``: one read per meter and quarter-hour.

    A read landed twice keeps the actual over the estimated one; timestamps stay UTC interval
    starts and ``date`` the local date (so a fall-back day holds 100 quarter-hours, a
    spring-forward day 92); energy outside 0..500 kWh per quarter-hour is quarantined.
    """
    import ibis

    rank = ibis.row_number().over(
        group_by=[raw.meter_id, raw.timestamp],
        order_by=[raw.is_estimated.asc(), raw.energy_kwh.desc()],
    )
    t = raw.mutate(_rank=rank).filter(lambda x: x._rank == 0).drop("_rank")
    t = t.mutate(date=t.date.cast("date"))
    return split_on(
        t,
        [
            (t.energy_kwh.isnull(), "missing energy"),
            (~t.energy_kwh.between(0, 500), "energy outside 0..500 kWh per quarter-hour"),
        ],
    )
