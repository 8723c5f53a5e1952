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
# # Wind forecasting per plant: the power curve, LightGBM and an LSTM
#
# ## Overview
# The platform forecasts every wind plant's output 48 hours ahead (target: MAPE 12 % with an LSTM
# encoder-decoder). Wind output is the hub-height wind speed pushed through the plant's **power
# curve** — cubic at low speeds, flat at rated power, zero above cut-out — so most of the skill
# is in the wind forecast, and the model's job is to map it to megawatts and say how sure it is.
#
# 1. the **use case**: hourly `generation_mw` from `gold.fact_generation`, the hub-height wind
#    speed *forecasts* as issued, and an **empirical power curve** fitted on the training window;
# 2. a **rolling-origin backtest** of persistence and seasonal naive vs LightGBM vs the **LSTM
#    encoder-decoder**, scored as nMAE (MAE ÷ capacity) and skill;
# 3. **nMAE by capacity** across the fleet;
# 4. a **fan chart** with quantiles and the **coverage** of the intervals: does the 80 % band hold
#    80 % of what happened?
#
# ## Prerequisites
# | concept | importance | notes |
# |---|---|---|
# | pandas, time zones | necessary | UTC inside, local time for the issue |
# | wind power curves | helpful | explained below |
# | gradient-boosted trees, recurrent nets | helpful | LightGBM and an LSTM, via the workbench |
# | quantiles, coverage | helpful | the 10-90 % band and how it is checked |
# | the backtest | helpful | `notebooks/forecasting/01_load_forecasting` |
#
# Time to learn: 25 minutes. Data: the demo lakehouse (`make demo`), or any lakehouse that
# `WORKBENCH_HOME` points at; the test period is the end of the data, whatever its dates.

# %% [markdown]
# ## Parameters

# %% tags=["parameters"]
plant_id = "WIND_NORTH_01"  # a wind asset_id of gold.dim_assets
history_days = 120  # days of history read before the test period
test_days = 14  # the test period: the last N days of the data
issue_time = "06:00"  # daily issue time, local time of the plant's region
lstm_epochs = 10  # training epochs of the LSTM (CPU: a few seconds each)
fleet_size = 0  # plants in the fleet backtest (0: every wind plant)
quantiles = (0.1, 0.25, 0.5, 0.75, 0.9)  # quantile levels forecast

# %% [markdown]
# ## Imports

# %%
import time

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from workbench import open_catalog
from workbench.forecasting.backtest import backtest_case, issue_schedule
from workbench.forecasting.metrics import score_by, score_frame
from workbench.forecasting.plots import fan_chart
from workbench.forecasting.usecases.solar import plant, weather_location
from workbench.forecasting.usecases.wind import WIND, wind_usecase

t_start = time.perf_counter()

# %% [markdown]
# ## The plant and its use case
# `wind_usecase` reads the plant's hourly output and the hub-height (100 m) wind-speed forecasts of
# its weather location as they were issued. It fits the plant's **empirical power curve** — the
# median output in each 0.5 m/s bin of observed wind speed, made non-decreasing up to rated power
# — on the hours known by `train_end` only, and adds the forecast wind through that curve as a
# second covariate, `power_curve_mw_fc` [MW]. We pass the first issue of the test as `train_end`,
# so the curve never sees the test period.

# %%
cat = open_catalog()
asset = plant(cat, plant_id, "wind")
tz = str(cat.read("gold.dim_regions", where={"region_id": asset["region"]})["timezone"].iloc[0])
gen = cat.scan("gold.fact_generation")
last = pd.Timestamp(gen.timestamp.max().to_pandas())
last = last.tz_localize("UTC") if last.tz is None else last.tz_convert("UTC")
test_end = last.tz_convert(tz).normalize()  # the last local day of the data
test_start = test_end - pd.Timedelta(days=test_days - 1)
read_start = test_start - pd.Timedelta(days=history_days)
issues = issue_schedule(test_start, test_end, issue_time, tz)


def build(asset_id: str):
    return wind_usecase(
        cat, asset_id, start=read_start, train_end=issues[0], quantiles=quantiles,
        issue_time=issue_time,
    )  # fmt: skip


case = build(plant_id)
capacity = case.spec.capacity
y = case.data.y
print(f"{plant_id}: {capacity:.0f} MW in {asset['region']} ({tz})")
print(f"test: {len(issues)} issues at {issue_time} local, {issues[0]} .. {issues[-1]} (UTC)")
print(f"power curve fitted on {case.power_curve.pairs} hours before {issues[0]}")
print("inputs:", *case.notes, sep="\n  ")

# %% [markdown]
# ## The power curve
# Observed hub-height wind speed (`silver.weather_hourly` at the plant's weather location) against
# the plant's output, hour by hour, with the binned curve on top. The spread around the curve is
# what a perfect wind forecast would still leave: turbine availability, curtailment, wind
# direction and the distance between the weather station and the turbines.

# %%
location = weather_location(cat, asset, [WIND])
obs = cat.read("silver.weather_hourly", start=read_start, columns=["timestamp", WIND],
               where={"location_id": location})  # fmt: skip
