"""Partitioned Parquet frames (smart-meter reads): Dask for scale-out, DuckDB for pushdown.

Versioned datasets (what the medallion build writes)
----------------------------------------------------
A dataset the build rewrites (``silver.meter_readings``) is published in versions. Each build
writes a complete new folder ``.<name>.v-<build_id>`` beside the catalog location, and the
location itself is a *pointer*: a symbolic link to the current version, switched by one
``os.replace`` of a new link (atomic on POSIX). A reader resolves the pointer once
(:func:`published_root`) and reads that one folder for its whole query, so it sees the old
version or the new one, never a mix; the previous version is kept until the next build, so a
reader that resolved just before a switch still finds its files. A location that is a plain
folder (written before versions existed) is read as it is, and becomes a version at the next
publication.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from workbench.catalog.schema import DatasetSpec
from workbench.core.errors import DataAccessError, MissingColumnsError
from workbench.core.extras import require

if TYPE_CHECKING:
    import ibis.expr.types as ir


VERSION_TAG = ".v-"


def version_path(spec: DatasetSpec, version: str) -> Path:
    """The folder of one published version of a local frames dataset."""
    root = Path(spec.location)
    return root.with_name(f".{root.name}{VERSION_TAG}{version}")


def published_root(spec: DatasetSpec, committed: str | None = None) -> str:
    """The folder a reader reads: the pointer (symbolic link) resolved once.

    Parameters
    ----------
    spec : DatasetSpec
        A ``frames`` entry.
    committed : str, optional
        The version the warehouse recorded as committed (``ops.build_runs``). When its folder
        exists it is read, whatever the pointer says: a build that died between its warehouse
        commit and the pointer switch is thereby already complete for readers.
    """
    root = spec.location
    if "://" in root:
        return root
    if committed is not None and version_path(spec, committed).is_dir():
        return str(version_path(spec, committed))
    return os.path.realpath(root)


def pinned(spec: DatasetSpec, committed: str | None = None) -> DatasetSpec:
    """``spec`` with its location resolved to one version (see :func:`published_root`)."""
    root = published_root(spec, committed)
    return spec if root == spec.location else spec.model_copy(update={"location": root})


def current_version(spec: DatasetSpec) -> str | None:
    """The version the pointer names (``None``: no pointer, a plain folder or nothing)."""
    root = Path(spec.location)
    if not root.is_symlink():
        return None
    prefix = f".{root.name}{VERSION_TAG}"
    target = os.readlink(root)
    name = Path(target).name
    return name[len(prefix) :] if name.startswith(prefix) else None


def write_version(expr: Any, spec: DatasetSpec, version: str) -> int:
    """Write the rows of an Ibis expression as a new version folder (not yet published).

    The folder is invisible to readers until :func:`switch_pointer` names it; a build that
    dies first leaves it behind for :func:`clean_versions` to remove.
    """
    import shutil

    folder = version_path(spec, version)
    shutil.rmtree(folder, ignore_errors=True)  # a retry of the same version starts afresh
    folder.parent.mkdir(parents=True, exist_ok=True)
    con = expr._find_backend()
    rows = int(expr.count().execute())
    con.to_parquet(expr, folder, partition_by=tuple(spec.partition_by or ()))
    return rows


def prepare_pointer(spec: DatasetSpec, version: str) -> Path:
    """A new link to ``version`` beside the location, ready for :func:`switch_pointer`."""
    root = Path(spec.location)
    if not version_path(spec, version).is_dir():
        msg = f"expected version folder {version_path(spec, version)} to publish; found none"
        raise DataAccessError(msg)
    link = root.with_name(f".{root.name}.link-{version}")
    if link.is_symlink() or link.exists():
        link.unlink()
    link.symlink_to(version_path(spec, version).name)  # relative: the lake folder can move
    return link


def switch_pointer(spec: DatasetSpec, link: Path) -> None:
    """Make the location point where ``link`` does, in one atomic rename.

    A location that is still a plain folder (written before versions) is first moved aside as
    version ``legacy``; only in that one-time migration is there an instant without a location.
    """
    root = Path(spec.location)
    if root.exists() and not root.is_symlink():
        legacy = version_path(spec, "legacy")
        if legacy.exists():
            import shutil

            shutil.rmtree(legacy)
        root.rename(legacy)
    os.replace(link, root)


def clean_versions(spec: DatasetSpec, keep: set[str]) -> list[Path]:
    """Remove the version folders not in ``keep`` and leftovers of earlier swaps.

    The caller (the build, holding the build lock) keeps the current version and the one
    before it, which readers may still be reading. Returns what was removed.
    """
    import shutil

    root = Path(spec.location)
    if "://" in spec.location or not root.parent.is_dir():
        return []
    removed = []
    current = current_version(spec)
    prefix = f".{root.name}{VERSION_TAG}"
    for path in root.parent.glob(f".{root.name}.*"):
        name = path.name
        if name.startswith(prefix) and (
            name[len(prefix) :] in keep or name[len(prefix) :] == current
        ):
            continue
        # unpublished versions, unused links, the two-rename swap of earlier workbenches
        stale = name.startswith((prefix, f".{root.name}.link-")) or name.endswith((".new", ".old"))
        if not stale:
            continue
        if path.is_symlink() or path.is_file():
            path.unlink()
        else:
            shutil.rmtree(path)
        removed.append(path)
    return removed


def _existing_root(spec: DatasetSpec) -> str:
    root = published_root(spec)
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
