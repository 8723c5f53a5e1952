"""Visible-band cloud imagery (``bronze.satellite``): one reflectance frame every 15 minutes.

Frames are on a square grid in the CONUS Albers equal-area projection (EPSG:5070, NAD83) over
the regions' bounding box. The cloud field is a Gaussian random field with a power-law spectrum
(slope -3.4, outer scale 150 km) that is advected by a slowly turning wind
(10-15 m/s, from the south-west on average; a sub-pixel shift in Fourier space) and evolves as an
AR(1) process per wavenumber, small scales decorrelating faster (15 min) than large ones (hours).
A pixel is cloudy where the field exceeds the quantile that makes the expected cloud fraction equal
the local cloud cover, interpolated in time from the weather frame (hourly ``cloud_cover_pct``
per region) and blended in space between regions; so each region's cloud fraction tracks its
reported cover. Cloud opacity and brightness grow with the field's excess over that threshold
(thin edges, textured bright cores of 0.5-0.9); the clear ground is 0.05-0.25 with a west-east
gradient (drier, brighter west) and texture. The frame darkens through twilight to zero at night
(solar zenith angle per pixel) while the cloud field keeps evolving. Sensor noise 0.003.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np
import pandas as pd
from scipy.ndimage import gaussian_filter
from scipy.special import ndtri

from workbench.core.errors import MissingColumnsError, WorkbenchError

CRS = "EPSG:5070"
FRAME_MINUTES = 15
# NAD83 / Conus Albers (EPSG:5070) on the GRS80 ellipsoid
_A, _F = 6_378_137.0, 1.0 / 298.257222101
_E2 = 2 * _F - _F**2
_E = np.sqrt(_E2)
_LAT0, _LON0, _LAT1, _LAT2 = 23.0, -96.0, 29.5, 45.5
_SLOPE = 3.4  # spectral slope of the cloud field's 2-D power spectrum
_OUTER_SCALE_KM = 150.0  # size of the largest cloud systems
_BLEND_KM = 40.0  # width of the transition between two regions' cloud cover


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
) -> Iterator[tuple[pd.Timestamp, np.ndarray]]:
    """Yield ``(time, reflectance)`` every 15 minutes for ``days`` days from ``start``.

    Parameters
    ----------
    regions : pandas.DataFrame
        ``bronze.raw_regions``.
    weather : pandas.DataFrame
        ``bronze.raw_weather`` (hourly; the rows whose location_id is a region id are used:
        cloud_cover_pct [%]). Times it does not cover hold the nearest value.
    start : timestamp-like
        First frame (UTC; floored to the quarter-hour).
    days : int
        Number of days of frames (96 a day).
    size : int
        Pixels per side, on the grid of :func:`satellite_grid`.
    rng : numpy.random.Generator
        Source of randomness.

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
    cover = _cover_at(regions, weather, times) / 100.0  # (time, region) [1]
    index = region_index(regions, size)
    x, y = _pixel_xy(regions, size)
    pixel_km = (x[0, 1] - x[0, 0]) / 1000.0
    blend = np.stack(
        [
            gaussian_filter((index == r).astype(float), _BLEND_KM / pixel_km, mode="nearest")
            for r in range(len(regions))
        ]
    )
    blend /= blend.sum(axis=0, keepdims=True)
    lon, lat = albers_inverse(x, y)
    ground = _ground(rng, lon, size)
    field = _CloudField(rng, size, pixel_km=pixel_km)
    for k, time in enumerate(times):
        z = field.step()
        c = np.clip(np.tensordot(cover[k], blend, axes=1), 0.0, 1.0)
        excess = z - ndtri(np.clip(1.0 - c, 1e-4, 1.0 - 1e-4))
        excess[c < 1e-3] = -1.0
        thick = np.maximum(excess, 0.0)
        alpha = 1.0 - np.exp(-thick / 0.35)
        bright = np.clip(0.5 + 0.1 * z + 0.15 * (1.0 - np.exp(-thick / 0.8)), 0.3, 0.9)
        light = _daylight(time, lon, lat)
        frame = (ground * (1.0 - alpha) + bright * alpha) * light
        frame += rng.normal(0.0, 0.003, frame.shape)
        yield time, np.clip(frame, 0.0, 1.0).astype(np.float32)


