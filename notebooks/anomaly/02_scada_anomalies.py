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
# # SCADA anomalies: rules, Isolation Forest, an LSTM autoencoder and their ensemble
#
# ## Overview
# SCADA telemetry reports every asset's output every few seconds, and sensors fail in familiar
# ways: a spike, a value frozen at its last reading (flatline), a sentinel such as 32767 when a
# transducer saturates (out of range), or silence when an RTU stops reporting (dropout). The
# simulator plants such faults and records them in `ops.sim_events`, so every detector can be
# scored against the truth. This notebook:
#
# 1. reads a window of telemetry and the labelled faults, and shows why detectors read bronze;
# 2. runs the rule set (one rule per fault type), an Isolation Forest and a small LSTM
#    autoencoder on scale-free rolling features, and an ensemble of the three;
# 3. scores each at the event level by fault type (precision, recall, F1) and shows how the
#    learned detectors trade precision for recall as their threshold moves;
# 4. draws a few faults with what each detector flagged.
#
# ## Prerequisites
# | concept | importance | notes |
# |---|---|---|
# | pandas | necessary | long frames: one row per (asset, timestamp) |
# | precision, recall, F1 | necessary | at the event level, explained below |
# | Isolation Forest | helpful | anomalies are isolated by few random splits |
# | autoencoders | helpful | what a model cannot reconstruct is unusual |
# | the medallion layout | helpful | `notebooks/tutorials/00_catalog_and_medallion` |
#
# Time to learn: 25 minutes. Data: the demo lakehouse (`make demo`), or any lakehouse that
# `WORKBENCH_HOME` points at (SCADA covers the last days of the simulated period).

# %% [markdown]
# ## Parameters

# %% tags=["parameters"]
hours = 24  # analyse the last N hours of SCADA telemetry
source = "bronze.raw_scada"  # or "silver.scada_cleaned" (see "Why bronze")
tolerance_s = 8.0  # widening of each label on both sides when scoring [s]
iforest_contamination = 0.0005  # share of training samples above the Isolation Forest threshold
lstm_epochs = 3  # training epochs of the LSTM autoencoder (tiny model, CPU)
lstm_max_windows = 1000  # presumed-normal windows it trains on at most
seed = 0  # seed of the learned detectors (results are deterministic)
traces = 4  # labelled faults drawn at the end

# %% [markdown]
# ## Imports

# %%
import time

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from workbench import open_catalog
from workbench.anomaly.detectors.ensemble import EnsembleDetector
from workbench.anomaly.detectors.iforest import IsolationForestDetector
from workbench.anomaly.detectors.lstm_ae import LSTMAutoencoderDetector
from workbench.anomaly.detectors.rules import RuleSet
from workbench.anomaly.evaluation import score_events
from workbench.anomaly.events import merge_flags
from workbench.anomaly.inputs import long_series

# %% [markdown]
# ## Telemetry and labelled faults
# `bronze.raw_scada` is the telemetry as landed (`value` in MW, a quality code, the ingest
# time); `silver.scada_cleaned` is the platform's cleaned version (`value_mw`, quality status).
# We read the last `hours` hours of both, and the simulator's SCADA labels that overlap them.

# %%
VALUE_COLUMN = {"bronze.raw_scada": "value", "silver.scada_cleaned": "value_mw"}
cat = open_catalog()
raw = cat.scan("bronze.raw_scada")
last = pd.Timestamp(raw.timestamp.max().to_pandas())
last = last.tz_localize("UTC") if last.tzinfo is None else last.tz_convert("UTC")
since = last - pd.Timedelta(hours=hours)
bronze = cat.read("bronze.raw_scada", start=since)
silver = cat.read("silver.scada_cleaned", start=since)
labels = cat.read("ops.sim_events", where={"source": "scada"})
labels = labels[(labels["end"] >= since) & (labels["start"] <= last)].reset_index(drop=True)
print(
    f"{bronze['asset_id'].nunique()} assets, {since:%Y-%m-%d %H:%M} to {last:%Y-%m-%d %H:%M} UTC: "
    f"{len(bronze):,} bronze rows, {len(silver):,} silver rows"
)
labels["event_type"].value_counts().rename("labelled faults").to_frame()

# %% [markdown]
# Two families of labels. **Value faults** (spike, flatline, out_of_range, dropout) change what
# the sensor reports: they are what a detector looks for. **Ingestion faults** (duplicate,
# out_of_order, time_skew) change how rows arrive: the silver transform deduplicates on
# `(asset_id, timestamp)`, and the detectors' input step sorts each series and drops duplicate
# rows with a count, so these never reach a detector as anomalies. We score value faults.

