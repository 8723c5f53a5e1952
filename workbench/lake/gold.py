"""silver → gold: the platform's facts and dimensions, plus mix, carbon and reliability.

Column names and types follow the GridMind schema (``gold.fact_load.actual_load_mw``,
``gold.fact_market_prices.lmp_price``…), so the same code serves a Snowflake deployment.
All transforms are Ibis expressions; hourly facts label the hour by its start (UTC).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import ibis.expr.types as ir

#: Direct CO2 emission factors [kg/MWh] by technology (typical US fleet values, eGRID-like).
CARBON_KG_PER_MWH: dict[str, float] = {
    "coal": 1000.0,
    "gas_cc": 400.0,
    "gas_ct": 600.0,
    "nuclear": 0.0,
    "hydro": 0.0,
    "solar": 0.0,
    "wind": 0.0,
    "battery": 0.0,
}


def _hour(ts: ir.TimestampValue) -> ir.TimestampValue:
    return ts.truncate("h")


def dim_regions(raw_regions: ir.Table) -> ir.Table:
    return raw_regions.select(
        "region_id", "region_name", "iso_rto", "timezone", "population", "area_sq_km"
    ).distinct()


def dim_assets(raw_assets: ir.Table) -> ir.Table:
    return raw_assets.select(
        "asset_id",
        "asset_name",
        asset_type=raw_assets.technology,
        region_id=raw_assets.region_id,
        capacity_mw=raw_assets.capacity_mw,
        latitude=raw_assets.latitude,
        longitude=raw_assets.longitude,
        owner=raw_assets.owner,
        commission_date=raw_assets.commission_date,
    ).distinct()


def fact_load(load: ir.Table, weather: ir.Table, forecasts: ir.Table | None = None) -> ir.Table:
    """Hourly actual load per region with temperature and, where one exists, the forecast.

    The forecast is the median (quantile 0.5) of the latest run issued before the hour.
    """
    import ibis

    hourly = load.group_by(region_id=load.region_id, timestamp=_hour(load.timestamp)).agg(
        actual_load_mw=load.load_mw.mean()
    )
    temp = weather.select(
        w_region=weather.location_id, w_ts=weather.timestamp, temperature_f=weather.temperature_f
    )
    joined = hourly.left_join(
        temp, [hourly.region_id == temp.w_region, hourly.timestamp == temp.w_ts]
    ).drop("w_region", "w_ts")
    if forecasts is None:
        return joined.mutate(
            forecast_load_mw=ibis.null("float64"), forecast_error=ibis.null("float64")
        ).select(
            "timestamp",
            "region_id",
            "actual_load_mw",
            "forecast_load_mw",
            "forecast_error",
            "temperature_f",
        )
    median = forecasts.filter(forecasts.quantile == 0.5)
    latest = ibis.row_number().over(
        group_by=[median.region_id, median.timestamp], order_by=median.issue_time.desc()
    )
    best = (
        median.filter(median.issue_time < median.timestamp)
        .mutate(_r=latest)
        .filter(lambda t: t._r == 0)
        .select(f_region=median.region_id, f_ts=median.timestamp, forecast_load_mw=median.load_mw)
    )
    out = joined.left_join(best, [joined.region_id == best.f_region, joined.timestamp == best.f_ts])
    return out.select(
        "timestamp",
        "region_id",
        "actual_load_mw",
        "forecast_load_mw",
        forecast_error=out.actual_load_mw - out.forecast_load_mw,
        temperature_f=out.temperature_f,
    )


def fact_generation(generation: ir.Table, assets: ir.Table) -> ir.Table:
    """Hourly generation per asset with its capacity factor."""
    hourly = generation.group_by(
        asset_id=generation.asset_id, timestamp=_hour(generation.timestamp)
    ).agg(generation_mw=generation.generation_mw.mean())
    a = assets.select(a_id=assets.asset_id, region_id=assets.region_id, cap=assets.capacity_mw)
    j = hourly.inner_join(a, hourly.asset_id == a.a_id)
    return j.select(
        "timestamp",
        "asset_id",
        "region_id",
        "generation_mw",
        capacity_factor=j.generation_mw / j.cap,
    )


def fact_market_prices(market: ir.Table) -> ir.Table:
    """Hourly LMP per node and market (RT averaged over its twelve 5-minute intervals)."""
    g = market.group_by(
        timestamp=_hour(market.timestamp), node_id=market.node_id, market=market.market
    ).agg(
        lmp_price=market.lmp_usd_per_mwh.mean(),
        energy_component=market.energy_usd_per_mwh.mean(),
        congestion_component=market.congestion_usd_per_mwh.mean(),
        loss_component=market.losses_usd_per_mwh.mean(),
    )
    return g.select(
        "timestamp",
        "node_id",
        "market",
        "lmp_price",
        "energy_component",
        "congestion_component",
        "loss_component",
    )


def generation_mix(fact_gen: ir.Table, assets: ir.Table) -> ir.Table:
    """Hourly generation per region and technology, with its share of the region's output."""
    a = assets.select(a_id=assets.asset_id, technology=assets.asset_type)
    j = fact_gen.inner_join(a, fact_gen.asset_id == a.a_id)
    by_tech = j.group_by("timestamp", "region_id", "technology").agg(
        generation_mw=j.generation_mw.sum()
    )
    total = by_tech.generation_mw.clip(lower=0).sum().over(group_by=["timestamp", "region_id"])
    return by_tech.mutate(share=by_tech.generation_mw.clip(lower=0) / total.nullif(0)).select(
        "timestamp", "region_id", "technology", "generation_mw", "share"
    )


