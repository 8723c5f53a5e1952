"""Writers of the lake: partitioned Parquet, Zarr cubes appended block by block, GeoTIFF frames."""

from __future__ import annotations

from datetime import datetime

import numpy as np
import pandas as pd
import pytest

from workbench.core.errors import MissingColumnsError


def _reads(day: str, region: str, n: int = 4) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "meter_id": [f"M{i}" for i in range(n)],
            "timestamp": pd.Timestamp(day, tz="UTC"),
            "energy_kwh": np.arange(n, dtype=float),
            "is_estimated": False,
            "customer_class": "residential",
            "region_id": region,
            "date": pd.Timestamp(day).date(),
        }
    )


def test_partitioned_parquet_round_trip(catalog):
    from workbench.io.frames import write_partitioned

    spec = catalog.entry("bronze.meter_reads")
    rows = write_partitioned(
        [
            _reads("2024-07-01", "NORTH"),
            _reads("2024-07-01", "COAST"),
            _reads("2024-07-02", "NORTH"),
        ],
        spec,
        clear=True,
    )
    assert rows == 12
    got = catalog.read("bronze.meter_reads", where={"region_id": "NORTH"})
    assert len(got) == 8
    assert got["energy_kwh"].sum() == 12
    assert not list(__import__("pathlib").Path(spec.location).rglob("*.tmp"))
    # a rebuild with clear=True replaces, it does not duplicate
    write_partitioned([_reads("2024-07-01", "NORTH")], spec, clear=True)
    assert len(catalog.read("bronze.meter_reads")) == 4


def test_partitioned_parquet_rejects_missing_columns(catalog):
    from workbench.io.frames import write_partitioned

    with pytest.raises(MissingColumnsError, match="energy_kwh"):
        write_partitioned(
            [_reads("2024-07-01", "NORTH").drop(columns="energy_kwh")],
            catalog.entry("bronze.meter_reads"),
        )


def test_cube_blocks_append_along_time(catalog):
    import xarray as xr

    from workbench.io.cubes import write_cube

    def block(i: int) -> xr.Dataset:
        times = pd.date_range("2024-07-01", periods=300, freq="100ms") + pd.Timedelta(
            seconds=30 * i
        )
        return xr.Dataset(
            {"frequency_hz": (("time", "pmu"), np.full((300, 2), 60 + i / 100, dtype="float32"))},
            coords={"time": times.values, "pmu": ["PMU_0001", "PMU_0002"]},
        )

    spec = catalog.entry("bronze.pmu")
    assert write_cube((block(i) for i in range(3)), spec) == 900
    ds = catalog.scan("bronze.pmu")
    assert ds.sizes == {"time": 900, "pmu": 2}
    assert bool((ds["time"].diff("time") > np.timedelta64(0)).all())
    np.testing.assert_allclose(ds["frequency_hz"].values[[0, 300, 600], 0], [60, 60.01, 60.02])


def test_geotiff_frames_are_read_back_with_time_and_crs(catalog):
    from workbench.io.rasters import write_geotiff

    spec = catalog.entry("bronze.satellite")
    transform = (0.05, 0.0, -104.0, 0.0, -0.05, 36.0)
    for minute in (0, 15, 30):
        write_geotiff(
            spec.location,
            datetime(2024, 7, 1, 12, minute),
            np.full((5, 7), minute / 60, dtype="float32"),
            crs="EPSG:4326",
            transform=transform,
        )
    ds = catalog.scan("bronze.satellite")
    assert list(pd.DatetimeIndex(ds["time"].values).minute) == [0, 15, 30]
    assert ds.attrs["transform"] == pytest.approx(transform)
    assert float(ds["reflectance"].isel(time=2).mean()) == pytest.approx(0.5)
