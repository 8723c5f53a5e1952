"""Bokeh figures for the dashboard pages: time series with bands, stacks, heatmaps, bars.

Every data source is named ``"<chart key>"`` or ``"<chart key>:<series>"`` so the browser tests
(and anyone debugging a page) can find it in ``Bokeh.documents``. Times arrive as UTC and are
drawn in the page's time zone (America/Chicago by default, UTC on request); the axis label
names the zone. Numbers are drawn with thousands separators and their unit, never ``2.000e+5``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pandas as pd
from bokeh.models import (
    CDSView,
    ColorBar,
    ColumnDataSource,
    DatetimeTickFormatter,
    HoverTool,
    Legend,
    LegendItem,
    Line,
    LinearColorMapper,
    NumeralTickFormatter,
    Range1d,
    Scatter,
    Span,
    VArea,
)
from bokeh.palettes import Category10_10, RdYlBu11
from bokeh.plotting import figure

HEIGHT = 300
TOOLS = "pan,wheel_zoom,box_zoom,reset,save"
#: The time zone planners read by default (ERCOT's).
LOCAL_TZ = "America/Chicago"
#: Merit order of the generation stack, bottom (cheapest to run) to top; others go on top.
MERIT_ORDER = (
    "solar", "wind", "hydro", "nuclear", "biomass", "geothermal", "coal", "gas_cc", "gas",
    "gas_ct", "oil", "battery", "storage",
)  # fmt: skip
#: The usual fuel colours of ISO fuel-mix charts.
FUEL_COLOURS = {
    "solar": "#f5c200", "wind": "#3a9a3a", "hydro": "#1f78b4", "nuclear": "#8e44ad",
    "biomass": "#8c6d31", "geothermal": "#b15928", "coal": "#4d4d4d", "gas_cc": "#f39c12",
    "gas": "#f39c12", "gas_ct": "#e74c3c", "oil": "#a50026", "battery": "#17becf",
    "storage": "#17becf",
}  # fmt: skip
#: Colours of the LMP components (energy, congestion, losses).
COMPONENT_COLOURS = {"energy_component": "#4575b4", "congestion": "#f46d43", "losses": "#66a61e"}


def time_format() -> DatetimeTickFormatter:
    """Ticks of a datetime axis: day and month names, hours as HH:MM (never 730 raw dates).

    A new model per axis: a Bokeh model belongs to one document (one browser session).
    """
    context = DatetimeTickFormatter(
        minutes="%d %b", hourmin="%d %b", hours="%d %b", days="%Y", months="", years=""
    )
    return DatetimeTickFormatter(
        minutes="%H:%M", hourmin="%H:%M", hours="%H:%M", days="%d %b", months="%b %Y",
        years="%Y", context=context,
    )  # fmt: skip


def colours(n: int) -> list[str]:
    """``n`` distinct colours (cycling the Category10 palette)."""
    return [Category10_10[i % len(Category10_10)] for i in range(n)]


def display_time(values: pd.Series, tz: str = LOCAL_TZ) -> pd.Series:
    """Times (UTC or aware) → naive wall-clock times of ``tz`` (what Bokeh's axis draws)."""
    values = pd.to_datetime(values, utc=True)
    return values.dt.tz_convert(tz).dt.tz_localize(None)


def naive_utc(values: pd.Series) -> pd.Series:
    """Timezone-aware times → naive UTC."""
    return display_time(values, "UTC")


def _figure(
    title: str,
    *,
    x_time: bool = True,
    tz: str = LOCAL_TZ,
    y_label: str = "",
    x_label: str = "",
    y_format: str | None = "0,0.[00]",
    **kwargs: Any,
) -> Any:
    fig = figure(
        title=title,
        height=HEIGHT,
        sizing_mode="stretch_width",
        tools=TOOLS,
        x_axis_type="datetime" if x_time else "auto",
        **kwargs,
    )
    if x_time:
        fig.xaxis.axis_label = x_label or f"time ({tz})"
        fig.xaxis.formatter = time_format()
    else:
        fig.xaxis.axis_label = x_label
    fig.yaxis.axis_label = y_label
    if y_format is not None:  # None: a categorical y axis
        fig.yaxis.formatter = NumeralTickFormatter(format=y_format)
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
    unit: str = "",
    tz: str = LOCAL_TZ,
    x_label: str = "",
    band: tuple[str, str] | None = None,
    dashed: bool = False,
    fig: Any = None,
    legend_suffix: str = "",
    markers: bool = False,
    palette: dict[str, str] | None = None,
) -> Any:
    """One line per ``group`` value over ``timestamp``, with an optional shaded ``band``."""
    fig = fig if fig is not None else _figure(title, y_label=y_label, tz=tz, x_label=x_label)
    groups = [(None, frame)] if group is None else list(frame.groupby(group, sort=True))
    for colour, (name, part) in zip(colours(len(groups)), groups, strict=True):
        if palette and name in palette:
            colour = palette[name]
        # only the columns drawn or hovered: the group is in the source's name, and a string
        # column repeated on every row would be most of what the browser is sent
        shown = ["timestamp", y, *(band or ())]
        data = part[shown].sort_values("timestamp")
        data["timestamp"] = display_time(data["timestamp"], tz)
        src_name = key if name is None else f"{key}:{name}"
        # from columns, not the frame: no ``index`` column sent along
        columns = {c: data[c].to_numpy() for c in shown}
        source = ColumnDataSource(columns, name=src_name)
        label = f"{name if name is not None else y_label}{legend_suffix}"
        drawn = []
        # ``add_glyph``, not ``fig.line``: one glyph model per renderer, not three (selection
        # and muted looks "auto"), so a page sends and builds a third of the models; the
        # renderers of one source share its view (all rows) instead of a view and filter each
        view = CDSView()
        if band is not None:
            drawn.append(
                fig.add_glyph(
                    source,
                    VArea(x="timestamp", y1=band[0], y2=band[1], fill_color=colour,
                          fill_alpha=0.15),
                    view=view,
                )
            )  # fmt: skip
        dash = "dashed" if dashed else "solid"
        line = Line(x="timestamp", y=y, line_color=colour, line_width=1.6, line_dash=dash)
        drawn.append(fig.add_glyph(source, line, view=view))
        if markers or len(data) == 1:
            drawn.append(
                fig.add_glyph(source, Scatter(x="timestamp", y=y, fill_color=colour,
                                              line_color=colour, size=7), view=view)
            )  # fmt: skip
        _legend(fig).items.append(LegendItem(label=label, renderers=drawn))
    if not any(isinstance(t, HoverTool) for t in fig.tools):
        fig.add_tools(
            HoverTool(
                tooltips=[("time", "@timestamp{%F %H:%M}"), ("value", f"@{y}{{0,0.0}} {unit}")],
                formatters={"@timestamp": "datetime"},
            )
        )
    return fig


