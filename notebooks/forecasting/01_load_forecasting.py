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
# # Load forecasting end to end: features, backtest, tuning, registry
#
# ## Overview
# The platform forecasts every region's load 48 hours ahead, once a day (target: MAPE 2.5 %).
# This notebook walks the whole path a forecast takes before a job may publish it:
#
# 1. build the **use case** from the catalog: hourly `actual_load_mw` from `gold.fact_load`, the
#    region's **weather forecasts** as they were issued, holidays, and when each value becomes
#    known (the catalog's availability lags);
# 2. look at the **point-in-time features** one issue sees, and at why weather *forecasts* — not
#    the observed weather — are the honest input;
# 3. run a **rolling-origin backtest** of the seasonal-naive baseline and LightGBM with quantiles,
#    and read the errors by step and by hour of day, as fan charts and a heatmap;
# 4. **tune** LightGBM with Optuna (a persistent study under `WORKBENCH_HOME`), check the tuned
#    parameters on the test period they never saw;
# 5. **register** both LightGBM versions (default and tuned parameters) in a *scratch* registry,
#    promote only the one that wins on the same test backtest, and load it back by stage.
#
# ## Prerequisites
# | concept | importance | notes |
# |---|---|---|
# | pandas, time zones | necessary | UTC inside, local time for calendars |
# | gradient-boosted trees | helpful | LightGBM learns `load - level` from lags and weather |
# | quantiles, pinball loss | helpful | the 10-90 % band and how it is scored |
# | the catalog and feature views | helpful | `notebooks/tutorials/00_catalog_and_medallion` |
#
# Time to learn: 30 minutes. Data: the demo lakehouse (`make demo`), or any lakehouse that
# `WORKBENCH_HOME` points at; the test period is the end of the data, whatever its dates.

# %% [markdown]
# ## Parameters

# %% tags=["parameters"]
region = "NORTH"  # a region_id of gold.dim_regions
history_days = 365  # days of history read before the test period
test_days = 28  # the test period: the last N days of the data
retrain = "weekly"  # refit schedule of the backtest: never, monthly, weekly, every
fan_issues = 3  # issues drawn as fan charts
n_trials = 5  # Optuna trials in this run (added to the study's earlier ones)
validation_days = 7  # validation window of the tuning, at the end of the training window [d]
n_folds = 2  # rolling-origin folds of the validation window
seed = 0  # seed of the tuning sampler

# %% [markdown]
# ## Imports

# %%
import shutil
import tempfile
import time
import warnings
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from workbench import open_catalog
from workbench.forecasting.backtest import backtest, issue_schedule
from workbench.forecasting.base import ForecastData, make_forecaster
from workbench.forecasting.features import FeatureConfig, build_features, feature_columns
from workbench.forecasting.metrics import score_by
from workbench.forecasting.plots import error_heatmap, fan_chart
from workbench.forecasting.registry import ModelRegistry
from workbench.forecasting.tuning import tune
from workbench.forecasting.usecases.load import load_usecase

warnings.filterwarnings("ignore", message="IProgress not found")  # optuna's tqdm in Jupyter

# %% [markdown]
# ## The use case
# `load_usecase` turns catalog tables into a forecast problem: the target `y` (hourly load
# [MW], a regular UTC grid, gaps as NaN), the **versioned** weather forecasts (one row per
# forecast run and target hour) as future covariates, and a `ForecastSpec`: 48 hourly steps,
# quantiles 10/50/90 %, the region's time zone, and per column the **availability lag** read from
# the catalog. The use case also names its daily issue time (06:00 local).

# %%
cat = open_catalog()
fact_load = cat.scan("gold.fact_load")
data_end = pd.Timestamp(fact_load.timestamp.max().to_pandas())
data_end = data_end.tz_localize("UTC") if data_end.tzinfo is None else data_end.tz_convert("UTC")
test_start = data_end.normalize() - pd.Timedelta(days=test_days)
uc = load_usecase(cat, region, start=test_start - pd.Timedelta(days=history_days))
spec, data, tz = uc.spec, uc.data, uc.spec.tz
print(uc.name, "| issue time", uc.issue_time, tz, "| notes:", uc.notes or "none")
print(f"y: {len(data.y)} hours, {data.y.index[0]} .. {data.y.index[-1]}, {data.y.isna().sum()} NaN")
print("weather forecasts:", None if data.future is None else data.future.shape)
pd.Series({k: str(v) for k, v in spec.availability_lag.items()}, name="availability lag")

