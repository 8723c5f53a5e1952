"""One emitter for the CLI's lists and histories: names are never cut or wrapped.

``--format table`` (the default) prints aligned plain-text columns — no box drawing, no
wrapping, no truncation — on a terminal and in a pipe alike, so a name can be copied or
grepped whole; a line longer than the terminal is left for the terminal to scroll. ``csv``
prints RFC 4180 CSV, ``json`` a list of objects (one per row).

>>> emit([{"job": "day_ahead_load", "owner": "forecasting"}], "table")  # doctest: +SKIP
job             owner
day_ahead_load  forecasting
"""

from __future__ import annotations

import csv
import io
import json
import sys
from collections.abc import Mapping, Sequence
from typing import Any

import typer

from workbench.core.errors import WorkbenchError

FORMATS = ("table", "csv", "json")


class OutputFormatError(WorkbenchError):
    """An unknown ``--format``."""


def format_option() -> Any:
    """The ``--format`` option shared by list and history commands."""
    return typer.Option("table", "--format", "-f", help="Output: table (aligned text), csv, json.")


def check_format(fmt: str) -> str:
    if fmt not in FORMATS:
        raise OutputFormatError(f"expected --format one of {list(FORMATS)}; found {fmt!r}")
    return fmt


def _text(value: Any) -> str:
    if value is None or (isinstance(value, float) and value != value):
        return "-"
    return " ".join(str(value).split())  # one line: newlines and tabs become spaces


def render(
    rows: Sequence[Mapping[str, Any]], fmt: str = "table", columns: Sequence[str] | None = None
) -> str:
    """The rows as text in ``fmt`` (see the module doc); ``columns`` fixes their order."""
    check_format(fmt)
    cols = list(columns) if columns is not None else list(rows[0]) if rows else []
    if fmt == "json":
        return json.dumps([{c: r.get(c) for c in cols} for r in rows], default=str, indent=1)
    if fmt == "csv":
        buf = io.StringIO()
        writer = csv.writer(buf, lineterminator="\n")
        writer.writerow(cols)
        for r in rows:
            writer.writerow(["" if r.get(c) is None else r.get(c) for c in cols])
        return buf.getvalue().rstrip("\n")
    cells = [[_text(r.get(c)) for c in cols] for r in rows]
    widths = [max([len(c), *(len(row[i]) for row in cells)]) for i, c in enumerate(cols)]
    lines = ["  ".join(c.ljust(w) for c, w in zip(cols, widths, strict=True)).rstrip()]
    for row in cells:
        lines.append("  ".join(v.ljust(w) for v, w in zip(row, widths, strict=True)).rstrip())
    return "\n".join(lines)


def emit(
    rows: Sequence[Mapping[str, Any]],
    fmt: str = "table",
    columns: Sequence[str] | None = None,
    *,
    title: str | None = None,
) -> None:
    """Print the rows to stdout; a table's ``title`` goes to stderr (stdout stays data)."""
    text = render(rows, fmt, columns)
    if title and fmt == "table":
        print(title, file=sys.stderr)
    sys.stdout.write(text + "\n")
    sys.stdout.flush()