obs = obs.set_index(pd.DatetimeIndex(pd.to_datetime(obs["timestamp"], utc=True)))[WIND]
pairs = pd.DataFrame({"speed": obs, "mw": y.reindex(obs.index)}).dropna()
train = pairs.index < issues[0]
grid = np.linspace(0, max(25.0, pairs["speed"].max()), 200)
fig, ax = plt.subplots(figsize=(8, 4.5))
ax.scatter(pairs.loc[train, "speed"], pairs.loc[train, "mw"], s=6, alpha=0.35,
           label="training hours")  # fmt: skip
ax.scatter(pairs.loc[~train, "speed"], pairs.loc[~train, "mw"], s=6, alpha=0.5,
           color="tab:orange", label="test hours (not used for the curve)")  # fmt: skip
ax.plot(grid, case.power_curve(grid), color="black", lw=2, label="binned power curve")
ax.axhline(capacity, color="grey", ls=":", lw=1, label=f"capacity {capacity:.0f} MW")
ax.set(xlabel="hub-height wind speed [m/s]", ylabel="output [MW]",
       title=f"{plant_id}: empirical power curve")  # fmt: skip
ax.legend(fontsize=8)
fig.tight_layout()

# %% [markdown]
# ## Backtest: persistence and seasonal naive vs LightGBM vs the LSTM
# One issue a day at `issue_time` local over the test period, each model fitted once at the first
# issue (`retrain="never"`) on what was known then:
#
# * **persistence** — the last known hour, held for 48 hours (`seasonal_naive` with a 1 h season);
# * **seasonal naive** — the same hour of the last day known (wind has a weak daily cycle);
# * **LightGBM** — trees on lags, calendar, the wind forecast and its power-curve value; quantiles
#   by conformal calibration on the tail of the training window;
# * **LSTM** — an encoder-decoder (`workbench.forecasting.deep`, darts `BlockRNNModel`): the LSTM
#   encodes a day of history and covariates, the decoder maps its state plus each step's forecast
#   covariates to quantiles, trained on the pinball loss. Kept tiny here (`lstm_epochs`) so it runs
#   in seconds on a CPU.

# %%
lgbm = backtest_case(case, "lightgbm", issues)  # the use case's parameters, as the jobs use
persistence = backtest_case(case, "seasonal_naive", issues, baseline=None,
                            model_params={"season": "1h"})  # fmt: skip
t0 = time.perf_counter()
lstm = backtest_case(case, "lstm", issues, baseline=None,
                     model_params={"n_epochs": lstm_epochs, "n_threads": 1})  # fmt: skip
print(f"LSTM: {lstm_epochs} epochs in {time.perf_counter() - t0:.1f} s")
frames = {
    "persistence": persistence.forecasts,
    "seasonal naive": lgbm.baseline,
    "LightGBM": lgbm.forecasts,
    "LSTM": lstm.forecasts,
}


def scores(frame: pd.DataFrame, cap: float) -> dict:
    s = score_frame(frame, quantiles, cap)
    keep = ("nmae_pct", "mae", "rmse", "crps", "coverage_80", "coverage_50")
    return {k: s.get(k, np.nan) for k in keep}


table = pd.DataFrame({k: scores(f, capacity) for k, f in frames.items()}).T
table["skill_vs_persistence"] = 1 - table["mae"] / table.loc["persistence", "mae"]
table["skill_crps"] = 1 - table["crps"] / table.loc["persistence", "crps"]
table.round(3)

# %% [markdown]
# Skill is `1 - MAE / MAE of persistence` (positive: better). Over 48 hours persistence decays
# fast: wind changes within hours, so beyond the first few steps the wind *forecast* carries the
# skill. nMAE by step shows where each model wins.

# %%
by_step = pd.DataFrame(
    {k: score_by(f, "step", quantiles, capacity)["nmae_pct"] for k, f in frames.items()}
)
fig, ax = plt.subplots(figsize=(9, 3.8))
by_step.rolling(3, center=True, min_periods=1).mean().plot(ax=ax)
ax.set(xlabel="hours ahead of the issue [h]", ylabel="nMAE [% of capacity]",
       title=f"{plant_id}: error by lead time (3-h smoothed)")  # fmt: skip
fig.tight_layout()

# %% [markdown]
# ## nMAE by capacity across the fleet
# LightGBM and persistence for every wind plant (or `fleet_size` of them spread over sizes), each
# with its own power curve fitted before the test. nMAE divides by capacity, so a 600 MW and a
# 2,200 MW plant compare on one scale.

# %%
wind_assets = cat.read("gold.dim_assets", where={"technology": "wind"}).set_index("asset_id")
fleet_ids = list(wind_assets.sort_values("capacity_mw").index)
if fleet_size and fleet_size < len(fleet_ids):
    keep = np.linspace(0, len(fleet_ids) - 1, fleet_size).round().astype(int)
    fleet_ids = sorted({fleet_ids[i] for i in keep} | {plant_id})
