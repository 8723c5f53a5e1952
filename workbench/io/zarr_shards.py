"""A direct reader of local Zarr v3 arrays: sharded (``sharding_indexed``) or plainly chunked.

zarr-python 3 spends 0.3-2 ms of CPU per inner chunk it reads (an asyncio task, a codec
pipeline and a buffer per chunk; ``benchmarks/cubes.py``, issue 22), which rules out the small
inner chunks a window of PMUs spread over the grid needs. :class:`ZarrArrayReader` reads the
same bytes without that machinery: for a selection it reads each touched shard's index once,
fetches only the needed inner chunks' byte ranges (adjacent ones in one ``pread``), decodes
them with numcodecs (Blosc and Zstd release the GIL) in a small thread pool and copies the
selected samples into the output. Its result equals zarr-python's read of the same selection bit
for bit (``tests/io/test_zarr_shards.py``).

Supported, following the Zarr v3 core spec and the sharding codec spec exactly:

- ``chunk_grid`` ``regular``; ``chunk_key_encoding`` ``default`` or ``v2`` (any separator);
- numeric ``data_type`` (bool, int/uint 8-64, float16/32/64), ``fill_value`` as a number,
  ``"NaN"``, ``"Infinity"``, ``"-Infinity"`` or a hex bit pattern;
- codecs ``[sharding_indexed]`` whose inner codecs are ``bytes`` then any of ``blosc`` /
  ``zstd`` / ``gzip``, index codecs ``bytes`` (+ ``crc32c``, verified), index at the ``end`` or
  ``start``; or the same inner chain directly (no shards: one file per chunk);
- a missing shard or chunk file, or an inner chunk absent from its shard index, reads as the
  fill value; chunks at the array's edge are stored whole (as Zarr writes them) and cut.

Anything else (``transpose``, nested sharding, other codecs, ``storage_transformers``, a store
that is not a local folder) raises :class:`UnsupportedLayoutError` when the reader is built:
never a guessed decode.
"""

from __future__ import annotations

import json
import math
import os
import struct
import threading
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from workbench.core.errors import DataAccessError

MAX_UINT_64 = 2**64 - 1
#: Inner chunks one pool job decodes at most (jobs of one shard each read its index).
CHUNKS_PER_JOB = 64
#: Byte gap [bytes] under which two wanted chunks of one shard are fetched in one read.
COALESCE_GAP = 64 * 1024
_DTYPES = {
    "bool": "?",
    "int8": "i1",
    "int16": "i2",
    "int32": "i4",
    "int64": "i8",
    "uint8": "u1",
    "uint16": "u2",
    "uint32": "u4",
    "uint64": "u8",
    "float16": "f2",
    "float32": "f4",
    "float64": "f8",
}


class UnsupportedLayoutError(DataAccessError):
    """A Zarr array whose layout or codecs the direct reader does not read."""


class CorruptShardError(DataAccessError):
    """A shard whose index fails its checksum or points outside the file."""


_POOL_LOCK = threading.Lock()
_POOL: ThreadPoolExecutor | None = None


def _pool() -> ThreadPoolExecutor:
    global _POOL
    with _POOL_LOCK:
        if _POOL is None:
            _POOL = ThreadPoolExecutor(
                max_workers=min(4, os.cpu_count() or 1), thread_name_prefix="zarr-shards"
            )
        return _POOL


def _unsupported(path: Path, what: str) -> UnsupportedLayoutError:
    return UnsupportedLayoutError(
        f"expected a Zarr v3 array the shard reader supports ({what}) at {path}; found "
        "otherwise: read it with zarr/xarray, or rewrite it with workbench.io.cubes.write_cube"
    )


def _decoder(codec: Mapping, path: Path) -> Callable[[bytes], Any]:
    name = codec.get("name")
    if name == "blosc":
        from numcodecs import blosc

        return blosc.decompress
    if name == "zstd":
        from numcodecs import Zstd

        return Zstd().decode
    if name == "gzip":
        from numcodecs import GZip

        return GZip().decode
    raise _unsupported(path, f"compressor blosc, zstd or gzip, not {name!r}")


