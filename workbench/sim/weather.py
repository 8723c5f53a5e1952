"""Hourly weather per region and plant site (``bronze.raw_weather``) and its daily forecasts.

The actuals are built from a few physical pieces, each a vectorised array of (time, location):

- temperature: seasonal cycle, a diurnal cycle in local *solar* time (damped under cloud),
  synoptic anomalies (spatially correlated AR noise, larger in winter) and discrete weather
  systems: cold fronts that sweep north-west to south-east (sharp drop, 2-3 day recovery,
  warm humid air ahead, clearing and wind behind), rare arctic outbreaks and summer heat waves
  (stagnant, clear, light wind);
- dew point from a seasonal climatology plus the anomalies; relative humidity follows from it,
  so it is anti-correlated with temperature through the day;
- hub-height (100 m) wind: a Gaussian copula with a Weibull(k about 2.2) marginal, hours-long
  autocorrelation, a seasonal factor (spring high, late-summer low) and a diurnal factor
  (nocturnal low-level jet inland, afternoon sea breeze on the coast);
- cloud cover: a persistent latent field through a probit map (mostly clear or mostly cloudy
  hours, as observed), summer afternoon convection where humid, bands with fronts;
- irradiance: pvlib Ineichen clear sky at mid-interval, Kasten-Czeplak cloud attenuation, Erbs
  decomposition into DNI and DHI.

Plant sites share their region's correlated fields (correlation falls with distance), so they
follow the region's weather with local perturbation.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from workbench.core.errors import WorkbenchError
from workbench.core.extras import require
from workbench.sim.regions import Grid, distance_km, region_traits

WEATHER_COLUMNS: list[str] = [
    "timestamp", "location_id", "temperature_f", "relative_humidity_pct",
    "wind_speed_100m_m_per_s", "cloud_cover_pct", "ghi_w_per_m2", "dni_w_per_m2", "dhi_w_per_m2",
]  # fmt: skip
FORECAST_COLUMNS: list[str] = [
    "issue_time", "timestamp", "location_id", "temperature_f", "relative_humidity_pct",
    "wind_speed_100m_m_per_s", "cloud_cover_pct", "ghi_w_per_m2",
]  # fmt: skip
# Mid-month wind factor (spring high, late-summer low), normalised to mean 1.
_WIND_SEASON = np.array([1.02, 1.05, 1.12, 1.14, 1.08, 1.02, 0.94, 0.84, 0.86, 0.95, 1.0, 1.0])
# Mid-month temperature relative to the annual mean, per unit of annual amplitude (Texas:
# a long flat summer, the coldest month January).
_TEMP_SEASON = np.array(
    [-1.03, -0.82, -0.41, -0.05, 0.36, 0.77, 0.97, 0.97, 0.62, 0.05, -0.51, -0.92]
)
_WEIBULL_K = 2.2  # of the latent copula; the seasonal and diurnal factors widen it towards 2
_YEAR_DAYS = 365.25


def weather_locations(grid: Grid) -> pd.DataFrame:
    """Where weather is observed: every region (its centre), then every solar and wind site.

    Returns
    -------
    pandas.DataFrame
        ``location_id``, ``region_id``, ``kind`` ('region', 'solar' or 'wind'), ``latitude``
        and ``longitude`` [deg], ``altitude_m`` [m].
    """
    reg = grid.regions
    sites = grid.assets.loc[grid.assets["technology"].isin(["solar", "wind"])]
    alt = {r: region_traits(r, reg).altitude_m for r in reg["region_id"]}
    frame = pd.concat(
        [
            pd.DataFrame({"location_id": reg["region_id"], "region_id": reg["region_id"],
                          "kind": "region", "latitude": reg["latitude"],
                          "longitude": reg["longitude"]}),
            pd.DataFrame({"location_id": sites["asset_id"], "region_id": sites["region_id"],
                          "kind": sites["technology"], "latitude": sites["latitude"],
                          "longitude": sites["longitude"]}),
        ],
        ignore_index=True,
    )  # fmt: skip
    frame["altitude_m"] = frame["region_id"].map(alt).astype(float)
    return frame


def clear_sky(locations: pd.DataFrame, index: pd.DatetimeIndex) -> dict[str, np.ndarray]:
    """Interval-mean clear-sky irradiance (pvlib Ineichen, evaluated at mid-interval).

    Parameters
    ----------
    locations : pandas.DataFrame
        ``latitude``, ``longitude`` [deg] and ``altitude_m`` [m] per location (see
        :func:`weather_locations`).
    index : pandas.DatetimeIndex
        Regular, tz-aware UTC interval starts.

    Returns
    -------
    dict of numpy.ndarray
        ``ghi``, ``dni``, ``dhi`` [W/m^2] and ``zenith`` [deg], each (time, location). The sun's
        position is analytical (Spencer declination and equation of time, within about 0.1 deg),
        vectorised over all locations at once; the Linke turbidity is a seasonal climatology
        (hazier in summer and east of 100 W) rather than pvlib's data file, so no I/O happens.
    """
    pvlib = require("pvlib", feature="simulating weather")
    step = index[1] - index[0] if len(index) > 1 else pd.Timedelta("1h")
    mid = index + step / 2
    doy = mid.dayofyear.to_numpy(float)
    lat = locations["latitude"].to_numpy(float)[None, :]
    lon = locations["longitude"].to_numpy(float)[None, :]
    alt = locations["altitude_m"].to_numpy(float)[None, :]
    sp = pvlib.solarposition
    decl = sp.declination_spencer71(doy)[:, None]
    eot_min = sp.equation_of_time_spencer71(doy)[:, None]
    utc_hours = (mid.hour + mid.minute / 60.0 + mid.second / 3600.0).to_numpy(float)[:, None]
    hour_angle = np.radians(15.0 * (utc_hours + lon / 15.0 + eot_min / 60.0 - 12.0))
    zenith = np.degrees(sp.solar_zenith_analytical(np.radians(lat), hour_angle, decl))
    humid = np.where(lon > -100.0, 0.3, 0.0)
    linke = 2.9 + humid + 0.4 * np.cos(2 * np.pi * (doy[:, None] - 200) / _YEAR_DAYS)
    airmass = pvlib.atmosphere.get_relative_airmass(
        np.minimum(zenith, 90.0), model="kastenyoung1989"
    )
    am_abs = pvlib.atmosphere.get_absolute_airmass(airmass, pvlib.atmosphere.alt2pres(alt))
    dni_extra = pvlib.irradiance.get_extra_radiation(doy)[:, None]
    with np.errstate(divide="ignore", invalid="ignore"):  # pvlib divides by zero at night
        cs = pvlib.clearsky.ineichen(zenith, np.nan_to_num(am_abs, nan=40.0), linke, alt, dni_extra)
    night = zenith >= 90.0
    out = {k: np.where(night, 0.0, np.nan_to_num(np.asarray(cs[k]))) for k in ("ghi", "dni", "dhi")}
    out["zenith"] = zenith
    return out


def kasten_czeplak(cloud_pct: np.ndarray) -> np.ndarray:
    """Share of clear-sky GHI reaching the ground under ``cloud_pct`` [%] of cloud [1]."""
    return 1.0 - 0.75 * (np.clip(cloud_pct, 0.0, 100.0) / 100.0) ** 3.4


def simulate_weather(grid: Grid, index: pd.DatetimeIndex, rng: np.random.Generator) -> pd.DataFrame:
    """Simulate hourly observed weather for every region and every solar and wind site.

    Parameters
    ----------
    grid : Grid
        The system (regions give climates; solar and wind assets give sites).
    index : pandas.DatetimeIndex
        Hourly, tz-aware UTC interval starts.
    rng : numpy.random.Generator
        Source of all randomness.

    Returns
    -------
    pandas.DataFrame
        :data:`WEATHER_COLUMNS` (``bronze.raw_weather``): temperature [degF], relative humidity
        [%], wind at 100 m [m/s], cloud cover [%], GHI/DNI/DHI [W/m^2] (interval means, zero at
        night, never above clear sky). Rows ordered by location (regions first), then time.
    """
    _check_index(index, pd.Timedelta("1h"))
    special = require("scipy.special", feature="simulating weather")
    locs = weather_locations(grid)
    n, n_loc = len(index), len(locs)
    tr = [region_traits(r, grid.regions) for r in locs["region_id"]]
    col = {f: np.array([getattr(t, f) for t in tr], float) for f in (
        "annual_mean_f", "annual_amp_f", "diurnal_range_f", "dew_point_summer_f",
        "dew_point_winter_f", "cloud_mean_pct", "wind_mean_m_per_s", "wind_diurnal_amp",
        "wind_peak_solar_hour")}  # fmt: skip
    lat, lon = locs["latitude"].to_numpy(), locs["longitude"].to_numpy()
    dist = distance_km(lat[:, None], lon[:, None], lat[None, :], lon[None, :])
    doy = (index.dayofyear.to_numpy(float) + index.hour.to_numpy() / 24.0)[:, None]
    solar_hour = (index.hour.to_numpy(float)[:, None] + 0.5 + lon[None, :] / 15.0) % 24.0
    summer = 0.5 + 0.5 * np.cos(2 * np.pi * (doy - 200) / _YEAR_DAYS)
    winter = 0.5 + 0.5 * np.cos(2 * np.pi * (doy - 20) / _YEAR_DAYS)
    ev = _weather_systems(index, lat, lon, dist, rng)

    # cloud: persistent latent field through a probit map; convection on humid summer afternoons
    humid = (col["dew_point_summer_f"] >= 65.0).astype(float)
    z_c = (
        np.sqrt(0.65) * correlated_ar(rng, n, dist, 500.0, (24.0, 4.0))
        + np.sqrt(0.35) * correlated_ar(rng, n, dist, 60.0, (2.0,))
        + ev["cloud_z"]
    ) / np.sqrt(1.0 + ev["cloud_var"])
    z_c += 0.7 * humid * summer * np.exp(-(((solar_hour - 15.0) / 3.0) ** 2))
    mean_c = np.clip(col["cloud_mean_pct"] + 10.0 * (winter - 0.5) * 2.0, 5.0, 95.0) / 100.0
    cloud = special.ndtr(1.8 * z_c + np.sqrt(1 + 1.8**2) * special.ndtri(mean_c))
    cloud_pct = np.round(100.0 * cloud, 1)

    # temperature: season + diurnal (solar time, damped by cloud) + anomalies + systems
    diurnal = _diurnal_shape(solar_hour) * col["diurnal_range_f"] / 2.0
    diurnal *= 1.2 - 0.7 * _smooth(cloud, 12)
    sigma_f = 4.5 + 2.0 * np.cos(2 * np.pi * (doy - 20) / _YEAR_DAYS)
    anomaly = sigma_f * correlated_ar(rng, n, dist, 900.0, (96.0, 12.0)) + ev["temp_f"]
    temp = (col["annual_mean_f"] + col["annual_amp_f"] * _monthly(_TEMP_SEASON, doy)
            + diurnal + anomaly + 0.6 * correlated_ar(rng, n, dist, 1.0, (3.0,))
            + rng.normal(0.0, 1.0, n_loc) * (locs["kind"] != "region").to_numpy())  # fmt: skip

    # dew point and relative humidity (Magnus): humidity falls as the day warms
    td = ((col["dew_point_summer_f"] + col["dew_point_winter_f"]) / 2.0
          + (col["dew_point_summer_f"] - col["dew_point_winter_f"]) / 2.0
          * np.cos(2 * np.pi * (doy - 200) / _YEAR_DAYS)
          + 0.6 * anomaly + ev["dew_point_f"]
          + 3.5 * correlated_ar(rng, n, dist, 600.0, (24.0,)))  # fmt: skip
    td = np.minimum(td, temp - 0.3)
    rh = np.clip(relative_humidity(temp, td), 3.0, 100.0)

    # wind at 100 m: Weibull marginal through a Gaussian copula, seasonal and diurnal factors
    z_w = (np.sqrt(0.7) * correlated_ar(rng, n, dist, 700.0, (18.0, 6.0))
           + np.sqrt(0.3) * correlated_ar(rng, n, dist, 80.0, (3.0,)) + ev["wind_z"]
           ) / np.sqrt(1.0 + ev["wind_var"])  # fmt: skip
    u = np.clip(special.ndtr(z_w), 0.0, 1.0 - 1e-12)
    month = _monthly(_WIND_SEASON, doy)
    daily = 1.0 + col["wind_diurnal_amp"] * np.cos(
        2 * np.pi * (solar_hour - col["wind_peak_solar_hour"]) / 24.0
    )
    site_mean = col["wind_mean_m_per_s"] + np.where(
        locs["kind"] == "wind", rng.uniform(0.3, 0.9, n_loc), 0.0
    )
    scale = site_mean / special.gamma(1.0 + 1.0 / _WEIBULL_K) / _WIND_SEASON.mean()
    wind = scale * (-np.log1p(-u)) ** (1.0 / _WEIBULL_K) * month * daily

    # irradiance: clear sky, cloud attenuation (plus haze), Erbs decomposition
    irradiance = require("pvlib.irradiance", feature="simulating weather")
    cs = clear_sky(locs, index)
    haze = np.clip(0.98 - 0.03 * np.abs(correlated_ar(rng, n, dist, 300.0, (12.0,))), 0.85, 0.98)
    ghi = cs["ghi"] * kasten_czeplak(cloud_pct) * haze
    doy_full = np.broadcast_to(doy, ghi.shape).ravel()
    parts = irradiance.erbs(ghi.ravel(), cs["zenith"].ravel(), doy_full)
    dni = np.minimum(np.nan_to_num(np.asarray(parts["dni"])).reshape(ghi.shape), cs["dni"])
    cosz = np.cos(np.radians(np.clip(cs["zenith"], 0.0, 90.0)))
    dhi = np.clip(ghi - dni * cosz, 0.0, None)

    values = {
        "temperature_f": np.round(temp, 1),
        "relative_humidity_pct": np.round(rh, 1),
        "wind_speed_100m_m_per_s": np.round(wind, 2),
        "cloud_cover_pct": cloud_pct,
        "ghi_w_per_m2": _floor1(ghi),
        "dni_w_per_m2": _floor1(dni),
        "dhi_w_per_m2": _floor1(dhi),
    }
    frame = pd.DataFrame(
        {"timestamp": index[np.tile(np.arange(n), n_loc)],
         "location_id": np.repeat(locs["location_id"].to_numpy(), n)}
        | {k: v.T.ravel() for k, v in values.items()}
    )  # fmt: skip
    return frame[WEATHER_COLUMNS]


def relative_humidity(temp_f: np.ndarray, dew_point_f: np.ndarray) -> np.ndarray:
    """Relative humidity [%] from air temperature and dew point [degF] (Magnus formula)."""
    t, d = (np.asarray(temp_f) - 32.0) / 1.8, (np.asarray(dew_point_f) - 32.0) / 1.8
    return 100.0 * np.exp(17.625 * d / (243.04 + d) - 17.625 * t / (243.04 + t))


def dew_point(temp_f: np.ndarray, rh_pct: np.ndarray) -> np.ndarray:
    """Dew point [degF] from air temperature [degF] and relative humidity [%] (Magnus)."""
    t = (np.asarray(temp_f) - 32.0) / 1.8
    g = np.log(np.clip(np.asarray(rh_pct), 0.5, 100.0) / 100.0) + 17.625 * t / (243.04 + t)
    return 243.04 * g / (17.625 - g) * 1.8 + 32.0


def correlated_ar(
    rng: np.random.Generator,
    n: int,
    dist_km: np.ndarray,
    length_km: float,
    taus: tuple[float, ...],
) -> np.ndarray:
    """Unit-variance noise (n, locations): spatially correlated as exp(-d/length) and filtered in
    time by a cascade of first-order lags with time constants ``taus`` [steps]."""
    signal = require("scipy.signal", feature="simulating weather")
    n_loc = dist_km.shape[0]
    chol = np.linalg.cholesky(np.exp(-dist_km / length_km) + 1e-9 * np.eye(n_loc))
    burn = int(5 * max(taus)) + 1
    a = np.array([1.0])
    for tau in taus:
        a = np.convolve(a, [1.0, -np.exp(-1.0 / tau)])
    impulse = signal.lfilter([1.0], a, np.r_[1.0, np.zeros(int(20 * max(taus)) + 10)])
    noise = chol @ rng.standard_normal((n_loc, n + burn))  # time last: lfilter runs contiguous
    return (signal.lfilter([1.0], a, noise, axis=1)[:, burn:] / np.sqrt(np.sum(impulse**2))).T


def _check_index(index: pd.DatetimeIndex, step: pd.Timedelta) -> None:
    if not isinstance(index, pd.DatetimeIndex) or index.tz is None or str(index.tz) != "UTC":
        msg = f"expected a tz-aware UTC DatetimeIndex; found {getattr(index, 'dtype', type(index))}"
        raise WorkbenchError(msg)
    if len(index) < 2 or not (np.diff(index.asi8) == np.diff(index.asi8)[0]).all():
        raise WorkbenchError(f"expected a regular index of at least 2 steps; found {len(index)}")
    if index[1] - index[0] != step:
        raise WorkbenchError(f"expected a step of {step}; found {index[1] - index[0]}")


def _diurnal_shape(solar_hour: np.ndarray) -> np.ndarray:
    """-1 at 06 solar time, +1 at 15, warming as a half cosine, cooling exponentially."""
    warm = (solar_hour >= 6.0) & (solar_hour < 15.0)
    rising = -np.cos(np.pi * (solar_hour - 6.0) / 9.0)
    x = ((solar_hour - 15.0) % 24.0) / 15.0
    k = 2.5
    falling = -1.0 + 2.0 * (np.exp(-k * x) - np.exp(-k)) / (1.0 - np.exp(-k))
    return np.where(warm, rising, falling) + 0.24  # centred: the climatology is the daily mean


def _monthly(table: np.ndarray, doy: np.ndarray) -> np.ndarray:
    """Mid-month ``table`` values interpolated (periodically) to fractional days of year."""
    return np.interp(
        doy / _YEAR_DAYS * 12.0 - 0.5, np.arange(-1, 13), np.r_[table[-1], table, table[0]]
    )


def _smooth(values: np.ndarray, width: int) -> np.ndarray:
    ndimage = require("scipy.ndimage", feature="simulating weather")
    return ndimage.uniform_filter1d(values, size=width, axis=0, mode="nearest")


def _floor1(values: np.ndarray) -> np.ndarray:
    return np.floor(np.clip(values, 0.0, None) * 10.0) / 10.0


def _front(tp: np.ndarray, plateau: float, tau: float, arctic: bool) -> dict[str, np.ndarray]:
    """Effects of a unit-amplitude cold front at hours ``tp`` after it arrives: temperature and
    dew point (per degF of amplitude), latent wind and cloud (absolute)."""
    onset = 0.5 * (1.0 + np.tanh(tp / 2.5))
    after = onset * np.exp(-np.clip(tp - plateau, 0.0, None) / tau)
    ahead = np.exp(-(((tp + 10.0) / 10.0) ** 2))  # warm, humid southerly flow before it
    return {
        "temp_f": 0.2 * ahead - after,
        "dew_point_f": 0.2 * ahead - 1.3 * after,
        "wind_z": 0.5 * ahead + (1.5 if arctic else 1.1) * np.exp(-(((tp - 4.0) / 10.0) ** 2)),
        "cloud_z": 1.6 * np.exp(-(((tp + 1.0) / 5.0) ** 2)) - 0.8 * after,
    }


def _weather_systems(
    index: pd.DatetimeIndex,
    lat: np.ndarray,
    lon: np.ndarray,
    dist: np.ndarray,
    rng: np.random.Generator,
) -> dict[str, np.ndarray]:
    """Additive effects of fronts, arctic outbreaks and heat waves, each (time, location).

    Front effects are centred on their seasonal expectation, so the climatology stays that of
    the region's traits; ``wind_var`` and ``cloud_var`` are the variance fronts add to the latent
    wind and cloud fields (the caller rescales them to unit variance).
    """
    n, n_loc = len(index), len(lat)
    out = {k: np.zeros((n, n_loc)) for k in ("temp_f", "dew_point_f", "wind_z", "cloud_z")}
    # position [km] along the direction fronts move (towards the south-east)
    x = (lon - lon.mean()) * 111.0 * np.cos(np.radians(lat.mean()))
    along = 0.45 * x - 0.89 * (lat - lat.mean()) * 111.0
    fade = np.clip(1.0 - 0.25 * along / 500.0, 0.5, 1.2)  # fronts weaken towards the Gulf
    doy = index.dayofyear.to_numpy(float)
    hours = np.arange(n, dtype=float)
    winter = 0.5 + 0.5 * np.cos(2 * np.pi * (doy - 20) / _YEAR_DAYS)
    rate = (0.02 + 0.18 * winter) / 24.0  # fronts per hour
    mean_amp = 10.0 * (0.5 + 0.5 * winter) + 2.0
    for t0 in np.flatnonzero(rng.uniform(size=n) < rate):
        arctic = (doy[t0] > 335 or doy[t0] < 60) and rng.uniform() < 0.05
        amp = rng.uniform(16, 24) if arctic else rng.uniform(6, 14) * (0.5 + 0.5 * winter[t0]) + 2
        plateau = rng.uniform(48, 96) if arctic else 0.0
        tau = rng.uniform(48, 96) if arctic else rng.uniform(36, 72)
        arrive = t0 + along / rng.uniform(30, 50)
        lo, hi = max(int(arrive.min()) - 48, 0), min(int(arrive.max() + plateau + 6 * tau), n)
        if lo < hi:
            eff = _front(hours[lo:hi, None] - arrive[None, :], plateau, tau, arctic)
            for k in ("temp_f", "dew_point_f"):
                out[k][lo:hi] += amp * fade * eff[k]
            for k in ("wind_z", "cloud_z"):
                out[k][lo:hi] += eff[k]
    # centre on the expectation (a Poisson shot noise has mean rate * integral, variance
    # rate * integral of the square), at the mean recovery time
    unit = _front(np.arange(-200.0, 800.0), 0.0, 54.0, False)
    for k in ("temp_f", "dew_point_f"):
        out[k] -= (rate * mean_amp * unit[k].sum())[:, None] * fade[None, :]
    for k in ("wind_z", "cloud_z"):
        out[k] -= (rate * unit[k].sum())[:, None]
        out[k.replace("_z", "_var")] = (rate * (unit[k] ** 2).sum())[:, None]
    # heat waves: about 1.2 per summer, 5-12 days, clear, still and hot
    summer_days = (doy >= 152) & (doy < 244)
    for t0 in np.flatnonzero(summer_days & (rng.uniform(size=n) < 1.2 / (92 * 24))):
        days = rng.uniform(5, 12)
        amp = rng.uniform(5, 10)
        spread = np.exp(-dist[int(rng.integers(n_loc))] / 1200.0)
        lo, hi = int(t0), min(int(t0 + days * 24), n)
        ramp = np.clip(np.minimum(hours[lo:hi] - lo, hi - 1 - hours[lo:hi]) / 48.0, 0.0, 1.0)
        env = (np.sin(np.pi / 2 * ramp) ** 2)[:, None] * spread[None, :]
        out["temp_f"][lo:hi] += amp * env
        out["wind_z"][lo:hi] -= 0.5 * env
        out["cloud_z"][lo:hi] -= 0.8 * env
    return out


def forecast_weather(
    actuals: pd.DataFrame,
    rng: np.random.Generator,
    issue_hour_utc: int = 6,
    horizon_h: int = 72,
) -> pd.DataFrame:
    """Forecasts issued daily at ``issue_hour_utc`` for the next ``horizon_h`` hours.

    Each forecast is the truth plus an error whose spread grows with lead time h [h] (MAE of
    temperature about 1.5 + 0.033 h degF: 2.3-3.1 day ahead, +0.8 per further day; hub-height
    wind RMSE about 2 m/s day ahead). The error is autocorrelated along the lead time, shared in
    part by all locations of an issue and by all issues of a valid hour. Wind and cloud forecasts
    are smoother than the truth (3-hour mean). Humidity follows from forecast temperature and
    dew point; GHI from the clear sky recovered from the actuals and the forecast cloud, so it is
    zero at night and never above clear sky.

    Parameters
    ----------
    actuals : pandas.DataFrame
        ``bronze.raw_weather`` rows (see :func:`simulate_weather`), hourly and complete.
    rng : numpy.random.Generator
        Source of the errors.
    issue_hour_utc : int
        Hour of day [UTC] of each issue.
    horizon_h : int
        Last lead time [h]; valid times run issue + 1 h .. issue + horizon_h, cut at the end of
        the actuals.

    Returns
    -------
    pandas.DataFrame
        :data:`FORECAST_COLUMNS` (``bronze.raw_weather_forecast``), ordered by location, issue
        time and valid time.
    """
    special = require("scipy.special", feature="forecasting weather")
    signal = require("scipy.signal", feature="forecasting weather")
    if not 0 <= issue_hour_utc <= 23 or horizon_h < 1:
        msg = f"expected issue hour 0..23 and horizon >= 1 h; found {issue_hour_utc}, {horizon_h}"
        raise WorkbenchError(msg)
    missing = [c for c in WEATHER_COLUMNS if c not in actuals.columns]
    if missing:
        raise WorkbenchError(
            f"expected weather columns {missing} in the actuals; found {list(actuals.columns)}"
        )
    wide = actuals.pivot(index="timestamp", columns="location_id")
    if wide.isna().to_numpy().any():
        raise WorkbenchError("expected every location at every hour in the actuals; found gaps")
    times = pd.DatetimeIndex(wide.index)
    _check_index(times, pd.Timedelta("1h"))
    locs = wide["temperature_f"].columns.to_numpy()
    var = {c: wide[c].to_numpy(float) for c in WEATHER_COLUMNS[2:]}
    n, n_loc = var["temperature_f"].shape

    issues = np.flatnonzero((times.hour == issue_hour_utc) & (np.arange(n) < n - 1))
    leads = np.arange(1, horizon_h + 1)
    pos = issues[:, None] + leads[None, :]  # (issue, lead)
    valid = pos < n
    pos_c = np.minimum(pos, n - 1)
    n_iss = len(issues)

    def errors(tau_lead: float, tau_valid: float) -> np.ndarray:
        """Unit-variance error (issue, lead, location): along-lead AR, part shared by locations,
        part shared by all issues for the same valid hour."""
        phi = np.exp(-1.0 / tau_lead)
        e = rng.standard_normal((n_iss, horizon_h, n_loc + 1)) * np.sqrt(1 - phi**2)
        e[:, 0, :] /= np.sqrt(1 - phi**2)  # stationary start
        z = signal.lfilter([1.0], [1.0, -phi], e, axis=1)
        by_issue = np.sqrt(0.5) * z[..., :1] + np.sqrt(0.5) * z[..., 1:]
        by_valid = correlated_ar(rng, n, 1.0 - np.eye(n_loc), 1.0, (tau_valid,))  # corr 0.37
        return np.sqrt(0.65) * by_issue + np.sqrt(0.35) * by_valid[pos_c]

    lead_h = leads[None, :, None].astype(float)
    truth = {k: v[pos_c] for k, v in var.items()}  # (issue, lead, location)
    smooth = {k: _smooth(var[k], 3)[pos_c] for k in ("wind_speed_100m_m_per_s", "cloud_cover_pct")}
    gauss_mae = np.sqrt(np.pi / 2.0)
    temp = truth["temperature_f"] + gauss_mae * (1.5 + 0.033 * lead_h) * errors(12.0, 18.0)
    td = dew_point(truth["temperature_f"], truth["relative_humidity_pct"])
    td = np.minimum(td + gauss_mae * (2.0 + 0.04 * lead_h) * errors(12.0, 18.0), temp)
    rh = np.clip(relative_humidity(temp, td), 3.0, 100.0)
    root = np.sqrt(smooth["wind_speed_100m_m_per_s"]) + (0.2 + 0.005 * lead_h) * errors(8.0, 12.0)
    wind = np.clip(root, 0.0, None) ** 2
    c = np.clip(smooth["cloud_cover_pct"] / 100.0, 0.005, 0.995)
    logit = np.log(c / (1.0 - c)) + (1.3 + 0.015 * lead_h) * errors(8.0, 12.0)
    cloud = 100.0 * special.expit(logit)
    # the actuals' clear sky (with their haze): GHI / Kasten-Czeplak(cloud)
    clear = truth["ghi_w_per_m2"] / kasten_czeplak(truth["cloud_cover_pct"])
    ghi = clear * kasten_czeplak(cloud)

    keep = np.broadcast_to(valid[None, :, :], (n_loc, n_iss, horizon_h)).ravel()

    def flat(a: np.ndarray) -> np.ndarray:  # (issue, lead, location) -> location-major rows
        return np.moveaxis(a, 2, 0).ravel()[keep]

    return pd.DataFrame(
        {
            "issue_time": times[
                np.broadcast_to(issues[None, :, None], (n_loc, n_iss, horizon_h)).ravel()[keep]
            ],
            "timestamp": times[
                np.broadcast_to(pos_c[None], (n_loc, n_iss, horizon_h)).ravel()[keep]
            ],
            "location_id": np.repeat(locs, n_iss * horizon_h)[keep],
            "temperature_f": np.round(flat(temp), 1),
            "relative_humidity_pct": np.round(flat(rh), 1),
            "wind_speed_100m_m_per_s": np.round(flat(wind), 2),
            "cloud_cover_pct": np.round(flat(cloud), 1),
            "ghi_w_per_m2": _floor1(flat(ghi)),
        }
    )[FORECAST_COLUMNS]
