"""xarray on top of :mod:`workbench.io.zarr_shards`: cubes whose variables the shard reader reads.

:func:`attach_readers` (called by :func:`workbench.io.cubes.open_cube` on a local store) backs
every data variable it can serve with the direct shard reader, one dask chunk per shard, and
records the readers in ``ds.encoding[READER_KEY]`` with their dask names. A selection on a cube
still backed by those very dask arrays (same names: not computed on, not rechunked) is then
read without dask and without zarr-python: :func:`load_selection` (``read_cube``,
``cat.read``) and :func:`window_view` (``ds.grid.window``) read only the inner chunks the
selection touches.

The rule for a variable the reader does not serve (explicit, and only where the values are
identical): it stays on xarray's zarr-python backend and its ``encoding["reader"]`` says
``"zarr-python"`` and why. The reader serves a variable when :class:`ZarrArrayReader` supports
its layout (else :class:`UnsupportedLayoutError`) and xarray decodes it to itself: same dtype,
no ``scale_factor``/``add_offset``/time units, and a ``_FillValue`` that is absent or NaN (xarray
leaves NaNs as they are stored, payload included, so the results are equal bit for bit).
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from workbench.io.zarr_shards import UnsupportedLayoutError, ZarrArrayReader, read_many

#: ``Dataset.encoding`` key of ``{variable: (dask name, reader)}``.
READER_KEY = "workbench_shard_readers"
_CF_TRANSFORMS = ("scale_factor", "add_offset", "units", "calendar")


def _served(var: Any) -> str | None:
    """Why xarray's decoding would differ from the raw array (None: it would not)."""
    enc = var.encoding
    if np.dtype(enc.get("dtype", var.dtype)) != var.dtype:
        return f"decoded from {enc.get('dtype')} to {var.dtype}"
    present = [k for k in _CF_TRANSFORMS if k in enc]
    if present:
        return f"CF decoding ({', '.join(present)})"
    fill = enc.get("_FillValue")
    if fill is not None and not (var.dtype.kind == "f" and np.isnan(fill)):
        return f"a _FillValue of {fill!r} masked to NaN"
    return None


def attach_readers(ds: Any, location: str, preset: Mapping[str, int] | None = None) -> Any:
    """``ds`` (opened by xarray from the local store ``location``) with the data variables the
    shard reader serves backed by it; see the module docstring.

    Their dask chunks are the shards (the chunks when the array is not sharded), or the
    ``preset`` [steps per dim] along a dim where it is a whole multiple of them.
    """
    from dask.base import tokenize

    readers: dict[str, tuple[str, ZarrArrayReader]] = {}
    out = ds.copy()
    for name, var in ds.data_vars.items():
        why = _served(var)
        reader = None
        if why is None:
            try:
                reader = ZarrArrayReader(Path(location) / str(name))
            except UnsupportedLayoutError as exc:
                why = str(exc)
        if reader is None or reader.shape != var.shape:
            why = why or f"shape {reader.shape} differs from {var.shape}"
            out[name].encoding["reader"] = f"zarr-python: {why}"
            continue
        meta = Path(location) / str(name) / "zarr.json"
        key = tokenize(str(meta), os.stat(meta).st_mtime_ns, reader.shape)
        chunks = tuple(
            min(_multiple((preset or {}).get(str(dim)), s), n) or 1
            for dim, s, n in zip(var.dims, reader.shards, reader.shape, strict=True)
        )
        data = _dask_view(_WindowArray(reader, 0, slice(None)), chunks, f"zarr-shards-{name}-{key}")
        encoding = {**var.encoding, "reader": "shards"}
        out[name] = var.copy(data=data)
        out[name].encoding = encoding
        readers[str(name)] = (data.name, reader)
    if readers:
        out.encoding = {**ds.encoding, READER_KEY: readers}
    return out


def _multiple(size: int | None, base: int) -> int:
    return int(size) if size and int(size) % base == 0 else base


