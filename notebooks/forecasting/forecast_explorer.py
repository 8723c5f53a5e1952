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

    ## Overview
    Pick a region, a model and one issue of a rolling-origin backtest over the last days of
    the data, and see what the forecast said then: the 10-90 % band, the median and what
    happened, with the metrics of that issue and of the whole test period. The backtest is the
    one of `notebooks/forecasting/01_load_forecasting` (48 hours ahead from 06:00 local, weather
    forecasts as issued, LightGBM against the seasonal-naive baseline); it is recomputed when
    the region changes.

    ## Prerequisites
    | concept | importance | notes |
    |---|---|---|
    | rolling-origin backtests | helpful | `notebooks/forecasting/01_load_forecasting` |
    | quantile forecasts | helpful | the band holds 80 % of the outcomes when calibrated |
    | marimo | helpful | cells re-run when the controls they read change |

    Time to learn: 10 minutes. Data: the demo lakehouse (`make demo`), or any lakehouse that
    `WORKBENCH_HOME` points at.
    """)
    return


@app.cell
def _(mo):
    mo.md(r"""
    ## Parameters
    Command-line arguments set the starting values: `--region` (a region_id, default NORTH),
    `--days` (test period: the last N days, default 28), `--history-days` (history before it,
    default 365) and `--retrain` (never, monthly, weekly or every; default weekly). With `marimo
    run`, pass them after `--`.
    """)
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
    import matplotlib.pyplot as plt
    import pandas as pd

    from workbench import open_catalog
    from workbench.forecasting.backtest import backtest, issue_schedule
    from workbench.forecasting.metrics import score_by, score_frame
    from workbench.forecasting.plots import fan_chart
    from workbench.forecasting.usecases.load import load_usecase

    return (
        backtest,
        fan_chart,
        issue_schedule,
        load_usecase,
        open_catalog,
        pd,
        plt,
        score_by,
        score_frame,
    )


@app.cell
def _(mo):
    mo.md(r"""
    ## Choose a region and a model
    """)
    return


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
    mo.hstack([region, model], justify="start")
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
        f"**{uc.name}**: {len(issues)} issues at {uc.issue_time} {uc.spec.tz}, "
        f"{len(result.fits)} fit(s) ({retrain}), {result.wall_time_s:.1f} s"
    )
    return frames, issues, uc


@app.cell
def _(mo):
    mo.md(r"""
    ## Choose an issue
    """)
    return


@app.cell
def _(issues, mo, uc):
    labels = {f"{t.tz_convert(uc.spec.tz):%a %d %b %Y %H:%M %Z}": t.isoformat() for t in issues}
    issue = mo.ui.dropdown(options=labels, value=list(labels)[-1], label="issue")
    issue
    return (issue,)


@app.cell
def _(mo):
    mo.md(r"""
    ## The forecast of that issue
    The band is the 10-90 % interval, the blue line the forecast, black what happened, grey the
    two days before the issue (red dashed line).
    """)
    return


@app.cell
def _(fan_chart, frames, issue, model, pd, plt, uc):
    chosen = pd.Timestamp(issue.value)
    fig = fan_chart(frames[model.value], chosen, tz=uc.spec.tz, history=uc.data.y)
    fig.axes[0].set_ylabel("load [MW]")
    fig.axes[0].set_title(f"{uc.name} · {model.value} · {fig.axes[0].get_title()}")
    plt.close(fig)
    fig
    return (chosen,)


@app.cell
def _(chosen, frames, mo, pd, score_frame, uc):
    keep = ["mae", "rmse", "mape_pct", "pinball", "coverage_80"]
    rows = {}
    for name, frame in frames.items():
        one = frame[frame["issue_time"] == chosen]
        rows[(name, "this issue")] = score_frame(one, uc.spec.quantiles)
        rows[(name, "test period")] = score_frame(frame, uc.spec.quantiles)
    scores = pd.DataFrame(rows).T[keep].round(3)
    scores.index = [f"{m} · {w}" for m, w in scores.index]
    mo.vstack([mo.md("Metrics (MW, %, share of outcomes in the band)"), scores])
    return


@app.cell
def _(frames, model, plt, score_by, uc):
    fig_step, ax = plt.subplots(figsize=(8, 2.8))
    for _name, _frame in frames.items():
        _mae = score_by(_frame, "step", uc.spec.quantiles, tz=uc.spec.tz)["mae"]
        ax.plot(_mae, lw=2.5 if _name == model.value else 1, label=_name)
    ax.set(xlabel="step [h ahead]", ylabel="MAE [MW]", title="test period: error by step")
    ax.legend()
    fig_step.tight_layout()
    plt.close(fig_step)
    fig_step
    return


@app.cell
def _(mo):
    mo.md(r"""
    ## Summary
    - One backtest per region gives every issue of the test period for both models; the controls
      only choose what to draw, so they answer at once.
    - The fan chart shows whether the band was honest for that issue; the table puts the issue in
      the context of the whole test period.

    ## What's next
    - `notebooks/forecasting/01_load_forecasting`: features, tuning and the model registry.
    - `marimo edit notebooks/forecasting/forecast_explorer.py` to change the app.
    """)
    return


if __name__ == "__main__":
    app.run()
