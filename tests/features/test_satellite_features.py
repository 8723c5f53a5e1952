"""Cloud index, per-plant extraction and hourly features from the satellite cube."""

from __future__ import annotations

from datetime import timedelta

import numpy as np
import pandas as pd
import pytest

LON, LAT = -97.0, 31.0


def _cube(times, values):
    """A 6x8 cube on a 10 km grid with lon/lat coordinates around central Texas."""
    import xarray as xr

    ny, nx = values.shape[1:]
    xs = 10_000.0 * (np.arange(nx) + 0.5)
    ys = 60_000.0 - 10_000.0 * (np.arange(ny) + 0.5)
    lon = LON + np.zeros((ny, nx)) + np.arange(nx)[None, :] * 0.1
    lat = LAT + np.zeros((ny, nx)) - np.arange(ny)[:, None] * 0.1
    return xr.Dataset(
        {"reflectance": (("time", "y", "x"), values.astype(np.float32))},
        coords={
            "time": pd.DatetimeIndex(times).values,
            "x": xs,
            "y": ys,
            "lon": (("y", "x"), lon),
            "lat": (("y", "x"), lat),
        },
    )


def test_cos_zenith_matches_pvlib():
    import pvlib

    from workbench.features.satellite import cos_zenith

    times = pd.date_range("2024-06-10", periods=48, freq="30min", tz="UTC")
    got = cos_zenith(times.tz_localize(None), np.array([LON]), np.array([LAT]))[:, 0]
    ref = pvlib.solarposition.get_solarposition(times, LAT, LON)["zenith"].to_numpy()
    np.testing.assert_allclose(np.degrees(np.arccos(np.clip(got, -1, 1))), ref, atol=1.0)


def test_cloud_index_follows_heliosat_and_masks_the_night():
    from workbench.features.satellite import CLOUD_INDEX_MAX, cloud_index

    times = pd.date_range("2024-06-10T14:00", periods=40, freq="15min")  # 09:00-18:45 CDT
    ground = 0.08 + 0.01 * np.arange(48).reshape(6, 8) / 47
    values = np.repeat(ground[None], 40, axis=0).copy()
    rng = np.random.default_rng(1)
    cloudy = rng.random(values.shape) < 0.2
    values[cloudy] = 0.7
    cloudy[3, 2, 2] = False
    values[3, 2, 2] = 0.95  # brighter than the cloud reference: clipped
    night = pd.DatetimeIndex(["2024-06-10T07:00"])  # 02:00 CDT
    cube = _cube(times.append(night), np.concatenate([values, np.full((1, 6, 8), 0.01)]))
    n = cloud_index(cube, low_percentile=5, high_percentile=95).values
    rho_cloud = np.percentile(values, 95)
    assert np.isnan(n[-1]).all()  # night
    day = n[:-1]
    clear = ~cloudy
    clear[3, 2, 2] = False
    np.testing.assert_allclose(day[clear], 0.0, atol=1e-6)
    expected = np.broadcast_to((0.7 - ground) / (rho_cloud - ground), day.shape)
    np.testing.assert_allclose(day[cloudy], expected[cloudy], rtol=1e-5)
    bright = (0.95 - ground[2, 2]) / (rho_cloud - ground[2, 2])
    assert bright > CLOUD_INDEX_MAX
    assert day[3, 2, 2] == pytest.approx(CLOUD_INDEX_MAX)


def test_site_sampler_point_and_buffer():
    from workbench.features.satellite import SatelliteFeatureError, SiteSampler

    xs = 10_000.0 * (np.arange(8) + 0.5)
    ys = 60_000.0 - 10_000.0 * (np.arange(6) + 0.5)
    sites = pd.DataFrame(
        {"asset_id": ["A", "B"], "x": [31_000.0, 74_000.0], "y": [26_000.0, 4_000.0]}
    )
    sampler = SiteSampler.from_grid(xs, ys, sites, radius_km=15.0)
    frames = np.arange(2 * 48, dtype=float).reshape(2, 6, 8)
    frames[1, 3, 3] = np.nan
    point, buffered = sampler.sample(frames)
    # A: nearest centre x=35 km (col 3), y=25 km (row 3)
    assert point[0, 0] == frames[0, 3, 3]
    assert np.isnan(point[1, 0])
    gx, gy = np.meshgrid(xs, ys)
    inside = (gx - 31_000.0) ** 2 + (gy - 26_000.0) ** 2 <= 15_000.0**2
    assert buffered[0, 0] == pytest.approx(frames[0][inside].mean())
    assert buffered[1, 0] == pytest.approx(np.nanmean(frames[1][inside]))  # NaN pixel left out
    assert sampler.buffer_pixels[0] == inside.sum()
    assert point[0, 1] == frames[0, 5, 7]  # B near the corner: its buffer is the pixels in reach
    outside = pd.DataFrame({"asset_id": ["FAR"], "x": [500_000.0], "y": [0.0]})
    with pytest.raises(SatelliteFeatureError, match="FAR"):
        SiteSampler.from_grid(xs, ys, outside, radius_km=5.0)


