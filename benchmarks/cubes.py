"""Cube benchmarks: a 10-minute, 100-PMU window of a 1,000-PMU hour; satellite site extraction.

Run: ``.venv/bin/python benchmarks/cubes.py`` (``--rebuild`` regenerates the cached stores;
``--codecs`` prints only the codec table; ``--day-hours N`` writes N hours of a 1,000-PMU day
and reads the same windows from it; ``--skip-satellite``).

(0) Codecs (issue 22): one simulated minute of 1,000 PMUs at 60 fps, each variable encoded with
    every preset of :data:`workbench.io.cubes.CODEC_PRESETS` in the catalog's inner chunks and
    shards (in memory): bytes per sample next to raw, encode and decode M samples/s; ``*``
    marks the catalog's choice.

(a) The ``large`` profile's PMU cube (1,000 PMUs, 60 fps, 1 hour: 216M samples per variable,
    about 3.7 GB before compression) is simulated with :func:`workbench.sim.pmu.iter_pmu_blocks`
    10 minutes at a time and written with the catalog's layout into ``$WORKBENCH_BENCH_DIR``
    (default ``/tmp/gridmind-bench``), and copied into the previous layout (:data:`PREVIOUS`);
    later runs reuse both. Read three ways in the same run: the catalog layout and the previous
    one through ``open_cube`` (the shard reader), and the previous one as main read it before
    (xarray's zarr-python backend). Each figure is the median of several reads of windows that
    start at different offsets, each straddling two 10-minute time shards (an ``aligned`` row
    reads one): opening the store and reading the window (all five variables, loaded), and the
    read alone on an opened cube. Goal: < 200 ms. ``--day-hours N`` also writes N hours in both
    layouts (timed against real time) and reads the same windows from the catalog's.
(b) 96 frames of 256 x 256 pixels from the satellite simulator (the ``large`` profile's size)
    and 40 plants: cloud index per frame, and the per-frame extraction (nearest pixel and a
    25-km buffered mean for every plant).
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

RUNS = 5


def bench_dir() -> Path:
    return Path(os.environ.get("WORKBENCH_BENCH_DIR", "/tmp/gridmind-bench"))


#: Layouts compared with the catalog's (issue 22): ``previous`` = main before the shard reader
#: (inner 10 min x 100 PMUs in shards of 10 min x 500, the same codecs).
PREVIOUS = {"chunks": {"time": 36000, "pmu": 100}, "shards": {"time": 36000, "pmu": 500}}


def pmu_spec(location: Path, layout: str = "catalog"):
    """The catalog's PMU entry at ``location`` with the ``catalog`` or ``previous`` layout."""
    from workbench import open_catalog

    update: dict = {"location": str(location)}
    if layout == "previous":
        update |= PREVIOUS
    return open_catalog().entry("bronze.pmu").model_copy(update=update)


def open_zarr_python(spec):
    """The cube as main opened it before the shard reader: xarray's zarr-python backend, dask
    chunks = inner chunks (read_cube then loads through dask and zarr-python)."""
    import xarray as xr

    import workbench.io.grid_accessor  # noqa: F401

    return xr.open_zarr(spec.location, chunks={}, consolidated=False)


def _sample_minute():
    from workbench.sim.pmu import iter_pmu_blocks

    ids = [f"PMU_{i:04d}" for i in range(1, 1001)]
    start = pd.Timestamp("2024-07-01", tz="UTC")
    block, _ = next(iter_pmu_blocks(ids, 60, start, 1, 2, np.random.default_rng(42), 1))
    return block


