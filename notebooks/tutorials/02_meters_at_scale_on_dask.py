# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#   kernelspec:
#     display_name: GridMind (workbench)
#     language: python
#     name: gridmind
# ---

# %% [markdown]
# # Smart meters at scale: regional load on a Dask cluster
#
# ## Overview
# Smart meters (AMI) send one energy read per customer every 15 minutes: at full scale that is
# about 100 million reads a day, far more than fits comfortably in one pandas frame. This tutorial
# shows how the workbench handles them:
#
# 1. what the meter data is and how it is laid out on disk (Parquet partitioned by local date and
#    region; estimated reads; duplicates in bronze that silver removes);
# 2. a Dask cluster started with `get_client()`, and what its dashboard shows;
# 3. a lazy Dask scan and a groupby computed on the cluster;
# 4. `aggregate_meter_load`: reads → regional load at 5-minute, 15-minute and hourly resolution,
#    per region and customer class, with plots;
# 5. the three engines (Polars, DuckDB, Dask) on the same window: the same numbers, different
#    costs, and why Polars is the default;
# 6. how the meter sample compares with the system load of its region.
#
# ## Prerequisites
# | concept | importance | notes |
# |---|---|---|
# | pandas | necessary | groupby, time indexes, time zones |
# | `00_catalog_and_medallion` | helpful | the catalog, bronze/silver/gold |
# | Dask DataFrames | helpful | lazy frames split in partitions; explained below |
# | energy vs power | helpful | kWh in 15 minutes ÷ 0.25 h = mean kW |
#
# Time to learn: 25 minutes. Data: the demo lakehouse (`make demo`: 3,000 meters, 30 days), or any
# lakehouse that `WORKBENCH_HOME` points at.

# %% [markdown]
# ## Parameters

# %% tags=["parameters"]
days = 7  # aggregate the last N days of meter reads (fewer if the lake holds fewer)
region = "HOUSTON"  # a region_id of gold.dim_regions, for the close-ups
n_workers = 2  # worker processes of the local Dask cluster
threads_per_worker = 1  # threads per worker process

# %% [markdown]
# ## Imports

# %%
import time
from pathlib import Path

import dask
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from IPython.display import Markdown, display

from workbench import open_catalog
from workbench.io.dask_cluster import close_client, get_client
from workbench.io.meters import DEFAULT_ENGINE, ENGINES, aggregate_meter_load

# %% [markdown]
# ## The meter data
# Each row of `bronze.meter_reads` is one **15-minute energy read** of one meter: `energy_kwh`
# [kWh] used in the quarter-hour starting at `timestamp` (UTC, interval start), with the meter's
# `customer_class` (residential or commercial) and `region_id`. The meters are a *sample* of each
# region's customers: a few thousand in the demo lakehouse, a million in the `large` benchmark
# profile.
#
# Reads land as they come from the head-end system, defects included:
#
# - about 2 % of reads are **missing** (isolated, and communication gaps of a few hours);
# - about 1 % are **estimated** by the head-end (`is_estimated` true: smooth filled-in values,
#   often where a gap was);
# - about 0.3 % are landed **twice**. `silver.meter_readings` keeps one read per meter and
#   quarter-hour (the actual over the estimated); aggregating bronze would count duplicates twice.

# %%
cat = open_catalog()
cat.describe("silver.meter_readings")

# %% [markdown]
# The files are **partitioned by local date, then region**: one folder per day as the customers'
# clocks see it (`date=2024-03-20`), one per region inside it (`region_id=HOUSTON`). A query for
# a few days of one region opens only those folders; nothing else is read, not even a file footer.

# %%
root = Path(cat.entry("silver.meter_readings").location)
files = sorted(root.rglob("*.parquet"))
dates = sorted({p.parent.parent.name for p in files})
print(f"{len(files)} Parquet files, {len(dates)} date folders ({dates[0]} … {dates[-1]})")
for path in files[:5]:
    print("  ", path.relative_to(root))

# %% [markdown]
# ## A Dask cluster and its dashboard
# `get_client()` returns a `distributed.Client`: connected to the scheduler named in
# `WORKBENCH_DASK_SCHEDULER` when that is set (a cluster of many machines that see the same
# lake), otherwise to a new **LocalCluster** of worker processes on this machine. We keep it small
# here: a couple of workers with one thread each.

