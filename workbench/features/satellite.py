"""Cloud-index features per solar plant from the satellite cube (pure xarray/numpy/pandas).

Heliosat-style cloud index per pixel and frame::

    n = (rho - rho_clear) / (rho_cloud - rho_clear), clipped to [0, 1.2]

with ``rho`` the reflectance, ``rho_clear`` a low percentile of the pixel's daylight reflectance
over the cube (the clear-sky ground) and ``rho_cloud`` a high percentile of all daylight
reflectance (bright cloud). Frames where the sun is low at the pixel (cos zenith below
``min_cos_zenith``) get NaN: the index is meaningless at night and twilight.

Per plant: the nearest pixel (point value) and the mean over pixels whose centre lies within
``radius_km`` (buffered value), then hourly aggregates with a one-hour lag and the time each
hour becomes known (``available_at`` = the hour's last frame time + the availability lag), so
point-in-time joins cannot peek.

Known limitation: ``rho_clear`` and ``rho_cloud`` are computed over the whole cube handed in,
future frames included; they are slowly varying calibration constants, but a strict backtest
should compute features on a cube cut at the forecast origin.

:func:`build_satellite_features` reads the cube and the plants and writes the table through the
catalog; the GeoTIFF ingest itself (rasterio) is :func:`workbench.io.satellite.ingest_satellite`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import numpy as np
import pandas as pd

from workbench.core.errors import MissingColumnsError, WorkbenchError

CLOUD_INDEX_MAX = 1.2
FEATURE_COLUMNS = [
    "timestamp",
    "asset_id",
    "cloud_index",
    "cloud_index_std",
    "cloud_index_buffer",
    "reflectance",
    "cloud_index_lag_1h",
    "frames",
    "available_at",
]


class SatelliteFeatureError(WorkbenchError):
    """The cube or the sites do not fit the feature computation."""


def cos_zenith(times: Any, lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
    """Cosine of the solar zenith angle [1] per time and pixel, (time, *lon.shape).

    A compact solar-position formula (declination and equation of time by day of year),
    accurate to about half a degree, enough to separate day from twilight.

    Parameters
    ----------
    times : array-like of datetime64 (UTC)
    lon, lat : numpy.ndarray
        Longitude and latitude [deg].
    """
    idx = pd.DatetimeIndex(times)
    doy = idx.dayofyear.to_numpy(float)
    hours = (idx.hour + idx.minute / 60.0 + idx.second / 3600.0).to_numpy(float)
    decl = np.radians(23.44) * np.sin(2 * np.pi * (284 + doy) / 365.0)
    b = 2 * np.pi * (doy - 81) / 364.0
    eot_h = (9.87 * np.sin(2 * b) - 7.53 * np.cos(b) - 1.5 * np.sin(b)) / 60.0
    shape = (-1,) + (1,) * np.ndim(lon)
    hour_angle = np.radians(((hours + eot_h).reshape(shape) + np.asarray(lon) / 15.0 - 12.0) * 15.0)
    phi = np.radians(np.asarray(lat, float))
    d = decl.reshape(shape)
    return np.sin(phi) * np.sin(d) + np.cos(phi) * np.cos(d) * np.cos(hour_angle)


def cloud_index(
    cube: Any,
    *,
    low_percentile: float = 5.0,
    high_percentile: float = 95.0,
    min_cos_zenith: float = 0.2,
    variable: str = "reflectance",
) -> Any:
    """Heliosat-style cloud index (time, y, x) [1], NaN where the sun is low.

    Parameters
    ----------
    cube : xarray.Dataset
        ``silver.satellite``: ``reflectance`` (time, y, x) [1] with ``lon``/``lat`` coordinates
        [deg] (y, x). Loaded into memory (percentiles need the whole time axis).
    low_percentile, high_percentile : float
        Percentiles [%] giving ``rho_clear`` (per pixel) and ``rho_cloud`` (over the cube).
    min_cos_zenith : float
        Frames where cos(zenith) at the pixel is below this are NaN.
    """
    import xarray as xr

    if variable not in cube.data_vars:
        raise MissingColumnsError("cloud_index", [variable], cube.data_vars)
    missing = {"lon", "lat"} - set(cube.coords)
    if missing:
        raise MissingColumnsError("cloud_index (pixel coordinates)", missing, cube.coords)
    rho = np.asarray(cube[variable].values, dtype=np.float64)
    lon, lat = np.asarray(cube["lon"].values), np.asarray(cube["lat"].values)
    day = cos_zenith(cube["time"].values, lon, lat) >= min_cos_zenith
    rho = np.where(day, rho, np.nan)
    if not np.isfinite(rho).any():
        raise SatelliteFeatureError(
            f"expected daylight frames (cos zenith >= {min_cos_zenith}) in the cube; found none"
        )
    with np.errstate(all="ignore"):
        import warnings

        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN pixels: NaN, on purpose
            rho_clear = np.nanpercentile(rho, low_percentile, axis=0)
        rho_cloud = float(np.nanpercentile(rho, high_percentile))
        span = rho_cloud - rho_clear
        n = (rho - rho_clear) / np.where(span > 1e-6, span, np.nan)
    n = np.clip(n, 0.0, CLOUD_INDEX_MAX)
    return xr.DataArray(
        n.astype(np.float32),
        dims=cube[variable].dims,
        coords=dict(cube[variable].coords.items()),
        name="cloud_index",
        attrs={
            "units": "1",
            "rho_cloud": rho_cloud,
            "low_percentile": low_percentile,
            "high_percentile": high_percentile,
        },
    )


@dataclass(frozen=True)
class SiteSampler:
    """Per-site pixel lookups on one raster grid: nearest pixel and buffer weights.

    Build with :meth:`from_grid`; :meth:`sample` maps (time, y, x) frames to (time, site).
    """

    site_ids: tuple[str, ...]
    point_index: np.ndarray  # flat pixel index of each site's nearest pixel
    weights: Any  # scipy.sparse CSR (site, pixel), 1 for pixels in the buffer
    buffer_pixels: np.ndarray  # pixels in each site's buffer

    @classmethod
    def from_grid(
        cls, xs: np.ndarray, ys: np.ndarray, sites: pd.DataFrame, radius_km: float
    ) -> SiteSampler:
        """Lookups for ``sites`` (asset_id, x, y in the raster CRS [m]) on pixel centres.

        Sites farther than half a pixel outside the raster are refused (named in the error).
        """
        from scipy import sparse

        need = {"asset_id", "x", "y"}
        if not need <= set(sites.columns):
            raise MissingColumnsError("site extraction", need - set(sites.columns), sites.columns)
        if radius_km < 0:
            raise SatelliteFeatureError(f"expected radius_km >= 0; found {radius_km}")
        xs, ys = np.asarray(xs, float), np.asarray(ys, float)
        dx, dy = abs(xs[1] - xs[0]), abs(ys[1] - ys[0])
        sx, sy = sites["x"].to_numpy(float), sites["y"].to_numpy(float)
        outside = (
            (sx < xs.min() - dx / 2)
            | (sx > xs.max() + dx / 2)
            | (sy < ys.min() - dy / 2)
            | (sy > ys.max() + dy / 2)
        )
        if outside.any():
            names = sites["asset_id"].to_numpy(str)[outside].tolist()
            raise SatelliteFeatureError(
                f"expected every site inside the raster; found {len(names)} outside: {names[:10]} "
                "(extend the satellite grid or drop these sites)"
            )
        ix = np.abs(xs[None, :] - sx[:, None]).argmin(axis=1)
        iy = np.abs(ys[None, :] - sy[:, None]).argmin(axis=1)
        width = xs.size
        point = iy * width + ix
        gx, gy = np.meshgrid(xs, ys)
        rows, cols = [], []
        r2 = (radius_km * 1000.0) ** 2
        for s in range(len(sites)):
            inside = np.flatnonzero(((gx - sx[s]) ** 2 + (gy - sy[s]) ** 2).ravel() <= r2)
            inside = np.union1d(inside, [point[s]])  # at least the nearest pixel
            rows.append(np.full(inside.size, s))
            cols.append(inside)
        rows_a, cols_a = np.concatenate(rows), np.concatenate(cols)
        weights = sparse.csr_matrix(
            (np.ones(rows_a.size), (rows_a, cols_a)), shape=(len(sites), gx.size)
        )
        counts = np.bincount(rows_a, minlength=len(sites))
        return cls(tuple(sites["asset_id"].astype(str)), point, weights, counts)

    def sample(self, frames: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(point, buffered mean) values, each (time, site); NaN pixels are left out of means."""
        flat = np.asarray(frames, dtype=np.float64).reshape(frames.shape[0], -1)
        point = flat[:, self.point_index]
        valid = np.isfinite(flat)
        total = (self.weights @ np.where(valid, flat, 0.0).T).T
        count = (self.weights @ valid.T.astype(np.float64)).T
        with np.errstate(invalid="ignore", divide="ignore"):
            buffered = np.where(count > 0, total / count, np.nan)
        return point, buffered


