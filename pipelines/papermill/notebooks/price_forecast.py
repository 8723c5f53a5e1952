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
# # Day-ahead LMP forecast per node
#
# ## Overview
# A scheduled job. At the issue hour (10:00 local) of the issue date it forecasts the hourly
# day-ahead LMP of every pricing node for the next 48 hours from local midnight, with quantiles
# (10 %, 50 %, 90 %), from what `gold.fact_market_prices` held at the issue time, and publishes
# the run to `gold.price_forecasts` in one transaction (a rerun with the same key replaces its
# rows). Only the day-ahead (DA) market is forecast.
#
# ## Prerequisites
# | concept | importance | notes |
# |---|---|---|
# | the catalog and the gold facts | necessary | `notebooks/tutorials/00_catalog_and_medallion` |
# | quantile forecasts | helpful | a 10-90 % band holds the actual 80 % of the time |
#
# Time to learn: 10 minutes. Data: the demo lakehouse (`make demo`) or any with gold built.

# %% [markdown]
# ## Parameters
# `issue_date` is a local date (`YYYY-MM-DD`) or `auto` (the day before the last day of data). The
# runner injects `run_id` and `run_key`.

# %% tags=["parameters"]
issue_date = "auto"  # YYYY-MM-DD (local) or auto
timezone = "America/Chicago"  # local time of the issue hour and the target days
issue_hour = 10  # local hour the forecast is issued
horizon_hours = 48  # hourly targets from the next local midnight
train_days = 28  # history the model sees [d]
model = "seasonal_naive"  # a workbench.forecasting model name, or seasonal_baseline
model_params = "{}"  # JSON: keyword arguments of the model
fallback = ""  # seasonal_baseline only if the spec declares it (the run is then degraded)
retrain = "weekly"  # weekly (the Monday issue's model serves the week) or daily
run_id = "manual"
run_key = "price_forecast:manual"

# %% [markdown]
# ## Imports

# %%
from workbench import open_catalog
from workbench.forecasting.plots import series_bands
from workbench.jobs.context import resolve_day
from workbench.jobs.forecast_jobs import run_forecast

# %% [markdown]
# ## Forecast and publish

# %%
cat = open_catalog(read_only=True)
day = resolve_day(cat, issue_date, "gold.fact_market_prices", timezone, offset_days=-1)
result = run_forecast(
    cat,
    "price",
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
# The median and the 10-90 % band of the first four series.

# %%
fig = series_bands(result.forecast, "node_id", "lmp_price", unit="USD/MWh")

# %% [markdown]
# ## Summary
# Every series' forecast for the next two local days is in `gold.price_forecasts` under this run's
# key, and `ops.job_runs` records the run with its metrics.
#
# ## What's next
# - `workbench jobs history price_forecast` lists the runs; `workbench jobs backfill` fills past
#   days.
# - `notebooks/` has the tutorials on building and backtesting these models.
