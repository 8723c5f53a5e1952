"""Plots of backtests: a fan chart of one issue and an error heatmap by hour × step.

matplotlib is imported when a plot is drawn, with the Agg backend unless one is already chosen,
so the functions work headless (jobs, tests) and return the Figure.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from workbench.forecasting.base import ForecastError


def _pyplot() -> Any:
    from workbench.core.extras import require

    mpl = require("matplotlib", feature="forecast plots")
    if "matplotlib.pyplot" not in __import__("sys").modules:
        mpl.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def fan_chart(
    forecasts: pd.DataFrame,
    issue_time: Any = None,
    tz: str = "UTC",
    history: pd.Series | None = None,
) -> Any:
    """Quantile bands, the point forecast and the truth for one issue (default: the last one).

    Parameters
    ----------
    forecasts : pandas.DataFrame
        Backtest output (``issue_time, target_time, y_pred, y_true, q...``).
    issue_time : timestamp, optional
        The issue to draw.
    tz : str
        Zone of the time axis.
    history : pandas.Series, optional
        Observed values to draw before the issue.
    """
    plt = _pyplot()
    issues = pd.DatetimeIndex(forecasts["issue_time"].unique())
    if not len(issues):
        raise ForecastError("expected forecasts to plot; found an empty frame")
    issue = issues[-1] if issue_time is None else pd.Timestamp(issue_time)
    one = forecasts[forecasts["issue_time"] == issue]
    if one.empty:
        raise ForecastError(f"expected issue time {issue} in the forecasts; found {issues[:3]}…")
    x = pd.DatetimeIndex(one["target_time"]).tz_convert(tz)
    qcols = sorted((c for c in one.columns if c.startswith("q")), key=lambda c: float(c[1:]))
    fig, ax = plt.subplots(figsize=(9, 4))
    for i in range(len(qcols) // 2):
        lo, hi = qcols[i], qcols[-1 - i]
        ax.fill_between(x, one[lo], one[hi], alpha=0.2 + 0.15 * i, color="tab:blue", lw=0,
                        label=f"{lo}–{hi}")  # fmt: skip
    ax.plot(x, one["y_pred"], color="tab:blue", label="forecast")
    if "y_true" in one:
        ax.plot(x, one["y_true"], color="black", lw=1, label="actual")
    if history is not None:
        past = history[(history.index < issue) & (history.index >= issue - pd.Timedelta("2D"))]
        ax.plot(past.index.tz_convert(tz), past.to_numpy(), color="grey", lw=1, label="history")
    ax.axvline(issue.tz_convert(tz), color="red", ls="--", lw=1)
    ax.set_title(f"issued {issue.tz_convert(tz):%Y-%m-%d %H:%M %Z}")
    ax.legend(loc="upper left", fontsize=8)
    fig.autofmt_xdate()
    return fig


def error_heatmap(forecasts: pd.DataFrame, tz: str = "UTC", metric: str = "mae") -> Any:
    """Mean absolute (``"mae"``) or signed (``"bias"``) error by local target hour × step."""
    plt = _pyplot()
    err = forecasts["y_true"] - forecasts["y_pred"]
    value = err.abs() if metric == "mae" else err
    hour = pd.DatetimeIndex(forecasts["target_time"]).tz_convert(tz).hour
    table = pd.DataFrame({"hour": hour, "step": forecasts["step"], "v": value}).pivot_table(
        index="hour", columns="step", values="v", aggfunc="mean"
    )
    fig, ax = plt.subplots(figsize=(9, 4))
    extent = (table.columns.min() - 0.5, table.columns.max() + 0.5, -0.5, 23.5)
    im = ax.imshow(table.to_numpy(), aspect="auto", origin="lower", cmap="viridis", extent=extent)
    ax.set_xlabel("step")
    ax.set_ylabel(f"target hour ({tz})")
    fig.colorbar(im, ax=ax, label=metric)
    ax.set_title(f"{metric} by hour × step (mean {np.nanmean(table.to_numpy()):.3g})")
    return fig


def series_bands(
    forecast: pd.DataFrame,
    series_col: str,
    value_col: str,
    *,
    unit: str = "MW",
    actual: pd.DataFrame | None = None,
    actual_col: str | None = None,
    most: int = 4,
) -> Any:
    """The published forecast of a job: median and 10-90 % band per series, one panel each.

    Parameters
    ----------
    forecast : pandas.DataFrame
        Long rows as the jobs write them to gold: ``series_col``, ``timestamp``, ``quantile``
        and ``value_col`` (e.g. ``region_id`` / ``load_mw``).
    series_col, value_col : str
        The series identifier and the value column [``unit``].
    actual : pandas.DataFrame, optional
        Observed values (``series_col``, ``timestamp``, ``actual_col``) drawn as dots.
    most : int
        How many series to draw (the first ones in sorted order).

    Returns
    -------
    matplotlib.figure.Figure
    """
    plt = _pyplot()
    wide = forecast.pivot_table(
        index=[series_col, "timestamp"], columns="quantile", values=value_col
    ).reset_index()
    shown = sorted(wide[series_col].unique())[:most]
    fig, axes = plt.subplots(
        max(len(shown), 1), 1, figsize=(9, 2.2 * max(len(shown), 1)), sharex=True, squeeze=False
    )
    for ax, series in zip(axes[:, 0], shown, strict=False):
        f = wide[wide[series_col] == series]
        if 0.1 in f and 0.9 in f:
            ax.fill_between(f["timestamp"], f[0.1], f[0.9], alpha=0.3, label="10-90 %")
        if 0.5 in f:
            ax.plot(f["timestamp"], f[0.5], label="median")
        if actual is not None and actual_col is not None:
            a = actual[actual[series_col] == series]
            ax.plot(a["timestamp"], a[actual_col], "k.", ms=3, label="actual")
        ax.set_ylabel(f"{series}\n{unit}")
    if shown:
        axes[0, 0].legend(loc="upper right", ncols=3)
    fig.tight_layout()
    return fig
