"""Regional system load (``bronze.raw_load``), 5-minute, driven by weather and the calendar.

Per region, in per-unit of its mild-weekday peak:

- an activity profile by *local* clock hour for weekdays (a morning peak at 07-09, a midday
  lull and the evening peak at 18-20: in summer the cooling load fills the afternoon, so the
  day peaks at 16-18), Saturdays and Sundays (holidays blend towards Sunday), so DST moves
  the human schedule by an hour in UTC; the day type switches at
  04:00 local, where the profiles meet, so there is no step at midnight;
- a flat industrial share, a few % lower at weekends;
- lighting when the sun is down and people are up;
- a U-shaped temperature response on an effective temperature (building heat storage: a blend
  of 3 h, 12 h and 72 h moving averages): cooling above about 65 degF, steepening with heat and
  humidity and saturating at extremes; heating below about 57 degF, steeper where homes heat
  electrically; each weighted by an occupancy profile;
- multiplicative autocorrelated noise (day level partly shared by regions, hours, minutes),
  slow growth, and rare distribution outages recorded as ground-truth events.

The scale of each region is set so that a weekday afternoon at its design temperature gives its
design peak (:func:`workbench.sim.regions.design_peak_mw`).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from workbench.core.errors import WorkbenchError
from workbench.core.extras import require
from workbench.sim.events import events_frame
from workbench.sim.regions import Grid, RegionTraits, design_peak_mw, region_traits

LOAD_COLUMNS: list[str] = ["timestamp", "region_id", "load_mw"]

# Activity by local hour 0..23 (per unit of the weekday evening peak). Hours 0-3 belong to the
# previous day's type (an activity day runs 04:00 to 04:00).
# Weekdays: a morning peak as homes wake and offices open (07-09), a midday lull, the evening
# peak (18-20); in summer the cooling load fills the afternoon instead.
_WEEKDAY = [0.70, 0.67, 0.65, 0.64, 0.65, 0.71, 0.82, 0.92, 0.94, 0.92, 0.90, 0.89,
            0.89, 0.89, 0.89, 0.90, 0.93, 0.95, 0.99, 1.00, 0.98, 0.93, 0.85, 0.77]  # fmt: skip
_SATURDAY = [0.74, 0.70, 0.67, 0.65, 0.64, 0.64, 0.66, 0.69, 0.74, 0.79, 0.82, 0.84,
             0.85, 0.85, 0.84, 0.84, 0.85, 0.86, 0.88, 0.90, 0.89, 0.87, 0.82, 0.77]  # fmt: skip
_SUNDAY = [0.73, 0.69, 0.66, 0.64, 0.63, 0.62, 0.63, 0.65, 0.69, 0.74, 0.78, 0.80,
           0.81, 0.81, 0.81, 0.81, 0.82, 0.84, 0.87, 0.89, 0.88, 0.85, 0.78, 0.71]  # fmt: skip
# Share of the air-conditioning and of the heating load in use, by local hour (weekday).
_COOLING_USE = [0.79, 0.76, 0.74, 0.72, 0.71, 0.71, 0.73, 0.76, 0.80, 0.84, 0.88, 0.91, 0.93,
                0.94, 0.95, 0.975, 1.00, 0.98, 0.94, 0.89, 0.86, 0.84, 0.82, 0.80]  # fmt: skip
_HEATING_USE = [0.86, 0.86, 0.87, 0.89, 0.92, 0.97, 1.00, 1.00, 0.94, 0.85, 0.77, 0.72,
                0.70, 0.69, 0.69, 0.71, 0.76, 0.83, 0.90, 0.92, 0.92, 0.91, 0.89, 0.87]  # fmt: skip
# How much a holiday looks like a Sunday (1) or a normal day (0), by name in `holidays`.
_HOLIDAY_WEIGHT = {
    "New Year's Day": 1.0, "Memorial Day": 1.0, "Independence Day": 1.0, "Labor Day": 1.0,
    "Thanksgiving Day": 1.0, "Christmas Day": 1.0, "Friday After Thanksgiving": 0.6,
    "Christmas Eve": 0.6, "Day After Christmas": 0.6, "Martin Luther King Jr. Day": 0.3,
    "Presidents' Day": 0.3, "Good Friday": 0.3, "Juneteenth National Independence Day": 0.3,
    "Veterans Day": 0.3,
}  # fmt: skip
_T_COOL_F, _T_HEAT_F = 65.0, 57.0  # balance points of the U [degF]
_COOL_AT_DESIGN = 1.15  # cooling load at the design temperature, per unit of non-industrial load
_HEAT_AT_20F = 0.80  # heating load at 20 degF for a 55 % electric-heat region [pu]


def simulate_load(
    grid: Grid,
    weather: pd.DataFrame,
    index: pd.DatetimeIndex,
    rng: np.random.Generator,
    *,
    outages_per_year: float = 3.0,
    growth_per_year: float = 0.02,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Simulate the load of every region.

    Parameters
    ----------
    grid : Grid
        The system; each region's size comes from its design peak.
    weather : pandas.DataFrame
        Hourly observed weather with ``timestamp``, ``location_id``, ``temperature_f`` [degF]
        and ``relative_humidity_pct`` [%] for every region (location_id = region_id), covering
        ``index`` (it is interpolated to ``index`` with a monotone cubic).
    index : pandas.DatetimeIndex
        Regular tz-aware UTC interval starts (5-minute for ``bronze.raw_load``).
    rng : numpy.random.Generator
        Source of the noise and the outages.
    outages_per_year : float
        Mean number of distribution outages per region per year (each 0.5-3 h, 1-5 % of load).
    growth_per_year : float
        Underlying load growth [1/year], compounded from the first timestamp.

    Returns
    -------
    (pandas.DataFrame, pandas.DataFrame)
        ``bronze.raw_load`` rows (:data:`LOAD_COLUMNS`, load [MW], ordered by region then time)
        and the ``ops.sim_events`` frame of the outages (source 'load', event_type
        'load_outage', target_id the region, magnitude the MW lost when it began).
    """
    signal = require("scipy.signal", feature="simulating load")
    _check(weather, index)
    step_h = (index[1] - index[0]) / pd.Timedelta("1h")
    n = len(index)
    years = (index.asi8 - index.asi8[0]) / (365.25 * 86400e9)
    outage_rng = np.random.default_rng(rng.integers(2**63))  # outages leave the noise as it is
    shared_day = _ar(rng, n, 72.0 / step_h, signal)  # economy and weather-independent mood
    peaks = design_peak_mw(grid.regions)
    frames, records = [], []
    for region in grid.regions["region_id"]:
        traits = region_traits(region, grid.regions)
        wx = weather.loc[weather["location_id"] == region]
        if wx.empty:
            raise WorkbenchError(f"expected weather rows with location_id {region!r}; found none")
        temp_f = _interpolate(wx, "temperature_f", index)
        rh_pct = _interpolate(wx, "relative_humidity_pct", index)
        t_eff = sum(
            w * _ema(temp_f, tau / step_h, signal) for w, tau in ((0.55, 3), (0.3, 12), (0.15, 72))
        )
        local = index.tz_convert(traits.timezone)
        hour = (local.hour + local.minute / 60.0 + local.second / 3600.0).to_numpy(float)
        activity_day = (local - pd.Timedelta("4h")).tz_localize(None).normalize()
        dow = activity_day.dayofweek.to_numpy()
        holiday = holiday_weights(activity_day.to_numpy().astype("datetime64[D]"))
        sun_up = _sun_elevation_deg(index, traits.latitude, traits.longitude)
        pu = _load_pu(traits, hour, dow, holiday, t_eff, rh_pct, sun_up)
        scale = peaks[region] / _design_pu(traits)
        noise = (
            0.012 * (np.sqrt(0.5) * shared_day + np.sqrt(0.5) * _ar(rng, n, 72.0 / step_h, signal))
            + 0.010 * _ar(rng, n, 2.0 / step_h, signal)
            + 0.003 * _ar(rng, n, (1.0 / 6.0) / step_h, signal)
            + 0.001 * rng.standard_normal(n)
        )
        load = scale * pu * (1.0 + growth_per_year) ** years * (1.0 + noise)
        load, events = _outages(load, index, region, outages_per_year, step_h, outage_rng)
        records += events
        frames.append(
            pd.DataFrame({"timestamp": index, "region_id": region, "load_mw": np.round(load, 1)})
        )
    return pd.concat(frames, ignore_index=True)[LOAD_COLUMNS], events_frame(records)


