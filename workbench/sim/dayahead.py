"""What the day-ahead market saw: forecast errors, its reserves and its supply-curve price.

Real time is the day-ahead solution plus the realised errors. The day-ahead market clears on
forecasts of load, wind and solar made the day before, and knows of the forced outages that
began before it closed; the dispatch (:mod:`workbench.sim.dispatch`) runs on what happened.
:func:`forecast_errors` draws the errors (actual minus forecast, hourly, autocorrelated, of a
good operator's size); :func:`day_ahead_view` turns them into the day-ahead reserves and the
day-ahead energy price: the system supply curve (:func:`supply_curve`, heat rate against net
load, fitted per month to the real-time solution) at the forecast net load, times the day's
gas price, plus what real time showed beyond the curve the day before. Real time = day ahead
+ the realised errors (forecast errors along the curve, surprise outages, the hour's own
events).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.signal import lfilter

#: share of an hour's departure from the week's typical value (same hour of day, +-3 days) that
#: the day-ahead forecast misses: forecasts regress to the typical, so real time is the more
#: extreme (load, wind, solar) [1]
MISSED = {"load": 0.25, "wind": 0.3, "solar": 0.3}
#: independent forecast noise: share of load, of the mean wind output, of the hour's solar [1]
NOISE = {"load": 0.012, "wind": 0.12, "solar": 0.06}
ERROR_PHI = 0.9  # hour-to-hour autocorrelation of the noise [1]
CURVE_BINS = 24  # net-load bins of the monthly supply curve


def forecast_errors(system: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
    """Hourly day-ahead forecast errors (actual minus forecast) [MW].

    Each error is the share :data:`MISSED` of the hour's departure from its typical value (the
    mean of the same hour over the surrounding week: the forecast regresses toward it, so it
    misses the extremes) plus an autocorrelated noise (:data:`NOISE`, AR(1) :data:`ERROR_PHI`).
    A forecast never goes below zero.

    Parameters
    ----------
    system : pandas.DataFrame
        Hourly means of the dispatch's system frame (``load_mw``, ``wind_mw``, ``solar_mw``),
        UTC index.
    rng : numpy.random.Generator

    Returns
    -------
    pandas.DataFrame
        ``load_error_mw``, ``wind_error_mw``, ``solar_error_mw`` on the index of ``system``.
    """
    n = len(system)
    shocks = rng.standard_normal((n, 3))
    shocks[0] /= np.sqrt(1 - ERROR_PHI**2)
    z = lfilter([np.sqrt(1 - ERROR_PHI**2)], [1.0, -ERROR_PHI], shocks, axis=0)
    hour = pd.DatetimeIndex(system.index).hour
    out = {}
    for k, (name, column) in enumerate((("load", "load_mw"), ("wind", "wind_mw"),
                                        ("solar", "solar_mw"))):  # fmt: skip
        actual = system[column].astype(float)
        typical = actual.groupby(hour).transform(
            lambda s: s.rolling(7, center=True, min_periods=1).mean()
        )
        scale = {"load": actual, "wind": float(actual.mean()), "solar": actual}[name]
        error = MISSED[name] * (actual - typical) + NOISE[name] * scale * z[:, k]
        out[f"{name}_error_mw"] = np.minimum(error.to_numpy(), actual.to_numpy())
    return pd.DataFrame(out, index=system.index)


def supply_curve(price: np.ndarray, net: np.ndarray, month: np.ndarray):
    """Monotone price-against-net-load curves per month, from hourly prices [$/MWh] and net
    loads [MW]: medians in :data:`CURVE_BINS` quantile bins, made non-decreasing.

    Returns
    -------
    callable
        ``curve(net, month) -> price`` [$/MWh], linear between bin centres, flat outside.
    """
    curves: dict[int, tuple[np.ndarray, np.ndarray]] = {}
    for m in np.unique(month):
        rows = month == m
        edges = np.quantile(net[rows], np.linspace(0.0, 1.0, CURVE_BINS + 1))
        which = np.clip(np.searchsorted(edges, net[rows], side="right") - 1, 0, CURVE_BINS - 1)
        xs, ys = [], []
        for b in np.unique(which):
            xs.append(float(np.median(net[rows][which == b])))
            ys.append(float(np.median(price[rows][which == b])))
        x, y = np.asarray(xs), np.maximum.accumulate(np.asarray(ys))
        curves[int(m)] = (x, y)

    def curve(values: np.ndarray, months: np.ndarray) -> np.ndarray:
        out = np.empty(len(values))
        for m, (x, y) in curves.items():
            rows = months == m
            out[rows] = np.interp(values[rows], x, y)
        return out

    return curve


def day_ahead_view(
    hourly: pd.DataFrame, price_rt: np.ndarray, errors: pd.DataFrame
) -> tuple[np.ndarray, np.ndarray]:
    """Day-ahead reserves and energy price (before scarcity) of every hour.

    Parameters
    ----------
    hourly : pandas.DataFrame
        Hourly means of the dispatch's system frame (``load_mw``, ``losses_mw``, ``wind_mw``,
        ``solar_mw``, ``reserve_mw``, ``surprise_outage_mw``, ``gas_price_index``), UTC index.
    price_rt : numpy.ndarray
        Hourly mean real-time energy price before the scarcity adder [$/MWh].
    errors : pandas.DataFrame
        :func:`forecast_errors` on the same index.

    Returns
    -------
    reserve : numpy.ndarray
        Day-ahead reserves [MW]: the real-time reserves plus the load error, minus the wind and
        solar errors, plus the capacity on outages the market did not know of.
    energy : numpy.ndarray
        Day-ahead energy price [$/MWh]: the day's gas price index times the supply curve (in
        heat-rate terms) at the forecast net load, plus the mean departure of real time from
        the curve over the day before (what the market knew of).
    """
    renewable_err = errors["wind_error_mw"].to_numpy() + errors["solar_error_mw"].to_numpy()
    load_err = errors["load_error_mw"].to_numpy()
    surprise = hourly["surprise_outage_mw"].to_numpy(float)
    reserve = hourly["reserve_mw"].to_numpy(float) + load_err - renewable_err + surprise
    net = hourly["load_mw"] + hourly["losses_mw"] - hourly["wind_mw"] - hourly["solar_mw"]
    net = net.to_numpy(float)
    month = pd.DatetimeIndex(hourly.index).month.to_numpy()
    gas = hourly["gas_price_index"].to_numpy(float)
    curve = supply_curve(price_rt / gas, net, month)  # in heat-rate terms: gas moves it daily
    forecast_net = net - load_err + renewable_err
    # what real time had beyond the curve (outages, ramps, congestion): the day-ahead market
    # expects what persisted over the previous day, not the hour's own surprise
    beyond = pd.Series(price_rt - gas * curve(net, month), index=hourly.index)
    known = beyond.shift(24).rolling(24, min_periods=1).mean().fillna(0.0).to_numpy()
    energy = gas * curve(forecast_net, month) + known
    return reserve, energy
