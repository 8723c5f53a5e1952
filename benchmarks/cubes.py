"""Cube benchmarks: a 10-minute, 100-PMU window of a 1,000-PMU hour; satellite site extraction.

Run: ``.venv/bin/python benchmarks/cubes.py`` (``--rebuild`` regenerates the cached store).

(a) The ``large`` profile's PMU cube (1,000 PMUs, 60 fps, 1 hour: 216M samples per variable,
    about 3.7 GB before compression) is simulated with :func:`workbench.sim.pmu.iter_pmu_blocks`
    10 minutes at a time and written with the catalog's chunk preset into
    ``$WORKBENCH_BENCH_DIR`` (default ``/tmp/gridmind-bench``), where later runs reuse it. Each
    figure is the median of several reads of windows that start at different, chunk-unaligned
    offsets: opening the store and reading the window (all five variables, loaded), and the read
    alone on an opened cube. Goal: < 200 ms.
(b) 96 frames of 256 x 256 pixels from the satellite simulator (the ``large`` profile's size)
    and 40 plants: cloud index per frame, and the per-frame extraction (nearest pixel and a
    25-km buffered mean for every plant).
"""

from __future__ import annotations

import os
import shutil
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

RUNS = 7


def bench_dir() -> Path:
    return Path(os.environ.get("WORKBENCH_BENCH_DIR", "/tmp/gridmind-bench"))


def pmu_spec(location: Path):
    from workbench import open_catalog

    return open_catalog().entry("bronze.pmu").model_copy(update={"location": str(location)})


def build_pmu_store(location: Path, rebuild: bool = False) -> float:
    """Simulate and write the large profile's PMU hour (skipped when cached); seconds taken."""
    from workbench.io.cubes import write_cube
    from workbench.sim.pmu import iter_pmu_blocks
    from workbench.sim.profiles import get_profile

    done = location.with_suffix(".complete")
    if done.exists() and not rebuild:
        return 0.0
    shutil.rmtree(location, ignore_errors=True)
    p = get_profile("large")
    ids = [f"PMU_{i:04d}" for i in range(1, p.pmu_count + 1)]
    t0 = time.perf_counter()
    blocks = iter_pmu_blocks(
        ids,
        p.pmu_rate_hz,
        pd.Timestamp(p.start, tz="UTC"),
        p.pmu_minutes,
        p.pmu_events,
        np.random.default_rng(42),
        block_minutes=10,
    )
    write_cube((block for block, _ in blocks), pmu_spec(location))
    done.touch()
    return time.perf_counter() - t0


def _median_ms(samples: list[float]) -> float:
    return 1000 * statistics.median(samples)


def bench_pmu(location: Path) -> None:
    from workbench.io.cubes import open_cube, read_cube

    spec = pmu_spec(location)
    ds = open_cube(spec)
    start = ds.indexes["time"][0]
    size_mb = sum(f.stat().st_size for f in location.rglob("*") if f.is_file()) / 1e6
    chunk = ds["frequency_hz"].data.chunksize
    print(
        f"PMU store: {dict(ds.sizes)}, dask chunks {chunk} "
        f"({chunk[0] * chunk[1] * 4 / 1e6:.1f} MB float32), {size_mb:,.0f} MB on disk"
    )
    offsets = [7.3, 12.1, 23.9, 31.4, 38.8, 44.2, 49.6][:RUNS]  # minutes: never chunk-aligned
    cases = {
        "100 contiguous PMUs (PMU_0101-0200)": [f"PMU_{i:04d}" for i in range(101, 201)],
        "100 PMUs spread (every 10th)": [f"PMU_{i:04d}" for i in range(5, 1001, 10)],
    }
    print(f"{'10-min window':<38}{'open+read ms':>14}{'read ms':>10}{'MB loaded':>11}")
    for label, pmus in cases.items():
        cold, warm = [], []
        for minutes in offsets:
            lo = (start + pd.Timedelta(minutes=minutes)).tz_localize("UTC").to_pydatetime()
            hi = lo + pd.Timedelta(minutes=10)
            t0 = time.perf_counter()
            out = read_cube(open_cube(spec), spec, lo, hi, None, {"pmu": pmus})
            cold.append(time.perf_counter() - t0)
            t0 = time.perf_counter()
            out = read_cube(ds, spec, lo, hi, None, {"pmu": pmus})
            warm.append(time.perf_counter() - t0)
        assert out.sizes["time"] == 36000
        assert out.sizes["pmu"] == 100
        print(
            f"{label:<38}{_median_ms(cold):>14.0f}{_median_ms(warm):>10.0f}"
            f"{out.nbytes / 1e6:>11.1f}"
        )


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
    argv = sys.argv[1:] if argv is None else argv
    location = bench_dir() / "pmu_large.zarr"
    location.parent.mkdir(parents=True, exist_ok=True)
    built = build_pmu_store(location, rebuild="--rebuild" in argv)
    if built:
        print(f"simulated and wrote the PMU hour in {built:.0f} s (cached at {location})")
    bench_pmu(location)
    bench_satellite()


if __name__ == "__main__":
    main()
