"""PMU cube on Zarr v3: lazy chunked scan, window/label reads, safe appends, ds.grid."""

from __future__ import annotations

import hashlib
import shutil
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from workbench.core.errors import DataAccessError, MissingColumnsError

PMU_VARS = ["frequency_hz", "rocof_hz_per_s", "voltage_magnitude_pu", "voltage_angle_deg"]


def _spec(cat, location: Path, chunks: dict[str, int], shards: dict[str, int] | None = None):
    update = {"location": str(location), "chunks": chunks, "shards": shards}
    return cat.entry("bronze.pmu").model_copy(update=update)


def _store_digest(path: Path) -> dict[str, str]:
    return {
        str(p.relative_to(path)): hashlib.sha1(p.read_bytes()).hexdigest()
        for p in sorted(path.rglob("*"))
        if p.is_file()
    }


@pytest.fixture
def ci_pmu(ci_catalog):
    """The ci PMU cube, loaded (12 PMUs, 30 fps, 10 minutes)."""
    return ci_catalog.scan("bronze.pmu").load()


@pytest.fixture
def small_store(ci_catalog, ci_pmu, tmp_path):
    """A private store of the ci cube with small chunks (time 1000, pmu 4), 2,500 steps long."""
    from workbench.io.cubes import write_cube

    spec = _spec(ci_catalog, tmp_path / "pmu.zarr", {"time": 1000, "pmu": 4})
    head = ci_pmu.isel(time=slice(0, 2500))
    write_cube([head.isel(time=slice(0, 1500)), head.isel(time=slice(1500, 2500))], spec)
    return spec


def test_scan_is_lazy_dask_with_the_catalog_preset(ci_catalog, small_store):
    ds = ci_catalog.scan("bronze.pmu")
    assert dict(ds.sizes) == {"time": 18000, "pmu": 12}
    for name in [*PMU_VARS, "quality"]:
        assert type(ds[name].data).__module__.startswith("dask"), name
    assert str(ds["frequency_hz"].dtype) == "float32"
    assert str(ds["quality"].dtype) == "int8"

    from workbench.io.cubes import open_cube

    stored = open_cube(small_store)  # preset == stored chunks
    assert stored["frequency_hz"].data.chunks == ((1000, 1000, 500), (4, 4, 4))
    coarser = open_cube(small_store.model_copy(update={"chunks": {"time": 2000, "pmu": 8}}))
    assert coarser["frequency_hz"].data.chunks == ((2000, 500), (8, 4))  # multiples: applied
    odd = open_cube(small_store.model_copy(update={"chunks": {"time": 1500, "pmu": 8}}))
    assert odd["frequency_hz"].data.chunks[0] == (1000, 1000, 500)  # would split chunks: kept


def test_preset_dask_chunk_size_is_within_10_to_100_mb(ci_catalog):
    chunks = ci_catalog.entry("bronze.pmu").shards  # the shard reader's dask chunk: a shard
    mb = chunks["time"] * chunks["pmu"] * 4 / 1e6  # float32 variables
    assert 10 <= mb <= 100


def test_read_window_and_pmus_matches_a_mask_on_the_loaded_cube(ci_catalog, ci_pmu):
    t = ci_pmu.indexes["time"]
    start, end = t[1233], t[5679]  # whole-microsecond stamps (every third frame at 30 fps)
    pmus = ["PMU_0011", "PMU_0002", "PMU_0005"]
    got = ci_catalog.read(
        "bronze.pmu",
        start=start.tz_localize("UTC"),
        end=end.tz_localize("UTC"),
        where={"pmu": pmus},
        columns=["frequency_hz", "quality"],
    )
    mask = (t >= start) & (t < end)
    want = ci_pmu[["frequency_hz", "quality"]].isel(time=np.flatnonzero(mask)).sel(pmu=pmus)
    assert got.sizes["time"] == 5679 - 1233  # half-open: the end stamp is excluded
    assert [str(p) for p in got["pmu"].values] == pmus
    np.testing.assert_array_equal(got["frequency_hz"].values, want["frequency_hz"].values)
    np.testing.assert_array_equal(got["quality"].values, want["quality"].values)
    assert not type(got["frequency_hz"].data).__module__.startswith("dask")  # read loads


