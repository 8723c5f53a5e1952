"""Bokeh figures for the dashboard pages: time series with bands, stacks, heatmaps, bars.

Every data source is named ``"<chart key>"`` or ``"<chart key>:<series>"`` so the browser tests
(and anyone debugging a page) can find it in ``Bokeh.documents``. Times are drawn in UTC.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pandas as pd
from bokeh.models import (
    ColorBar,
    ColumnDataSource,
    HoverTool,
    LinearColorMapper,
)
from bokeh.palettes import Category10_10, RdYlBu11
from bokeh.plotting import figure

HEIGHT = 300
TOOLS = "pan,wheel_zoom,box_zoom,reset,save"


def colours(n: int) -> list[str]:
    """``n`` distinct colours (cycling the Category10 palette)."""
    return [Category10_10[i % len(Category10_10)] for i in range(n)]


def naive_utc(values: pd.Series) -> pd.Series:
    """Timezone-aware times → naive UTC (what Bokeh's datetime axis draws)."""
    values = pd.to_datetime(values, utc=True)
    return values.dt.tz_localize(None)


def _figure(title: str, *, x_time: bool = True, y_label: str = "", **kwargs: Any) -> Any:
    fig = figure(
        title=title,
        height=HEIGHT,
        sizing_mode="stretch_width",
        tools=TOOLS,
        x_axis_type="datetime" if x_time else "auto",
        **kwargs,
    )
    if x_time:
        fig.xaxis.axis_label = "time (UTC)"
    fig.yaxis.axis_label = y_label
    fig.toolbar.logo = None
    return fig


def time_lines(
    key: str,
    title: str,
    frame: pd.DataFrame,
    *,
    group: str | None,
    y: str,
    y_label: str,
    band: tuple[str, str] | None = None,
    dashed: bool = False,
    fig: Any = None,
    legend_suffix: str = "",
    markers: bool = False,
) -> Any:
    """One line per ``group`` value over ``timestamp``, with an optional shaded ``band``."""
    fig = fig if fig is not None else _figure(title, y_label=y_label)
    groups = [(None, frame)] if group is None else list(frame.groupby(group, sort=True))
    for colour, (name, part) in zip(colours(len(groups)), groups, strict=True):
        data = part.sort_values("timestamp").copy()
        data["timestamp"] = naive_utc(data["timestamp"])
        src_name = key if name is None else f"{key}:{name}"
        source = ColumnDataSource(data.reset_index(drop=True), name=src_name)
        label = f"{name if name is not None else y}{legend_suffix}"
        if band is not None:
            fig.varea(
                x="timestamp", y1=band[0], y2=band[1], source=source, fill_color=colour,
                fill_alpha=0.15,
            )  # fmt: skip
        fig.line(
            x="timestamp", y=y, source=source, color=colour, line_width=1.6, legend_label=label,
            line_dash="dashed" if dashed else "solid",
        )  # fmt: skip
        if markers:
            fig.scatter(x="timestamp", y=y, source=source, color=colour, size=6)
    fig.add_tools(
        HoverTool(
            tooltips=[("time", "@timestamp{%F %H:%M}"), (y, f"@{y}{{0,0.0}}")],
            formatters={"@timestamp": "datetime"},
            mode="vline",
        )
    )
    _legend_outside(fig)
    return fig


def _legend_outside(fig: Any) -> None:
    """Legend to the right of the plot (once), clickable to hide a series."""
    from bokeh.models import Legend

    legend = fig.select_one(Legend)
    if legend is None or legend in fig.right:
        return
    fig.center = [r for r in fig.center if r is not legend]
    legend.click_policy = "hide"
    fig.add_layout(legend, "right")


def stacked_area(
    key: str, title: str, wide: pd.DataFrame, columns: Sequence[str], y_label: str
) -> Any:
    """Stacked areas of ``columns`` of a wide frame indexed by ``timestamp``."""
    fig = _figure(title, y_label=y_label)
    data = wide.reset_index()
    data["timestamp"] = naive_utc(data["timestamp"])
    source = ColumnDataSource(data, name=key)
    fig.varea_stack(
        stackers=list(columns), x="timestamp", source=source,
        color=colours(len(columns)), legend_label=list(columns),
    )  # fmt: skip
    _legend_outside(fig)
    return fig


def bars(
    key: str,
    title: str,
    frame: pd.DataFrame,
    *,
    x: str,
    y: str,
    y_label: str,
    x_is_number: bool = False,
) -> Any:
    """Vertical bars of ``y`` by category (or integer) ``x``."""
    data = frame.copy()
    if not x_is_number:
        data[x] = data[x].astype(str)
        fig = _figure(title, x_time=False, y_label=y_label, x_range=data[x].tolist())
    else:
        fig = _figure(title, x_time=False, y_label=y_label)
    fig.xaxis.axis_label = x
    source = ColumnDataSource(data.reset_index(drop=True), name=key)
    fig.vbar(x=x, top=y, source=source, width=0.8, color=Category10_10[0])
    fig.add_tools(HoverTool(tooltips=[(x, f"@{x}"), (y, f"@{y}{{0,0.00}}")]))
    return fig


def stacked_bars(
    key: str, title: str, frame: pd.DataFrame, *, x: str, columns: Sequence[str], y_label: str
) -> Any:
    """Stacked bars of ``columns`` by category ``x`` (each part drawn from the running sum)."""
    data = frame.copy()
    data[x] = data[x].astype(str)
    fig = _figure(title, x_time=False, y_label=y_label, x_range=data[x].tolist())
    fig.xaxis.axis_label = x
    source = ColumnDataSource(data.reset_index(drop=True), name=key)
    fig.vbar_stack(
        list(columns), x=x, source=source, width=0.8, color=colours(len(columns)),
        legend_label=list(columns),
    )  # fmt: skip
    _legend_outside(fig)
    return fig


def heatmap(
    key: str,
    title: str,
    frame: pd.DataFrame,
    *,
    y: str,
    value: str,
    width_ms: float,
    value_label: str,
) -> Any:
    """A time × category heatmap of ``value`` (cells ``width_ms`` wide)."""
    data = frame.copy()
    data["timestamp"] = naive_utc(data["timestamp"]) + pd.Timedelta(milliseconds=width_ms / 2)
    data[y] = data[y].astype(str)
    categories = sorted(data[y].unique().tolist())
    fig = _figure(title, y_range=categories, y_label=y)
    lo, hi = float(data[value].min()), float(data[value].max())
    mapper = LinearColorMapper(palette=list(reversed(RdYlBu11)), low=lo, high=max(hi, lo + 1e-9))
    source = ColumnDataSource(data.reset_index(drop=True), name=key)
    fig.rect(
        x="timestamp", y=y, width=width_ms, height=0.95, source=source,
        fill_color={"field": value, "transform": mapper}, line_color=None,
    )  # fmt: skip
    fig.add_layout(ColorBar(color_mapper=mapper, title=value_label), "right")
    fig.add_tools(
        HoverTool(
            tooltips=[("time", "@timestamp{%F %H:%M}"), (y, f"@{y}"), (value, f"@{value}{{0.00}}")],
            formatters={"@timestamp": "datetime"},
        )
    )
    return fig


def scatter(
    key: str, title: str, frame: pd.DataFrame, *, x: str, y: str, x_label: str, y_label: str
) -> Any:
    """Points of ``y`` against ``x`` (numbers)."""
    fig = _figure(title, x_time=False, y_label=y_label)
    fig.xaxis.axis_label = x_label
    source = ColumnDataSource(frame.reset_index(drop=True), name=key)
    fig.scatter(x=x, y=y, source=source, size=8, color=Category10_10[3], alpha=0.7)
    fig.add_tools(HoverTool(tooltips=[(x, f"@{x}{{0.000}}"), (y, f"@{y}{{0.000}}")]))
    return fig


class Section:
    """One block of a page: a title, a figure (or a message when its rows are empty), its rows.

    ``frame`` is what the CSV download of the block returns: the rows drawn, as drawn. Without
    a figure, a non-empty frame is shown as a table (``html=True``: its cells are trusted HTML,
    escaped by the page) and an empty one as ``message``.
    """

    def __init__(
        self,
        key: str,
        title: str,
        frame: pd.DataFrame,
        figure: Any = None,
        message: str = "",
        *,
        html: bool = False,
        display: pd.DataFrame | None = None,
    ) -> None:
        self.key = key
        self.title = title
        self.frame = frame
        self.figure = figure
        self.message = message or "no rows for these filters"
        self.html = html
        self.display = frame if display is None else display
