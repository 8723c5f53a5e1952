"""The forecaster interface: what a forecast problem is, the data it sees, and the model contract.

Three objects make every model interchangeable (baselines, LightGBM, darts, sktime):

* :class:`ForecastSpec` — the problem: step, horizon, lead, quantiles, covariates and when each
  column becomes known (``availability_lag``).
* :class:`ForecastData` — the series: target ``y`` on a regular UTC grid, optional past covariates,
  optional future-known covariates (either exact on the same grid, or versioned forecasts with a
  ``(issue_time, target_time)`` MultiIndex).
* :class:`Forecaster` — ``fit(data, spec, until=...)`` then ``predict(data, issue_times)``, which
  returns one row per ``(issue_time, target_time)`` with ``step``, ``y_pred`` and one column per
  quantile (``"q0.1"``...). Every model outputs quantiles: natively, or as a ``PointForecaster``
  (:mod:`workbench.forecasting.calibration`), which calibrates conformal quantiles per step on an
  inner validation split of the training window.

Time conventions (DESIGN.md): labels are interval starts in tz-aware UTC. The value labelled ``t``
covers ``[t, t + freq)`` and becomes known at ``t + freq + availability_lag[column]``. A forecast
issued at ``T`` targets ``T + (lead + step - 1) * freq`` for ``step = 1..horizon`` and may use only
values known at ``T`` (future-known covariates excepted: exact ones at any time, versioned ones as
forecast by the latest issue at or before ``T``).

Models are created by name with :func:`make_forecaster`; plug-ins add names with
:func:`add_model` (a class, a factory, or a lazy ``"module:attr"`` path). A name with a
prefix, ``"sktime:AutoETS"``, goes to the factory added for ``"sktime:"`` with the suffix as
first argument. Modules listed in :data:`PLUGIN_MODULES` are imported on first lookup so they can
register their names; they must keep their own top level light.

Examples
--------
>>> import pandas as pd
>>> spec = ForecastSpec(freq=pd.Timedelta("1h"), horizon=48)
>>> spec.quantile_columns
['q0.1', 'q0.5', 'q0.9']
>>> f = make_forecaster("seasonal_naive")  # doctest: +SKIP
>>> f.fit(data, spec).predict(data, [pd.Timestamp("2024-03-10", tz="UTC")])  # doctest: +SKIP
"""

from __future__ import annotations

import copy
import importlib
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

from workbench.forecasting.errors import (
    ForecastError,
    InsufficientDataError,
    NotFittedError,
    UnknownModelError,
    UnknownParameterError,
)

if TYPE_CHECKING:  # pandas is imported at call time by the functions below
    from typing import Self

    import pandas as pd

__all__ = [
    "PLUGIN_MODULES",
    "PREDICTION_COLUMNS",
    "ForecastData",
    "ForecastError",
    "ForecastSpec",
    "Forecaster",
    "InsufficientDataError",
    "NotFittedError",
    "UnknownModelError",
    "UnknownParameterError",
    "add_model",
    "available_models",
    "forecast_grid",
    "make_forecaster",
    "model_class",
    "quantile_column",
]

#: Parameters every point forecaster (:mod:`workbench.forecasting.calibration`) takes.
CALIBRATION_PARAMS: frozenset[str] = frozenset(
    {"calibration_days", "calibration_pool", "online_calibration", "clip_min"}
)

#: The leading columns of every prediction frame (then one column per quantile).
PREDICTION_COLUMNS: tuple[str, ...] = ("issue_time", "target_time", "step", "y_pred")


def quantile_column(q: float) -> str:
    """Name of the column holding quantile ``q``: ``0.1 -> "q0.1"``, ``0.05 -> "q0.05"``."""
    return f"q{q:g}"