def test_window_selection_touches_only_the_chunks_it_needs(small_store):
    from workbench.io.cubes import open_cube, select_labels, time_slice

    ds = open_cube(small_store)
    t = ds.indexes["time"]
    window = time_slice(ds, "time", t[1100], t[1900])
    window = select_labels(window, {"pmu": ["PMU_0005", "PMU_0006"]}, "pmu")
    data = window["frequency_hz"].data
    assert data.numblocks == (1, 1)  # one stored chunk of 12 along time x pmu
    assert window.sizes == {"time": 800, "pmu": 2}
    empty = time_slice(ds, "time", t[-1].to_pydatetime() + pd.Timedelta("1s"), None)
    assert empty.sizes["time"] == 0


def test_bad_selections_are_refused_with_the_known_labels(ci_catalog):
    with pytest.raises(DataAccessError, match=r"unknown \['PMU_9999'\]"):
        ci_catalog.read("bronze.pmu", where={"pmu": ["PMU_0001", "PMU_9999"]})
    with pytest.raises(MissingColumnsError, match="station"):
        ci_catalog.read("bronze.pmu", where={"station": "A"})
    with pytest.raises(MissingColumnsError, match="volts"):
        ci_catalog.read("bronze.pmu", columns=["volts"])


# ---------------------------------------------------------------------- appends
def _next_block(ds, n: int, after) -> object:
    """``n`` steps of ``ds`` re-stamped to follow ``after`` at the cube's rate."""
    block = ds.isel(time=slice(0, n)).load()
    step = ds.indexes["time"][1] - ds.indexes["time"][0]
    stamps = pd.DatetimeIndex([after + step * k for k in range(1, n + 1)])
    return block.assign_coords(time=stamps.values)


def test_append_continues_the_store_chunk_aligned(ci_catalog, ci_pmu, small_store):
    from workbench.io.cubes import append_cube, open_cube

    before = open_cube(small_store).load()
    block = _next_block(ci_pmu.isel(time=slice(5000, None)), 1700, before.indexes["time"][-1])
    block = block.chunk({"time": 600})  # dask-backed, chunks unrelated to the store's
    assert append_cube(block, small_store) == 1700
    after = open_cube(small_store).load()
    assert after.sizes["time"] == 2500 + 1700
    assert after.indexes["time"].is_monotonic_increasing
    assert after.indexes["time"].is_unique
    for name in [*PMU_VARS, "quality"]:
        np.testing.assert_array_equal(after[name].values[:2500], before[name].values)
        np.testing.assert_array_equal(after[name].values[2500:], block[name].values)
    np.testing.assert_array_equal(after["time"].values[2500:], block["time"].values)
    # and again, through the catalog: a store written by the sim, appended, re-read
    assert append_cube(_next_block(ci_pmu, 300, after.indexes["time"][-1]), small_store) == 300
    assert open_cube(small_store).sizes["time"] == 4500


@pytest.mark.parametrize(
    ("spoil", "message"),
    [
        (
            lambda b, last: b.assign_coords(time=b.indexes["time"] - pd.Timedelta("1s")),
            "start after",
        ),
        (lambda b, last: b.isel(pmu=slice(None, None, -1)), "same pmu labels"),
        (lambda b, last: b.isel(pmu=slice(0, 11)), "same pmu labels"),
        (lambda b, last: b.drop_vars("quality"), "expected the variables"),
        (lambda b, last: b.assign(frequency_hz=b.frequency_hz.astype("float64")), "as float32"),
        (lambda b, last: b.isel(time=slice(None, None, -1)), "strictly increasing"),
    ],
    ids=["overlap", "reordered", "missing-pmu", "missing-var", "dtype", "unsorted"],
)
def test_refused_appends_leave_the_store_untouched(ci_pmu, small_store, spoil, message):
    from workbench.io.cubes import CubeAppendError, append_cube, open_cube

    last = open_cube(small_store).indexes["time"][-1]
    block = spoil(_next_block(ci_pmu, 100, last), last)
    digest = _store_digest(Path(small_store.location))
    with pytest.raises(CubeAppendError, match=message):
        append_cube(block, small_store)
    assert _store_digest(Path(small_store.location)) == digest


