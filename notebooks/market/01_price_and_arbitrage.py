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
# # Prices by node, price forecasts, and a battery that trades on them
#
# ## Overview
# The ISO publishes a **locational marginal price** (LMP) for every node: hourly in the
# day-ahead market (DA), every 5 minutes in real time (RT). Each LMP is the sum of three parts:
# the system **energy** price, a **congestion** component (positive behind a binding
# constraint, negative in front of it) and a **losses** component. This notebook:
#
# 1. maps the nodes and the fleet, decomposes the LMP by node, and compares DA with RT (the DART
#    spread), with heatmaps by hour and price duration curves;
# 2. forecasts one node's day-ahead price with LightGBM and the seasonal-naive baseline in a
#    rolling-origin backtest (issued at 10:00 local for the next local day, like a bid);
# 3. runs a battery on the forecast: each day's schedule is a linear programme solved on the
#    forecast prices, settled at the actual prices, and compared with perfect foresight.
#
# ## Prerequisites
# | concept | importance | notes |
# |---|---|---|
# | pandas | necessary | long frames: one row per (timestamp, node, market) |
# | LMP and its components | helpful | explained below |
# | linear programming | helpful | the battery schedule is an LP (scipy's HiGHS) |
# | backtests and quantiles | helpful | `notebooks/forecasting/01_load_forecasting` |
#
# Time to learn: 30 minutes. Data: the demo lakehouse (`make demo`), or any lakehouse that
# `WORKBENCH_HOME` points at; every window is counted back from the end of the data.

# %% [markdown]
# ## Parameters

# %% tags=["parameters"]
node = "BUS_WEST"  # node forecast and traded (node of gold.fact_market_prices)
market = "DA"  # market of the forecast and the battery: DA or RT
analysis_days = 28  # window of the LMP analytics: the last N days
history_days = 365  # history read before the test period of the forecast
test_days = 28  # the test period of the forecast and the battery: the last N days
retrain = "weekly"  # refit schedule of the backtest: never, monthly, weekly, every
energy_mwh = 100.0  # battery energy [MWh]
power_mw = 25.0  # battery power [MW] (a 4-hour battery)
round_trip_efficiency = 0.88  # energy out over energy in [1]
cycles_per_day = 1.0  # full cycles per local day at most
schedule_days = 2  # days of the test period drawn as a schedule

# %% [markdown]
# ## Imports

# %%
import time

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from workbench import open_catalog
from workbench.forecasting.backtest import backtest, issue_schedule
from workbench.forecasting.metrics import score_by
from workbench.forecasting.plots import fan_chart
from workbench.forecasting.usecases.price import node_region, price_usecase
from workbench.market import arbitrage, lmp
from workbench.market.sources import read_prices

# %% [markdown]
# ## Where the nodes are
# Each region has one pricing node (`BUS_<REGION>`). The map places the fleet of
# `gold.dim_assets` by latitude and longitude (size: capacity) and each node at the centroid of
# its region's assets, coloured by its mean day-ahead LMP over the analysis window.

# %%
cat = open_catalog()
scan = cat.scan("silver.market_prices")
end = pd.Timestamp(scan.timestamp.max().to_pandas())
end = end.tz_localize("UTC") if end.tzinfo is None else end.tz_convert("UTC")
prices = read_prices(cat, start=end.normalize() - pd.Timedelta(days=analysis_days))
regions = cat.read("gold.dim_regions")
tz = str(regions.set_index("region_id").loc[node_region(node), "timezone"])
assets = cat.read("gold.dim_assets")
centroids = assets.groupby("region")[["latitude", "longitude"]].mean()
print(f"{len(prices):,} price rows, {prices['timestamp'].min()} .. {prices['timestamp'].max()}")
print(
    prices.groupby("market").size().rename("rows").to_dict(), "| nodes:", prices.node_id.nunique()
)