# ----------------------------------------------------------------------------------------- spec
@dataclass(frozen=True)
class ForecastSpec:
    """What to forecast: grid step, horizon, quantiles, covariates and availability.

    Parameters
    ----------
    freq : pandas.Timedelta
        Step of the series (``1h``, ``30min``, ``15min``).
    horizon : int
        Number of steps per issue (48 for 48 h hourly).
    lead : int
        Steps between the issue time and the first target (0: the first target interval starts
        at the issue time).
    quantiles : tuple of float
        Quantile levels in (0, 1), sorted; every prediction has one column per level.
    future_covariates : tuple of str
        Columns known ahead (weather forecasts, calendar, user 'future' columns).
    past_covariates : tuple of str
        Columns known only up to the issue time (after their availability lag).
    availability_lag : Mapping[str, pandas.Timedelta]
        Per column, including the target under the key ``"y"``: the value labelled ``t`` is known
        at ``t + freq + lag``. Missing keys mean a lag of zero. For versioned future covariates,
        the lag is added to the forecast's own issue time.
    capacity : float, optional
        Installed capacity [same unit as y] for nMAE of solar/wind.
    tz : str
        IANA zone for calendar features and daily issue times.
    """

    freq: pd.Timedelta
    horizon: int
    lead: int = 0
    quantiles: tuple[float, ...] = (0.1, 0.5, 0.9)
    future_covariates: tuple[str, ...] = ()
    past_covariates: tuple[str, ...] = ()
    availability_lag: Mapping[str, pd.Timedelta] = field(default_factory=dict)
    capacity: float | None = None
    tz: str = "UTC"

    def __post_init__(self) -> None:
        import pandas as pd

        try:
            freq = pd.Timedelta(self.freq)
        except (TypeError, ValueError) as exc:
            raise ForecastError(
                f"expected freq as a duration such as '1h' or '30min'; found {self.freq!r}"
            ) from exc
        if freq <= pd.Timedelta(0):
            raise ForecastError(f"expected a positive freq; found {freq}")
        object.__setattr__(self, "freq", freq)
        if int(self.horizon) != self.horizon or self.horizon < 1:
            raise ForecastError(
                f"expected horizon as a positive number of steps; found {self.horizon}"
            )
        if int(self.lead) != self.lead or self.lead < 0:
            raise ForecastError(f"expected lead as a number of steps >= 0; found {self.lead}")
        qs = tuple(float(q) for q in self.quantiles)
        if any(not 0.0 < q < 1.0 for q in qs) or len(set(qs)) != len(qs):
            raise ForecastError(f"expected distinct quantile levels in (0, 1); found {list(qs)}")
        object.__setattr__(self, "quantiles", tuple(sorted(qs)))
        object.__setattr__(self, "future_covariates", tuple(self.future_covariates))
        object.__setattr__(self, "past_covariates", tuple(self.past_covariates))
        lags: dict[str, pd.Timedelta] = {}
        for col, lag in dict(self.availability_lag).items():
            td = pd.Timedelta(lag)
            if td < pd.Timedelta(0):
                raise ForecastError(
                    f"expected availability lags >= 0; found {col!r}: {td}. A negative lag would "
                    "let the model see values before they exist."
                )
            lags[str(col)] = td
        object.__setattr__(self, "availability_lag", lags)
        both = set(self.future_covariates) & set(self.past_covariates)
        if both:
            raise ForecastError(
                f"expected each covariate to be either future or past; found both: {sorted(both)}"
            )
        if self.capacity is not None and not self.capacity > 0:
            raise ForecastError(f"expected a positive capacity; found {self.capacity}")

    @property
    def quantile_columns(self) -> list[str]:
        """Column names of the quantiles, e.g. ``["q0.1", "q0.5", "q0.9"]``."""
        return [quantile_column(q) for q in self.quantiles]

    def lag(self, column: str = "y") -> pd.Timedelta:
        """Availability lag of ``column`` (``"y"`` for the target) [duration]; zero if unset."""
        import pandas as pd

        return self.availability_lag.get(column, pd.Timedelta(0))

    def last_known_label(self, issue_times: Any, column: str = "y") -> pd.DatetimeIndex:
        """Latest grid label whose value of ``column`` is known at each issue time.

        ``t <= T - freq - lag``, floored to the grid of ``freq`` (aligned on the Unix epoch).
        """
        import pandas as pd

        idx = pd.DatetimeIndex(issue_times)
        return (idx - self.freq - self.lag(column)).floor(self.freq)

    def replace(self, **changes: Any) -> ForecastSpec:
        """A copy with some fields changed (``dataclasses.replace``)."""
        import dataclasses

        return dataclasses.replace(self, **changes)


