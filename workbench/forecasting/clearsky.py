"""Clear-sky normalisation for solar: any model forecasts the clear-sky index, not the output.

Solar output is a clear-sky profile (the sun's geometry, exactly known ahead) times a weather
factor, the clear-sky index ``kc`` in [0, ~1.2]. Models that see the raw output must learn both;
the daily cycle and its change over the seasons dominate their errors ("yesterday's value" lags
the season by a day, LightGBM's level features smear sunrise and sunset). This module divides the
target by a clear-sky output profile, lets an inner model forecast ``kc`` and multiplies back:

* :class:`ClearSkyForecaster` — registered as the prefix ``"clearsky:"``, so
  ``make_forecaster("clearsky:lightgbm", latitude=30.3, longitude=-97.7, n_estimators=200)`` wraps
  any registered model (``clearsky:seasonal_naive``, ``clearsky:auto`` ...). Parameters other
  than the wrapper's own go to the inner model, which refuses the ones it does not take.
  LightGBM inside gets ``objective="regression_l1"`` unless told otherwise
  (:data:`INNER_DEFAULTS`). Steps where the profile is below ``night_share`` of its peak
  (night, deep twilight) are
  forecast exactly 0; quantiles are the inner model's ``kc`` quantiles times the profile.
* ``smart_persistence`` — ``clearsky:seasonal_naive``: the clear-sky index of the last known
  day times the clear-sky profile of the target day (with ``season="1h"``: the index of the
  last known hour, the nowcast baseline).

A wrapper rather than a use-case parameter: the same normalisation then serves files
(``workbench forecast backtest --model clearsky:lightgbm``), the solar use case and the
nowcasts, and the ``auto`` selection can hold it as one more candidate name.

The profile [unit of y] is learned at :meth:`~ClearSkyForecaster.fit` from the target values
known at the training cut-off only (:func:`~workbench.forecasting.calibration.known_target`):

* with ``latitude``/``longitude`` (:class:`PvlibProfile`): pvlib's Ineichen clear-sky GHI at
  mid-interval [W/m^2] times a plant factor [unit of y per W/m^2], the ``quantile`` of
  ``y / GHI_clear`` over the known daylight hours (GHI_clear above 200 W/m^2);
* without (:class:`EnvelopeProfile`): an empirical envelope, per UTC time-of-day slot the
  ``quantile`` of the known output over the ``window_days`` training days nearest in day of
  year (circular, so a previous year's same season counts). UTC, not local clock time: the
  sun does not keep daylight-saving time. Smoothing across days of year is that window.

Both are pure functions of the training history, evaluated at any future time; a change of the
data after the cut-off never changes the profile (the leakage tests check it).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from workbench.forecasting.base import ForecastData, Forecaster, ForecastError, ForecastSpec
from workbench.forecasting.windows import known_target, resolve_until

if TYPE_CHECKING:
    from typing import Self

#: Clear-sky index bounds: cloud enhancement rarely exceeds 1.5 hourly.
KC_MAX = 1.5
#: GHI_clear above which y / GHI_clear sets the pvlib plant factor [W/m^2].
MIN_FACTOR_GHI_W_PER_M2 = 200.0
#: Defaults for inner models, overridden by the caller's parameters. LightGBM fits the median
#: (L1): the index is bimodal (clear or overcast), its mean is a value that rarely happens,
#: and L2 measured 0.86 -> 1.02 x persistence in MAE (demo SOLAR_WEST_01, Apr-Sep 2024).
INNER_DEFAULTS: dict[str, dict[str, Any]] = {"lightgbm": {"objective": "regression_l1"}}


def check_location(latitude: Any, longitude: Any) -> tuple[float, float] | None:
    """``(lat, lon)`` as floats, ``None`` when both are absent; one-line error otherwise.

    Latitude must lie in [-90, 90] deg and longitude in [-180, 180] deg, given together.
    """
    if latitude is None and longitude is None:
        return None
    if latitude is None or longitude is None:
        given = "--latitude" if latitude is not None else "--longitude"
        msg = (
            f"expected --latitude and --longitude together; found only {given}. "
            "Give both (degrees) or neither (an empirical clear-sky envelope is then learned)"
        )
        raise ForecastError(msg)
    try:
        lat, lon = float(latitude), float(longitude)
    except (TypeError, ValueError):
        msg = f"expected latitude/longitude as numbers; found {latitude!r}, {longitude!r}"
        raise ForecastError(msg) from None
    if not -90.0 <= lat <= 90.0:
        raise ForecastError(f"expected latitude in [-90, 90] degrees; found {lat:g}")
    if not -180.0 <= lon <= 180.0:
        raise ForecastError(f"expected longitude in [-180, 180] degrees; found {lon:g}")
    return lat, lon


def clear_sky_ghi(
    times: pd.DatetimeIndex, latitude: float, longitude: float, freq: pd.Timedelta
) -> np.ndarray:
    """pvlib Ineichen clear-sky GHI [W/m^2] at the middle of each interval starting at ``times``."""
    from workbench.core.extras import require

    location_mod = require("pvlib.location", feature="the clear-sky profile")
    mid = pd.DatetimeIndex(times) + pd.Timedelta(freq) / 2
    site = location_mod.Location(latitude, longitude, tz="UTC")
    return site.get_clearsky(mid, model="ineichen")["ghi"].to_numpy(dtype=float)


@dataclass
class PvlibProfile:
    """Clear-sky output [unit of y] = ``factor`` × pvlib clear-sky GHI at the plant.

    Attributes
    ----------
    latitude, longitude : float
        Plant location [deg].
    freq : pandas.Timedelta
        Grid step; GHI is evaluated at mid-interval.
    factor : float
        Output per W/m^2 of clear-sky GHI [unit of y / (W/m^2)], fitted on known daylight hours.
    """

    latitude: float
    longitude: float
    freq: pd.Timedelta
    factor: float = float("nan")
    grid_: pd.Series | None = field(default=None, repr=False)

    def ghi(self, times: pd.DatetimeIndex) -> np.ndarray:
        """Clear-sky GHI [W/m^2] at interval starts ``times``, from a cached regular grid
        (solar position is the slow part; a backtest asks for the same hours many times)."""
        idx = pd.DatetimeIndex(times)
        if not len(idx):
            return np.empty(0)
        lo, hi = idx.min().floor(self.freq), idx.max().ceil(self.freq)
        grid = self.grid_
        if grid is None or lo < grid.index[0] or hi > grid.index[-1]:
            if grid is not None:
                lo, hi = min(lo, grid.index[0]), max(hi, grid.index[-1])
            rng = pd.date_range(lo, hi + pd.Timedelta("7D"), freq=self.freq)
            grid = pd.Series(clear_sky_ghi(rng, self.latitude, self.longitude, self.freq), rng)
            self.grid_ = grid
        out = grid.reindex(idx).to_numpy(dtype=float)
        off = ~np.isfinite(out)  # times between grid points
        if off.any():
            out[off] = clear_sky_ghi(idx[off], self.latitude, self.longitude, self.freq)
        return out

    def fit(self, y: pd.Series, quantile: float) -> PvlibProfile:
        """Set ``factor`` to the ``quantile`` of ``y / GHI_clear`` over bright known hours."""
        ghi = self.ghi(y.index)
        bright = ghi > MIN_FACTOR_GHI_W_PER_M2
        ratio = y.to_numpy(dtype=float)[bright] / ghi[bright]
        ratio = ratio[np.isfinite(ratio)]
        if len(ratio) < 10:
            msg = (
                f"expected at least 10 known daylight values to scale the clear-sky profile; "
                f"found {len(ratio)}. Check latitude/longitude ({self.latitude:g}, "
                f"{self.longitude:g}) and give more history"
            )
            raise ForecastError(msg)
        self.factor = float(np.quantile(ratio, quantile))
        return self

    def __call__(self, times: pd.DatetimeIndex) -> np.ndarray:
        """Clear-sky output at interval starts ``times`` [unit of y]."""
        return self.factor * self.ghi(times)

    def describe(self) -> str:
        """One line for ``fit_info``."""
        return f"pvlib ineichen at ({self.latitude:g}, {self.longitude:g}) x {self.factor:.4g}"


@dataclass
class EnvelopeProfile:
    """Empirical clear-sky envelope: per UTC slot, a high quantile over nearby days of year.

    Attributes
    ----------
    freq : pandas.Timedelta
        Grid step (a divisor of one day).
    quantile : float
        Level of the envelope over the selected days (0.9: the third-highest of 30).
    window_days : int
        Training days nearest in day of year used for each target day [days].
    """

    freq: pd.Timedelta
    quantile: float = 0.9
    window_days: int = 30
    days_: np.ndarray = field(default=None, repr=False)  # type: ignore[assignment]
    doy_: np.ndarray = field(default=None, repr=False)  # type: ignore[assignment]
    cache_: dict[int, np.ndarray] = field(default_factory=dict, repr=False)

    @property
    def slots(self) -> int:
        """Grid steps per day."""
        return int(pd.Timedelta("1D") / self.freq)

    def fit(self, y: pd.Series) -> EnvelopeProfile:
        """Keep the known days' values by slot (only what :meth:`ClearSkyForecaster.fit` gives)."""
        if pd.Timedelta("1D") % self.freq != pd.Timedelta(0):
            msg = f"expected a step dividing one day for the clear-sky envelope; found {self.freq}"
            raise ForecastError(msg)
        day = y.index.floor("1D")
        slot = ((y.index - day) // self.freq).astype(int)
        table = pd.DataFrame({"day": day, "slot": slot, "y": y.to_numpy(dtype=float)})
        wide = table.pivot_table(index="day", columns="slot", values="y", aggfunc="mean")
        wide = wide.reindex(columns=range(self.slots))
        if len(wide) < 2:
            msg = (
                f"expected at least 2 known days to learn a clear-sky envelope; found {len(wide)}. "
                "Give more history, or latitude/longitude for the pvlib profile"
            )
            raise ForecastError(msg)
        self.days_ = wide.to_numpy(dtype=float)
        self.doy_ = pd.DatetimeIndex(wide.index).dayofyear.to_numpy()
        self.cache_ = {}
        return self

    def day_profile(self, doy: int) -> np.ndarray:
        """Envelope of one day of year, per slot [unit of y]; 0 where never seen."""
        if doy not in self.cache_:
            dist = np.abs(self.doy_ - doy)
            dist = np.minimum(dist, 366 - dist)
            near = np.argsort(dist, kind="stable")[: self.window_days]
            with np.errstate(all="ignore"):
                env = np.nanquantile(self.days_[near], self.quantile, axis=0)
            self.cache_[doy] = np.clip(np.nan_to_num(env, nan=0.0), 0.0, None)
        return self.cache_[doy]

    def __call__(self, times: pd.DatetimeIndex) -> np.ndarray:
        """Clear-sky output at interval starts ``times`` [unit of y]."""
        idx = pd.DatetimeIndex(times)
        day = idx.floor("1D")
        slot = np.asarray((idx - day) // self.freq, dtype=int)
        doy = np.asarray(day.dayofyear)
        out = np.empty(len(idx))
        for d in np.unique(doy):
            sel = doy == d
            out[sel] = self.day_profile(int(d))[slot[sel]]
        return out

    def describe(self) -> str:
        """One line for ``fit_info``."""
        return (
            f"empirical envelope q{self.quantile:g} over the {self.window_days} training days "
            f"nearest in day of year ({len(self.doy_)} known days)"
        )


class ClearSkyForecaster(Forecaster):
    """Forecast the clear-sky index with ``inner``, multiply back by the clear-sky profile.

    Parameters
    ----------
    inner : str
        Registered model name forecasting the index (``"lightgbm"``, ``"seasonal_naive"``...).
    latitude, longitude : float, optional
        Plant location [deg]: the pvlib profile; both absent: the empirical envelope.
    quantile : float
        Level of the profile fit (envelope quantile, or of ``y / GHI_clear``).
    window_days : int
        Days of the envelope window [days].
    night_share : float
        Steps with a profile below this share of its daily peak are forecast exactly 0.
    kc_max : float
        Index values are clipped to ``[0, kc_max]`` both ways.
    **inner_params
        Passed to the inner model.
    """

    name = "clearsky"

    def __init__(
        self,
        inner: str = "lightgbm",
        latitude: float | None = None,
        longitude: float | None = None,
        quantile: float = 0.9,
        window_days: int = 30,
        night_share: float = 0.02,
        kc_max: float = KC_MAX,
        **inner_params: Any,
    ) -> None:
        from workbench.forecasting.base import make_forecaster

        location = check_location(latitude, longitude)
        if not 0.5 <= quantile < 1.0:
            raise ForecastError(f"expected quantile in [0.5, 1); found {quantile}")
        if int(window_days) < 3:
            raise ForecastError(f"expected window_days >= 3; found {window_days}")
        if inner.startswith("clearsky:") or inner in ("clearsky", "smart_persistence"):
            raise ForecastError(f"expected an inner model that is not clear-sky; found {inner!r}")
        inner_params = {**INNER_DEFAULTS.get(inner, {}), **inner_params}
        self.inner = make_forecaster(inner, **inner_params)
        super().__init__(
            inner=inner,
            latitude=latitude,
            longitude=longitude,
            quantile=quantile,
            window_days=window_days,
            night_share=night_share,
            kc_max=kc_max,
            **inner_params,
        )
        self.name = f"clearsky:{inner}"
        self.location = location
        self.profile_: PvlibProfile | EnvelopeProfile | None = None

    @classmethod
    def check_params(cls, params: Any, model: str | None = None) -> None:
        """The wrapper's own parameters are named; the inner model checks the rest."""

    def clone(self) -> Self:
        """An unfitted copy with the same parameters."""
        import copy

        return type(self)(**copy.deepcopy(self.params))

    def _index_data(self, data: ForecastData) -> tuple[ForecastData, np.ndarray]:
        """The data with ``y`` as the clear-sky index (NaN at night), and the profile."""
        assert self.profile_ is not None
        prof = self.profile_(data.y.index)
        day = self._daylight(data.y.index, prof)
        with np.errstate(divide="ignore", invalid="ignore"):
            kc = np.where(day, data.y.to_numpy(dtype=float) / prof, np.nan)
        kc = np.clip(kc, 0.0, self.params["kc_max"])
        y = pd.Series(kc, index=data.y.index, name=data.y.name)
        return ForecastData(y=y, past=data.past, future=data.future), prof

    def _daylight(self, times: pd.DatetimeIndex, prof: np.ndarray) -> np.ndarray:
        """Steps whose profile reaches ``night_share`` of that UTC day's peak."""
        day = pd.DatetimeIndex(times).floor("1D").asi8
        peak = pd.Series(prof).groupby(day).transform("max").to_numpy()
        return (prof > 0) & (prof >= self.params["night_share"] * peak)

    def fit(
        self, data: ForecastData, spec: ForecastSpec, *, until: pd.Timestamp | None = None
    ) -> Self:
        """Learn the profile from the target known at ``until``, then fit the inner model."""
        cut = resolve_until(data, spec, until)
        y = known_target(data, spec, cut)
        if self.location is not None:
            lat, lon = self.location
            self.profile_ = PvlibProfile(lat, lon, spec.freq).fit(y, self.params["quantile"])
        else:
            env = EnvelopeProfile(spec.freq, self.params["quantile"], self.params["window_days"])
            self.profile_ = env.fit(y)
        index_data, _ = self._index_data(data)
        self.inner.fit(index_data, spec.replace(capacity=None), until=cut)
        self.spec = spec
        self.fit_info = {
            "profile": self.profile_.describe(),
            "inner": self.params["inner"],
            "inner_fit": self.inner.fit_info,
        }
        return self

    def predict_index(
        self, data: ForecastData, issue_times: Sequence[pd.Timestamp]
    ) -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
        """The inner model's clear-sky index forecast (clipped), the profile at each target
        [unit of y] and the daylight mask (see :meth:`to_output`)."""
        self._require_fitted()
        index_data, _ = self._index_data(data)
        pred = self.inner.predict(index_data, issue_times).copy()
        targets = pd.DatetimeIndex(pred["target_time"])
        assert self.profile_ is not None
        prof = self.profile_(targets)
        day = self._daylight(targets, prof)
        for col in ("y_pred", *self._require_fitted().quantile_columns):
            pred[col] = np.clip(pred[col].to_numpy(dtype=float), 0.0, self.params["kc_max"])
        return pred, prof, day

    def to_output(self, pred: pd.DataFrame, prof: np.ndarray, day: np.ndarray) -> pd.DataFrame:
        """Index forecasts times the profile [unit of y]; exactly 0 outside daylight."""
        out = pred.copy()
        for col in ("y_pred", *self._require_fitted().quantile_columns):
            kc = np.clip(out[col].to_numpy(dtype=float), 0.0, self.params["kc_max"])
            out[col] = np.where(day, kc * prof, 0.0)
        return out

    def predict(self, data: ForecastData, issue_times: Sequence[pd.Timestamp]) -> pd.DataFrame:
        """The inner model's index forecast times the profile at each target; 0 at night."""
        return self.to_output(*self.predict_index(data, issue_times))


def clearsky_forecaster(inner: str, **params: Any) -> ClearSkyForecaster:
    """Factory of the ``"clearsky:"`` prefix: ``clearsky:<inner>``."""
    return ClearSkyForecaster(inner, **params)


def smart_persistence(**params: Any) -> ClearSkyForecaster:
    """Smart persistence: ``clearsky:seasonal_naive`` (last known day's index × today's profile).

    ``season="1h"`` gives the nowcast form: the last known hour's index.
    """
    return ClearSkyForecaster("seasonal_naive", **params)
