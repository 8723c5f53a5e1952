"""GeoTIFF frames → a Zarr v3 cube (time, y, x) with its CRS and affine transform.

:func:`ingest_geotiffs` reads a folder of single-band GeoTIFFs with rasterio and appends the
frames the store does not have yet (idempotent: times already stored are skipped). Each file is
checked on its own: an unreadable (truncated, corrupt) file or one on another grid (CRS,
transform, shape) is rejected with a reason naming it, collected in the :class:`IngestReport`,
and the rest of the batch still loads; ``strict=True`` raises instead and writes nothing.

The grid is kept twice, for xarray users and for GIS tools: the Dataset attributes ``crs_wkt``,
``epsg`` and ``transform`` (rasterio/GDAL order a, b, c, d, e, f), and a scalar ``spatial_ref``
coordinate with the CF grid-mapping attributes (``crs_wkt``, ``spatial_ref``, ``GeoTransform``)
that rioxarray and GDAL read. Pixel-centre ``x``/``y`` [m in the CRS] and ``lon``/``lat`` [deg]
coordinates come along.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from workbench.core.errors import DataAccessError
from workbench.core.extras import require
from workbench.io.rasters import frame_time

VARIABLE = "reflectance"
DEFAULT_CHUNKS = {"time": 96, "y": 256, "x": 256}
_BATCH = 96  # frames held in memory per append


class SatelliteIngestError(DataAccessError):
    """``strict=True`` and some GeoTIFFs were rejected; nothing was written."""


@dataclass(frozen=True)
class RejectedFile:
    """A GeoTIFF that was not loaded, and why."""

    path: str
    reason: str


@dataclass
class IngestReport:
    """What :func:`ingest_geotiffs` did: frames loaded, skipped (already stored) and rejected."""

    store: str
    loaded: int = 0
    skipped: int = 0
    rejected: list[RejectedFile] = field(default_factory=list)
    first_time: datetime | None = None
    last_time: datetime | None = None

    @property
    def ok(self) -> bool:
        return not self.rejected

    def __str__(self) -> str:
        lines = [
            f"{self.store}: {self.loaded} frames loaded, {self.skipped} already stored, "
            f"{len(self.rejected)} rejected"
        ]
        lines += [f"  - {Path(r.path).name}: {r.reason}" for r in self.rejected]
        return "\n".join(lines)


@dataclass(frozen=True)
class FrameGrid:
    crs_wkt: str
    transform: tuple[float, ...]
    shape: tuple[int, int]

    def matches(self, other: FrameGrid) -> bool:
        same_transform = all(
            abs(a - b) <= 1e-6 * max(1.0, abs(a))
            for a, b in zip(self.transform, other.transform, strict=False)
        )
        return self.shape == other.shape and same_transform and _same_crs(self, other)

    def describe(self) -> str:
        rounded = tuple(round(v, 3) for v in self.transform)
        return f"CRS {_crs_name(self.crs_wkt)}, transform {rounded}, shape {self.shape}"


def _same_crs(a: FrameGrid, b: FrameGrid) -> bool:
    if a.crs_wkt == b.crs_wkt:
        return True
    from rasterio.crs import CRS

    return CRS.from_wkt(a.crs_wkt) == CRS.from_wkt(b.crs_wkt)


def _crs_name(wkt: str) -> str:
    from rasterio.crs import CRS

    crs = CRS.from_wkt(wkt)
    epsg = crs.to_epsg()
    return f"EPSG:{epsg}" if epsg else wkt[:60]


def read_frame(path: str | Path) -> tuple[datetime, Any, FrameGrid]:
    """Read one single-band GeoTIFF fully: (time, float32 array, grid).

    Raises :class:`~workbench.core.errors.DataAccessError` naming the file when it cannot be
    opened or decoded (truncated, corrupt), has no CRS, or no time.
    """
    rasterio = require("rasterio", feature="reading GeoTIFF frames")
    import numpy as np

    path = Path(path)
    try:
        with rasterio.open(path) as src:
            if src.crs is None:
                raise DataAccessError(f"{path}: expected a georeferenced GeoTIFF; found no CRS")
            grid = FrameGrid(src.crs.to_wkt(), tuple(src.transform)[:6], (src.height, src.width))
            when = frame_time(path, src.tags())
            array = src.read(1).astype(np.float32)
            if src.nodata is not None and not np.isnan(src.nodata):
                array[array == src.nodata] = np.nan
    except DataAccessError:
        raise
    except Exception as exc:  # rasterio raises RasterioIOError / CPLE_* for damaged files
        detail = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        msg = f"{path}: expected a readable GeoTIFF; found a damaged file ({detail})"
        raise DataAccessError(msg) from exc
    return when, array, grid


def _store_grid(zarr_path: str) -> tuple[FrameGrid, Any] | None:
    """The grid and time index of an existing store, or None when there is none."""
    if "://" not in zarr_path and not Path(zarr_path).exists():
        return None
    import xarray as xr

    ds = xr.open_zarr(zarr_path, chunks=None, consolidated=False)
    grid = FrameGrid(
        ds.attrs["crs_wkt"],
        tuple(float(v) for v in ds.attrs["transform"]),
        (ds.sizes["y"], ds.sizes["x"]),
    )
    return grid, ds.indexes["time"]


def frames_dataset(times: list[datetime], arrays: list[Any], grid: FrameGrid) -> Any:
    """Frames on one grid as a Dataset (time, y, x) carrying the CRS, transform and lon/lat."""
    xr = require("xarray", feature="building a satellite cube")
    import numpy as np
    from rasterio.crs import CRS

    a, b, c, d, e, f = grid.transform
    height, width = grid.shape
    xs = c + a * (np.arange(width) + 0.5)
    ys = f + e * (np.arange(height) + 0.5)
    lon, lat = pixel_lonlat(xs, ys, grid.crs_wkt)
    epsg = CRS.from_wkt(grid.crs_wkt).to_epsg()
    spatial_ref = xr.DataArray(
        np.int32(0),
        attrs={
            "crs_wkt": grid.crs_wkt,
            "spatial_ref": grid.crs_wkt,
            "GeoTransform": " ".join(str(v) for v in (c, a, b, f, d, e)),  # GDAL order
        },
    )
    stamps = np.array([np.datetime64(t.replace(tzinfo=None), "ns") for t in times])
    return xr.Dataset(
        {
            VARIABLE: (
                ("time", "y", "x"),
                np.stack(arrays).astype(np.float32),
                {"units": "1", "grid_mapping": "spatial_ref", "long_name": "cloud reflectance"},
            )
        },
        coords={
            "time": stamps,
            "y": ("y", ys, {"units": "m"}),
            "x": ("x", xs, {"units": "m"}),
            "lon": (("y", "x"), lon.astype(np.float32), {"units": "degrees_east"}),
            "lat": (("y", "x"), lat.astype(np.float32), {"units": "degrees_north"}),
            "spatial_ref": spatial_ref,
        },
        attrs={"crs_wkt": grid.crs_wkt, "epsg": int(epsg or 0), "transform": list(grid.transform)},
    )


def pixel_lonlat(xs: Any, ys: Any, crs_wkt: str) -> tuple[Any, Any]:
    """Longitude and latitude [deg] (WGS 84) of every pixel centre, (height, width) each."""
    import numpy as np

    gx, gy = np.meshgrid(xs, ys)
    lon, lat = project_points(gx.ravel(), gy.ravel(), crs_wkt, "EPSG:4326")
    return lon.reshape(gx.shape), lat.reshape(gx.shape)


def project_points(x: Any, y: Any, src_crs: str, dst_crs: str) -> tuple[Any, Any]:
    """Points from one CRS to another with PROJ (through rasterio.warp), as float64 arrays."""
    require("rasterio", feature="projecting coordinates")
    import numpy as np
    from rasterio.warp import transform

    xs, ys = transform(
        src_crs, dst_crs, np.asarray(x, float).tolist(), np.asarray(y, float).tolist()
    )
    return np.asarray(xs, float), np.asarray(ys, float)


def lonlat_to_crs(lon: Any, lat: Any, crs_wkt: str) -> tuple[Any, Any]:
    """Longitude/latitude [deg] (WGS 84) to x/y [CRS units] of a raster."""
    return project_points(lon, lat, "EPSG:4326", crs_wkt)


def ingest_geotiffs(
    folder: str | Path,
    zarr_path: str | Path,
    *,
    strict: bool = False,
    chunks: dict[str, int] | None = None,
) -> IngestReport:
    """Append the GeoTIFF frames of ``folder`` that ``zarr_path`` does not hold yet.

    Parameters
    ----------
    folder : str or Path
        Single-band GeoTIFFs (``*.tif``), one frame each, timed by ``TIFFTAG_DATETIME`` or by a
        file name ending in a time (``frame_20240701T121500Z.tif``).
    zarr_path : str or Path
        The Zarr v3 store; created on the first run with the grid of the files (the most common
        CRS/transform/shape among readable files), appended to afterwards on the store's grid.
    strict : bool
        Raise :class:`SatelliteIngestError` (writing nothing) when any file is rejected.
    chunks : dict, optional
        Chunk preset of a new store (default ``{time: 96, y: 256, x: 256}``).

    Returns
    -------
    IngestReport
        Frames loaded, skipped (already stored) and rejected (path and reason).
    """
    require("xarray", feature="ingesting GeoTIFFs")
    import numpy as np

    from workbench.io.cubes import append_cube, create_cube

    folder, store = Path(folder), str(zarr_path)
    if not folder.is_dir():
        raise DataAccessError(f"expected a folder of GeoTIFFs at {folder}; found nothing there")
    report = IngestReport(store=store)
    existing = _store_grid(store)
    stored_times = set() if existing is None else set(existing[1].asi8.tolist())
    last_stored = None if existing is None or not len(existing[1]) else existing[1][-1]
    frames: list[tuple[Path, datetime, Any, FrameGrid]] = []
    for path in sorted([*folder.glob("*.tif"), *folder.glob("*.tiff")]):
        try:
            when, array, grid = read_frame(path)
        except DataAccessError as exc:
            report.rejected.append(RejectedFile(str(path), str(exc).split(": ", 1)[-1]))
            continue
        frames.append((path, when, array, grid))
    if existing is not None:
        reference = existing[0]
    elif frames:
        reference = Counter(g for _, _, _, g in frames).most_common(1)[0][0]
    else:
        reference = None
    seen: dict[int, Path] = {}
    keep: list[tuple[datetime, Any]] = []
    for path, when, array, grid in frames:
        stamp = int(np.datetime64(when.replace(tzinfo=None), "ns").astype(np.int64))
        if not grid.matches(reference):
            reason = f"expected {reference.describe()}; found {grid.describe()} (mis-projected)"
            report.rejected.append(RejectedFile(str(path), reason))
        elif stamp in stored_times:
            report.skipped += 1
        elif stamp in seen:
            reason = f"expected one frame per time; found {when} also in {seen[stamp].name}"
            report.rejected.append(RejectedFile(str(path), reason))
        elif last_stored is not None and stamp <= last_stored.value:
            reason = (
                f"expected a frame after the store's last time {last_stored}; found {when} "
                "(back-filling inside a stored period is not supported: rebuild the store)"
            )
            report.rejected.append(RejectedFile(str(path), reason))
        else:
            seen[stamp] = path
            keep.append((when, array))
    if strict and report.rejected:
        raise SatelliteIngestError(
            f"{len(report.rejected)} GeoTIFFs rejected; nothing written\n{report}"
        )
    keep.sort(key=lambda item: item[0])
    preset = chunks or DEFAULT_CHUNKS
    for i in range(0, len(keep), _BATCH):
        batch = keep[i : i + _BATCH]
        ds = frames_dataset([t for t, _ in batch], [a for _, a in batch], reference)
        if existing is None and i == 0:
            create_cube(ds, store, preset)
        else:
            append_cube(ds, store)
        report.loaded += len(batch)
    if keep:
        report.first_time, report.last_time = keep[0][0], keep[-1][0]
    return report


def ingest_satellite(cat: Any, *, strict: bool = False) -> IngestReport:
    """``bronze.satellite`` (GeoTIFFs) → ``silver.satellite`` (Zarr), with the catalog's chunks."""
    source, target = cat.entry("bronze.satellite"), cat.entry("silver.satellite")
    Path(target.location).parent.mkdir(parents=True, exist_ok=True)
    return ingest_geotiffs(source.location, target.location, strict=strict, chunks=target.chunks)


__all__ = [
    "IngestReport",
    "RejectedFile",
    "SatelliteIngestError",
    "frames_dataset",
    "ingest_geotiffs",
    "ingest_satellite",
    "lonlat_to_crs",
    "project_points",
    "read_frame",
]