def _legend(fig: Any) -> Legend:
    """The figure's legend, right of the plot and clickable to hide a series (made once)."""
    legend = next((m for m in fig.right if isinstance(m, Legend)), None)
    if legend is None:
        legend = Legend(click_policy="hide")
        fig.add_layout(legend, "right")
    return legend


def _legend_outside(fig: Any) -> None:
    """Legend to the right of the plot (once), clickable to hide a series."""
    if any(isinstance(m, Legend) for m in fig.right):
        return
    # the figure's own panels, not ``select_one``: that walks every model of the figure
    legend = next((m for m in fig.center if isinstance(m, Legend)), None)
    if legend is None:
        return
    fig.center = [r for r in fig.center if r is not legend]
    legend.click_policy = "hide"
    fig.add_layout(legend, "right")


def merit_order(columns: Sequence[str]) -> list[str]:
    """Technologies in merit order (bottom of the stack first); unknown ones last, by name."""
    known = [c for c in MERIT_ORDER if c in columns]
    return known + sorted(c for c in columns if c not in MERIT_ORDER)


def stacked_area(
    key: str,
    title: str,
    wide: pd.DataFrame,
    columns: Sequence[str],
    y_label: str,
    *,
    tz: str = LOCAL_TZ,
) -> Any:
    """Stacked areas of ``columns`` of a wide frame indexed by ``timestamp``, fuel-coloured.

    Positive parts stack up from zero in ``columns`` order; negative ones (a battery charging)
    stack down from zero, so nothing is hidden inside another area.
    """
    fig = _figure(title, y_label=y_label, tz=tz)
    data = wide.reset_index()
    data["timestamp"] = display_time(data["timestamp"], tz)
    up = pd.Series(0.0, index=data.index)
    down = pd.Series(0.0, index=data.index)
    for i, col in enumerate(columns):
        values = data[col].astype(float)
        pos, neg = values.clip(lower=0), values.clip(upper=0)
        part = pd.DataFrame(
            {
                "timestamp": data["timestamp"], "value": values, "y1": up, "y2": up + pos,
                "n1": down, "n2": down + neg,
            }
        )  # fmt: skip
        source = ColumnDataSource(part, name=f"{key}:{col}")
        colour = FUEL_COLOURS.get(col, colours(len(columns))[i])
        fig.varea(
            x="timestamp", y1="y1", y2="y2", source=source, fill_color=colour, legend_label=col
        )
        if (neg < 0).any():
            fig.varea(x="timestamp", y1="n1", y2="n2", source=source, fill_color=colour)
        up, down = up + pos, down + neg
    fig.add_tools(
        HoverTool(
            tooltips=[("time", "@timestamp{%F %H:%M}"), ("MW", "@value{0,0}")],
            formatters={"@timestamp": "datetime"},
        )
    )
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
    x_label: str,
    unit: str = "",
    n: str | None = None,
    x_is_number: bool = False,
) -> Any:
    """Vertical bars of ``y`` by category (or integer) ``x``; ``n`` (a count column) is
    written above each bar and in the hover."""
    data = frame.copy()
    if not x_is_number:
        data[x] = data[x].astype(str)
        fig = _figure(
            title, x_time=False, y_label=y_label, x_label=x_label, x_range=data[x].tolist()
        )
    else:
        fig = _figure(title, x_time=False, y_label=y_label, x_label=x_label)
    tips = [(x_label, f"@{x}"), (y_label, f"@{y}{{0,0.00}} {unit}")]
    if n is not None:
        data["n_label"] = "n=" + data[n].astype(int).astype(str)
        tips.append(("n", f"@{n}"))
    source = ColumnDataSource(data.reset_index(drop=True), name=key)
    fig.vbar(x=x, top=y, source=source, width=0.8, color=Category10_10[0])
    if n is not None and len(data) <= 40:
        fig.text(
            x=x, y=y, text="n_label", source=source, text_font_size="8pt", text_align="center",
            text_baseline="bottom", y_offset=-2,
        )  # fmt: skip
    fig.add_tools(HoverTool(tooltips=tips))
    return fig