def test_hourly_features_lag_and_availability():
    from workbench.features.satellite import FEATURE_COLUMNS, hourly_site_features

    times = pd.date_range("2024-06-10T16:00", periods=12, freq="15min")  # 3 hours
    ci = np.array([[0.1, 0.2, 0.3, 0.4, 0.5, 0.5, 0.5, 0.5, np.nan, np.nan, np.nan, np.nan]]).T
    refl = 0.1 + ci
    out = hourly_site_features(times, ["S1"], ci, ci * 2, refl, timedelta(minutes=15))
    assert list(out.columns) == FEATURE_COLUMNS
    assert list(out["timestamp"]) == list(
        pd.date_range("2024-06-10T16:00", periods=3, freq="h", tz="UTC")
    )
    first, second, third = out.to_dict("records")
    assert first["cloud_index"] == pytest.approx(0.25)
    assert first["cloud_index_std"] == pytest.approx(np.std([0.1, 0.2, 0.3, 0.4]))
    assert first["cloud_index_buffer"] == pytest.approx(0.5)
    assert first["reflectance"] == pytest.approx(0.35)
    assert np.isnan(first["cloud_index_lag_1h"])
    assert second["cloud_index_lag_1h"] == pytest.approx(0.25)
    assert second["available_at"] == pd.Timestamp("2024-06-10T17:45", tz="UTC") + timedelta(
        minutes=15
    )
    assert third["frames"] == 0
    assert np.isnan(third["cloud_index"])


def test_build_features_for_every_solar_plant(ci_medallion, tmp_path, monkeypatch):
    import shutil

    from workbench import open_catalog
    from workbench.features.satellite import SatelliteFeatureError, build_satellite_features
    from workbench.io.satellite import ingest_satellite

    home = tmp_path / "home"
    (home / "lake").mkdir(parents=True)
    shutil.copy(ci_medallion / "warehouse.duckdb", home / "warehouse.duckdb")
    (home / "lake" / "bronze").symlink_to(ci_medallion / "lake" / "bronze")  # read only
    monkeypatch.setenv("WORKBENCH_HOME", str(home))
    cat = open_catalog()
    with pytest.raises(SatelliteFeatureError, match="ingest_satellite"):
        build_satellite_features(cat)
    assert ingest_satellite(cat).loaded == 96
    rows = build_satellite_features(cat, radius_km=30.0)
    solar = cat.read("gold.dim_assets", where={"technology": "solar"})
    features = cat.read("silver.satellite_site_features")
    assert rows == len(features) == len(solar) * 24
    assert set(features["asset_id"]) == set(solar["asset_id"])
    assert not features.duplicated(["asset_id", "timestamp"]).any()
    day = features[features["frames"] > 0]
    assert len(day) > len(solar) * 6  # March daylight over Texas
    assert day["cloud_index"].between(0, 1.2).all()
    assert (features["available_at"] > features["timestamp"]).all()
    assert (features["available_at"] <= features["timestamp"] + timedelta(hours=1)).all()
    assert (day["cloud_index_buffer"] != day["cloud_index"]).any()  # the buffer spans pixels
    assert ingest_satellite(cat).skipped == 96
    assert build_satellite_features(cat, radius_km=30.0) == rows
    assert len(cat.read("silver.satellite_site_features")) == rows
    cat.close()


def test_grid_xy_from_the_cube_matches_proj(ci_lakehouse, tmp_path):
    from workbench.features.satellite import lonlat_to_grid_xy
    from workbench.io.satellite import ingest_geotiffs, lonlat_to_crs

    store = tmp_path / "sat.zarr"
    ingest_geotiffs(ci_lakehouse / "lake" / "bronze" / "satellite", store)
    import xarray as xr

    cube = xr.open_zarr(store, consolidated=False)
    lon = np.array([-97.535, -103.0804, -95.37, -98.4])
    lat = np.array([32.8748, 32.7222, 29.76, 27.9])
    x, y = lonlat_to_grid_xy(cube, lon, lat)
    px, py = lonlat_to_crs(lon, lat, cube.attrs["crs_wkt"])
    np.testing.assert_allclose(x, px, atol=50.0)  # metres, on 22-km pixels
    np.testing.assert_allclose(y, py, atol=50.0)