# %%
mean_da = prices[prices["market"] == "DA"].groupby("node_id")["lmp_usd_per_mwh"].mean()
fig, ax = plt.subplots(figsize=(8, 6))
for kind, group in assets.groupby("technology"):
    ax.scatter(group["longitude"], group["latitude"], s=group["capacity_mw"] / 15, alpha=0.5,
               label=kind)  # fmt: skip
nodes = centroids.assign(node_id=[f"BUS_{r}" for r in centroids.index])
nodes["lmp"] = nodes["node_id"].map(mean_da)
sc = ax.scatter(nodes["longitude"], nodes["latitude"], c=nodes["lmp"], cmap="plasma", s=250,
                marker="s", edgecolor="k", zorder=3)  # fmt: skip
for _, row in nodes.iterrows():
    ax.annotate(row["node_id"], (row["longitude"], row["latitude"]), xytext=(8, 8),
                textcoords="offset points", fontsize=9, weight="bold")  # fmt: skip
ax.set_aspect(1 / np.cos(np.deg2rad(nodes["latitude"].mean())))
ax.set(xlabel="longitude [°]", ylabel="latitude [°]", title="Fleet and pricing nodes")
fig.colorbar(sc, ax=ax, shrink=0.7, label="mean DA LMP [$/MWh]")
ax.legend(loc="lower left", fontsize=8, markerscale=0.5)
fig.tight_layout()

# %% [markdown]
# ## LMP = energy + congestion + losses
# `lmp_decomposition` checks that the three components add up to the LMP (to the cent) and
# summarises them by node and market. The energy component is the same everywhere; the nodes
# differ by congestion and losses. The shares are each component's mean magnitude over the sum.

# %%
decomposition = lmp.lmp_decomposition(prices)
cols = ["node_id", "market", "mean_lmp_usd_per_mwh", "std_lmp_usd_per_mwh"]
cols += ["mean_energy_usd_per_mwh", "mean_congestion_usd_per_mwh", "mean_losses_usd_per_mwh"]
cols += ["share_congestion", "violations"]
decomposition[cols].round(2)

# %%
da = decomposition[decomposition["market"] == "DA"].set_index("node_id")
parts = {
    "energy": "mean_energy_usd_per_mwh",
    "congestion": "mean_congestion_usd_per_mwh",
    "losses": "mean_losses_usd_per_mwh",
}
fig, ax = plt.subplots(figsize=(9, 3.5))
pos, neg = np.zeros(len(da)), np.zeros(len(da))
for label, col in parts.items():
    v = da[col].to_numpy()
    bottom = np.where(v >= 0, pos, neg)
    ax.bar(da.index, v, bottom=bottom, label=label)
    pos, neg = pos + np.clip(v, 0, None), neg + np.clip(v, None, 0)
ax.plot(da.index, da["mean_lmp_usd_per_mwh"], "kD", label="LMP")
ax.axhline(0, color="k", lw=0.6)
ax.set(ylabel="mean DA price [$/MWh]", title="LMP decomposition by node (day-ahead)")
ax.legend(fontsize=8, ncol=4)
fig.tight_layout()

# %% [markdown]
# ### When prices are high: LMP by node and hour of day
# Mean LMP by node and local hour (in the zone of the traded node). Look for midday dips where
# solar and wind are strong, peaks where load is high, and nodes that congestion sets apart.

# %%
hourly = lmp.hourly_prices(prices)
hourly["hour"] = hourly["timestamp"].dt.tz_convert(tz).dt.hour
fig, axes = plt.subplots(1, 2, figsize=(12, 3.2), sharey=True)
tables = {m: g.pivot_table(index="node_id", columns="hour", values="lmp_usd_per_mwh")
          for m, g in hourly.groupby("market")}  # fmt: skip
