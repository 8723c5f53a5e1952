"""silver → gold: the platform's facts and dimensions, plus mix, carbon and reliability.

The five platform tables follow its published DDL column for column, names and order as
published, extra columns after them:

* ``gold.fact_generation(timestamp, asset_id, asset_type, region, generation_mw, capacity_mw,
  capacity_factor, carbon_intensity, availability)`` + ``technology``;
* ``gold.fact_load(timestamp, region, zone, actual_load_mw, forecast_load_mw, forecast_error,
  temperature_f, humidity_pct)``;
* ``gold.fact_market_prices(timestamp, market, node, lmp_price, energy_component, congestion,
  losses, ancillary_price)`` + ``market_type`` (DA or RT) and ``region``;
* ``gold.dim_assets(asset_id, asset_name, asset_type, technology, capacity_mw, latitude,
  longitude, region, owner, commission_date, is_active)`` + ``bus_id``;
* ``gold.dim_regions(region_id, region_name, iso_rto, timezone, population, area_sq_miles)``
  + ``zone``, ``latitude``, ``longitude``.

Tables the DDL does not publish (``gold.fact_system_reserves``, the mix, carbon, reliability)
follow the same conventions: hour start (UTC) first, then names that carry their units.

DECIMAL columns are DOUBLE here (15-16 significant digits, more than a DECIMAL(12,4) carries),
the INTEGER ones BIGINT; timestamps are UTC (the DDL's TIMESTAMP_NTZ read as UTC). All
transforms are Ibis expressions; hourly facts label the hour by its start (UTC).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import ibis.expr.types as ir

#: Direct CO2 emission factors [kg/MWh] by technology (typical US fleet values, eGRID-like);
#: ``gold.fact_generation.carbon_intensity`` is the same in [t/MWh].
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
#: The platform's ``asset_type`` of each technology: dispatchable generators, weather-driven
#: renewables (hydro included) and storage.
ASSET_TYPE: dict[str, str] = {
    "coal": "generator",
    "gas_cc": "generator",
    "gas_ct": "generator",
    "nuclear": "generator",
    "hydro": "renewable",
    "solar": "renewable",
    "wind": "renewable",
    "battery": "storage",
}
#: Square kilometres per square mile (international mile, 1609.344 m).
SQ_KM_PER_SQ_MILE = 1.609344**2
#: Ancillary services whose hourly clearing prices [$/MW-h] make ``ancillary_price``: their sum,
#: the price of one MW of each service for the hour (regulation up and down, spinning and
#: non-spinning reserve, as in ``bronze.raw_ancillary``).
ANCILLARY_PRODUCTS: tuple[str, ...] = ("regup", "regdown", "spin", "nonspin")


_T_PER_MWH = {tech: kg / 1000.0 for tech, kg in CARBON_KG_PER_MWH.items()}


def _hour(ts: ir.TimestampValue) -> ir.TimestampValue:
    return ts.truncate("h")


def _by_technology(
    technology: ir.StringValue, values: dict[str, object], default: object
) -> ir.Value:
    import ibis

    return ibis.cases(*[(technology == tech, v) for tech, v in values.items()], else_=default)


def dim_regions(raw_regions: ir.Table) -> ir.Table:
    """Regions as the platform registers them; area in square miles (rounded), plus the ERCOT
    load zone each region settles in and its centre [deg]."""
    r = raw_regions
    return r.select(
        "region_id",
        "region_name",
        "iso_rto",
        "timezone",
        population=r.population.cast("int64"),
        area_sq_miles=(r.area_sq_km / SQ_KM_PER_SQ_MILE).round().cast("int64"),
        zone=r.load_zone,
        latitude=r.latitude,
        longitude=r.longitude,
    ).distinct()


def dim_assets(raw_assets: ir.Table) -> ir.Table:
    """Assets with the platform's ``asset_type`` (generator, renewable, storage) beside their
    ``technology``; ``is_active`` once commissioned (the simulator retires none)."""
    import ibis

    a = raw_assets
    return a.select(
        "asset_id",
        "asset_name",
        asset_type=_by_technology(a.technology, ASSET_TYPE, ibis.null("string")),
        technology=a.technology,
        capacity_mw=a.capacity_mw,
        latitude=a.latitude,
        longitude=a.longitude,
        region=a.region_id,
        owner=a.owner,
        commission_date=a.commission_date,
        is_active=(a.commission_date <= ibis.today()).fill_null(False),
        bus_id=a.bus_id,
    ).distinct()


def fact_load(
    load: ir.Table, weather: ir.Table, regions: ir.Table, forecasts: ir.Table | None = None
) -> ir.Table:
    """Hourly actual load per region with its load zone, temperature, relative humidity and,
    where one exists, the forecast.

    The forecast is the median (quantile 0.5) of the latest run issued before the hour.
    """
    import ibis

    hourly = load.group_by(region=load.region_id, timestamp=_hour(load.timestamp)).agg(
        actual_load_mw=load.load_mw.mean()
    )
    wx = weather.select(
        w_region=weather.location_id,
        w_ts=weather.timestamp,
        temperature_f=weather.temperature_f,
        humidity_pct=weather.relative_humidity_pct,
    )
    zones = regions.select(z_region=regions.region_id, zone=regions.zone)
    j = hourly.left_join(wx, [hourly.region == wx.w_region, hourly.timestamp == wx.w_ts])
    j = j.left_join(zones, j.region == zones.z_region)
    if forecasts is None:
        j = j.mutate(f_mw=ibis.null("float64"))
    else:
        median = forecasts.filter(forecasts.quantile == 0.5)
        latest = ibis.row_number().over(
            group_by=[median.region_id, median.timestamp], order_by=median.issue_time.desc()
        )
        best = (
            median.filter(median.issue_time < median.timestamp)
            .mutate(_r=latest)
            .filter(lambda t: t._r == 0)
            .select(f_region=median.region_id, f_ts=median.timestamp, f_mw=median.load_mw)
        )
        j = j.left_join(best, [j.region == best.f_region, j.timestamp == best.f_ts])
    return j.select(
        "timestamp",
        "region",
        "zone",
        "actual_load_mw",
        forecast_load_mw=j.f_mw,
        forecast_error=j.actual_load_mw - j.f_mw,
        temperature_f=j.temperature_f,
        humidity_pct=j.humidity_pct,
    )


def fact_generation(generation: ir.Table, assets: ir.Table) -> ir.Table:
    """Hourly generation per asset with capacity factor, emission factor and availability.

    ``availability`` is the share of the hour's 5-minute intervals the asset was available
    (``silver.generation.available``: false during a forced outage) [1];
    ``carbon_intensity`` is the technology's direct emission factor [tCO2/MWh].
    """
    import ibis

    up = ibis.ifelse(generation.available, 1.0, 0.0)  # PostgreSQL casts no boolean to float
    hourly = generation.group_by(
        asset_id=generation.asset_id, timestamp=_hour(generation.timestamp)
    ).agg(generation_mw=generation.generation_mw.mean(), availability=up.mean())
    a = assets.select(
        a_id=assets.asset_id,
        asset_type=assets.asset_type,
        region=assets.region,
        capacity_mw=assets.capacity_mw,
        technology=assets.technology,
    )
    j = hourly.inner_join(a, hourly.asset_id == a.a_id)
    return j.select(
        "timestamp",
        "asset_id",
        "asset_type",
        "region",
        "generation_mw",
        "capacity_mw",
        capacity_factor=j.generation_mw / j.capacity_mw.nullif(0),
        carbon_intensity=_by_technology(j.technology, _T_PER_MWH, 0.0).cast("float64"),
        availability=j.availability,
        technology=j.technology,
    )


def fact_market_prices(
    market: ir.Table, ancillary: ir.Table, topology: ir.Table, regions: ir.Table
) -> ir.Table:
    """Hourly LMP per node and market type (RT averaged over its twelve 5-minute intervals).

    ``market`` is the ISO/RTO of the node's region (``gold.dim_regions.iso_rto``), ``market_type``
    DA or RT; ``ancillary_price`` the hour's sum of the :data:`ANCILLARY_PRODUCTS` clearing
    prices [$/MW-h], the same for every node and both market types.
    """
    g = market.group_by(
        timestamp=_hour(market.timestamp), node=market.node_id, market_type=market.market
    ).agg(
        lmp_price=market.lmp_usd_per_mwh.mean(),
        energy_component=market.energy_usd_per_mwh.mean(),
        congestion=market.congestion_usd_per_mwh.mean(),
        losses=market.losses_usd_per_mwh.mean(),
    )
    buses = topology.filter(topology.element_type == "bus")
    buses = buses.select(b_node=buses.element_id, region=buses.region_id)
    iso = regions.select(r_id=regions.region_id, iso_rto=regions.iso_rto)
    anc = ancillary.filter(ancillary.product.isin(list(ANCILLARY_PRODUCTS)))
    anc = anc.group_by(a_ts=_hour(anc.timestamp)).agg(ancillary_price=anc.price_usd_per_mw.sum())
    j = g.left_join(buses, g.node == buses.b_node)
    j = j.left_join(iso, j.region == iso.r_id)
    j = j.left_join(anc, j.timestamp == anc.a_ts)
    return j.select(
        "timestamp",
        market=j.iso_rto,
        node=j.node,
        lmp_price=j.lmp_price,
        energy_component=j.energy_component,
        congestion=j.congestion,
        losses=j.losses,
        ancillary_price=j.ancillary_price,
        market_type=j.market_type,
        region=j.region,
    )


def fact_system_reserves(reserves: ir.Table) -> ir.Table:
    """Hourly system-wide reserves [MW]: means of the hour's 5-minute demand, ORDC reserves and
    responsive reserves, the lowest responsive reserves of the hour, and the responsive
    reserve margin (responsive reserves over demand) [1]."""
    r = reserves
    g = r.group_by(timestamp=_hour(r.timestamp)).agg(
        demand_mw=r.demand_mw.mean(),
        reserve_mw=r.reserve_mw.mean(),
        responsive_reserve_mw=r.responsive_reserve_mw.mean(),
        min_responsive_reserve_mw=r.responsive_reserve_mw.min(),
    )
    return g.select(
        "timestamp",
        "demand_mw",
        "reserve_mw",
        "responsive_reserve_mw",
        "min_responsive_reserve_mw",
        reserve_margin=g.responsive_reserve_mw / g.demand_mw.nullif(0),
    )


def generation_mix(fact_gen: ir.Table, assets: ir.Table) -> ir.Table:
    """Hourly generation per region and technology, with its share of the region's output."""
    a = assets.select(a_id=assets.asset_id, tech=assets.technology)
    j = fact_gen.inner_join(a, fact_gen.asset_id == a.a_id)
    by_tech = j.group_by(timestamp=j.timestamp, region_id=j.region, technology=j.tech).agg(
        generation_mw=j.generation_mw.sum()
    )
    total = by_tech.generation_mw.clip(lower=0).sum().over(group_by=["timestamp", "region_id"])
    return by_tech.mutate(share=by_tech.generation_mw.clip(lower=0) / total.nullif(0)).select(
        "timestamp", "region_id", "technology", "generation_mw", "share"
    )


def carbon_emissions(fact_gen: ir.Table) -> ir.Table:
    """Hourly CO2 per region [t] and its intensity [kg/MWh], from each asset's
    ``carbon_intensity`` [tCO2/MWh] (charging batteries count as no output)."""
    positive = fact_gen.generation_mw.clip(lower=0)
    g = fact_gen.group_by(timestamp=fact_gen.timestamp, region_id=fact_gen.region).agg(
        co2_tonnes=(positive * fact_gen.carbon_intensity).sum(),
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

    a = assets.select(a_id=assets.asset_id, region_id=assets.region, cap=assets.capacity_mw)
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
