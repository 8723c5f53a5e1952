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

    offsets = pd.Series(local.index.map(lambda t: t.utcoffset()), index=local.index)
    changes = offsets.index[offsets.ne(offsets.shift()) & offsets.shift().notna()]
    if len(changes):
        when = changes[0]
        week = system[
            (system.index >= when - pd.Timedelta(days=3))
            & (system.index < when + pd.Timedelta(days=4))
        ]

        def dst(ax):
            ax.plot(week.index.tz_convert("UTC").tz_localize(None), week.values, label="UTC axis")
            ax.axvline(
                when.tz_convert("UTC").tz_localize(None), color="k", ls="--", label="DST change"
            )
            ax.set_ylabel("system load [MW]")
            ax.legend()

        _figure(out / "dst_week.png", dst, "A DST week: the daily shape moves by one hour in UTC")
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

    prices = cat.read("bronze.raw_market", where={"market": "RT"}, columns=["lmp_usd_per_mwh"])
    sorted_prices = np.sort(prices["lmp_usd_per_mwh"].to_numpy())[::-1]
    summary["rt_price_p50"] = float(np.median(sorted_prices))
    summary["rt_price_max"] = float(sorted_prices[0])
    summary["rt_negative_share"] = float((sorted_prices < 0).mean())

    def duration(ax):
        ax.plot(np.linspace(0, 100, len(sorted_prices)), sorted_prices)
        ax.set_yscale("symlog", linthresh=100)
        ax.set_xlabel("% of intervals")
        ax.set_ylabel("RT LMP [$/MWh]")

    _figure(out / "price_duration.png", duration, "Real-time price duration curve")

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

    sat = cat.scan("bronze.satellite")
    frame_sat = sat["reflectance"].isel(time=len(sat.time) // 2).load()

    def satellite(ax):
        ax.imshow(frame_sat.values, cmap="gray", vmin=0, vmax=1)
        ax.set_xticks([])
        ax.set_yticks([])

    _figure(
        out / "satellite_frame.png",
        satellite,
        f"Satellite frame {pd.Timestamp(frame_sat.time.values)}",
        size=(6, 6),
    )
    (out / "summary.json").write_text(json.dumps(summary, indent=2, default=str))
    return summary
