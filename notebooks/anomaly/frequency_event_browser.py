import marimo

__generated_with = "0.25.2"
app = marimo.App(width="medium", app_title="Frequency event browser")


@app.cell
def _():
    import marimo as mo

    return (mo,)


@app.cell
def _(mo):
    mo.md(r"""
    # Frequency event browser

    ## Overview
    Browse the PMU cube (`bronze.pmu`) one PMU and one labelled event at a time. Pick a PMU and
    an event from `ops.sim_events`, set the excursion rule (band, count, window) and the span of
    the trace, and the page redraws: the PMU's frequency with the normal band shaded, the median
    over all PMUs for context, the episodes the rule finds, and a table of those episodes with
    their nadir, time to nadir, initial ROCOF and settling time.

    It is a [marimo](https://marimo.io) notebook: `marimo run frequency_event_browser.py` serves it
    as an app, `marimo edit` opens it as a notebook, and `python frequency_event_browser.py
    --pmu=PMU_0003 --band_hz=0.04` runs it top to bottom as a script.

    ## Prerequisites
    | concept | importance | notes |
    |---|---|---|
    | the excursion rule | helpful | `count` samples outside nominal ± band within `window` |
    | disturbance measures | helpful | see `01_frequency_events` in this folder |
    | marimo | helpful | cells re-run when a control they read changes |

    Time to learn: 10 minutes. Data: the demo lakehouse (`make demo`), or any lakehouse that
    `WORKBENCH_HOME` points at.
    """)
    return


@app.cell
def _(mo):
    mo.md(r"""
    ## Parameters
    Command-line arguments (`--name=value`) set the starting values of the controls: `minutes`
    (the last N minutes of the cube to load), `pmu`, `event` (an index into the event list),
    `band_hz`, `count`, `window_s` and `span_s` (seconds of trace around the event).
    """)
    return


@app.cell
def _(mo):
    args = mo.cli_args()
    minutes = float(args.get("minutes") or 60)
    start_pmu = args.get("pmu")
    start_event = int(args.get("event") or 0)
    start_band_hz = float(args.get("band_hz") or 0.05)
    start_count = int(args.get("count") or 3)
    start_window_s = float(args.get("window_s") or 5.0)
    start_span_s = float(args.get("span_s") or 60.0)
    return (
        minutes,
        start_band_hz,
        start_count,
        start_event,
        start_pmu,
        start_span_s,
        start_window_s,
    )


@app.cell
def _(mo):
    mo.md(r"""
    ## Imports
    """)
    return


@app.cell
def _():
    import matplotlib.pyplot as plt
    import numpy as np
    import pandas as pd

    from workbench import open_catalog
    from workbench.anomaly.sweep import frequency_events_sweep

    return frequency_events_sweep, np, open_catalog, pd, plt


@app.cell
def _(mo):
    mo.md(r"""
    ## Data
    The cube is opened lazily and only the last `minutes` are loaded; `ds.grid.good()` blanks
    samples whose quality code is not 0 (lost sync or dropout). The events are the simulator's
    labels for the PMU source.
    """)
    return


@app.cell
def _(minutes, open_catalog, pd):
    cat = open_catalog()
    cube = cat.scan("bronze.pmu")
    stamps = cube.indexes["time"]
    last = stamps[-1].tz_localize("UTC")
    first = max(last - pd.Timedelta(minutes=minutes), stamps[0].tz_localize("UTC"))
    ds = cube.grid.window(first, None).load()
    good = ds.grid.good()
    nominal_hz = ds.grid.nominal_hz
    pmus = [str(p) for p in ds["pmu"].values]
    labels = cat.read("ops.sim_events", where={"source": "pmu"})
    labels = labels[(labels["end"] >= first) & (labels["start"] <= last)]
    labels = labels.sort_values("start", ignore_index=True)
    cat.close()
    return first, good, labels, last, nominal_hz, pmus


@app.cell
def _(
    labels,
    mo,
    pmus,
    start_band_hz,
    start_count,
    start_event,
    start_pmu,
    start_span_s,
    start_window_s,
):
    event_options = {
        f"{row.start:%H:%M:%S} {row.event_type} ({row.target_id})": i
        for i, row in enumerate(labels.itertuples())
    }
    event_options = event_options or {"(no labelled events: whole window)": -1}
    event_names = list(event_options)
    pmu_pick = mo.ui.dropdown(
        pmus, value=start_pmu if start_pmu in pmus else pmus[0], label="PMU", searchable=True
    )
    event_pick = mo.ui.dropdown(
        event_options,
        value=event_names[min(max(start_event, 0), len(event_names) - 1)],
        label="event",
    )
    band = mo.ui.slider(0.01, 0.2, 0.005, value=start_band_hz, label="band ± [Hz]", show_value=True)
    count = mo.ui.slider(1, 30, 1, value=start_count, label="count", show_value=True)
    window = mo.ui.slider(0.5, 30.0, 0.5, value=start_window_s, label="window [s]", show_value=True)
    span = mo.ui.slider(10, 600, 10, value=start_span_s, label="trace span [s]", show_value=True)
    mo.vstack(
        [
            mo.md("## Choose a PMU, an event and the rule"),
            mo.hstack([pmu_pick, event_pick], justify="start", gap=2),
            mo.hstack([band, count, window, span], justify="start", gap=2),
        ]
    )
    return band, count, event_pick, pmu_pick, span, window