# ----------------------------------------------------------------------------------------- data
@dataclass
class ForecastData:
    """The series a forecaster sees.

    Parameters
    ----------
    y : pandas.Series
        Target on a regular tz-aware UTC DatetimeIndex at ``spec.freq``; NaN marks missing values.
        It may extend past the issue times: models only use what is known at each issue.
    past : pandas.DataFrame, optional
        Past covariates on the same index as ``y``.
    future : pandas.DataFrame, optional
        Future-known covariates, either on the same index as ``y`` (exactly known ahead: calendar,
        user-declared) or in long form with a MultiIndex ``(issue_time, target_time)``: the values
        as forecast at that issue (weather forecasts). For each forecast issue time ``T`` the
        latest forecast issued at or before ``T - lag`` is used.
    """

    y: pd.Series
    past: pd.DataFrame | None = None
    future: pd.DataFrame | None = None

    def __post_init__(self) -> None:
        import pandas as pd

        if not isinstance(self.y, pd.Series):
            raise ForecastError(f"expected y as a pandas Series; found {type(self.y).__name__}")
        _check_utc_index(self.y.index, "y")
        if not self.y.index.is_monotonic_increasing or self.y.index.has_duplicates:
            raise ForecastError(
                "expected y indexed by unique, increasing timestamps; found unsorted or duplicate "
                "ones. Prepare the table with workbench.forecasting.data.prepare_frame."
            )
        if self.past is not None:
            _check_utc_index(self.past.index, "past")
            if not self.past.index.equals(self.y.index):
                raise ForecastError(
                    "expected past covariates on the same index as y; found a different index. "
                    "Reindex them with past.reindex(y.index)."
                )
        if self.future is not None:
            if isinstance(self.future.index, pd.MultiIndex):
                if self.future.index.nlevels != 2:
                    raise ForecastError(
                        "expected versioned future covariates with a 2-level MultiIndex "
                        f"(issue_time, target_time); found {self.future.index.nlevels} levels"
                    )
                for level in range(2):
                    _check_utc_index(self.future.index.get_level_values(level), "future")
            else:
                _check_utc_index(self.future.index, "future")
                if not self.future.index.equals(self.y.index):
                    raise ForecastError(
                        "expected exact future covariates on the same index as y; found a "
                        "different index. Extend y with NaN over the forecast period instead."
                    )

    @property
    def freq(self) -> pd.Timedelta | None:
        """The grid step inferred from ``y`` (``None`` if fewer than 2 points)."""
        if len(self.y) < 2:
            return None
        import pandas as pd

        return pd.Timedelta(self.y.index[1] - self.y.index[0])

    @property
    def future_is_versioned(self) -> bool:
        """True when ``future`` holds forecasts by issue time (a MultiIndex)."""
        import pandas as pd

        return self.future is not None and isinstance(self.future.index, pd.MultiIndex)

    def columns(self) -> dict[str, list[str]]:
        """Covariate column names by kind: ``{"past": [...], "future": [...]}``."""
        return {
            "past": [] if self.past is None else [str(c) for c in self.past.columns],
            "future": [] if self.future is None else [str(c) for c in self.future.columns],
        }

    def check_spec(self, spec: ForecastSpec) -> None:
        """Raise if the spec names covariates the data lacks or the grid step differs."""
        from workbench.core.errors import MissingColumnsError

        cols = self.columns()
        for kind, wanted in (("past", spec.past_covariates), ("future", spec.future_covariates)):
            missing = set(wanted) - set(cols[kind])
            if missing:
                raise MissingColumnsError(f"{kind} covariates", missing, cols[kind])
        step = self.freq
        if step is not None and len(self.y) > 2:
            import numpy as np

            diffs = np.diff(self.y.index.as_unit("ns").asi8)
            if not (diffs == spec.freq.value).all():
                raise ForecastError(
                    f"expected y on a regular grid of {spec.freq}; found steps "
                    f"{sorted({str(type(spec.freq)(int(d))) for d in np.unique(diffs)[:5]})}. "
                    "Reindex it (workbench.forecasting.data.prepare_frame fills gaps with NaN)."
                )

    def until(self, end: pd.Timestamp) -> ForecastData:
        """The data restricted to labels strictly before ``end`` (a convenience for tests)."""
        y = self.y[self.y.index < end]
        past = None if self.past is None else self.past.loc[y.index]
        future = self.future
        if future is not None and not self.future_is_versioned:
            future = future.loc[y.index]
        return ForecastData(y=y, past=past, future=future)