def hourly_site_features(
    times: Any,
    site_ids: tuple[str, ...] | list[str],
    ci_point: np.ndarray,
    ci_buffer: np.ndarray,
    reflectance_point: np.ndarray,
    availability_lag: timedelta,
) -> pd.DataFrame:
    """Hourly features per site from per-frame values (time, site).

    Returns the columns of :data:`FEATURE_COLUMNS`; hours without daylight frames keep a row
    with NaN features and ``frames == 0``. ``cloud_index_std`` is the population std (ddof=0)
    over the hour's frames.
    """
    stamps = pd.DatetimeIndex(times)
    stamps = stamps.tz_localize("UTC") if stamps.tz is None else stamps.tz_convert("UTC")
    n_t, n_s = ci_point.shape
    long = pd.DataFrame(
        {
            "frame_time": np.repeat(stamps.to_numpy(), n_s),
            "asset_id": np.tile(np.asarray(site_ids, dtype=object), n_t),
            "ci": ci_point.ravel(),
            "ci_buffer": ci_buffer.ravel(),
            "refl": np.where(np.isfinite(ci_point), reflectance_point, np.nan).ravel(),
        }
    )
    long["frame_time"] = pd.to_datetime(long["frame_time"], utc=True)
    long["timestamp"] = long["frame_time"].dt.floor("h")
    grouped = long.groupby(["asset_id", "timestamp"], sort=True)
    out = pd.DataFrame(
        {
            "cloud_index": grouped["ci"].mean(),
            "cloud_index_std": grouped["ci"].std(ddof=0),
            "cloud_index_buffer": grouped["ci_buffer"].mean(),
            "reflectance": grouped["refl"].mean(),
            "frames": grouped["ci"].count().astype("int64"),
            "available_at": grouped["frame_time"].max() + pd.Timedelta(availability_lag),
        }
    ).reset_index()
    prev = out[["asset_id", "timestamp", "cloud_index"]].rename(
        columns={"cloud_index": "cloud_index_lag_1h"}
    )
    prev["timestamp"] = prev["timestamp"] + pd.Timedelta(hours=1)
    out = out.merge(prev, on=["asset_id", "timestamp"], how="left")
    return out[FEATURE_COLUMNS].sort_values(["timestamp", "asset_id"], ignore_index=True)