def test_a_failing_append_is_rolled_back(ci_pmu, small_store):
    import dask.array as da

    from workbench.io.cubes import append_cube, open_cube

    last = open_cube(small_store).indexes["time"][-1]
    block = _next_block(ci_pmu, 1200, last)

    def explode(x, block_info=None):
        if block_info[0]["chunk-location"][0] == 1:
            raise OSError("disk full (simulated)")
        return x

    source = da.from_array(block["rocof_hz_per_s"].values, chunks=(600, 12))
    bad = da.map_blocks(explode, source, dtype=source.dtype)
    block = block.assign(rocof_hz_per_s=(("time", "pmu"), bad))
    with pytest.raises(DataAccessError, match=r"rolled back.*disk full"):
        append_cube(block, small_store)
    ds = open_cube(small_store)
    assert ds.sizes["time"] == 2500
    np.testing.assert_array_equal(ds["frequency_hz"].values, ci_pmu["frequency_hz"].values[:2500])


def test_an_interrupted_append_is_reported_then_repaired(ci_pmu, small_store):
    import zarr

    from workbench.io.cubes import append_cube, open_cube, repair_cube

    arr = zarr.open_group(small_store.location, mode="r+")["frequency_hz"]
    arr.resize((2600, 12))  # a crash after resizing one data variable
    with pytest.raises(DataAccessError, match="append is in progress"):
        open_cube(small_store)
    assert repair_cube(small_store.location) == 1
    assert open_cube(small_store).sizes["time"] == 2500
    arr.resize((2700, 12))  # append_cube rolls an interrupted append back before writing
    last = ci_pmu.indexes["time"][2499]
    assert append_cube(_next_block(ci_pmu, 10, last), small_store) == 10
    assert open_cube(small_store).sizes["time"] == 2510


def test_appending_to_a_missing_store_is_refused(ci_catalog, ci_pmu, tmp_path):
    from workbench.io.cubes import CubeAppendError, append_cube

    with pytest.raises(CubeAppendError, match="write_cube first"):
        append_cube(ci_pmu.isel(time=slice(0, 5)), str(tmp_path / "none.zarr"))


# ---------------------------------------------------------------------- the grid accessor
def test_accessor_is_registered_and_lazy(ci_catalog):
    ds = ci_catalog.scan("bronze.pmu")
    assert ds.grid.sample_rate_hz == 30.0
    assert ds.grid.nominal_hz == 60.0
    for lazy in (
        ds.grid.frequency_deviation(),
        ds.grid.rocof(),
        ds.grid.excursions(),
        ds.grid.good()["frequency_hz"],
        ds.grid.resample_stats("1s")["frequency_hz_mean"],
    ):
        assert type(lazy.data).__module__.startswith("dask")


def test_frequency_deviation_excursions_and_good(ci_catalog, ci_pmu):
    ds = ci_catalog.scan("bronze.pmu")
    freq = ci_pmu["frequency_hz"].values
    dev = ds.grid.frequency_deviation(nominal_hz=60.0).values
    np.testing.assert_allclose(dev, freq - 60.0, atol=1e-6, equal_nan=True)
    exc = ds.grid.excursions(band_hz=0.02).values
    np.testing.assert_array_equal(exc, np.abs(freq - 60.0) > 0.02)
    assert 0 < exc.sum() < exc.size
    good = ds.grid.good()
    quality = ci_pmu["quality"].values
    assert (quality == 1).any()  # the ci cube has bad-quality bursts
    masked = good["frequency_hz"].values
    assert np.isnan(masked[quality != 0]).all()
    np.testing.assert_array_equal(masked[quality == 0], freq[quality == 0])
    np.testing.assert_array_equal(good["quality"].values, quality)


