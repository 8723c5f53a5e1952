# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#   kernelspec:
#     display_name: GridMind (workbench)
#     language: python
#     name: gridmind
# ---

# %% [markdown]
# # Satellite cube: from GeoTIFF frames to cloud features per solar plant
#
# ## Overview
# A geostationary imager sends a visible-band picture of the sky over the grid every 15 minutes.
# The platform lands each picture as a GeoTIFF (`bronze.satellite`), the workbench ingests them
# into one Zarr cube `(time, y, x)` that keeps its map projection (`silver.satellite`), and turns
# the cube into hourly cloud features at every solar plant (`silver.satellite_site_features`) that
# the solar forecaster joins point-in-time. This notebook walks that path:
#
# 1. open the GeoTIFF folder and the Zarr cube lazily, and read their CRS and affine transform;
# 2. look at frames as images with the solar plants on top, and at a whole day in small multiples;
# 3. compute the Heliosat cloud index from clear and cloudy reference reflectances;
# 4. extract it at each plant (nearest pixel vs buffered mean) as time series;
# 5. read the hourly features and their `available_at`, and see why the lag matters;
# 6. watch the ingest reject a corrupt and a mis-projected file while the rest loads.
#
# ## Prerequisites
# | concept | importance | notes |
# |---|---|---|
# | xarray | necessary | labelled n-d arrays, `.sel`, `.isel`, lazy dask-backed data |
# | map projections (CRS) | helpful | pixels are squares in projected metres, not degrees |
# | affine transform | helpful | maps a pixel (column, row) to map coordinates (x, y) |
# | matplotlib | helpful | `imshow`, `scatter` |
# | the catalog tour | helpful | `notebooks/tutorials/00_catalog_and_medallion` |
#
# Time to learn: 25 minutes. Data: the demo lakehouse (`make demo`), or any lakehouse that
# `WORKBENCH_HOME` points at, with `silver.satellite` and its site features built.

# %% [markdown]
# ## Parameters

# %% tags=["parameters"]
day = None  # a UTC date "YYYY-MM-DD" inside the cube; None = the last day it holds
frames_to_show = 4  # daylight frames in the row of maps
plants_to_plot = 3  # solar plants in the per-plant time series
radius_km = 25.0  # radius of the buffered mean [km]
ingest_demo_frames = 6  # good frames copied into the temporary folder of the ingest demo

# %% [markdown]
# ## Imports

# %%
import shutil
import tempfile
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import xarray as xr
from affine import Affine
from matplotlib.patches import Circle

from workbench import open_catalog
from workbench.features.satellite import (
    SiteSampler,
    cloud_index,
    cos_zenith,
    lonlat_to_grid_xy,
    satellite_site_features,
)
from workbench.io.rasters import write_geotiff
from workbench.io.satellite import SatelliteIngestError, ingest_geotiffs, lonlat_to_crs

# %% [markdown]
# ## Bronze: a folder of GeoTIFFs
# Each file is one single-band frame of reflectance (the fraction of sunlight sent back to the
# sensor, 0..1, unit `1`), named and tagged by its time in UTC. `cat.scan("bronze.satellite")`
# stacks the folder lazily: every file becomes one dask chunk that is read only when needed. It
# refuses a folder whose files disagree on the grid; the ingest below is the forgiving path.

# %%
cat = open_catalog()
folder = Path(cat.entry("bronze.satellite").location)
files = sorted(folder.glob("*.tif"))
size_mb = sum(f.stat().st_size for f in files) / 1e6
print(f"{len(files)} GeoTIFFs, {size_mb:.1f} MB in {folder}")
print(f"first {files[0].name}, last {files[-1].name}")
raw = cat.scan("bronze.satellite")
raw

# %% [markdown]
# ## Silver: the Zarr cube, its CRS and its transform
# `ingest_satellite(cat)` (run by the medallion build) appended every frame to one Zarr v3 store.
# The grid is stored twice: as Dataset attributes (`crs_wkt`, `epsg`, `transform` in rasterio
# order *a, b, c, d, e, f*) for xarray users, and as a `spatial_ref` coordinate with the CF
# grid-mapping attributes (`crs_wkt`, `GeoTransform` in GDAL order *c, a, b, f, d, e*) that GDAL
# and rioxarray read. Pixel-centre `x`/`y` [m] and `lon`/`lat` [deg] come along as coordinates.

