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
# # Day-ahead load forecast per region
#
# ## Overview
# The workbench's main scheduled job. At the issue hour (10:00 local) of the issue date it
# forecasts the hourly load of every region for the next 48 hours from local midnight, with
# quantiles (10 %, 50 %, 90 %), using only what was known at the issue time. It then, in one
# transaction, replaces this run key's rows of `gold.load_forecasts` and fills
# `gold.fact_load.forecast_load_mw` / `forecast_error` wherever actuals already exist, and records
# the day-ahead MAPE of the previous day (the alert rule watches it).
#
# ## Prerequisites
# | concept | importance | notes |
# |---|---|---|
# | the catalog and gold.fact_load | necessary | `notebooks/tutorials/00_catalog_and_medallion` |
# | quantile forecasts | helpful | a 10-90 % band holds the actual 80 % of the time |
# | jobs and run keys | helpful | `workbench jobs --help` |
#
# Time to learn: 15 minutes. Data: the demo lakehouse (`make demo`) or any with gold built.

# %% [markdown]
# ## Parameters
# `issue_date` is a local date (`YYYY-MM-DD`) or `auto` (the day before the last day with load
# data, so the forecast can be compared with actuals). The runner injects `run_id` and `run_key`.

# %% tags=["parameters"]
issue_date = "auto"  # YYYY-MM-DD (local) or auto
timezone = "America/Chicago"  # local time of the issue hour and the target days
issue_hour = 10  # local hour the forecast is issued
horizon_hours = 48  # hourly targets from the next local midnight
train_days = 180  # history the model sees [d]
model = "lightgbm"  # a workbench.forecasting model name, or seasonal_baseline
model_params = '{"issues_per_day": 1}'  # JSON: keyword arguments of the model
fallback = ""  # seasonal_baseline only if the spec declares it (the run is then degraded)
retrain = "weekly"  # weekly (the Monday issue's model serves the week) or daily
run_id = "manual"
run_key = "day_ahead_load:manual"

# %% [markdown]
# ## Imports

# %%
from workbench import open_catalog
from workbench.forecasting.plots import series_bands
from workbench.jobs.context import resolve_day
from workbench.jobs.forecast_jobs import run_forecast

# %% [markdown]
# ## Forecast and publish
# Reads go through a read-only catalog (dashboards keep reading meanwhile); the publish step holds
# a read-write connection only for its one transaction.

# %%
cat = open_catalog(read_only=True)
day = resolve_day(cat, issue_date, "gold.fact_load", timezone, offset_days=-1)
result = run_forecast(
    cat,
    "load",
    day,
    run_key,
    tz=timezone,
    issue_hour=issue_hour,
    horizon_hours=horizon_hours,
    train_days=train_days,
    model=model,
    model_params=model_params,
    fallback=fallback or None,
    retrain=retrain,
)
result.metrics

# %% [markdown]
# ## The forecast
# The median with its 10-90 % band per region, and the actuals where they exist.

# %%
window = {"start": result.forecast.timestamp.min(), "end": result.forecast.timestamp.max()}
fig = series_bands(
    result.forecast,
    "region_id",
    "load_mw",
    actual=cat.read("gold.fact_load", **window).rename(columns={"region": "region_id"}),
    actual_col="actual_load_mw",
    most=10,
)

# %% [markdown]
# ## Summary
# The day-ahead forecast of every region is in `gold.load_forecasts` under this run's key (a rerun
# replaces it), `gold.fact_load` carries it beside the actuals, and `ops.job_runs` has the run's
# metrics, including the previous day's MAPE.
#
# ## What's next
# - `workbench jobs history day_ahead_load` shows the runs, `workbench jobs backfill` fills past
#   days.
# - The forecast-vs-actual dashboard (`workbench serve`) plots `gold.fact_load`.
