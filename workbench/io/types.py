"""Catalog column types → Ibis data types (and the checks that go with them)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from workbench.catalog.schema import DatasetSpec

if TYPE_CHECKING:
    from ibis.expr.schema import Schema

IBIS_TYPE: dict[str, str] = {
    "string": "string",
    "bool": "boolean",
    "int8": "int8",
    "int16": "int16",
    "int32": "int32",
    "int64": "int64",
    "float32": "float32",
    "float64": "float64",
    "date": "date",
    "timestamp": "timestamp('UTC')",
    "json": "json",
}


def ibis_schema(spec: DatasetSpec) -> Schema:
    """The Ibis schema declared for a dataset (timestamps are UTC-aware)."""
    import ibis
    import ibis.expr.datatypes as dt

    return ibis.schema(
        {
            name: dt.dtype(IBIS_TYPE[col.type]).copy(nullable=col.nullable)
            for name, col in spec.columns.items()
        }
    )
