"""Partitioned Parquet frames (smart-meter reads): Dask for scale-out, DuckDB for pushdown."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from workbench.catalog.schema import DatasetSpec
from workbench.core.errors import DataAccessError, MissingColumnsError
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


def scan_parquet_dask(
    spec: DatasetSpec,
    *,
    columns: Sequence[str] | None = None,
    filters: Any = None,
    files: Sequence[str] | None = None,
    typed: bool = True,
    **kwargs: Any,
) -> Any:
    """A lazy Dask DataFrame over the dataset's hive-partitioned Parquet files.

    Parameters
    ----------
    spec : DatasetSpec
        A ``frames`` entry of the catalog.
    columns : sequence of str, optional
        Columns to read (partition columns included); all by default.
    filters : list, optional
        pyarrow-style filters, e.g. ``[("date", ">=", "2024-03-20"), ("region_id", "in",
        ["COAST"])]``. Filters on partition columns compare the folder values (ISO dates as
        strings) and prune whole files before any is opened.
    files : sequence of str, optional
        Read only these files of the dataset (already pruned); their ``col=value`` folders
        still give the partition columns.
    typed : bool
        Give partition columns their catalog types (default); False leaves Dask's
        categoricals, cheaper to group by.
    **kwargs
        Passed to :func:`dask.dataframe.read_parquet`.

    Returns
    -------
    dask.dataframe.DataFrame
        Columns in the catalog's order (or that of ``columns``); nothing is read but the
        Parquet footers. Partition columns take their catalog types
        (``date`` as ``date32[pyarrow]``, strings as ``string[pyarrow]``) instead of Dask's
        categoricals, and the time column is timezone-aware UTC (naive stored times are taken
        as UTC, the workbench's convention).
    """
    dd = require("dask.dataframe", feature=f"scanning {spec.name} with Dask")
    if columns is not None:
        unknown = set(columns) - set(spec.columns)
        if unknown:
            raise MissingColumnsError(f"scanning {spec.name}", unknown, spec.columns)
        columns = list(columns)
    paths = _existing_root(spec) if files is None else list(files)
    if files is not None:
        kwargs.setdefault("dataset", {"partitioning": "hive"})
    frame = dd.read_parquet(paths, columns=columns, filters=filters, **kwargs)
    order = [c for c in columns or spec.columns if c in frame.columns]
    order += [c for c in frame.columns if c not in order]
    if order != list(frame.columns):
        frame = frame[order]  # the catalog's column order (partition columns come last)
    casts = {
        name: spec.columns[name].type
        for name in spec.partition_by or ()
        if typed and name in frame.columns and isinstance(frame.dtypes[name], _categorical())
    }
    time_col = spec.time_column
    to_utc = time_col in frame.columns and not _is_utc(frame.dtypes[time_col])
    if not casts and not to_utc:
        return frame
    meta = _typed(frame._meta, casts, time_col if to_utc else None)
    return frame.map_partitions(_typed, casts, time_col if to_utc else None, meta=meta)


def _categorical() -> type:
    import pandas as pd

    return pd.CategoricalDtype


def _is_utc(dtype: Any) -> bool:
    import pandas as pd

    return isinstance(dtype, pd.DatetimeTZDtype) and str(dtype.tz) == "UTC"


def _typed(frame: Any, casts: dict[str, str], time_col: str | None) -> Any:
    """Partition categoricals → their catalog types; the time column → tz-aware UTC."""
    import pandas as pd
    import pyarrow as pa

    out = frame.copy(deep=False)
    for name, kind in casts.items():
        values = out[name].cat.categories
        if kind == "date":
            typed = pd.array(
                pa.array(values.astype(str), pa.string()).cast(pa.date32()),
                dtype=pd.ArrowDtype(pa.date32()),
            )
        elif kind == "string":
            typed = pd.array(values.astype(str), dtype=pd.StringDtype("pyarrow"))
        else:
            typed = pd.array(values.astype(str)).astype(kind)
        out[name] = typed.take(out[name].cat.codes.to_numpy(), allow_fill=True)
    if time_col is not None:
        stamps = out[time_col]
        if getattr(stamps.dt, "tz", None) is None:
            out[time_col] = stamps.dt.tz_localize("UTC")
        else:
            out[time_col] = stamps.dt.tz_convert("UTC")
    return out


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