def daily_bars(
    key: str, title: str, frame: pd.DataFrame, *, day: str, y: str, y_label: str, unit: str = ""
) -> Any:
    """Bars of ``y`` per calendar day on a date axis (readable ticks for years of days)."""
    data = frame.copy()
    data["day_start"] = pd.to_datetime(data[day])
    fig = _figure(title, y_label=y_label, x_label="day")
    source = ColumnDataSource(data.reset_index(drop=True), name=key)
    fig.vbar(x="day_start", top=y, source=source, width=0.8 * 86_400_000, color=Category10_10[0])
    fig.add_tools(
        HoverTool(
            tooltips=[("day", "@day_start{%F}"), (y_label, f"@{y}{{0,0.0}} {unit}")],
            formatters={"@day_start": "datetime"},
        )
    )
    return fig


def diverging_stack(
    key: str,
    title: str,
    frame: pd.DataFrame,
    *,
    x: str,
    columns: Sequence[str],
    total: str,
    y_label: str,
) -> Any:
    """Components stacked around zero by category ``x``: positives up, negatives down.

    Each component's source (``"<key>:<column>"``) holds ``value``, ``bottom`` and ``top``: a
    negative component is drawn below zero (``top <= 0``), so a discount never reads as a
    premium. ``total`` (the LMP) is marked with a black dash per category.
    """
    data = frame.copy()
    data[x] = data[x].astype(str)
    fig = _figure(title, x_time=False, y_label=y_label, x_label=x, x_range=data[x].tolist())
    up = pd.Series(0.0, index=data.index)
    down = pd.Series(0.0, index=data.index)
    for col in columns:
        v = data[col].astype(float)
        bottom = up.where(v >= 0, down + v)
        top = (up + v).where(v >= 0, down)
        part = pd.DataFrame({x: data[x], "value": v, "bottom": bottom, "top": top})
        source = ColumnDataSource(part.reset_index(drop=True), name=f"{key}:{col}")
        fig.vbar(
            x=x, bottom="bottom", top="top", source=source, width=0.7,
            color=COMPONENT_COLOURS.get(col, Category10_10[0]), legend_label=col,
        )  # fmt: skip
        up, down = up + v.clip(lower=0), down + v.clip(upper=0)
    tot = ColumnDataSource(data[[x, total]].reset_index(drop=True), name=f"{key}:{total}")
    fig.scatter(
        x=x, y=total, source=tot, marker="dash", size=28, line_width=3, color="black",
        legend_label=f"{total} (sum)",
    )  # fmt: skip
    fig.add_layout(Span(location=0, dimension="width", line_color="#555", line_width=1))
    fig.add_tools(HoverTool(tooltips=[(x, f"@{x}"), ("$/MWh", "@value{0,0.00}")]))
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
    tz: str = LOCAL_TZ,
    centre_zero: bool = False,
) -> Any:
    """A time × category heatmap of ``value`` (cells ``width_ms`` wide), blue cheap → red dear.

    ``centre_zero`` (congestion, losses) puts zero in the middle of the colour scale, so a
    discount is blue and a premium red; prices use their own range (more contrast).
    """
    data = frame.copy()
    data["timestamp"] = display_time(data["timestamp"], tz) + pd.Timedelta(
        milliseconds=width_ms / 2
    )
    data[y] = data[y].astype(str)
    categories = sorted(data[y].unique().tolist())
    fig = _figure(title, y_range=categories, y_label=y, tz=tz, y_format=None)
    lo, hi = float(data[value].min()), float(data[value].max())
    if centre_zero and lo < 0 < hi:  # a component of both signs: zero in the middle (yellow)
        lo, hi = -max(-lo, hi), max(-lo, hi)
    # Bokeh's RdYlBu runs blue → red: low (cheap) blue, high (expensive) red
    mapper = LinearColorMapper(palette=list(RdYlBu11), low=lo, high=max(hi, lo + 1e-9))
    source = ColumnDataSource(data.reset_index(drop=True), name=key)
    fig.rect(
        x="timestamp", y=y, width=width_ms, height=0.95, source=source,
        fill_color={"field": value, "transform": mapper}, line_color=None,
    )  # fmt: skip
    bar = ColorBar(color_mapper=mapper, title=f"{value_label} (red = expensive)")
    bar.formatter = NumeralTickFormatter(format="0,0")
    fig.add_layout(bar, "right")
    fig.add_tools(
        HoverTool(
            tooltips=[
                ("time", "@timestamp{%F %H:%M}"),
                (y, f"@{y}"),
                ("$/MWh", f"@{value}{{0.00}}"),
            ],
            formatters={"@timestamp": "datetime"},
        )
    )
    return fig