lo = min(np.nanmin(t.to_numpy()) for t in tables.values())
hi = max(np.nanmax(t.to_numpy()) for t in tables.values())
for ax, (m, table) in zip(axes, tables.items(), strict=True):
    im = ax.imshow(table.to_numpy(), aspect="auto", cmap="magma", vmin=lo, vmax=hi)
    ax.set_yticks(range(len(table)), table.index)
    ax.set(xlabel=f"hour of day ({tz})", title=f"{m}: mean LMP")
cbar = fig.colorbar(im, ax=axes, label="$/MWh")

# %% [markdown]
# ### Day-ahead vs real time
# The DART spread is DA minus RT (RT averaged to the hour). A positive mean means buying in
# real time was cheaper than day-ahead; its spread by hour is what a virtual trader looks at.

# %%
dart = lmp.dart_spreads(prices, tz=tz)
lmp.spread_summary(dart).round(2)

# %%
fig, axes = plt.subplots(1, 2, figsize=(12, 3.5))
by_hour = lmp.spread_summary(dart, by=("node_id", "hour"))
for node_id, group in by_hour.groupby("node_id"):
    axes[0].plot(group["hour"], group["mean_dart_usd_per_mwh"], label=node_id)
axes[0].axhline(0, color="k", lw=0.6)
axes[0].set(xlabel=f"hour of day ({tz})", ylabel="mean DA - RT [$/MWh]", title="DART by hour")
axes[0].legend(fontsize=7)
groups = [g["dart_usd_per_mwh"].to_numpy() for _, g in dart.groupby("node_id")]
axes[1].boxplot(groups, tick_labels=sorted(dart["node_id"].unique()), showfliers=False)
axes[1].axhline(0, color="k", lw=0.6)
axes[1].set(ylabel="DA - RT [$/MWh]", title="DART distribution (whiskers 1.5 IQR)")
axes[1].tick_params(axis="x", labelsize=7)
fig.tight_layout()

# %% [markdown]
# ### Price duration curves
# Hourly prices sorted from high to low: the share of hours at or above a price. A battery
# earns the gap between the flat bottom and the steep top of the curve; the steeper the ends,
# the more it earns.

# %%
curves = lmp.price_duration_curve(prices, points=200)
fig, ax = plt.subplots(figsize=(9, 4))
for (node_id, m), curve in curves.groupby(["node_id", "market"]):
    color = f"C{sorted(curves['node_id'].unique()).index(node_id)}"
    ax.plot(curve["percent_of_time"], curve["lmp_usd_per_mwh"], color=color,
            ls="-" if m == "DA" else "--", label=f"{node_id} {m}")  # fmt: skip
ax.set(xlabel="share of hours at or above [%]", ylabel="LMP [$/MWh]",
       title="Price duration curves (solid DA, dashed RT)")  # fmt: skip
ax.legend(fontsize=7, ncol=2)
fig.tight_layout()

# %% [markdown]
# ## Forecasting the price of one node
# `price_usecase` builds the problem: the node's hourly LMP, the region's weather forecasts as
# future covariates, and for the day-ahead market an issue at 10:00 local forecasting the 24
# hours of the next local day (`lead` = hours from the issue to midnight). LightGBM and the
# seasonal naive baseline (yesterday's price at the same hour) run on the same issues.

# %%
data_end = end.floor("h")
test_start = data_end.normalize() - pd.Timedelta(days=test_days)
uc = price_usecase(cat, node, market, start=test_start - pd.Timedelta(days=history_days))
spec, data = uc.spec, uc.data
last_issue = data_end - pd.Timedelta(hours=spec.lead + spec.horizon - 1)
issues = issue_schedule(test_start, last_issue, uc.issue_time, spec.tz)
print(f"{uc.name}: {len(data.y)} hours; issues at {uc.issue_time} {spec.tz}, lead {spec.lead} h")
t0 = time.perf_counter()
result = backtest(data, spec, "lightgbm", issues, retrain=retrain)
print(f"{len(issues)} issues, {len(result.fits)} fit(s), {time.perf_counter() - t0:.1f} s")
metrics = result.metrics()
table = pd.DataFrame({"seasonal_naive": metrics["baseline"], "lightgbm": metrics["model"]})
table.loc[["mae", "rmse", "smape_pct", "pinball", "coverage_80"]].round(3)

