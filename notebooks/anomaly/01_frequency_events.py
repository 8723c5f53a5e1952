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
# # Frequency events in the PMU cube
#
# ## Overview
# Grid frequency is the heartbeat of an AC system: 60 Hz when generation matches load, lower
# when a generator trips, higher when load drops off. Phasor measurement units (PMUs) report it
# 30-60 times a second at substations across the grid, and the platform lands those reports as a
# Zarr cube `bronze.pmu` with dimensions `(time, pmu)`. This notebook:
#
# 1. loads the last minutes of the cube through the catalog and the `ds.grid` accessor;
# 2. finds frequency-excursion *episodes* with the platform's rule (3 samples outside
#    59.95-60.05 Hz within 5 s) in one batch pass, and shows that a streaming detector fed
#    1-second batches finds exactly the same episodes;
# 3. groups the per-PMU episodes into system disturbances and characterises each one
#    (nadir, time to nadir, initial ROCOF, settling time) and draws its trace;
# 4. scores everything against the simulator's labelled events (`ops.sim_events`);
# 5. looks for forced oscillations (0.1-2 Hz) in the spectrum.
#
# ## Prerequisites
# | concept | importance | notes |
# |---|---|---|
# | xarray | necessary | labelled n-d arrays: `.sel`, `.isel`, reductions over a dimension |
# | pandas | necessary | frames of events with UTC start and end |
# | frequency, nominal and band | helpful | explained below |
# | rate of change of frequency (ROCOF) | helpful | [Hz/s], what relays and inertia studies use |
# | power spectrum (Welch) | helpful | only for the oscillation section |
# | the catalog tour | helpful | `notebooks/tutorials/00_catalog_and_medallion` |
#
# Time to learn: 25 minutes. Data: the demo lakehouse (`make demo`), or any lakehouse that
# `WORKBENCH_HOME` points at (the cube holds 10-60 minutes of PMU data ending at the end of the
# simulated period).

# %% [markdown]
# ## Parameters

# %% tags=["parameters"]
minutes = 60  # analyse the last N minutes of the PMU cube (all of it if it is shorter)
band_hz = 0.05  # half-width of the normal band around nominal [Hz]
count = 3  # out-of-band samples that raise an alert ...
window_s = 5.0  # ... when they fall within this window [s]
trace_pmus = 6  # PMUs drawn in each event trace
max_traces = 6  # disturbances drawn at most
tolerance_s = 5.0  # widening of each label on both sides when scoring [s]
oscillation_window_s = 60.0  # length of the windows searched for oscillations [s]
oscillation_ratio = 30.0  # peak-to-background power ratio that counts as an oscillation

# %% [markdown]
# ## Imports

# %%
import time

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from workbench import open_catalog
from workbench.anomaly.evaluation import score_events
from workbench.anomaly.events import merge_flags
from workbench.anomaly.frequency.batch import detect_frequency_cube
from workbench.anomaly.frequency.characterise import characterise
from workbench.anomaly.frequency.oscillation import (
    detect_oscillation_pmus,
    estimate_damping,
    pmu_oscillation_spectra,
)
from workbench.anomaly.frequency.stream import FrequencyDetector
from workbench.anomaly.sweep import frequency_events_sweep

# %% [markdown]
# ## The cube, lazily, then a window in memory
# `cat.scan("bronze.pmu")` opens the Zarr cube as a dask-backed xarray Dataset: nothing is read
# yet. The `ds.grid` accessor knows the cube's conventions: its reporting rate, its nominal
# frequency (an attribute of the cube), and how to cut a time window by binary search. Only the
# window we analyse is loaded into memory.

# %%
cat = open_catalog()
cube = cat.scan("bronze.pmu")
rate_hz = cube.grid.sample_rate_hz
nominal_hz = cube.grid.nominal_hz
stamps = cube.indexes["time"]
last = stamps[-1].tz_localize("UTC")
first = max(last - pd.Timedelta(minutes=minutes), stamps[0].tz_localize("UTC"))
ds = cube.grid.window(first, None).load()
pmus = [str(p) for p in ds["pmu"].values]
lo_hz, hi_hz = nominal_hz - band_hz, nominal_hz + band_hz
print(
    f"{len(pmus)} PMUs at {rate_hz:g} frames/s, nominal {nominal_hz:g} Hz; "
    f"window {first:%Y-%m-%d %H:%M:%S} to {last:%H:%M:%S} UTC, {ds.sizes['time']:,} time steps"
)
ds