def hourly_load(raw_load: pd.DataFrame) -> pd.DataFrame:
    """Average 5-minute load to hourly, interval start (``timestamp``, ``region_id``,
    ``load_mw`` [MW]); an hour with missing intervals averages those present."""
    hours = raw_load["timestamp"].dt.floor("h")
    out = (
        raw_load.assign(timestamp=hours)
        .groupby(["region_id", "timestamp"], sort=False, as_index=False)["load_mw"]
        .mean()
    )
    return out[LOAD_COLUMNS]


def holiday_weights(dates: np.ndarray) -> np.ndarray:
    """How much each local date looks like a Sunday because of a public holiday [0-1].

    US and Texas holidays from the ``holidays`` package: the big six (New Year, Memorial Day,
    Independence Day, Labor Day, Thanksgiving, Christmas) count fully, their bridge days 0.6,
    other federal holidays 0.3 and Texas-only observances, when offices stay open, 0.
    """
    holidays = require("holidays", feature="simulating load")
    dates = np.asarray(dates, dtype="datetime64[D]")
    years = pd.DatetimeIndex(dates).year
    table = holidays.country_holidays("US", subdiv="TX", years=range(years.min(), years.max() + 1))
    weights = {
        np.datetime64(day, "D"): max(
            (
                _HOLIDAY_WEIGHT.get(part.replace(" (observed)", "").strip(), 0.0)
                for part in name.split(";")
            ),
            default=0.0,
        )
        for day, name in table.items()
    }
    lookup = pd.Series(weights, dtype=float)
    lookup.index = pd.DatetimeIndex(lookup.index)
    return pd.Series(pd.DatetimeIndex(dates)).map(lookup).fillna(0.0).to_numpy()


