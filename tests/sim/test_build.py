"""The demo lakehouse built through the simulator: every bronze dataset, labels, determinism."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from tests.conftest import CATALOG


def test_every_bronze_dataset_is_built_and_readable(ci_catalog):
    for name in ci_catalog.list(layer="bronze"):
        spec = ci_catalog.entry(name)
        handle = ci_catalog.scan(name)
        if spec.kind == "table":
            assert int(handle.count().execute()) > 0, name
            assert list(handle.columns) == list(spec.columns), name
        elif spec.kind == "frames":
            assert len(handle) > 0, name
        else:
            assert handle.sizes["time"] > 0, name


def test_system_period_matches_the_profile(ci_catalog):
    load = ci_catalog.read("bronze.raw_load")
    assert load["timestamp"].min() == pd.Timestamp("2024-03-01", tz="UTC")
    assert load["timestamp"].max() == pd.Timestamp("2024-03-21T23:55", tz="UTC")
    assert load.groupby("region_id").size().nunique() == 1  # every region every 5 minutes


def test_events_are_labelled_for_every_faulty_source(ci_catalog):
    events = ci_catalog.read("ops.sim_events")
    assert events["event_id"].is_unique
    assert {"scada", "pmu"} <= set(events["source"])
    assert (events["end"] >= events["start"]).all()
    trips = events[events.event_type == "generator_trip"]
    assert len(trips) >= 1


def test_labelled_trips_show_a_nadir_in_the_cube(ci_catalog):
    events = ci_catalog.read("ops.sim_events", where={"event_type": "generator_trip"})
    cube = ci_catalog.scan("bronze.pmu")["frequency_hz"]
    for start in events["start"]:
        t0 = np.datetime64(start.tz_convert("UTC").tz_localize(None), "ns")
        window = cube.sel(time=slice(t0, t0 + np.timedelta64(20, "s"))).median("pmu").load()
        assert float(window.min()) < 59.95


def test_meter_partitions_follow_the_catalog(ci_catalog):
    root = Path(ci_catalog.entry("bronze.meter_reads").location)
    dates = {p.name for p in root.iterdir()}
    assert all(d.startswith("date=") for d in dates)
    regions = {p.name for p in root.glob("date=*/*")}
    assert regions == {f"region_id={r}" for r in ci_catalog.read("bronze.raw_regions")["region_id"]}


def _fingerprint(home: Path) -> str:
    """A digest of every table's sorted content plus the lake's files."""
    import ibis

    con = ibis.duckdb.connect(str(home / "warehouse.duckdb"), read_only=True)
    digest = hashlib.sha256()
    for table in sorted(con.list_tables(database="bronze")):
        frame = con.table(table, database="bronze").to_pandas()
        frame = frame.sort_values(list(frame.columns)).reset_index(drop=True)
        digest.update(pd.util.hash_pandas_object(frame, index=False).values.tobytes())
    events = con.table("sim_events", database="ops").to_pandas().sort_values("event_id")
    digest.update(pd.util.hash_pandas_object(events, index=False).values.tobytes())
    con.disconnect()
    import xarray as xr

    cube = xr.open_zarr(home / "lake" / "bronze" / "pmu.zarr", consolidated=False)
    digest.update(np.ascontiguousarray(cube["frequency_hz"].values).tobytes())
    for path in sorted((home / "lake" / "bronze" / "satellite").glob("*.tif")):
        import rasterio

        with rasterio.open(path) as src:
            digest.update(src.read(1).tobytes())
    return digest.hexdigest()


def _build(home: Path, seed: int) -> None:
    env = {**os.environ, "WORKBENCH_HOME": str(home), "WORKBENCH_CATALOG": str(CATALOG)}
    code = (
        "from workbench import open_catalog\n"
        "from workbench.sim.build import build_lakehouse\n"
        "from workbench.sim.profiles import get_profile\n"
        "p = get_profile('ci').with_(days=2, pmu_minutes=2, meter_count=50, satellite_days=0.25)\n"
        f"build_lakehouse(open_catalog(), p, seed={seed})\n"
    )
    subprocess.run([sys.executable, "-c", code], env=env, check=True, timeout=300)


@pytest.mark.slow
def test_same_seed_same_lakehouse_other_seed_other_data(tmp_path):
    for name, seed in (("a", 7), ("b", 7), ("c", 8)):
        _build(tmp_path / name, seed)
    a, b, c = (_fingerprint(tmp_path / n) for n in "abc")
    assert a == b
    assert a != c


def test_realism_report_draws_every_plot(ci_catalog, tmp_path):
    pytest.importorskip("matplotlib")
    from workbench.sim.report import build_report

    summary = build_report(ci_catalog, tmp_path / "report")
    pngs = {p.name for p in (tmp_path / "report").glob("*.png")}
    assert {
        "load_vs_temperature.png",
        "daily_profiles.png",
        "weekly_profile.png",
        "dst_week.png",
        "capacity_factors.png",
        "price_duration.png",
        "frequency_histogram.png",
        "frequency_events.png",
        "satellite_frame.png",
    } <= pngs
    assert summary["dst_change"].startswith("2024-03-10")
    assert 0.85 < summary["weekend_over_weekday"] < 0.97
    # one PMU over the ci cube's 10 minutes, a trip and a rejection that AGC undoes over minutes
    assert 0.005 < summary["frequency_std_hz"] < 0.08