def _check_utc_index(index: Any, what: str) -> None:
    import pandas as pd

    if not isinstance(index, pd.DatetimeIndex) or index.tz is None:
        raise ForecastError(
            f"expected {what} indexed by tz-aware UTC timestamps; found "
            f"{type(index).__name__}{'' if getattr(index, 'tz', None) else ' without a time zone'}."
            " Localize with index.tz_localize(<zone>).tz_convert('UTC')."
        )
    if str(index.tz) != "UTC":
        raise ForecastError(
            f"expected {what} in UTC; found time zone {index.tz}. Convert with "
            "index.tz_convert('UTC') (local time is for calendar features only)."
        )


def forecast_grid(issue_times: Any, spec: ForecastSpec) -> pd.DataFrame:
    """The ``(issue_time, target_time, step)`` rows a prediction must fill.

    Parameters
    ----------
    issue_times : sequence of pandas.Timestamp
        Tz-aware issue times (converted to UTC).
    spec : ForecastSpec
        Gives ``freq``, ``lead`` and ``horizon``.

    Returns
    -------
    pandas.DataFrame
        ``len(issue_times) * horizon`` rows ordered by issue then step; ``step`` runs from 1.
    """
    import numpy as np
    import pandas as pd

    issues = pd.DatetimeIndex(issue_times)
    if len(issues) and issues.tz is None:
        raise ForecastError(
            "expected tz-aware issue times; found naive ones. Use pd.Timestamp(..., tz='UTC')."
        )
    issues = issues.tz_convert("UTC") if len(issues) else pd.DatetimeIndex([], tz="UTC")
    steps = np.arange(1, spec.horizon + 1)
    issue_col = np.repeat(issues.as_unit("ns").asi8, spec.horizon)
    step_col = np.tile(steps, len(issues))
    target = issue_col + (spec.lead + step_col - 1) * spec.freq.value
    return pd.DataFrame(
        {
            "issue_time": pd.DatetimeIndex(issue_col, tz="UTC").as_unit("ns"),
            "target_time": pd.DatetimeIndex(target, tz="UTC").as_unit("ns"),
            "step": step_col.astype("int64"),
        }
    )


