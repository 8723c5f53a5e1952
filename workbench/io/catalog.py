"""The catalog as users touch it: ``open_catalog()`` → list, describe, scan, read, write.

The catalog *spec* (:mod:`workbench.catalog`) says what each dataset is; this module picks the
accessor that loads it: the warehouse for tables, Dask/DuckDB for partitioned frames, xarray
for Zarr cubes and rasters.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal
from urllib.parse import quote, urlparse, urlunparse

from workbench.catalog import CatalogSpec, DatasetSpec, load_catalog_spec
from workbench.catalog.describe import DatasetDescription
from workbench.catalog.schema import LAYERS
from workbench.core.errors import CatalogError, DataAccessError, MissingColumnsError
from workbench.io.timewindow import to_utc
from workbench.io.types import ibis_schema
from workbench.io.warehouse import Warehouse, WriteMode

if TYPE_CHECKING:
    import ibis.expr.types as ir

Where = Mapping[str, Any] | Callable[[Any], Any] | Any
ReadBackend = Literal["pandas", "polars", "arrow"]


class Catalog:
    """The workbench's data catalog.

    Examples
    --------
    >>> from workbench import open_catalog  # doctest: +SKIP
    >>> cat = open_catalog()  # doctest: +SKIP
    >>> cat.list(layer="gold")  # doctest: +SKIP
    >>> cat.describe("gold.fact_load")  # doctest: +SKIP
    >>> t = cat.scan("gold.fact_load")  # a lazy Ibis table  # doctest: +SKIP
    >>> cat.read("gold.fact_load", start="2024-07-01", end="2024-07-08")  # doctest: +SKIP

    ``read_only=True`` is the dashboards' mode while jobs write: DuckDB files open read-only
    (waiting out a writer's lock, see :mod:`workbench.io.warehouse`), ``read()`` releases the
    connection once the rows are materialised, and ``write()`` is refused.
    """

    def __init__(
        self, spec: CatalogSpec, path: Path | None = None, *, read_only: bool = False
    ) -> None:
        self.spec = spec
        self.path = path
        self.read_only = read_only
        self._warehouses: dict[str, Warehouse] = {}

    def __repr__(self) -> str:
        return f"Catalog({str(self.path) if self.path else '<memory>'!r}, {len(self)} datasets)"

    def __len__(self) -> int:
        return len(self.spec.datasets)

    def __contains__(self, name: object) -> bool:
        return any(d.name == name for d in self.spec.datasets)

    # ------------------------------------------------------------------ what is there
    def list(self, layer: str | None = None) -> list[str]:
        """Dataset names, sorted by layer (bronze → ops) then name; optionally one layer."""
        if layer is not None and layer not in LAYERS:
            msg = f"expected layer one of {list(LAYERS)}; found {layer!r}"
            raise CatalogError(msg)
        order = {name: i for i, name in enumerate(LAYERS)}
        entries = [d for d in self.spec.datasets if layer is None or d.layer == layer]
        return [d.name for d in sorted(entries, key=lambda d: (order[d.layer], d.name))]

    def entry(self, name: str) -> DatasetSpec:
        """The validated spec of a dataset; unknown names get the closest suggestions."""
        return self.spec.dataset(name)

    def describe(self, name: str) -> DatasetDescription:
        """A description readable as text (``print``) and as HTML in Jupyter."""
        return DatasetDescription(self.entry(name))

    # ------------------------------------------------------------------ warehouses
    def warehouse(self, name: str = "default") -> Warehouse:
        """The warehouse connection declared under ``warehouses:`` (cached)."""
        if name not in self._warehouses:
            if name not in self.spec.warehouses:
                msg = f"no warehouse named {name!r}; found {sorted(self.spec.warehouses)}"
                raise CatalogError(msg)
            self._warehouses[name] = Warehouse(self._warehouse_url(name), read_only=self.read_only)
        return self._warehouses[name]

    def _warehouse_url(self, name: str) -> str:
        spec = self.spec.warehouses[name]
        if spec.credentials is None:
            return spec.url
        cred = self.spec.credentials[spec.credentials]
        missing = [var for var in cred.env.values() if not os.environ.get(var)]
        if missing:
            msg = (
                f"warehouse {name!r} needs credentials {spec.credentials!r}: expected environment "
                f"variables {missing} to be set; found them unset"
            )
            raise CatalogError(msg)
        values = {field: os.environ[var] for field, var in cred.env.items()}
        parsed = urlparse(spec.url)
        user = quote(values.get("user", parsed.username or ""), safe="")
        password = quote(values["password"], safe="") if "password" in values else None
        host = parsed.hostname or ""
        netloc = f"{user}{':' + password if password else ''}@{host}"
        if parsed.port:
            netloc += f":{parsed.port}"
        return urlunparse(parsed._replace(netloc=netloc))

    def close(self) -> None:
        for wh in self._warehouses.values():
            wh.close()
        self._warehouses.clear()

    def __enter__(self) -> Catalog:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ------------------------------------------------------------------ lazy access
    def scan(self, name: str) -> Any:
        """A lazy handle on a dataset.

        Returns an Ibis table (``table``), a Dask DataFrame (``frames``) or a dask-backed
        xarray Dataset (``cube``, ``raster``).
        """
        spec = self.entry(name)
        if spec.kind == "table":
            return self.warehouse(spec.warehouse).table(spec.location)
        if spec.kind == "frames":
            from workbench.io.frames import scan_parquet_dask

            return scan_parquet_dask(self.frames_spec(name))
        from workbench.io.cubes import open_cube

        return open_cube(spec)

    def relation(self, name: str) -> ir.Table:
        """An Ibis relation for tables and for frames (DuckDB over the Parquet files)."""
        spec = self.entry(name)
        if spec.kind == "table":
            return self.warehouse(spec.warehouse).table(spec.location)
        from workbench.io.frames import scan_parquet_ibis

        return scan_parquet_ibis(self.frames_spec(name))

    def frames_spec(self, name: str) -> DatasetSpec:
        """A frames entry pinned to the version its readers should read now.

        Datasets the medallion build publishes (silver, gold) are read at the version the
        warehouse committed (the build id of the table's latest ``built`` row in
        ``ops.build_runs``) when that folder exists, else where the dataset's pointer leads;
        see :mod:`workbench.io.frames`. The whole read then stays on that one version.
        """
        from workbench.io.frames import pinned

        spec = self.entry(name)
        committed = None
        if spec.layer in ("silver", "gold") and "://" not in spec.location:
            committed = self._committed_build(name)
        return pinned(spec, committed)

    def _committed_build(self, name: str) -> str | None:
        wh = self.warehouse()
        if wh.duckdb_path is not None and not wh.duckdb_path.exists():
            return None  # no warehouse yet: nothing was ever committed
        was_connected = wh.connected
        try:
            if not wh.exists("ops.build_runs"):
                return None
            t = wh.table("ops.build_runs")
            built = t.filter((t.table_name == name) & (t.status == "built"))
            latest = built.order_by(built.ended_at.desc()).limit(1).build_id.to_pyarrow()
            return latest[0].as_py() if len(latest) else None
        finally:
            if self.read_only or not was_connected:
                wh.close()  # opened for this look-up only: free the file

    def with_warehouse(self, warehouse: Warehouse, name: str = "default") -> Catalog:
        """This catalog with warehouse ``name`` bound to ``warehouse`` (a build's staging copy)."""
        other = Catalog(self.spec, self.path, read_only=self.read_only)
        other._warehouses[name] = warehouse
        return other

    def read(
        self,
        name: str,
        *,
        start: Any = None,
        end: Any = None,
        columns: Sequence[str] | None = None,
        where: Where | None = None,
        backend: ReadBackend = "pandas",
    ) -> Any:
        """Materialise a window of a dataset.

        Parameters
        ----------
        start, end : str, datetime or pandas.Timestamp, optional
            Half-open window ``[start, end)`` on the dataset's time column; naive times are UTC.
        columns : sequence of str, optional
            Columns (tables, frames) or data variables (cubes) to keep.
        where : mapping, callable or Ibis boolean expression, optional
            ``{"region_id": "north"}`` or ``{"region_id": ["north", "coast"]}`` for equality
            filters, or ``lambda t: t.load_mw > 1000`` for anything else.
        backend : {"pandas", "polars", "arrow"}
            The frame type returned for tables and frames. Cubes return an xarray Dataset.
        """
        spec = self.entry(name)
        lo, hi = to_utc(start, "start"), to_utc(end, "end")
        if (lo or hi) and spec.time_column is None:
            msg = (
                f"{name} has no time column; expected no start/end, "
                f"found start={start!r} end={end!r}"
            )
            raise DataAccessError(msg)
        if spec.kind in ("cube", "raster"):
            from workbench.io.cubes import read_cube

            return read_cube(self.scan(name), spec, lo, hi, columns, where)
        t = self.relation(name)
        if lo is not None:
            t = t.filter(t[spec.time_column] >= lo)
        if hi is not None:
            t = t.filter(t[spec.time_column] < hi)
        if where is not None:
            t = _apply_where(t, where, name)
        if columns is not None:
            missing = set(columns) - set(t.columns)
            if missing:
                raise MissingColumnsError(f"reading {name}", missing, t.columns)
            t = t.select(*columns)
        if spec.time_column and spec.time_column in t.columns:
            order = dict.fromkeys([spec.time_column, *(k for k in spec.key if k in t.columns)])
            t = t.order_by(list(order))
        if backend not in ("pandas", "polars", "arrow"):
            msg = f"expected backend 'pandas', 'polars' or 'arrow'; found {backend!r}"
            raise DataAccessError(msg)
        try:
            return getattr(t, f"to_{'pyarrow' if backend == 'arrow' else backend}")()
        finally:
            if self.read_only and spec.kind == "table":
                self.warehouse(spec.warehouse).close()  # a short-lived reader: free the file

    # ------------------------------------------------------------------ writing tables
    def write(self, name: str, data: Any, *, mode: WriteMode = "append") -> int:
        """Write rows to a catalog table, checked against its declared columns; transactional."""
        spec = self.entry(name)
        if self.read_only:
            msg = f"expected a writable catalog to write {name}; found one opened read_only=True"
            raise DataAccessError(msg)
        if spec.kind != "table":
            msg = f"catalog.write handles tables; {name} is a {spec.kind} (use its io writer)"
            raise DataAccessError(msg)
        return self.warehouse(spec.warehouse).write(
            spec.location, data, mode=mode, key=spec.key, schema=ibis_schema(spec)
        )


def _apply_where(t: ir.Table, where: Where, name: str) -> ir.Table:
    import ibis

    if isinstance(where, Mapping):
        missing = set(where) - set(t.columns)
        if missing:
            raise MissingColumnsError(f"where= on {name}", missing, t.columns)
        for column, value in where.items():
            if isinstance(value, (list, tuple, set, frozenset)):
                t = t.filter(t[column].isin(list(value)))
            else:
                t = t.filter(t[column] == value)
        return t
    if callable(where) and not isinstance(where, ibis.Expr):
        return t.filter(where(t))
    if isinstance(where, ibis.Expr):
        return t.filter(where)
    msg = (
        "expected where= as a mapping {column: value or list}, a callable t -> boolean "
        f"expression, or an Ibis boolean expression; found {type(where).__name__}"
    )
    raise DataAccessError(msg)


def open_catalog(path: str | Path | None = None, *, read_only: bool = False) -> Catalog:
    """Open and validate the data catalog.

    Parameters
    ----------
    path : str or Path, optional
        A ``data_catalog.yaml``; by default ``WORKBENCH_CATALOG`` or the project's own.
    read_only : bool
        Readers beside running jobs (dashboards): the warehouse opens read-only, waits out a
        writer's lock, and ``read()`` releases it after each call.
    """
    from workbench.core.config import default_catalog_path

    resolved = Path(path) if path is not None else default_catalog_path()
    return Catalog(load_catalog_spec(resolved), resolved, read_only=read_only)