def test_rocof_on_a_ramp_and_against_the_measured_rocof(ci_catalog, ci_pmu):
    import xarray as xr

    import workbench.io.grid_accessor  # noqa: F401

    n, rate = 300, 60.0
    times = pd.date_range("2024-07-01", periods=n, freq=pd.Timedelta(seconds=1 / rate))
    ramp = 60.0 - 0.25 * np.arange(n) / rate  # -0.25 Hz/s
    ds = xr.Dataset(
        {"frequency_hz": (("time", "pmu"), ramp[:, None])}, coords={"time": times, "pmu": ["A"]}
    )
    rocof = ds.grid.rocof("100ms")
    assert rocof.attrs["window_samples"] == 6
    assert np.isnan(rocof.values[0, 0])
    np.testing.assert_allclose(rocof.values[1:, 0], -0.25, atol=1e-9)
    # on the sim's cube the derived ROCOF follows the PMU's own (smoothed differently); sample by
    # sample both are mostly measurement noise, so compare their 1-s means
    derived = ci_catalog.scan("bronze.pmu").grid.rocof("100ms").values
    measured = ci_pmu["rocof_hz_per_s"].values
    d, m = (pd.DataFrame(x).rolling(30, min_periods=20).mean().values for x in (derived, measured))
    ok = np.isfinite(d) & np.isfinite(m)
    assert np.corrcoef(d[ok], m[ok])[0, 1] > 0.9


@pytest.mark.parametrize("offset", [0, 7])
def test_resample_stats_match_pandas(ci_catalog, ci_pmu, offset):
    ds = ci_catalog.scan("bronze.pmu").isel(time=slice(offset, None))
    stats = ds.grid.resample_stats("1s", stats=("mean", "min", "max", "std", "count")).load()
    series = ci_pmu["frequency_hz"].isel(time=slice(offset, None), pmu=3).to_series()
    ref = series.resample("1s", closed="left", label="left")
    want = {
        "mean": ref.mean(),
        "min": ref.min(),
        "max": ref.max(),
        "std": ref.std(ddof=0),
        "count": ref.count(),
    }
    np.testing.assert_array_equal(stats["time"].values, want["mean"].index.values)
    for stat, values in want.items():
        got = stats[f"frequency_hz_{stat}"].isel(pmu=3).values
        # float32 means near 60 Hz: a few ulps (3.8e-6 each) from pandas' float64 sums
        np.testing.assert_allclose(got, values.to_numpy(float), atol=3e-5, equal_nan=True)


def test_window_is_half_open_and_parses_utc(ci_catalog):
    ds = ci_catalog.scan("bronze.pmu")
    t = ds.indexes["time"]
    w = ds.grid.window(f"{t[30].isoformat()}Z", t[90].tz_localize("UTC"))
    assert w.sizes["time"] == 60
    assert w.indexes["time"][0] == t[30]
    assert w.indexes["time"][-1] == t[89]


def test_accessor_name_clash_warns_the_xarray_way():
    import xarray as xr

    from workbench.io.grid_accessor import GridAccessor

    with pytest.warns(xr.core.extensions.AccessorRegistrationWarning, match="grid"):
        xr.register_dataset_accessor("grid")(GridAccessor)  # re-registering: same class, warned
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert xr.Dataset().grid is not None


def test_writes_do_not_touch_the_shared_lakehouse(ci_lakehouse, small_store):
    assert not Path(small_store.location).is_relative_to(ci_lakehouse)
    assert shutil.disk_usage(small_store.location).free > 0