def _load_pu(
    t: RegionTraits,
    hour: np.ndarray,
    dow: np.ndarray,
    holiday: np.ndarray,
    t_eff: np.ndarray,
    rh_pct: np.ndarray,
    sun_elevation_deg: np.ndarray,
) -> np.ndarray:
    """Load per unit of the mild-weekday peak (see the module docstring)."""
    ind = t.industrial_share
    sat = (dow == 5) * (1.0 - holiday)
    sun = np.maximum(dow == 6, holiday)
    week = 1.0 - sat - sun
    activity = (
        week * _daily(_WEEKDAY, hour) + sat * _daily(_SATURDAY, hour) + sun * _daily(_SUNDAY, hour)
    )
    industry = (1.0 + 0.02 * np.cos(2 * np.pi * (hour - 14.0) / 24.0)) * (
        1.0 - 0.03 * sat - 0.04 * sun
    )
    awake = np.clip((hour - 5.5) / 1.0, 0.0, 1.0) * np.clip((23.5 - hour) / 1.5, 0.0, 1.0)
    light = 0.05 * awake / (1.0 + np.exp(sun_elevation_deg / 3.0))
    weekend_use = 1.0 - 0.08 * (1.0 - week)  # offices and shops closed
    cooling = _cooling_pu(t, t_eff, rh_pct) * _daily(_COOLING_USE, hour) * weekend_use
    heating = _heating_pu(t, t_eff) * _daily(_HEATING_USE, hour)
    return (1.0 - ind) * (activity + light) + ind * industry + cooling + heating


def _design_pu(t: RegionTraits) -> float:
    """Per-unit load on a weekday at 17:00 at the region's design temperature."""
    t_design = t.annual_mean_f + 0.97 * t.annual_amp_f + t.diurnal_range_f / 2.0 + 2.0
    one = np.ones(1)
    return float(
        _load_pu(t, one * 17.0, one * 2, one * 0.0, one * t_design, one * 40.0, one * 20.0)[0]
    )


def _cooling_pu(t: RegionTraits, t_eff: np.ndarray, rh_pct: np.ndarray) -> np.ndarray:
    """Cooling load [pu]: convex above the balance point, concave towards saturation."""
    muggy = 0.06 * (rh_pct - 50.0) * np.clip((t_eff - 70.0) / 15.0, 0.0, 1.0)
    x_design = _softplus(
        t.annual_mean_f + 0.97 * t.annual_amp_f + t.diurnal_range_f / 2.0 + 2.0 - _T_COOL_F
    )
    alpha = _COOL_AT_DESIGN * (1.0 - t.industrial_share) / _cooling_shape(x_design)
    return alpha * _cooling_shape(_softplus(t_eff + muggy - _T_COOL_F))


def _cooling_shape(x: np.ndarray | float) -> np.ndarray | float:
    return x * (1.0 + 0.6 * np.tanh(x / 25.0)) / (1.0 + (x / 60.0) ** 4) ** 0.25


def _heating_pu(t: RegionTraits, t_eff: np.ndarray) -> np.ndarray:
    """Heating load [pu]: convex below the balance point (heat-pump strips at low temperature)."""
    y20 = _softplus(_T_HEAT_F - 20.0)
    alpha = _HEAT_AT_20F * (t.electric_heat_share / 0.55) * (1.0 - 0.7 * t.industrial_share)
    y = _softplus(_T_HEAT_F - t_eff)
    return alpha * y * (1.0 + y / 30.0) / (y20 * (1.0 + y20 / 30.0))


def _softplus(z: np.ndarray | float, width: float = 3.0) -> np.ndarray | float:
    return width * np.logaddexp(0.0, np.asarray(z) / width)


def _daily(knots: list[float], hour: np.ndarray) -> np.ndarray:
    """Periodic cubic spline through hourly ``knots``, at fractional local hours."""
    interpolate = require("scipy.interpolate", feature="simulating load")
    spline = interpolate.CubicSpline(np.arange(25.0), np.r_[knots, knots[0]], bc_type="periodic")
    return spline(np.mod(hour, 24.0))


