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
# # Anomaly sweep: one day of SCADA and PMU data
#
# ## Overview
# The scheduled anomaly sweep. For one day it runs the sensor rules (flatline, spike,
# out-of-range, stale) over `silver.scada_cleaned` and the frequency-excursion detector (3 samples
# outside 59.95-60.05 Hz within 5 s) over the PMU cube, then publishes `gold.anomaly_events` and
# `gold.frequency_events` together under the run key: a rerun of the same day replaces its events,
# a failed run writes nothing.
#
# ## Prerequisites
# | concept | importance | notes |
# |---|---|---|
# | the catalog | necessary | `notebooks/tutorials/00_catalog_and_medallion` |
# | sensor rules and frequency events | helpful | `workbench.anomaly` |
#
# Time to learn: 10 minutes. Data: any lakehouse with SCADA and PMU data (`make demo`).

# %% [markdown]
# ## Parameters
# `day` is a UTC day (`YYYY-MM-DD`), or `auto` for the latest day with SCADA data. The job runner
# injects `run_id` and `run_key`.

# %% tags=["parameters"]
day = "auto"  # YYYY-MM-DD (UTC) or auto
method = "rules"  # rules, iforest, lstm or ensemble
run_id = "manual"
run_key = "anomaly_sweep:manual"

# %% [markdown]
# ## Imports

# %%
from workbench import open_catalog
from workbench.jobs.context import resolve_day
from workbench.jobs.sweeps import run_anomaly_sweep

# %% [markdown]
# ## Sweep and publish
# The catalog is opened read-only, so dashboards keep reading while the sweep computes; the
# publish step takes a short read-write connection for its one transaction.

# %%
cat = open_catalog(read_only=True)
the_day = resolve_day(cat, day, "silver.scada_cleaned")
result = run_anomaly_sweep(cat, the_day, run_key, method=method)
result.metrics

# %% [markdown]
# The events of the day, as published:

# %%
result.frames["gold.anomaly_events"].head(10)

# %%
frequency = result.frames.get("gold.frequency_events")
frequency.sort_values("nadir_hz").head(10) if frequency is not None else "no PMU data that day"

# %% [markdown]
# ## Summary
# One day's sensor anomalies and frequency events are in gold under this run's key, with the
# counts recorded as the run's metrics in `ops.job_runs`.
#
# ## What's next
# - `workbench jobs history anomaly_sweep` lists the sweeps and their counts.
# - The reliability dashboard (`workbench serve`) shows the events beside the frequency traces.
