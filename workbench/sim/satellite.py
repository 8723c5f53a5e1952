"""Visible-band cloud imagery (``bronze.satellite``): one reflectance frame every 15 minutes.

Frames are on a square grid in the CONUS Albers equal-area projection (EPSG:5070, NAD83) over
the regions' bounding box. The clouds are those of the system's
:class:`~workbench.sim.clouds.CloudField` (the same field sets the solar plants' clear-sky index),
sampled at the pixel centres: a pixel is cloudy where the advected latent field exceeds the
threshold of the local cloud cover, so each region's cloud fraction tracks its reported cover.
Cloud opacity and brightness grow with the field's excess over that threshold (thin edges,
textured bright cores of 0.5-0.9); the clear ground is 0.05-0.25 with a west-east gradient
(drier, brighter west) and texture. The frame darkens through twilight to zero at night (solar
zenith angle per pixel) while the cloud field keeps evolving. Sensor noise 0.003.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np
import pandas as pd
from scipy.ndimage import gaussian_filter

from workbench.core.errors import MissingColumnsError, WorkbenchError
from workbench.sim.clouds import CloudField, cloud_locations, visual_opacity

CRS = "EPSG:5070"
FRAME_MINUTES = 15
# NAD83 / Conus Albers (EPSG:5070) on the GRS80 ellipsoid
_A, _F = 6_378_137.0, 1.0 / 298.257222101
_E2 = 2 * _F - _F**2
_E = np.sqrt(_E2)
_LAT0, _LON0, _LAT1, _LAT2 = 23.0, -96.0, 29.5, 45.5


def satellite_grid(regions: pd.DataFrame, size: int = 128) -> tuple[str, tuple, int, int]:
    """The raster grid over the regions: CRS, affine transform, width and height.

    Parameters
    ----------
    regions : pandas.DataFrame
        ``bronze.raw_regions`` (latitude, longitude [deg], area_sq_km [km2]).
    size : int
        Pixels per side (the frame is square).

    Returns
    -------
    (crs, transform, width, height)
        ``'EPSG:5070'``; the affine transform ``(a, b, c, d, e, f)`` as in rasterio's
        ``Affine`` (pixel size [m], 0, west edge [m], 0, -pixel size [m], north edge [m]);
        width and height [pixels].
    """
    _require(regions, {"region_id", "latitude", "longitude"})
    x, y = albers_forward(regions["longitude"].to_numpy(float), regions["latitude"].to_numpy(float))
    area = (
        regions["area_sq_km"].to_numpy(float) if "area_sq_km" in regions else np.full(x.size, 1e4)
    )
    pad = 1.3 * np.sqrt(np.nanmax(area) / np.pi) * 1000.0
    cx, cy = (x.min() + x.max()) / 2, (y.min() + y.max()) / 2
    half = max(x.max() - x.min(), y.max() - y.min()) / 2 + pad
    pixel = 2 * half / size
    transform = (float(pixel), 0.0, float(cx - half), 0.0, float(-pixel), float(cy + half))
    return CRS, transform, int(size), int(size)


def region_index(regions: pd.DataFrame, size: int = 128) -> np.ndarray:
    """Which region each pixel belongs to: int16 (height, width) of row positions in ``regions``.

    A power diagram of the region centres weighted by their area: a pixel goes to the region
    minimising (distance² − radius²), so large regions take more of the frame.
    """
    x, y = _pixel_xy(regions, size)
    rx, ry = albers_forward(
        regions["longitude"].to_numpy(float), regions["latitude"].to_numpy(float)
    )
    area = regions["area_sq_km"].to_numpy(float) if "area_sq_km" in regions else np.ones(rx.size)
    radius2 = area / np.pi * 1e6
    d2 = (
        (x[None] - rx[:, None, None]) ** 2
        + (y[None] - ry[:, None, None]) ** 2
        - radius2[:, None, None]
    )
    return np.argmin(d2, axis=0).astype(np.int16)


def iter_satellite_frames(
    regions: pd.DataFrame,
    weather: pd.DataFrame,
    start: Any,
    days: int,
    size: int,
    rng: np.random.Generator,
    clouds: CloudField | None = None,
) -> Iterator[tuple[pd.Timestamp, np.ndarray]]:
    """Yield ``(time, reflectance)`` every 15 minutes for ``days`` days from ``start``.

    Parameters
    ----------
    regions : pandas.DataFrame
        ``bronze.raw_regions``.
    weather : pandas.DataFrame
        ``bronze.raw_weather`` (hourly ``cloud_cover_pct`` [%]); used to build the cloud field
        when ``clouds`` is not given. Times it does not cover hold the nearest value.
    start : timestamp-like
        First frame (UTC; floored to the quarter-hour).
    days : int
        Number of days of frames (96 a day).
    size : int
        Pixels per side, on the grid of :func:`satellite_grid`.
    rng : numpy.random.Generator
        Source of the ground texture and sensor noise (and of the cloud field when ``clouds``
        is not given).
    clouds : CloudField, optional
        The system's cloud field (:attr:`workbench.sim.system.SystemData.clouds`), so the frames
        show the clouds that shade the solar plants; its steps must cover the frames. Without
        it a field over the frames' period alone is drawn from ``rng``.

    Yields
    ------
    (time, reflectance) : tuple of pandas.Timestamp and numpy.ndarray
        Frame time (UTC) and float32 (height, width) reflectance in [0, 1], row 0 north.
    """
    _require(weather, {"timestamp", "location_id", "cloud_cover_pct"})
    if size < 8:
        raise WorkbenchError(f"expected size >= 8 pixels; found {size}")
    ts0 = pd.Timestamp(start)
    ts0 = (ts0.tz_localize("UTC") if ts0.tzinfo is None else ts0.tz_convert("UTC")).floor("15min")
    times = pd.date_range(ts0, periods=int(days) * 96, freq=f"{FRAME_MINUTES}min", unit="ns")
    if clouds is None:
        five = pd.date_range(ts0, periods=int(days) * 288, freq="5min", unit="ns")
        clouds = CloudField(cloud_locations(regions), weather, five, rng)
    steps = clouds.steps_of(times)
    x, y = _pixel_xy(regions, size)
    lon, lat = albers_inverse(x, y)
    ground = _ground(rng, lon, size)
    for lo in range(0, len(times), 96):
        z, thick = clouds.sample(x.ravel(), y.ravel(), steps[lo : lo + 96])
        for k in range(z.shape[0]):
            time = times[lo + k]
            yield time, _render(ground, z[k].reshape(size, size), thick[k].reshape(size, size),
                                _daylight(time, lon, lat), rng)  # fmt: skip


def _render(
    ground: np.ndarray,
    z: np.ndarray,
    thick: np.ndarray,
    light: np.ndarray,
    rng: np.random.Generator,
) -> np.ndarray:
    """Reflectance [0-1] of one frame: ground under semi-opaque clouds whose brightness grows
    with thickness (textured by the latent field), dimmed by daylight, plus sensor noise."""
    alpha = visual_opacity(thick)
    bright = np.clip(0.5 + 0.1 * z + 0.15 * (1.0 - np.exp(-thick / 0.8)), 0.3, 0.9)
    frame = (ground * (1.0 - alpha) + bright * alpha) * light
    frame += rng.normal(0.0, 0.003, frame.shape)
    return np.clip(frame, 0.0, 1.0).astype(np.float32)


def _ground(rng: np.random.Generator, lon: np.ndarray, size: int) -> np.ndarray:
    """Clear-sky surface reflectance [1]: west-east gradient, smooth patches and fine texture."""
    west = (lon.max() - lon) / max(lon.max() - lon.min(), 1e-9)
    patches = gaussian_filter(rng.standard_normal((size, size)), size / 12)
    patches /= max(patches.std(), 1e-9)
    texture = gaussian_filter(rng.standard_normal((size, size)), 0.8)
    texture /= max(texture.std(), 1e-9)
    return np.clip(0.08 + 0.1 * west + 0.02 * patches + 0.01 * texture, 0.04, 0.3)


def _daylight(time: pd.Timestamp, lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
    """Illumination factor [1]: 1 by day, fading through twilight (cos zenith 0.2 to -0.05)."""
    doy = time.dayofyear
    decl = np.radians(23.44) * np.sin(2 * np.pi * (284 + doy) / 365.0)
    b = 2 * np.pi * (doy - 81) / 364.0
    eot_min = 9.87 * np.sin(2 * b) - 7.53 * np.cos(b) - 1.5 * np.sin(b)
    hours = time.hour + time.minute / 60.0 + time.second / 3600.0
    hour_angle = np.radians((hours + lon / 15.0 + eot_min / 60.0 - 12.0) * 15.0)
    phi = np.radians(lat)
    cos_z = np.sin(phi) * np.sin(decl) + np.cos(phi) * np.cos(decl) * np.cos(hour_angle)
    s = np.clip((cos_z + 0.05) / 0.25, 0.0, 1.0)
    return s * s * (3 - 2 * s)


def _pixel_xy(regions: pd.DataFrame, size: int) -> tuple[np.ndarray, np.ndarray]:
    """Projected coordinates [m] of the pixel centres, (height, width) each."""
    _, (a, _, c, _, e, f), width, height = satellite_grid(regions, size)
    xs = c + a * (np.arange(width) + 0.5)
    ys = f + e * (np.arange(height) + 0.5)
    return np.meshgrid(xs, ys)


def _q(phi: np.ndarray) -> np.ndarray:
    s = np.sin(phi)
    return (1 - _E2) * (s / (1 - _E2 * s**2) - np.log((1 - _E * s) / (1 + _E * s)) / (2 * _E))


def _albers_constants() -> tuple[float, float, float]:
    p0, p1, p2 = np.radians([_LAT0, _LAT1, _LAT2])
    m1, m2 = (np.cos(p) / np.sqrt(1 - _E2 * np.sin(p) ** 2) for p in (p1, p2))
    n = (m1**2 - m2**2) / (_q(p2) - _q(p1))
    c = m1**2 + n * _q(p1)
    rho0 = _A * np.sqrt(c - n * _q(p0)) / n
    return float(n), float(c), float(rho0)


def albers_forward(lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Longitude, latitude [deg] (NAD83) to EPSG:5070 x, y [m] (Snyder, ellipsoidal Albers)."""
    n, c, rho0 = _albers_constants()
    rho = _A * np.sqrt(c - n * _q(np.radians(lat))) / n
    theta = n * np.radians(np.asarray(lon, float) - _LON0)
    return rho * np.sin(theta), rho0 - rho * np.cos(theta)


def albers_inverse(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """EPSG:5070 x, y [m] to longitude, latitude [deg] (iterated to below 1e-12 rad)."""
    n, c, rho0 = _albers_constants()
    rho = np.hypot(x, rho0 - y)
    theta = np.arctan2(x, rho0 - y)
    q = (c - (rho * n / _A) ** 2) / n
    phi = np.arcsin(np.clip(q / 2, -1, 1))
    for _ in range(15):
        s = np.sin(phi)
        phi = phi + (1 - _E2 * s**2) ** 2 / (2 * np.cos(phi)) * (
            q / (1 - _E2) - s / (1 - _E2 * s**2) + np.log((1 - _E * s) / (1 + _E * s)) / (2 * _E)
        )
    return _LON0 + np.degrees(theta / n), np.degrees(phi)


def _require(frame: pd.DataFrame, need: set[str]) -> None:
    if not need <= set(frame.columns):
        raise MissingColumnsError("satellite frames", need - set(frame.columns), frame.columns)