# %%
VALUE_FAULTS = ["spike", "flatline", "out_of_range", "dropout"]
faults = labels[labels["event_type"].isin(VALUE_FAULTS)].reset_index(drop=True)
frame = bronze if source == "bronze.raw_scada" else silver
series = long_series(frame, "timestamp", VALUE_COLUMN[source], "asset_id")
print(
    f"{source}: {series.time.size:,} samples in {series.labels.size} series; "
    f"{series.duplicates} duplicate rows dropped by the input step"
)

# %% [markdown]
# ## Rules
# One rule per fault type, each scoring every sample with **1.0 at its own threshold** (so
# detectors of any kind combine without tuning):
#
# | rule | fires when | default |
# |---|---|---|
# | `spike` | a sample is far from the median of its 5 neighbours | 20 × the local noise |
# | `flatline` | the value is bit-identical for a long run | 120 s, 5 samples |
# | `out_of_range` | the value is outside the platform's range, or missing | -1,000 to 10,000 MW |
# | `stale` | no sample for 5 × the usual interval | at least 30 s |
#
# A rule's event is named after the rule; `stale` is how a `dropout` looks from the data.

# %%
detectors = {}
events = {}
timings = {}


def run(name: str, detector, fit: bool = True) -> pd.DataFrame:
    """Fit (unless already fitted) and detect; keep the events and the time taken."""
    tic = time.perf_counter()
    if fit:
        detector.fit(series)
    events[name] = detector.detect(series)
    timings[name] = time.perf_counter() - tic
    detectors[name] = detector
    return events[name]


run("rules", RuleSet())
events["rules"]["kind"].value_counts().rename("events").to_frame()

# %% [markdown]
# ### Why bronze
# Silver keeps only GOOD and SUSPECT quality codes and turns values outside the range into NULL:
# right for analytics, but it removes the evidence of exactly the faults we want to find. The
# same rules on silver miss the sentinels that arrived with a BAD quality code.

# %%
KIND_MAP = {"stale": "dropout"}  # rule kind -> label type
silver_series = long_series(silver, "timestamp", "value_mw", "asset_id")
side_by_side = pd.concat(
    {
        "bronze.raw_scada": score_events(
            RuleSet().detect(long_series(bronze, "timestamp", "value", "asset_id")),
            faults,
            tolerance_s,
            kind_map=KIND_MAP,
        ),
        "silver.scada_cleaned": score_events(
            RuleSet().detect(silver_series), faults, tolerance_s, kind_map=KIND_MAP
        ),
    },
    names=["source"],
).reset_index(level=0)
side_by_side.pivot(index="event_type", columns="source", values="recall").round(3)

# %% [markdown]
# ## Isolation Forest
# The learned detectors see each sample through seven scale-free rolling features (first
# difference, distance to the local median, level against a 31-sample median, roughness, length
# of the run of identical values, time since the previous sample, missing value), each divided by
# the series' own noise scale, so one model serves a 5-MW solar farm and a 600-MW gas plant.
#
# An Isolation Forest builds random trees that split features at random; unusual samples are
# isolated after few splits. The threshold (score 1.0) is the `1 - contamination` quantile of the
# training scores: with `contamination = 0.0005`, one training sample in 2,000 is above it.

# %%
run("iforest", IsolationForestDetector(contamination=iforest_contamination, seed=seed))
print(f"{len(events['iforest'])} events in {timings['iforest']:.1f} s")

# %% [markdown]
# ## LSTM autoencoder
# A tiny LSTM (8 hidden units) encodes a window of 16 samples of the same features into one
# state and decodes it back. It trains only on windows the rules find normal, for a few epochs on
# the CPU; a sample it cannot reconstruct is unusual. Its threshold is set the same way.

# %%
run(
    "lstm",
    LSTMAutoencoderDetector(
        epochs=lstm_epochs,
        max_windows=lstm_max_windows,
        contamination=iforest_contamination,
        seed=seed,
    ),
)
print(f"{len(events['lstm'])} events in {timings['lstm']:.1f} s")

# %% [markdown]
# ## Ensemble
# Because every score is normalised (1.0 = that detector's threshold), combining is simple: the
# ensemble score is the largest member score (`min_votes=1`, any member alarms) or the
# second-largest (`min_votes=2`, two must agree). The members are already fitted, so the
# ensemble only scores.