# %%
client = get_client(n_workers=n_workers, threads_per_worker=threads_per_worker)
workers = client.scheduler_info(n_workers=-1)["workers"]
display(Markdown(f"**Dashboard:** [{client.dashboard_link}]({client.dashboard_link})"))
print(f"{len(workers)} workers, {sum(w['nthreads'] for w in workers.values())} threads")

# %% [markdown]
# Open the dashboard link in a browser tab next to the notebook and re-run the cells below:
#
# - **Task Stream**: one bar per task per worker thread, coloured by task kind (reading Parquet,
#   summing). Gaps between bars are the scheduler waiting; red is data moving between workers.
# - **Progress**: tasks done per kind, for the computation running now.
# - **Workers / Memory**: memory per worker; bars turning orange or grey mean spilling to disk —
#   partitions too large, or a result too large to gather.
# - **Graph**: the task graph as it executes.
#
# (When the notebook runs in CI, no one looks: the cluster runs the same way without an audience.)

# %% [markdown]
# ## A lazy scan, computed on the cluster
# `cat.scan(...)` on a `frames` dataset returns a **Dask DataFrame**: a list of partitions (here
# one per Parquet file) and the recipe to read them. Nothing has been read yet except the file
# footers — printing it shows the structure, not the data.

# %%
reads = cat.scan("silver.meter_readings")
print(f"{reads.npartitions} partitions")
reads

# %% [markdown]
# Operations build a task graph; `dask.compute(...)` sends it to the cluster (the client we made
# is the default scheduler), the workers read and reduce their partitions, and only the small
# results travel back. One call computes several results in one pass over the data: the time
# range, and reads / meters / energy / estimated reads per region and customer class.

# %%
per_group = reads.groupby(["region_id", "customer_class"])
tic = time.perf_counter()
span, sums, meters = dask.compute(
    reads.groupby("region_id")["timestamp"].agg(["min", "max"]),
    per_group[["energy_kwh", "is_estimated"]].sum(),
    per_group["meter_id"].nunique(),
)
print(f"computed on the cluster in {time.perf_counter() - tic:.1f} s")
span["days"] = (span["max"] - span["min"] + pd.Timedelta(minutes=15)) / pd.Timedelta(days=1)
display(span.rename(columns={"min": "first read (UTC)", "max": "last read (UTC)"}))
summary = sums.rename(columns={"is_estimated": "estimated_reads"}).assign(meters=meters)
summary["kwh_per_meter_per_day"] = (
    summary["energy_kwh"] / summary["meters"] / span["days"].reindex(summary.index, level=0)
)
commercial_share = summary.xs("commercial", level="customer_class")["meters"].sum() / meters.sum()
print(f"commercial meters: {commercial_share:.1%} of the sample")
assert 0.08 <= commercial_share <= 0.16, commercial_share  # "12 %" in the text below
summary.sort_index().round(2)

# %% [markdown]
# Commercial meters are fewer (12 % of the sample) but each uses several times the energy of a
# home. The same scan of **bronze** shows where the duplicates were: silver holds fewer rows in
# every (date, region) partition, exactly the reads that landed twice.

# %%
bronze = cat.scan("bronze.meter_reads")
rows_bronze, rows_silver = dask.compute(
    bronze.groupby(["date", "region_id"]).size(), reads.groupby(["date", "region_id"]).size()
)
dups = pd.DataFrame({"bronze_rows": rows_bronze, "silver_rows": rows_silver})
dups["removed"] = dups["bronze_rows"] - dups["silver_rows"]
dups["removed_pct"] = 100 * dups["removed"] / dups["bronze_rows"]
removed_pct = 100 * dups["removed"].sum() / dups["bronze_rows"].sum()
print(f"{dups['removed'].sum()} duplicate reads removed of {dups['bronze_rows'].sum()}")
assert 0.1 <= removed_pct <= 0.6, removed_pct  # "about 0.3 % are landed twice" (Overview)
assert (dups["removed"] > 0).all(), "a partition without duplicates: the text above is stale"
dups.sort_index().head(10).round(2)