# %%
cube = cat.scan("silver.satellite")
cube

# %% [markdown]
# The affine transform maps a pixel's (column, row) to projected metres: `x = a·col + b·row + c`,
# `y = d·col + e·row + f`. Here `b = d = 0` (north up, no rotation), `a` is the pixel width and
# `e` the (negative) pixel height, so row 0 is the northern edge. The CRS is CONUS Albers equal
# area (EPSG:5070): every pixel covers the same ground area, which makes buffered means fair.

# %%
transform = Affine(*cube.attrs["transform"])
height, width = cube.sizes["y"], cube.sizes["x"]
left, top = transform * (0, 0)
right, bottom = transform * (width, height)
lon = cube["lon"].values
lat = cube["lat"].values
pixel_km = transform.a / 1000
crs_name = cube.attrs["crs_wkt"].split('"')[1]  # PROJCS["NAD83 / Conus Albers", ...
grid_facts = pd.Series(
    {
        "CRS": f"EPSG:{cube.attrs['epsg']} ({crs_name})",
        "shape (y, x) [pixels]": f"{height} x {width}",
        "pixel size [km]": f"{pixel_km:.2f} x {-transform.e / 1000:.2f}",
        "extent x [km]": f"{left / 1000:,.0f} .. {right / 1000:,.0f}",
        "extent y [km]": f"{bottom / 1000:,.0f} .. {top / 1000:,.0f}",
        "longitude [deg]": f"{lon.min():.2f} .. {lon.max():.2f}",
        "latitude [deg]": f"{lat.min():.2f} .. {lat.max():.2f}",
        "GDAL GeoTransform": cube["spatial_ref"].attrs["GeoTransform"],
        "frames": f"{cube.sizes['time']} ({cube.indexes['time'][0]} .. {cube.indexes['time'][-1]})",
    },
    name="silver.satellite",
)
print(transform)
grid_facts.to_frame()

# %%
# the x/y coordinates are the pixel centres the transform gives at (col + 0.5, row + 0.5)
centres_x, _ = transform * (np.arange(width) + 0.5, np.full(width, 0.5))
_, centres_y = transform * (np.full(height, 0.5), np.arange(height) + 0.5)
assert np.allclose(cube["x"].values, centres_x)
assert np.allclose(cube["y"].values, centres_y)

# %% [markdown]
# The day we look at (`day`, or the cube's last day). Bronze and silver hold the same values:
# the ingest changes the container, not the pixels.

# %%
times = cube.indexes["time"]
day_start = times[-1].floor("D") if day is None else pd.Timestamp(day).floor("D")
if day_start.tzinfo is not None:  # the cube's time axis is naive UTC
    day_start = day_start.tz_convert("UTC").tz_localize(None)
day_end = day_start + pd.Timedelta(days=1)
day_cube = cube.sel(time=slice(day_start, day_end - pd.Timedelta(seconds=1))).load()
day_times = day_cube.indexes["time"]
if not len(day_times):
    msg = f"expected frames on {day_start:%Y-%m-%d}; the cube covers {times[0]}..{times[-1]}"
    raise ValueError(msg + ": pick another `day`")
same = np.array_equal(
    raw["reflectance"].sel(time=day_times).values, day_cube["reflectance"].values, equal_nan=True
)
print(f"{day_start:%Y-%m-%d}: {len(day_times)} frames; bronze == silver: {same}")

# %% [markdown]
# ## Frames with the solar plants
# The plants come from `gold.dim_assets` (longitude/latitude in degrees, WGS 84). To put them on
# the image they are projected into the raster's CRS with PROJ (`lonlat_to_crs`). The thin lines
# are meridians and parallels drawn from the cube's `lon`/`lat` coordinates: on an Albers map the
# meridians converge to the north, so the "up" of the image is not exactly north away from the
# central meridian (96° W). Circles show the `radius_km` buffer of each plant.

