"""Evidence of realism: plots of the built lakehouse, read back through the catalog.

``workbench sim report --out DIR`` draws load vs temperature, daily and weekly load profiles, a
DST week in local and UTC time, monthly solar and wind capacity factors, the price duration curve,
the frequency histogram with event traces, and a satellite frame, one PNG each, plus a
``summary.json`` of the figures behind them.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from workbench.core.extras import require


def _figure(path: Path, draw: Callable[[Any], None], title: str, size=(9, 5)) -> Path:
    plt = require("matplotlib.pyplot", feature="the realism report")
    fig, ax = plt.subplots(figsize=size)
    draw(ax)
    ax.set_title(title)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def _local(frame: pd.DataFrame, tz: str) -> pd.Series:
    return frame["timestamp"].dt.tz_convert(tz)


def _monthly_capacity_factors(cat: Any, assets: pd.DataFrame) -> dict[str, pd.Series]:
    """Monthly fleet capacity factor of solar and wind, computed in the warehouse."""
    gen = cat.scan("bronze.raw_generation")
    out = {}
    for tech in ("solar", "wind"):
        ids = list(assets.loc[assets.technology == tech, "asset_id"])
        cap = float(assets.loc[assets.technology == tech, "capacity_mw"].sum())
        g = gen.filter(gen.asset_id.isin(ids))
        month = g.timestamp.truncate("M")
        monthly = (
            g.group_by(month=month)
            .agg(mw=g.generation_mw.sum(), steps=g.timestamp.nunique())
            .order_by("month")
            .to_pandas()
        )
        index = pd.to_datetime(monthly["month"]).dt.strftime("%Y-%m")
        out[tech] = pd.Series((monthly["mw"] / (monthly["steps"] * cap)).values, index=index)
    return out


def build_report(cat: Any, out: str | Path) -> dict[str, Any]:
    """Draw the realism evidence of the lakehouse behind ``cat`` into ``out``; return figures."""
    require("matplotlib", feature="the realism report")
    import matplotlib

    matplotlib.use("Agg")
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    summary: dict[str, Any] = {}
    regions = cat.read("bronze.raw_regions")
    assets = cat.read("bronze.raw_assets")
    tz = str(regions["timezone"].mode().iloc[0])
    load = cat.read("bronze.raw_load")
    hourly = (
        load.set_index("timestamp").groupby("region_id")["load_mw"].resample("1h").mean()
    ).reset_index()
    system = hourly.groupby("timestamp")["load_mw"].sum()
    weather = cat.read("bronze.raw_weather", where={"location_id": list(regions["region_id"])})
    big = regions.sort_values("population").iloc[-1]["region_id"]
    lw = hourly[hourly.region_id == big].merge(
        weather[weather.location_id == big][["timestamp", "temperature_f"]], on="timestamp"
    )
    daily = (
        lw.set_index("timestamp").resample("1D").agg({"load_mw": "mean", "temperature_f": "mean"})
    )
    summary["system_peak_mw"] = float(system.max())
    summary["system_min_over_peak"] = float(system.min() / system.max())

    def load_vs_temp(ax):
        ax.scatter(daily["temperature_f"], daily["load_mw"], s=8, alpha=0.6)
        ax.set_xlabel("daily mean temperature [°F]")
        ax.set_ylabel(f"daily mean load, {big} [MW]")

    _figure(out / "load_vs_temperature.png", load_vs_temp, "Load vs temperature (U-shape)")

    local = system.copy()
    local.index = local.index.tz_convert(tz)
    frame = local.to_frame("load_mw")
    frame["hour"] = frame.index.hour
    frame["dow"] = frame.index.dayofweek
    frame["month"] = frame.index.month

    def profiles(ax):
        for season, months in (
            ("winter", [12, 1, 2]),
            ("summer", [6, 7, 8]),
            ("spring", [3, 4, 5]),
        ):
            sel = frame[frame.month.isin(months)]
            if len(sel):
                ax.plot(sel.groupby("hour")["load_mw"].mean(), label=season)
        ax.set_xlabel(f"hour of day ({tz})")
        ax.set_ylabel("system load [MW]")
        ax.legend()

    _figure(out / "daily_profiles.png", profiles, "Daily load shape by season (local time)")
    weekly = frame.groupby("dow")["load_mw"].mean()
    summary["weekend_over_weekday"] = float(weekly[[5, 6]].mean() / weekly[:5].mean())

    def weekly_profile(ax):
        ax.bar(["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"], weekly.values)
        ax.set_ylabel("mean system load [MW]")

    _figure(out / "weekly_profile.png", weekly_profile, "Weekly shape")

    when = _dst_overlay(out / "dst_week.png", system, tz)
    if when is not None:
        summary["dst_change"] = str(when)

    cf = _monthly_capacity_factors(cat, assets)
    for tech, series in cf.items():
        summary[f"{tech}_capacity_factor"] = float(series.mean()) if len(series) else None

    def capacity_factors(ax):
        for tech, series in cf.items():
            ax.plot(series.index, series.values, marker="o", label=tech)
        ax.set_ylabel("monthly capacity factor")
        ax.tick_params(axis="x", rotation=60)
        ax.legend()

    _figure(
        out / "capacity_factors.png", capacity_factors, "Monthly solar and wind capacity factors"
    )

    summary.update(_price_duration(out / "price_duration.png", cat))

    pmu = cat.scan("bronze.pmu")
    freq = pmu["frequency_hz"].isel(pmu=0).load().to_series()
    summary["frequency_std_hz"] = float(freq.std())
    events = cat.read("ops.sim_events", where={"source": "pmu"})

    def histogram(ax):
        ax.hist(freq.dropna().to_numpy(), bins=200)
        ax.set_xlabel("frequency [Hz]")
        ax.set_yscale("log")

    _figure(out / "frequency_histogram.png", histogram, "PMU frequency histogram")
    trips = events[events.event_type.isin(["generator_trip", "load_rejection"])]

    def traces(ax):
        for _, ev in trips.head(4).iterrows():
            t0 = ev["start"].tz_convert("UTC").tz_localize(None)
            window = freq[
                (freq.index >= t0 - pd.Timedelta(seconds=10))
                & (freq.index < t0 + pd.Timedelta(seconds=60))
            ]
            ax.plot(
                (window.index - t0).total_seconds(),
                window.values,
                label=f"{ev.event_type} {ev.magnitude:.0f} MW",
            )
        ax.set_xlabel("seconds from event")
        ax.set_ylabel("frequency [Hz]")
        ax.legend()

    _figure(out / "frequency_events.png", traces, "Frequency after labelled events")

    summary["satellite_frame"] = _satellite_frame(out / "satellite_frame.png", cat, assets, tz)
    (out / "summary.json").write_text(json.dumps(summary, indent=2, default=str))
    return summary


def write_realism(cat: Any, out: str | Path) -> list[dict[str, Any]]:
    """Measure the realism table (:func:`workbench.sim.realism.realism_table`) and write it to
    ``out/realism.json``; returns the rows."""
    from workbench.sim.realism import realism_table

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    rows = realism_table(cat)
    (out / "realism.json").write_text(json.dumps(rows, indent=2))
    return rows


def _dst_overlay(path: Path, system: pd.Series, tz: str) -> pd.Timestamp | None:
    """Mean daily load shape of the week before and the week after the first DST change, on a
    local and on a UTC clock: the same shape locally, shifted by one hour in UTC."""
    local = system.index.tz_convert(tz)
    offsets = pd.Series([t.utcoffset() for t in local], index=system.index)
    changes = offsets.index[offsets.ne(offsets.shift()) & offsets.shift().notna()]
    if not len(changes):
        return None
    when = changes[0]
    week = pd.Timedelta(days=7)
    before = system[(system.index >= when - week) & (system.index < when)]
    after = system[(system.index >= when) & (system.index < when + week)]
    plt = require("matplotlib.pyplot", feature="the realism report")
    fig, axes = plt.subplots(1, 2, figsize=(12, 4.5), sharey=True)
    for ax, clock in zip(axes, (tz, "UTC"), strict=True):
        for label, part, style in (("week before", before, "-"), ("week after", after, "--")):
            hours = part.index.tz_convert(clock).hour
            profile = part.groupby(hours).mean()
            ax.plot(profile.index, profile.values, style, marker=".", label=label)
        ax.set_xlabel(f"hour of day ({clock})")
        ax.set_xticks(range(0, 24, 3))
        ax.grid(alpha=0.3)
        ax.legend()
    axes[0].set_ylabel("mean system load [MW]")
    axes[0].set_title("local clock: the shape stays put")
    axes[1].set_title("UTC clock: the shape moves by one hour")
    offset = when.tz_convert(tz)
    fig.suptitle(f"DST change {offset:%Y-%m-%d %H:%M %Z}: the week before vs the week after")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return when


def _price_duration(path: Path, cat: Any) -> dict[str, float]:
    """Duration curve of every real-time LMP row, on a symlog axis (negatives and spikes to
    thousands visible), with the top 2 % of intervals drawn again on a log share axis."""
    prices = cat.read("bronze.raw_market", where={"market": "RT"}, columns=["lmp_usd_per_mwh"])
    ordered = np.sort(prices["lmp_usd_per_mwh"].to_numpy(float))[::-1]
    figures = {
        "rt_price_p50": float(np.median(ordered)) if len(ordered) else None,
        "rt_price_max": float(ordered[0]) if len(ordered) else None,
        "rt_negative_share": float((ordered < 0).mean()) if len(ordered) else None,
    }
    share = (np.arange(len(ordered)) + 0.5) / max(len(ordered), 1) * 100.0
    plt = require("matplotlib.pyplot", feature="the realism report")
    fig, (full, top) = plt.subplots(1, 2, figsize=(12, 4.8), sharey=True)
    for ax in (full, top):
        ax.plot(share, ordered, lw=1.5)
        ax.set_yscale("symlog", linthresh=50, linscale=1.5)
        ax.axhline(0, color="k", lw=0.8)
        for level in (1000, 5000):
            ax.axhline(level, color="tab:red", lw=0.6, ls=":")
        ticks = [-1000, -250, -50, -25, 0, 25, 50, 100, 250, 1000, 2500, 5000]
        ax.set_yticks(ticks, [f"{t:,}" for t in ticks])
        low = min(-60.0, float(ordered[-1]) * 1.3) if len(ordered) else -60.0
        high = max(6000.0, float(ordered[0]) * 1.3) if len(ordered) else 6000.0
        ax.set_ylim(low, high)
        ax.grid(alpha=0.3)
    full.set_xlabel("% of (node, 5-min interval) rows at or above the price")
    full.set_ylabel("RT LMP [$/MWh] (symlog: linear within ±50)")
    full.set_title("all intervals")
    if len(ordered):
        full.annotate(
            f"max {ordered[0]:,.0f}\nmedian {figures['rt_price_p50']:,.1f}\n"
            f"negative {figures['rt_negative_share']:.1%}\nmin {ordered[-1]:,.1f}",
            xy=(0.55, 0.65),
            xycoords="axes fraction",
        )
    top.set_xscale("log")
    top.set_xlim(share[0] if len(share) else 1e-4, 2.0)
    top.set_xlabel("% of rows (log): the top 2 %")
    top.set_title("scarcity tail")
    fig.suptitle("Real-time price duration curve, all pricing nodes")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return figures


def _satellite_frame(path: Path, cat: Any, assets: pd.DataFrame, tz: str) -> str:
    """The frame nearest local noon on the middle day, on projected axes [km], with the solar
    and wind plants marked where they fall; returns its time."""
    from workbench.sim.realism import to_cube_crs

    sat = cat.scan("bronze.satellite")
    times = pd.DatetimeIndex(sat.time.values).tz_localize("UTC")
    local = times.tz_convert(tz)
    middle = local[len(local) // 2].normalize() + pd.Timedelta(hours=12.5)
    k = int(np.abs((local - middle).total_seconds()).argmin())
    frame = sat["reflectance"].isel(time=k).load()
    xs, ys = sat["x"].values / 1000.0, sat["y"].values / 1000.0
    dx, dy = abs(xs[1] - xs[0]) / 2, abs(ys[1] - ys[0]) / 2
    crs = sat.attrs.get("crs", "")
    plt = require("matplotlib.pyplot", feature="the realism report")
    fig, ax = plt.subplots(figsize=(7.5, 7))
    image = ax.imshow(
        frame.values,
        cmap="gray",
        vmin=0,
        vmax=1,
        extent=(xs.min() - dx, xs.max() + dx, ys.min() - dy, ys.max() + dy),
        origin="upper" if ys[0] > ys[-1] else "lower",
    )
    fig.colorbar(image, ax=ax, shrink=0.8, label="reflectance")
    for tech, marker, colour in (("solar", "^", "gold"), ("wind", "o", "deepskyblue")):
        fleet = assets[assets.technology == tech]
        if fleet.empty or not crs:
            continue
        px, py = to_cube_crs(fleet["longitude"], fleet["latitude"], crs)
        ax.scatter(
            px / 1000.0, py / 1000.0, marker=marker, s=40, c=colour, edgecolors="k", label=tech
        )
    ax.set_xlim(xs.min() - dx, xs.max() + dx)
    ax.set_ylim(ys.min() - dy, ys.max() + dy)
    ax.set_xlabel("easting [km]")
    ax.set_ylabel("northing [km]")
    name = crs.split('"')[1] if crs.count('"') >= 2 else crs[:40]
    ax.set_title(f"Satellite {times[k]:%Y-%m-%d %H:%M} UTC ({local[k]:%H:%M %Z})\n{name}")
    ax.legend(loc="lower left")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return str(times[k])
