"""Forecast explorer: a marimo notebook that is also a reactive app.

marimo run notebooks/forecasting/forecast_explorer.py              (the app)
marimo edit notebooks/forecasting/forecast_explorer.py             (the notebook)
python notebooks/forecasting/forecast_explorer.py --region=NORTH --days=14   (a script)
"""

import marimo

__generated_with = "0.25.2"
app = marimo.App(width="medium", app_title="GridMind forecast explorer")


@app.cell
def _():
    import marimo as mo

    return (mo,)


@app.cell
def _(mo):
    mo.md(r"""
    # Forecast explorer: load forecasts by region, model and issue
    """)
    return


@app.cell
def _(issues, mo, model, region, uc):
    labels = {f"{t.tz_convert(uc.spec.tz):%a %d %b %Y %H:%M %Z}": t.isoformat() for t in issues}
    issue = mo.ui.dropdown(options=labels, value=list(labels)[-1], label="issue")
    mo.hstack([region, model, issue], justify="start", gap=2)
    return (issue,)


@app.cell
def _(INLINE, Span, figure, file_html, frames, issue, mo, model, pd, uc):
    chosen = pd.Timestamp(issue.value)
    _one = frames[model.value]
    _one = _one[_one["issue_time"] == chosen].sort_values("target_time")
    _tz = uc.spec.tz

    def _wall(stamps):
        """UTC stamps as local wall-clock time (Bokeh draws datetimes without a zone)."""
        return pd.DatetimeIndex(stamps).tz_convert(_tz).tz_localize(None)

    fan = figure(
        title=f"{uc.name} · {model.value} · issued {chosen.tz_convert(_tz):%Y-%m-%d %H:%M %Z}",
        x_axis_type="datetime",
        x_axis_label=f"time ({_tz})",
        y_axis_label="load [MW]",
        height=340,
        sizing_mode="stretch_width",
        tools="xpan,xwheel_zoom,box_zoom,reset,save,hover",
        active_scroll="xwheel_zoom",
        tooltips=[("time", "@x{%a %d %b %H:%M}"), ("load", "@y{0,0} MW")],
    )
    fan.hover.formatters = {"@x": "datetime"}
    _x = _wall(_one["target_time"])
    fan.varea(_x, _one["q0.1"], _one["q0.9"], fill_alpha=0.25, legend_label="10-90 %")
    fan.line(_x, _one["y_pred"], line_width=2, legend_label="forecast (median)")
    fan.line(_x, _one["y_true"], color="black", line_width=1, legend_label="actual")
    _past = uc.data.y[(uc.data.y.index < chosen) & (uc.data.y.index >= chosen - pd.Timedelta("2D"))]
    fan.line(_wall(_past.index), _past.to_numpy(), color="grey", legend_label="history")
    fan.add_layout(
        Span(location=_wall([chosen])[0], dimension="height", line_color="red", line_dash="dashed")
    )
    fan.legend.location = "top_left"
    fan.legend.click_policy = "hide"
    mo.iframe(file_html(fan, INLINE, fan.title.text), height="380px")
    return (chosen,)


@app.cell
def _(chosen, frames, mo, pd, score_frame, uc):
    keep = ["mae", "rmse", "mape_pct", "pinball", "coverage_80"]
    rows = {}
    counts = {}
    for _name, _frame in frames.items():
        _one = _frame[_frame["issue_time"] == chosen]
        rows[(_name, "this issue")] = score_frame(_one, uc.spec.quantiles)
        rows[(_name, "test period")] = score_frame(_frame, uc.spec.quantiles)
        counts[(_name, "this issue")] = len(_one)
        counts[(_name, "test period")] = len(_frame)
    scores = pd.DataFrame(rows).T[keep].round(3)
    scores.insert(0, "n (hours)", pd.Series(counts))
    scores.index = [f"{m} · {w}" for m, w in scores.index]
    mo.vstack(
        [
            mo.md("**Metrics** (MAE, RMSE, pinball in MW; MAPE in %; coverage: share in the band)"),
            scores,
        ]
    )
    return


@app.cell
def _(INLINE, figure, file_html, frames, mo, model, score_by, uc):
    steps = figure(
        title="test period: error by step",
        x_axis_label="step [h ahead of the first target]",
        y_axis_label="MAE [MW]",
        height=260,
        sizing_mode="stretch_width",
        tools="pan,wheel_zoom,box_zoom,reset,save,hover",
        tooltips=[("step", "@x h"), ("MAE", "@y{0,0} MW")],
    )
    palette = {"lightgbm": "#1f77b4", "seasonal_naive": "#ff7f0e"}
    for _name, _frame in frames.items():
        _mae = score_by(_frame, "step", uc.spec.quantiles, tz=uc.spec.tz)["mae"]
        steps.line(
            _mae.index.to_numpy(),
            _mae.to_numpy(),
            line_width=3 if _name == model.value else 1,
            color=palette.get(_name, "#2ca02c"),
            legend_label=_name,
        )
    steps.legend.click_policy = "hide"
    mo.iframe(file_html(steps, INLINE, steps.title.text), height="300px")
    return