# %%
members = [detectors["rules"], detectors["iforest"], detectors["lstm"]]
run("ensemble", EnsembleDetector(members, min_votes=1), fit=False)
run("ensemble_2_votes", EnsembleDetector(members, min_votes=2), fit=False)
pd.DataFrame({"events": {k: len(v) for k, v in events.items()}, "seconds": timings}).round(2)

# %% [markdown]
# ## Event-level scores by fault type
# A detected event matches a labelled fault on the same asset when their intervals overlap, the
# label widened by `tolerance_s` on both sides. **Recall**: the share of faults matched;
# **precision**: the share of detected events that match a fault; **F1**: their harmonic mean.
#
# The rules name their events, so they are scored *typed*: a `spike` event only matches a spike
# label. The learned detectors and the ensemble say "anomalous", not which fault: they are scored
# *untyped*, a detection counting for the fault type it matches, and a detection that matches
# nothing charged as a false positive to every type.

# %%
tables = []
for name, ev in events.items():
    typed = name == "rules"
    table = score_events(ev, faults, f"{tolerance_s}s", kind_map=KIND_MAP if typed else None)
    tables.append(table.assign(detector=name))
scores = pd.concat(tables, ignore_index=True)
summary = scores[scores["event_type"] == "all"].set_index("detector")
summary[["n_labels", "n_predicted", "detected", "correct", "precision", "recall", "f1"]].round(3)

# %% [markdown]
# F1 by detector and fault type (for the untyped detectors, precision per type counts every
# unmatched detection against that type, so it is a conservative figure):

# %%
scores.pivot(index="detector", columns="event_type", values="f1").reindex(
    index=list(events), columns=[*VALUE_FAULTS, "all"]
).round(2)

# %%
order = [*VALUE_FAULTS, "all"]
fig, axes = plt.subplots(1, 2, figsize=(13, 3.8), sharey=True)
for ax, metric in zip(axes, ("recall", "f1"), strict=True):
    wide = scores.pivot(index="event_type", columns="detector", values=metric).reindex(order)
    wide[list(events)].plot.bar(ax=ax, rot=0, width=0.8)
    ax.set(title=f"{metric} by fault type (tolerance {tolerance_s:g} s)", xlabel="", ylim=(0, 1.05))
    ax.legend(fontsize=7, ncols=2)
axes[0].set_ylabel("score")
fig.tight_layout()

# %% [markdown]
# The rules are precise by construction: each encodes one fault's signature. The learned
# detectors find spikes without being told what a spike is, but at one-in-2,000 samples they also
# flag ordinary ramps and switching, so their precision is low and they drag the max-ensemble's
# precision down with them. Requiring two votes trades recall back for precision. Where the
# threshold should sit is a choice, and the curve below shows its price: events are rebuilt from
# each detector's scores at thresholds from 0.75 to 16 (cheap: no refitting).

# %%
member = detectors["ensemble"].member_scores(series)  # rows: rules, iforest, lstm
curve = []
for name, s in (("iforest", member[1]), ("lstm", member[2]), ("ensemble", member.max(axis=0))):
    for threshold in (0.75, 1, 1.5, 2, 4, 8, 16):
        ev = merge_flags(series.group, series.time, s >= threshold, s, series.labels, name)
        row = score_events(ev, faults, f"{tolerance_s}s").set_index("event_type").loc["all"]
        curve.append({"detector": name, "threshold": threshold, **row[["precision", "recall"]]})
curve = pd.DataFrame(curve)
fig, ax = plt.subplots(figsize=(6, 4))
for name, grp in curve.groupby("detector"):
    ax.plot(grp["recall"], grp["precision"], "o-", label=name)
    for _, r in grp.iterrows():
        ax.annotate(
            f"{r['threshold']:g}",
            (r["recall"], r["precision"]),
            fontsize=7,
            xytext=(3, 3),
            textcoords="offset points",
        )
rules_all = scores[(scores["detector"] == "rules") & (scores["event_type"] == "all")].iloc[0]
ax.plot(rules_all["recall"], rules_all["precision"], "k*", ms=12, label="rules")
ax.set(
    xlabel="recall",
    ylabel="precision",
    xlim=(0, 1.05),
    ylim=(0, 1.05),
    title="Precision-recall as the threshold rises (labels: score threshold)",
)
ax.legend(fontsize=8)
fig.tight_layout()