class _CloudField:
    """Advected, evolving Gaussian random field (unit variance), on a doubled periodic domain."""

    def __init__(self, rng: np.random.Generator, size: int, pixel_km: float) -> None:
        self.rng, self.size, self.n = rng, size, 2 * size
        ky = np.fft.fftfreq(self.n)[:, None]
        kx = np.fft.rfftfreq(self.n)[None, :]
        k = np.hypot(kx, ky)  # cycles per pixel
        k0 = min(pixel_km / _OUTER_SCALE_KM, 0.25)  # outer scale [cycles per pixel]
        amp = (k**2 + k0**2) ** (-_SLOPE / 4.0)  # power ~ k^(-slope)
        full_k = np.hypot(np.fft.fftfreq(self.n)[None, :], np.fft.fftfreq(self.n)[:, None])
        amp /= np.sqrt(np.mean((full_k**2 + k0**2) ** (-_SLOPE / 2.0)))
        self.amp, self.kx, self.ky = amp, kx, ky
        # decorrelation time by scale: 15 min at the pixel, hours at the outer scale
        wavelength_km = pixel_km / np.maximum(k, k0)
        tau_frames = np.clip((wavelength_km / 10.0) ** (2.0 / 3.0), 1.0, 48.0)
        self.rho = np.exp(-1.0 / tau_frames)
        self.innov = np.sqrt(1.0 - self.rho**2) * amp
        self.pixel_km = pixel_km
        self.heading = rng.uniform(30.0, 60.0)  # towards the north-east [deg from east]
        self.speed = rng.uniform(10.0, 15.0)  # [m/s]
        self.spec = amp * self._white()

    def _white(self) -> np.ndarray:
        return np.fft.rfft2(self.rng.standard_normal((self.n, self.n)), norm="ortho")

    def step(self) -> np.ndarray:
        """Advance one frame and return the visible (size, size) part of the field."""
        self.heading += self.rng.normal(0.0, 3.0)
        self.speed = float(np.clip(self.speed + self.rng.normal(0.0, 0.4), 4.0, 25.0))
        shift_px = self.speed * FRAME_MINUTES * 60.0 / 1000.0 / self.pixel_km
        u = shift_px * np.cos(np.radians(self.heading))  # east, pixels
        v = -shift_px * np.sin(np.radians(self.heading))  # rows grow southwards
        phase = np.exp(-2j * np.pi * (self.kx * u + self.ky * v))
        self.spec = self.rho * phase * self.spec + self.innov * self._white()
        field = np.fft.irfft2(self.spec, s=(self.n, self.n), norm="ortho")
        lo = self.size // 2
        return field[lo : lo + self.size, lo : lo + self.size]


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


def _cover_at(regions: pd.DataFrame, weather: pd.DataFrame, times: pd.DatetimeIndex) -> np.ndarray:
    """Cloud cover [%] per frame and region, linear in time between hourly observations."""
    ids = regions["region_id"].tolist()
    rows = weather[weather["location_id"].isin(ids)]
    wide = rows.assign(timestamp=pd.to_datetime(rows["timestamp"], utc=True)).pivot_table(
        index="timestamp", columns="location_id", values="cloud_cover_pct", aggfunc="mean"
    )
    wide = wide.reindex(columns=ids)
    if wide.empty:
        raise WorkbenchError(
            f"expected cloud_cover_pct rows for the regions {ids} in the weather frame; found none"
        )
    wide = wide.T.fillna(wide.mean(axis=1)).T.fillna(50.0)  # a region without rows: the mean
    src = wide.index.as_unit("ns").asi8.astype(float)
    dst = times.asi8.astype(float)
    cols = [np.interp(dst, src, wide[c].to_numpy(float)) for c in ids]
    return np.clip(np.stack(cols, axis=1), 0.0, 100.0)


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
