"""Any sktime forecaster behind the workbench :class:`~workbench.forecasting.base.Forecaster`.

``SktimeForecaster(estimator)`` wraps an (unfitted) sktime forecaster; ``make_forecaster`` builds
one by name: ``make_forecaster("sktime:ThetaForecaster", sp=24)``. Common estimators are looked
up in :data:`KNOWN_ESTIMATORS`; any other class name is searched in sktime's registry.

How it forecasts from each issue time ``T`` (``refit``):

* ``"every"`` (default, documented refit per origin): a fresh clone is fitted on the last
  ``window_days`` of the target known at ``T`` and forecasts ``fh = gap + lead + 1 ...`` steps
  ahead. Exact and simple; cheap for the classical models sktime is used for here (naive, theta,
  ETS on a few weeks of data).
* ``"never"``: fitted once at the training cut-off; each issue moves a copy of the fitted model's
  cutoff forward with ``update(y_new, update_params=False)`` — no refit. Only as good as the
  estimator's ``update`` (e.g. NaiveForecaster and ThetaForecaster use the new values; some
  statsmodels adapters cannot). Issues before the training cut-off fall back to a refit.

Exogenous data: estimators with the ``capability:exogenous`` tag get the spec's future
covariates as ``X`` — exact ones as they are, versioned ones as forecast by the latest issue at
or before ``T - lag``. Past covariates are not passed (sktime's ``X`` must be known over the
horizon). ``SARIMAX`` uses ``X`` well; in sktime 1.2 the *recursive* ``make_reduction`` gave
far worse forecasts with ``X`` than without on our checks — prefer ``strategy="direct"``.
Gaps in the target window are interpolated and counted (``predict_info``).

Quantiles: native ``predict_quantiles`` when the estimator has ``capability:pred_int`` (and
``quantiles`` is ``"auto"`` or ``"native"``), else conformal offsets per step from an inner
validation split (:class:`~workbench.forecasting.calibration.PointForecaster`).
"""

from __future__ import annotations

import contextlib
import copy
import math
import warnings
from typing import TYPE_CHECKING, Any, ClassVar

from workbench.core.extras import require
from workbench.forecasting.base import (
    ForecastData,
    ForecastError,
    ForecastSpec,
    InsufficientDataError,
    UnknownModelError,
    UnknownParameterError,
    add_model,
    forecast_grid,
)
from workbench.forecasting.calibration import PointForecaster

if TYPE_CHECKING:
    from collections.abc import Iterator, Sequence
    from typing import Self

    import numpy as np
    import pandas as pd

#: Class name -> module of the sktime forecasters offered by name (``"sktime:<ClassName>"``).
KNOWN_ESTIMATORS: dict[str, str] = {
    "NaiveForecaster": "sktime.forecasting.naive",
    "ThetaForecaster": "sktime.forecasting.theta",
    "AutoETS": "sktime.forecasting.ets",
    "ExponentialSmoothing": "sktime.forecasting.exp_smoothing",
    "PolynomialTrendForecaster": "sktime.forecasting.trend",
    "AutoARIMA": "sktime.forecasting.arima",
    "ARIMA": "sktime.forecasting.arima",
    "SARIMAX": "sktime.forecasting.sarimax",
}
_ADAPTER_KEYS = {"window_days", "refit", "quantiles", "calibration_days", "calibration_pool",
                 "clip_min"}  # fmt: skip