# ----------------------------------------------------------------------------------- forecaster
class Forecaster(ABC):
    """Base class of every model.

    Subclasses set the class attribute ``name`` and keep their constructor arguments in
    ``self.params`` (a dict) so :meth:`clone` can rebuild an unfitted copy. After :meth:`fit`,
    ``self.spec`` holds the spec it was fitted with and ``self.fit_info`` a JSON-able dict of what
    was learned (training window, rows, chosen model, calibration coverage ...).
    """

    name: ClassVar[str] = "forecaster"

    #: Says which outside parameters :meth:`library_params` holds (for error messages).
    library_note: ClassVar[str] = ""

    #: For models built from other models (``auto``, ``combination``): the constructor argument
    #: that takes ``{member name: parameters}``, filled from a use case's ``model_params`` by
    #: :func:`workbench.forecasting.pipeline.build_forecaster`. ``None`` for plain models.
    member_params_arg: ClassVar[str | None] = None

    def __init__(self, **params: Any) -> None:
        type(self).check_params(params, self.name)
        self.params: dict[str, Any] = dict(params)
        self.spec: ForecastSpec | None = None
        self.fit_info: dict[str, Any] = {}

    @abstractmethod
    def fit(
        self, data: ForecastData, spec: ForecastSpec, *, until: pd.Timestamp | None = None
    ) -> Self:
        """Train on the information available at ``until`` (default: end of data).

        Only target values with ``t + freq + lag('y') <= until`` (and likewise for past
        covariates) may be used.
        """

    @abstractmethod
    def predict(self, data: ForecastData, issue_times: Sequence[pd.Timestamp]) -> pd.DataFrame:
        """Forecast from each issue time, using only data available at that issue time.

        Returns one row per ``(issue_time, target_time)`` with the columns of
        :data:`PREDICTION_COLUMNS` then one per quantile (``spec.quantile_columns``), ordered by
        issue time then step. Vectorised over issue times: no refit.
        """

    @classmethod
    def accepted_params(cls) -> frozenset[str]:
        """Every parameter the model takes: its constructors' named arguments (up the class
        tree) plus :meth:`extra_params` (what a ``**params`` catch-all forwards). Anything else
        is refused with :class:`UnknownParameterError`, never ignored."""
        import inspect

        names: set[str] = set()
        for klass in cls.__mro__:
            init = vars(klass).get("__init__")
            if init is None or klass in (Forecaster, object):
                continue
            for p in inspect.signature(init).parameters.values():
                if p.name != "self" and p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY):
                    names.add(p.name)
        return frozenset(names | cls.extra_params())

    @classmethod
    def extra_params(cls) -> frozenset[str]:
        """Parameters taken through ``**params`` (none by default)."""
        return frozenset()

    @classmethod
    def library_params(cls) -> frozenset[str]:
        """Parameters forwarded to an outside library (e.g. LightGBM's); none by default."""
        return frozenset()

    @classmethod
    def check_params(cls, params: Mapping[str, Any], model: str | None = None) -> None:
        """Raise :class:`UnknownParameterError` unless every key of ``params`` is taken."""
        own = cls.accepted_params()
        unknown = set(params) - own
        if unknown:
            library = cls.library_params()
            unknown -= library
            if unknown:
                name = model or cls.name
                raise UnknownParameterError(name, unknown, own, library, cls.library_note)

    # ---- helpers for subclasses -------------------------------------------------------------
    def clone(self) -> Self:
        """An unfitted copy with the same parameters."""
        return type(self)(**copy.deepcopy(self.params))

    def get_params(self) -> dict[str, Any]:
        """Constructor parameters (a copy)."""
        return copy.deepcopy(self.params)

    @property
    def is_fitted(self) -> bool:
        """True after a successful :meth:`fit`."""
        return self.spec is not None

    def _require_fitted(self) -> ForecastSpec:
        if self.spec is None:
            raise NotFittedError(
                f"expected a fitted {self.name} model; found an unfitted one. Call fit() first."
            )
        return self.spec

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.params.items())
        return f"{type(self).__name__}({args})"


# ---------------------------------------------------------------------------------- model names
#: name -> class / factory / lazy "module:attr" path. Prefix entries end with ":".
_MODEL_NAMES: dict[str, Callable[..., Forecaster] | str] = {
    "seasonal_naive": "workbench.forecasting.baselines:SeasonalNaive",
    "seasonal_naive_weekly": "workbench.forecasting.baselines:weekly_seasonal_naive",
    "climatology": "workbench.forecasting.baselines:Climatology",
    "lightgbm": "workbench.forecasting.lgbm:LightGBMForecaster",
    "lear": "workbench.forecasting.lear:LEARForecaster",
    "auto": "workbench.forecasting.selection:AutoForecaster",
    "combination": "workbench.forecasting.ensemble:Combination",
    "clearsky:": "workbench.forecasting.clearsky:clearsky_forecaster",
    "smart_persistence": "workbench.forecasting.clearsky:smart_persistence",
    "satellite_nowcast": "workbench.forecasting.nowcast:SatelliteNowcast",
}

