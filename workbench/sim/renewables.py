"""Wind and solar plant output at 5-minute resolution from hourly weather.

Both generators return *wide* frames (index: UTC interval starts of ``index_5min``; one column per
asset_id; values in MW): the available output of each plant before any curtailment, which
:func:`workbench.sim.dispatch.dispatch` may then curtail.

Conventions
-----------
Hourly weather values (``bronze.raw_weather``) are read as hour averages labelled at the interval
start, so they are interpolated to 5 minutes between hour centres (``label + 30 min``). A plant
whose asset_id has no weather location falls back to its region's location.

Wind: hub-height speed from the 100 m speed by a power-law shear profile, plus 5-minute turbulence,
through :func:`turbine_power_curve` averaged over a spread of speeds (spread turbines smooth the
plant curve), times a slowly varying turbine availability and electrical losses.

Solar: a pvlib model per plant. Sun position from pvlib's analytical formulas (within about 0.5 deg
of SPA, vectorised over plants), pvlib Ineichen clear sky times the weather frame's haze, times
the clear-sky index of the system's advecting cloud field at the plant
(:mod:`workbench.sim.clouds`, the clouds the satellite frames show: broken cloud gives ramps of
tens of % within minutes), Erbs decomposition, ``pvlib.tracking.singleaxis`` (backtracking) or a
fixed rack,
``pvlib.irradiance.get_total_irradiance`` (Hay-Davies), SAPM cell temperature, PVWatts DC and
PVWatts inverter clipped at ``capacity_mw`` (AC).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.signal import lfilter

from workbench.core.errors import WorkbenchError
from workbench.sim.clouds import CloudField

#: Defaults where an asset leaves an engineering column NaN.
WIND_DEFAULTS = {
    "hub_height_m": 100.0,
    "cut_in_m_per_s": 3.0,
    "rated_m_per_s": 12.0,
    "cut_out_m_per_s": 25.0,
}
SOLAR_DEFAULTS = {"tilt_deg": 25.0, "azimuth_deg": 180.0, "dc_ac_ratio": 1.3}

SHEAR_EXPONENT = 0.14  # power-law wind shear [1]
WIND_SPREAD = 0.08  # relative std of speeds across a plant's turbines [1]
WIND_TURBULENCE = 0.05  # relative std of 5-minute speed fluctuations [1]
WIND_ELECTRICAL_EFFICIENCY = 0.975  # collection system and transformer [1]
SOLAR_DC_LOSS = 0.095  # soiling, mismatch, wiring, LID, shading (PVWatts-like, no availability) [1]
GCR = 0.35  # ground coverage ratio of trackers [1]
ALBEDO = 0.2
BLOCK_SAMPLES = 1 << 17  # daytime samples per block of the PV model

_GH_NODES, _GH_WEIGHTS = np.polynomial.hermite_e.hermegauss(5)
_GH_WEIGHTS = _GH_WEIGHTS / _GH_WEIGHTS.sum()


def turbine_power_curve(
    wind_m_per_s: np.ndarray | float,
    cut_in: float | np.ndarray = 3.0,
    rated: float | np.ndarray = 12.0,
    cut_out: float | np.ndarray = 25.0,
) -> np.ndarray:
    """Power curve of one turbine, per unit of its rating.

    Zero below ``cut_in``, a cubic rise ``(v^3 - vi^3) / (vr^3 - vi^3)`` up to ``rated``, flat
    at 1 until ``cut_out`` and zero above it (storm shutdown).

    Parameters
    ----------
    wind_m_per_s : array_like
        Hub-height wind speed [m/s]. Broadcasts with the other arguments.
    cut_in, rated, cut_out : float or array_like
        Cut-in, rated and cut-out speeds [m/s].

    Returns
    -------
    numpy.ndarray
        Output [per unit of rated power], in ``[0, 1]``.
    """
    v = np.asarray(wind_m_per_s, dtype=float)
    vi, vr, vo = (np.asarray(x, dtype=float) for x in (cut_in, rated, cut_out))
    rise = (v**3 - vi**3) / (vr**3 - vi**3)
    out = np.where(v < vr, np.clip(rise, 0.0, 1.0), 1.0)
    return np.where((v < vi) | (v >= vo) | ~np.isfinite(v), 0.0, out)


def plant_power_curve(
    wind_m_per_s: np.ndarray,
    cut_in: float | np.ndarray = 3.0,
    rated: float | np.ndarray = 12.0,
    cut_out: float | np.ndarray = 25.0,
    spread: float = WIND_SPREAD,
) -> np.ndarray:
    """Plant power curve: the turbine curve averaged over turbines that see a spread of speeds.

    Parameters
    ----------
    wind_m_per_s : array_like
        Plant-average hub-height wind speed [m/s].
    cut_in, rated, cut_out : float or array_like
        Turbine speeds [m/s].
    spread : float
        Relative standard deviation of the speeds seen across the plant [1] (Gauss-Hermite
        average over 5 nodes).

    Returns
    -------
    numpy.ndarray
        Output [per unit of plant rating].
    """
    v = np.asarray(wind_m_per_s, dtype=float)
    total = np.zeros(np.broadcast_shapes(v.shape, np.shape(cut_in)), dtype=float)
    for node, weight in zip(_GH_NODES, _GH_WEIGHTS, strict=True):
        total += weight * turbine_power_curve(v * (1.0 + spread * node), cut_in, rated, cut_out)
    return total


def wind_output(
    assets: pd.DataFrame,
    weather: pd.DataFrame,
    index_5min: pd.DatetimeIndex,
    rng: np.random.Generator,
) -> pd.DataFrame:
    """Available output of every wind plant at 5-minute resolution.

    Parameters
    ----------
    assets : pandas.DataFrame
        Asset table (``Grid.assets``); rows with ``technology == 'wind'`` are used, with
        ``capacity_mw`` [MW], ``hub_height_m`` [m], ``cut_in_m_per_s``, ``rated_m_per_s``,
        ``cut_out_m_per_s`` [m/s] (NaN: defaults of :data:`WIND_DEFAULTS`).
    weather : pandas.DataFrame
        Hourly ``bronze.raw_weather`` rows; ``wind_speed_100m_m_per_s`` [m/s] per location.
    index_5min : pandas.DatetimeIndex
        UTC interval starts of the output.
    rng : numpy.random.Generator
        Source of turbulence and availability noise.

    Returns
    -------
    pandas.DataFrame
        Index ``index_5min`` (named ``timestamp``), one column per wind asset_id [MW], in
        ``[0, capacity_mw]``.
    """
    plants = _select(assets, "wind", WIND_DEFAULTS)
    if plants.empty:
        return _empty_wide(index_5min)
    locations = _weather_locations(plants, weather)
    v100 = _hourly_to_5min(weather, "wind_speed_100m_m_per_s", locations, index_5min)
    n, m = v100.shape
    shear = (plants["hub_height_m"].to_numpy() / 100.0) ** SHEAR_EXPONENT
    turbulence = 1.0 + WIND_TURBULENCE * _ar1(rng, n, m, minutes=20.0)
    speed = np.clip(v100 * shear * turbulence, 0.0, None)
    # each plant's curve tabulated every 0.02 m/s, then interpolated (exact to < 1e-3 pu)
    grid_speed = np.linspace(0.0, 40.0, 2001)
    table = plant_power_curve(
        grid_speed[:, None],
        plants["cut_in_m_per_s"].to_numpy(),
        plants["rated_m_per_s"].to_numpy(),
        plants["cut_out_m_per_s"].to_numpy(),
    )
    per_unit = np.column_stack([np.interp(speed[:, j], grid_speed, table[:, j]) for j in range(m)])
    # Turbine availability: mostly 96-99 %, dipping for a few days when turbines are down.
    unavailable = np.clip(0.025 + 0.02 * _ar1(rng, n, m, minutes=3 * 24 * 60.0), 0.0, 0.12)
    factor = (1.0 - unavailable) * WIND_ELECTRICAL_EFFICIENCY
    mw = per_unit * factor * plants["capacity_mw"].to_numpy()
    return _wide(mw, index_5min, plants["asset_id"])


def solar_output(
    assets: pd.DataFrame,
    weather: pd.DataFrame,
    index_5min: pd.DatetimeIndex,
    rng: np.random.Generator,
    clouds: CloudField | None = None,
) -> pd.DataFrame:
    """Available AC output of every solar plant at 5-minute resolution (pvlib PVWatts model).

    Parameters
    ----------
    assets : pandas.DataFrame
        Asset table (``Grid.assets``); rows with ``technology == 'solar'`` are used, with
        ``capacity_mw`` [MW AC], ``latitude``/``longitude`` [deg], ``tracking``
        ('single_axis' or 'fixed'), ``tilt_deg``, ``azimuth_deg`` [deg] (fixed racks) and
        ``dc_ac_ratio`` [1].
    weather : pandas.DataFrame
        Hourly ``bronze.raw_weather`` rows: ``ghi_w_per_m2`` [W/m2], ``cloud_cover_pct`` [%],
        ``temperature_f`` [degF], ``wind_speed_100m_m_per_s`` [m/s] per location.
    index_5min : pandas.DatetimeIndex
        UTC interval starts of the output; each value is the interval average (the model is
        evaluated at the interval centre).
    rng : numpy.random.Generator
        Source of inverter availability (and of the cloud field when ``clouds`` is not given).
    clouds : CloudField, optional
        The system's cloud field on ``index_5min`` (the one the satellite frames show): it sets
        each plant's clear-sky index. Without it a field anchored on the plants' own weather
        locations is drawn from ``rng``.

    Returns
    -------
    pandas.DataFrame
        Index ``index_5min`` (named ``timestamp``), one column per solar asset_id [MW]:
        exactly 0 with the sun below the horizon, never above ``capacity_mw``.
    """
    plants = _select(assets, "solar", SOLAR_DEFAULTS)
    if plants.empty:
        return _empty_wide(index_5min)
    if "tracking" not in plants:
        plants["tracking"] = "single_axis"
    locations = _weather_locations(plants, weather)
    n, m = len(index_5min), len(plants)
    if clouds is None:
        sites = pd.DataFrame(
            {
                "location_id": locations,
                "kind": "solar",
                "latitude": plants["latitude"],
                "longitude": plants["longitude"],
            }
        )
        clouds = CloudField(sites, weather, index_5min, rng)  # fmt: skip
    elif not clouds.index.equals(index_5min):
        raise WorkbenchError(
            f"expected a cloud field on the output's steps {index_5min[0]} .. {index_5min[-1]} "
            f"({n}); found {clouds.index[0]} .. {clouds.index[-1]} ({len(clouds.index)})"
        )
    zenith, azimuth, doy = _sun_position(index_5min, plants)
    day = zenith < 90.0
    ghi_clear = _clear_sky_ghi(plants, weather, locations, index_5min)
    lit = np.flatnonzero(day.any(axis=1))  # the night needs no clouds
    kc = np.ones((n, m))
    kc[lit] = clouds.clear_sky_index_at(
        plants["longitude"].to_numpy(), plants["latitude"].to_numpy(), lit
    )
    ghi = np.where(day, kc * ghi_clear, 0.0)
    temp_air_c = (_hourly_to_5min(weather, "temperature_f", locations, index_5min) - 32.0) / 1.8
    wind_2m = 0.5 * _hourly_to_5min(weather, "wind_speed_100m_m_per_s", locations, index_5min)
    inverter_up = 1.0 - np.clip(0.01 + 0.01 * _ar1(rng, n, m, minutes=2 * 24 * 60.0), 0.0, 0.08)

    # The plant model runs on the daytime samples only, flattened, in cache-sized blocks.
    rows, cols = np.nonzero(day)
    mw = np.zeros((n, m))
    for lo in range(0, len(rows), BLOCK_SAMPLES):
        r, c = rows[lo : lo + BLOCK_SAMPLES], cols[lo : lo + BLOCK_SAMPLES]
        ac = _plant_ac(plants, c, zenith[r, c], azimuth[r, c], ghi[r, c], doy[r],
                       temp_air_c[r, c], wind_2m[r, c])  # fmt: skip
        mw[r, c] = ac * inverter_up[r, c]
    return _wide(mw, index_5min, plants["asset_id"])


def _clear_sky_ghi(
    plants: pd.DataFrame, weather: pd.DataFrame, locations: list[str], index: pd.DatetimeIndex
) -> np.ndarray:
    """Clear-sky GHI [W/m2] at each plant and 5-minute step: pvlib Ineichen (mid-interval)
    times the haze of the weather frame, i.e. its hourly GHI over Ineichen x Kasten-Czeplak of
    its cloud cover (hours with the sun too low for a ratio take the neighbouring hours')."""
    from workbench.sim.weather import clear_sky, kasten_czeplak

    sites = plants.assign(altitude_m=plants.get("altitude_m", 0.0)).fillna({"altitude_m": 0.0})
    clear = clear_sky(sites, index)["ghi"]  # (step, plant)
    hour = index.floor("h")
    clear_hourly = pd.DataFrame(clear, index=hour).groupby(level=0).mean()
    ghi = weather.pivot_table(index="timestamp", columns="location_id", values="ghi_w_per_m2")
    cover = weather.pivot_table(index="timestamp", columns="location_id", values="cloud_cover_pct")
    ghi = ghi.reindex(index=clear_hourly.index, columns=locations).to_numpy(float)
    cover = cover.reindex(index=clear_hourly.index, columns=locations).to_numpy(float)
    expected = clear_hourly.to_numpy() * kasten_czeplak(cover)
    with np.errstate(invalid="ignore", divide="ignore"):
        haze = np.where(clear_hourly.to_numpy() > 60.0, ghi / expected, np.nan)
    haze = pd.DataFrame(np.clip(haze, 0.5, 1.1)).interpolate(limit_direction="both")
    if haze.isna().to_numpy().any():
        raise WorkbenchError(
            "expected daytime ghi_w_per_m2 and cloud_cover_pct at every solar plant's weather "
            f"location {sorted(set(locations))}; found a location without any"
        )
    return clear * _interp_hourly(haze.to_numpy(), clear_hourly.index, index)


def _plant_ac(plants, cols, zen, azi, ghi, doy, temp_air_c, wind_m_per_s) -> np.ndarray:
    """AC output [MW] of daytime samples (plant index ``cols``): Erbs, tracking or fixed rack,
    Hay-Davies transposition, physical IAM, SAPM cell temperature, PVWatts DC and inverter."""
    from pvlib import iam, inverter, pvsystem, temperature

    tilt, surf_az, aoi = _orientation(plants, cols, zen, azi)
    dni, dhi = _erbs(ghi, zen, doy)
    dni_extra = 1367.0 * (1.0 + 0.033 * np.cos(2.0 * np.pi * doy / 365.0))
    poa = _poa(tilt, surf_az, zen, azi, dni, ghi, dhi, dni_extra)
    params = temperature.TEMPERATURE_MODEL_PARAMETERS["sapm"]["open_rack_glass_polymer"]
    t_cell = temperature.sapm_cell(
        poa["poa_global"], temp_air_c, np.maximum(wind_m_per_s, 0.5), **params
    )
    iam_factor = np.nan_to_num(iam.physical(aoi), nan=0.0)
    effective = np.clip(poa["poa_direct"] * iam_factor + poa["poa_diffuse"], 0.0, None)
    capacity = plants["capacity_mw"].to_numpy()[cols]
    pdc0 = capacity * plants["dc_ac_ratio"].to_numpy()[cols]
    pdc = pvsystem.pvwatts_dc(effective, t_cell, pdc0, gamma_pdc=-0.0035) * (1.0 - SOLAR_DC_LOSS)
    pac = inverter.pvwatts(np.clip(pdc, 0.0, None), pdc0=capacity / 0.96, eta_inv_nom=0.96)
    return np.clip(np.nan_to_num(pac, nan=0.0), 0.0, capacity)


# --------------------------------------------------------------------------- helpers


def _select(assets: pd.DataFrame, technology: str, defaults: dict[str, float]) -> pd.DataFrame:
    plants = assets.loc[assets["technology"] == technology].reset_index(drop=True).copy()
    for column, value in defaults.items():
        if column not in plants:
            plants[column] = value
        plants[column] = plants[column].astype(float).fillna(value)
    return plants


def _empty_wide(index: pd.DatetimeIndex) -> pd.DataFrame:
    return pd.DataFrame(index=index.rename("timestamp"))


def _wide(mw: np.ndarray, index: pd.DatetimeIndex, asset_ids: pd.Series) -> pd.DataFrame:
    frame = pd.DataFrame(mw, index=index.rename("timestamp"), columns=asset_ids.tolist())
    frame.columns.name = "asset_id"
    return frame


def _weather_locations(plants: pd.DataFrame, weather: pd.DataFrame) -> list[str]:
    """The weather location of each plant: its own asset_id, else its region_id."""
    known = set(weather["location_id"].unique())
    out = []
    for asset_id, region_id in zip(plants["asset_id"], plants["region_id"], strict=True):
        if asset_id in known:
            out.append(asset_id)
        elif region_id in known:
            out.append(region_id)
        else:
            msg = (
                f"expected weather at {asset_id!r} or its region {region_id!r}; found locations "
                f"{sorted(known)}"
            )
            raise WorkbenchError(msg)
    return out


def _hourly_to_5min(
    weather: pd.DataFrame, column: str, locations: list[str], index_5min: pd.DatetimeIndex
) -> np.ndarray:
    """Hour averages of ``column`` at each location, interpolated to ``index_5min`` [its unit]."""
    wide = weather.pivot_table(index="timestamp", columns="location_id", values=column)
    wide = wide.sort_index().reindex(columns=locations)
    values = wide.interpolate(limit_direction="both").to_numpy(dtype=float)
    return _interp_hourly(values, wide.index, index_5min)


def _interp_hourly(
    values: np.ndarray, hours: pd.DatetimeIndex, index_5min: pd.DatetimeIndex
) -> np.ndarray:
    """Linear interpolation of hour averages (rows at ``hours``, interval-start labels) between
    hour centres, evaluated at the centres of the 5-minute intervals; constant beyond the ends."""
    hour_ns = hours.as_unit("ns").asi8.astype(float)
    target = index_5min.as_unit("ns").asi8.astype(float) + _half_step_ns(index_5min)
    pos = np.interp(target, hour_ns + 1.8e12, np.arange(len(hour_ns), dtype=float))
    lo = np.floor(pos).astype(int)
    hi = np.minimum(lo + 1, len(hour_ns) - 1)
    frac = (pos - lo)[:, None]
    return values[lo] * (1.0 - frac) + values[hi] * frac


def _half_step_ns(index: pd.DatetimeIndex) -> float:
    return (index[1] - index[0]).value / 2.0 if len(index) > 1 else 1.5e11


def _ar1(rng: np.random.Generator, n: int, m: int, minutes: float) -> np.ndarray:
    """Unit-variance AR(1) noise: ``n`` 5-minute steps by ``m`` series, decorrelating in
    ``minutes``."""
    phi = np.exp(-5.0 / minutes)
    shocks = rng.standard_normal((n, m))
    shocks[0] /= np.sqrt(1.0 - phi**2)  # start in the stationary distribution
    return lfilter([np.sqrt(1.0 - phi**2)], [1.0, -phi], shocks, axis=0)


def _sun_position(
    index: pd.DatetimeIndex, plants: pd.DataFrame
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Zenith and azimuth [deg] at the interval centres for every plant, and day of year."""
    from pvlib import solarposition

    centre = index + (index[1] - index[0]) / 2 if len(index) > 1 else index
    doy = centre.dayofyear.to_numpy()
    hours = (centre - centre.normalize()).total_seconds().to_numpy() / 3600.0
    dec = solarposition.declination_spencer71(doy)[:, None]
    eot = solarposition.equation_of_time_spencer71(doy)[:, None]
    lon = plants["longitude"].to_numpy(dtype=float)[None, :]
    lat = np.radians(plants["latitude"].to_numpy(dtype=float))[None, :]
    hour_angle = np.radians(15.0 * (hours[:, None] - 12.0) + lon + eot / 4.0)
    zenith = solarposition.solar_zenith_analytical(lat, hour_angle, dec)
    azimuth = solarposition.solar_azimuth_analytical(lat, hour_angle, dec, zenith)
    return np.degrees(zenith), np.degrees(azimuth), doy


def _orientation(
    plants: pd.DataFrame, cols: np.ndarray, zenith: np.ndarray, azimuth: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Surface tilt, surface azimuth and angle of incidence [deg] of each daytime sample."""
    from pvlib import irradiance, tracking

    tracked = (plants["tracking"].to_numpy() == "single_axis")[cols]
    tilt = plants["tilt_deg"].to_numpy(dtype=float)[cols].copy()
    surf_az = plants["azimuth_deg"].to_numpy(dtype=float)[cols].copy()
    if tracked.any():
        track = tracking.singleaxis(
            zenith[tracked],
            azimuth[tracked],
            axis_tilt=0.0,
            axis_azimuth=180.0,
            max_angle=60.0,
            backtrack=True,
            gcr=GCR,
        )
        tilt[tracked] = np.nan_to_num(np.asarray(track["surface_tilt"], dtype=float), nan=0.0)
        surf_az[tracked] = np.nan_to_num(
            np.asarray(track["surface_azimuth"], dtype=float), nan=90.0
        )
    aoi = irradiance.aoi(tilt, surf_az, zenith, azimuth)
    return tilt, surf_az, np.asarray(aoi, dtype=float)


def _erbs(ghi: np.ndarray, zenith: np.ndarray, doy: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """DNI and DHI [W/m2] from GHI by the Erbs model."""
    from pvlib import irradiance

    parts = irradiance.erbs(ghi, zenith, doy)
    dni = np.nan_to_num(np.asarray(parts["dni"], dtype=float), nan=0.0)
    dhi = np.nan_to_num(np.asarray(parts["dhi"], dtype=float), nan=0.0)
    return dni, dhi


def _poa(tilt, surf_az, zenith, azimuth, dni, ghi, dhi, dni_extra) -> dict[str, np.ndarray]:
    """Plane-of-array irradiance components [W/m2] (Hay-Davies sky diffuse)."""
    from pvlib import irradiance

    poa = irradiance.get_total_irradiance(
        tilt, surf_az, zenith, azimuth, dni, ghi, dhi,
        dni_extra=dni_extra, albedo=ALBEDO, model="haydavies",
    )  # fmt: skip
    return {k: np.nan_to_num(np.asarray(poa[k], dtype=float), nan=0.0) for k in poa}