def satellite_site_features(
    cube: Any,
    sites: pd.DataFrame,
    *,
    radius_km: float = 25.0,
    availability_lag: timedelta = timedelta(minutes=15),
    **cloud_options: Any,
) -> pd.DataFrame:
    """Hourly cloud-index features for every site (pure: no I/O).

    Parameters
    ----------
    cube : xarray.Dataset
        ``silver.satellite`` (reflectance, x/y [m], lon/lat [deg]).
    sites : pandas.DataFrame
        ``asset_id`` and ``x``, ``y`` [m] in the cube's CRS.
    radius_km : float
        Buffer radius [km] of the buffered mean.
    availability_lag : timedelta
        When a frame becomes known after its time (the catalog's ``availability_lag``).
    **cloud_options
        Passed to :func:`cloud_index` (percentiles, ``min_cos_zenith``).
    """
    index = cloud_index(cube, **cloud_options)
    sampler = SiteSampler.from_grid(cube["x"].values, cube["y"].values, sites, radius_km)
    ci_point, ci_buffer = sampler.sample(index.values)
    refl_point, _ = sampler.sample(cube["reflectance"].values[:, :, :])
    return hourly_site_features(
        cube["time"].values, sampler.site_ids, ci_point, ci_buffer, refl_point, availability_lag
    )