def bench_codecs() -> None:
    """Bytes per sample per variable for every codec preset (catalog inner chunks and shards)."""
    import zarr

    from workbench.io.cubes import CODEC_PRESETS, codec_compressors

    spec = pmu_spec(bench_dir() / "unused.zarr")
    block = _sample_minute()
    inner = tuple(spec.chunks[d] for d in ("time", "pmu"))
    shard = tuple((spec.shards or spec.chunks)[d] for d in ("time", "pmu"))
    print(
        f"codecs: 1 minute x 1,000 PMUs at 60 fps ({block.sizes['time'] * 1000 / 1e6:.1f}M "
        f"samples a variable), inner chunks {inner}, shards {shard}; * = the catalog's choice"
    )
    print(f"{'variable':<22}{'preset':<24}{'B/sample':>9}{'raw':>5}{'enc M/s':>9}{'dec M/s':>9}")
    for name in block.data_vars:
        data = block[name].values
        for preset in CODEC_PRESETS:
            store = zarr.storage.MemoryStore()
            t0 = time.perf_counter()
            arr = zarr.create_array(
                store, shape=data.shape, dtype=data.dtype, chunks=inner, shards=shard,
                compressors=codec_compressors(preset, data.dtype.itemsize),
            )  # fmt: skip
            arr[:] = data
            enc = time.perf_counter() - t0
            t0 = time.perf_counter()
            back = arr[:]
            dec = time.perf_counter() - t0
            assert np.array_equal(back, data, equal_nan=True), (name, preset)
            nbytes = arr.nbytes_stored()
            mark = "*" if (spec.codecs or {}).get(name) == preset else " "
            print(
                f"{name:<22}{mark}{preset:<23}{nbytes / data.size:>9.3f}{data.itemsize:>5}"
                f"{data.size / enc / 1e6:>9.1f}{data.size / dec / 1e6:>9.1f}",
                flush=True,
            )


def _hour_blocks(hours: float = 1.0):
    """10-minute blocks of the large profile's PMUs (1,000 at 60 fps) for ``hours`` hours."""
    from workbench.sim.pmu import iter_pmu_blocks
    from workbench.sim.profiles import get_profile

    p = get_profile("large")
    ids = [f"PMU_{i:04d}" for i in range(1, p.pmu_count + 1)]
    start = pd.Timestamp(p.start, tz="UTC")
    sim = iter_pmu_blocks(
        ids, p.pmu_rate_hz, start, round(60 * hours), p.pmu_events, np.random.default_rng(42),
        block_minutes=10,
    )  # fmt: skip
    return (block for block, _ in sim)


def build_pmu_store(
    location: Path, rebuild: bool = False, layout: str = "catalog", source: Path | None = None
) -> float:
    """Write the large profile's PMU hour (skipped when cached): simulated, or copied block by
    block from the store at ``source``; seconds taken."""
    from workbench.io.cubes import open_cube, write_cube

    done = location.with_suffix(".complete")
    if done.exists() and not rebuild:
        return 0.0
    shutil.rmtree(location, ignore_errors=True)
    t0 = time.perf_counter()
    if source is None:
        blocks = _hour_blocks()
    else:
        hour = open_cube(pmu_spec(source))
        steps = range(0, hour.sizes["time"], 36000)
        blocks = (hour.isel(time=slice(k, k + 36000)).load() for k in steps)
    write_cube(blocks, pmu_spec(location, layout))
    done.touch()
    return time.perf_counter() - t0


def _median_ms(samples: list[float]) -> float:
    return 1000 * statistics.median(samples)


def _bytes_per_sample(location: Path, ds) -> str:
    import zarr

    group = zarr.open_group(str(location), mode="r")
    parts = []
    for name in ds.data_vars:
        arr = group[name]
        raw = arr.dtype.itemsize
        parts.append(f"{name} {arr.nbytes_stored() / np.prod(arr.shape):.2f} (raw {raw})")
    return ", ".join(parts)


