"""Readable descriptions of catalog entries, as text (terminal) and HTML (Jupyter)."""

from __future__ import annotations

import html
from dataclasses import dataclass

from workbench.catalog.schema import DatasetSpec


@dataclass(frozen=True)
class DatasetDescription:
    """What a dataset is; ``str()`` gives text, Jupyter shows a table."""

    spec: DatasetSpec

    def facts(self) -> list[tuple[str, str]]:
        s = self.spec
        rows = [
            ("description", s.description),
            ("kind", s.kind + (f" ({s.format})" if s.format else "")),
            ("layer", s.layer),
            ("location", s.location),
            ("owner", s.owner),
            ("key", ", ".join(s.key)),
            ("time column", s.time_column or "-"),
            ("timezone", s.timezone),
            ("resolution", s.resolution),
            ("availability lag", s.availability_lag),
        ]
        if s.kind == "table":
            rows.append(("warehouse", s.warehouse))
        if s.dims:
            rows.append(("dims", ", ".join(s.dims)))
        if s.chunks:
            rows.append(("chunks", ", ".join(f"{k}={v}" for k, v in s.chunks.items())))
        if s.partition_by:
            rows.append(("partitioned by", ", ".join(s.partition_by)))
        return rows

    def column_rows(self) -> list[tuple[str, str, str, str]]:
        return [
            (name, col.type, col.unit or "", col.description or "")
            for name, col in self.spec.columns.items()
        ]

    def __str__(self) -> str:
        width = max(len(k) for k, _ in self.facts())
        lines = [self.spec.name, "=" * len(self.spec.name)]
        lines += [f"{k:<{width}}  {v}" for k, v in self.facts()]
        rows = [("column", "type", "unit", "description"), *self.column_rows()]
        widths = [max(len(r[i]) for r in rows) for i in range(3)]
        lines.append("")
        for i, row in enumerate(rows):
            cells = [row[j].ljust(widths[j]) for j in range(3)] + [row[3]]
            lines.append("  ".join(cells).rstrip())
            if i == 0:
                lines.append("  ".join("-" * w for w in widths) + "  " + "-" * 11)
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        e = html.escape
        facts = "".join(
            f"<tr><th style='text-align:left'>{e(k)}</th>"
            f"<td style='text-align:left'>{e(v)}</td></tr>"
            for k, v in self.facts()
        )
        cols = "".join(
            "<tr>" + "".join(f"<td style='text-align:left'>{e(c)}</td>" for c in row) + "</tr>"
            for row in self.column_rows()
        )
        return (
            f"<div class='workbench-dataset'><h4>{e(self.spec.name)}</h4>"
            f"<table>{facts}</table>"
            "<table><thead><tr><th>column</th><th>type</th><th>unit</th><th>description</th>"
            f"</tr></thead><tbody>{cols}</tbody></table></div>"
        )

    def _repr_pretty_(self, printer, cycle: bool) -> None:  # IPython plain text
        printer.text(str(self))