def carbon_emissions(fact_gen: ir.Table, assets: ir.Table) -> ir.Table:
    """Hourly CO2 per region [t] and its intensity [kg/MWh], from technology emission factors."""
    import ibis

    factor = ibis.cases(
        *[(assets.asset_type == tech, kg) for tech, kg in CARBON_KG_PER_MWH.items()], else_=0.0
    )
    a = assets.select(a_id=assets.asset_id, kg_per_mwh=factor)
    j = fact_gen.inner_join(a, fact_gen.asset_id == a.a_id)
    positive = j.generation_mw.clip(lower=0)
    g = j.group_by("timestamp", "region_id").agg(
        co2_tonnes=(positive * j.kg_per_mwh).sum() / 1000,
        generation_mwh=positive.sum(),
    )
    return g.select(
        "timestamp",
        "region_id",
        co2_tonnes=g.co2_tonnes,
        carbon_intensity_kg_per_mwh=g.co2_tonnes * 1000 / g.generation_mwh.nullif(0),
    )


def reliability_metrics(
    generation: ir.Table, assets: ir.Table, pmu_minutes: ir.Table | None = None
) -> ir.Table:
    """Daily reliability per region: forced outages started, MWh unavailable, and minutes with
    frequency outside 59.95-60.05 Hz (system-wide, from the PMU summary, where one exists)."""
    import ibis

    a = assets.select(a_id=assets.asset_id, region_id=assets.region_id, cap=assets.capacity_mw)
    g = generation.inner_join(a, generation.asset_id == a.a_id)
    previous = g.available.lag().over(group_by=g.asset_id, order_by=g.timestamp)
    g = g.mutate(
        started=ibis.ifelse((previous & ~g.available).fill_null(False), 1, 0).cast("int64"),
        lost_mwh=ibis.ifelse(g.available, 0.0, g.cap / 12.0),
    )
    daily = g.group_by(date=g.timestamp.date(), region_id=g.region_id).agg(
        forced_outages=g.started.sum(), unavailable_mwh=g.lost_mwh.sum()
    )
    if pmu_minutes is None:
        return daily.mutate(frequency_excursion_minutes=ibis.literal(0, "int64"))
    excursions = (
        pmu_minutes.filter(pmu_minutes.excursion_samples > 0)
        .select(date=pmu_minutes.minute.date(), minute=pmu_minutes.minute)
        .distinct()
        .group_by("date")
        .agg(frequency_excursion_minutes=ibis._.count())
    )
    e = excursions.select(e_date=excursions.date, m=excursions.frequency_excursion_minutes)
    out = daily.left_join(e, daily.date == e.e_date)
    return out.select(
        "date",
        "region_id",
        "forced_outages",
        "unavailable_mwh",
        frequency_excursion_minutes=out.m.fill_null(0).cast("int64"),
    )