# %%
regions = cat.read("gold.dim_regions")
local_tz = regions["timezone"].mode().iloc[0]  # for display only; everything inside is UTC
assets = cat.read("gold.dim_assets")
solar = assets[assets["technology"] == "solar"].sort_values("asset_id", ignore_index=True)
solar["x_m"], solar["y_m"] = lonlat_to_crs(
    solar["longitude"], solar["latitude"], cube.attrs["crs_wkt"]
)
solar["label"] = solar["asset_id"].str.removeprefix("SOLAR_")
extent_km = [left / 1000, right / 1000, bottom / 1000, top / 1000]
x_km, y_km = cube["x"].values / 1000, cube["y"].values / 1000


def local(t) -> str:
    """A UTC frame time as local clock time, for titles."""
    return pd.Timestamp(t).tz_localize("UTC").tz_convert(local_tz).strftime("%H:%M")


def show_frame(ax, frame, title, *, labels=False, circles=False, cmap="gray", vmax=0.9):
    """One frame as an image [km], with graticule and the solar plants."""
    image = ax.imshow(frame, extent=extent_km, origin="upper", cmap=cmap, vmin=0, vmax=vmax)
    grat = {"colors": "#7fb3d5", "linewidths": 0.4, "alpha": 0.7}
    ax.contour(x_km, y_km, lon, levels=np.arange(-120, -80, 2), **grat)
    ax.contour(x_km, y_km, lat, levels=np.arange(20, 45, 2), **grat)
    ax.scatter(
        solar["x_m"] / 1000,
        solar["y_m"] / 1000,
        marker="^",
        s=28,
        c="orange",
        edgecolors="k",
        linewidths=0.5,
        zorder=3,
    )
    if circles:
        for x, y in zip(solar["x_m"], solar["y_m"], strict=True):
            ax.add_patch(Circle((x / 1000, y / 1000), radius_km, fill=False, ec="orange", lw=0.6))
    if labels:
        for row in solar.itertuples():
            ax.annotate(
                row.label,
                (row.x_m / 1000, row.y_m / 1000),
                xytext=(3, 3),
                textcoords="offset points",
                fontsize=6,
                color="yellow",
            )
    ax.set(title=title, xlim=extent_km[:2], ylim=extent_km[2:])
    ax.tick_params(labelsize=7)
    return image


# the sun must be up over most of the frame: mean cos(zenith) over the pixels
sun = cos_zenith(day_times, lon, lat).mean(axis=(1, 2))
runs = np.split(np.arange(sun.size), np.flatnonzero(np.diff(sun > 0.35)) + 1)
daylight = max((run for run in runs if sun[run[0]] > 0.35), key=len)  # the longest sunny spell
noon = int(np.argmax(sun))
fig, ax = plt.subplots(figsize=(8, 7.5))
image = show_frame(
    ax,
    day_cube["reflectance"].values[noon],
    f"{day_times[noon]:%Y-%m-%d %H:%M} UTC ({local(day_times[noon])} local)",
    labels=True,
    circles=True,
)
ax.set(xlabel="x [km, EPSG:5070]", ylabel="y [km, EPSG:5070]")
fig.colorbar(image, ax=ax, shrink=0.8, label="reflectance [1]")

# %% [markdown]
# A few daylight frames across the day: the cloud field drifts with the wind and the ground
# brightens and darkens with the sun.

# %%
picks = daylight[np.linspace(0, len(daylight) - 1, frames_to_show).round().astype(int)]
fig, axes = plt.subplots(1, len(picks), figsize=(3.4 * len(picks), 3.6), sharey=True)
for ax, k in zip(np.atleast_1d(axes), picks, strict=True):
    show_frame(ax, day_cube["reflectance"].values[k], f"{local(day_times[k])} local")
fig.suptitle(f"reflectance [1], {day_start:%Y-%m-%d}", y=1.02)
fig.tight_layout()