# %% [markdown]
# Every sample carries a quality code: 0 good, 1 a bad-quality burst (the PMU lost its time
# sync, the value is unreliable), 2 a dropout (no value). `ds.grid.good()` blanks everything that
# is not good, so the statistics below never mix in a lost-sync sample.
#
# The band across all PMUs (lowest to highest PMU at each instant) around the median tells the
# story of the window at a glance: between events the median frequency stays within a few tens
# of mHz of 60 Hz, inside the ±0.05 Hz band (shaded), and steps out of the band when something
# happens (both checked below the chart).

# %%
good = ds.grid.good()
freq = good["frequency_hz"].transpose("time", "pmu")
times = ds.indexes["time"]
median_hz = freq.median("pmu").values

fig, (ax, axq) = plt.subplots(
    2, 1, figsize=(11, 5.5), sharex=True, gridspec_kw={"height_ratios": [3, 1.2]}
)
ax.axhspan(lo_hz, hi_hz, color="tab:green", alpha=0.12, label=f"normal band ±{band_hz:g} Hz")
ax.fill_between(
    times, freq.min("pmu"), freq.max("pmu"), color="tab:blue", alpha=0.3, label="PMU range"
)
ax.plot(times, median_hz, color="tab:blue", lw=0.8, label="median over PMUs")
ax.set(ylabel="frequency [Hz]", title="System frequency over the window")
ax.legend(loc="lower left", ncols=3, fontsize=8)
quality = ds["quality"].transpose("pmu", "time").values
axq.imshow(
    quality,
    aspect="auto",
    interpolation="nearest",
    cmap=plt.matplotlib.colors.ListedColormap(["#e8f5e9", "tab:orange", "tab:red"]),
    vmin=-0.5,
    vmax=2.5,
    extent=[
        plt.matplotlib.dates.date2num(times[0]),
        plt.matplotlib.dates.date2num(times[-1]),
        len(pmus) - 0.5,
        -0.5,
    ],
)
axq.set(ylabel="PMU", xlabel="time [UTC]", title="quality: orange = bad, red = dropout")
axq.set_yticks([])
fig.autofmt_xdate()
fig.tight_layout()

deviation_mhz = np.abs(median_hz - nominal_hz) * 1e3
typical_mhz = float(np.nanmedian(deviation_mhz))
print(f"median |f - nominal| = {typical_mhz:.1f} mHz; max {np.nanmax(deviation_mhz):.0f} mHz")
assert typical_mhz < 50, "a few tens of mHz, inside the band: the text above is stale"
assert np.nanmax(deviation_mhz) > band_hz * 1e3, "nothing leaves the band: the text is stale"

# %% [markdown]
# ## Episodes, in one batch pass
# The platform's rule (a complex-event-processing pattern on the stream): **`count` samples
# outside `[nominal - band, nominal + band]` within `window` raise an alert**. An *episode*
# starts at the first out-of-band sample of the group that triggered it and ends at its last
# out-of-band sample before a quiet spell of one window. Bad-quality samples neither trigger nor
# extend an episode, and missing samples are never out of band.
#
# `detect_frequency_cube` applies the rule to the whole window at once, a chunk of PMUs at a time:
# one row per episode per PMU.

# %%
t0 = time.perf_counter()
episodes = detect_frequency_cube(
    ds, nominal_hz=nominal_hz, band_hz=band_hz, count=count, window=window_s
)
batch_s = time.perf_counter() - t0
n_samples = ds.sizes["time"] * ds.sizes["pmu"]
print(
    f"{len(episodes)} episodes on {episodes['group'].nunique()} PMUs; "
    f"{n_samples:,} samples in {batch_s * 1e3:.1f} ms ({n_samples / batch_s / 1e6:.0f}M samples/s)"
)
episodes.head(12)

# %% [markdown]
# ## The same episodes, streamed in 1-second batches
# In production the rule runs on the live feed: every second a block of `rate × n_pmu` samples
# arrives. `FrequencyDetector.push` takes one block and returns the episodes it closes; a small
# state per PMU (the last `count - 1` out-of-band samples and the open episode) carries over from
# one block to the next, so an episode that straddles two blocks is found once. `flush()` closes
# what is still open at the end of the data.
#
# Fed the window one second at a time, it must give exactly the batch result, down to the
# nanosecond.