# %% [markdown]
# ## Faults up close
# A few labelled faults, one of each type where possible: the asset's telemetry around the
# fault (label shaded), and below it one row per detector with what it flagged. Out-of-range
# sentinels are far off the scale of the plot and are drawn as red triangles at its top edge.

# %%
picked = (
    faults.assign(rank=faults["event_type"].map({k: i for i, k in enumerate(VALUE_FAULTS)}))
    .sort_values(["rank", "start"])
    .groupby("event_type", sort=False)
    .head(1)
)
picked = pd.concat([picked, faults.drop(picked.index)]).head(traces)
value_col = VALUE_COLUMN[source]
rows_of = {name: i for i, name in enumerate(events)}
hhmm = plt.matplotlib.dates.DateFormatter("%H:%M")
fig, axes = plt.subplots(len(picked), 1, figsize=(11, 3.2 * max(len(picked), 1)), squeeze=False)
for ax, (_, fault) in zip(axes[:, 0], picked.iterrows(), strict=False):
    pad = max(pd.Timedelta(minutes=10), (fault["end"] - fault["start"]) * 0.5)
    lo_t, hi_t = fault["start"] - pad, fault["end"] + pad
    asset = fault["target_id"]
    tel = frame[(frame["asset_id"] == asset) & frame["timestamp"].between(lo_t, hi_t)]
    tel = tel.sort_values("timestamp")
    sane = tel[value_col].where(tel[value_col].abs() < 10_000).to_numpy(float)
    line = pd.Series(sane, index=pd.DatetimeIndex(tel["timestamp"]))
    silent = line.index[1:][
        np.diff(line.index) > pd.Timedelta("30s")
    ]  # break the line in a silence
    line = pd.concat([line, pd.Series(np.nan, index=silent - pd.Timedelta("1ms"))]).sort_index()
    ax.plot(line.index, line.to_numpy(), lw=0.8, color="tab:blue")
    ymin, ymax = (np.nanmin(sane), np.nanmax(sane)) if np.isfinite(sane).any() else (0.0, 1.0)
    span = max(ymax - ymin, 1.0)
    wild = tel[tel[value_col].abs() >= 10_000]
    ax.plot(wild["timestamp"], np.full(len(wild), ymax + 0.1 * span), "r^", ms=8)
    ax.axvspan(fault["start"], fault["end"], color="tab:orange", alpha=0.25)
    base = ymin - 0.15 * span
    for name, ev in events.items():
        mine = ev[(ev["group"] == asset) & (ev["end"] >= lo_t) & (ev["start"] <= hi_t)]
        y = base - rows_of[name] * 0.08 * span
        color = f"C{rows_of[name] + 1}"
        for _, e in mine.iterrows():  # a bar, and a square so one-sample events show too
            ax.plot([e["start"], e["end"]], [y, y], lw=5, solid_capstyle="butt", color=color)
            ax.plot(e["start"], y, "s", ms=5, color=color)
        ax.text(lo_t, y, f" {name}", fontsize=7, va="center")
    ax.set_ylim(base - len(events) * 0.08 * span - 0.05 * span, ymax + 0.2 * span)
    ax.set(
        ylabel=f"{value_col} [MW]",
        title=f"{fault['event_type']} on {asset} at {fault['start']:%H:%M:%S} UTC",
    )
    ax.xaxis.set_major_formatter(hhmm)
    ax.title.set_fontsize(10)
axes[-1, 0].set_xlabel("time [UTC]")
fig.tight_layout()

# %% [markdown]
# ## Summary
# - Detectors read bronze telemetry: silver's cleaning removes the evidence of sentinel faults.
# - Every detector scores samples with 1.0 at its own threshold, so rules, an Isolation Forest
#   and an LSTM autoencoder combine into an ensemble by max or by votes.
# - `score_events` scores events against `ops.sim_events` by fault type: the rules are precise
#   and typed; the learned detectors catch spikes without being told what one is, at a precision
#   their threshold decides.
# - `merge_flags` rebuilds events from scores at any threshold, which makes the
#   precision-recall trade-off cheap to explore.
#
# ## What's next
# - `01_frequency_events` (this folder): frequency excursions, disturbances and oscillations in
#   the PMU cube.
# - `workbench anomaly detect --help`: the same detectors on a CSV or Parquet file.
# - The anomaly sweep job writes these events to `gold.anomaly_events` on a schedule.

# %%
cat.close()