# %% [markdown]
# ## Point-in-time features
# A value labelled `t` covers `[t, t + 1 h)` and becomes known at `t + 1 h + lag`. For the load
# the catalog says the lag is the one above, so at an issue at 06:00 local the last known hour is
# `spec.last_known_label(issue)`: everything after it is the future, even the hour that is
# already over. The features of each `(issue, step)` row use only what was known at the issue:
# the level (7-day mean), the last value, yesterday's and last week's value at the target's
# local time, the calendar of the target, and the weather forecast of the target hour **from the
# latest forecast run issued at or before the issue** (minus the forecast table's own lag).

# %%
test_end = data_end - pd.Timedelta(hours=spec.horizon - 1)  # every target of the test is observed
issues = issue_schedule(test_start, test_end, uc.issue_time, tz)
first = issues[:1]
last_known = spec.last_known_label(first)[0]
print(f"issue {first[0].tz_convert(tz)}: last known load hour starts {last_known.tz_convert(tz)}")
cfg = FeatureConfig(**uc.model_params["lightgbm"])
feats = build_features(data, spec, first, cfg)
feats.set_index("step").loc[[1, 12, 24, 48], feature_columns(feats)].T.round(2)

# %% [markdown]
# ### Why weather forecasts, not the observed weather
# `gold.fact_load` also carries `temperature_f`, the *observed* temperature. It is tempting as an
# input, and wrong: when the job runs, tomorrow's temperature has not been observed — only
# forecast, with an error that grows with lead time. A model trained and backtested on observed
# weather learns to trust a perfect temperature and looks better in the backtest than it can
# ever be in production. Below: the forecast the first issue saw against what was observed.

# %%
observed = cat.read("gold.fact_load", start=data.y.index[0], where={"region": region})
observed = pd.Series(
    observed["temperature_f"].to_numpy(),
    index=pd.DatetimeIndex(pd.to_datetime(observed["timestamp"], utc=True)).as_unit("ns"),
).reindex(data.y.index)
x = pd.DatetimeIndex(feats["target_time"]).tz_convert(tz).tz_localize(None)  # local wall time
fig, ax = plt.subplots(figsize=(10, 3.2))
ax.plot(x, feats["f_fut_temperature_f"], label="forecast (known at the issue)")
ax.plot(x, observed.reindex(pd.DatetimeIndex(feats["target_time"])).to_numpy(), "k", lw=1,
        label="observed (known only afterwards)")  # fmt: skip
ax.set(
    ylabel="temperature [°F]", title=f"{region}: weather seen by the issue of {x[0]:%d %b} ({tz})"
)
ax.legend(fontsize=8)
fig.autofmt_xdate()

# %% [markdown]
# The cost of the mistake, measured: the same LightGBM backtested once with the forecasts and
# once with the observed temperature as if it were known ahead (an *exact* future covariate).
# The second error is what a leaky backtest would report; the first is what production gets.

# %%
leaky = ForecastData(y=data.y, future=observed.to_frame("temperature_f"))
leaky_spec = spec.replace(future_covariates=("temperature_f",), availability_lag={"y": spec.lag()})
params = uc.model_params["lightgbm"]
honest_mae = backtest(data, spec, "lightgbm", issues, model_params=params, baseline=None)
leaky_mae = backtest(leaky, leaky_spec, "lightgbm", issues, model_params=params, baseline=None)
leak = pd.Series(
    {
        "weather forecasts (honest)": honest_mae.metrics()["model"]["mae"],
        "observed weather (leaky)": leaky_mae.metrics()["model"]["mae"],
    },
    name="MAE [MW]",
)
assert leak["observed weather (leaky)"] < leak["weather forecasts (honest)"], leak  # as claimed
leak.round(1)

