"""The dispatch's fleet data and its scheduled resources: unit tables, hydro, storage, outages.

Pure functions of arrays used by :func:`workbench.sim.dispatch.dispatch`:

- :func:`thermal_table`: thermal units with every engineering column filled (technology defaults
  where the asset table leaves NaN); :func:`offers`: curtailment offers of wind and solar.
- :func:`gas_price_index`: a daily, mean-reverting, seasonal gas price with winter spikes,
  relative to the assets' fuel cost (:func:`fuel_prices`: as hub prices);
  :func:`hot_derate`: thermal capacity lost in hot weather.
- :func:`hydro_output`: a seasonal daily energy budget shaped toward the net-load peak.
- :func:`battery_schedule`: each battery charges in the lowest and discharges in the highest
  net-load intervals of a day window (04:00-04:00 UTC, i.e. late evening local), within power,
  energy and round-trip efficiency, empty at the end of each window; the state of charge is a
  recurrence over the 288 steps of a window, vectorised over windows.
- :func:`forced_outages`: a renewal process per thermal unit (failure rate
  ``forced_outage_rate`` per hour, lognormal repair of mean ``mean_outage_hours``), labelled as
  ``ops.sim_events`` rows; :func:`surprise_outages`: the part the day-ahead market did not
  know of; :func:`shed_events` labels load shed.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.signal import lfilter

from workbench.sim.events import events_frame

THERMAL = ("nuclear", "coal", "gas_cc", "gas_ct")
#: technology: (min gen [pu], ramp [pu/min], failure rate [1/h], repair [h], marginal cost [$/MWh])
THERMAL_DEFAULTS = {
    "nuclear": (0.95, 0.002, 0.0002, 150.0, 9.0),
    "coal": (0.45, 0.008, 0.0015, 48.0, 24.0),
    "gas_cc": (0.45, 0.015, 0.0012, 24.0, 26.0),
    "gas_ct": (0.30, 0.10, 0.0020, 10.0, 45.0),
}
#: thermal capacity lost per degF of ambient temperature above 59 degF (ISO conditions) [1/degF]
HOT_DERATE_PER_F = {"gas_ct": 0.004, "gas_cc": 0.0025, "coal": 0.001, "nuclear": 0.0008}
STEP_H = 5.0 / 60.0


def thermal_table(frame: pd.DataFrame) -> pd.DataFrame:
    """Thermal units with every engineering column filled.

    Parameters
    ----------
    frame : pandas.DataFrame
        Asset rows of technologies :data:`THERMAL` (``Grid.assets`` layout).

    Returns
    -------
    pandas.DataFrame
        The rows, index reset, with ``min_gen_mw`` [MW], ``ramp_mw_per_min`` [MW/min],
        ``forced_outage_rate`` [1/h], ``mean_outage_hours`` [h], ``marginal_cost_usd_per_mwh``
        [$/MWh] (technology defaults of :data:`THERMAL_DEFAULTS` where NaN) and ``fuel_part``
        [$/MWh]: the fuel cost in the marginal cost of gas units (heat rate x fuel price), which
        the gas price index scales; 0 for other units.
    """
    th = frame.reset_index(drop=True).copy()
    cap = th["capacity_mw"].astype(float)
    defaults = pd.DataFrame([THERMAL_DEFAULTS[t] for t in th["technology"]], dtype=float)
    defaults.columns = ["min_pu", "ramp_pu", "rate", "repair", "mc"]
    for column, fallback in (
        ("min_gen_mw", defaults["min_pu"] * cap),
        ("ramp_mw_per_min", defaults["ramp_pu"] * cap),
        ("forced_outage_rate", defaults["rate"]),
        ("mean_outage_hours", defaults["repair"]),
        ("marginal_cost_usd_per_mwh", defaults["mc"]),
    ):
        values = th[column] if column in th else pd.Series(np.nan, index=th.index)
        th[column] = values.astype(float).fillna(fallback)
    th["min_gen_mw"] = th["min_gen_mw"].clip(0.0, cap)
    gas = th["technology"].isin(["gas_cc", "gas_ct"])
    hr = th.get("heat_rate_mmbtu_per_mwh", pd.Series(np.nan, index=th.index)).astype(float)
    fuel = th.get("fuel_cost_usd_per_mmbtu", pd.Series(np.nan, index=th.index)).astype(float)
    fuel_part = (hr * fuel).fillna(0.8 * th["marginal_cost_usd_per_mwh"])
    th["fuel_part"] = np.where(gas, fuel_part, 0.0)
    return th


def hot_derate(th: pd.DataFrame, weather: pd.DataFrame, index: pd.DatetimeIndex) -> np.ndarray:
    """Available share of thermal capacity in hot weather.

    Gas turbines lose output in hot air (less dense), steam units through warm cooling water:
    :data:`HOT_DERATE_PER_F` per degF above 59 degF (ISO conditions), at most 30 %.

    Parameters
    ----------
    th : pandas.DataFrame
        Thermal units (:func:`thermal_table`), with ``region_id`` and ``technology``.
    weather : pandas.DataFrame
        Hourly ``bronze.raw_weather`` rows; ``temperature_f`` [degF] at ``location_id`` = region.
    index : pandas.DatetimeIndex
        5-minute UTC interval starts.

    Returns
    -------
    numpy.ndarray
        (time, unit) share of capacity available [1]; 1 where a region has no weather.
    """
    temp = weather.pivot_table(index="timestamp", columns="location_id", values="temperature_f")
    hours = pd.DatetimeIndex(temp.index).as_unit("ns").asi8 + 1_800_000_000_000  # hour centres
    at = index.as_unit("ns").asi8 + 150_000_000_000
    out = np.ones((len(index), len(th)))
    for region in th["region_id"].unique():
        if region not in temp:
            continue
        series = temp[region].interpolate(limit_direction="both").to_numpy(float)
        heat = np.clip(np.interp(at, hours, series) - 59.0, 0.0, None)
        cols = np.nonzero((th["region_id"] == region).to_numpy())[0]
        rate = th["technology"].iloc[cols].map(HOT_DERATE_PER_F).to_numpy(float)
        out[:, cols] = 1.0 - np.clip(np.outer(heat, rate), 0.0, 0.3)
    return out


def offers(re: pd.DataFrame, rng: np.random.Generator) -> np.ndarray:
    """Curtailment offers of wind and solar [$/MWh]: the asset's marginal cost (negative with
    production credits), drawn where it is NaN (wind -32..-12, solar -12..-1)."""
    wind = (re["technology"] == "wind").to_numpy()
    drawn = np.where(wind, rng.uniform(-32.0, -12.0, len(re)), rng.uniform(-12.0, -1.0, len(re)))
    given = re.get("marginal_cost_usd_per_mwh", pd.Series(np.nan, index=re.index)).to_numpy(float)
    return np.where(np.isfinite(given), given, drawn)


#: hub gas price [USD/MMBtu] at gas price index 1 (the assets' delivered fuel costs lie around it)
GAS_HUB_USD_PER_MMBTU = 3.1
GAS_WINTER_PREMIUM = 0.16  # log-amplitude of the annual cycle, highest in mid January [1]
GAS_SUMMER_BUMP = 0.05  # log-amplitude of the half-year cycle (summer power burn) [1]
GAS_SPIKES_PER_WINTER = 1.2  # cold-snap price spikes per December-February [1]


def gas_price_index(start: pd.Timestamp, days: int, rng: np.random.Generator) -> np.ndarray:
    """Daily gas price relative to the assets' fuel cost [1].

    Log-normal and mean-reverting (AR(1), 0.97 per day, 12 % spread) around a seasonal level:
    winter about 16 % above the annual mean, a small summer bump (air-conditioning burn), spring
    and autumn lowest. Cold snaps in December-February (:data:`GAS_SPIKES_PER_WINTER` a
    winter) jump the price by 1.6-4x, decaying with a 2-5 day time constant. Day ``k`` is the
    UTC day ``start.normalize() + k``; the hub price is the index times
    :data:`GAS_HUB_USD_PER_MMBTU`.
    """
    phi, sigma = 0.97, 0.12
    shocks = rng.standard_normal(days)
    shocks[0] /= np.sqrt(1 - phi**2)
    z = lfilter([np.sqrt(1 - phi**2)], [1.0, -phi], shocks)
    dates = pd.date_range(start.normalize(), periods=days, freq="D")
    angle = 2 * np.pi * (dates.dayofyear.to_numpy() - 15) / 365.25
    season = GAS_WINTER_PREMIUM * np.cos(angle) + GAS_SUMMER_BUMP * np.cos(2 * angle)
    winter = np.nonzero(dates.month.isin([12, 1, 2]))[0]
    spikes = np.zeros(days)
    n_spikes = rng.poisson(GAS_SPIKES_PER_WINTER * len(winter) / 90.0) if len(winter) else 0
    for day in rng.choice(winter, size=n_spikes) if n_spikes else ():
        lag = np.arange(days - day)
        spikes[day:] += rng.uniform(0.5, 1.4) * np.exp(-lag / rng.uniform(2.0, 5.0))
    return np.exp(sigma * z + season + spikes - sigma**2 / 2)


def fuel_prices(start: pd.Timestamp, index: np.ndarray) -> pd.DataFrame:
    """``bronze.raw_fuel_prices`` rows: ``date`` and the hub gas price [USD/MMBtu] of each day
    of :func:`gas_price_index` ``index`` (day 0 the UTC date of ``start``)."""
    dates = pd.date_range(start.normalize(), periods=len(index), freq="D")
    return pd.DataFrame({
        "date": dates.tz_localize(None).date,
        "price_usd_per_mmbtu": np.round(GAS_HUB_USD_PER_MMBTU * np.asarray(index), 3),
    })  # fmt: skip


class DayWindows:
    """Day windows 04:00-04:00 UTC (late evening in US time zones) on the 5-minute grid.

    ``fold`` pads a (time, ...) array to whole windows and reshapes it (window, 288, ...);
    ``unfold`` undoes it. ``day`` is the UTC day number of every step (for daily prices).
    """

    STEPS = 288

    def __init__(self, index: pd.DatetimeIndex) -> None:
        first = (index[0] - pd.Timedelta("4h")).floor("D") + pd.Timedelta("4h")
        self.pad = int((index[0] - first) / pd.Timedelta("5min"))
        self.n = len(index)
        self.count = -(-(self.pad + self.n) // self.STEPS)
        self.day = ((index - index[0].floor("D")) // pd.Timedelta("1D")).to_numpy()

    def fold(self, x: np.ndarray, fill: float = np.nan) -> np.ndarray:
        out = np.full((self.count * self.STEPS, *x.shape[1:]), fill, dtype=float)
        out[self.pad : self.pad + self.n] = x
        return out.reshape(self.count, self.STEPS, *x.shape[1:])

    def unfold(self, y: np.ndarray) -> np.ndarray:
        flat = y.reshape(self.count * self.STEPS, *y.shape[2:])
        return flat[self.pad : self.pad + self.n]


HYDRO_CF = np.array([0.12, 0.13, 0.16, 0.2, 0.26, 0.28, 0.22, 0.16, 0.14, 0.14, 0.13, 0.12])


def hydro_output(
    hy: pd.DataFrame, net: np.ndarray, windows: DayWindows, index: pd.DatetimeIndex, rng
) -> np.ndarray:
    """Hydro output: a seasonal daily energy budget shaped toward the net-load peak.

    Parameters
    ----------
    hy : pandas.DataFrame
        Hydro units with ``capacity_mw`` [MW].
    net : numpy.ndarray
        System net load per 5-minute step [MW] (ranked within each day window).
    windows : DayWindows
        The day windows of ``index``.
    index : pandas.DatetimeIndex
        5-minute UTC interval starts.
    rng : numpy.random.Generator
        Source of the day-to-day variation of the budget (AR(1), 25 % spread).

    Returns
    -------
    numpy.ndarray
        (time, unit) output [MW]: monthly capacity factor :data:`HYDRO_CF` times the daily
        variation times ``0.4 + 1.2 * rank``, within 2-95 % of capacity.
    """
    if hy.empty:
        return np.zeros((len(index), 0))
    folded = windows.fold(net)
    rank = np.argsort(np.argsort(np.nan_to_num(folded, nan=np.nanmean(net)), axis=1), axis=1)
    shape = 0.4 + 1.2 * windows.unfold(rank / (windows.STEPS - 1.0))
    phi, sigma = 0.8, 0.25
    z = lfilter([np.sqrt(1 - phi**2)], [1.0, -phi],
                rng.standard_normal((windows.count, len(hy))), axis=0)  # fmt: skip
    daily = np.exp(sigma * z - sigma**2 / 2)
    daily = windows.unfold(np.repeat(daily[:, None, :], windows.STEPS, axis=1))
    cf = HYDRO_CF[index.month.to_numpy() - 1][:, None] * daily * shape[:, None]
    return hy["capacity_mw"].to_numpy(dtype=float) * np.clip(cf, 0.02, 0.95)


def battery_schedule(
    bt: pd.DataFrame, net: np.ndarray, windows: DayWindows, rng
) -> tuple[np.ndarray, np.ndarray]:
    """Charge in the lowest and discharge in the highest net-load intervals of each day window.

    Each battery discharges at full power for 80-100 % of its duration in the top-ranked
    intervals of the window and charges in the bottom-ranked ones (longer by the round-trip
    efficiency); the state of charge is a recurrence over the 288 steps of a window (vectorised
    over windows), within power and energy limits, from empty and back to empty by the end of
    the window (late evening local time). A little noise on the ranking per battery keeps
    batteries from moving in lockstep.

    Parameters
    ----------
    bt : pandas.DataFrame
        Batteries: ``capacity_mw`` [MW], ``storage_mwh`` [MWh] (NaN: 2 hours),
        ``round_trip_efficiency`` [1] (NaN: 0.86).
    net : numpy.ndarray
        System net load per 5-minute step [MW].
    windows : DayWindows
    rng : numpy.random.Generator

    Returns
    -------
    output : numpy.ndarray
        (time, battery) [MW], positive discharging, negative charging.
    soc : numpy.ndarray
        (time, battery) stored energy at the end of each step [MWh].
    """
    n = windows.n
    if bt.empty:
        return np.zeros((n, 0)), np.zeros((n, 0))
    cap = bt["capacity_mw"].to_numpy(dtype=float)
    energy = bt.get("storage_mwh", pd.Series(np.nan, index=bt.index)).to_numpy(float)
    energy = np.where(np.isfinite(energy) & (energy > 0), energy, 2.0 * cap)
    eff = bt.get("round_trip_efficiency", pd.Series(np.nan, index=bt.index)).to_numpy(float)
    eff = np.where(np.isfinite(eff) & (eff > 0), eff, 0.86)
    folded = windows.fold(net)
    valid = np.isfinite(folded)
    base = np.where(valid, folded, np.nanmean(folded, axis=1, keepdims=True))
    spread = np.nanstd(net) if np.isfinite(np.nanstd(net)) else 1.0
    n_valid = valid.sum(1, keepdims=True)
    desire = np.zeros((*folded.shape, len(bt)))
    for j in range(len(bt)):
        rank = np.argsort(np.argsort(base + rng.normal(0, 0.01 * spread, base.shape), 1), 1)
        n_dis = max(1, round(energy[j] / cap[j] / STEP_H * rng.uniform(0.8, 1.0)))
        n_ch = int(np.ceil(n_dis / eff[j]))
        desire[..., j] = np.where(rank >= n_valid - n_dis, 1.0, np.where(rank < n_ch, -1.0, 0.0))
    soc = np.zeros((windows.count, len(bt)))
    power = np.zeros_like(desire)
    level = np.zeros_like(desire)
    for s in range(windows.STEPS):
        left = windows.STEPS - s - 1
        p = np.clip(desire[:, s] * cap, -(energy - soc) / (STEP_H * eff), soc / STEP_H)
        p = np.maximum(p, np.minimum((soc - cap * STEP_H * left) / STEP_H, cap))  # empty by end
        p = np.where(valid[:, s, None], p, 0.0)
        soc = soc - np.where(p > 0, p, p * eff) * STEP_H
        power[:, s], level[:, s] = p, soc
    return windows.unfold(power), windows.unfold(level)


def forced_outages(
    th: pd.DataFrame, index: pd.DatetimeIndex, rng
) -> tuple[np.ndarray, pd.DataFrame]:
    """Forced outages of thermal units: a renewal process per unit.

    Failures arrive at ``forced_outage_rate`` per hour in service; repairs last a lognormal
    time (spread 0.8) of mean ``mean_outage_hours``; every outage is labelled.

    Returns
    -------
    avail : numpy.ndarray
        (time, unit) 1 in service, 0 out.
    events : pandas.DataFrame
        ``ops.sim_events`` rows: event_type 'forced_outage', source 'generation', target the
        asset_id, ``start``/``end`` [UTC] on the 5-minute grid, magnitude the capacity [MW].
    """
    n = len(index)
    avail = np.ones((n, len(th)))
    records = []
    horizon_h, sigma = n * STEP_H, 0.8
    for u, row in enumerate(th.itertuples(index=False)):
        rate = row.forced_outage_rate
        if not rate > 0:
            continue
        t = rng.exponential(1.0 / rate)
        while t < horizon_h:
            hours = row.mean_outage_hours * rng.lognormal(-(sigma**2) / 2, sigma)
            i0 = int(t / STEP_H)
            i1 = min(n, max(i0 + 1, int(np.ceil((t + hours) / STEP_H))))
            avail[i0:i1, u] = 0.0
            records.append({
                "event_type": "forced_outage", "source": "generation", "target_id": row.asset_id,
                "start": index[i0], "end": index[0] + i1 * pd.Timedelta("5min"),
                "magnitude": float(row.capacity_mw), "event_id": None,
            })  # fmt: skip
            t += hours + rng.exponential(1.0 / rate)
    return avail, events_frame(records)


#: the day-ahead market of UTC day D closes this long before D starts (10:00 UTC the day before)
DA_CLOSE_HOURS = 14.0


def surprise_outages(th: pd.DataFrame, events: pd.DataFrame, index: pd.DatetimeIndex) -> np.ndarray:
    """Capacity out on forced outages the day-ahead market did not know of [MW].

    An outage is a surprise on the UTC days whose day-ahead market closed
    (:data:`DA_CLOSE_HOURS` before the day) before it began; from the next day on the market
    knows of it.

    Parameters
    ----------
    th : pandas.DataFrame
        Thermal units (``asset_id``, ``capacity_mw`` [MW]).
    events : pandas.DataFrame
        ``forced_outage`` rows of :func:`forced_outages` (``start``, ``end`` on ``index``).
    index : pandas.DatetimeIndex
        5-minute UTC interval starts.

    Returns
    -------
    numpy.ndarray
        (time,) capacity out on surprise outages [MW].
    """
    out = np.zeros(len(index))
    if events.empty:
        return out
    cap = th.set_index("asset_id")["capacity_mw"]
    step = pd.Timedelta("5min")
    close = pd.Timedelta(hours=DA_CLOSE_HOURS)
    for row in events.itertuples(index=False):
        known_from = (pd.Timestamp(row.start) + close).floor("D") + pd.Timedelta("1D")
        i0 = int((pd.Timestamp(row.start) - index[0]) / step)
        i1 = int((min(pd.Timestamp(row.end), known_from) - index[0]) / step)
        out[max(i0, 0) : max(min(i1, len(index)), 0)] += float(cap[row.target_id])
    return out


def shed_events(unserved: np.ndarray, index: pd.DatetimeIndex, regions: list[str]) -> pd.DataFrame:
    """``ops.sim_events`` rows (event_type 'load_shed', source 'load', target the region,
    magnitude the largest shed [MW]) for each run of unserved load above 1 MW."""
    records = []
    for r, region in enumerate(regions):
        on = np.concatenate([[False], unserved[:, r] > 1.0, [False]])
        starts, ends = (
            np.nonzero(np.diff(on.astype(int)) == 1)[0],
            np.nonzero(np.diff(on.astype(int)) == -1)[0],
        )
        for i0, i1 in zip(starts, ends, strict=True):
            records.append({
                "event_type": "load_shed", "source": "load", "target_id": region,
                "start": index[i0], "end": index[0] + i1 * pd.Timedelta("5min"),
                "magnitude": float(unserved[i0:i1, r].max()), "event_id": None,
            })  # fmt: skip
    return events_frame(records)