def bench_pmu(layouts: dict[str, Path], hours: float = 1.0) -> None:
    """Contiguous and spread 10-minute windows, open + read (wall) and read (wall, CPU).

    ``layouts``: ``{label: store}``; a label ending in ``zarr-python`` opens the store as main
    did before the shard reader (:func:`open_zarr_python`), ``previous`` in the label selects
    that layout's spec. Windows start at unaligned offsets (each straddles two 10-minute time
    shards) except the ``aligned`` row (one shard).
    """
    from workbench.io.cubes import open_cube, read_cube

    cases = {
        "100 contiguous PMUs (PMU_0101-0200)": [f"PMU_{i:04d}" for i in range(101, 201)],
        "100 PMUs spread (every 10th)": [f"PMU_{i:04d}" for i in range(5, 1001, 10)],
    }
    span = 60 * hours - 11
    offsets = [span * f for f in (0.12, 0.2, 0.4, 0.52, 0.65, 0.74, 0.83)][:RUNS]
    print(
        f"{'layout':<27}{'10-min window':<38}{'open+read ms':>13}{'read ms':>9}"
        f"{'read CPU ms':>12}{'MB loaded':>10}"
    )
    for layout, location in layouts.items():
        spec = pmu_spec(location, "previous" if "previous" in layout else "catalog")
        opener = open_zarr_python if layout.endswith("zarr-python") else open_cube
        ds = opener(spec)
        start = ds.indexes["time"][0]
        size_mb = sum(f.stat().st_size for f in location.rglob("*") if f.is_file()) / 1e6
        files = sum(1 for f in location.rglob("*") if f.is_file())
        print(
            f"{layout}: {dict(ds.sizes)}, stored chunks {spec.chunks}, shards {spec.shards}, "
            f"dask chunks {ds['frequency_hz'].data.chunksize}, reader "
            f"{ds['frequency_hz'].encoding.get('reader', 'zarr-python')}; {size_mb:,.0f} MB in "
            f"{files:,} files; bytes/sample: {_bytes_per_sample(location, ds)}"
        )
        rows = [(label, pmus, offsets) for label, pmus in cases.items()]
        rows.append(("100 spread, aligned (one time shard)", cases[list(cases)[1]], [10.0, 30.0]))
        for label, pmus, starts in rows:
            cold, warm, cpu = [], [], []
            for minutes in starts:
                lo = (start + pd.Timedelta(minutes=minutes)).tz_localize("UTC").to_pydatetime()
                hi = lo + pd.Timedelta(minutes=10)
                t0 = time.perf_counter()
                out = read_cube(opener(spec), spec, lo, hi, None, {"pmu": pmus})
                cold.append(time.perf_counter() - t0)
                t0, c0 = time.perf_counter(), time.process_time()
                out = read_cube(ds, spec, lo, hi, None, {"pmu": pmus})
                warm.append(time.perf_counter() - t0)
                cpu.append(time.process_time() - c0)
            assert out.sizes["time"] == 36000
            assert out.sizes["pmu"] == 100
            print(
                f"{layout:<27}{label:<38}{_median_ms(cold):>13.0f}{_median_ms(warm):>9.0f}"
                f"{_median_ms(cpu):>12.0f}{out.nbytes / 1e6:>10.1f}",
                flush=True,
            )