@contextlib.contextmanager
def _quiet() -> Iterator[None]:
    """Hide sktime's warnings about its own defaults and statsmodels' convergence chatter."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        yield


def _estimator_class(class_name: str) -> type:
    require("sktime", feature="sktime forecasters")
    import importlib

    module = KNOWN_ESTIMATORS.get(class_name)
    if module is not None:
        return getattr(importlib.import_module(module), class_name)
    from sktime.registry import all_estimators

    found = dict(all_estimators("forecaster", return_names=True))
    if class_name not in found:
        raise UnknownModelError(f"sktime:{class_name}", [f"sktime:{n}" for n in sorted(found)])
    return found[class_name]


def make_sktime_forecaster(class_name: str, **params: Any) -> SktimeForecaster:
    """``make_forecaster("sktime:<ClassName>", **params)``: adapter keys go to the adapter.

    A seasonal ``sp`` parameter of the estimator left unset defaults to one day of steps
    (set when the adapter first sees the spec).
    """
    adapter = {k: params.pop(k) for k in list(params) if k in _ADAPTER_KEYS}
    estimator_class = _estimator_class(class_name)
    valid = set(estimator_class.get_param_names())
    unknown = set(params) - valid
    if unknown:
        raise UnknownParameterError(f"sktime:{class_name}", unknown, valid | _ADAPTER_KEYS)
    with warnings.catch_warnings():  # sktime's FutureWarning on the remember_data default
        warnings.simplefilter("ignore", FutureWarning)
        estimator = estimator_class(**params)
    return SktimeForecaster(estimator, daily_sp="sp" not in params, **adapter)


class SktimeForecaster(PointForecaster):
    """A sktime forecaster as a workbench forecaster (see the module doc).

    Parameters
    ----------
    estimator : sktime BaseForecaster
        An unfitted estimator (cloned for every fit).
    window_days : float
        History fitted per origin [d].
    refit : {"every", "never"}
        Refit per issue time, or fit once and move the cutoff with ``update``.
    quantiles : {"auto", "native", "conformal"}
        Where quantiles come from.
    daily_sp : bool
        Set the estimator's ``sp`` to one day of steps (when it has one).
    """

    name: ClassVar[str] = "sktime"

    def __init__(
        self,
        estimator: Any,
        window_days: float = 28.0,
        refit: str = "every",
        quantiles: str = "auto",
        daily_sp: bool = False,
        **params: Any,
    ) -> None:
        if refit not in ("every", "never"):
            raise ForecastError(f"expected refit 'every' or 'never'; found {refit!r}")
        if quantiles not in ("auto", "native", "conformal"):
            raise ForecastError(
                f"expected quantiles 'auto', 'native' or 'conformal'; found {quantiles!r}"
            )
        super().__init__(
            estimator=estimator,
            window_days=window_days,
            refit=refit,
            quantiles=quantiles,
            daily_sp=daily_sp,
            **params,
        )
        self.predict_info: dict[str, Any] = {}
        self._fitted: Any = None

    def __repr__(self) -> str:
        return f"SktimeForecaster({self.params['estimator']!r}, refit={self.params['refit']!r})"

    # ---- helpers ------------------------------------------------------------------------------
    @property
    def native_quantiles(self) -> bool:
        """True when quantiles come from the estimator's ``predict_quantiles``."""
        mode = self.params["quantiles"]
        has = bool(self.params["estimator"].get_tag("capability:pred_int", False))
        if mode == "native" and not has:
            raise ForecastError(
                f"expected an estimator with prediction intervals for quantiles='native'; "
                f"{type(self.params['estimator']).__name__} has none. Use quantiles='auto'."
            )
        return has and mode != "conformal"

    def _new_estimator(self, spec: ForecastSpec) -> Any:
        import pandas as pd

        with warnings.catch_warnings():
            warnings.simplefilter("ignore", FutureWarning)
            est = self.params["estimator"].clone()
            est.set_config(remember_data=True)  # update() in refit="never" needs the history
        if self.params["daily_sp"] and "sp" in est.get_params(deep=False):
            est.set_params(sp=max(1, round(pd.Timedelta("1D") / spec.freq)))
        return est

    def _uses_x(self, spec: ForecastSpec) -> bool:
        est = self.params["estimator"]
        return bool(spec.future_covariates) and bool(est.get_tag("capability:exogenous", False))

    def _x(
        self, data: ForecastData, spec: ForecastSpec, index: pd.DatetimeIndex, asof: Any
    ) -> pd.DataFrame | None:
        """Future covariates on ``index`` (naive UTC labels); versioned ones as of ``asof``."""
        import pandas as pd

        if not self._uses_x(spec) or data.future is None:
            return None
        cols = list(spec.future_covariates)
        if data.future_is_versioned:
            from workbench.forecasting.deep import versioned_as_of

            frame = pd.DataFrame(index=index)
            for col in cols:
                cut = pd.DatetimeIndex(asof) - spec.lag(col)
                frame[col] = versioned_as_of(data.future, [col], index, cut)[:, 0]
        else:
            frame = data.future[cols].reindex(index).astype(float)
        missing = int(frame.isna().sum().sum())
        self.predict_info["filled_x"] = self.predict_info.get("filled_x", 0) + missing
        frame = frame.ffill().bfill().fillna(0.0)
        frame.index = pd.DatetimeIndex(index.tz_convert("UTC").tz_localize(None), freq=spec.freq)
        return frame

    def _window(
        self, data: ForecastData, spec: ForecastSpec, last: pd.Timestamp
    ) -> tuple[pd.Series, pd.DatetimeIndex]:
        """The target known up to label ``last`` over the fitting window, gaps interpolated."""
        import pandas as pd

        steps = max(4, math.ceil(pd.Timedelta(days=self.params["window_days"]) / spec.freq))
        index = pd.date_range(end=last, periods=steps, freq=spec.freq)
        y = data.y.reindex(index).astype(float)
        first = y.first_valid_index()
        if first is None or y.count() < 3:
            raise InsufficientDataError(
                f"expected target values in the {self.params['window_days']} days before {last}"
                f"; found {y.count()}. Use a longer window_days or more history."
            )
        y = y[y.index >= first]
        self.predict_info["filled_y"] = self.predict_info.get("filled_y", 0) + int(y.isna().sum())
        y = y.interpolate(limit_direction="both")
        utc_index = y.index
        y.index = pd.DatetimeIndex(utc_index.tz_localize(None), freq=spec.freq)
        return y, utc_index

    def _fh(self, spec: ForecastSpec) -> np.ndarray:
        import numpy as np

        gap = math.ceil(spec.lag("y") / spec.freq)
        return np.arange(gap + spec.lead + 1, gap + spec.lead + spec.horizon + 1)

    def _fit_on(self, data: ForecastData, spec: ForecastSpec, last: pd.Timestamp) -> Any:
        y, utc_index = self._window(data, spec, last)
        est = self._new_estimator(spec)
        x = self._x(data, spec, utc_index, utc_index)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            est.fit(y, X=x, fh=self._fh(spec))
        return est

    def _forecast_issue(
        self, data: ForecastData, spec: ForecastSpec, issue: pd.Timestamp
    ) -> np.ndarray:
        """``(horizon, 1 + n_quantiles)``: point then quantiles (NaN when not native)."""
        import numpy as np
        import pandas as pd

        last = spec.last_known_label([issue])[0]
        fh = self._fh(spec)
        est = None
        if self.params["refit"] == "never" and self._fitted is not None:
            cutoff = self._fitted_last
            if last >= cutoff:
                est = copy.deepcopy(self._fitted)
                if last > cutoff:
                    new_index = pd.date_range(cutoff + spec.freq, last, freq=spec.freq)
                    y_new = data.y.reindex(new_index).astype(float).ffill()
                    y_new = y_new.fillna(float(self._last_value))
                    x_new = self._x(data, spec, new_index, new_index)
                    y_new.index = pd.DatetimeIndex(new_index.tz_localize(None), freq=spec.freq)
                    with warnings.catch_warnings():
                        warnings.simplefilter("ignore")
                        est.update(y_new, X=x_new, update_params=False)
        if est is None:
            est = self._fit_on(data, spec, last)
        # X over every step after the cutoff (recursive estimators step through the gap too)
        targets = pd.date_range(last + spec.freq, periods=int(fh[-1]), freq=spec.freq)
        x = self._x(data, spec, targets, pd.DatetimeIndex([issue] * len(targets)))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            point = np.asarray(est.predict(fh=fh, X=x), dtype=float).reshape(-1)
            if self.native_quantiles:
                q = est.predict_quantiles(fh=fh, X=x, alpha=list(spec.quantiles))
                quant = q.to_numpy(dtype=float)
            else:
                quant = np.full((len(fh), len(spec.quantiles)), np.nan)
        return np.column_stack([point, quant])

    # ---- PointForecaster hooks ----------------------------------------------------------------
    def _fit_point(self, data: ForecastData, spec: ForecastSpec, until: pd.Timestamp) -> None:
        self._fitted = None
        if self.params["refit"] == "never":
            last = spec.last_known_label([until])[0]
            self._fitted = self._fit_on(data, spec, last)
            y, _ = self._window(data, spec, last)
            self._fitted_last, self._last_value = last, float(y.iloc[-1])

    def _predict_all(self, data: ForecastData, issue_times: Any) -> pd.DataFrame:
        import numpy as np

        spec = self.spec
        grid = forecast_grid(issue_times, spec)
        self.predict_info = {}
        issues = grid["issue_time"].drop_duplicates()
        blocks = {t: self._forecast_issue(data, spec, t) for t in issues}
        values = np.concatenate([blocks[t] for t in grid["issue_time"].iloc[:: spec.horizon]])
        out = grid.copy()
        out["y_pred"] = values[:, 0]
        for i, col in enumerate(spec.quantile_columns, start=1):
            out[col] = values[:, i]
        return out

    def _predict_point(self, data: ForecastData, issue_times: Any) -> pd.DataFrame:
        return self._predict_all(data, issue_times)[["issue_time", "target_time", "step", "y_pred"]]

    # ---- Forecaster API -----------------------------------------------------------------------
    def fit(
        self, data: ForecastData, spec: ForecastSpec, *, until: pd.Timestamp | None = None
    ) -> Self:
        """Fit (per the refit mode); conformal calibration unless quantiles are native."""
        from workbench.forecasting.windows import resolve_until

        if not self.native_quantiles:
            with _quiet():
                super().fit(data, spec, until=until)
            self.fit_info["quantiles"] = "conformal"
            return self
        data.check_spec(spec)
        until = resolve_until(data, spec, until)
        with _quiet():
            self._fit_point(data, spec, until)
        self.spec = spec
        self.fit_info = {
            "train_until": str(until),
            "estimator": repr(self.params["estimator"]),
            "refit": self.params["refit"],
            "quantiles": "native (predict_quantiles)",
            "uses_future_covariates": self._uses_x(spec),
        }
        return self

    def predict(self, data: ForecastData, issue_times: Sequence[pd.Timestamp]) -> pd.DataFrame:
        """Forecasts per issue time from the target known then (see the module doc)."""
        import numpy as np

        self._require_fitted()
        with _quiet():
            if not self.native_quantiles:
                return super().predict(data, issue_times)
            out = self._predict_all(data, issue_times)
        cols = self.spec.quantile_columns
        out[cols] = np.sort(out[cols].to_numpy(), axis=1)
        if 0.5 in self.spec.quantiles:
            out["y_pred"] = out["q0.5"]
        return out


add_model("sktime:", make_sktime_forecaster)