def store_readers(ds: Any) -> dict[str, ZarrArrayReader]:
    """``{variable: reader}`` for the variables of ``ds`` still backed by the shard reader's
    own dask arrays (whole: same dask name, so same shape and values)."""
    found = {}
    for name, (dask_name, reader) in ds.encoding.get(READER_KEY, {}).items():
        var = ds.data_vars.get(name)
        if var is not None and getattr(var.data, "name", None) == dask_name:
            found[name] = reader
    return found


def load_selection(
    ds: Any, picks: Mapping[str, Any], variables: Sequence[str] | None = None
) -> Any:
    """``ds.isel(picks)[variables].load()``, the shard reader reading what it serves.

    ``picks``: ``{dim: slice or integer positions}``. The served variables' windows are read
    together in the reader's thread pool; any other variable is loaded by xarray.
    """
    import xarray as xr

    readers = store_readers(ds)
    names = list(ds.data_vars) if variables is None else list(variables)
    fast = [n for n in names if n in readers]
    sub = ds[names].drop_vars(fast)  # no dask graphs built for what is read directly
    sub = sub.isel(dict(picks)) if picks else sub
    requests = []
    for name in fast:
        selection = tuple(_selector(picks.get(d, slice(None))) for d in ds[name].dims)
        requests.append((readers[name], selection))
    arrays = dict(zip(fast, read_many(requests), strict=True))
    for name in fast:
        var = ds[name].variable
        sub[name] = xr.Variable(var.dims, arrays[name], var.attrs, var.encoding)
    return sub[names].load()


def _selector(pick: Any) -> Any:
    if isinstance(pick, slice):
        return pick
    if np.ndim(pick) == 0:
        raise ValueError("expected a slice or 1-D positions per dim; found a scalar")
    return np.asarray(pick, dtype=np.int64)


def window_view(ds: Any, dim: str, window: slice) -> Any | None:
    """``ds.isel({dim: window})`` with the served variables re-backed by dask arrays that read
    only the window (one chunk per shard and window piece), or None when ``ds`` has no served
    variable. Lazy: nothing is read until computed."""
    from dask.base import tokenize

    readers = store_readers(ds)
    if not readers:
        return None
    out = ds.isel({dim: window})
    for name, reader in readers.items():
        var = ds[name]
        axis = var.dims.index(dim)
        view = _WindowArray(reader, axis, window)
        chunks = tuple(min(s, n) or 1 for s, n in zip(reader.shards, view.shape, strict=True))
        data = _dask_view(
            view, chunks, f"zarr-window-{name}-{tokenize(var.data.name, axis, window)}"
        )
        out[name] = out[name].copy(data=data)
    return out


def _dask_view(view: _WindowArray, chunks: tuple[int, ...], name: str) -> Any:
    """A dask array over ``view`` whose tasks call the shard reader (no copy, no fancy indexing)."""
    import dask.array as da

    return da.from_array(
        view,
        chunks=chunks,
        name=name,
        asarray=False,
        fancy=False,
        inline_array=True,
        meta=np.empty((0,) * view.reader.ndim, dtype=view.reader.dtype),
    )


class _WindowArray:
    """A slice of a reader along one axis, numpy-like for dask's ``from_array``."""

    def __init__(self, reader: ZarrArrayReader, axis: int, window: slice) -> None:
        start, stop, _ = window.indices(reader.shape[axis])
        self.reader, self.axis, self.start = reader, axis, start
        shape = list(reader.shape)
        shape[axis] = max(0, stop - start)
        self.shape, self.dtype, self.ndim = tuple(shape), reader.dtype, reader.ndim

    def __getitem__(self, key: tuple[slice, ...]) -> np.ndarray:
        key = list(key)
        s = key[self.axis]
        lo, hi, _ = s.indices(self.shape[self.axis])
        key[self.axis] = slice(self.start + lo, self.start + hi)
        return self.reader.read(tuple(key))


__all__ = ["READER_KEY", "attach_readers", "load_selection", "store_readers", "window_view"]