@app.cell
def _(band, count, frequency_events_sweep, good, nominal_hz, pmu_pick, window):
    episodes = frequency_events_sweep(
        good.sel(pmu=[pmu_pick.value]),
        nominal_hz=nominal_hz,
        band_hz=band.value,
        count=count.value,
        window=window.value,
    )
    return (episodes,)


@app.cell
def _(
    band,
    episodes,
    event_pick,
    first,
    good,
    labels,
    last,
    mo,
    nominal_hz,
    np,
    pd,
    plt,
    pmu_pick,
    span,
):
    if event_pick.value is not None and event_pick.value >= 0:
        event = labels.iloc[event_pick.value]
        t0 = event["start"] - pd.Timedelta(seconds=span.value / 4)
        t1 = t0 + pd.Timedelta(seconds=span.value)
        title = f"{event['event_type']} at {event['start']:%H:%M:%S} UTC"
    else:
        event, t0, t1, title = None, first, last, "whole window"
    view = good.sel(time=slice(t0.tz_convert(None), t1.tz_convert(None)))
    trace_figure, ax = plt.subplots(figsize=(11, 4))
    ax.axhspan(
        nominal_hz - band.value,
        nominal_hz + band.value,
        color="tab:green",
        alpha=0.12,
        label=f"band ±{band.value:g} Hz",
    )
    ax.plot(
        view.indexes["time"],
        view["frequency_hz"].median("pmu"),
        color="0.6",
        lw=0.8,
        label="median of all PMUs",
    )
    ax.plot(
        view.indexes["time"],
        view["frequency_hz"].sel(pmu=pmu_pick.value),
        lw=0.9,
        color="tab:blue",
        label=pmu_pick.value,
    )
    if event is not None:
        ax.axvline(
            event["start"].tz_convert(None), color="k", ls="--", lw=0.8, label="labelled start"
        )
    shown = episodes[(episodes["end"] >= t0) & (episodes["start"] <= t1)]
    for i, ep in enumerate(shown.itertuples()):
        ax.axvspan(
            ep.start.tz_convert(None),
            ep.end.tz_convert(None),
            color="tab:red",
            alpha=0.2,
            label="episode" if i == 0 else None,
        )
        if np.isfinite(ep.nadir_hz):
            ax.axhline(ep.nadir_hz, color="tab:red", lw=0.6, ls=":")
    ax.set(ylabel="frequency [Hz]", xlabel="time [UTC]", title=f"{pmu_pick.value}: {title}")
    ax.legend(fontsize=8, loc="best", ncols=3)
    trace_figure.autofmt_xdate()
    trace_figure.tight_layout()
    mo.vstack([mo.md("## Trace"), trace_figure])
    return (trace_figure,)


@app.cell
def _(episodes, mo, pmu_pick):
    table = episodes.drop(columns="pmu").round(
        {
            "min_hz": 4,
            "max_hz": 4,
            "nadir_hz": 4,
            "time_to_nadir_s": 2,
            "rocof_hz_per_s": 4,
            "settling_time_s": 2,
        }
    )
    mo.vstack(
        [
            mo.md(f"## Episodes\n{len(episodes)} episodes on {pmu_pick.value} in the window."),
            mo.ui.table(table, selection=None, page_size=10),
        ]
    )
    return


@app.cell
def _(mo):
    mo.md(r"""
    ## Summary
    - The excursion rule has three knobs: a narrower band or a smaller count finds more (and
      smaller) episodes; a longer window merges episodes separated by short quiet spells.
    - A system event (trip, load rejection) shows on every PMU at once; a local one on a few.
    - The table is `frequency_events_sweep` on one PMU: the rows of `gold.frequency_events`.

    ## What's next
    - `01_frequency_events` (this folder): streaming vs batch, disturbances, scoring against the
      labels and forced oscillations.
    - `02_scada_anomalies` (this folder): anomaly detection on SCADA telemetry.
    """)
    return


if __name__ == "__main__":
    app.run()
