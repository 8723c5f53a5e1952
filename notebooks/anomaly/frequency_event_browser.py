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
    """)
    return


@app.cell
def _(
    default_event,
    default_pmu,
    event_options,
    mo,
    pmus,
    start_band_hz,
    start_count,
    start_span_s,
    start_window_s,
):
    event_names = list(event_options)
    pmu_pick = mo.ui.dropdown(pmus, value=default_pmu, label="PMU", searchable=True)
    event_pick = mo.ui.dropdown(event_options, value=event_names[default_event], label="event")
    band = mo.ui.slider(0.01, 0.2, 0.005, value=start_band_hz, label="band ± [Hz]", show_value=True)
    count = mo.ui.slider(1, 30, 1, value=start_count, label="count", show_value=True)
    window = mo.ui.slider(0.5, 30.0, 0.5, value=start_window_s, label="window [s]", show_value=True)
    span = mo.ui.slider(10, 600, 10, value=start_span_s, label="trace span [s]", show_value=True)
    mo.vstack(
        [
            mo.hstack([event_pick, pmu_pick], justify="start", gap=2),
            mo.hstack([band, count, window, span], justify="start", gap=2),
        ]
    )
    return band, count, event_pick, pmu_pick, span, window


@app.cell
def _(
    INLINE,
    band,
    default_note,
    episodes,
    event_pick,
    figure,
    file_html,
    first,
    good,
    labels,
    last,
    mo,
    nominal_hz,
    np,
    pd,
    pmu_pick,
    span,
):
    from bokeh.models import BoxAnnotation, HoverTool, Span

    if event_pick.value is not None and event_pick.value >= 0:
        event = labels.iloc[event_pick.value]
        t0 = event["start"] - pd.Timedelta(seconds=span.value / 4)
        t1 = t0 + pd.Timedelta(seconds=span.value)
        title = f"{event['event_type'].replace('_', ' ')} at {event['start']:%H:%M:%S} UTC"
    else:
        event, t0, t1, title = None, first, last, "whole window"
    view = good.sel(time=slice(t0.tz_convert(None), t1.tz_convert(None)))
    times = view.indexes["time"]
    trace = figure(
        title=f"{pmu_pick.value}: {title}",
        x_axis_type="datetime",
        x_axis_label="time [UTC]",
        y_axis_label="frequency [Hz]",
        height=340,
        sizing_mode="stretch_width",
        tools="xpan,xwheel_zoom,box_zoom,reset,save",
        active_scroll="xwheel_zoom",
    )
    trace.add_layout(
        BoxAnnotation(
            bottom=nominal_hz - band.value,
            top=nominal_hz + band.value,
            fill_color="green",
            fill_alpha=0.1,
        )
    )
    trace.line(
        times,
        view["frequency_hz"].median("pmu").values,
        color="#999999",
        line_width=1,
        legend_label="median of all PMUs",
    )
    pmu_line = trace.line(
        times,
        view["frequency_hz"].sel(pmu=pmu_pick.value).values,
        color="#1f77b4",
        line_width=1.5,
        legend_label=f"{pmu_pick.value}",
    )
    trace.add_tools(
        HoverTool(
            renderers=[pmu_line],
            tooltips=[("time", "@x{%H:%M:%S.%3N}"), ("frequency", "@y{0.0000} Hz")],
            formatters={"@x": "datetime"},
            mode="vline",
        )
    )
    if event is not None:
        trace.add_layout(
            Span(
                location=event["start"].tz_convert(None),
                dimension="height",
                line_dash="dashed",
                line_color="black",
            )
        )
    shown = episodes[(episodes["end"] >= t0) & (episodes["start"] <= t1)]
    for ep in shown.itertuples():
        trace.add_layout(
            BoxAnnotation(
                left=ep.start.tz_convert(None),
                right=ep.end.tz_convert(None),
                fill_color="red",
                fill_alpha=0.15,
            )
        )
        if np.isfinite(ep.nadir_hz):
            trace.add_layout(
                Span(location=ep.nadir_hz, dimension="width", line_color="red", line_dash="dotted")
            )
    trace.legend.location = "bottom_right"
    trace.legend.click_policy = "hide"
    mo.vstack(
        [
            mo.iframe(file_html(trace, INLINE, trace.title.text), height="380px"),
            mo.md(
                f"{default_note} Green: the band ±{band.value:g} Hz; red: the {len(shown)} "
                f"episode(s) the rule finds in view (dotted: their nadir); dashed: the labelled "
                "start. Drag to pan, scroll to zoom in time, click a legend entry to hide it."
            ),
        ]
    )
    return


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
            mo.md(f"**Episodes**: {len(episodes)} on {pmu_pick.value} in the loaded window."),
            mo.ui.table(table, selection=None, page_size=10),
        ]
    )
    return


@app.cell
def _(mo):
    mo.accordion(
        {
            "About this app: overview, prerequisites, parameters": mo.md(r"""
    ## Overview
    Browse the PMU cube (`bronze.pmu`) one PMU and one labelled event at a time. Pick a PMU and
    an event from `ops.sim_events`, set the excursion rule (band, count, window) and the span of
    the trace, and the page redraws: the PMU's frequency with the normal band shaded, the median
    over all PMUs for context, the episodes the rule finds, and a table of those episodes with
    their nadir, time to nadir, initial ROCOF and settling time. It opens on the generator trip
    of the loaded window (the largest system event when there is none) and the PMU that saw the
    deepest nadir during it.

    It is a [marimo](https://marimo.io) notebook: `marimo run frequency_event_browser.py` serves it
    as an app, `marimo edit` opens it as a notebook, and `python frequency_event_browser.py
    --pmu=PMU_0003 --band_hz=0.04` runs it top to bottom as a script. The plots are Bokeh with
    BokehJS inlined: nothing is loaded from the internet.

    ## Prerequisites
    | concept | importance | notes |
    |---|---|---|
    | the excursion rule | helpful | `count` samples outside nominal ± band within `window` |
    | disturbance measures | helpful | see `01_frequency_events` in this folder |
    | marimo | helpful | cells re-run when a control they read changes |

    Time to learn: 10 minutes. Data: the demo lakehouse (`make demo`), or any lakehouse that
    `WORKBENCH_HOME` points at.

    ## Parameters
    Command-line arguments (`--name=value`) set the starting values of the controls: `minutes`
    (the last N minutes of the cube to load), `pmu`, `event` (an index into the event list; by
    default the generator trip), `band_hz`, `count`, `window_s` and `span_s` (seconds of trace
    around the event).
    """)
        }
    )
    return


@app.cell
def _(mo):
    args = mo.cli_args()
    minutes = float(args.get("minutes") or 60)
    start_pmu = args.get("pmu")
    start_event = args.get("event")
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
    import numpy as np
    import pandas as pd
    from bokeh.embed import file_html
    from bokeh.plotting import figure
    from bokeh.resources import INLINE

    from workbench import open_catalog
    from workbench.anomaly.sweep import frequency_events_sweep

    return INLINE, figure, file_html, frequency_events_sweep, np, open_catalog, pd


@app.cell
def _(mo):
    mo.md(r"""
    ## Data
    The cube is opened lazily and only the last `minutes` are loaded; `ds.grid.good()` blanks
    samples whose quality code is not 0 (lost sync or dropout). The events are the simulator's
    labels for the PMU source. The starting event is found in them: the generator trip (the
    largest one if several), else the largest system-wide event; the starting PMU is the one
    whose frequency fell lowest in the first minute after it.
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
def _(good, labels, pd, pmus, start_event, start_pmu):
    event_options = {
        f"{row.start:%H:%M:%S} {row.event_type.replace('_', ' ')} ({row.target_id})": i
        for i, row in enumerate(labels.itertuples())
    }
    event_options = event_options or {"(no labelled events: whole window)": -1}
    trips = labels[labels["event_type"] == "generator_trip"]
    system = labels[labels["target_id"] == "system"]
    if start_event is not None:
        default_event = min(max(int(start_event), 0), len(event_options) - 1)
        default_note = "Opened on the event asked for (`--event`)."
    elif len(trips):
        default_event = int(trips["magnitude"].idxmax())
        default_note = (
            f"Opened on the generator trip ({trips.loc[default_event, 'magnitude']:,.0f} MW)."
        )
    elif len(system):
        default_event = int(system["magnitude"].idxmax())
        default_note = "No generator trip in the loaded window: opened on the largest system event."
    else:
        default_event = 0
        default_note = "No system event in the loaded window: opened on the first one listed."
    if start_pmu in pmus:
        default_pmu = start_pmu
    elif len(labels):
        _t0 = labels.loc[default_event, "start"].tz_convert(None)
        _after = good["frequency_hz"].sel(time=slice(_t0, _t0 + pd.Timedelta(minutes=1)))
        _low = _after.min("time")
        default_pmu = (
            str(_low["pmu"].values[int(_low.argmin("pmu"))]) if _after.sizes["time"] else pmus[0]
        )
    else:
        default_pmu = pmus[0]
    return default_event, default_note, default_pmu, event_options


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
