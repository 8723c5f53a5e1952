"""Build the demo lakehouse: simulate every source and write bronze as the catalog declares.

This is the edge of the simulator: the generators in this package are pure; here their frames
go through :mod:`workbench.io` into the warehouse tables, the Zarr PMU cube, the partitioned
meter Parquet and the satellite GeoTIFFs, with every injected event in ``ops.sim_events``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from workbench.sim.profiles import Profile

OnStep = Callable[[str, int, int], None]

#: bronze tables written from the system simulation, with the SystemData field holding each
SYSTEM_TABLES: tuple[tuple[str, str], ...] = (
    ("bronze.raw_regions", "regions"),
    ("bronze.raw_assets", "assets"),
    ("bronze.raw_topology", "topology"),
    ("bronze.raw_weather", "weather"),
    ("bronze.raw_weather_forecast", "weather_forecast"),
    ("bronze.raw_load", "load"),
    ("bronze.raw_generation", "generation"),
    ("bronze.raw_interchange", "interchange"),
    ("bronze.raw_market", "market"),
    ("bronze.raw_ancillary", "ancillary"),
    ("bronze.raw_fuel_prices", "fuel_prices"),
    ("bronze.raw_system_reserves", "reserves"),
)


@dataclass(frozen=True)
class BuiltDataset:
    """One line of the build summary."""

    name: str
    rows: int
    location: str


def _rng(seed: int, stream: int) -> np.random.Generator:
    """An independent, stable generator per source (changing one source never shifts another)."""
    return np.random.default_rng([seed, stream])


def _period(profile: Profile) -> tuple[pd.Timestamp, pd.Timestamp]:
    start = pd.Timestamp(profile.start, tz="UTC")
    return start, start + pd.Timedelta(days=profile.days)


def _tail(end: pd.Timestamp, days: float, start: pd.Timestamp) -> pd.Timestamp:
    return max(start, end - pd.Timedelta(days=days))


def _catalog_columns(cat: Any, name: str, frame: pd.DataFrame) -> pd.DataFrame:
    return frame[list(cat.entry(name).columns)]


def _stream_table(cat: Any, name: str, frames: Iterable[pd.DataFrame]) -> int:
    """Replace a table with the first frame, append the rest (for sources too big for memory)."""
    rows = 0
    for i, frame in enumerate(frames):
        rows += cat.write(
            name, _catalog_columns(cat, name, frame), mode="replace" if i == 0 else "append"
        )
    return rows


def _collect_events(
    pairs: Iterator[tuple[Any, pd.DataFrame]], sink: list[pd.DataFrame]
) -> Iterator[Any]:
    for payload, events in pairs:
        if events is not None and len(events):
            sink.append(events)
        yield payload


def build_lakehouse(
    cat: Any, profile: Profile, *, seed: int = 42, on_step: OnStep | None = None
) -> list[BuiltDataset]:
    """Simulate the grid for ``profile`` and write every bronze dataset; returns the summary."""
    from workbench.sim.events import events_frame
    from workbench.sim.scada import iter_scada
    from workbench.sim.system import simulate_system

    steps = ["system", "tables", "scada", "lake files", "events"]
    report = on_step or (lambda step, done, total: None)
    summary: list[BuiltDataset] = []
    events: list[pd.DataFrame] = []

    def step(i: int, text: str) -> None:
        report(text, i, len(steps))

    step(0, f"simulating {profile.days} days of the grid")
    system = simulate_system(profile, seed)
    grid = system.grid
    events.append(system.events)
    start, end = _period(profile)
    # the lake's files (Zarr, Parquet, GeoTIFF) are written by a second thread while this one
    # fills the warehouse: numpy, Zarr, Arrow, GDAL and DuckDB release the GIL for their work
    pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="lake-files")
    lake_files = pool.submit(_write_lake_files, cat, profile, seed, system)
    pool.shutdown(wait=False)

    step(1, "writing the system tables")
    for name, field in SYSTEM_TABLES:
        source = getattr(grid, field) if hasattr(grid, field) else getattr(system, field)
        rows = cat.write(name, _catalog_columns(cat, name, source), mode="replace")
        summary.append(BuiltDataset(name, rows, cat.entry(name).location))

    step(2, f"SCADA for the last {profile.scada_days} day(s)")
    assets = grid.assets
    scada_ids = None
    if profile.scada_assets is not None:
        # an even spread over the asset list, so every region and technology keeps telemetry
        picks = np.linspace(0, len(assets) - 1, min(profile.scada_assets, len(assets)))
        scada_ids = list(assets["asset_id"].iloc[np.unique(picks.round().astype(int))])
    scada_days = iter_scada(
        system.generation,
        assets,
        _tail(end, profile.scada_days, start),
        end,
        profile.scada_interval_s,
        _rng(seed, 1),
        asset_ids=scada_ids,
    )
    rows = _stream_table(cat, "bronze.raw_scada", _collect_events(scada_days, events))
    summary.append(BuiltDataset("bronze.raw_scada", rows, cat.entry("bronze.raw_scada").location))

    step(3, "waiting for the PMU cube, meters and satellite frames")
    lake_summary, lake_events = lake_files.result()
    summary += lake_summary
    events += lake_events

    step(4, "labelling events")
    labels = (
        pd.concat([e for e in events if len(e)], ignore_index=True) if events else events_frame([])
    )
    rows = cat.write(
        "ops.sim_events", _catalog_columns(cat, "ops.sim_events", labels), mode="replace"
    )
    summary.append(BuiltDataset("ops.sim_events", rows, cat.entry("ops.sim_events").location))
    report("done", len(steps), len(steps))
    return summary


def _write_lake_files(
    cat: Any, profile: Profile, seed: int, system: Any
) -> tuple[list[BuiltDataset], list[pd.DataFrame]]:
    """PMU cube (Zarr), smart-meter reads (Parquet) and satellite frames (GeoTIFF)."""
    from workbench.io.cubes import write_cube
    from workbench.io.frames import write_partitioned
    from workbench.io.rasters import write_geotiff
    from workbench.sim.meters import iter_meter_reads
    from workbench.sim.pmu import iter_pmu_blocks, make_pmu_ids
    from workbench.sim.satellite import iter_satellite_frames, satellite_grid

    grid = system.grid
    start, end = _period(profile)
    summary: list[BuiltDataset] = []
    events: list[pd.DataFrame] = []
    pmu_spec = cat.entry("bronze.pmu")
    pmu_ids = make_pmu_ids(grid, profile.pmu_count)
    blocks = iter_pmu_blocks(
        pmu_ids,
        profile.pmu_rate_hz,
        end - pd.Timedelta(minutes=profile.pmu_minutes),
        profile.pmu_minutes,
        profile.pmu_events,
        _rng(seed, 2),
    )
    pmu_events: list[pd.DataFrame] = []
    steps_written = write_cube(_collect_events(blocks, pmu_events), pmu_spec)
    if pmu_events:
        events.append(pmu_events[-1])  # each block carries the events so far: keep the last
    summary.append(BuiltDataset(pmu_spec.name, steps_written * len(pmu_ids), pmu_spec.location))

    meter_spec = cat.entry("bronze.meter_reads")
    reads = iter_meter_reads(
        grid.regions,
        system.load,
        profile.meter_count,
        _tail(end, profile.meter_days, start),
        profile.meter_days,
        _rng(seed, 3),
    )
    rows = write_partitioned(reads, meter_spec, clear=True)
    summary.append(BuiltDataset(meter_spec.name, rows, meter_spec.location))

    sat_spec = cat.entry("bronze.satellite")
    crs, transform, _, _ = satellite_grid(grid.regions, profile.satellite_size)
    _clear_folder(sat_spec.location, "*.tif")
    frames = 0
    for when, array in iter_satellite_frames(
        grid.regions,
        system.weather,
        _tail(end, profile.satellite_days, start),
        profile.satellite_days,
        profile.satellite_size,
        _rng(seed, 4),
        clouds=system.clouds,
    ):
        write_geotiff(
            sat_spec.location,
            pd.Timestamp(when).to_pydatetime(),
            array,
            crs=crs,
            transform=transform,
        )
        frames += 1
    summary.append(BuiltDataset(sat_spec.name, frames, sat_spec.location))

    return summary, events


def _clear_folder(location: str, pattern: str) -> None:
    from pathlib import Path

    folder = Path(location)
    if folder.exists():
        for path in folder.glob(pattern):
            path.unlink()