@app.cell
def _(mo):
    mo.accordion(
        {
            "About this app: overview, prerequisites, parameters": mo.md(r"""
    ## Overview
    Pick a region, a model and one issue of a rolling-origin backtest over the last days of
    the data, and see what the forecast said then: the 10-90 % band, the median and what
    happened, with the metrics of that issue and of the whole test period. The backtest is the
    one of `notebooks/forecasting/01_load_forecasting` (48 hours ahead from 06:00 local, weather
    forecasts as issued, LightGBM against the seasonal-naive baseline); it is recomputed when
    the region changes. The plots are Bokeh with BokehJS inlined (nothing is loaded from the
    internet): drag to pan, scroll to zoom, click a legend entry to hide it.

    ## Prerequisites
    | concept | importance | notes |
    |---|---|---|
    | rolling-origin backtests | helpful | `notebooks/forecasting/01_load_forecasting` |
    | quantile forecasts | helpful | the band holds 80 % of the outcomes when calibrated |
    | marimo | helpful | cells re-run when the controls they read change |

    Time to learn: 10 minutes. Data: the demo lakehouse (`make demo`), or any lakehouse that
    `WORKBENCH_HOME` points at.

    ## Parameters
    Command-line arguments set the starting values: `--region` (a region_id, default NORTH),
    `--days` (test period: the last N days, default 28), `--history-days` (history before it,
    default 365) and `--retrain` (never, monthly, weekly or every; default weekly). With `marimo
    run`, pass them after `--`.
    """)
        }
    )
    return


@app.cell
def _(mo):
    args = mo.cli_args()
    start_region = str(args.get("region") or "NORTH")
    test_days = int(args.get("days") or 28)
    history_days = int(args.get("history-days") or 365)
    retrain = str(args.get("retrain") or "weekly")
    return history_days, retrain, start_region, test_days


@app.cell
def _(mo):
    mo.md(r"""
    ## Imports
    """)
    return


@app.cell
def _():
    import pandas as pd
    from bokeh.embed import file_html
    from bokeh.models import Span
    from bokeh.plotting import figure
    from bokeh.resources import INLINE

    from workbench import open_catalog
    from workbench.forecasting.backtest import backtest, issue_schedule
    from workbench.forecasting.metrics import score_by, score_frame
    from workbench.forecasting.usecases.load import load_usecase

    return (
        INLINE,
        Span,
        backtest,
        figure,
        file_html,
        issue_schedule,
        load_usecase,
        open_catalog,
        pd,
        score_by,
        score_frame,
    )


@app.cell
def _(open_catalog, pd):
    cat = open_catalog()
    regions = sorted(cat.read("gold.dim_regions")["region_id"].astype(str))
    data_end = pd.Timestamp(cat.scan("gold.fact_load").timestamp.max().to_pandas())
    data_end = data_end.tz_localize("UTC") if data_end.tzinfo is None else data_end
    return cat, data_end, regions


@app.cell
def _(mo, regions, start_region):
    if start_region not in regions:
        raise ValueError(f"expected --region among {regions}; found {start_region!r}")
    region = mo.ui.dropdown(options=regions, value=start_region, label="region")
    model = mo.ui.dropdown(options=["lightgbm", "seasonal_naive"], value="lightgbm", label="model")
    return model, region


@app.cell
def _(
    backtest,
    cat,
    data_end,
    history_days,
    issue_schedule,
    load_usecase,
    mo,
    pd,
    region,
    retrain,
    test_days,
):
    test_start = data_end.normalize() - pd.Timedelta(days=test_days)
    uc = load_usecase(cat, region.value, start=test_start - pd.Timedelta(days=history_days))
    last_issue = data_end - pd.Timedelta(hours=uc.spec.horizon - 1)
    issues = issue_schedule(test_start, last_issue, uc.issue_time, uc.spec.tz)
    with mo.status.spinner(title=f"Backtesting {region.value} ..."):
        result = backtest(
            uc.data,
            uc.spec,
            "lightgbm",
            issues,
            retrain=retrain,
            model_params=uc.model_params["lightgbm"],
        )
    frames = {"lightgbm": result.forecasts, "seasonal_naive": result.baseline}
    mo.md(
        f"**Backtest**: {uc.name}, {len(issues)} issues at {uc.issue_time} {uc.spec.tz}, "
        f"{len(result.fits)} fit(s) ({retrain}), {result.wall_time_s:.1f} s"
    )
    return frames, issues, uc


@app.cell
def _(mo):
    mo.md(r"""
    ## Summary
    - One backtest per region gives every issue of the test period for both models; the controls
      only choose what to draw, so they answer at once.
    - The fan chart shows whether the band was honest for that issue; the table puts the issue in
      the context of the whole test period, with the hours behind each number.

    ## What's next
    - `notebooks/forecasting/01_load_forecasting`: features, tuning and the model registry.
    - `marimo edit notebooks/forecasting/forecast_explorer.py` to change the app.
    """)
    return


if __name__ == "__main__":
    app.run()