# %% [markdown]
# ## A day in small multiples
# One frame per hour, like the frames of an animation read left to right, top to bottom. Night
# frames are black: with no sunlight there is nothing to reflect, which is why the cloud index
# below is left undefined (NaN) when the sun is low.

# %%
hourly = [k for k, t in enumerate(day_times) if t.minute == 0]
cols = 6
rows = int(np.ceil(len(hourly) / cols))
fig, axes = plt.subplots(rows, cols, figsize=(2.0 * cols, 2.0 * rows))
for ax in axes.ravel():
    ax.axis("off")
for ax, k in zip(axes.ravel(), hourly, strict=False):
    ax.imshow(day_cube["reflectance"].values[k], extent=extent_km, cmap="gray", vmin=0, vmax=0.9)
    ax.scatter(solar["x_m"] / 1000, solar["y_m"] / 1000, marker="^", s=6, c="orange")
    ax.set_title(f"{day_times[k]:%H}Z / {local(day_times[k])}", fontsize=8)
fig.suptitle(f"reflectance every hour, {day_start:%Y-%m-%d} (UTC / local)")
fig.tight_layout()

# %% [markdown]
# ## The cloud index (Heliosat)
# Clouds are brighter than the ground. The Heliosat method turns reflectance ρ into a cloud index
# by placing it between two references:
#
# $$ n = \frac{\rho - \rho_\text{clear}}{\rho_\text{cloud} - \rho_\text{clear}} $$
#
# - **ρ_clear**, the clear-sky reference, is the ground as seen without clouds. It differs by pixel
#   (desert is brighter than forest), so it is a *low percentile per pixel* of the daylight
#   reflectance over the cube (5 %): most pixels are clear at least now and then.
# - **ρ_cloud**, the cloudy reference, is a bright, thick cloud: a *high percentile over all*
#   daylight pixels (95 %).
#
# So n ≈ 0 is clear sky, n ≈ 1 overcast, clipped to [0, 1.2]. The clear-sky index that scales the
# clear-sky irradiance is roughly k* ≈ 1 − n, which is why n is the solar forecaster's feature.
# Frames with the sun low at the pixel (cos zenith < 0.2) are NaN: twilight reflectance says
# little about clouds. The references are computed over the whole cube handed in (future frames
# included): slowly varying calibration constants, but a strict backtest computes them on a cube
# cut at the forecast origin.

# %%
full = cube.load()  # percentiles need the whole time axis
ci = cloud_index(full)
rho = full["reflectance"].values.astype(np.float64)
lit = cos_zenith(full["time"].values, lon, lat) >= 0.2
rho_lit = np.where(lit, rho, np.nan)
rho_clear = np.nanpercentile(rho_lit, 5, axis=0)
rho_cloud = ci.attrs["rho_cloud"]
k = int(np.flatnonzero(full.indexes["time"] == day_times[noon])[0])

fig, axes = plt.subplots(1, 3, figsize=(15, 4.2))
values = rho_lit[np.isfinite(rho_lit)]
axes[0].hist(values, bins=80, color="0.5")
axes[0].axvspan(
    *np.nanpercentile(rho_clear, [2, 98]),
    color="tab:green",
    alpha=0.3,
    label="ρ_clear (98 % of the pixels)",
)
axes[0].axvline(rho_cloud, color="tab:blue", lw=2, label=f"ρ_cloud = {rho_cloud:.2f}")
axes[0].set(
    xlabel="daylight reflectance [1]",
    ylabel="pixels x frames",
    yscale="log",
    title="the two references",
)
axes[0].legend(fontsize=8)
im = show_frame(
    axes[1], rho_clear, "ρ_clear per pixel (the clear ground)", vmax=0.35, cmap="cividis"
)
fig.colorbar(im, ax=axes[1], shrink=0.85, label="[1]")
im = show_frame(
    axes[2],
    ci.values[k],
    f"cloud index n, {local(day_times[noon])} local",
    cmap="Blues_r",
    vmax=1.2,
)
fig.colorbar(im, ax=axes[2], shrink=0.85, label="n [1]")
fig.tight_layout()

