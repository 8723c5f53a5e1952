"""Partitioned Parquet frames (smart-meter reads): Dask for scale-out, DuckDB for pushdown."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from workbench.catalog.schema import DatasetSpec
from workbench.core.errors import DataAccessError
from workbench.core.extras import require

if TYPE_CHECKING:
    import ibis.expr.types as ir


def _existing_root(spec: DatasetSpec) -> str:
    root = spec.location
    if "://" not in root and not any(Path(root).rglob("*.parquet")):
        msg = (
            f"expected Parquet files of {spec.name} under {root}; found none "
            f"(build the lake first: `workbench demo build`)"
        )
        raise DataAccessError(msg)
    return root


def scan_parquet_dask(spec: DatasetSpec, **kwargs: Any) -> Any:
    """A lazy Dask DataFrame over the dataset's hive-partitioned Parquet files."""
    dd = require("dask.dataframe", feature=f"scanning {spec.name} with Dask")
    return dd.read_parquet(_existing_root(spec), **kwargs)


def scan_parquet_ibis(spec: DatasetSpec) -> ir.Table:
    """An Ibis table over the same files, executed by an in-process DuckDB (filter pushdown)."""
    import ibis

    root = _existing_root(spec)
    con = ibis.duckdb.connect()
    return con.read_parquet(f"{root}/**/*.parquet", hive_partitioning=True)