#: Modules imported (once, on first lookup) so they can call :func:`add_model`.
#: A module that is not installed is skipped; other import errors propagate.
PLUGIN_MODULES: list[str] = [
    "workbench.forecasting.deep",
    "workbench.forecasting.sktime_adapter",
]
_plugins_loaded = False


def add_model(
    name: str, factory: Callable[..., Forecaster] | str, *, overwrite: bool = False
) -> None:
    """Make ``make_forecaster(name, **params)`` build a model.

    Parameters
    ----------
    name : str
        Model name, e.g. ``"tft"``. A name ending with ``":"`` (``"sktime:"``) adds a
        prefix: ``make_forecaster("sktime:AutoETS", **p)`` calls ``factory("AutoETS", **p)``.
    factory : callable or str
        A Forecaster subclass, a function returning a Forecaster, or a lazy ``"module:attr"``.
    overwrite : bool
        Replace an existing entry (otherwise a clash with a different factory raises).
    """
    current = _MODEL_NAMES.get(name)
    if current is not None and current != factory and not overwrite:
        raise ForecastError(
            f"expected a new model name; found {name!r} already taken by {current!r}. "
            "Pass overwrite=True to replace it."
        )
    _MODEL_NAMES[name] = factory


def _load_plugins() -> None:
    global _plugins_loaded
    if _plugins_loaded:
        return
    _plugins_loaded = True
    for module in PLUGIN_MODULES:
        try:
            importlib.import_module(module)
        except ModuleNotFoundError as exc:
            if exc.name != module:
                raise


def available_models() -> list[str]:
    """Registered model names (prefix entries end with ``":"``)."""
    _load_plugins()
    return sorted(_MODEL_NAMES)


def _resolve(entry: Callable[..., Forecaster] | str) -> Callable[..., Forecaster]:
    if isinstance(entry, str):
        module, _, attr = entry.partition(":")
        return getattr(importlib.import_module(module), attr)
    return entry


def model_class(name: str) -> type[Forecaster] | None:
    """The Forecaster class behind a plain model name; ``None`` for a factory function or prefix.

    An unknown name raises :class:`UnknownModelError` with the list.
    """
    if name not in _MODEL_NAMES:
        _load_plugins()
    if name in _MODEL_NAMES:
        factory = _resolve(_MODEL_NAMES[name])
        return factory if isinstance(factory, type) and issubclass(factory, Forecaster) else None
    prefix, sep, rest = name.partition(":")
    if sep and f"{prefix}:" in _MODEL_NAMES and rest:
        return None
    raise UnknownModelError(name, available_models())


def make_forecaster(name: str, **params: Any) -> Forecaster:
    """Build a registered model by name; an unknown name is answered with the list.

    Examples
    --------
    >>> make_forecaster("lightgbm", n_estimators=300)  # doctest: +SKIP
    >>> make_forecaster("sktime:ThetaForecaster")  # doctest: +SKIP
    """
    if name not in _MODEL_NAMES:
        _load_plugins()
    if name in _MODEL_NAMES:
        factory = _resolve(_MODEL_NAMES[name])
        if isinstance(factory, type) and issubclass(factory, Forecaster):
            # before the constructor: its TypeError would not list the valid names
            factory.check_params(params, name)
        return factory(**params)
    prefix, sep, rest = name.partition(":")
    if sep and f"{prefix}:" in _MODEL_NAMES and rest:
        return _resolve(_MODEL_NAMES[f"{prefix}:"])(rest, **params)
    raise UnknownModelError(name, available_models())