# %% [markdown]
# ## Per plant: nearest pixel vs buffered mean
# `SiteSampler` takes, for each plant, the nearest pixel (point value) and the mean over the
# pixels whose centre lies within `radius_km` (buffered value). The features layer places the
# plants with `lonlat_to_grid_xy`, which works from the cube's own `lon`/`lat` grid instead of
# calling PROJ; it agrees with the PROJ route to within 1 % of a pixel (about ten metres on the
# ci grid; checked below).

# %%
sx, sy = lonlat_to_grid_xy(full, solar["longitude"], solar["latitude"])
gap_m = np.hypot(sx - solar["x_m"], sy - solar["y_m"]).max()
print(f"largest distance between the two placements: {gap_m:.2f} m (pixel: {pixel_km:.1f} km)")
assert gap_m < 0.01 * pixel_km * 1e3, f"the placements differ by {gap_m:.1f} m: more than 1 %"
sites = pd.DataFrame({"asset_id": solar["asset_id"], "x": sx, "y": sy})
sampler = SiteSampler.from_grid(full["x"].values, full["y"].values, sites, radius_km)
in_day = (full.indexes["time"] >= day_start) & (full.indexes["time"] < day_end)
point, buffered = sampler.sample(ci.values[in_day])
print(f"pixels in each {radius_km:g} km buffer: {sorted(set(sampler.buffer_pixels.tolist()))}")

# %% [markdown]
# The plants whose cloud index moved most on the day. The point value follows every cloud edge
# that crosses one pixel; the buffered mean is smoother and "sees" clouds approaching from the
# neighbourhood. The steps are the hourly feature the forecaster gets (next section).

# %%
features = cat.read("silver.satellite_site_features", start=day_start, end=day_end)
moving = pd.Series(np.nanstd(point, axis=0), index=sampler.site_ids).sort_values(ascending=False)
chosen = moving.index[:plants_to_plot].tolist()
frame_local = day_times.tz_localize("UTC").tz_convert(local_tz)
fig, axes = plt.subplots(
    len(chosen), 1, figsize=(11, 2.6 * len(chosen)), sharex=True, squeeze=False
)
for ax, asset in zip(axes[:, 0], chosen, strict=True):
    s = sampler.site_ids.index(asset)
    ax.plot(frame_local, point[:, s], ".-", lw=0.8, ms=3, label="nearest pixel (15 min)")
    ax.plot(frame_local, buffered[:, s], lw=2, label=f"{radius_km:g} km buffer mean (15 min)")
    hours = features[features["asset_id"] == asset]
    ax.step(
        hours["timestamp"].dt.tz_convert(local_tz),
        hours["cloud_index"],
        where="post",
        color="k",
        lw=1,
        alpha=0.7,
        label="hourly feature (cloud_index)",
    )
    ax.set(ylabel="cloud index [1]", ylim=(-0.05, 1.25), title=asset)
axes[0, 0].legend(fontsize=8, ncol=3, loc="upper left")
axes[-1, 0].set_xlabel(f"local time ({local_tz})")
hour = pd.Timedelta(hours=1)
axes[-1, 0].set_xlim(frame_local[daylight[0]] - hour, frame_local[daylight[-1]] + hour)
fig.autofmt_xdate()
fig.tight_layout()

# %% [markdown]
# ## Hourly features and when they become known
# `silver.satellite_site_features` has one row per plant and hour (`timestamp` = hour start, UTC):
# the hour's mean point cloud index, its standard deviation over the four frames (broken cloud),
# the buffered mean, the mean reflectance, the previous hour's value and the number of daylight
# frames. `available_at` is the hour's last frame time plus the catalog's availability lag
# (15 min): the 12:00 hour holds frames 12:00-12:45, the 12:45 frame lands at 13:00, so the row
# is known at 13:00, at the *end* of the hour it describes.

# %%
lag = cat.entry("silver.satellite").availability_lag_td
print(f"availability lag of silver.satellite: {lag}")
one = features[features["asset_id"] == chosen[0]].set_index("timestamp")
one.loc[one["frames"] > 0].drop(columns="asset_id").head(6)