def _ema(x: np.ndarray, tau_steps: float, signal: object) -> np.ndarray:
    """Exponential moving average with time constant ``tau_steps``, started at ``x[0]``."""
    a = 1.0 - np.exp(-1.0 / max(tau_steps, 1e-9))
    y, _ = signal.lfilter([a], [1.0, a - 1.0], x, zi=[(1.0 - a) * x[0]])  # type: ignore[attr-defined]
    return y


def _ar(rng: np.random.Generator, n: int, tau_steps: float, signal: object) -> np.ndarray:
    """Stationary unit-variance AR(1) noise with time constant ``tau_steps``."""
    phi = np.exp(-1.0 / max(tau_steps, 1e-9))
    e = rng.standard_normal(n) * np.sqrt(1.0 - phi**2)
    e[0] /= np.sqrt(1.0 - phi**2)
    return signal.lfilter([1.0], [1.0, -phi], e)  # type: ignore[attr-defined]


def _sun_elevation_deg(index: pd.DatetimeIndex, lat: float, lon: float) -> np.ndarray:
    """Approximate solar elevation [deg] (declination by Cooper, no equation of time)."""
    doy = index.dayofyear.to_numpy(float)
    decl = np.radians(23.44) * np.sin(2 * np.pi * (284.0 + doy) / 365.0)
    solar_h = index.hour.to_numpy(float) + index.minute.to_numpy() / 60.0 + lon / 15.0
    ha = np.radians(15.0 * (solar_h - 12.0))
    phi = np.radians(lat)
    return np.degrees(
        np.arcsin(np.sin(phi) * np.sin(decl) + np.cos(phi) * np.cos(decl) * np.cos(ha))
    )


def _interpolate(wx: pd.DataFrame, column: str, index: pd.DatetimeIndex) -> np.ndarray:
    """Monotone cubic (PCHIP) interpolation of hourly values to ``index``, held at the ends."""
    interpolate = require("scipy.interpolate", feature="simulating load")
    wx = wx.sort_values("timestamp")
    x = pd.DatetimeIndex(wx["timestamp"]).asi8.astype(float)
    f = interpolate.PchipInterpolator(x, wx[column].to_numpy(float), extrapolate=False)
    return f(np.clip(index.asi8.astype(float), x[0], x[-1]))


def _outages(
    load: np.ndarray,
    index: pd.DatetimeIndex,
    region: str,
    per_year: float,
    step_h: float,
    rng: np.random.Generator,
) -> tuple[np.ndarray, list[dict[str, object]]]:
    """Drop 1-5 % of load for 0.5-3 h: all at once, restored linearly over the last 60 %."""
    span_years = len(index) * step_h / 8766.0
    count = rng.poisson(per_year * span_years)
    out, records = load.copy(), []
    for start in np.sort(rng.integers(0, len(index), count)):
        steps = max(round(rng.uniform(0.5, 3.0) / step_h), 1)
        frac = rng.uniform(0.01, 0.05)
        stop = min(start + steps, len(index))
        u = np.arange(stop - start) / steps
        profile = np.clip((1.0 - u) / 0.6, 0.0, 1.0)
        lost_mw = frac * load[start]
        out[start:stop] -= frac * load[start:stop] * profile
        end = index[start] + steps * (index[1] - index[0])
        records.append(
            {"event_id": f"load:load_outage:{region}:{index[start]:%Y%m%dT%H%M%S.%f}",
             "event_type": "load_outage", "source": "load", "target_id": region,
             "start": index[start], "end": end, "magnitude": round(float(lost_mw), 1)}
        )  # fmt: skip
    return out, records


def _check(weather: pd.DataFrame, index: pd.DatetimeIndex) -> None:
    if not isinstance(index, pd.DatetimeIndex) or index.tz is None or str(index.tz) != "UTC":
        raise WorkbenchError(
            f"expected a tz-aware UTC DatetimeIndex; found {getattr(index, 'dtype', type(index))}"
        )
    if len(index) < 2 or not (np.diff(index.asi8) == index.asi8[1] - index.asi8[0]).all():
        raise WorkbenchError(f"expected a regular index of at least 2 steps; found {len(index)}")
    needed = ["timestamp", "location_id", "temperature_f", "relative_humidity_pct"]
    missing = [c for c in needed if c not in weather.columns]
    if missing:
        raise WorkbenchError(f"expected weather columns {missing}; found {list(weather.columns)}")
    ts = weather["timestamp"]
    if ts.min() > index[0] + pd.Timedelta("1h") or ts.max() < index[-1] - pd.Timedelta("1h"):
        msg = f"expected weather covering {index[0]} .. {index[-1]}; found {ts.min()} .. {ts.max()}"
        raise WorkbenchError(msg)
