"""Cubes and rasters as xarray Datasets: Zarr stores (dask-backed) or GeoTIFF series."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from workbench.catalog.schema import DatasetSpec
from workbench.core.errors import DataAccessError, MissingColumnsError
from workbench.core.extras import require


def open_cube(spec: DatasetSpec) -> Any:
    """Open a cube or raster lazily (dask-chunked as declared in the catalog)."""
    xr = require("xarray", feature=f"opening {spec.name}")
    location = spec.location
    if "://" not in location and not Path(location).exists():
        msg = f"expected the {spec.kind} {spec.name} at {location}; found nothing there"
        raise DataAccessError(msg)
    if spec.format == "geotiff":
        from workbench.io.rasters import open_geotiff_series

        return open_geotiff_series(location, chunks=spec.chunks)
    require("zarr", feature=f"opening {spec.name}")
    require("dask.array", feature=f"opening {spec.name} lazily")
    try:
        return xr.open_zarr(location, chunks={}, consolidated=False)
    except Exception as exc:
        msg = f"cannot open the Zarr store of {spec.name} at {location}: {exc}"
        raise DataAccessError(msg) from exc


def _naive_utc(value: datetime | None) -> Any:
    import numpy as np

    return None if value is None else np.datetime64(value.replace(tzinfo=None), "ns")


def read_cube(
    ds: Any,
    spec: DatasetSpec,
    lo: datetime | None,
    hi: datetime | None,
    variables: Sequence[str] | None,
    where: Mapping[str, Any] | None,
) -> Any:
    """Select ``[lo, hi)`` on the time dim, variables and labels of other dims; then load."""
    if spec.time_column and (lo is not None or hi is not None):
        times = ds[spec.time_column]
        mask = True
        if lo is not None:
            mask = mask & (times >= _naive_utc(lo))
        if hi is not None:
            mask = mask & (times < _naive_utc(hi))
        ds = ds.isel({spec.time_column: mask.values})
    if where is not None:
        if not isinstance(where, Mapping):
            msg = (
                f"expected where= on a cube as {{dim: label or list}}; found {type(where).__name__}"
            )
            raise DataAccessError(msg)
        missing = set(where) - set(ds.dims)
        if missing:
            raise MissingColumnsError(f"where= on {spec.name}", missing, ds.dims)
        ds = ds.sel(
            {k: (list(v) if isinstance(v, (list, tuple, set)) else [v]) for k, v in where.items()}
        )
    if variables is not None:
        missing = set(variables) - set(ds.data_vars)
        if missing:
            raise MissingColumnsError(f"reading {spec.name}", missing, ds.data_vars)
        ds = ds[list(variables)]
    return ds.load()


def write_cube(blocks: Any, spec: DatasetSpec) -> int:
    """Write a cube to its Zarr store, block after block along the time dim.

    The first block creates (or replaces) the store with the catalog's chunking; each further
    block is appended along ``time``. Returns the number of time steps written.
    """
    require("zarr", feature=f"writing {spec.name}")
    time_dim = spec.time_column or "time"
    steps = 0
    for i, block in enumerate(blocks):
        chunks = {
            d: min(c, block.sizes[d]) for d, c in (spec.chunks or {}).items() if d in block.dims
        }
        block = block.chunk(chunks) if chunks else block
        # fixed-width numpy strings have no Zarr v3 spec: store labels as variable-length UTF-8
        labels = {n: c.astype(object) for n, c in block.coords.items() if c.dtype.kind == "U"}
        block = block.assign_coords(labels)
        for var in block.variables.values():
            var.encoding.pop("chunks", None)
        if i == 0:
            block.to_zarr(spec.location, mode="w", consolidated=False)
        else:
            block.to_zarr(spec.location, append_dim=time_dim, consolidated=False)
        steps += block.sizes[time_dim]
    return steps
