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
# # Day one: the catalog and the medallion
#
# ## Overview
# Every dataset the workbench serves is declared in `data_catalog.yaml`: what it is, where it lives,
# its columns with units, its time column and when a value becomes known (its availability lag).
# This tutorial opens the catalog, walks the bronze → silver → gold layers, reads tables lazily with
# Ibis, checks the lineage and data-quality records of the last build, and retrieves point-in-time
# correct features — the things you will do every day.
#
# ## Prerequisites
# | concept | importance | notes |
# |---|---|---|
# | pandas | necessary | frames, time indexes |
# | SQL or dataframe thinking | helpful | Ibis expressions compile to SQL |
# | the medallion layout | helpful | explained below |
#
# Time to learn: 20 minutes. Data: the demo lakehouse (`make demo`), or any lakehouse that
# `WORKBENCH_HOME` points at.

# %% [markdown]
# ## Parameters

# %% tags=["parameters"]
region = "NORTH"  # a region_id of gold.dim_regions
days = 7  # how many of the last days to plot

# %% [markdown]
# ## Imports

# %%
import matplotlib.pyplot as plt
import pandas as pd

from workbench import open_catalog
from workbench.features.store import get_historical_features

# %% [markdown]
# ## The catalog
# `open_catalog()` reads and validates `data_catalog.yaml` (or `WORKBENCH_CATALOG`). Datasets are
# listed layer by layer: **bronze** is raw as landed, **silver** cleaned and validated, **gold** the
# business facts and dimensions, **ops** the records of builds, checks and jobs.

# %%
cat = open_catalog()
layers = {layer: cat.list(layer=layer) for layer in ("bronze", "silver", "gold", "ops")}
pd.DataFrame({k: pd.Series(v) for k, v in layers.items()}).fillna("")

# %% [markdown]
# `describe` shows a dataset's contract: kind, location, time column, resolution, availability
# lag and the columns with their units. In Jupyter it renders as a table.

# %%
cat.describe("gold.fact_load")

# %% [markdown]
# ## Lazy tables with Ibis
# `cat.scan(name)` returns a lazy Ibis table: filters and aggregations run in the warehouse
# (DuckDB here, PostgreSQL or Snowflake elsewhere) and only the result comes back.

# %%
fact_load = cat.scan("gold.fact_load")
last = fact_load.timestamp.max().to_pandas()
since = pd.Timestamp(last) - pd.Timedelta(days=days)
recent = fact_load.filter(fact_load.timestamp >= since.to_pydatetime())
daily = (
    recent.group_by("region")
    .aggregate(
        peak_mw=recent.actual_load_mw.max(),
        mean_mw=recent.actual_load_mw.mean(),
        hours=recent.count(),
    )
    .order_by("region")
)
print(daily.compile())
daily.to_pandas()

# %% [markdown]
# `cat.read` materialises a window, with filters, as pandas (or polars / arrow).

# %%
load = cat.read("gold.fact_load", start=since, where={"region": region})
fig, ax = plt.subplots(figsize=(10, 3.5))
ax.plot(load["timestamp"], load["actual_load_mw"] / 1000, lw=1.2, label="actual")
ax.set(ylabel="load [GW]", title=f"{region}: hourly load, last {days} days")
ax2 = ax.twinx()
ax2.plot(load["timestamp"], load["temperature_f"], color="tab:red", lw=0.8, alpha=0.6)
ax2.set_ylabel("temperature [°F]", color="tab:red")
fig.autofmt_xdate()

# %% [markdown]
# ## Where each gold row came from: lineage and data quality
# Every build records one row per table in `ops.build_runs` (sources, rows in and out, rows
# quarantined, the window rebuilt) and every check in `ops.dq_results`.

# %%
runs = cat.read("ops.build_runs")
latest = runs[runs["build_id"] == runs.sort_values("started_at")["build_id"].iloc[-1]]
latest[["table_name", "sources", "rows_in", "rows_out", "rows_quarantined", "status"]]

# %%
dq = cat.read("ops.dq_results")
summary = dq.groupby("table_name").agg(
    checks=("passed", "size"), failed=("passed", lambda s: (~s).sum())
)
summary.sort_values("failed", ascending=False).head(10)

# %% [markdown]
# ## Point-in-time features
# Feature views (`feature_views:` in the catalog) give each entity's features as they were
# *available* at a given time — a backtest that uses them cannot peek. Here: `load_features` for
# every region at two moments one hour apart.

# %%
as_of = (
    pd.Timestamp(last).tz_localize("UTC")
    if pd.Timestamp(last).tzinfo is None
    else pd.Timestamp(last)
)
entities = pd.DataFrame(
    {
        "region_id": [region, region],
        "as_of": [as_of - pd.Timedelta(hours=1), as_of],
    }
)
get_historical_features(cat, entities, "load_features")

# %% [markdown]
# ## Summary
# - The catalog is the contract: names, units, time columns and availability lags.
# - `scan` is lazy (Ibis), `read` materialises a window.
# - Builds leave lineage (`ops.build_runs`) and data-quality records (`ops.dq_results`).
# - Feature views are retrieved point-in-time correct.
#
# ## What's next
# - `forecasting/01_load_forecasting`: a day-ahead load forecast end to end.
# - `workbench catalog list` and `workbench build --help` on the command line.

# %%
cat.close()
