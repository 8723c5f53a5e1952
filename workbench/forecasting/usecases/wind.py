"""Wind per plant: LightGBM and the LSTM on hub-height wind forecasts and the plant's power curve.

The target is the plant's hourly ``generation_mw`` (``gold.fact_generation``); nMAE is by its
``capacity_mw``. Future covariates are versioned forecasts from
``silver.weather_forecast_hourly`` at the plant's weather location (its own ``asset_id`` when
observed, else its region's), as issued before each issue time:

* ``wind_speed_100m_m_per_s`` — the hub-height wind speed forecast [m/s];
* ``power_curve_mw_fc`` — that forecast through the plant's empirical power curve [MW]: the
  median output per 0.5 m/s bin of observed hub-height wind (``silver.weather_hourly``, or the
  shortest-lead forecast when no observations exist), made non-decreasing up to rated power
  and clipped to ``[0, capacity]``.

The power curve is fitted only on hours known by ``train_end`` (pass the backtest's first issue
time or test start), so it never learns from the test period. The simulator's own curve lives in
``workbench.sim``, a layer above forecasting, so it is not used here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from workbench.forecasting.base import ForecastData, ForecastError, ForecastSpec
from workbench.forecasting.usecases import UseCase
from workbench.forecasting.usecases._catalog import (
    WEATHER_FORECASTS,
    hourly_series,
    is_built,
    lag,
    region_timezone,
    weather_forecasts,
)
from workbench.forecasting.usecases.solar import GENERATION, plant, weather_location

WEATHER_OBSERVED = "silver.weather_hourly"
WIND = "wind_speed_100m_m_per_s"
CURVE = "power_curve_mw_fc"
BIN_M_PER_S = 0.5


@dataclass(frozen=True)
class PowerCurve:
    """An empirical power curve: output [MW] at bin-centre wind speeds [m/s], interpolated.

    Attributes
    ----------
    speeds_m_per_s : numpy.ndarray
        Bin centres [m/s], increasing.
    power_mw : numpy.ndarray
        Output at each centre [MW], non-decreasing.
    capacity_mw : float
        Plant capacity [MW].
    pairs : int
        (speed, output) pairs it was fitted on.
    """

    speeds_m_per_s: np.ndarray = field(repr=False)
    power_mw: np.ndarray = field(repr=False)
    capacity_mw: float
    pairs: int

    def __call__(self, speed_m_per_s: Any) -> np.ndarray:
        """Expected output [MW] at ``speed_m_per_s``; NaN speeds give NaN."""
        v = np.asarray(speed_m_per_s, dtype=float)
        out = np.interp(v, self.speeds_m_per_s, self.power_mw)
        return np.where(np.isnan(v), np.nan, out)


def fit_power_curve(
    speed_m_per_s: Any, power_mw: Any, capacity_mw: float, bin_m_per_s: float = BIN_M_PER_S
) -> PowerCurve:
    """Fit a binned, non-decreasing power curve to (speed, output) pairs.

    Parameters
    ----------
    speed_m_per_s, power_mw : array-like
        Paired hub-height wind speed [m/s] and plant output [MW]; NaN pairs are ignored.
    capacity_mw : float
        Plant capacity [MW]; outputs are clipped to ``[0, capacity_mw]``.
    bin_m_per_s : float
        Bin width [m/s]. Bins with fewer than 3 pairs are skipped.
    """
    v = np.asarray(speed_m_per_s, dtype=float)
    p = np.asarray(power_mw, dtype=float)
    ok = np.isfinite(v) & np.isfinite(p)
    v, p = v[ok], np.clip(p[ok], 0.0, capacity_mw)
    if len(v) < 24:
        msg = (
            f"expected at least 24 hours of paired wind speed and output to fit a power curve; "
            f"found {len(v)}. Give more history before train_end."
        )
        raise ForecastError(msg)
    bins = np.floor(v / bin_m_per_s).astype(int)
    centres, medians = [], []
    for b in np.unique(bins):
        sel = bins == b
        if sel.sum() >= 3:
            centres.append((b + 0.5) * bin_m_per_s)
            medians.append(float(np.median(p[sel])))
    centres_a = np.concatenate([[0.0], centres])
    medians_a = np.maximum.accumulate(np.concatenate([[0.0], medians]))  # non-decreasing
    return PowerCurve(centres_a, np.clip(medians_a, 0.0, capacity_mw), capacity_mw, len(v))


def _observed_wind(cat: Any, location: str, start: Any, end: Any) -> pd.Series | None:
    if not is_built(cat, WEATHER_OBSERVED):
        return None
    frame = cat.read(
        WEATHER_OBSERVED,
        start=start,
        end=end,
        columns=["timestamp", WIND],
        where={"location_id": location},
    )
    return None if frame.empty else hourly_series(frame, WIND, f"{WEATHER_OBSERVED} {location}")


def _shortest_lead(future: pd.DataFrame) -> pd.Series:
    """Per target time, the forecast issued last before it (the best a forecast gets)."""
    frame = future[[WIND]].reset_index()
    frame = frame[frame["issue_time"] < frame["target_time"]].sort_values("issue_time")
    return frame.groupby("target_time")[WIND].last()


def wind_usecase(
    cat: Any,
    asset_id: str,
    *,
    start: Any = None,
    end: Any = None,
    train_end: Any = None,
    horizon_h: int = 48,
    issue_time: str = "06:00",
    quantiles: tuple[float, ...] = (0.1, 0.5, 0.9),
) -> UseCase:
    """Build the wind use case of one plant from the catalog.

    Parameters
    ----------
    cat : Catalog
        An open catalog with silver and gold built.
    asset_id : str
        A wind plant of ``gold.dim_assets``, e.g. ``"WIND_NORTH_01"``.
    start, end : optional
        Window of history to read [UTC].
    train_end : optional
        The power curve uses only hours known by then [UTC]; default all (for a production
        fit). Pass the backtest's first issue time.
    horizon_h : int
        Hours ahead per issue [h].
    issue_time : str
        Local daily issue time (the region's zone) for backtests.
    """
    asset = plant(cat, asset_id, "wind")
    frame = cat.read(GENERATION, start=start, end=end, where={"asset_id": asset_id})
    y = hourly_series(frame, "generation_mw", f"{GENERATION} plant {asset_id!r}")
    y = y.rename("generation_mw")
    capacity = float(asset["capacity_mw"])
    location = weather_location(cat, asset, [WIND])
    future = weather_forecasts(cat, location, [WIND], start, end)
    if future is None:
        msg = (
            f"expected hub-height wind forecasts for {location!r} in {WEATHER_FORECASTS}; found "
            "none. Build silver (workbench build) first."
        )
        raise ForecastError(msg)
    notes = [f"wind forecasts of location {location!r}"]
    observed = _observed_wind(cat, location, start, end)
    if observed is None:
        observed = _shortest_lead(future)
        notes.append("power curve on shortest-lead forecasts (no observed wind)")
        known_lag = lag(cat, WEATHER_FORECASTS)
    else:
        notes.append(f"power curve on observed wind of {WEATHER_OBSERVED}")
        known_lag = lag(cat, WEATHER_OBSERVED)
    pairs = pd.DataFrame({"v": observed, "p": y.reindex(observed.index)})
    if train_end is not None:
        cut = pd.Timestamp(train_end)
        cut = cut.tz_localize("UTC") if cut.tz is None else cut.tz_convert("UTC")
        known = pairs.index + pd.Timedelta("1h") + max(known_lag, lag(cat, GENERATION))
        pairs = pairs[known <= cut]
    curve = fit_power_curve(pairs["v"], pairs["p"], capacity)
    future = future.copy()
    future[CURVE] = curve(future[WIND].to_numpy())
    fut = (WIND, CURVE)
    lags = {"y": lag(cat, GENERATION), **{c: lag(cat, WEATHER_FORECASTS) for c in fut}}
    spec = ForecastSpec(
        freq="1h",
        horizon=horizon_h,
        quantiles=quantiles,
        future_covariates=fut,
        availability_lag=lags,
        capacity=capacity,
        tz=region_timezone(cat, str(asset["region"])),
    )
    data = ForecastData(y=y, future=future)
    params = {
        "lightgbm": {"issues_per_day": 1},
        "lstm": {"input_chunk_length": 24, "n_epochs": 10, "hidden_dim": 16},
    }
    case = UseCase(f"wind:{asset_id}", data, spec, issue_time, params)
    case.notes = notes
    case.power_curve = curve
    return case
