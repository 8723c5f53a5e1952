"""A folder of GeoTIFFs (one frame per file) as a lazy xarray cube (time, y, x) with its CRS."""

from __future__ import annotations

import re
from datetime import datetime
from pathlib import Path
from typing import Any

from workbench.core.errors import DataAccessError
from workbench.core.extras import require


def frame_time(path: Path, tags: dict[str, str]) -> datetime:
    """A frame's time: the TIFF ``TIFFTAG_DATETIME`` tag, else an ISO time in the file name."""
    raw = tags.get("TIFFTAG_DATETIME")
    if raw:
        return datetime.strptime(raw, "%Y:%m:%d %H:%M:%S")
    match = re.search(r"(\d{8}T\d{4}(?:\d{2})?)Z?$", path.stem)
    if match:
        stamp = match.group(1)
        return datetime.strptime(stamp, "%Y%m%dT%H%M%S" if len(stamp) == 15 else "%Y%m%dT%H%M")
    msg = (
        f"{path}: expected a TIFFTAG_DATETIME tag or a file name ending in a time such as "
        f"'20240701T1215Z'; found neither"
    )
    raise DataAccessError(msg)


def open_geotiff_series(folder: str | Path, chunks: dict[str, int] | None = None) -> Any:
    """Stack the single-band GeoTIFFs of ``folder`` lazily along ``time``.

    All files must share the first file's CRS, transform and shape; the CRS (WKT) and the
    affine transform are kept in the Dataset's attributes.
    """
    rasterio = require("rasterio", feature="reading GeoTIFF rasters")
    xr = require("xarray", feature="reading GeoTIFF rasters")
    da = require("dask.array", feature="reading GeoTIFF rasters lazily")
    import dask
    import numpy as np

    files = sorted(Path(folder).glob("*.tif"))
    if not files:
        msg = f"expected GeoTIFF files (*.tif) in {folder}; found none"
        raise DataAccessError(msg)
    with rasterio.open(files[0]) as ref:
        crs, transform, shape, dtype = ref.crs, ref.transform, ref.shape, ref.dtypes[0]
    times, frames = [], []

    def _read(path: Path) -> Any:
        with rasterio.open(path) as src:
            return src.read(1)

    for path in files:
        with rasterio.open(path) as src:
            if src.crs != crs or src.transform != transform or src.shape != shape:
                msg = (
                    f"{path}: expected CRS {crs}, transform {tuple(transform)[:6]} and shape "
                    f"{shape} like {files[0].name}; found {src.crs}, {tuple(src.transform)[:6]}, "
                    f"{src.shape}"
                )
                raise DataAccessError(msg)
            times.append(frame_time(path, src.tags()))
        frames.append(da.from_delayed(dask.delayed(_read)(path), shape=shape, dtype=dtype))
    cube = da.stack(frames)
    xs = transform.c + transform.a * (np.arange(shape[1]) + 0.5)
    ys = transform.f + transform.e * (np.arange(shape[0]) + 0.5)
    ds = xr.Dataset(
        {"reflectance": (("time", "y", "x"), cube)},
        coords={"time": np.array(times, dtype="datetime64[ns]"), "y": ys, "x": xs},
        attrs={"crs": crs.to_wkt(), "transform": tuple(transform)[:6]},
    )
    return ds.chunk(chunks) if chunks else ds


def write_geotiff(
    folder: str | Path,
    when: datetime,
    array: Any,
    *,
    crs: str,
    transform: tuple[float, ...],
    prefix: str = "frame",
) -> Path:
    """Write one single-band float32 frame as a tiled, compressed GeoTIFF named by its time.

    ``transform`` is the affine 6-tuple (a, b, c, d, e, f) as rasterio/GDAL order it.
    """
    rasterio = require("rasterio", feature="writing GeoTIFF rasters")
    from affine import Affine

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{prefix}_{when:%Y%m%dT%H%M%S}Z.tif"
    height, width = array.shape
    with rasterio.open(
        path,
        "w",
        driver="GTiff",
        width=width,
        height=height,
        count=1,
        dtype="float32",
        crs=crs,
        transform=Affine(*transform),
        compress="deflate",
    ) as dst:
        dst.write(array.astype("float32"), 1)
        dst.update_tags(TIFFTAG_DATETIME=f"{when:%Y:%m:%d %H:%M:%S}")
    return path
