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


def write_partitioned(
    frames: Any, spec: DatasetSpec, *, clear: bool = False, prefix: str = "part"
) -> int:
    """Write frames into the dataset's hive layout (``col=value/…/part-N.parquet``).

    Parameters
    ----------
    frames : iterable of pandas.DataFrame
        Each with the dataset's columns; rows are split by ``spec.partition_by``.
    clear : bool
        Remove the dataset's files first (a full rebuild).
    prefix : str
        File-name prefix, so that separate writers never overwrite each other's parts.

    Returns
    -------
    int
        Rows written.

    Each file is written under a temporary name and renamed into place, so readers never see
    a half-written file.
    """
    import shutil

    import pyarrow as pa
    import pyarrow.parquet as pq

    root = Path(spec.location)
    if clear and root.exists():
        shutil.rmtree(root)
    parts = list(spec.partition_by or [])
    missing_cols = set(spec.columns) - set(parts)
    rows, counter = 0, 0
    for frame in frames:
        absent = missing_cols - set(frame.columns)
        if absent:
            from workbench.core.errors import MissingColumnsError

            raise MissingColumnsError(f"writing {spec.name}", absent, frame.columns)
        for values, group in frame.groupby(parts, sort=False, observed=True):
            values = values if isinstance(values, tuple) else (values,)
            folder = root.joinpath(*(f"{k}={v}" for k, v in zip(parts, values, strict=True)))
            folder.mkdir(parents=True, exist_ok=True)
            table = pa.Table.from_pandas(group.drop(columns=parts), preserve_index=False)
            final = folder / f"{prefix}-{counter:05d}.parquet"
            tmp = final.with_suffix(".parquet.tmp")
            pq.write_table(table, tmp, compression="zstd")
            tmp.replace(final)
            counter += 1
            rows += len(group)
    return rows


def write_expr_partitioned(expr: Any, spec: DatasetSpec) -> int:
    """Replace a frames dataset with the rows of an Ibis expression (DuckDB executes it).

    The files are written next to the dataset and swapped in by renames, so a failure leaves
    the previous files in place and readers never see a half-written dataset.
    """
    import shutil
    import uuid

    root = Path(spec.location)
    staging = root.with_name(f".{root.name}.{uuid.uuid4().hex[:8]}.new")
    backup = root.with_name(f".{root.name}.{uuid.uuid4().hex[:8]}.old")
    con = expr._find_backend()
    rows = int(expr.count().execute())
    root.parent.mkdir(parents=True, exist_ok=True)
    try:
        con.to_parquet(expr, staging, partition_by=tuple(spec.partition_by or ()))
        if root.exists():
            root.rename(backup)
        staging.rename(root)
    except Exception:
        shutil.rmtree(staging, ignore_errors=True)
        if backup.exists() and not root.exists():
            backup.rename(root)
        raise
    shutil.rmtree(backup, ignore_errors=True)
    return rows