def scatter(
    key: str, title: str, frame: pd.DataFrame, *, x: str, y: str, x_label: str, y_label: str
) -> Any:
    """Points of ``y`` against ``x`` (numbers)."""
    fig = _figure(title, x_time=False, y_label=y_label, x_label=x_label, y_format="0,0.000")
    fig.xaxis.formatter = NumeralTickFormatter(format="0,0.000")
    source = ColumnDataSource(frame.reset_index(drop=True), name=key)
    fig.scatter(x=x, y=y, source=source, size=8, color=Category10_10[3], alpha=0.7)
    fig.add_tools(HoverTool(tooltips=[(x_label, f"@{x}{{0.000}}"), (y_label, f"@{y}{{0.000}}")]))
    return fig


def annotate(fig: Any, key: str, events: pd.DataFrame, *, tz: str = LOCAL_TZ) -> None:
    """Vertical marks at ``events.timestamp`` (frequency events, anomalies) with a ``label``.

    The source is named ``"<key>"``; hovering a mark shows its label.
    """
    if events.empty:
        return
    data = events[["timestamp", "label"]].copy()
    data["timestamp"] = display_time(data["timestamp"], tz)
    source = ColumnDataSource(data.reset_index(drop=True), name=key)
    glyph = fig.vspan(
        x="timestamp", source=source, line_color="#c0392b", line_dash="dotted", line_width=1.5,
        legend_label="events",
    )  # fmt: skip
    fig.add_tools(
        HoverTool(
            renderers=[glyph], tooltips=[("event", "@label"), ("at", "@timestamp{%F %H:%M}")],
            formatters={"@timestamp": "datetime"},
        )
    )  # fmt: skip
    _legend_outside(fig)


def pad_time_range(fig: Any, times: pd.Series, *, tz: str = LOCAL_TZ, pad_h: float = 12) -> None:
    """A readable x range when all points sit within an hour (one run: no microsecond axis)."""
    t = display_time(times, tz)
    if t.empty or (t.max() - t.min()) >= pd.Timedelta(hours=1):
        return
    pad = pd.Timedelta(hours=pad_h)
    fig.x_range = Range1d(t.min() - pad, t.max() + pad)


def table_text(frame: pd.DataFrame, tz: str = LOCAL_TZ) -> pd.DataFrame:
    """A frame as a planner reads it: times in ``tz`` with the zone, numbers with thousands
    separators, missing values as ``—`` (never ``NaT`` or ``NaN``)."""
    out = pd.DataFrame(index=frame.index)
    for col in frame.columns:
        values = frame[col]
        if isinstance(values.dtype, pd.DatetimeTZDtype):
            local = values.dt.tz_convert(tz)
            out[col] = local.dt.strftime("%Y-%m-%d %H:%M %Z").fillna("—")
        elif pd.api.types.is_bool_dtype(values):
            out[col] = values.map({True: "yes", False: "no"}).fillna("—")
        elif pd.api.types.is_integer_dtype(values):
            out[col] = values.map(lambda v: f"{v:,}")
        elif pd.api.types.is_float_dtype(values):
            out[col] = values.map(
                lambda v: "—" if pd.isna(v) else f"{v:,.3f}".rstrip("0").rstrip(".")
            )
        else:
            out[col] = values.astype(object).where(values.notna(), "—")
    return out


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
