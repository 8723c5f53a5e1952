"""Generation page: mix by technology, renewable share, capacity factors, carbon intensity.

The mix and the renewable share come from ``gold.generation_mix`` (hourly MW per region and
technology), capacity factors from ``gold.fact_generation`` (by its ``technology``), carbon
intensity from ``gold.carbon_emissions``. Everything is
aggregated in the warehouse to the display step. The technology filter narrows the mix and the
capacity factors; the renewable share is always of all generation (it is a share of the total).
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
    event_marks,
    from_epoch,
    in_regions,
    in_window,
    label,
    resolved_window,
)

TITLE = "Generation"
PURPOSE = (
    "**What is producing the power?** Generation stacked in merit order (solar and wind at the "
    "bottom, gas peakers on top, battery charging below zero) with the latest wind and solar "
    "forecasts, the renewable share, capacity factors and carbon intensity."
)
FILTERS = ("region", "dates", "technology")
TABLES = ("gold.generation_mix", "gold.fact_generation", "gold.carbon_emissions")
NATIVE = timedelta(hours=1)
#: Technologies counted as renewable in the share.
RENEWABLE = ("solar", "wind", "hydro", "biomass", "geothermal")


def bounds(r: Reader) -> tuple[pd.Timestamp, pd.Timestamp] | None:
    return data_range(r, "gold.generation_mix", "timestamp")


def mix(r: Reader, f: Filters, step: timedelta) -> pd.DataFrame:
    """Mean generation [MW] per display bucket and technology, summed over the regions."""
    t = in_regions(in_window(r.require("gold.generation_mix"), "timestamp", f), f)
    # per hour: sum over regions; then mean of the hours in the bucket
    hourly = t.group_by(["timestamp", "technology"]).aggregate(mw=t.generation_mw.sum())
    hourly = hourly.mutate(b=bucket(hourly.timestamp, step))
    out = (
        hourly.group_by(["b", "technology"])
        .aggregate(generation_mw=hourly.mw.mean())
        .order_by(["b", "technology"])
        .to_pandas()
    )
    out.insert(0, "timestamp", from_epoch(out.pop("b")))
    return out


def renewable_share(long: pd.DataFrame) -> pd.DataFrame:
    """Share of renewable generation in the total per bucket [%] (pure; negatives ignored)."""
    if long.empty:
        return pd.DataFrame(columns=["timestamp", "renewable_share_pct"])
    pos = long.assign(mw=long["generation_mw"].clip(lower=0))
    pos["renewable_mw"] = pos["mw"].where(pos["technology"].isin(RENEWABLE), 0.0)
    g = pos.groupby("timestamp")[["renewable_mw", "mw"]].sum()
    share = (g["renewable_mw"] / g["mw"].where(g["mw"] > 0) * 100).rename("renewable_share_pct")
    return share.reset_index()


def capacity_factors(r: Reader, f: Filters) -> pd.DataFrame:
    """Mean capacity factor and energy per technology over the window (generating assets)."""
    j = in_regions(in_window(r.require("gold.fact_generation"), "timestamp", f), f, "region")
    if f.technologies:
        j = j.filter(j.technology.isin(list(f.technologies)))
    out = (
        j.group_by("technology")
        .aggregate(
            capacity_factor=j.capacity_factor.mean(),
            energy_mwh=j.generation_mw.sum(),
            assets=j.asset_id.nunique(),
        )
        .order_by("technology")
        .to_pandas()
    )
    out["capacity_factor"] = out["capacity_factor"].round(4)
    return out


def carbon(r: Reader, f: Filters, step: timedelta) -> pd.DataFrame:
    """Carbon intensity [kg/MWh] per region and bucket (emission-weighted over the hours)."""
    t = r.table("gold.carbon_emissions")
    if t is None:
        return pd.DataFrame(columns=["region_id", "timestamp", "carbon_intensity_kg_per_mwh"])
    t = in_regions(in_window(t, "timestamp", f), f)
    t = t.mutate(b=bucket(t.timestamp, step))
    out = (
        t.group_by(["region_id", "b"])
        .aggregate(
            carbon_intensity_kg_per_mwh=t.carbon_intensity_kg_per_mwh.mean(),
            co2_tonnes=t.co2_tonnes.sum(),
        )
        .order_by(["region_id", "b"])
        .to_pandas()
    )
    out.insert(1, "timestamp", from_epoch(out.pop("b")))
    return out


def vre_forecast(r: Reader, f: Filters, step: timedelta) -> pd.DataFrame:
    """Median wind and solar forecast [MW] of the latest run per asset and target, summed over
    assets per hour, then averaged per display bucket (in the warehouse)."""
    import ibis

    cols = ["technology", "timestamp", "forecast_mw"]
    t = r.table("gold.generation_forecasts")
    if t is None:
        return pd.DataFrame(columns=cols)
    t = in_window(t, "timestamp", f).filter(lambda x: x.quantile == 0.5)
    if f.technologies:
        t = t.filter(t.technology.isin(list(f.technologies)))
    rank = ibis.row_number().over(
        group_by=[t.asset_id, t.timestamp], order_by=ibis.desc(t.issue_time)
    )
    t = t.mutate(_r=rank).filter(lambda x: x._r == 0)
    hourly = t.group_by(["technology", "timestamp"]).aggregate(mw=t.generation_mw.sum())
    hourly = hourly.mutate(b=bucket(hourly.timestamp, step))
    out = (
        hourly.group_by(["technology", "b"])
        .aggregate(forecast_mw=hourly.mw.mean())
        .order_by(["technology", "b"])
        .to_pandas()
    )
    out.insert(1, "timestamp", from_epoch(out.pop("b")))
    return out[cols]


def query(r: Reader, f: Filters) -> PageData:
    b = bounds(r)
    if b is None:
        msg = "expected rows in gold.generation_mix; found none (build the lakehouse first)"
        raise NoDataError(msg)
    lo, hi = resolved_window(f, b, NATIVE)
    step = choose_resolution(lo, hi, NATIVE)
    w = f.with_(start=lo, end=hi)
    all_mix = mix(r, w, step)
    shown = all_mix
    if f.technologies:
        shown = all_mix[all_mix["technology"].isin(f.technologies)].reset_index(drop=True)
    frames = {
        "mix": shown,
        "renewable_share": renewable_share(all_mix),
        "capacity_factors": capacity_factors(r, w),
        "carbon": carbon(r, w, step),
        "forecast": vre_forecast(r, w, step),
        "events": event_marks(r, w),
    }
    summary = (
        f"{len(shown)} mix points ({shown['technology'].nunique()} technologies) at "
        f"{label(step)} resolution, {lo:%Y-%m-%d %H:%M} to {hi:%Y-%m-%d %H:%M} UTC"
    )
    notes = []
    if not r.exists("gold.generation_forecasts"):
        notes.append(
            "No wind or solar forecasts yet: `workbench jobs run solar_forecast` and "
            "`workbench jobs run wind_forecast` write gold.generation_forecasts."
        )
    return PageData(frames, summary, notes, f.tz)


def sections(data: PageData) -> list[charts.Section]:
    fr, tz = data.frames, data.tz
    out = []
    m = fr["mix"]
    fig = None
    if not m.empty:
        wide = m.pivot_table(
            index="timestamp", columns="technology", values="generation_mw", fill_value=0.0
        )
        order = charts.merit_order(list(wide.columns))
        fig = charts.stacked_area(
            "gen-mix", "Generation by technology in merit order (mean per interval)", wide,
            order, "generation [MW]", tz=tz,
        )  # fmt: skip
        fc = fr.get("forecast", pd.DataFrame())
        if not fc.empty:
            charts.time_lines(
                "gen-forecast", "", fc, group="technology", y="forecast_mw",
                y_label="generation [MW]", unit="MW", dashed=True, fig=fig,
                legend_suffix=" forecast", tz=tz, palette=charts.FUEL_COLOURS,
            )  # fmt: skip
        charts.annotate(fig, "gen-events", fr["events"], tz=tz)
    out.append(charts.Section("gen-mix", "Generation mix", m, fig))
    s = fr["renewable_share"]
    fig = None
    if not s.empty:
        fig = charts.time_lines(
            "gen-renewable_share", "Renewable share of all generation", s, group=None,
            y="renewable_share_pct", y_label="renewable share [%]", unit="%", tz=tz,
        )  # fmt: skip
    out.append(charts.Section("gen-renewable_share", "Renewable share", s, fig))
    cf = fr["capacity_factors"]
    fig = None
    if not cf.empty:
        fig = charts.bars(
            "gen-capacity_factors", "Mean capacity factor by technology (n = assets)", cf,
            x="technology", y="capacity_factor", y_label="capacity factor [0-1]",
            x_label="technology", n="assets",
        )  # fmt: skip
    out.append(charts.Section("gen-capacity_factors", "Capacity factors", cf, fig))
    c = fr["carbon"]
    fig = None
    if not c.empty:
        fig = charts.time_lines(
            "gen-carbon", "Carbon intensity by region (mean per interval)", c, group="region_id",
            y="carbon_intensity_kg_per_mwh", y_label="carbon intensity [kg/MWh]", unit="kg/MWh",
            tz=tz,
        )  # fmt: skip
    out.append(charts.Section("gen-carbon", "Carbon intensity", c, fig))
    return out
