"""PNG charts from a small declarative spec: ``{kind, x, y, group, title}``.

Matplotlib's object API on the Agg canvas (no pyplot state, no display); its cache goes under
``WORKBENCH_HOME`` when ``MPLCONFIGDIR`` is unset, so rendering never writes to ``$HOME``.
"""

from __future__ import annotations

import io
import os
from collections.abc import Sequence
from typing import Any

from workbench.agents.errors import AgentError

KINDS = ("line", "scatter", "bar", "area")
#: Most distinct groups drawn as separate series.
MAX_GROUPS = 12
WIDTH_IN, HEIGHT_IN, DPI = 8.0, 4.0, 100


def _matplotlib() -> Any:
    from workbench.core.config import workbench_home
    from workbench.core.extras import require

    if "MPLCONFIGDIR" not in os.environ:
        cache = workbench_home() / "cache" / "matplotlib"
        cache.mkdir(parents=True, exist_ok=True)
        os.environ["MPLCONFIGDIR"] = str(cache)
    return require("matplotlib", feature="agent charts")


def render_chart(
    frame: Any,
    *,
    kind: str,
    x: str,
    y: Sequence[str],
    group: str | None = None,
    title: str = "",
) -> bytes:
    """Draw ``frame`` and return the PNG bytes (800 x 400 px).

    Parameters
    ----------
    frame : pandas.DataFrame
        The rows to draw (already capped by the caller).
    kind : {"line", "scatter", "bar", "area"}
        Chart type.
    x : str
        Column on the horizontal axis (times are drawn in UTC).
    y : sequence of str
        Numeric columns on the vertical axis (one series each).
    group : str, optional
        Column whose values split each y column into series (at most 12 groups).
    title : str
        Chart title.
    """
    if kind not in KINDS:
        raise AgentError(f"expected chart kind among {list(KINDS)}; found {kind!r}")
    ys = [y] if isinstance(y, str) else list(y)
    needed = [x, *ys, *([group] if group else [])]
    missing = [c for c in needed if c not in frame.columns]
    if missing:
        msg = f"expected chart columns {missing} in the data; found {list(frame.columns)}"
        raise AgentError(msg)
    if not ys:
        raise AgentError("expected at least one y column; found none")
    if frame.empty:
        raise AgentError("expected rows to chart; found the query returned none")
    _matplotlib()
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(WIDTH_IN, HEIGHT_IN), dpi=DPI)
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    groups = [(None, frame)] if group is None else list(frame.groupby(group, sort=True))
    if len(groups) > MAX_GROUPS:
        msg = f"expected at most {MAX_GROUPS} groups in {group!r}; found {len(groups)}"
        raise AgentError(msg)
    for key, part in groups:
        part = part.sort_values(x) if kind in ("line", "area") else part
        for col in ys:
            label = col if key is None else (f"{key}" if len(ys) == 1 else f"{key} {col}")
            values = part[col].astype(float)
            if kind == "line":
                ax.plot(part[x], values, label=label)
            elif kind == "scatter":
                ax.scatter(part[x], values, label=label, s=8)
            elif kind == "area":
                ax.fill_between(part[x], values, alpha=0.4, label=label)
            else:
                ax.bar(part[x].astype(str), values, label=label, alpha=0.8)
    ax.set_title(title)
    ax.set_xlabel(x)
    ax.set_ylabel(", ".join(ys))
    if len(groups) * len(ys) > 1:
        ax.legend(fontsize="small")
    fig.autofmt_xdate() if kind != "bar" else None
    fig.tight_layout()
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    return buffer.getvalue()