# %% [markdown]
# The table is a pure function of the cube and the plants: `satellite_site_features` on the cube
# recomputes it (the buffered column depends on `radius_km`; the build used 25 km).

# %%
again = satellite_site_features(full, sites, radius_km=radius_km, availability_lag=lag)
again = again[
    (again["timestamp"] >= day_start.tz_localize("UTC"))
    & (again["timestamp"] < day_end.tz_localize("UTC"))
]
check = features.merge(again, on=["asset_id", "timestamp"], suffixes=("", "_again"))
diff = (check["cloud_index"] - check["cloud_index_again"]).abs().max()
print(f"{len(check)} rows compared; largest |cloud_index difference| = {diff:.2e}")
assert (check["available_at"] == check["available_at_again"]).all()

# %% [markdown]
# **Why the lag matters.** A solar forecast issued at 12:30 cannot know the clouds of 12:00-13:00:
# that row appears at 13:00. A backtest that joins features on `timestamp` (the hour they
# describe) hands the model the clouds of the hour it is predicting, and scores far better than
# the same model can do live. The point-in-time join takes, for each issue time, the latest row
# whose `available_at` is not after it (`merge_asof` here; `get_historical_features` does the
# same in the warehouse for the catalog's feature views).

# %%
issue = pd.date_range(day_start, day_end, freq="15min", inclusive="left", tz="UTC", unit="us")
wanted = pd.DataFrame({"issue_time": issue, "hour": issue.floor("h")})
series = one.reset_index()[["timestamp", "cloud_index", "available_at"]]
naive = wanted.merge(series, left_on="hour", right_on="timestamp", how="left")
pit = pd.merge_asof(
    wanted,
    series.sort_values("available_at"),
    left_on="issue_time",
    right_on="available_at",
    direction="backward",
)
peeks = (naive["available_at"] > naive["issue_time"]).mean()
print(f"join on the hour: {peeks:.0%} of the issue times use a row not yet available")
print(f"point-in-time join: {(pit['available_at'] > pit['issue_time']).mean():.0%}")

fig, ax = plt.subplots(figsize=(11, 3.2))
t_local = issue.tz_convert(local_tz)
ax.step(
    t_local,
    naive["cloud_index"],
    where="post",
    lw=2,
    color="tab:red",
    label="joined on the hour (peeks)",
)
ax.step(
    t_local,
    pit["cloud_index"],
    where="post",
    lw=2,
    color="tab:green",
    label="point-in-time (available_at <= issue time)",
)
ax.set(
    ylabel="cloud index [1]",
    xlabel=f"issue time, local ({local_tz})",
    title=f"{chosen[0]}: what a forecast issued at each time may use",
)
ax.legend(fontsize=8)
fig.autofmt_xdate()

# %% [markdown]
# How much does the lag cost? Clouds persist, so the last hour known at issue time still
# carries information, but far from all of it. Over all plants and hours with four daylight
# frames: each hour's cloud index against the hour before (`cloud_index_lag_1h`, the freshest
# value a forecast issued at the hour's start can use). A backtest that peeks sits on the
# diagonal (r = 1); live, the forecaster gets the cloud of the scatter.

# %%
lit_hours = features[features["frames"] == 4].dropna(subset=["cloud_index_lag_1h"])
r = lit_hours["cloud_index"].corr(lit_hours["cloud_index_lag_1h"])
fig, ax = plt.subplots(figsize=(4.8, 4.5))
ax.scatter(lit_hours["cloud_index_lag_1h"], lit_hours["cloud_index"], s=12, alpha=0.6)
ax.plot([0, 1.2], [0, 1.2], color="tab:red", lw=1, label="what a peeking backtest knows")
ax.set(
    xlabel="cloud index known at issue time (hour before) [1]",
    ylabel="cloud index of the hour [1]",
    title=f"{len(lit_hours)} plant-hours: r = {r:.2f}, r² = {r * r:.2f}",
    aspect="equal",
)
ax.legend(fontsize=8, loc="upper left")