rows = []
for asset_id in fleet_ids:
    if asset_id == plant_id:
        c, r, p = case, lgbm, persistence
    else:
        c = build(asset_id)
        r = backtest_case(c, "lightgbm", issues, baseline=None)
        p = backtest_case(c, "seasonal_naive", issues, baseline=None,
                          model_params={"season": "1h"})  # fmt: skip
    cap = c.spec.capacity
    rows.append(
        {
            "asset_id": asset_id,
            "region": wind_assets.loc[asset_id, "region"],
            "capacity_mw": cap,
            "nmae_pct": score_frame(r.forecasts, quantiles, cap)["nmae_pct"],
            "persistence_nmae_pct": score_frame(p.forecasts, quantiles, cap)["nmae_pct"],
            "coverage_80": score_frame(r.forecasts, quantiles, cap)["coverage_80"],
        }
    )
fleet = pd.DataFrame(rows).set_index("asset_id")
fleet["skill"] = 1 - fleet["nmae_pct"] / fleet["persistence_nmae_pct"]
fleet.sort_values("capacity_mw").round(3)

# %%
fig, ax = plt.subplots(figsize=(8, 4))
for region, g in fleet.groupby("region"):
    ax.scatter(g["capacity_mw"], g["nmae_pct"], s=40, label=f"LightGBM {region}")
ax.scatter(fleet["capacity_mw"], fleet["persistence_nmae_pct"], marker="x", color="grey",
           label="persistence")  # fmt: skip
ax.set(xlabel="capacity [MW]", ylabel="nMAE [% of capacity]", title="wind nMAE by capacity")
ax.legend(fontsize=8)
print(f"median skill of LightGBM vs persistence: {fleet['skill'].median():+.2f}")

# %% [markdown]
# ## Fan chart with quantiles
# One issue — the last whose 48 hours are all observed, else the last — for LightGBM and the LSTM:
# the 10-90 % and 25-75 % bands, the median forecast, the truth and two days of history before the
# issue (red line). LightGBM's band comes from calibration residuals per step; the LSTM predicts
# its quantiles directly.

# %%
complete = [t for t in issues if t + pd.Timedelta(hours=case.spec.horizon) <= last]
fan_issue = complete[-1] if complete else issues[-1]
for name, frame in (("LightGBM", lgbm.forecasts), ("LSTM", lstm.forecasts)):
    fig = fan_chart(frame, fan_issue, tz=tz, history=y)
    fig.axes[0].set_ylabel("MW")
    fig.axes[0].set_title(f"{plant_id}, {name}: " + fig.axes[0].get_title())

# %% [markdown]
# ## Interval coverage
# A calibrated 80 % interval holds 80 % of the outcomes, a 50 % interval half of them. Too low
# means overconfident bands (the risk a scheduler cares about); too high means bands wider than
# needed. With a few weeks of test data each figure is itself uncertain by several points. A
# briefly trained LSTM has not converged on its tail quantiles, so its bands can be too wide or too
# narrow (compare `lstm_epochs` 3 and 10); LightGBM's conformal band is set from held-out
# residuals of the training window, so its errors come from the test weeks being unlike those.

# %%
cover = table[["coverage_80", "coverage_50"]].drop(index="persistence", errors="ignore")
fig, axes = plt.subplots(1, 2, figsize=(11, 3.8))
cover.plot.bar(ax=axes[0], rot=0)
for level in (0.8, 0.5):
    axes[0].axhline(level, color="black", ls="--", lw=0.8)
axes[0].set(ylabel="share of outcomes inside", title="coverage of the 80 % and 50 % intervals")
for name in ("LightGBM", "LSTM"):
    s = score_by(frames[name], "step", quantiles, capacity)["coverage_80"]
    axes[1].plot(s.index, s.rolling(6, center=True, min_periods=1).mean(), label=name)
axes[1].axhline(0.8, color="black", ls="--", lw=0.8)
axes[1].set(xlabel="hours ahead [h]", ylabel="80 % coverage (6-h smoothed)", ylim=(0, 1.05),
            title="80 % coverage by lead time")  # fmt: skip
axes[1].legend(fontsize=8)
fig.tight_layout()
print(f"notebook ran in {time.perf_counter() - t_start:.1f} s")

# %% [markdown]
# ## Summary
# - `wind_usecase` builds the forecast problem from the catalog: output, hub-height wind
#   *forecasts* as issued, and an empirical power curve fitted only on hours known before the test.
# - The power curve turns a wind-speed forecast into megawatts; LightGBM and the LSTM learn the
#   rest (availability, curtailment, forecast error) and beat persistence beyond the first hours.
# - nMAE makes plants of every size comparable; skill vs persistence is the honest yardstick.
# - Quantile bands are only useful when calibrated: read the coverage, by lead time too.
#
# ## What's next
# - `notebooks/forecasting/02_solar_with_satellite`: solar per plant, clear-sky and satellite.
# - Train the LSTM longer (`lstm_epochs`) on the demo data and compare its coverage again.
# - `workbench forecast backtest --help`: the same backtest from the command line.

# %%
cat.close()