# %% [markdown]
# ## Rolling-origin backtest: seasonal naive vs LightGBM
# One issue per day at 06:00 local over the test period; each forecasts 48 hours. The model is
# refitted on the `retrain` schedule, each fit using only what was known at the first issue it
# serves. The seasonal-naive baseline (yesterday's load at the same local time, from the latest
# day known at the issue) runs on the same issues. Both give quantiles: LightGBM's are conformal,
# calibrated on the model's own errors at the end of its training window.

# %%
t0 = time.perf_counter()
result = backtest(data, spec, "lightgbm", issues, retrain=retrain, model_params=params)
print(f"{len(issues)} issues, {len(result.fits)} fit(s), {time.perf_counter() - t0:.1f} s")
metrics = result.metrics()
overall = pd.DataFrame({"seasonal_naive": metrics["baseline"], "lightgbm": metrics["model"]})
overall.loc[["mae", "rmse", "mape_pct", "pinball", "crps", "coverage_80"]].round(3)

# %% [markdown]
# Skill is `1 - score / baseline score`: positive means LightGBM beats the baseline. The 80 %
# band (10-90 %) should hold about 80 % of the actuals (`coverage_80`; within ±20 points on a
# test period of a few days, where each issue's 48 hours move together).

# %%
assert abs(metrics["model"]["coverage_80"] - 0.8) <= 0.2, metrics["model"]["coverage_80"]
pd.Series(metrics["skill"]).round(3)

# %% [markdown]
# ### Fan charts
# A few issues of the test period: the 10-90 % band, the median forecast, the actuals and the
# two days of history before the issue (red line: the issue time).

# %%
picks = pd.DatetimeIndex(result.forecasts["issue_time"].unique())
picks = picks[np.linspace(0, len(picks) - 1, min(fan_issues, len(picks))).round().astype(int)]
for issue in picks:
    fig = fan_chart(result.forecasts, issue, tz=tz, history=data.y)
    fig.axes[0].set_ylabel("load [MW]")

# %% [markdown]
# ### Errors by step and by hour of day
# The error grows with the lead (the step), and it depends on the hour of the day: the morning
# ramp and the evening peak are harder than the night.

# %%
q = spec.quantiles
fig, axes = plt.subplots(1, 2, figsize=(12, 3.5))
for name, frame in (("seasonal_naive", result.baseline), ("lightgbm", result.forecasts)):
    axes[0].plot(score_by(frame, "step", q, tz=tz)["mae"], label=name)
    axes[1].plot(score_by(frame, "hour", q, tz=tz)["mae"], marker="o", ms=3, label=name)
axes[0].set(xlabel="step [h ahead]", ylabel="MAE [MW]", title="by step")
axes[1].set(xlabel=f"target hour ({tz})", ylabel="MAE [MW]", title="by hour of day")
axes[0].legend()
fig.tight_layout()

# %% [markdown]
# The heatmaps cross the two. With one issue a day at a fixed time, the step and the target
# hour are tied (step 1 is always 06:00), so `error_heatmap` — MAE by hour × step — shows a
# diagonal band: each hour of the day appears at one step of each lead day.

# %%
fig = error_heatmap(result.forecasts, tz=tz, metric="mae")

# %% [markdown]
# Folding the steps into lead days gives a full picture: the mean absolute error [MW] by target
# hour for the first and the second 24 hours, both models on one colour scale. Below it, the
# signed error (actual minus forecast) of LightGBM by test day and hour, averaged over the
# issues that cover the hour: which days and hours it under- (red) or over-forecast (blue).


# %%
def by_hour_and_lead_day(frame: pd.DataFrame) -> pd.DataFrame:
    """MAE [MW] by local target hour (rows) and lead day (columns)."""
    hour = pd.DatetimeIndex(frame["target_time"]).tz_convert(tz).hour
    day = (frame["step"] - 1) // 24 + 1
    err = (frame["y_true"] - frame["y_pred"]).abs()
    table = pd.DataFrame({"hour": hour, "day": day, "err": err})
    return table.pivot_table(index="hour", columns="day", values="err", aggfunc="mean")