# %% [markdown]
# ## From reads to regional load: 5 minutes, 15 minutes, one hour
# `aggregate_meter_load` does the pass over the reads for you: it prunes the partitions to the
# window and regions asked for, sums energy, reads and estimated reads per quarter-hour and group,
# and turns the sums into load:
#
# - **15min**: the reads' own intervals; `load_mw` = `energy_kwh` / 0.25 h / 1000, the mean
#   power of the meters over the quarter-hour [MW].
# - **5min**: a 15-minute read says nothing about *when* in its quarter-hour the energy was used,
#   so each quarter-hour's energy is spread evenly over its three 5-minute intervals — a
#   staircase, with no invented sub-15-minute shape.
# - **1h**: the four quarter-hours summed; `load_mw` is the hour's mean power.
#
# `meters` counts the meters that reported (missing reads are not filled) and `estimated_share`
# is the fraction of those reads that were estimated. The window below is the last `days` days
# that *every* region covers, in whole hours (start and end must sit on the boundaries of the
# resolution). Partitions hold local days, so regions in different time zones start and end at
# different UTC hours: WEST (Mountain time) runs an hour behind the others.

# %%
end = (span["max"].min() + pd.Timedelta(minutes=15)).floor("1h")
start = max(end - pd.Timedelta(days=days), span["min"].max().ceil("1h"))
print(f"window [{start}, {end}): {(end - start) / pd.Timedelta(hours=1):.0f} hours")

by = ("region_id", "customer_class")
load = {
    freq: aggregate_meter_load(cat, freq=freq, start=start, end=end, by=by)
    for freq in ("5min", "15min", "1h")
}
load["1h"].head()

# %% [markdown]
# The meter sample's load is small (kilowatts to a few hundred kilowatts per region), so the plots
# use kW. First the hourly load of each region, stacked: the top edge is the whole sample.

# %%
hourly = load["1h"]
regional = hourly.pivot_table(
    index="timestamp", columns="region_id", values="load_mw", aggfunc="sum"
).fillna(0.0)
regional = regional[regional.mean().sort_values(ascending=False).index]
fig, ax = plt.subplots(figsize=(11, 4))
ax.stackplot(regional.index, (regional * 1000).T.to_numpy(), labels=regional.columns, alpha=0.85)
ax.set(ylabel="load of the meter sample [kW]", title="Hourly load of the metered customers")
ax.legend(loc="upper left", ncols=len(regional.columns), fontsize=8)
ax.margins(x=0)
fig.autofmt_xdate()

# %% [markdown]
# Resolution, up close: one day of one region at 5, 15 and 60 minutes. The 5-minute series is a
# staircase of the 15-minute one (same energy, no new information); the hourly one is the mean of
# four quarter-hours and hides the short peaks.

# %%
day_start = max(start, end - pd.Timedelta(days=1))


def region_series(freq: str) -> pd.Series:
    """Load of the chosen region over the last day [kW], both customer classes summed."""
    frame = load[freq]
    frame = frame[(frame["region_id"] == region) & (frame["timestamp"] >= day_start)]
    return frame.groupby("timestamp")["load_mw"].sum() * 1000


fig, ax = plt.subplots(figsize=(11, 3.5))
for freq, color in (("15min", "tab:orange"), ("1h", "tab:green")):
    series = region_series(freq)
    # each value holds from its interval start to the next: a step drawn to the window's end
    ax.stairs(
        series.to_numpy(), [*series.index, end], baseline=None, color=color, lw=1 + (freq == "1h")
    )
    ax.plot([], [], color=color, label=freq)
five = region_series("5min")
ax.plot(five.index + pd.Timedelta(minutes=2.5), five.to_numpy(), ".", ms=3, color="k", label="5min")
ax.set(ylabel="load [kW]", title=f"{region}: the meter sample at three resolutions")
ax.legend(ncols=3)
fig.autofmt_xdate()

# %% [markdown]
# ### Load profile by hour of day
# Dividing by the number of reporting meters gives the mean load **per meter** [kW], which makes
# the classes comparable. The hour of day is the customers' *local* hour (each region's time zone
# from `gold.dim_regions`): commercial meters follow business hours, homes peak in the evening.

# %%
zones = cat.read("gold.dim_regions").set_index("region_id")["timezone"]
per_meter = hourly.assign(kw_per_meter=hourly["load_mw"] * 1000 / hourly["meters"])


def local_times(frame: pd.DataFrame) -> list[pd.Timestamp]:
    """Each row's timestamp on the wall clock of its region."""
    pairs = zip(frame["timestamp"], frame["region_id"], strict=True)
    return [ts.tz_convert(zones[r]) for ts, r in pairs]


