"""Feature views of the platform's feature store, computed with Ibis from silver.

The views are declared in ``data_catalog.yaml`` (``feature_views:`` — entity, sources, TTL,
availability lag, features with types and units); this module computes them. Every row carries
``event_time`` (the hour it describes, interval start, UTC) and ``available_at`` (when it could
first have been known: the end of the hour plus the availability lag). Point-in-time retrieval
(:mod:`workbench.features.store`) only returns rows whose ``available_at`` is at or before the
as-of time.
"""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import ibis.expr.types as ir


def _available_at(event_time: ir.TimestampValue, lag: timedelta) -> ir.TimestampValue:
    """The end of the hour plus the source's availability lag."""
    import ibis

    return event_time + ibis.interval(seconds=3600 + int(lag.total_seconds()))


def _lag(t: ir.Table, column: str, hours: int, entity: str) -> ir.Value:
    return t[column].lag(hours).over(group_by=t[entity], order_by=t.event_time)


def load_features(
    load: ir.Table, weather: ir.Table, lag: timedelta = timedelta(minutes=5)
) -> ir.Table:
    """``load_features`` per region and hour from silver load and weather.

    Lags count hours of the series (the hourly grid has no holes in silver); the 24 h rolling
    mean covers the current hour and the 23 before it.
    """
    import ibis

    hourly = load.group_by(region_id=load.region_id, event_time=load.timestamp.truncate("h")).agg(
        load_mw=load.load_mw.mean(), intervals=load.count()
    )
    w = weather.select(
        w_loc=weather.location_id,
        w_ts=weather.timestamp,
        temperature_f=weather.temperature_f,
        relative_humidity_pct=weather.relative_humidity_pct,
    )
    t = hourly.left_join(w, [hourly.region_id == w.w_loc, hourly.event_time == w.w_ts]).drop(
        "w_loc", "w_ts"
    )
    window = ibis.window(group_by=t.region_id, order_by=t.event_time, preceding=23, following=0)
    return t.select(
        "region_id",
        "event_time",
        available_at=t.event_time
        + ibis.interval(hours=1)
        + ibis.interval(seconds=int(lag.total_seconds())),
        load_mw=t.load_mw,
        load_1h_ago_mw=_lag(t, "load_mw", 1, "region_id"),
        load_24h_ago_mw=_lag(t, "load_mw", 24, "region_id"),
        load_7d_ago_mw=_lag(t, "load_mw", 168, "region_id"),
        load_rolling_24h_mean_mw=t.load_mw.mean().over(window),
        temperature_f=t.temperature_f,
        relative_humidity_pct=t.relative_humidity_pct,
        complete=t.intervals == 12,
    )


def generation_features(
    generation: ir.Table, assets: ir.Table, weather: ir.Table, lag: timedelta = timedelta(minutes=5)
) -> ir.Table:
    """``generation_features`` per asset and hour: output, capacity factor, site weather."""
    import ibis

    g = generation.group_by(
        asset_id=generation.asset_id, event_time=generation.timestamp.truncate("h")
    ).agg(
        generation_mw=generation.generation_mw.mean(),
        availability=generation.available.cast("float64").mean(),
    )
    a = assets.select(a_id=assets.asset_id, cap=assets.capacity_mw, a_region=assets.region)
    g = g.inner_join(a, g.asset_id == a.a_id)
    w = weather.select(
        w_loc=weather.location_id,
        w_ts=weather.timestamp,
        ghi_w_per_m2=weather.ghi_w_per_m2,
        wind_speed_100m_m_per_s=weather.wind_speed_100m_m_per_s,
        cloud_cover_pct=weather.cloud_cover_pct,
    )
    # plant sites have their own weather; other assets take their region's
    site = g.left_join(w, [g.asset_id == w.w_loc, g.event_time == w.w_ts])
    return site.select(
        "asset_id",
        "event_time",
        available_at=site.event_time
        + ibis.interval(hours=1)
        + ibis.interval(seconds=int(lag.total_seconds())),
        generation_mw=site.generation_mw,
        capacity_factor=site.generation_mw / site.cap,
        availability=site.availability,
        ghi_w_per_m2=site.ghi_w_per_m2,
        wind_speed_100m_m_per_s=site.wind_speed_100m_m_per_s,
        cloud_cover_pct=site.cloud_cover_pct,
    )


#: How each feature view declared in the catalog is computed from its sources (in that order).
COMPUTE = {"load_features": load_features, "generation_features": generation_features}