tables = {"seasonal_naive": by_hour_and_lead_day(result.baseline)}
tables["lightgbm"] = by_hour_and_lead_day(result.forecasts)
vmax = max(np.nanmax(t.to_numpy()) for t in tables.values())
fig, axes = plt.subplots(1, 2, figsize=(8, 4.5), sharey=True)
for ax, (label, table) in zip(axes, tables.items(), strict=True):
    im = ax.imshow(table.to_numpy(), aspect="auto", origin="lower", vmin=0, vmax=vmax)
    ax.set_xticks(range(table.shape[1]), [f"day {d}" for d in table.columns])
    ax.set_title(f"{label}: MAE {np.nanmean(table.to_numpy()):.0f} MW")
axes[0].set_ylabel(f"target hour ({tz})")
cbar = fig.colorbar(im, ax=axes, label="MAE [MW]")

local = pd.DatetimeIndex(result.forecasts["target_time"]).tz_convert(tz)
signed = pd.DataFrame(
    {
        "date": local.strftime("%m-%d"),
        "hour": local.hour,
        "err": result.forecasts["y_true"] - result.forecasts["y_pred"],
    }
).pivot_table(index="hour", columns="date", values="err", aggfunc="mean")
lim = np.nanmax(np.abs(signed.to_numpy()))
fig, ax = plt.subplots(figsize=(10, 4))
im = ax.imshow(signed.to_numpy(), aspect="auto", origin="lower", cmap="RdBu_r", vmin=-lim, vmax=lim)
step = max(1, signed.shape[1] // 14)
ax.set_xticks(range(0, signed.shape[1], step), signed.columns[::step], rotation=45)
ax.set(ylabel=f"target hour ({tz})", title="LightGBM: actual minus forecast, by day and hour")
cbar = fig.colorbar(im, ax=ax, label="error [MW]")

# %% [markdown]
# ## Tuning with Optuna
# `tune` searches LightGBM's space (trees, learning rate, leaves, regularisation) with a seeded
# TPE sampler. Each trial is a small rolling-origin backtest over `validation_days` at the end of
# the **training window** (everything before the first test issue), split into `n_folds`; a
# median pruner stops trials that are worse than earlier ones after a fold. The study lives in
# `WORKBENCH_HOME/optuna.db`: running this cell again continues it. The test period is never
# seen by the tuning.

# %%
study = f"load_{region.lower()}_lightgbm"
t0 = time.perf_counter()
tuned = tune(
    data,
    spec,
    "lightgbm",
    study_name=study,
    until=issues[0],
    n_trials=n_trials,
    validation_days=validation_days,
    n_folds=n_folds,
    issue_time=uc.issue_time,
    seed=seed,
    fixed_params={**params, "num_threads": 1},
)
print(f"{time.perf_counter() - t0:.1f} s; study {tuned.study_name!r} in {tuned.storage}")
print(f"trials: {tuned.n_complete} complete, {tuned.n_pruned} pruned, {tuned.n_failed} failed")
tuned.trials.sort_values("value").head(8).round(3)

# %% [markdown]
# Validation scores drive the search, so they flatter the winner. The honest check is the test
# period: the tuned parameters against the defaults, on the same issues.

# %%
tuned_result = backtest(data, spec, tuned.make_forecaster(), issues, retrain=retrain)
tuned_metrics = tuned_result.metrics()
comparison = pd.DataFrame(
    {
        "seasonal_naive": metrics["baseline"],
        "lightgbm (defaults)": metrics["model"],
        "lightgbm (tuned)": tuned_metrics["model"],
    }
).loc[["mae", "mape_pct", "pinball", "coverage_80"]]
comparison.round(3)

# %% [markdown]
# ## The model registry
# A registered version keeps the fitted model and what it needs to be trusted later: the
# parameters, the spec, the features, the training window, a hash of the training data, the code
# version and the backtest metrics. Versions are immutable; the **alias** (`challenger`,
# `champion`, or the `archived` tag) moves. Jobs load "the champion of `name`" from the MLflow
# registry under `WORKBENCH_HOME`, so promoting there is how a model goes live — which a
# tutorial must never do by accident. This notebook registers into a **scratch registry** in a
# temporary folder, deleted at the end; `workbench models promote` is the deliberate way.
#
# Both LightGBM versions are candidates, each refitted on everything known now and registered
# as `challenger` with its metrics on the test period — the same issues for both. The promotion
# rule: the lower test MAPE wins, and it must also beat the seasonal-naive baseline. Tuning
# that does not pay off on unseen data is never promoted.

# %%
scratch = Path(tempfile.mkdtemp(prefix="gridmind-tutorial-registry-"))
registry = ModelRegistry(scratch)  # not WORKBENCH_HOME/mlflow: the jobs read that one
name = f"load_{region.lower()}"
keys = ("mae", "mape_pct", "pinball", "coverage_80")
candidates = {
    "lightgbm (defaults)": (lambda: make_forecaster("lightgbm", **params), metrics["model"]),
    "lightgbm (tuned)": (tuned.make_forecaster, tuned_metrics["model"]),
}
versions = {}
for label, (build, scores) in candidates.items():
    versions[label] = registry.register(
        name,
        build().fit(data, spec),
        {"usecase": uc.name, "candidate": label, "study": tuned.study_name,
         "test_issues": len(issues)},
        data=data,
        training_window=(data.y.index[0], data.y.index[-1]),
        metrics={k: scores[k] for k in keys},
        stage="challenger",
    )  # fmt: skip
test_mape = pd.Series({label: scores["mape_pct"] for label, (_, scores) in candidates.items()})
test_mape["seasonal_naive"] = metrics["baseline"]["mape_pct"]
winner = test_mape.drop("seasonal_naive").idxmin()
print(test_mape.round(3).to_string())
assert test_mape[winner] < test_mape["seasonal_naive"], (
    f"no LightGBM version beats the seasonal-naive baseline on the test period "
    f"({test_mape.round(3).to_dict()}): nothing to promote"
)
registry.promote(name, versions[winner])
print(f"promoted {winner} (v{versions[winner]}): the lowest test MAPE")
pd.DataFrame([v.summary() for v in registry.history(name)]).drop(columns="metrics")

# %% [markdown]
# Loading back by name and alias returns the winner: the champion is the version with the
# lowest test MAPE of the candidates, and its forecast for the last test issue is identical to a
# fresh fit of the same parameters (an in-sample forecast here: the check is the round trip).

# %%
loaded, info = registry.load_version(name, "champion")
assert info.version == versions[winner]
assert info.metadata["metrics"]["mape_pct"] == test_mape.drop("seasonal_naive").min()
others = [v for v in registry.history(name) if v.version != info.version]
assert all(v.stage != "champion" for v in others)  # the loser was not promoted
final = candidates[winner][0]().fit(data, spec)
last = issues[-1:]
same = np.allclose(loaded.predict(data, last)["y_pred"], final.predict(data, last)["y_pred"])
assert same
print(f"{info.name} v{info.version} ({info.stage}), {info.metadata['model']['class']}")
print("identical forecast after the round trip:", same)
pd.DataFrame(registry.events(name)).tail(4)

# %% [markdown]
# ## Summary
# - `load_usecase` builds the problem from the catalog with its availability lags; features use
#   only what was known at each issue, and weather enters as the forecasts issued then.
# - A leaky backtest on observed weather reports an error production cannot reach.
# - The rolling-origin backtest scores LightGBM against the seasonal-naive baseline by step and
#   hour, with calibrated 10-90 % bands.
# - Optuna tunes on the training window only; the test period judges the result.
# - The registry versions the model with its metadata; jobs load the champion alias by name.
#   A tutorial registers into a scratch registry and promotes only the candidate that wins on
#   the same test backtest — here the tuned or the default parameters, whichever scored better.
#
# ## What's next
# - `notebooks/market/01_price_and_arbitrage`: the same machinery for prices, and a battery
#   that trades on the forecast.
# - `notebooks/forecasting/forecast_explorer.py` (`marimo run`): browse issues and models.
# - `workbench models list` / `workbench models promote` on the command line.

# %%
cat.close()
shutil.rmtree(scratch)  # the scratch registry goes with the tutorial