# %%
values = ds["frequency_hz"].transpose("time", "pmu").values
codes = ds["quality"].transpose("time", "pmu").values
step = max(round(rate_hz), 1)


def stream(order: np.ndarray, lateness: str = "0s") -> tuple[pd.DataFrame, list[float], object]:
    """Push the rows of ``order`` in 1-s blocks; return the episodes, the latencies [ms], the
    detector."""
    det = FrequencyDetector(
        pmus, nominal_hz, band_hz, count, window=window_s, allowed_lateness=lateness
    )
    parts, latency_ms = [], []
    for i in range(0, order.size, step):
        rows = order[i : i + step]
        tic = time.perf_counter()
        parts.append(det.push(times[rows], values[rows], codes[rows]))
        latency_ms.append((time.perf_counter() - tic) * 1e3)
    parts.append(det.flush())
    found = pd.concat(parts, ignore_index=True).sort_values(["group", "start"], ignore_index=True)
    return found, latency_ms, det


streamed, latency_ms, _ = stream(np.arange(times.size))
pd.testing.assert_frame_equal(streamed, episodes)  # raises if a single value differs
print(
    f"streamed == batch: {len(streamed)} episodes from {len(latency_ms)} one-second batches; "
    f"latency per batch median {np.median(latency_ms):.2f} ms, "
    f"99th percentile {np.percentile(latency_ms, 99):.2f} ms"
)

# %% [markdown]
# Real feeds also deliver rows out of order. With `allowed_lateness="1s"` the detector holds
# rows in a reorder buffer until the watermark (newest time seen minus the lateness) passes them,
# then releases them in time order. Below, the rows are shuffled *within* each second: the
# episodes are still identical, and any row too late to be processed in order would be counted in
# `late_rows`, never silently dropped.

# %%
rng = np.random.default_rng(0)
shuffled = np.arange(times.size)
for i in range(0, shuffled.size, step):
    shuffled[i : i + step] = rng.permutation(shuffled[i : i + step])
reordered, _, det = stream(shuffled, lateness="1s")
pd.testing.assert_frame_equal(reordered, episodes)
print(f"shuffled within each second: identical episodes; late rows {det.late_rows}")

# %% [markdown]
# ## From episodes to disturbances
# A generator trip is felt by every PMU within a second or two, so one disturbance shows up as
# an episode on each PMU. Episodes that overlap (or follow each other within one window) are
# grouped into one system disturbance. Under-frequency means generation was lost; over-frequency
# means load was lost.
#
# Each disturbance is then characterised on the median frequency over the PMUs
# (`characterise`):
#
# - **nadir** [Hz]: the extreme frequency reached; under-frequency load shedding starts at
#   59.3-59.5 Hz in most of North America, so the margin to it matters;
# - **time to nadir** [s]: from the onset to the nadir, set by inertia and fast response;
# - **initial ROCOF** [Hz/s]: the slope over the first 0.5 s, which scales with the size of the
#   lost power over the system inertia (ROCOF relays trip at 0.1-1 Hz/s);
# - **settling time** [s]: from the onset until the frequency is back inside the band for 10 s
#   (NaN when it does not settle within the data: AGC takes minutes to restore 60 Hz).
#
# A "disturbance" seen by one PMU only is local (measurement noise or a local swing at the band
# edge), not a system event; and after a trip, frequency can hover at the band edge for minutes
# until AGC restores it, which shows up as small under-frequency episodes that belong to the trip.

# %%
ordered = episodes.sort_values("start", ignore_index=True)
gap = pd.Timedelta(seconds=window_s)
new = ordered["start"] > (ordered["end"].cummax().shift() + gap)
ordered["disturbance"] = new.cumsum()
ordered["direction"] = np.where(
    (nominal_hz - ordered["min_hz"]) >= (ordered["max_hz"] - nominal_hz), "under", "over"
)
rows = []
for d, grp in ordered.groupby("disturbance"):
    start = grp["start"].min()
    shape = characterise(times, median_hz, start, nominal_hz=nominal_hz, band_hz=band_hz)
    rows.append(
        {
            "disturbance": d,
            "start": start,
            "end": grp["end"].max(),
            "direction": grp["direction"].mode().iloc[0],
            "pmus": grp["group"].nunique(),
            **shape,
        }
    )
disturbances = pd.DataFrame(rows).drop(columns="energy_not_served_mwh")
disturbances.round(dict.fromkeys(["nadir_hz", "time_to_nadir_s", "rocof_hz_per_s"], 3))