def _fill_value(raw: Any, dtype: np.dtype, path: Path) -> Any:
    if isinstance(raw, str):
        if raw.startswith("0x"):
            bits = int(raw, 16).to_bytes(dtype.itemsize, "big")
            return np.frombuffer(bits, dtype=dtype.newbyteorder(">"))[0].astype(dtype)
        named = {"NaN": np.nan, "Infinity": np.inf, "-Infinity": -np.inf}
        if raw not in named:
            raise _unsupported(path, f"fill_value a number, not {raw!r}")
        return dtype.type(named[raw])
    if raw is None:
        raise _unsupported(path, "a fill_value")
    return dtype.type(raw)


@dataclass(frozen=True)
class _Layout:
    """What a read needs of an array's ``zarr.json``."""

    shape: tuple[int, ...]
    dtype: np.dtype  # as stored (endianness of the bytes codec)
    fill: Any
    shard: tuple[int, ...]  # the chunk grid's chunk (a shard when sharded)
    inner: tuple[int, ...]  # inner chunk (= shard when not sharded)
    sharded: bool
    decoders: tuple[Callable[[bytes], Any], ...]
    index_dtype: np.dtype
    index_crc: bool
    index_at_end: bool
    key_prefix: str
    key_separator: str

    @property
    def per_shard(self) -> tuple[int, ...]:
        return tuple(s // i for s, i in zip(self.shard, self.inner, strict=True))

    @property
    def index_nbytes(self) -> int:
        return 16 * math.prod(self.per_shard) + (4 if self.index_crc else 0)


def _bytes_dtype(codec: Mapping, base: np.dtype, path: Path) -> np.dtype:
    if codec.get("name") != "bytes":
        raise _unsupported(path, f"the bytes codec first, not {codec.get('name')!r}")
    endian = (codec.get("configuration") or {}).get("endian")
    if base.itemsize == 1:
        return base
    if endian not in ("little", "big"):
        raise _unsupported(path, f"bytes endian little or big, not {endian!r}")
    return base.newbyteorder("<" if endian == "little" else ">")


def _parse(path: Path, meta: Mapping) -> _Layout:
    if meta.get("zarr_format") != 3 or meta.get("node_type") != "array":
        raise _unsupported(path, "zarr_format 3, node_type array")
    if meta.get("storage_transformers"):
        raise _unsupported(path, "no storage_transformers")
    dtype_name = meta.get("data_type")
    if dtype_name not in _DTYPES:
        raise _unsupported(path, f"a numeric data_type, not {dtype_name!r}")
    base = np.dtype(_DTYPES[dtype_name])
    grid = meta.get("chunk_grid") or {}
    if grid.get("name") != "regular":
        raise _unsupported(path, "a regular chunk_grid")
    shard = tuple(int(n) for n in grid["configuration"]["chunk_shape"])
    keys = meta.get("chunk_key_encoding") or {"name": "default"}
    sep = (keys.get("configuration") or {}).get("separator")
    if keys.get("name") == "default":
        prefix, sep = "c", sep or "/"
    elif keys.get("name") == "v2":
        prefix, sep = "", sep or "."
    else:
        raise _unsupported(path, "chunk_key_encoding default or v2")
    codecs = list(meta.get("codecs") or [])
    index_dtype, index_crc, at_end = np.dtype("<u8"), False, True
    sharded = len(codecs) == 1 and codecs[0].get("name") == "sharding_indexed"
    if sharded:
        conf = codecs[0]["configuration"]
        inner = tuple(int(n) for n in conf["chunk_shape"])
        if len(inner) != len(shard) or any(s % i for s, i in zip(shard, inner, strict=True)):
            raise _unsupported(path, "inner chunks dividing the shard")
        codecs = list(conf.get("codecs") or [])
        index_codecs = list(conf.get("index_codecs") or [])
        if not index_codecs or [c.get("name") for c in index_codecs[1:]] not in ([], ["crc32c"]):
            raise _unsupported(path, "index codecs bytes (+ crc32c)")
        index_dtype = _bytes_dtype(index_codecs[0], np.dtype("u8"), path)
        index_crc = len(index_codecs) == 2
        location = conf.get("index_location", "end")
        if location not in ("end", "start"):
            raise _unsupported(path, "index_location end or start")
        at_end = location == "end"
    else:
        inner = shard
    if not codecs:
        raise _unsupported(path, "a bytes codec")
    dtype = _bytes_dtype(codecs[0], base, path)
    decoders = tuple(_decoder(c, path) for c in codecs[1:])
    return _Layout(
        shape=tuple(int(n) for n in meta["shape"]),
        dtype=dtype,
        fill=_fill_value(meta.get("fill_value"), base, path),
        shard=shard,
        inner=inner,
        sharded=sharded,
        decoders=decoders,
        index_dtype=index_dtype,
        index_crc=index_crc,
        index_at_end=at_end,
        key_prefix=prefix,
        key_separator=sep,
    )


def _dim_plan(sel: Any, size: int, inner: int) -> tuple[int, dict[int, tuple[Any, Any]]]:
    """Output length and, per inner chunk id, (output positions, positions in the chunk).

    Positions are slices where they run contiguously, else int arrays. ``sel``: a slice
    (any step) or a 1-D integer array (negative counts from the end, any order, repeats).
    """
    if isinstance(sel, slice):
        start, stop, step = sel.indices(size)
        if step == 1:
            stop = max(start, stop)
            plan = {}
            for c in range(start // inner, -(-stop // inner)):
                a, b = max(start, c * inner), min(stop, (c + 1) * inner)
                plan[c] = (slice(a - start, b - start), slice(a - c * inner, b - c * inner))
            return stop - start, plan
        idx = np.arange(start, stop, step, dtype=np.int64)
    else:
        idx = np.asarray(sel)
        if idx.dtype.kind not in "iu" or idx.ndim != 1:
            raise DataAccessError(
                f"expected slices or 1-D integer arrays to select with; found {idx.dtype} of "
                f"{idx.ndim} dims"
            )
        idx = np.where(idx < 0, idx + size, idx).astype(np.int64)
        if idx.size and (idx.min() < 0 or idx.max() >= size):
            raise IndexError(f"index out of bounds for a dim of size {size}")
    chunk = idx // inner
    order = np.argsort(chunk, kind="stable")  # output positions grouped by chunk, ascending
    ids, starts = np.unique(chunk[order], return_index=True)
    plan = {}
    for c, group in zip(ids.tolist(), np.split(order, starts[1:]), strict=True):
        plan[c] = (_as_slice(group), _as_slice(idx[group] - c * inner))
    return len(idx), plan


def _as_slice(pos: np.ndarray) -> Any:
    """``pos`` as a step-1 slice when it runs contiguously upwards (cheap copies), else as is."""
    first = int(pos[0])
    if pos.size == 1:
        return slice(first, first + 1)
    if int(pos[-1]) - first == pos.size - 1 and bool((np.diff(pos) == 1).all()):
        return slice(first, first + pos.size)
    return pos


def read_many(requests: Sequence[tuple[ZarrArrayReader, Sequence[Any]]]) -> list[np.ndarray]:
    """Several outer selections, of one or several arrays, read together in the thread pool.

    Parameters
    ----------
    requests : sequence of (ZarrArrayReader, selection)
        ``selection``: one slice or 1-D integer array per dim of that reader's array.

    Returns
    -------
    list of numpy.ndarray
        One array per request, in order.
    """
    outs, jobs = [], []
    for reader, selection in requests:
        out, more = reader._plan(selection)
        outs.append(out)
        jobs.extend(more)
    if len(jobs) == 1:
        _run(jobs[0])
    else:
        for future in [_pool().submit(_run, job) for job in jobs]:
            future.result()
    return outs


def _run(job: tuple[Any, ...]) -> None:
    reader, shard, chunks, out, place = job
    reader._read_shard(shard, chunks, out, place)


class ZarrArrayReader:
    """Read-only, numpy-like view of one local Zarr v3 array (outer indexing).

    ``reader[key]`` takes ints, slices and 1-D integer arrays per dim (each array selects along
    its own dim: outer/orthogonal indexing, the same as numpy's when at most one is an array)
    and returns a numpy array in native byte order. Safe to use from several threads.

    Parameters
    ----------
    path : str or Path
        The array's folder (holding its ``zarr.json``).
    """

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        if "://" in str(path):
            raise _unsupported(self.path, "a local folder")
        meta_path = self.path / "zarr.json"
        try:
            meta = json.loads(meta_path.read_text())
        except FileNotFoundError:
            raise DataAccessError(
                f"expected a Zarr v3 array at {self.path}; found no zarr.json"
            ) from None
        self._layout = _parse(self.path, meta)
        self.shape = self._layout.shape
        self.dtype = self._layout.dtype.newbyteorder("=")
        self.ndim = len(self.shape)
        self.attrs = dict(meta.get("attributes") or {})
        self.dimension_names = tuple(meta.get("dimension_names") or ())
        inner = self._layout.inner
        # one-column inner chunks (every dim but the first of length 1) are contiguous runs of
        # a Fortran-ordered output: a memcpy each instead of a strided copy (2x less CPU)
        self._order = "F" if self.ndim > 1 and all(n == 1 for n in inner[1:]) else "C"

    @property
    def inner_chunks(self) -> tuple[int, ...]:
        """Inner (stored) chunk shape: what is decompressed whole."""
        return self._layout.inner

    @property
    def shards(self) -> tuple[int, ...]:
        """Shard shape (the chunk shape when the array is not sharded)."""
        return self._layout.shard

    def __repr__(self) -> str:
        return f"ZarrArrayReader({str(self.path)!r}, shape={self.shape}, dtype={self.dtype})"

    def __len__(self) -> int:
        return self.shape[0]

    def __getitem__(self, key: Any) -> np.ndarray:
        key = key if isinstance(key, tuple) else (key,)
        if any(k is Ellipsis for k in key):
            at = key.index(Ellipsis)
            key = key[:at] + (slice(None),) * (self.ndim - len(key) + 1) + key[at + 1 :]
        if len(key) > self.ndim:
            raise IndexError(f"too many indices for an array of {self.ndim} dims")
        key = key + (slice(None),) * (self.ndim - len(key))
        drop = [d for d, k in enumerate(key) if isinstance(k, (int, np.integer))]
        sel = tuple(np.array([k]) if d in drop else k for d, k in enumerate(key))
        out = self.read(sel)
        return out.reshape(tuple(n for d, n in enumerate(out.shape) if d not in drop))

    def read(self, selection: Sequence[Any]) -> np.ndarray:
        """The outer selection ``selection`` (one slice or 1-D int array per dim) as an array."""
        return read_many([(self, selection)])[0]

    def _plan(self, selection: Sequence[Any]) -> tuple[np.ndarray, list[tuple[Any, ...]]]:
        """The output array (uninitialised) and the jobs that fill it: (reader, shard, chunks,
        out, placement), at most :data:`CHUNKS_PER_JOB` inner chunks each."""
        lay = self._layout
        if len(selection) != self.ndim:
            raise IndexError(f"expected {self.ndim} selections; found {len(selection)}")
        plans = [
            _dim_plan(s, n, i) for s, n, i in zip(selection, self.shape, lay.inner, strict=True)
        ]
        out = np.empty(tuple(n for n, _ in plans), dtype=self.dtype, order=self._order)
        if out.size == 0:
            return out, []
        shards: dict[tuple[int, ...], list[tuple[int, ...]]] = {}
        ids = [sorted(p) for _, p in plans]
        for coords in np.ndindex(*(len(i) for i in ids)):
            chunk = tuple(i[k] for i, k in zip(ids, coords, strict=True))
            shard = tuple(c * i // s for c, i, s in zip(chunk, lay.inner, lay.shard, strict=True))
            shards.setdefault(shard, []).append(chunk)
        place = [dict(p) for _, p in plans]
        jobs = [
            (self, shard, chunks[k : k + CHUNKS_PER_JOB], out, place)
            for shard, chunks in shards.items()
            for k in range(0, len(chunks), CHUNKS_PER_JOB)
        ]
        return out, jobs

    # -------------------------------------------------------------------- internals
    def _key(self, shard: tuple[int, ...]) -> Path:
        lay = self._layout
        parts = [str(c) for c in shard] or ["0"]
        name = lay.key_separator.join(parts)
        if lay.key_prefix:
            name = lay.key_prefix + lay.key_separator + name
        return self.path / name

    def _index(self, fd: int, size: int, file: Path) -> np.ndarray:
        lay = self._layout
        n = lay.index_nbytes
        if size < n:
            raise CorruptShardError(
                f"expected a shard of at least {n} bytes (its index) at {file}; found {size}"
            )
        raw = os.pread(fd, n, size - n if lay.index_at_end else 0)
        body = raw[: n - 4] if lay.index_crc else raw
        if lay.index_crc:
            import google_crc32c

            stored = struct.unpack("<I", raw[-4:])[0]
            if google_crc32c.value(body) != stored:
                raise CorruptShardError(
                    f"expected the shard index of {file} to match its crc32c; found a mismatch "
                    "(the shard is damaged: rewrite that part of the cube)"
                )
        index = np.frombuffer(body, dtype=lay.index_dtype).reshape((*lay.per_shard, 2))
        return index.astype(np.uint64, copy=False)

    def _read_shard(
        self,
        shard: tuple[int, ...],
        chunks: list[tuple[int, ...]],
        out: np.ndarray,
        place: list[dict[int, tuple[Any, Any]]],
    ) -> None:
        lay = self._layout
        file = self._key(shard)
        try:
            fd = os.open(file, os.O_RDONLY)
        except FileNotFoundError:
            for chunk in chunks:
                self._put(None, chunk, out, place)
            return
        try:
            size = os.fstat(fd).st_size
            if not lay.sharded:
                self._put(os.pread(fd, size, 0), chunks[0], out, place)
                return
            index = self._index(fd, size, file)
            ranges = []
            for chunk in chunks:
                local = tuple(
                    c - s * (sh // i)
                    for c, s, sh, i in zip(chunk, shard, lay.shard, lay.inner, strict=True)
                )
                start, length = (int(v) for v in index[local])
                if start == MAX_UINT_64 and length == MAX_UINT_64:
                    self._put(None, chunk, out, place)
                    continue
                if start + length > size:
                    raise CorruptShardError(
                        f"expected inner chunks inside {file} ({size} bytes); found one at "
                        f"{start}+{length} (the shard is damaged: rewrite that part of the cube)"
                    )
                ranges.append((start, length, chunk))
            ranges.sort()
            k = 0
            while k < len(ranges):  # coalesce near neighbours into one read
                j = k
                end = ranges[k][0] + ranges[k][1]
                while j + 1 < len(ranges) and ranges[j + 1][0] - end <= COALESCE_GAP:
                    j += 1
                    end = max(end, ranges[j][0] + ranges[j][1])
                base = ranges[k][0]
                buf = memoryview(os.pread(fd, end - base, base))
                for start, length, chunk in ranges[k : j + 1]:
                    self._put(buf[start - base : start - base + length], chunk, out, place)
                k = j + 1
        finally:
            os.close(fd)

    def _put(
        self,
        data: Any,
        chunk: tuple[int, ...],
        out: np.ndarray,
        place: list[dict[int, tuple[Any, Any]]],
    ) -> None:
        lay = self._layout
        picks = [p[c] for p, c in zip(place, chunk, strict=True)]
        dst = tuple(o for o, _ in picks)
        if data is None:
            block = None
        else:
            for decode in reversed(lay.decoders):
                data = decode(data)
            block = np.frombuffer(data, dtype=lay.dtype)
            if block.size != math.prod(lay.inner):
                raise CorruptShardError(
                    f"expected {math.prod(lay.inner)} values in an inner chunk of {self.path}; "
                    f"found {block.size}"
                )
            block = block.reshape(lay.inner)
        if any(not isinstance(o, slice) for pick in picks for o in pick):
            dst = np.ix_(*(_as_index(o) for o in dst))
            src = np.ix_(*(_as_index(s) for _, s in picks))
        else:
            src = tuple(s for _, s in picks)
        if block is None:
            out[dst] = lay.fill
        else:
            out[dst] = block[src]


def _as_index(sel: Any) -> np.ndarray:
    return np.arange(sel.start, sel.stop) if isinstance(sel, slice) else sel


__all__ = [
    "CorruptShardError",
    "UnsupportedLayoutError",
    "ZarrArrayReader",
    "read_many",
]