def bench_day(hours: float) -> None:
    """Write ``hours`` of the 1,000-PMU day (catalog layout), time it against real time and
    extrapolate the whole day; then the same windows on it. The store is deleted after."""
    from workbench.io.cubes import write_cube

    location = bench_dir() / "pmu_day.zarr"
    shutil.rmtree(location, ignore_errors=True)
    # benchmark-only generator: the simulated hour (read back from the cached store, outside
    # the timing) re-stamped for every later hour, so the write (not the simulator) is timed
    from workbench.io.cubes import open_cube

    hour = open_cube(pmu_spec(bench_dir() / "pmu_large.zarr"))
    blocks = [
        hour.isel(time=slice(k, k + 36000)).load() for k in range(0, hour.sizes["time"], 36000)
    ]
    n_first = len(blocks)

    def stream():
        for k in range(round(hours * 6)):
            block = blocks[k % n_first]
            yield block.assign_coords(time=block.indexes["time"] + pd.Timedelta(hours=k // n_first))

    for layout in ("previous", "catalog"):  # the catalog's store stays for the windows
        shutil.rmtree(location, ignore_errors=True)
        t0, c0 = time.perf_counter(), time.process_time()
        steps = write_cube(stream(), pmu_spec(location, layout))
        took, cpu = time.perf_counter() - t0, time.process_time() - c0
        seconds = steps / 60.0
        size = sum(f.stat().st_size for f in location.rglob("*") if f.is_file())
        print(
            f"day fraction, {layout} layout: {hours:g} h of 1,000 PMUs at 60 fps "
            f"({steps * 1000 / 1e9:.2f}G samples x 5 variables) written in {took:.0f} s (CPU "
            f"{cpu:.0f} s) = {seconds / took:.1f}x real time on the wall clock, "
            f"{seconds / cpu:.1f}x per CPU-second (goal > 20x); {size / 1e9:.2f} GB"
        )
        print(
            f"  extrapolated linearly to 24 h (not measured: shards are written once, "
            f"independently): {24 * 3600 / (seconds / took) / 60:.0f} min of writing, "
            f"{size / 1e9 * 24 / hours:.0f} GB",
            flush=True,
        )
    bench_pmu({"catalog, shard reader": location}, hours=hours)
    shutil.rmtree(location, ignore_errors=True)


def bench_satellite() -> None:
    from workbench.features.satellite import SiteSampler, cloud_index
    from workbench.sim.satellite import iter_satellite_frames, satellite_grid

    regions = pd.DataFrame(
        {
            "region_id": ["NORTH", "HOUSTON", "SOUTH", "WEST", "COAST"],
            "latitude": [32.78, 29.76, 29.90, 31.40, 28.35],
            "longitude": [-96.95, -95.37, -98.05, -103.50, -97.75],
            "area_sq_km": [102_000.0, 23_000.0, 95_000.0, 190_000.0, 48_000.0],
        }
    )
    start = pd.Timestamp("2024-07-01", tz="UTC")
    hours = pd.date_range(start - pd.Timedelta("2h"), periods=30, freq="h")
    weather = pd.DataFrame(
        [
            {"timestamp": t, "location_id": r, "cloud_cover_pct": 20 + 60 * ((i + k) % 5) / 4}
            for k, r in enumerate(regions["region_id"])
            for i, t in enumerate(hours)
        ]
    )
    size = 256
    t0 = time.perf_counter()
    frames = list(iter_satellite_frames(regions, weather, start, 1, size, np.random.default_rng(3)))
    sim_s = time.perf_counter() - t0
    from workbench.io.satellite import FrameGrid as Grid
    from workbench.io.satellite import frames_dataset, lonlat_to_crs

    crs, transform, _, _ = satellite_grid(regions, size)
    from rasterio.crs import CRS

    grid = Grid(CRS.from_user_input(crs).to_wkt(), transform, (size, size))
    cube = frames_dataset([t.to_pydatetime() for t, _ in frames], [a for _, a in frames], grid)
    rng = np.random.default_rng(7)
    n_sites = 40
    lon = rng.uniform(-103.0, -95.5, n_sites)
    lat = rng.uniform(28.5, 33.0, n_sites)
    x, y = lonlat_to_crs(lon, lat, grid.crs_wkt)
    sites = pd.DataFrame({"asset_id": [f"SOLAR_{i:02d}" for i in range(n_sites)], "x": x, "y": y})
    t0 = time.perf_counter()
    index = cloud_index(cube)
    ci_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    sampler = SiteSampler.from_grid(cube["x"].values, cube["y"].values, sites, radius_km=25.0)
    setup_s = time.perf_counter() - t0
    values = index.values
    per_frame = []
    for k in range(values.shape[0]):
        t0 = time.perf_counter()
        sampler.sample(values[k : k + 1])
        per_frame.append(time.perf_counter() - t0)
    t0 = time.perf_counter()
    sampler.sample(values)
    batch_s = time.perf_counter() - t0
    n = values.shape[0]
    print(
        f"satellite: {n} frames of {size}x{size} (simulated in {sim_s:.1f} s), {n_sites} plants, "
        f"{int(sampler.buffer_pixels.mean())} pixels per 25-km buffer on average"
    )
    print(f"  cloud index (whole cube, percentiles)  {1000 * ci_s / n:8.2f} ms per frame")
    print(f"  site lookup setup (once)               {1000 * setup_s:8.2f} ms")
    print(
        f"  extraction, point + buffered mean      {_median_ms(per_frame):8.2f} ms per frame "
        f"(one frame at a time, median); {1000 * batch_s / n:.2f} ms per frame in one batch"
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rebuild", action="store_true", help="regenerate the cached stores")
    parser.add_argument("--codecs", action="store_true", help="print only the codec table")
    parser.add_argument(
        "--day-hours", type=float, help="write N hours of a 1,000-PMU day and read its windows"
    )
    parser.add_argument("--skip-satellite", action="store_true")
    args = parser.parse_args(sys.argv[1:] if argv is None else argv)
    bench_codecs()
    if args.codecs:
        return
    bench_dir().mkdir(parents=True, exist_ok=True)
    catalog, previous = bench_dir() / "pmu_large.zarr", bench_dir() / "pmu_large_prev.zarr"
    built = build_pmu_store(catalog, args.rebuild)
    if built:
        print(f"simulated and wrote the PMU hour (catalog layout) in {built:.0f} s")
    built = build_pmu_store(previous, args.rebuild, "previous", source=catalog)
    if built:
        print(f"copied the PMU hour into the previous layout in {built:.0f} s")
    layouts = {
        "catalog, shard reader": catalog,
        "previous, shard reader": previous,
        "previous, zarr-python": previous,
    }
    bench_pmu(layouts)
    if args.day_hours:
        bench_day(args.day_hours)  # after the hour store exists
    if not args.skip_satellite:
        bench_satellite()


if __name__ == "__main__":
    main()