# %% [markdown]
# The same characterisation per PMU is what the anomaly sweep writes to
# `gold.frequency_events` (`frequency_events_sweep`). The spread across PMUs shows how uniform a
# disturbance is: for most disturbances the PMUs' extremes (the `nadir_hz` column: the lowest
# frequency of an under-frequency episode, the highest of an over-frequency one) agree within
# 10 mHz (one synchronous system), while the measured ROCOF differs more from PMU to PMU,
# relative to its size, because local electromechanical swings ride on the common frequency in
# the first second (both checked below the table).

# %%
per_pmu = frequency_events_sweep(
    ds, nominal_hz=nominal_hz, band_hz=band_hz, count=count, window=window_s
)
per_pmu = per_pmu.merge(
    ordered[["group", "start", "disturbance"]].rename(columns={"group": "pmu"}),
    on=["pmu", "start"],
)
spread = per_pmu.groupby("disturbance").agg(
    pmus=("pmu", "nunique"),
    nadir_min_hz=("nadir_hz", "min"),
    nadir_max_hz=("nadir_hz", "max"),
    rocof_min_hz_per_s=("rocof_hz_per_s", "min"),
    rocof_max_hz_per_s=("rocof_hz_per_s", "max"),
    settling_median_s=("settling_time_s", "median"),
)
nadir_spread_mhz = (spread["nadir_max_hz"] - spread["nadir_min_hz"]) * 1e3
depth_mhz = (spread[["nadir_min_hz", "nadir_max_hz"]].mean(axis=1) - nominal_hz).abs() * 1e3
rocof_spread = spread["rocof_max_hz_per_s"] - spread["rocof_min_hz_per_s"]
rocof_size = spread[["rocof_min_hz_per_s", "rocof_max_hz_per_s"]].abs().max(axis=1)
print(
    f"extremes: median spread {nadir_spread_mhz.median():.1f} mHz over {len(spread)} disturbances"
)
assert nadir_spread_mhz.median() < 10, nadir_spread_mhz.round(1).to_dict()
assert (rocof_spread / rocof_size).median() > (nadir_spread_mhz / depth_mhz).median()
spread.round(3)

# %% [markdown]
# ## Event traces
# Frequency at a few PMUs from 10 s before to 40 s after each disturbance (the largest ones
# first), with the normal band shaded, the episode start dashed and the extreme of the median
# marked (the nadir of an under-frequency episode, the peak of an over-frequency one). A trip
# shows the classic shape: a drop at a rate set by the inertia, a nadir a few
# seconds later when the fast response and the governors catch up, then a recovery to a new
# quasi-steady level below 60 Hz that AGC restores over minutes.

