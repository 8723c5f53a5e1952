"""Cubes and rasters as xarray Datasets: Zarr v3 stores (dask-backed) or GeoTIFF series.

- :func:`open_cube` opens lazily, chunked as the catalog's ``chunks:`` preset says, and registers
  the ``ds.grid`` accessor (:mod:`workbench.io.grid_accessor`).
- :func:`read_cube` cuts a ``[start, end)`` window by binary search on the sorted time index and
  selects labels of the other dims before anything is loaded, so only the chunks the window
  touches are read.
- :func:`write_cube` (re)creates a store block after block; :func:`append_cube` adds new time to
  an existing store after checking that it continues it.

Layout (issue 22): the catalog's ``chunks`` are the stored (inner) chunks, ``shards`` the Zarr v3
shards that group them into one file each (written whole, once), and ``codecs`` a lossless
preset per variable (:data:`CODEC_PRESETS`), recorded in each variable's ``codec_preset``
attribute. The PMU preset stores one PMU per inner chunk (10 min x 1 PMU) in 10-min x 500-PMU
shards, so a window reads only the PMUs it asks for, contiguous or spread over the grid. That
needs a reader whose cost per inner chunk is small: zarr-python 3.1 spends 0.3-2 ms of CPU on
each, so :func:`open_cube` backs every variable it can with the direct shard reader
(:mod:`workbench.io.zarr_shards`, :mod:`workbench.io.shard_views`: one index read per shard,
byte ranges, numcodecs in a thread pool; values equal zarr-python's bit for bit) and
:func:`read_cube` / ``ds.grid.window`` read windows through it. The store stays a standard Zarr
v3 store that zarr-python and xarray read unchanged.

Appends and concurrent readers (Zarr v3, zarr-python 3 on a local or object store): every key
(an array's ``zarr.json`` or one chunk) is replaced atomically, but there is no transaction over
several arrays. :func:`append_cube` therefore writes the data variables first (resize, then
chunks) and the time coordinate last. A reader that opened the store before keeps the old length
and reads the old values (the partly filled last chunk is rewritten with the same old values); a
reader that opens during the append finds arrays of different lengths along time and gets a
:class:`~workbench.core.errors.DataAccessError` asking it to retry, never a silently mixed cube;
a reader after it sees the new length. An append that fails half-way is rolled back (every array
resized to its old length); one interrupted by a crash is rolled back by the next
:func:`append_cube` (or :func:`repair_cube`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from workbench.catalog.schema import DatasetSpec
from workbench.core.errors import DataAccessError, MissingColumnsError
from workbench.core.extras import require


class CubeAppendError(DataAccessError):
    """An append does not continue the store (time, labels, variables, dtypes): nothing written."""


def open_cube(spec: DatasetSpec) -> Any:
    """Open a cube or raster lazily, dask-backed; opening registers the ``ds.grid`` accessor.

    A local Zarr v3 store's variables are read by the shard reader where it supports them
    (:func:`workbench.io.shard_views.attach_readers`; ``ds[name].encoding["reader"]`` says
    ``"shards"``, or ``"zarr-python: <why not>"``): one dask chunk per shard, or the catalog's
    ``chunks`` preset along a dim where it is a whole multiple of the shard. Other variables
    (and GeoTIFF series) keep the preset where it is a whole multiple of the stored chunks
    (dask chunks never split a stored chunk), else the stored chunking.
    """
    xr = require("xarray", feature=f"opening {spec.name}")
    import workbench.io.grid_accessor  # noqa: F401  (registers ds.grid)

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
        ds = xr.open_zarr(location, chunks={}, consolidated=False)
    except ValueError as exc:
        if "conflicting" in str(exc):
            msg = (
                f"expected the arrays of {spec.name} at {location} to share their lengths; found "
                f"them different ({exc}): an append is in progress (retry in a moment) or was "
                "interrupted (run workbench.io.cubes.repair_cube on it)"
            )
            raise DataAccessError(msg) from exc
        msg = f"cannot open the Zarr store of {spec.name} at {location}: {exc}"
        raise DataAccessError(msg) from exc
    except Exception as exc:
        msg = f"cannot open the Zarr store of {spec.name} at {location}: {exc}"
        raise DataAccessError(msg) from exc
    if "://" not in location:
        from workbench.io.shard_views import attach_readers

        ds = attach_readers(ds, location, spec.chunks)
    return _apply_preset(ds, spec.chunks or {})


def _apply_preset(ds: Any, preset: Mapping[str, int]) -> Any:
    """Rechunk to the preset along each dim where it is a multiple of the stored chunk; the
    variables the shard reader serves were chunked by :func:`attach_readers` already."""
    rest = [n for n, v in ds.data_vars.items() if v.encoding.get("reader") != "shards"]
    target = {}
    for dim, size in preset.items():
        if dim not in ds.dims:
            continue
        stored = {
            v.encoding.get("preferred_chunks", {}).get(dim) for n in rest for v in [ds[n]]
            if dim in v.dims
        } - {None}  # fmt: skip
        if len(stored) == 1 and size % stored.pop() == 0:
            target[dim] = min(size, ds.sizes[dim])
    if not target or not rest:
        return ds
    out = ds.copy()
    for name in rest:
        out[name] = ds[name].chunk({d: c for d, c in target.items() if d in ds[name].dims})
    return out


def _naive_utc(value: Any) -> Any:
    """A datetime or pandas Timestamp (naive = UTC) as naive UTC datetime64[ns], ns kept."""
    import pandas as pd

    stamp = pd.Timestamp(value)
    stamp = stamp.tz_convert("UTC").tz_localize(None) if stamp.tzinfo else stamp
    return stamp.as_unit("ns").to_datetime64()


def time_slice(ds: Any, time_dim: str, lo: Any, hi: Any) -> Any:
    """``ds`` cut to ``[lo, hi)`` by binary search on its sorted time index (no data loaded).

    ``lo``/``hi``: datetimes or pandas Timestamps (naive means UTC), or None for open ends.
    """
    return ds.isel({time_dim: time_positions(ds, time_dim, lo, hi)})


def time_positions(ds: Any, time_dim: str, lo: Any, hi: Any) -> slice:
    """The positions of ``[lo, hi)`` along ``time_dim`` as a slice (see :func:`time_slice`)."""
    index = ds.indexes[time_dim]
    if not index.is_monotonic_increasing:
        msg = (
            f"expected the {time_dim} index sorted ascending; found it unsorted (rewrite the store)"
        )
        raise DataAccessError(msg)
    i0 = 0 if lo is None else int(index.searchsorted(_naive_utc(lo), side="left"))
    i1 = len(index) if hi is None else int(index.searchsorted(_naive_utc(hi), side="left"))
    return slice(i0, max(i0, i1))


def select_labels(ds: Any, where: Mapping[str, Any], name: str) -> Any:
    """Labels of non-time dims (``{"pmu": ["PMU_0001", ...]}``); unknown labels are refused."""
    return ds.isel(label_positions(ds, where, name))


def label_positions(ds: Any, where: Mapping[str, Any], name: str) -> dict[str, Any]:
    """``{dim: integer positions}`` of the labels ``where`` names (see :func:`select_labels`)."""
    import numpy as np

    if not isinstance(where, Mapping):
        msg = f"expected where= on a cube as {{dim: label or list}}; found {type(where).__name__}"
        raise DataAccessError(msg)
    missing = set(where) - set(ds.dims)
    if missing:
        raise MissingColumnsError(f"where= on {name}", missing, ds.dims)
    picks = {}
    for dim, value in where.items():
        labels = list(value) if isinstance(value, (list, tuple, set, np.ndarray)) else [value]
        index = ds.indexes[dim]
        positions = index.get_indexer(labels)
        unknown = [lab for lab, pos in zip(labels, positions, strict=True) if pos < 0]
        if unknown:
            shown = ", ".join(map(str, index[:5])) + (" ..." if len(index) > 5 else "")
            msg = f"expected {dim} labels of {name} ({shown}); found unknown {unknown[:10]}"
            raise DataAccessError(msg)
        picks[dim] = positions
    return picks


def read_cube(
    ds: Any,
    spec: DatasetSpec,
    lo: datetime | None,
    hi: datetime | None,
    variables: Sequence[str] | None,
    where: Mapping[str, Any] | None,
) -> Any:
    """Select ``[lo, hi)`` on the time dim, variables and labels of other dims; then load.

    On a cube as :func:`open_cube` returned it, the variables the shard reader serves are read
    by it directly (:func:`workbench.io.shard_views.load_selection`: only the selected inner
    chunks, decoded in a thread pool); the values are the same as xarray's.
    """
    from workbench.io.shard_views import load_selection

    if variables is not None:
        missing = set(variables) - set(ds.data_vars)
        if missing:
            raise MissingColumnsError(f"reading {spec.name}", missing, ds.data_vars)
    picks: dict[str, Any] = {}
    if spec.time_column and (lo is not None or hi is not None):
        picks[spec.time_column] = time_positions(ds, spec.time_column, lo, hi)
    if where is not None:
        picks |= label_positions(ds, where, spec.name)
    return load_selection(ds, picks, variables)


#: Lossless codec presets a catalog entry's ``codecs:`` may name per variable, chosen by
#: measurement (``benchmarks/cubes.py``; figures in benchmarks/README.md, issue 22).
CODEC_PRESETS = (
    "zstd",
    "blosc-zstd-shuffle",
    "blosc-zstd-bitshuffle",
    "blosc-lz4-shuffle",
    "blosc-lz4-bitshuffle",
)
#: Variable attribute recording the preset a store's variable was written with.
CODEC_ATTR = "codec_preset"
_DEFAULT_CODEC = "zstd"


def codec_compressors(preset: str, itemsize: int) -> list[Any]:
    """The Zarr v3 compressors of a codec preset (``itemsize`` [bytes] sets Blosc's shuffle)."""
    codecs = require("zarr.codecs", feature="writing a cube")

    if preset not in CODEC_PRESETS:
        msg = f"expected a codec preset among {list(CODEC_PRESETS)}; found {preset!r}"
        raise DataAccessError(msg)
    if preset == "zstd":
        return [codecs.ZstdCodec(level=3)]
    _, cname, shuffle = preset.split("-")
    return [codecs.BloscCodec(cname=cname, clevel=5, shuffle=shuffle, typesize=int(itemsize))]


def cube_encoding(
    ds: Any,
    chunks: Mapping[str, int],
    shards: Mapping[str, int] | None = None,
    codecs: Mapping[str, str] | None = None,
) -> dict[str, dict[str, Any]]:
    """Zarr v3 encoding of each data variable: inner chunks, shards and compressors.

    Non-time dims are clipped to the variable's size (they do not grow); the time dim keeps the
    preset (appends fill it). Variables without a ``codecs`` entry get plain zstd; entries for
    variables the block does not hold are not used (the catalog names them all).
    """
    shards = shards or {}
    codecs = codecs or {}
    out: dict[str, dict[str, Any]] = {}
    for name, var in ds.data_vars.items():
        enc: dict[str, Any] = {}

        def shape(preset: Mapping[str, int], var: Any = var) -> tuple[int, ...]:
            return tuple(
                int(preset.get(d, size))
                if d == "time"
                else max(1, min(int(preset.get(d, size)), size))
                for d, size in zip(var.dims, var.shape, strict=True)
            )

        if any(d in chunks for d in var.dims):
            enc["chunks"] = shape(chunks)
        if shards and any(d in shards for d in var.dims):
            enc["shards"] = shape({**chunks, **shards})
        enc["compressors"] = codec_compressors(codecs.get(name, _DEFAULT_CODEC), var.dtype.itemsize)
        out[name] = enc
    return out


def _prepare(block: Any, chunks: Mapping[str, int]) -> Any:
    """Chunk a block as the store will write it (dask chunk = shard or chunk), labels as
    variable-length strings (Zarr v3 has no fixed-width string type)."""
    chunks = {d: min(c, block.sizes[d]) for d, c in chunks.items() if d in block.dims}
    block = block.chunk(chunks) if chunks else block
    labels = {n: c.astype(object) for n, c in block.coords.items() if c.dtype.kind == "U"}
    block = block.assign_coords(labels)
    for var in block.variables.values():
        var.encoding.pop("chunks", None)
        var.encoding.pop("shards", None)
        var.encoding.pop("preferred_chunks", None)
    return block


def _rebatch(blocks: Iterable[Any], time_dim: str, step: int | None) -> Iterable[Any]:
    """Blocks regrouped so that every one but the last holds a whole number of ``step``
    time steps (shard-aligned writes: no shard is written twice)."""
    if not step:
        yield from blocks
        return
    xr = require("xarray", feature="writing a cube")
    held: list[Any] = []
    count = 0
    for block in blocks:
        held.append(block)
        count += block.sizes[time_dim]
        if count >= step:
            whole = (count // step) * step
            joined = held[0] if len(held) == 1 else xr.concat(held, time_dim)
            yield joined.isel({time_dim: slice(0, whole)})
            rest = joined.isel({time_dim: slice(whole, None)})
            held, count = ([rest], rest.sizes[time_dim]) if rest.sizes[time_dim] else ([], 0)
    if held:
        yield held[0] if len(held) == 1 else xr.concat(held, time_dim)


def write_cube(blocks: Iterable[Any], spec: DatasetSpec) -> int:
    """Write a cube to its Zarr store, block after block along the time dim.

    The first block creates (or replaces) the store with the catalog's chunking, shards and
    per-variable codecs (recorded in each variable's ``codec_preset`` attribute); further
    blocks are regrouped into whole shards and appended along ``time``, so every shard is
    written once. Returns the number of time steps written.
    """
    require("zarr", feature=f"writing {spec.name}")
    time_dim = spec.time_column or "time"
    chunks = dict(spec.chunks or {})
    layout = {**chunks, **(spec.shards or {})}
    steps = 0
    for i, block in enumerate(_rebatch(blocks, time_dim, layout.get(time_dim))):
        block = _prepare(block, layout)
        if i == 0:
            encoding = cube_encoding(block, chunks, spec.shards, spec.codecs)
            block = _record_codecs(block, spec.codecs)
            block.to_zarr(spec.location, mode="w", consolidated=False, encoding=encoding)
        else:
            block.to_zarr(spec.location, append_dim=time_dim, consolidated=False)
        steps += block.sizes[time_dim]
    return steps


def _record_codecs(ds: Any, codecs: Mapping[str, str] | None) -> Any:
    ds = ds.copy()
    for name in ds.data_vars:
        ds[name].attrs[CODEC_ATTR] = (codecs or {}).get(name, _DEFAULT_CODEC)
    return ds


def create_cube(
    ds: Any,
    location: str,
    chunks: Mapping[str, int],
    shards: Mapping[str, int] | None = None,
    codecs: Mapping[str, str] | None = None,
) -> int:
    """Create a new Zarr v3 store from ``ds`` (refuses to replace an existing one)."""
    require("zarr", feature="creating a cube")
    ds = _prepare(ds, {**chunks, **(shards or {})})
    encoding = cube_encoding(ds, chunks, shards, codecs)
    ds = _record_codecs(ds, codecs)
    try:
        ds.to_zarr(location, mode="w-", consolidated=False, encoding=encoding)
    except FileExistsError as exc:  # pragma: no cover - a race with another writer
        raise DataAccessError(f"expected no store at {location}; found one") from exc
    return int(ds.sizes.get("time", 0))


# ---------------------------------------------------------------------- appending
def _time_arrays(group: Any, time_dim: str) -> dict[str, Any]:
    """Arrays of the store that have the time dim, with their position of it."""
    out = {}
    for name, arr in group.arrays():
        dims = list(arr.metadata.dimension_names or ())
        if time_dim in dims:
            out[name] = (arr, dims.index(time_dim))
    return out


def repair_cube(location: str, time_dim: str = "time") -> int:
    """Roll back an interrupted append: cut every array to the time coordinate's length.

    Returns the number of arrays that were cut (0 when the store was consistent).
    """
    zarr = require("zarr", feature="repairing a cube")
    group = zarr.open_group(location, mode="r+")
    arrays = _time_arrays(group, time_dim)
    if time_dim not in arrays:
        raise DataAccessError(f"expected a {time_dim!r} coordinate in {location}; found none")
    length = arrays[time_dim][0].shape[0]
    cut = 0
    for arr, axis in arrays.values():
        if arr.shape[axis] != length:
            shape = list(arr.shape)
            shape[axis] = length
            arr.resize(tuple(shape))
            cut += 1
    return cut


def _check_append(new: Any, old: Any, time_dim: str, where: str) -> None:
    """Refuse (CubeAppendError) a block that does not continue the store."""

    def refuse(what: str) -> None:
        raise CubeAppendError(f"appending to {where}: {what}; the store was left untouched")

    if time_dim not in new.dims or new.sizes[time_dim] == 0:
        refuse(f"expected a block with a non-empty {time_dim!r} dim; found dims {dict(new.sizes)}")
    if new[time_dim].dtype.kind != "M":
        refuse(f"expected {time_dim} as naive UTC datetime64; found {new[time_dim].dtype}")
    times = new.indexes[time_dim]
    if not times.is_monotonic_increasing or not times.is_unique:
        refuse(f"expected strictly increasing {time_dim} values in the block; found them unsorted")
    if old.sizes[time_dim]:
        last = old.indexes[time_dim][-1]
        if times[0] <= last:
            refuse(
                f"expected the block to start after the store's last {time_dim} {last}; "
                f"found it starting at {times[0]} (already stored times are not rewritten)"
            )
    if set(new.data_vars) != set(old.data_vars):
        refuse(
            f"expected the variables {sorted(old.data_vars)}; found {sorted(new.data_vars)} "
            "(select or add variables so both match)"
        )
    for dim in old.dims:
        if dim == time_dim:
            continue
        if dim not in new.dims:
            refuse(f"expected the dim {dim!r}; found dims {list(new.dims)}")
        a = [str(v) for v in old.indexes[dim]]
        b = [str(v) for v in new.indexes[dim]]
        if a != b:
            refuse(
                f"expected the same {dim} labels in the same order ({len(a)} of them, "
                f"{a[:3]}...); found {len(b)} ({b[:3]}...); reorder with "
                f"block.sel({dim}=store.{dim})"
            )
    for name, var in old.data_vars.items():
        nv = new[name]
        if nv.dims != var.dims:
            refuse(f"expected {name} with dims {var.dims}; found {nv.dims}")
        if nv.dtype != var.dtype:
            refuse(f"expected {name} as {var.dtype}; found {nv.dtype} (cast it first)")


def append_cube(ds: Any, spec: DatasetSpec | str, *, time_dim: str | None = None) -> int:
    """Append ``ds`` (new time steps) to an existing Zarr v3 store, safely.

    The block must start strictly after the store's last time, carry the same labels on the
    other dims (same order), the same data variables with the same dims and dtypes; otherwise
    :class:`CubeAppendError` is raised and nothing is written. Data variables are written
    first and the time coordinate last, chunk-aligned; a failure rolls every array back to its
    old length (see the module docstring for what concurrent readers see).

    Parameters
    ----------
    ds : xarray.Dataset
        The new block (numpy- or dask-backed), times as naive UTC ``datetime64[ns]``.
    spec : DatasetSpec or str
        The catalog entry of the cube, or a store path.
    time_dim : str, optional
        The dim to append along (the spec's time column, else ``"time"``).

    Returns
    -------
    int
        Time steps appended.
    """
    xr = require("xarray", feature="appending to a cube")
    zarr = require("zarr", feature="appending to a cube")
    import numpy as np

    location = spec if isinstance(spec, str) else spec.location
    time_dim = time_dim or (None if isinstance(spec, str) else spec.time_column) or "time"
    if "://" not in location and not Path(location).exists():
        raise CubeAppendError(
            f"expected an existing store at {location} to append to; found nothing "
            "(create it with write_cube first)"
        )
    repair_cube(location, time_dim)  # a previous append interrupted by a crash: roll it back
    old = xr.open_zarr(location, chunks=None, consolidated=False)
    labels = {n: c.astype(object) for n, c in ds.coords.items() if c.dtype.kind == "U"}
    ds = ds.assign_coords(labels)
    _check_append(ds, old, time_dim, location)
    group = zarr.open_group(location, mode="r+")
    arrays = _time_arrays(group, time_dim)
    extra = set(arrays) - set(old.data_vars) - {time_dim}
    if extra:
        raise CubeAppendError(
            f"appending to {location}: expected only data variables and {time_dim!r} along "
            f"{time_dim}; found also {sorted(extra)}; the store was left untouched"
        )
    # encode as the store does (CF time units, fill values), then check the on-disk dtypes
    encoded = {}
    for name in [*sorted(old.data_vars), time_dim]:
        var = ds[name].variable.copy(deep=False)
        var.encoding = {k: v for k, v in old[name].encoding.items() if k in _CF_KEYS}
        enc = xr.conventions.encode_cf_variable(var, name=name)
        arr, _ = arrays[name]
        if np.dtype(enc.dtype) != np.dtype(arr.dtype):
            raise CubeAppendError(
                f"appending to {location}: expected {name} to encode as {arr.dtype}; found "
                f"{enc.dtype}; the store was left untouched"
            )
        encoded[name] = enc
    n = ds.sizes[time_dim]
    old_len = old.sizes[time_dim]
    touched: list[tuple[Any, int, tuple[int, ...]]] = []
    try:
        for name, enc in encoded.items():  # time last: readers see the new length when done
            arr, axis = arrays[name]
            touched.append((arr, axis, arr.shape))
            shape = list(arr.shape)
            shape[axis] = old_len + n
            arr.resize(tuple(shape))
            step = (arr.shards or arr.chunks)[axis]  # whole shards: none rewritten twice
            a = 0
            while a < n:
                b = min(n, ((old_len + a) // step + 1) * step - old_len)  # chunk-aligned
                piece = enc[{time_dim: slice(a, b)}].values
                region = [slice(None)] * arr.ndim
                region[axis] = slice(old_len + a, old_len + b)
                arr[tuple(region)] = piece
                a = b
    except BaseException as exc:
        for arr, _axis, shape in touched:
            arr.resize(shape)
        if isinstance(exc, Exception):
            msg = f"appending to {location} failed and was rolled back: {exc}"
            raise DataAccessError(msg) from exc
        raise
    return int(n)


_CF_KEYS = ("units", "calendar", "dtype", "_FillValue", "scale_factor", "add_offset")


__all__ = [
    "CODEC_ATTR",
    "CODEC_PRESETS",
    "CubeAppendError",
    "append_cube",
    "codec_compressors",
    "create_cube",
    "cube_encoding",
    "label_positions",
    "open_cube",
    "read_cube",
    "repair_cube",
    "select_labels",
    "time_positions",
    "time_slice",
    "write_cube",
]