# %% [markdown]
# Skill vs the baseline (`1 - score / baseline`, positive is better). Prices are harder than
# load: the shape of the day repeats less, and congestion comes and goes. Read `coverage_80`
# too: far below 0.8 means the band is too narrow — the errors in the calibration window (the end
# of the training data) were smaller than in the test period.

# %%
pd.Series(metrics["skill"]).round(3)

# %%
fig = fan_chart(result.forecasts, issues[-1], tz=spec.tz, history=data.y)
fig.axes[0].set_ylabel(f"{market} LMP [$/MWh]")
q = spec.quantiles
fig, ax = plt.subplots(figsize=(9, 3))
for name, frame in (("seasonal_naive", result.baseline), ("lightgbm", result.forecasts)):
    ax.plot(score_by(frame, "hour", q, tz=spec.tz)["mae"], marker="o", ms=3, label=name)
ax.set(xlabel=f"hour of day ({spec.tz})", ylabel="MAE [$/MWh]", title="error by hour")
ax.legend()
fig.tight_layout()

# %% [markdown]
# ## A battery trading on the forecast
# The battery (`energy_mwh`, `power_mw`, round-trip efficiency, a cycle limit per day) charges
# when prices are low and discharges when they are high. For given prices the best schedule is a
# linear programme: maximise `Σ dt · price · (discharge − charge)` subject to the state-of-charge
# balance (with the efficiency split between charging and discharging), power and energy bounds,
# and the daily throughput limit; each day starts and ends half full.
#
# The daily backtest optimises each day twice: on the **forecast** (known the day before) and on
# the **actual** prices (perfect foresight, an upper bound no trader reaches). The forecast's
# schedule is then settled at the actual prices: that is the realised profit. The forecast is
# LightGBM's expected price (the mean of its quantile distribution: the profit is linear in the
# prices, so the expected price maximises the expected profit), its median, and the baseline.


# %%
def hourly_series(frame: pd.DataFrame, column: str) -> pd.Series:
    """One value per target hour on a regular grid (latest issue wins; gaps interpolated)."""
    s = frame.drop_duplicates("target_time", keep="last").set_index("target_time")[column]
    full = pd.date_range(s.index.min(), s.index.max(), freq="h", name="timestamp")
    s = s.reindex(full)
    if s.isna().any():  # a DST day of 25 hours, or a missing actual
        print(f"{column}: {int(s.isna().sum())} missing hour(s) interpolated")
        s = s.interpolate(limit_direction="both")
    return s


battery = arbitrage.Battery(
    energy_mwh=energy_mwh,
    power_mw=power_mw,
    round_trip_efficiency=round_trip_efficiency,
    cycles_per_day=cycles_per_day,
)
fc = result.forecasts
quantiles = fc.set_index("target_time")[spec.quantile_columns]
quantiles = quantiles[~quantiles.index.duplicated(keep="last")]
quantiles.columns = list(spec.quantiles)  # forecast_price reads quantile columns by level
actual = hourly_series(fc, "y_true")
forecasts = {
    "lightgbm (mean)": arbitrage.forecast_price(quantiles).reindex(actual.index),
    "lightgbm (median)": arbitrage.forecast_price(quantiles, use=0.5).reindex(actual.index),
    "seasonal naive": hourly_series(result.baseline, "y_pred"),
}
runs = {
    name: arbitrage.backtest(actual, f.interpolate(limit_direction="both"), battery, tz=spec.tz)
    for name, f in forecasts.items()
}
first = next(iter(runs.values()))
summary = pd.DataFrame(
    {
        name: {
            "realised_profit_usd": run.realised_profit_usd,
            "expected_profit_usd": run.days["expected_profit_usd"].sum(),
            "share_of_perfect": run.ratio,
        }
        for name, run in runs.items()
    }
).T
summary.loc["perfect foresight"] = [first.perfect_profit_usd, first.perfect_profit_usd, 1.0]
summary.round(2)