local = local_times(per_meter)
per_meter["hour"] = [t.hour for t in local]
per_meter["weekend"] = [t.dayofweek >= 5 for t in local]
profile = per_meter.groupby(["customer_class", "weekend", "hour"])["kw_per_meter"].agg(
    ["mean", lambda s: s.quantile(0.1), lambda s: s.quantile(0.9)]
)
profile.columns = ["mean", "p10", "p90"]

classes = sorted(profile.index.get_level_values("customer_class").unique())
fig, axes = plt.subplots(1, len(classes), figsize=(11, 3.8), sharex=True, layout="constrained")
for ax, klass in zip(np.atleast_1d(axes), classes, strict=True):
    for weekend, grp in profile.loc[klass].groupby(level="weekend"):
        hours = grp.index.get_level_values("hour")
        color = "tab:gray" if weekend else "tab:blue"
        label = "weekend" if weekend else "weekday"
        ax.plot(hours, grp["mean"], color=color, lw=2, label=label)
        ax.fill_between(hours, grp["p10"], grp["p90"], color=color, alpha=0.15)
    ax.set(title=klass, xlabel="local hour of day", xticks=range(0, 24, 3), ylim=(0, None))
    ax.legend()
np.atleast_1d(axes)[0].set_ylabel("mean load per meter [kW]")
fig.suptitle("Load profile by customer class (band: 10-90 % of the hours)")

# %% [markdown]
# ### Estimated reads
# An estimated read is the head-end's guess, not a measurement: a high share in a region or on a
# day means a communication problem (a gap filled by estimation), and a load figure there is less
# certain. The share per region and local day:

