"""Solar per plant: LightGBM on weather forecasts, the clear-sky index (pvlib) and satellite clouds.

The target is the plant's hourly ``generation_mw`` (``gold.fact_generation``, known
``availability_lag`` after each hour ends); nMAE is by the plant's ``capacity_mw``. Future
covariates are versioned — the forecasts of ``silver.weather_forecast_hourly`` for the plant's
weather location (its own ``asset_id`` when the sim observes it, else its region, as the
simulator maps plants to weather) as issued before each issue time:

* ``ghi_w_per_m2``, ``cloud_cover_pct``, ``temperature_f`` — the forecast itself;
* ``clearsky_ghi_w_per_m2`` — pvlib Ineichen clear-sky GHI at the plant (mean of the hour,
  evaluated at mid-interval), exactly known ahead;
* ``clearsky_index_fc`` — forecast GHI / clear-sky GHI (0 when the sun is down), the share of
  the clear-sky resource the forecast expects;
* ``solar_elevation_deg`` — apparent sun elevation at mid-interval [deg].

When ``silver.satellite_site_features`` is built and has rows for the plant, its hourly
``cloud_index`` and ``cloud_index_buffer`` join as past covariates (known after the hour plus
the catalog's lag); otherwise they are skipped and the use case says so (``case.notes``).
Without weather forecasts at all, the clear-sky features alone are used (exact covariates).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from workbench.forecasting.base import ForecastData, ForecastError, ForecastSpec
from workbench.forecasting.clearsky import clear_sky_ghi
from workbench.forecasting.usecases import UseCase
from workbench.forecasting.usecases._catalog import (
    WEATHER_FORECASTS,
    check_weather_option,
    hourly_series,
    is_built,
    lag,
    region_timezone,
    weather_forecasts,
)

ASSETS = "gold.dim_assets"
GENERATION = "gold.fact_generation"
SATELLITE = "silver.satellite_site_features"
WEATHER_COLUMNS = ["ghi_w_per_m2", "cloud_cover_pct", "temperature_f"]
CLEAR_SKY_COLUMNS = ["clearsky_ghi_w_per_m2", "clearsky_index_fc", "solar_elevation_deg"]
SATELLITE_COLUMNS = ["cloud_index", "cloud_index_buffer"]
#: Below this clear-sky GHI the sun is too low for a meaningful index [W/m^2].
MIN_CLEAR_SKY_W_PER_M2 = 20.0


def plant(cat: Any, asset_id: str, technology: str) -> pd.Series:
    """The plant's row of ``gold.dim_assets``; an unknown id lists the plants of that type."""
    assets = cat.read(ASSETS)
    row = assets[assets["asset_id"] == asset_id]
    if row.empty or row["technology"].iloc[0] != technology:
        known = sorted(assets.loc[assets["technology"] == technology, "asset_id"])
        msg = f"expected a {technology} plant id of {ASSETS}; found {asset_id!r}. Plants: {known}"
        raise ForecastError(msg)
    return row.iloc[0]


def weather_location(cat: Any, asset: pd.Series, columns: list[str]) -> str:
    """The plant's own weather location when forecasts exist for it, else its region's."""
    own = weather_forecasts(cat, str(asset["asset_id"]), columns[:1], required=False)
    return str(asset["asset_id"]) if own is not None else str(asset["region"])


def clear_sky_features(
    times: pd.DatetimeIndex, latitude: float, longitude: float, freq: str = "1h"
) -> pd.DataFrame:
    """Clear-sky GHI and sun elevation for interval-start labels ``times``.

    Parameters
    ----------
    times : pandas.DatetimeIndex
        Interval starts [UTC].
    latitude, longitude : float
        Plant location [deg].
    freq : str
        Interval length; values are evaluated at mid-interval.

    Returns
    -------
    pandas.DataFrame
        ``clearsky_ghi_w_per_m2`` [W/m^2] (Ineichen, Linke turbidity climatology) and
        ``solar_elevation_deg`` [deg], indexed by ``times``.
    """
    from workbench.core.extras import require

    location_mod = require("pvlib.location", feature="solar clear-sky features")
    mid = pd.DatetimeIndex(times) + pd.Timedelta(freq) / 2
    sun = location_mod.Location(latitude, longitude, tz="UTC").get_solarposition(mid)
    return pd.DataFrame(
        {
            "clearsky_ghi_w_per_m2": clear_sky_ghi(times, latitude, longitude, pd.Timedelta(freq)),
            "solar_elevation_deg": sun["apparent_elevation"].to_numpy(dtype=float),
        },
        index=pd.DatetimeIndex(times),
    )


def add_clear_sky(future: pd.DataFrame, latitude: float, longitude: float) -> pd.DataFrame:
    """Versioned forecasts plus clear-sky GHI, forecast clear-sky index and sun elevation."""
    targets = pd.DatetimeIndex(future.index.get_level_values("target_time"))
    unique = targets.unique()
    sky = clear_sky_features(unique, latitude, longitude).reindex(targets)
    out = future.copy()
    out["clearsky_ghi_w_per_m2"] = sky["clearsky_ghi_w_per_m2"].to_numpy()
    clear = out["clearsky_ghi_w_per_m2"].to_numpy()
    with np.errstate(divide="ignore", invalid="ignore"):
        kc = np.where(clear > MIN_CLEAR_SKY_W_PER_M2, out["ghi_w_per_m2"] / clear, 0.0)
    out["clearsky_index_fc"] = np.clip(kc, 0.0, 1.5)
    out["solar_elevation_deg"] = sky["solar_elevation_deg"].to_numpy()
    return out


