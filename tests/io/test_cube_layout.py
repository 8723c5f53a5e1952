"""PMU cube layout (issue 22): Zarr v3 shards, per-variable codecs, sharded appends and reads."""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pytest

from workbench.core.errors import DataAccessError

VARS = ["frequency_hz", "rocof_hz_per_s", "voltage_magnitude_pu", "voltage_angle_deg", "quality"]
CHUNKS = {"time": 500, "pmu": 4}
SHARDS = {"time": 2000, "pmu": 12}


@pytest.fixture
def ci_pmu(ci_catalog):
    return ci_catalog.scan("bronze.pmu").load()


@pytest.fixture
def sharded(ci_catalog, ci_pmu, tmp_path):
    """A private sharded store of the ci cube (inner 500 x 4 in shards of 2000 x 12), 4,500
    steps written in blocks that do not follow the shards (1,500 + 3,000)."""
    from workbench.io.cubes import write_cube

    spec = ci_catalog.entry("bronze.pmu").model_copy(
        update={"location": str(tmp_path / "pmu.zarr"), "chunks": CHUNKS, "shards": SHARDS}
    )
    head = ci_pmu.isel(time=slice(0, 4500))
    assert write_cube([head.isel(time=slice(0, 1500)), head.isel(time=slice(1500, None))], spec)
    return spec


def _digest(path: Path) -> dict[str, str]:
    return {
        str(p.relative_to(path)): hashlib.sha1(p.read_bytes()).hexdigest()
        for p in sorted(path.rglob("*"))
        if p.is_file()
    }


def test_the_catalog_layout_is_sharded_with_a_codec_per_variable(ci_catalog):
    from workbench.io.cubes import CODEC_PRESETS

    spec = ci_catalog.entry("bronze.pmu")
    assert spec.shards is not None
    for dim, size in spec.shards.items():
        assert size % spec.chunks[dim] == 0
    assert set(spec.codecs) == set(VARS)
    assert set(spec.codecs.values()) <= set(CODEC_PRESETS)


def test_sharded_store_reads_back_identical_values(ci_pmu, sharded):
    import zarr

    from workbench.io.cubes import open_cube

    arr = zarr.open_array(str(Path(sharded.location) / "frequency_hz"), mode="r")
    assert arr.shards == (2000, 12)
    assert arr.chunks == (500, 4)
    assert len(list((Path(sharded.location) / "frequency_hz" / "c").rglob("*"))) > 1
    back = open_cube(sharded)
    # read by the shard reader, one dask chunk per shard
    assert back["frequency_hz"].data.chunks == ((2000, 2000, 500), (12,))
    assert {back[name].encoding["reader"] for name in VARS} == {"shards"}
    back = back.load()
    want = ci_pmu.isel(time=slice(0, 4500))
    np.testing.assert_array_equal(back.indexes["time"], want.indexes["time"])
    assert list(back.indexes["pmu"]) == list(want.indexes["pmu"])
    for name in VARS:
        assert back[name].dtype == want[name].dtype
        np.testing.assert_array_equal(back[name].values, want[name].values)  # NaN == NaN


def test_codec_choice_is_recorded_per_variable(sharded):
    import zarr
    from zarr.codecs import BloscCodec, ZstdCodec

    from workbench.io.cubes import open_cube

    ds = open_cube(sharded)
    for name in VARS:
        preset = sharded.codecs[name]
        assert ds[name].attrs["codec_preset"] == preset
        (compressor,) = zarr.open_array(str(Path(sharded.location) / name), mode="r").compressors
        if preset == "zstd":
            assert isinstance(compressor, ZstdCodec)
        else:
            _, cname, shuffle = preset.split("-")
            assert isinstance(compressor, BloscCodec)
            assert (compressor.cname.value, compressor.shuffle.value) == (cname, shuffle)


def test_unknown_codec_presets_are_refused(ci_catalog, ci_pmu, tmp_path):
    from workbench.io.cubes import write_cube

    spec = ci_catalog.entry("bronze.pmu").model_copy(
        update={
            "location": str(tmp_path / "bad.zarr"),
            "codecs": {"frequency_hz": "gzip-9"},
        }
    )
    with pytest.raises(DataAccessError, match="expected a codec preset among"):
        write_cube([ci_pmu.isel(time=slice(0, 100))], spec)


def test_append_across_shard_boundaries_rewrites_only_the_open_shard(ci_pmu, sharded):
    from workbench.io.cubes import append_cube, open_cube

    location = Path(sharded.location)
    before = _digest(location)
    step = ci_pmu.indexes["time"][1] - ci_pmu.indexes["time"][0]
    last = open_cube(sharded).indexes["time"][-1]
    block = ci_pmu.isel(time=slice(6000, 8700)).load()  # 2,700 steps: 4500 -> 7200
    block = block.assign_coords(time=[last + step * k for k in range(1, 2701)])
    assert append_cube(block.chunk({"time": 700}), sharded) == 2700
    after = _digest(location)
    for name in VARS[:4]:  # (quality's all-good shards are all fill values: not written)
        # shards 0 and 1 (steps 0-3999) are whole and untouched; shard 2 was open: rewritten
        assert after[f"{name}/c/0/0"] == before[f"{name}/c/0/0"]
        assert after[f"{name}/c/1/0"] == before[f"{name}/c/1/0"]
        assert f"{name}/c/3/0" in after
        assert f"{name}/c/3/0" not in before
    back = open_cube(sharded).load()
    assert back.sizes["time"] == 7200
    for name in VARS:
        np.testing.assert_array_equal(back[name].values[:4500], ci_pmu[name].values[:4500])
        np.testing.assert_array_equal(back[name].values[4500:], block[name].values)


def test_window_reads_of_contiguous_and_spread_pmus(ci_pmu, sharded):
    from workbench.io.cubes import open_cube, read_cube

    t = open_cube(sharded).indexes["time"]
    lo, hi = t[1234].tz_localize("UTC"), t[3456].tz_localize("UTC")
    for pmus in (["PMU_0002", "PMU_0003", "PMU_0004"], ["PMU_0001", "PMU_0005", "PMU_0012"]):
        got = read_cube(open_cube(sharded), sharded, lo, hi, None, {"pmu": pmus})
        want = ci_pmu.isel(time=slice(1234, 3456)).sel(pmu=pmus)
        for name in VARS:
            np.testing.assert_array_equal(got[name].values, want[name].values)


def test_shards_must_hold_whole_chunks():
    from workbench.catalog.schema import DatasetSpec

    base = {
        "name": "bronze.cube_x",
        "description": "x",
        "kind": "cube",
        "layer": "bronze",
        "location": "/tmp/x.zarr",
        "owner": "o",
        "columns": {"time": {"type": "timestamp"}, "v": {"type": "float32"}},
        "key": ["time"],
        "time_column": "time",
        "resolution": "1s",
        "availability_lag": "0s",
        "format": "zarr",
        "dims": ["time"],
        "chunks": {"time": 100},
    }
    assert DatasetSpec(**base, shards={"time": 1000}).shards == {"time": 1000}
    with pytest.raises(ValueError, match="whole multiples of chunks"):
        DatasetSpec(**base, shards={"time": 150})
    with pytest.raises(ValueError, match="codecs name"):
        DatasetSpec(**base, codecs={"volts": "zstd"})