# %%
q = load["15min"]
est = q.assign(
    estimated=q["estimated_share"] * q["meters"],
    day=[t.date() for t in local_times(q)],
)
share = est.groupby(["region_id", "day"])[["estimated", "meters"]].sum()
share = (100 * share["estimated"] / share["meters"]).unstack("day")
fig, ax = plt.subplots(figsize=(11, 2.8))
im = ax.imshow(share.to_numpy(), aspect="auto", cmap="magma_r", vmin=0)
ax.set_yticks(range(len(share.index)), share.index)
step = max(1, len(share.columns) // 10)
ax.set_xticks(range(0, len(share.columns), step), [str(d) for d in share.columns[::step]])
ax.set_title("Estimated reads [% of reads] per region and local day")
fig.colorbar(im, ax=ax, label="%")

# %% [markdown]
# ## Three engines, one answer
# The pass over the reads can run on three engines; everything after it (the definitions of the
# resolutions, `meters`, `estimated_share`) is shared code, so the engines cannot disagree:
#
# - **polars** (the default): a lazy, streaming query in this process;
# - **duckdb**: SQL over the files in this process, with settable memory limits (`duckdb_config`);
# - **dask**: partitions summed on the cluster's workers, only the sums travel back.
#
# Same window, same grouping, timed:

# %%
timings, results = [], {}
for engine in ENGINES:
    tic = time.perf_counter()
    results[engine] = aggregate_meter_load(
        cat,
        freq="15min",
        start=start,
        end=end,
        by=by,
        engine=engine,
        client=client if engine == "dask" else None,
    )
    timings.append({"engine": engine, "seconds": time.perf_counter() - tic})
for engine in ENGINES:
    pd.testing.assert_frame_equal(results[engine], results[DEFAULT_ENGINE], rtol=1e-9)
table = pd.DataFrame(timings).set_index("engine")
table["runs in"] = {
    "polars": "this process, lazy streaming query",
    "duckdb": "this process, SQL over the files",
    "dask": f"{len(workers)} cluster workers",
}
table["rows_out"] = [len(results[e]) for e in table.index]
table["max_diff_kw"] = [
    1000 * (results[e]["load_mw"] - results[DEFAULT_ENGINE]["load_mw"]).abs().max()
    for e in table.index
]
table.round(3)

# %% [markdown]
# All three return the same frame. On a window this small the times are mostly fixed costs
# (planning, opening files, and for Dask scheduling tasks and moving results between processes);
# they say little about scale. `benchmarks/meters.py` measured the real case: one day of a million
# meters (94M reads) on a 2-core machine — Polars 2.6-3.5 s, DuckDB ~1.4× slower, Dask on a local
# 2-process cluster ~7× slower — and a month (566M reads) streamed by Polars in under 10 s within
# 0.5 GB. That is why **polars is the default**. Reach for **duckdb** when memory is the
# constraint (the smallest footprint, with a hard limit), and for **dask** when the reads no longer
# fit one machine's time budget: point `WORKBENCH_DASK_SCHEDULER` at a real cluster whose workers
# see the lake (a shared file system or `s3://` paths) and the same call scales out.

# %% [markdown]
# ## The meters and the system load
# `silver.system_load` is each region's total load every 5 minutes [MW]. The meters are a small
# sample of the region's customers, so their *level* is thousands of times lower; what should
# agree is the **shape**. Compare hourly means, each divided by its own mean over the hours both
# cover.

# %%
system = cat.read("silver.system_load", start=start, end=end)
system_hourly = (
    system.set_index("timestamp")
    .groupby("region_id")["load_mw"]
    .resample("1h")
    .mean()
    .rename("system_mw")
    .reset_index()
)
meters_hourly = aggregate_meter_load(cat, freq="1h", start=start, end=end, by="region_id")
both = meters_hourly.merge(system_hourly, on=["timestamp", "region_id"], how="inner")
stats = both.groupby("region_id").apply(
    lambda g: pd.Series(
        {
            "meters": g["meters"].mean(),
            "shape_correlation": np.corrcoef(g["load_mw"], g["system_mw"])[0, 1],
            "system_to_sample": (g["system_mw"] / g["load_mw"]).median(),
        }
    ),
    include_groups=False,
)
stats.round(3)

# %%
fig, (ax, ax_bar) = plt.subplots(
    1, 2, figsize=(12, 3.8), gridspec_kw={"width_ratios": [3, 1]}, layout="constrained"
)
one = both[both["region_id"] == region].set_index("timestamp")
ax.plot(one.index, one["system_mw"] / one["system_mw"].mean(), lw=2, label="system load")
ax.plot(one.index, one["load_mw"] / one["load_mw"].mean(), lw=1, label="meter sample")
ax.set(ylabel="load / its mean [1]", title=f"{region}: shape of the load, hourly")
ax.legend()
for label in ax.get_xticklabels():
    label.set_rotation(30)
ax_bar.barh(stats.index, stats["shape_correlation"], color="tab:green")
ax_bar.set(xlim=(min(0, stats["shape_correlation"].min()), 1), title="correlation, hourly")
for y, (_, row) in enumerate(stats.iterrows()):
    ax_bar.text(0.02, y, f"{row['meters']:.0f} meters", va="center", fontsize=8)

# %% [markdown]
# The sample follows the system's daily shape. The fewer meters a region has, the noisier its
# sample (each home's load is very spiky) and the lower the correlation. `system_to_sample` is
# how many times larger the system load is than the sample's: a rough scale factor, not a
# measurement — the system also holds industrial load that no residential or commercial meter
# sees.

# %% [markdown]
# ## Close the cluster
# A LocalCluster holds worker processes until it is closed. `close_client()` closes the client and
# the cluster that `get_client()` started (for a remote scheduler it leaves the cluster running).

# %%
client.close()
close_client()
cat.close()

# %% [markdown]
# ## Summary
# - Meter reads are 15-minute energy [kWh] per meter, in Parquet partitioned by local date and
#   region; bronze holds duplicates and estimated reads, silver one read per meter and interval.
# - `get_client()` starts a LocalCluster (or joins `WORKBENCH_DASK_SCHEDULER`); its dashboard shows
#   tasks, progress and worker memory.
# - `cat.scan` gives a lazy Dask DataFrame; `dask.compute` runs several reductions in one pass on
#   the cluster.
# - `aggregate_meter_load` turns reads into load at 5 min (a staircase of 15 min), 15 min or 1 h,
#   per region and customer class, with the reporting meters and the share of estimated reads.
# - Polars, DuckDB and Dask give the same numbers; Polars is the fastest on one machine (the
#   default), DuckDB the leanest, Dask the one that scales out.
# - A meter sample matches its region's load in shape, not level.
#
# ## What's next
# - `00_catalog_and_medallion`: where `silver.meter_readings` and `silver.system_load` come from.
# - `benchmarks/meters.py`: the engines on a million meters.
# - The `forecasting` notebooks: forecast the regional load these meters sample.