def satellite_features(
    cat: Any, asset_id: str, index: pd.DatetimeIndex, start: Any = None, end: Any = None
) -> pd.DataFrame | None:
    """The plant's hourly satellite cloud features on ``index``; ``None`` when absent.

    Absent means: not in the catalog, not built in this warehouse, or no rows for the plant.
    """
    if not is_built(cat, SATELLITE):
        return None
    frame = cat.read(
        SATELLITE,
        start=start,
        end=end,
        columns=["timestamp", *SATELLITE_COLUMNS],
        where={"asset_id": asset_id},
    )
    if frame.empty or frame[SATELLITE_COLUMNS].notna().sum().sum() == 0:
        return None
    ts = pd.DatetimeIndex(pd.to_datetime(frame["timestamp"], utc=True)).as_unit("ns")
    values = frame[SATELLITE_COLUMNS].set_axis(ts).groupby(level=0).mean()
    return values.reindex(index).astype(float)


def solar_usecase(
    cat: Any,
    asset_id: str,
    *,
    start: Any = None,
    end: Any = None,
    horizon_h: int = 48,
    issue_time: str = "06:00",
    quantiles: tuple[float, ...] = (0.1, 0.5, 0.9),
    satellite: bool | str = "auto",
    weather: bool | str = True,
) -> UseCase:
    """Build the solar use case of one plant from the catalog.

    Parameters
    ----------
    cat : Catalog
        An open catalog with silver and gold built.
    asset_id : str
        A solar plant of ``gold.dim_assets``, e.g. ``"SOLAR_NORTH_01"``.
    start, end : optional
        Window of history to read [UTC].
    horizon_h : int
        Hours ahead per issue [h].
    issue_time : str
        Local daily issue time (the region's zone) for backtests.
    satellite : bool or "auto"
        Use satellite cloud features: ``"auto"`` when present, ``True`` to require them.
    weather : True, "auto" or False
        Weather forecasts required (True: an error when absent), ``"auto"``: without them
        the model gets the clear-sky features only, said in the notes; False: never read
        (the no-weather benchmark of issue 16).
    """
    required = weather is not False and check_weather_option(weather)
    asset = plant(cat, asset_id, "solar")
    frame = cat.read(GENERATION, start=start, end=end, where={"asset_id": asset_id})
    y = hourly_series(frame, "generation_mw", f"{GENERATION} plant {asset_id!r}")
    y = y.rename("generation_mw")
    lat, lon = float(asset["latitude"]), float(asset["longitude"])
    lags: dict[str, pd.Timedelta] = {"y": lag(cat, GENERATION)}
    notes: list[str] = []
    location = weather_location(cat, asset, WEATHER_COLUMNS)
    future = None
    if weather is not False:
        future = weather_forecasts(cat, location, WEATHER_COLUMNS, start, end, required=required)
    if future is not None:
        future = add_clear_sky(future, lat, lon)
        fut = (*WEATHER_COLUMNS, *CLEAR_SKY_COLUMNS)
        lags.update({c: lag(cat, WEATHER_FORECASTS) for c in fut})
        notes.append(f"weather forecasts of location {location!r}")
    else:  # no forecasts: the exactly known clear-sky features alone
        future = clear_sky_features(y.index, lat, lon)
        fut = tuple(future.columns)
        why = "weather=False" if weather is False else f"none in {WEATHER_FORECASTS}"
        notes.append(f"no weather forecasts ({why}): clear-sky features only")
    past = None
    past_cols: tuple[str, ...] = ()
    if satellite:
        past = satellite_features(cat, asset_id, y.index, start, end)
        if past is None and satellite is True:
            msg = (
                f"expected satellite features for {asset_id!r} in {SATELLITE}; found none. "
                "Build them (workbench build) or pass satellite='auto'."
            )
            raise ForecastError(msg)
        if past is not None:
            past_cols = tuple(SATELLITE_COLUMNS)
            lags.update({c: lag(cat, SATELLITE) for c in past_cols})
            notes.append(f"satellite cloud features from {SATELLITE}")
        else:
            notes.append(f"no satellite features in {SATELLITE}: skipped")
    spec = ForecastSpec(
        freq="1h",
        horizon=horizon_h,
        quantiles=quantiles,
        future_covariates=fut,
        past_covariates=past_cols,
        availability_lag=lags,
        capacity=float(asset["capacity_mw"]),
        tz=region_timezone(cat, str(asset["region"])),
    )
    data = ForecastData(y=y, past=past, future=future)
    # one training issue per day, at the backtest's issue time: on ci data (3 weeks) the
    # automatic 8 issues per day gave twice the MAE (79 vs 38 MW on SOLAR_NORTH_01)
    params: dict[str, Any] = {
        "lightgbm": {"issues_per_day": 1},
        # clear-sky index models (workbench.forecasting.clearsky); pvlib at the plant
        "clearsky:lightgbm": {"issues_per_day": 1, "latitude": lat, "longitude": lon},
        "smart_persistence": {"latitude": lat, "longitude": lon},
    }
    # auto also weighs the clear-sky models and smart persistence (a baseline it knows)
    params["auto"] = {
        "candidates": ("seasonal_naive", "smart_persistence", "lightgbm", "clearsky:lightgbm"),
        "candidate_params": {k: dict(v) for k, v in params.items()},
    }
    case = UseCase(f"solar:{asset_id}", data, spec, issue_time, params)
    case.notes = notes  # what was used or skipped, for reports
    return case