def lonlat_to_grid_xy(cube: Any, lon: Any, lat: Any) -> tuple[np.ndarray, np.ndarray]:
    """Longitude/latitude [deg] to the cube's projected x/y [m], from its pixel lon/lat grid.

    The cube's ``lon``/``lat`` coordinates were computed with PROJ at ingest
    (:func:`workbench.io.satellite.pixel_lonlat`); here each point is placed at its nearest
    pixel and moved by the inverse of the local Jacobian d(lon, lat)/d(x, y) (central
    differences), accurate to metres on a smooth projection. The features layer stays free of
    rasterio/PROJ; :func:`workbench.io.satellite.lonlat_to_crs` is the direct PROJ route.
    """
    lon = np.asarray(lon, float)
    lat = np.asarray(lat, float)
    glon, glat = np.asarray(cube["lon"].values, float), np.asarray(cube["lat"].values, float)
    xs, ys = np.asarray(cube["x"].values, float), np.asarray(cube["y"].values, float)
    ny, nx = glon.shape
    coslat = np.cos(np.radians(lat))[:, None]
    d2 = ((glon.ravel()[None] - lon[:, None]) * coslat) ** 2 + (
        glat.ravel()[None] - lat[:, None]
    ) ** 2
    i, j = np.divmod(d2.argmin(axis=1), nx)
    i0, i1 = np.clip(i - 1, 0, ny - 1), np.clip(i + 1, 0, ny - 1)
    j0, j1 = np.clip(j - 1, 0, nx - 1), np.clip(j + 1, 0, nx - 1)
    dx, dy = xs[j1] - xs[j0], ys[i1] - ys[i0]
    jac = np.empty((lon.size, 2, 2))
    jac[:, 0, 0] = (glon[i, j1] - glon[i, j0]) / dx
    jac[:, 0, 1] = (glon[i1, j] - glon[i0, j]) / dy
    jac[:, 1, 0] = (glat[i, j1] - glat[i, j0]) / dx
    jac[:, 1, 1] = (glat[i1, j] - glat[i0, j]) / dy
    delta = np.stack([lon - glon[i, j], lat - glat[i, j]], axis=1)[:, :, None]
    step = np.linalg.solve(jac, delta)[:, :, 0]
    return xs[j] + step[:, 0], ys[i] + step[:, 1]


def build_satellite_features(cat: Any, *, radius_km: float = 25.0) -> int:
    """(Re)write ``silver.satellite_site_features`` for every solar plant of ``gold.dim_assets``
    from the ``silver.satellite`` cube; returns the rows written (upserted by asset and hour).

    Ingest the GeoTIFFs first with :func:`workbench.io.satellite.ingest_satellite` (I/O on
    rasters belongs to the io layer; this function only goes through the catalog).
    """
    from workbench.core.errors import DataAccessError

    assets = cat.read("gold.dim_assets")
    solar = assets[assets["technology"] == "solar"]
    if solar.empty:
        raise SatelliteFeatureError(
            f"expected solar plants (technology 'solar') in gold.dim_assets; found technologies "
            f"{sorted(assets['technology'].unique())}"
        )
    try:
        cube = cat.scan("silver.satellite").load()
    except DataAccessError as exc:
        msg = (
            f"{exc}; run workbench.io.satellite.ingest_satellite(cat) first to build "
            "silver.satellite from the bronze GeoTIFFs"
        )
        raise SatelliteFeatureError(msg) from exc
    x, y = lonlat_to_grid_xy(cube, solar["longitude"], solar["latitude"])
    sites = pd.DataFrame({"asset_id": solar["asset_id"].astype(str).to_numpy(), "x": x, "y": y})
    lag = cat.entry("silver.satellite").availability_lag_td
    features = satellite_site_features(cube, sites, radius_km=radius_km, availability_lag=lag)
    return cat.write("silver.satellite_site_features", features, mode="upsert")


__all__ = [
    "FEATURE_COLUMNS",
    "SatelliteFeatureError",
    "SiteSampler",
    "build_satellite_features",
    "cloud_index",
    "cos_zenith",
    "hourly_site_features",
    "lonlat_to_grid_xy",
    "satellite_site_features",
]