# %% [markdown]
# The expected profit (at the forecast prices) is what the plan promised; the realised profit is
# what it earned. A forecast that gets the *shape* of the day right (when the cheap and the dear
# hours are) earns money even with a biased level; one that misplaces the peak can lose money,
# since each round trip burns `1 - efficiency` of the energy bought.

# %%
days = pd.DataFrame({name: run.days.set_index("date")["realised_profit_usd"]
                     for name, run in runs.items()})  # fmt: skip
days["perfect foresight"] = first.days.set_index("date")["perfect_profit_usd"]
days.index = pd.to_datetime(days.index).strftime("%m-%d")
ax = days.plot.bar(figsize=(10, 3.5), width=0.8)
ax.axhline(0, color="k", lw=0.6)
ax.set(
    ylabel="profit [$]", xlabel="", title=f"Daily profit of a {energy_mwh:g} MWh battery at {node}"
)
ax.legend(fontsize=8)
ax.tick_params(axis="x", labelrotation=45)

# %% [markdown]
# ### The schedule
# The last `schedule_days` days of the LightGBM-driven battery: the forecast and the actual
# price, charging (negative) and discharging (positive) power, and the state of charge.

# %%
sched = runs["lightgbm (mean)"].schedule
local = sched.index.tz_convert(spec.tz).tz_localize(None)  # matplotlib draws tz-aware as UTC
window = local.normalize() >= local.normalize().unique()[-schedule_days]
sched, local = sched[window], local[window]
fig, (ax1, ax2) = plt.subplots(2, 1, figsize=(10, 5.5), sharex=True)
ax1.step(local, sched["price_usd_per_mwh"], where="post", label="forecast (mean)")
ax1.step(local, sched["actual_price_usd_per_mwh"], where="post", color="k", lw=1, label="actual")
ax1.set(ylabel="price [$/MWh]", title=f"{node} {market}: battery on the forecast ({spec.tz})")
ax1.legend(fontsize=8)
width = 1 / 24 * 0.9
ax2.bar(local, sched["discharge_mw"], width=width, align="edge", color="tab:green",
        label="discharge")  # fmt: skip
ax2.bar(local, -sched["charge_mw"], width=width, align="edge", color="tab:red", label="charge")
ax2.set(ylabel="power [MW]", ylim=(-1.1 * power_mw, 1.8 * power_mw))
soc_ax = ax2.twinx()
soc_ax.plot(local + pd.Timedelta("1h"), sched["soc_mwh"], color="tab:blue", marker=".",
            label="state of charge")  # fmt: skip
soc_ax.set(ylabel="state of charge [MWh]", ylim=(0, energy_mwh * 1.45))
handles = ax2.get_legend_handles_labels()[0] + soc_ax.get_legend_handles_labels()[0]
ax2.legend(handles=handles, loc="upper left", fontsize=8, ncol=3)
fig.autofmt_xdate()

# %% [markdown]
# ## Summary
# - The LMP splits into energy (system-wide), congestion and losses (local); the component check
#   runs on every row.
# - Heatmaps by hour, DART spreads and duration curves show when and where prices move.
# - `price_usecase` + `backtest` forecast a node's day-ahead price; the skill vs the seasonal naive
#   baseline says whether the model earns its keep.
# - The battery LP turns a forecast into a schedule; settled at actual prices and set against
#   perfect foresight, it measures the forecast in dollars.
#
# ## What's next
# - `notebooks/forecasting/01_load_forecasting`: tuning and the model registry.
# - `workbench.market.pareto`: carbon against cost in the dispatch of one hour.
# - Try `market = "RT"`, a longer battery (`energy_mwh / power_mw`), or `cycles_per_day = 2`.

# %%
cat.close()
