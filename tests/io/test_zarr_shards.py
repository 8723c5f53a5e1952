"""The direct Zarr v3 shard reader (issue 22) against zarr-python and xarray, bit for bit."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import xarray as xr

from workbench.io.zarr_shards import (
    CorruptShardError,
    UnsupportedLayoutError,
    ZarrArrayReader,
    read_many,
)

# (time 70, pmu 13) in shards of 30 x 10 holding inner chunks of 10 x 1: partial shards and
# partial inner chunks at both edges; the last 6 steps never written (missing chunks/shards)
SHAPE, SHARDS, INNER = (70, 13), (30, 10), (10, 1)


def _same(a: np.ndarray, b: np.ndarray) -> bool:
    a, b = np.ascontiguousarray(a), np.ascontiguousarray(b)
    return a.dtype == b.dtype and a.shape == b.shape and a.tobytes() == b.tobytes()


def _data(dtype: str, rng: np.random.Generator) -> np.ndarray:
    if np.dtype(dtype).kind == "f":
        data = (60 + rng.normal(0, 0.02, SHAPE)).astype(dtype)
        data[rng.random(SHAPE) < 0.05] = np.nan
        return data
    return rng.integers(0, 3, SHAPE).astype(dtype)


@pytest.fixture(scope="module")
def stores(tmp_path_factory):
    """One array per codec preset (float32, and int8 for plain zstd), sharded and not."""
    import zarr

    from workbench.io.cubes import CODEC_PRESETS, codec_compressors

    root = tmp_path_factory.mktemp("shards")
    rng = np.random.default_rng(7)
    out = []
    for preset in CODEC_PRESETS:
        for dtype in ("float32", "int8") if preset == "zstd" else ("float32",):
            for shards in (SHARDS, None):
                path = root / f"{preset}-{dtype}-{'s' if shards else 'c'}"
                arr = zarr.create_array(
                    str(path), shape=SHAPE, dtype=dtype, chunks=INNER if shards else (10, 4),
                    shards=shards, fill_value=np.nan if dtype == "float32" else 0,
                    compressors=codec_compressors(preset, np.dtype(dtype).itemsize),
                )  # fmt: skip
                arr[:64] = _data(dtype, rng)[:64]
                out.append(path)
    return out


SELECTIONS = {
    "contiguous": (slice(5, 47), np.arange(2, 9)),
    "spread": (slice(5, 47), np.array([0, 4, 8, 12])),
    "straddling shards, all": (slice(25, 35), slice(None)),
    "edge and unwritten": (slice(55, 70), np.array([12, 3, 3, 0])),
    "strided": (slice(1, 69, 7), slice(None, None, 2)),
    "empty": (slice(10, 10), np.array([1])),
}


@pytest.mark.parametrize("name", list(SELECTIONS))
def test_reader_equals_zarr_bit_for_bit(stores, name):
    import zarr

    key = SELECTIONS[name]
    for path in stores:
        want = zarr.open_array(str(path), mode="r").oindex[key]
        got = ZarrArrayReader(path).read(key)
        assert _same(got, want), (path.name, name)


def test_numpy_style_indexing_and_read_many(stores):
    import zarr

    path = stores[0]
    reader, ref = ZarrArrayReader(path), zarr.open_array(str(path), mode="r")[:]
    assert _same(reader[3], ref[3])
    assert _same(reader[-5:, 7], ref[-5:, 7])
    assert _same(reader[..., [1, 11]], ref[..., [1, 11]])
    a, b = read_many([(reader, (slice(0, 30), slice(None))), (reader, (slice(40, 41), [2]))])
    assert _same(a, ref[0:30])
    assert _same(b, ref[40:41, [2]])
    with pytest.raises(IndexError):
        reader[:, [13]]


def test_damaged_shard_index_is_refused(stores, tmp_path):
    import shutil

    path = tmp_path / "copy"
    shutil.copytree(stores[0], path)
    shard = path / "c" / "0" / "0"
    raw = bytearray(shard.read_bytes())
    raw[-10] ^= 0xFF  # inside the index, before its crc32c
    shard.write_bytes(bytes(raw))
    with pytest.raises(CorruptShardError, match="crc32c"):
        ZarrArrayReader(path)[0:5, 0:2]


def test_unsupported_layouts_are_refused(tmp_path):
    import zarr
    from zarr.codecs import BytesCodec, TransposeCodec

    path = tmp_path / "t"
    zarr.create_array(
        str(path), shape=(4, 4), dtype="float32", chunks=(2, 2),
        serializer=BytesCodec(), filters=[TransposeCodec(order=(1, 0))],
    )  # fmt: skip
    with pytest.raises(UnsupportedLayoutError, match="bytes codec first"):
        ZarrArrayReader(path)
    meta = json.loads((path / "zarr.json").read_text())
    meta["codecs"] = [{"name": "bytes", "configuration": {"endian": "little"}}, {"name": "lzma"}]
    (path / "zarr.json").write_text(json.dumps(meta))
    with pytest.raises(UnsupportedLayoutError, match="not 'lzma'"):
        ZarrArrayReader(path)


# ----------------------------------------------------------------- through open_cube / read_cube
_CUBES: dict[str, object] = {}


@pytest.fixture
def cube(ci_catalog, tmp_path_factory):
    """The ci PMU cube with the catalog's codecs in a scaled-down catalog layout: one-PMU inner
    chunks of 1,000 steps in shards of 2,000 x 8 (12 PMUs: a partial PMU shard), 4,500 steps
    (a partial time shard), written in blocks that do not follow the shards (once a session)."""
    from workbench.io.cubes import write_cube

    if "spec" not in _CUBES:
        head = ci_catalog.scan("bronze.pmu").isel(time=slice(0, 4500)).load()
        spec = ci_catalog.entry("bronze.pmu").model_copy(
            update={
                "location": str(tmp_path_factory.mktemp("cube") / "pmu.zarr"),
                "chunks": {"time": 1000, "pmu": 1},
                "shards": {"time": 2000, "pmu": 8},
            }
        )
        write_cube([head.isel(time=slice(0, 1700)), head.isel(time=slice(1700, None))], spec)
        _CUBES["spec"] = spec
    return _CUBES["spec"]


def test_read_cube_windows_equal_xarray_bit_for_bit(cube):
    from workbench.io.cubes import open_cube, read_cube

    ds = open_cube(cube)
    assert {v.encoding["reader"] for v in ds.data_vars.values()} == {"shards"}
    ref = xr.open_zarr(cube.location, consolidated=False)
    t = ds.indexes["time"]
    windows = {
        "straddling a time shard": (1234, 3456, ["PMU_0002", "PMU_0003", "PMU_0004"]),
        "spread, partial pmu shard": (1999, 2001, ["PMU_0012", "PMU_0001", "PMU_0009"]),
        "to the partial last shard": (3999, 4500, ["PMU_0008", "PMU_0009"]),
    }
    for name, (i0, i1, pmus) in windows.items():
        hi = None if i1 == len(t) else t[i1].tz_localize("UTC")
        got = read_cube(ds, cube, t[i0].tz_localize("UTC"), hi, None, {"pmu": pmus})
        want = ref.isel(time=slice(i0, i1)).sel(pmu=pmus).load()
        assert got.identical(want), name
        for var in want.data_vars:
            assert _same(got[var].values, want[var].values), (name, var)


def test_grid_window_reads_the_same_lazily(cube):
    from workbench.io.cubes import open_cube

    ds = open_cube(cube)
    ref = xr.open_zarr(cube.location, consolidated=False)
    t = ds.indexes["time"]
    w = ds.grid.window(t[1500], t[2600] + pd.Timedelta("1ns"))
    assert type(w["frequency_hz"].data).__module__.startswith("dask")
    assert w["frequency_hz"].data.chunks == ((1101,), (8, 4))
    want = ref.isel(time=slice(1500, 2601)).load()
    got = w.load()
    assert got.identical(want)
    assert _same(got["voltage_angle_deg"].values, want["voltage_angle_deg"].values)


def test_a_changed_cube_is_not_read_from_the_store(cube):
    """Computed-on or rechunked variables are no longer the store's: xarray reads them."""
    from workbench.io.cubes import open_cube, read_cube

    ds = open_cube(cube)
    t = ds.indexes["time"]
    lo, hi = t[10].tz_localize("UTC"), t[20].tz_localize("UTC")
    plain = read_cube(ds, cube, lo, hi, ["frequency_hz"], {"pmu": ["PMU_0001"]})
    shifted = ds.assign(frequency_hz=ds["frequency_hz"] + 1.0)
    got = read_cube(shifted, cube, lo, hi, ["frequency_hz"], {"pmu": ["PMU_0001"]})
    np.testing.assert_array_equal(got["frequency_hz"].values, plain["frequency_hz"].values + 1.0)
    rechunked = ds.chunk({"time": 500})
    again = read_cube(rechunked, cube, lo, hi, None, {"pmu": ["PMU_0001"]})
    assert again.identical(read_cube(ds, cube, lo, hi, None, {"pmu": ["PMU_0001"]}))
    w = shifted.grid.window(t[10], t[20])
    np.testing.assert_array_equal(
        w["frequency_hz"].sel(pmu="PMU_0001").values, plain["frequency_hz"].values[:, 0] + 1.0
    )