# %%
shown = disturbances.assign(depth=(disturbances["nadir_hz"] - nominal_hz).abs())
shown = shown.nlargest(max_traces, "depth").sort_values("start")
drawn = [pmus[i] for i in np.unique(np.linspace(0, len(pmus) - 1, trace_pmus).round().astype(int))]
n = max(len(shown), 1)
ncols = min(n, 3)
nrows = -(-n // ncols)
fig, axes = plt.subplots(nrows, ncols, figsize=(5 * ncols, 3.4 * nrows), squeeze=False)
for ax, (_, dist) in zip(axes.flat, shown.iterrows(), strict=False):
    start = dist["start"].tz_convert(None)
    span = good.sel(time=slice(start - pd.Timedelta("10s"), start + pd.Timedelta("40s")))
    seconds = (span.indexes["time"] - start).total_seconds()
    ax.axhspan(lo_hz, hi_hz, color="tab:green", alpha=0.12)
    for pmu in drawn:
        ax.plot(seconds, span["frequency_hz"].sel(pmu=pmu), lw=0.8, label=pmu)
    ax.axvline(0, color="k", ls="--", lw=0.8)
    span_median = span["frequency_hz"].median("pmu").values
    if np.isfinite(dist["nadir_hz"]) and np.isfinite(span_median).any():
        k = np.nanargmin(np.abs(span_median - dist["nadir_hz"]))  # where the median hits it
        ax.plot(seconds[k], dist["nadir_hz"], "kv", ms=8, label="extreme (median)")
    extreme = "nadir" if dist["direction"] == "under" else "peak"
    ax.set(
        title=f"{dist['start']:%H:%M:%S} UTC, {dist['direction']}-frequency, "
        f"{extreme} {dist['nadir_hz']:.3f} Hz",
        xlabel="seconds from episode start",
        ylabel="frequency [Hz]",
    )
    ax.title.set_fontsize(9)
for ax in axes.flat[len(shown) :]:
    ax.set_axis_off()
axes.flat[0].legend(fontsize=7, loc="best")
fig.tight_layout()

# %% [markdown]
# ## Scoring against the simulator's labels
# The simulator records every event it injected in `ops.sim_events`: generator trips and load
# rejections (target `system`: every PMU sees them), forced oscillations, and per-PMU dropouts and
# bad-quality bursts. Each detector here answers one of those questions, so each prediction gets
# a type:
#
# - an under-frequency episode predicts a `generator_trip`, an over-frequency one a
#   `load_rejection`;
# - a run of quality code 2 predicts a `dropout`, a run of code 1 a `bad_quality` burst;
# - forced oscillations come from the spectrum (next section).
#
# `score_events` matches a prediction to a label of the same type when their intervals overlap,
# the label widened by the tolerance on both sides; a `system` label matches any PMU. Recall is
# the share of labels found, precision the share of predictions that match a label. Every PMU
# episode counts as a prediction, so one trip seen by 12 PMUs gives 12 correct predictions for
# one detected label.

# %%
labels = cat.read("ops.sim_events", where={"source": "pmu"})
labels = labels[(labels["end"] >= times[0].tz_localize("UTC")) & (labels["start"] <= last)]
typed = episodes.assign(
    event_type=np.where(
        (nominal_hz - episodes["min_hz"]) >= (episodes["max_hz"] - nominal_hz),
        "generator_trip",
        "load_rejection",
    )
)
t_ns = times.as_unit("ns").asi8
q_by_pmu = codes.T  # (pmu, time), series order for merge_flags
group_idx = np.repeat(np.arange(len(pmus)), t_ns.size)
time_idx = np.tile(t_ns, len(pmus))
quality_events = pd.concat(
    [
        merge_flags(
            group_idx,
            time_idx,
            (q_by_pmu == code).ravel(),
            np.ones(q_by_pmu.size),
            np.array(pmus, dtype=object),
            kind,
        )
        for code, kind in ((2, "dropout"), (1, "bad_quality"))
    ],
    ignore_index=True,
).rename(columns={"kind": "event_type"})
print(f"{len(labels)} labels in the window:", labels["event_type"].value_counts().to_dict())
labels[["event_type", "target_id", "start", "end", "magnitude"]]

# %% [markdown]
# ## Forced oscillations in the spectrum
# A forced oscillation is a periodic push, a control loop misbehaving or a mill's cyclic load,
# that makes the grid swing at its frequency (0.1-2 Hz) for as long as the source runs. It is
# invisible to the excursion rule (its amplitude, from a few mHz to a few tens, stays inside the
# ±0.05 Hz band) but stands out in a power spectrum as a sharp peak above the background.
#
# Two things hide it. Frequency has a *red* spectrum: slow wander, governors and AGC put most
# power at the lowest frequencies, right where slow oscillations (0.2-0.3 Hz) live, so a peak
# must be judged against its local background (the neighbouring bins), not the band's median,
# after differencing the signal (which multiplies the spectrum by ω² and flattens the red
# background). And an oscillation has a *mode shape*: regions swing by different amounts and
# often in opposite phase, so the median over PMUs, the usual "system frequency", can cancel it
# while every PMU shows it plainly.
#
# `detect_oscillation_pmus` therefore splits the PMUs into their common mode (the median over
# PMUs: the red wander, plus any oscillation that swings everyone in phase) and each PMU's
# deviation from it (the wander cancels, the regional swings stay), averages the deviations'
# spectra over PMUs, and reports the component whose peak stands higher above its local
# background. A 60-s window holds at least 12 cycles of a 0.2 Hz oscillation. The ratio
# timeline below, window by window, shows how far quiet windows stay from the threshold.

# %%
freq_values = freq.values  # (time, pmu), NaN where a sample is missing or flagged
win = max(int(oscillation_window_s * rate_hz), 64)
hop = win // 2
rows = []
for i in range(0, max(times.size - win, 0) + 1, hop):
    found = detect_oscillation_pmus(freq_values[i : i + win], rate_hz, ratio=oscillation_ratio)
    rows.append(
        {
            "start": times[i].tz_localize("UTC"),
            "end": times[i + win - 1].tz_localize("UTC"),
            **found,
        }
    )
windows = pd.DataFrame(rows)
oscillation_labels = labels[labels["event_type"] == "forced_oscillation"]
labelled_window = np.zeros(len(windows), bool)
for _, lab in oscillation_labels.iterrows():
    labelled_window |= (windows["end"] >= lab["start"]) & (windows["start"] <= lab["end"])

fig, ax = plt.subplots(figsize=(11, 3))
for _, lab in oscillation_labels.iterrows():
    ax.axvspan(lab["start"], lab["end"], color="tab:purple", alpha=0.15, label="labelled")
mid = windows["start"] + (windows["end"] - windows["start"]) / 2
colors = np.where(windows["detected"], "tab:red", "tab:gray")
ax.scatter(mid, windows["peak_ratio"], c=colors, s=18, zorder=3)
ax.axhline(oscillation_ratio, color="tab:red", ls="--", lw=0.8, label="threshold")
ax.set(
    yscale="log",
    ylabel="peak / background power",
    xlabel="window centre [UTC]",
    title=f"Oscillation search, {oscillation_window_s:g}-s windows of {windows['pmus'].max()} PMUs",
)
ax.legend(fontsize=8, loc="upper right")
fig.autofmt_xdate()
quiet_ratio = windows.loc[~labelled_window, "peak_ratio"].max()
print(
    f"windows clear of a labelled oscillation: {int((~labelled_window).sum())}, highest ratio "
    f"{quiet_ratio:.1f} (threshold {oscillation_ratio:g})"
)
false_alarms = windows[windows["detected"] & ~labelled_window]
assert false_alarms.empty, f"oscillations found where none is labelled: {false_alarms}"
windows.loc[
    windows["detected"], ["start", "frequency_hz", "damping_ratio", "peak_ratio", "component"]
].round({"frequency_hz": 3, "damping_ratio": 3, "peak_ratio": 0})

# %% [markdown]
# The spectra of the strongest window against the quietest one, in the component where the
# strongest peak stands (the common mode or the PMUs' deviations from it), differenced as the
# search sees them. When the window holds a forced oscillation (the simulator's labels say
# whether it does, and the search must agree: checked below), the background is the same and
# the oscillation is a single line above it, more than `oscillation_ratio` times its local
# background, with an amplitude at the PMUs (the mode shape, right) that stays inside the band
# the excursion rule watches (checked too). The damping ratio near 0 says it is *forced*
# (sustained), not a ringdown of a natural mode, which would decay with a ratio of a few
# percent. When the window holds none, the strongest window is only background and no mode
# shape is drawn.

# %%
strong = windows["peak_ratio"].idxmax()
quiet = windows["peak_ratio"].idxmin()
labelled_oscillation = bool(len(oscillation_labels))
found_oscillation = bool(windows.loc[strong, "peak_ratio"] > oscillation_ratio)
assert found_oscillation == labelled_oscillation, (
    f"oscillation found: {found_oscillation}, labelled: {labelled_oscillation}: stale text"
)
f0 = float(windows.loc[strong, "frequency_hz"])
component = windows.loc[strong, "component"]
fig, (ax, axm) = plt.subplots(1, 2, figsize=(12, 3.6), gridspec_kw={"width_ratios": [3, 2]})
for which, label, color in ((strong, "strongest", "tab:red"), (quiet, "quietest", "tab:gray")):
    i = windows.index.get_loc(which) * hop
    f, psd_common, psd_dev = pmu_oscillation_spectra(freq_values[i : i + win], rate_hz)
    psd = psd_common if component == "common" else psd_dev
    ax.semilogy(f, psd, color=color, lw=1, label=f"{label} window, {times[i]:%H:%M:%S}")
ax.axvspan(0.1, 2.0, color="tab:blue", alpha=0.08, label="0.1-2 Hz search band")
ax.axvline(f0, color="tab:red", ls=":", lw=0.8)
ax.set(
    xlim=(0, 5),
    xlabel="frequency [Hz]",
    ylabel="PSD of df/dt [(Hz/s)²/Hz]",
    title=f"Welch spectrum ({component}): peak at {f0:.3f} Hz",
)
ax.legend(fontsize=8)

# mode shape: the oscillation's amplitude at each PMU (regions swing by different amounts)
if found_oscillation:
    i = windows.index.get_loc(strong) * hop
    amplitude_mhz = [
        estimate_damping(freq.sel(pmu=p).values[i : i + win], rate_hz, f0)[1] * 1e3 for p in pmus
    ]
    axm.bar(range(len(pmus)), amplitude_mhz, color="tab:red", alpha=0.7)
    axm.set_xticks(range(len(pmus)), [p.replace("PMU_", "") for p in pmus], rotation=90, fontsize=7)
    axm.set(xlabel="PMU", ylabel="amplitude [mHz]", title=f"mode shape at {f0:.2f} Hz")
    print(
        f"amplitude {np.nanmin(amplitude_mhz):.0f}-{np.nanmax(amplitude_mhz):.0f} mHz across PMUs"
    )
    assert np.nanmax(amplitude_mhz) < band_hz * 1e3, "the oscillation leaves the band: stale text"
else:
    axm.set_axis_off()
    axm.set_title("no forced oscillation in this window")
    print("no forced oscillation in this window: the strongest peak is background")
fig.tight_layout()

# %% [markdown]
# ### All detectors against all labels
# Consecutive windows with a detected oscillation become one predicted `forced_oscillation`
# event. Together with the typed excursion episodes and the quality runs, every label type has
# a detector, and the table shows how each one did.

# %%
hit = windows[windows["detected"]].reset_index(drop=True)
run = (hit["start"] > hit["end"].shift()).cumsum() if len(hit) else pd.Series(dtype=int)
oscillations = (
    hit.groupby(run).agg(start=("start", "min"), end=("end", "max")).assign(group="system")
    if len(hit)
    else pd.DataFrame(columns=["start", "end", "group"])
)
predicted = pd.concat(
    [
        typed[["group", "start", "end", "event_type"]],
        quality_events[["group", "start", "end", "event_type"]],
        oscillations.assign(event_type="forced_oscillation")[
            ["group", "start", "end", "event_type"]
        ],
    ],
    ignore_index=True,
)
scores = score_events(predicted, labels, tolerance=f"{tolerance_s}s")
scores.round(3)

# %%
fig, ax = plt.subplots(figsize=(8, 3))
plot = scores.set_index("event_type")[["precision", "recall", "f1"]]
assert (plot["recall"] == 1).all(), plot["recall"].to_dict()
plot.plot.bar(ax=ax, rot=20, width=0.75)
ax.set(ylim=(0, 1.05), ylabel="score", title=f"Event-level scores (tolerance {tolerance_s:g} s)")
ax.legend(fontsize=8, ncols=3, loc="lower right")
fig.tight_layout()

# %% [markdown]
# Read recall first: every labelled type in the window is found (recall 1, checked below).
# Precision is the weaker column: every under-frequency episode predicts a trip and every
# over-frequency one a load rejection, so episodes with another cause (a large load swing, the
# recovery after an event) count against those types. Each type has one or two labels in a
# window this short, so the table is little evidence either way; vary `band_hz`, `count` and
# `tolerance_s` to see where precision and recall trade off.
#
# ## Summary
# - `cat.scan("bronze.pmu")` is lazy; `ds.grid.window(...)` cuts the time window and
#   `ds.grid.good()` blanks samples whose quality is not good.
# - The excursion rule runs in one batch pass (`detect_frequency_cube`) or on a live feed in
#   1-second blocks (`FrequencyDetector`), with identical episodes, also when rows arrive out of
#   order within the allowed lateness.
# - Per-PMU episodes group into system disturbances; `characterise` gives nadir, time to nadir,
#   initial ROCOF and settling time, and `frequency_events_sweep` gives the same per PMU (the
#   rows of `gold.frequency_events`).
# - `score_events` compares typed predictions with `ops.sim_events`, with a time tolerance.
# - Forced oscillations need the spectrum, judged against each peak's local background and
#   searched across PMUs (common mode and deviations from it), since a mode shape in opposite
#   phase cancels in the median; quiet windows show how much margin the threshold has.
#
# ## What's next
# - `02_scada_anomalies` (this folder): rules, Isolation Forest and an LSTM autoencoder on SCADA
#   telemetry, scored by fault type.
# - `frequency_event_browser.py` (this folder): `marimo run` it to browse PMUs and events with
#   your own band, count and window.
# - `workbench anomaly frequency --help`: the same rule on a CSV or Parquet file.

# %%
cat.close()