# %% [markdown]
# ## The ingest report: bad files are named, the rest loads
# Real GeoTIFF feeds deliver the occasional truncated file (a transfer cut short) and, after a
# change upstream, frames in another projection. `ingest_geotiffs` reads each file on its own:
# an unreadable file or one on another grid (CRS, transform or shape) is rejected with a reason
# naming it, and the good frames of the batch still load. `strict=True` refuses the whole batch
# and writes nothing. Here in a temporary folder: a few good frames, one truncated copy and one
# frame written in longitude/latitude degrees (EPSG:4326) instead of Albers metres.

# %%
tmp = Path(tempfile.mkdtemp(prefix="satellite_ingest_"))
demo = tmp / "frames"
demo.mkdir()
for path in files[-ingest_demo_frames:]:
    shutil.copy(path, demo / path.name)
last = times[-1]
corrupt = demo / f"frame_{last + pd.Timedelta(minutes=15):%Y%m%dT%H%M%S}Z.tif"
corrupt.write_bytes(files[-1].read_bytes()[: files[-1].stat().st_size // 3])
degrees = (
    (lon.max() - lon.min()) / width,
    0.0,
    float(lon.min()),
    0.0,
    -(lat.max() - lat.min()) / height,
    float(lat.max()),
)
misprojected = write_geotiff(
    demo,
    (last + pd.Timedelta(minutes=30)).to_pydatetime(),
    day_cube["reflectance"].values[noon],
    crs="EPSG:4326",
    transform=degrees,
)
print("\n".join(sorted(p.name for p in demo.glob("*.tif"))))

# %%
store = tmp / "satellite.zarr"
report = ingest_geotiffs(demo, store, chunks={"time": 8, "y": 64, "x": 64})
print(report)
pd.DataFrame([{"file": Path(r.path).name, "reason": r.reason} for r in report.rejected])

# %% [markdown]
# The store holds only the good frames, on the Albers grid; running the ingest again is
# idempotent (times already stored are skipped, the bad files are reported again).

# %%
loaded = xr.open_zarr(store, consolidated=False)
print(f"store: {loaded.sizes['time']} frames, EPSG:{loaded.attrs['epsg']}")
assert loaded.sizes["time"] == report.loaded == ingest_demo_frames
again_report = ingest_geotiffs(demo, store)
print(again_report)

# %% [markdown]
# With `strict=True` the same folder is refused before anything is written, with the reasons in
# the error — the right mode for a scheduled job that should stop and page rather than continue.

# %%
strict_store = tmp / "strict.zarr"
try:
    ingest_geotiffs(demo, strict_store, strict=True)
except SatelliteIngestError as exc:
    print(f"{type(exc).__name__}: {exc}")
print(f"strict store created: {strict_store.exists()}")
shutil.rmtree(tmp)

# %% [markdown]
# ## Summary
# - `bronze.satellite` is a folder of single-band GeoTIFFs; `silver.satellite` is one Zarr cube
#   `(time, y, x)` that keeps the CRS (EPSG:5070) and the affine transform, both for xarray
#   (attributes) and for GDAL (`spatial_ref`); `cat.scan` opens either lazily.
# - The affine transform turns pixels into projected metres; plants are projected with PROJ
#   (`lonlat_to_crs`) to be drawn and sampled on the grid.
# - The Heliosat cloud index places reflectance between a per-pixel clear-ground reference and a
#   bright-cloud reference; it is undefined when the sun is low.
# - Per plant, the nearest pixel is sharp and noisy, the buffered mean smoother and wider.
# - Hourly features become known at the end of their hour (`available_at`); join them
#   point-in-time or the backtest peeks at the clouds it should forecast.
# - The ingest names every rejected file (damaged, mis-projected) and loads the rest;
#   `strict=True` writes nothing instead.
#
# ## What's next
# - The solar forecasting notebook in `notebooks/forecasting/` uses these cloud features.
# - `workbench.io.satellite.ingest_satellite(cat)` and
#   `workbench.features.satellite.build_satellite_features(cat)` rebuild the cube and the features
#   after new GeoTIFFs land.

# %%
cat.close()
