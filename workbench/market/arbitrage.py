"""Battery energy arbitrage as a linear programme (scipy's HiGHS), and its daily backtest.

The battery buys energy when prices are low and sells it when they are high. Over intervals
``t`` of ``dt`` hours, with charge ``c_t`` and discharge ``d_t`` [MW] and the state of charge
``s_t`` [MWh] at the *end* of interval ``t``::

    maximise    sum_t dt * price_t * (d_t - c_t)  -  degradation * sum_t dt * d_t
    subject to  s_t = s_{t-1} + dt * eta * c_t - dt * d_t / eta        (eta = sqrt(round trip))
                0 <= c_t, d_t <= power_mw
                min_soc * E <= s_t <= max_soc * E
                s_{-1} = initial_soc * E,  s_{T-1} = final_soc * E
                sum_{t in day} dt * d_t <= cycles_per_day * E               (throughput limit)

The round-trip efficiency is split evenly: ``sqrt(eta_rt)`` on the way in and on the way out.
A *cycle* is one nameplate energy ``E`` discharged (equivalent full cycles).

Charging and discharging in the same interval wastes ``(1 - eta_rt)`` of the energy; at a positive
price that costs money, so the optimum never does it. At a *negative* price burning energy is
paid for, and the optimum may do both at once: that is a real strategy, not a modelling error.

Forecasts with quantiles (:func:`forecast_price`): the profit is linear in the prices for a
fixed schedule, so the schedule that maximises the *expected* profit is the one optimised on the
*expected* price; that is the default (``use="mean"``, the mean estimated from the quantiles). A
single quantile (``use=0.5`` for the median, a low one to be cautious) is offered as well; it is a
point forecast like any other, not a risk measure.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from workbench.core.extras import require
from workbench.market.errors import (
    BatteryParameterError,
    InfeasibleScheduleError,
    MarketInputError,
)

SCHEDULE_COLUMNS = [
    "price_usd_per_mwh",
    "charge_mw",
    "discharge_mw",
    "net_mw",
    "soc_mwh",
    "revenue_usd",
]


@dataclass(frozen=True)
class Battery:
    """A grid battery.

    Parameters
    ----------
    energy_mwh : float
        Nameplate energy [MWh], > 0.
    power_mw : float
        Charge and discharge power limit [MW], > 0.
    round_trip_efficiency : float
        Energy out over energy in [1], in (0, 1]; split as ``sqrt`` on charge and on discharge.
    initial_soc, final_soc : float
        State of charge at the start and at the end of each optimisation [share of
        ``energy_mwh``]; ``final_soc=None`` means the same as ``initial_soc``.
    min_soc, max_soc : float
        Bounds of the state of charge [share of ``energy_mwh``].
    cycles_per_day : float or None
        Energy discharged per calendar day, in nameplate energies [1]; ``None``: no limit.
    degradation_usd_per_mwh : float
        Wear cost per MWh discharged [$/MWh], >= 0.

    Examples
    --------
    >>> Battery(energy_mwh=100, power_mw=25).charge_efficiency  # doctest: +ELLIPSIS
    0.948...
    """

    energy_mwh: float
    power_mw: float
    round_trip_efficiency: float = 0.9
    initial_soc: float = 0.5
    final_soc: float | None = None
    min_soc: float = 0.0
    max_soc: float = 1.0
    cycles_per_day: float | None = 1.0
    degradation_usd_per_mwh: float = 0.0

    def __post_init__(self) -> None:
        problems = []
        for name in ("energy_mwh", "power_mw"):
            value = getattr(self, name)
            if not (np.isfinite(value) and value > 0):
                problems.append(f"{name} > 0 (found {value})")
        eta = self.round_trip_efficiency
        if not (np.isfinite(eta) and 0 < eta <= 1):
            problems.append(f"round_trip_efficiency in (0, 1] (found {eta})")
        if not (0 <= self.min_soc <= self.max_soc <= 1):
            problems.append(
                f"0 <= min_soc <= max_soc <= 1 (found min_soc={self.min_soc}, "
                f"max_soc={self.max_soc})"
            )
        for name in ("initial_soc", "final_soc"):
            value = getattr(self, name)
            if value is not None and not (self.min_soc <= value <= self.max_soc):
                problems.append(
                    f"{name} between min_soc {self.min_soc} and max_soc {self.max_soc} "
                    f"(found {value})"
                )
        if self.cycles_per_day is not None and not self.cycles_per_day > 0:
            problems.append(f"cycles_per_day > 0 or None (found {self.cycles_per_day})")
        if not self.degradation_usd_per_mwh >= 0:
            problems.append(f"degradation_usd_per_mwh >= 0 (found {self.degradation_usd_per_mwh})")
        if problems:
            msg = "expected a battery with " + "; ".join(problems) + "; fix these parameters"
            raise BatteryParameterError(msg)

    @property
    def charge_efficiency(self) -> float:
        """Share of the charged energy that reaches the store [1]."""
        return float(np.sqrt(self.round_trip_efficiency))

    @property
    def end_soc(self) -> float:
        """The final state of charge [share of ``energy_mwh``]."""
        return self.initial_soc if self.final_soc is None else self.final_soc


@dataclass(frozen=True)
class ArbitrageResult:
    """An optimal schedule and the profit it earns at the prices it was optimised on.

    ``schedule`` is indexed by interval start (UTC) with :data:`SCHEDULE_COLUMNS`: the price
    [$/MWh], ``charge_mw`` and ``discharge_mw`` [MW], ``net_mw`` (discharge minus charge, positive
    into the grid) [MW], ``soc_mwh`` at the *end* of the interval [MWh] and ``revenue_usd`` [$].
    """

    schedule: pd.DataFrame
    profit_usd: float
    interval_h: float


@dataclass(frozen=True)
class BacktestResult:
    """Daily profits of a forecast-driven schedule against perfect foresight.

    ``days`` has one row per day: ``expected_profit_usd`` (at the forecast prices),
    ``realised_profit_usd`` (the forecast's schedule settled at the actual prices) and
    ``perfect_profit_usd`` (the schedule optimised on the actual prices), all [$].
    """

    days: pd.DataFrame
    schedule: pd.DataFrame = field(repr=False)

    @property
    def realised_profit_usd(self) -> float:
        return float(self.days["realised_profit_usd"].sum())

    @property
    def perfect_profit_usd(self) -> float:
        return float(self.days["perfect_profit_usd"].sum())

    @property
    def ratio(self) -> float:
        """Realised over perfect-foresight profit [1] (NaN when perfect foresight earns 0)."""
        perfect = self.perfect_profit_usd
        return self.realised_profit_usd / perfect if perfect > 0 else float("nan")


def _price_series(prices: pd.Series, what: str) -> pd.Series:
    if not isinstance(prices, pd.Series):
        msg = f"expected {what} as a pandas Series indexed by time; found {type(prices).__name__}"
        raise MarketInputError(msg)
    if not isinstance(prices.index, pd.DatetimeIndex):
        msg = (
            f"expected {what} indexed by timestamps; found a {type(prices.index).__name__}; "
            "set the time column as the index"
        )
        raise MarketInputError(msg)
    if len(prices) == 0:
        raise MarketInputError(f"expected {what} with at least one interval; found none")
    index = prices.index
    index = index.tz_localize("UTC") if index.tz is None else index.tz_convert("UTC")
    values = pd.to_numeric(prices, errors="coerce").to_numpy(dtype=float)
    bad = ~np.isfinite(values)
    if bad.any():
        first = index[np.argmax(bad)]
        msg = (
            f"expected a finite price in every interval of {what}; found {int(bad.sum())} "
            f"missing or non-numeric (first at {first}); fill or drop them first"
        )
        raise MarketInputError(msg)
    if index.has_duplicates:
        dup = index[index.duplicated()]
        msg = (
            f"expected {what} with one row per timestamp; found {len(dup)} duplicate "
            f"timestamps (first {dup[0]}); drop or merge them"
        )
        raise MarketInputError(msg)
    if not index.is_monotonic_increasing:
        back = int(np.argmax(np.diff(index.asi8) < 0)) + 1
        msg = (
            f"expected {what} with increasing timestamps; found {index[back]} (row {back + 1}) "
            f"after {index[back - 1]}; sort the rows by time"
        )
        raise MarketInputError(msg)
    return pd.Series(values, index=index.rename("timestamp"), name="price_usd_per_mwh")


def _interval_hours(index: pd.DatetimeIndex, interval_h: float | None) -> float:
    if len(index) < 2:
        if interval_h is None:
            msg = (
                "expected at least 2 rows (intervals) to infer the interval length, or "
                "interval_h; found 1 row"
            )
            raise MarketInputError(msg)
        return float(interval_h)
    diffs = np.diff(index.asi8)
    steps, counts = np.unique(diffs, return_counts=True)
    if len(steps) != 1:
        usual = int(steps[np.argmax(counts)])
        widest = int(np.argmax(diffs))
        step = pd.Timedelta(usual, unit=index.unit)
        size = pd.Timedelta(int(diffs[widest]), unit=index.unit)
        odd = int((diffs != usual).sum())
        if diffs[widest] > usual:
            msg = (
                f"expected regular intervals of {step}; found a gap of {size} after "
                f"{index[widest]} (row {widest + 1}) and {odd} irregular steps in all; fill "
                "the missing intervals or split the file there"
            )
        else:
            shown = sorted({str(pd.Timedelta(int(s), unit=index.unit)) for s in steps[:5]})
            msg = (
                f"expected regular intervals of {step}; found steps of {shown}; resample the "
                "prices to one interval length first"
            )
        raise MarketInputError(msg)
    inferred = pd.Timedelta(int(steps[0]), unit=index.unit).total_seconds() / 3600.0
    if interval_h is not None and not np.isclose(interval_h, inferred):
        msg = f"expected interval_h to match the index ({inferred} h); found {interval_h}"
        raise MarketInputError(msg)
    return inferred


def _day_codes(index: pd.DatetimeIndex, tz: str) -> np.ndarray:
    codes, _ = pd.factorize(index.tz_convert(tz).normalize())
    return codes


def optimal_schedule(
    prices: pd.Series,
    battery: Battery,
    *,
    interval_h: float | None = None,
    tz: str = "UTC",
) -> ArbitrageResult:
    """The profit-maximising charge/discharge schedule at the given prices.

    Parameters
    ----------
    prices : pandas.Series
        Price per interval [$/MWh], indexed by regular interval starts (naive = UTC).
    battery : Battery
        The battery, its limits and its start and end state of charge.
    interval_h : float, optional
        Interval length [h]; inferred from the index (required for a single interval).
    tz : str
        Time zone whose calendar days the cycle limit counts in.

    Returns
    -------
    ArbitrageResult
        The schedule and its profit [$] at ``prices``.

    Raises
    ------
    InfeasibleScheduleError
        When the end state of charge cannot be reached within the power and cycle limits.

    Examples
    --------
    >>> idx = pd.date_range("2024-03-01", periods=2, freq="h", tz="UTC")
    >>> res = optimal_schedule(pd.Series([10.0, 50.0], idx), Battery(10, 10, 1.0, initial_soc=0))
    >>> round(res.profit_usd, 6)
    400.0
    """
    optimize = require("scipy.optimize", feature="battery arbitrage")
    sparse = require("scipy.sparse", feature="battery arbitrage")
    price = _price_series(prices, "prices")
    dt = _interval_hours(price.index, interval_h)
    n = len(price)
    e_cap, p_max = battery.energy_mwh, battery.power_mw
    eta = battery.charge_efficiency
    p = price.to_numpy()
    # variables: charge (n), discharge (n), soc (n); minimise cost = -profit
    cost = np.concatenate([dt * p, -dt * p + dt * battery.degradation_usd_per_mwh, np.zeros(n)])
    t = np.arange(n)
    rows = np.concatenate([t, t, t, t[1:]])
    cols = np.concatenate([t, n + t, 2 * n + t, 2 * n + t[:-1]])
    vals = np.concatenate([
        np.full(n, -eta * dt), np.full(n, dt / eta), np.ones(n), -np.ones(n - 1)
    ])  # fmt: skip
    a_eq = sparse.csr_array((vals, (rows, cols)), shape=(n, 3 * n))
    b_eq = np.zeros(n)
    b_eq[0] = battery.initial_soc * e_cap
    s_lo, s_hi = battery.min_soc * e_cap, battery.max_soc * e_cap
    lower = np.concatenate([np.zeros(2 * n), np.full(n, s_lo)])
    upper = np.concatenate([np.full(2 * n, p_max), np.full(n, s_hi)])
    lower[-1] = upper[-1] = battery.end_soc * e_cap
    a_ub = b_ub = None
    if battery.cycles_per_day is not None:
        days = _day_codes(price.index, tz)
        a_ub = sparse.csr_array((np.full(n, dt), (days, n + t)), shape=(int(days.max()) + 1, 3 * n))
        b_ub = np.full(a_ub.shape[0], battery.cycles_per_day * e_cap)
    res = optimize.linprog(
        cost,
        A_ub=a_ub,
        b_ub=b_ub,
        A_eq=a_eq,
        b_eq=b_eq,
        bounds=np.column_stack([lower, upper]),
        method="highs",
    )
    if res.status == 2:
        msg = (
            f"expected a battery able to go from {battery.initial_soc:g} to "
            f"{battery.end_soc:g} of {e_cap:g} MWh in {n} intervals of {dt:g} h at "
            f"{p_max:g} MW (cycle limit {battery.cycles_per_day}); found no feasible schedule; "
            "relax the end state of charge, the cycle limit or lengthen the horizon"
        )
        raise InfeasibleScheduleError(msg)
    if res.status != 0:
        msg = f"expected the LP solver to finish; found status {res.status}: {res.message}"
        raise InfeasibleScheduleError(msg)
    x = res.x
    charge = np.clip(x[:n], 0.0, p_max)
    discharge = np.clip(x[n : 2 * n], 0.0, p_max)
    soc = np.clip(x[2 * n :], s_lo, s_hi)
    schedule = _schedule_frame(price, charge, discharge, soc, dt)
    profit = float(schedule["revenue_usd"].sum()) - _wear(schedule, battery, dt)
    return ArbitrageResult(schedule=schedule, profit_usd=profit, interval_h=dt)


def _schedule_frame(
    price: pd.Series, charge: np.ndarray, discharge: np.ndarray, soc: np.ndarray, dt: float
) -> pd.DataFrame:
    net = discharge - charge
    frame = pd.DataFrame(
        {
            "price_usd_per_mwh": price.to_numpy(),
            "charge_mw": charge,
            "discharge_mw": discharge,
            "net_mw": net,
            "soc_mwh": soc,
            "revenue_usd": dt * net * price.to_numpy(),
        },
        index=price.index,
    )
    return frame[SCHEDULE_COLUMNS]


def _wear(schedule: pd.DataFrame, battery: Battery, dt: float) -> float:
    return battery.degradation_usd_per_mwh * dt * float(schedule["discharge_mw"].sum())


def settle(plan: ArbitrageResult, actual: pd.Series, battery: Battery) -> float:
    """Profit [$] of a fixed schedule at the actual prices (wear cost included).

    Parameters
    ----------
    plan : ArbitrageResult
        A schedule from :func:`optimal_schedule`.
    actual : pandas.Series
        Actual price per interval [$/MWh] on the schedule's index.
    battery : Battery
        The battery (for its wear cost).
    """
    price = _price_series(actual, "actual prices")
    schedule, dt = plan.schedule, plan.interval_h
    if not price.index.equals(schedule.index):
        msg = (
            f"expected actual prices on the schedule's {len(schedule)} intervals; found "
            f"{len(price)} intervals that differ; align them first"
        )
        raise MarketInputError(msg)
    net = schedule["net_mw"].to_numpy()
    return float(dt * (net * price.to_numpy()).sum()) - _wear(schedule, battery, dt)


def forecast_price(forecast: pd.DataFrame, use: str | float = "mean") -> pd.Series:
    """One price per interval from a forecast with quantiles.

    Parameters
    ----------
    forecast : pandas.DataFrame
        Indexed by interval start; one column per quantile level, named by the level (``0.1``,
        ``0.5``, ``0.9`` as floats or strings), and optionally a ``mean`` column [$/MWh].
    use : {"mean"} or float
        ``"mean"``: the ``mean`` column if present, else the mean of the distribution whose
        quantile function is piecewise linear between the levels and flat beyond the outermost
        ones (crossing quantiles are sorted first). A float: that quantile level's column.

    Returns
    -------
    pandas.Series
        Price per interval [$/MWh].

    Examples
    --------
    >>> f = pd.DataFrame({0.1: [10.0], 0.5: [20.0], 0.9: [40.0]})
    >>> float(forecast_price(f).iloc[0])  # 0.3 * 10 + 0.4 * 20 + 0.3 * 40
    23.0
    """
    levels: dict[float, str] = {}
    for col in forecast.columns:
        try:
            q = float(col)
        except (TypeError, ValueError):
            continue
        if 0 < q < 1:
            levels[q] = col
    if use == "mean":
        if "mean" in forecast.columns:
            return forecast["mean"].astype(float).rename("price_usd_per_mwh")
        if not levels:
            msg = (
                "expected a 'mean' column or quantile columns named by level (0.1, 0.5, ...); "
                f"found {list(forecast.columns)}"
            )
            raise MarketInputError(msg)
        qs = np.array(sorted(levels))
        values = np.sort(forecast[[levels[q] for q in qs]].to_numpy(dtype=float), axis=1)
        weights = _mean_weights(qs)
        return pd.Series(values @ weights, index=forecast.index, name="price_usd_per_mwh")
    q = float(use)
    match = [col for level, col in levels.items() if np.isclose(level, q)]
    if not match:
        msg = f"expected a quantile column {q}; found levels {sorted(levels)} (or use='mean')"
        raise MarketInputError(msg)
    return forecast[match[0]].astype(float).rename("price_usd_per_mwh")


def _mean_weights(qs: np.ndarray) -> np.ndarray:
    """Weights w with mean = w @ values for a piecewise-linear quantile function."""
    w = np.zeros(len(qs))
    w[0] += qs[0]
    w[-1] += 1.0 - qs[-1]
    gaps = np.diff(qs)
    w[:-1] += gaps / 2
    w[1:] += gaps / 2
    return w


def backtest(
    actual: pd.Series,
    forecast: pd.Series,
    battery: Battery,
    *,
    tz: str = "UTC",
) -> BacktestResult:
    """Rolling daily backtest: each day scheduled on its forecast and settled at actual prices.

    Every day is optimised on its own (start at ``initial_soc``, end at ``final_soc``), once on the
    forecast and once on the actual prices (perfect foresight); the forecast must have been known
    before the day starts (that is the caller's side of the bargain, e.g. the day-ahead price as
    the forecast of real time).

    Parameters
    ----------
    actual, forecast : pandas.Series
        Actual and forecast price per interval [$/MWh] on the same regular index.
    battery : Battery
        The battery.
    tz : str
        Time zone whose calendar days split the backtest.

    Returns
    -------
    BacktestResult
        Daily profits and the realised schedule (with ``actual_price_usd_per_mwh``).
    """
    real = _price_series(actual, "actual prices")
    fc = _price_series(forecast, "forecast prices")
    if not real.index.equals(fc.index):
        msg = (
            f"expected forecast and actual prices on the same intervals; found {len(fc)} and "
            f"{len(real)} intervals that differ; align them (reindex) first"
        )
        raise MarketInputError(msg)
    dt = _interval_hours(real.index, None)
    days = real.index.tz_convert(tz).normalize()
    rows, parts = [], []
    for day in days.unique():
        mask = days == day
        plan = optimal_schedule(fc[mask], battery, interval_h=dt, tz=tz)
        perfect = optimal_schedule(real[mask], battery, interval_h=dt, tz=tz)
        realised = settle(plan, real[mask], battery)
        rows.append((day.date(), plan.profit_usd, realised, perfect.profit_usd))
        part = plan.schedule.assign(actual_price_usd_per_mwh=real[mask].to_numpy())
        parts.append(part)
    frame = pd.DataFrame(
        rows, columns=["date", "expected_profit_usd", "realised_profit_usd", "perfect_profit_usd"]
    )
    return BacktestResult(days=frame, schedule=pd.concat(parts))
