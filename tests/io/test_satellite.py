"""GeoTIFF frames → Zarr cube: CRS kept, idempotent appends, bad files reported, the rest loaded."""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest


def _digest(path: Path) -> dict[str, str]:
    return {
        str(p.relative_to(path)): hashlib.sha1(p.read_bytes()).hexdigest()
        for p in sorted(path.rglob("*"))
        if p.is_file()
    }


@pytest.fixture
def frames_dir(ci_lakehouse, tmp_path) -> Path:
    """The first 12 ci frames (EPSG:5070, 64x64), copied."""
    src = sorted((ci_lakehouse / "lake" / "bronze" / "satellite").glob("*.tif"))
    dst = tmp_path / "frames"
    dst.mkdir()
    for path in src[:12]:
        shutil.copy(path, dst / path.name)
    return dst


def _add_bad_files(folder: Path) -> tuple[Path, Path]:
    """A truncated copy of a frame and a frame written on another CRS, at new times."""
    from workbench.io.rasters import write_geotiff

    good = sorted(folder.glob("*.tif"))[0]
    corrupt = folder / "frame_20240322T000000Z.tif"
    corrupt.write_bytes(good.read_bytes()[: good.stat().st_size // 3])
    wrong = write_geotiff(
        folder,
        pd.Timestamp("2024-03-22T00:15").to_pydatetime(),
        np.full((64, 64), 0.3),
        crs="EPSG:4326",
        transform=(0.2, 0.0, -104.0, 0.0, -0.2, 36.0),
    )
    return corrupt, wrong


def test_ingest_keeps_crs_transform_and_values(frames_dir, tmp_path):
    import rasterio
    import xarray as xr

    from workbench.io.satellite import ingest_geotiffs

    store = tmp_path / "sat.zarr"
    report = ingest_geotiffs(frames_dir, store, chunks={"time": 5, "y": 32, "x": 32})
    assert (report.loaded, report.skipped, report.rejected) == (12, 0, [])
    ds = xr.open_zarr(store, consolidated=False)
    assert ds["reflectance"].dims == ("time", "y", "x")
    assert ds.sizes["time"] == 12
    assert ds["reflectance"].encoding["chunks"] == (5, 32, 32)
    files = sorted(frames_dir.glob("*.tif"))
    with rasterio.open(files[0]) as src:
        assert rasterio.crs.CRS.from_wkt(ds.attrs["crs_wkt"]) == src.crs
        assert ds.attrs["epsg"] == 5070
        np.testing.assert_allclose(ds.attrs["transform"], tuple(src.transform)[:6])
        a, b, c, d, e, f = tuple(src.transform)[:6]
        gdal = [float(v) for v in ds["spatial_ref"].attrs["GeoTransform"].split()]
        np.testing.assert_allclose(gdal, [c, a, b, f, d, e])
        np.testing.assert_allclose(ds["x"].values[:2], [c + a / 2, c + 1.5 * a])
        np.testing.assert_allclose(ds["y"].values[:2], [f + e / 2, f + 1.5 * e])
    for k, path in enumerate(files):
        with rasterio.open(path) as src:
            np.testing.assert_array_equal(ds["reflectance"].values[k], src.read(1))
    assert ds["reflectance"].attrs["grid_mapping"] == "spatial_ref"


def test_bad_files_are_reported_and_the_rest_loads(frames_dir, tmp_path):
    from workbench.io.satellite import ingest_geotiffs

    corrupt, wrong = _add_bad_files(frames_dir)
    report = ingest_geotiffs(frames_dir, tmp_path / "sat.zarr")
    assert report.loaded == 12
    assert not report.ok
    reasons = {Path(r.path).name: r.reason for r in report.rejected}
    assert set(reasons) == {corrupt.name, wrong.name}
    assert "damaged" in reasons[corrupt.name]
    assert "mis-projected" in reasons[wrong.name]
    assert "EPSG:4326" in reasons[wrong.name]
    assert "EPSG:5070" in reasons[wrong.name]
    text = str(report)
    assert corrupt.name in text
    assert wrong.name in text
    assert "12 frames loaded" in text


def test_strict_raises_naming_the_file_and_writes_nothing(frames_dir, tmp_path):
    from workbench.io.satellite import SatelliteIngestError, ingest_geotiffs

    store = tmp_path / "sat.zarr"
    ingest_geotiffs(sorted(frames_dir.glob("*.tif"))[0].parent, store)
    corrupt, _ = _add_bad_files(frames_dir)
    digest = _digest(store)
    with pytest.raises(SatelliteIngestError, match=corrupt.name):
        ingest_geotiffs(frames_dir, store, strict=True)
    assert _digest(store) == digest


def test_appending_is_idempotent_and_extends_the_store(ci_lakehouse, frames_dir, tmp_path):
    import xarray as xr

    from workbench.io.satellite import ingest_geotiffs

    store = tmp_path / "sat.zarr"
    assert ingest_geotiffs(frames_dir, store).loaded == 12
    again = ingest_geotiffs(frames_dir, store)
    assert (again.loaded, again.skipped) == (0, 12)
    more = sorted((ci_lakehouse / "lake" / "bronze" / "satellite").glob("*.tif"))[12:20]
    for path in more:
        shutil.copy(path, frames_dir / path.name)
    step = ingest_geotiffs(frames_dir, store)
    assert (step.loaded, step.skipped) == (8, 12)
    times = xr.open_zarr(store, consolidated=False).indexes["time"]
    assert len(times) == 20
    assert times.is_monotonic_increasing
    assert times.is_unique
    assert pd.Timestamp(step.first_time) == times[12]


def test_the_most_common_grid_wins_when_the_first_file_is_off(frames_dir, tmp_path):
    from workbench.io.rasters import write_geotiff
    from workbench.io.satellite import ingest_geotiffs

    odd = write_geotiff(
        frames_dir,
        pd.Timestamp("2024-03-20T00:00").to_pydatetime(),  # sorts first
        np.zeros((32, 32)),
        crs="EPSG:5070",
        transform=(44000.0, 0.0, -1e6, 0.0, -44000.0, 1.5e6),
    )
    report = ingest_geotiffs(frames_dir, tmp_path / "sat.zarr")
    assert report.loaded == 12
    assert [Path(r.path).name for r in report.rejected] == [odd.name]


def test_projection_agrees_with_the_simulators_albers(tmp_path):
    from workbench.io.satellite import lonlat_to_crs, project_points
    from workbench.sim.satellite import CRS, albers_forward

    lon, lat = np.array([-97.7431, -106.485, -95.37]), np.array([30.2672, 31.7619, 29.76])
    x, y = lonlat_to_crs(lon, lat, CRS)
    # the sim projects NAD83 lon/lat; WGS 84 vs NAD83 differ by ~1 m here
    ex, ey = albers_forward(lon, lat)
    np.testing.assert_allclose(x, ex, atol=3.0)
    np.testing.assert_allclose(y, ey, atol=3.0)
    back_lon, back_lat = project_points(x, y, CRS, "EPSG:4326")
    np.testing.assert_allclose(back_lon, lon, atol=1e-9)
    np.testing.assert_allclose(back_lat, lat, atol=1e-9)


def test_catalog_ingest_then_scan_and_read(ci_lakehouse, tmp_path, monkeypatch):
    from workbench import open_catalog
    from workbench.io.satellite import ingest_satellite

    home = tmp_path / "home"
    (home / "lake").mkdir(parents=True)
    (home / "lake" / "bronze").symlink_to(ci_lakehouse / "lake" / "bronze")  # read only
    monkeypatch.setenv("WORKBENCH_HOME", str(home))
    cat = open_catalog()
    report = ingest_satellite(cat)
    assert report.loaded == 96
    assert report.ok
    assert Path(cat.entry("silver.satellite").location).is_relative_to(home / "lake" / "silver")
    ds = cat.scan("silver.satellite")
    assert type(ds["reflectance"].data).__module__.startswith("dask")
    assert hasattr(ds, "grid")
    window = cat.read("silver.satellite", start="2024-03-21T12:00Z", end="2024-03-21T13:00Z")
    assert window.sizes["time"] == 4
    assert float(window["reflectance"].max()) > 0.05  # daylight over Texas at 07:00 local
    assert ingest_satellite(cat).skipped == 96