def test_whole_cube_dask_reads_equal_zarr(cube):
    from workbench.io.cubes import open_cube

    ds = open_cube(cube)
    ref = xr.open_zarr(cube.location, consolidated=False).load()
    assert ds["rocof_hz_per_s"].data.chunks == ((2000, 2000, 500), (8, 4))
    assert ds.load().identical(ref)
    assert Path(cube.location, "quality", "zarr.json").exists()


def test_nan_payloads_read_as_xarray_and_zarr_read_them(cube, tmp_path):
    """A NaN with another payload (written by some other tool) reads as xarray and zarr read
    it: its bytes kept (xarray does not mask a NaN _FillValue)."""
    import shutil

    import zarr

    from workbench.io.cubes import open_cube, read_cube

    location = tmp_path / "pmu.zarr"
    shutil.copytree(cube.location, location)
    odd = np.frombuffer(b"\x01\x00\xc0\x7f", dtype="<f4")[0]
    zarr.open_array(str(location / "frequency_hz"), mode="r+")[5, 2] = odd
    spec = cube.model_copy(update={"location": str(location)})
    t = open_cube(spec).indexes["time"]
    lo, hi = t[0].tz_localize("UTC"), t[10].tz_localize("UTC")
    got = read_cube(open_cube(spec), spec, lo, hi, ["frequency_hz"], {"pmu": ["PMU_0003"]})
    want = xr.open_zarr(str(location), consolidated=False)["frequency_hz"][0:10, [2]].values
    assert _same(got["frequency_hz"].values, want)
    raw = ZarrArrayReader(location / "frequency_hz")[0:10, [2]]
    assert _same(raw, zarr.open_array(str(location / "frequency_hz"), mode="r")[0:10, [2]])
    assert raw[5, 0].tobytes() == odd.tobytes() == want[5, 0].tobytes()


@pytest.mark.parametrize("codecs", ["gzip", "zstd-checksum", "none", "gzip+zstd"])
def test_other_compressor_chains_read_as_zarr(tmp_path, codecs):
    import zarr
    from zarr.codecs import GzipCodec, ZstdCodec

    chain = {
        "gzip": [GzipCodec(level=5)],
        "zstd-checksum": [ZstdCodec(level=3, checksum=True)],
        "none": [],
        "gzip+zstd": [GzipCodec(), ZstdCodec()],
    }[codecs]
    path = tmp_path / "a"
    arr = zarr.create_array(
        str(path), shape=(50, 6), dtype="f8", chunks=(10, 1), shards=(20, 6), compressors=chain
    )
    arr[:] = np.random.default_rng(1).normal(size=(50, 6))
    key = (slice(3, 47), np.array([5, 0]))
    assert _same(ZarrArrayReader(path).read(key), zarr.open_array(str(path), mode="r").oindex[key])
