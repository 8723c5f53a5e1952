"""Direct multi-horizon features, vectorised over issue times.

Each row of :func:`~workbench.forecasting.base.forecast_grid` — one ``(issue_time, step)`` — gets
features that use only what is known at its issue time:

* ``level``: mean of the target over the 7 days up to the last known value (the model learns
  ``y - level``, so trees extrapolate across level shifts and trends);
* the last known value, the 24 h mean and standard deviation up to it (minus ``level``);
* seasonal lags relative to the *target*: the same time of day on the most recent day whose value
  is known at the issue (``sh_1``), the day before (``sh_2``), the 7-day average of that time of day
  (``sh_mean7``), and the same time of week on the most recent known week (``sw_1``);
* calendar of the target in the local zone: hour (fractional), weekday, weekend, day of year
  (sin/cos), public holiday (``holidays`` package, when a country is given), hour of the issue;
* future covariates at the target time — exact ones as given, versioned ones as forecast by the
  latest forecast issued at or before ``issue - lag`` — and their change since the time of
  ``sh_1`` (``fut_<c>_vs_sh1``: a hotter afternoon than the one the lag comes from);
* past covariates, each with its own availability lag: last known value, 24 h mean, the value
  at the same local time on the most recent known day, and the last / same-time values minus the
  covariate's own 7-day level (anomalies: trees cannot subtract two features themselves).

Positions on the regular grid replace timestamp joins, so a year of daily issues × 48 steps is a
few numpy gathers.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from workbench.forecasting.base import ForecastData, ForecastSpec, forecast_grid
from workbench.forecasting.windows import Grid, ffill

DAY = pd.Timedelta("1D")


@dataclass(frozen=True)
class FeatureConfig:
    """Which optional features to build.

    Parameters
    ----------
    holidays_country : str, optional
        ISO country for public holidays (``"US"``, ``"GB"``); ``None`` disables the feature.
    holidays_subdiv : str, optional
        Subdivision for holidays (``"TX"``).
    level_days : int
        Window of the level (mean) the target is expressed against [days].
    """

    holidays_country: str | None = None
    holidays_subdiv: str | None = None
    level_days: int = 7


class SeasonalLags:
    """Grid positions of "the same local time, k seasons before the target", DST-aware.

    On a UTC grid, one local day before a target is 23 or 25 hours back across a DST change;
    the shift is corrected with the zone's UTC offsets, so a load profile keyed to local clock
    time keeps lining up. A lag that is not yet known at the issue moves one more season back.
    """

    def __init__(
        self, target: pd.DatetimeIndex, pt: np.ndarray, pa: np.ndarray, spec: ForecastSpec
    ):
        self.ns = target.as_unit("ns").asi8
        self.pt, self.pa, self.spec = pt, pa, spec
        self.step = spec.freq.value
        self.fixed = _is_fixed(spec.tz)
        self.off_t = None if self.fixed else _utc_offset_ns(self.ns, spec.tz)

    def positions(self, season_steps: int, extra: int = 0) -> np.ndarray:
        """Positions of the most recent known season-lag (plus ``extra`` seasons back)."""
        gap = np.maximum(self.pt - self.pa, 1)
        k = -(-gap // season_steps) + extra
        pos = self._shift(k, season_steps)
        late = pos > self.pa
        if late.any():
            k = k + late
            pos = self._shift(k, season_steps)
        return pos

    def _shift(self, k: np.ndarray, season_steps: int) -> np.ndarray:
        back = self.pt - k * season_steps
        if self.fixed:
            return back
        approx = self.ns - k * season_steps * self.step
        corr = (self.off_t - _utc_offset_ns(approx, self.spec.tz)) / self.step
        return back + np.round(corr).astype(np.int64)


def seasonal_naive_values(
    data: ForecastData, spec: ForecastSpec, issue_times: Any, season: pd.Timedelta
) -> pd.DataFrame:
    """Seasonal naive points: ``forecast_grid(issue_times, spec)`` plus ``y_pred``.

    For a target ``t`` and last known label ``a``, the value ``y(t - k * season)`` with the
    smallest ``k >= 1`` such that ``t - k * season <= a`` (local clock time of ``spec.tz``); a
    missing value falls back on the season before (up to 4), then on the last known value.
    """
    g = forecast_grid(issue_times, spec)
    pos = Grid(data.y.index, spec.freq)
    vals = data.y.to_numpy(dtype=float)
    pa = pos.pos(spec.last_known_label(pd.DatetimeIndex(g["issue_time"])))
    pt = pos.pos(pd.DatetimeIndex(g["target_time"]))
    period = int(season / spec.freq)
    lags = SeasonalLags(pd.DatetimeIndex(g["target_time"]), pt, pa, spec)
    pred = pos.take(vals, lags.positions(period))
    for extra in range(1, 5):
        miss = ~np.isfinite(pred)
        if not miss.any():
            break
        pred[miss] = pos.take(vals, lags.positions(period, extra))[miss]
    miss = ~np.isfinite(pred)
    if miss.any():
        pred[miss] = pos.take(ffill(vals), pa[miss])
    g["y_pred"] = pred
    return g


def _is_fixed(tz: str) -> bool:
    probe = pd.DatetimeIndex(["2021-01-15", "2021-07-15"]).tz_localize("UTC").tz_convert(tz)
    offsets = {t.utcoffset() for t in probe}
    return len(offsets) == 1


def _utc_offset_ns(ns: np.ndarray, tz: str) -> np.ndarray:
    utc = pd.DatetimeIndex(ns, tz="UTC")
    return utc.tz_convert(tz).tz_localize(None).as_unit("ns").asi8 - ns


def steps_per_day(freq: pd.Timedelta) -> int:
    """Grid steps in a day (1 for daily or coarser series)."""
    return max(1, round(DAY / freq))


def holiday_flags(dates: pd.DatetimeIndex, country: str, subdiv: str | None) -> np.ndarray:
    """1.0 where the local date is a public holiday of ``country``, else 0.0."""
    from workbench.core.extras import require

    holidays = require("holidays", feature="holiday features")
    days = dates.normalize().tz_localize(None)
    years = range(int(days.year.min()), int(days.year.max()) + 1)
    table = holidays.country_holidays(country, subdiv=subdiv, years=years)
    hol = pd.DatetimeIndex(sorted(pd.Timestamp(d) for d in table))
    return days.isin(hol).astype(float)


def _local_holidays(times: pd.DatetimeIndex, spec: ForecastSpec, cfg: FeatureConfig) -> np.ndarray:
    local = times.tz_convert(spec.tz)
    uniq, inv = np.unique(local.normalize().tz_localize(None).asi8, return_inverse=True)
    flags = holiday_flags(
        pd.DatetimeIndex(uniq).tz_localize(spec.tz), cfg.holidays_country, cfg.holidays_subdiv
    )
    return flags[inv]


def calendar_features(
    target: pd.DatetimeIndex,
    issue: pd.DatetimeIndex,
    spec: ForecastSpec,
    cfg: FeatureConfig,
    sh1_time: pd.DatetimeIndex | None = None,
) -> dict[str, np.ndarray]:
    """Local-time calendar of each target (and the issue's hour of day).

    With a holiday calendar: ``holiday`` (the target's local date), ``dow_eff`` (the weekday, a
    holiday counted as a Sunday) and ``holiday_sh1`` (whether the day the ``sh_1`` lag comes
    from was a holiday, so its low load is not taken for the normal level).
    """
    local = target.tz_convert(spec.tz)
    hour = local.hour + local.minute / 60.0
    doy = local.dayofyear.to_numpy()
    out = {
        "hour": np.asarray(hour, dtype=float),
        "dow": local.dayofweek.to_numpy().astype(float),
        "weekend": (local.dayofweek >= 5).astype(float),
        "doy_sin": np.sin(2 * np.pi * doy / 365.25),
        "doy_cos": np.cos(2 * np.pi * doy / 365.25),
    }
    iss = issue.tz_convert(spec.tz)
    out["issue_hour"] = np.asarray(iss.hour + iss.minute / 60.0, dtype=float)
    if cfg.holidays_country:
        out["holiday"] = _local_holidays(target, spec, cfg)
        out["dow_eff"] = np.where(out["holiday"] > 0, 6.0, out["dow"])
        if sh1_time is not None:
            out["holiday_sh1"] = _local_holidays(sh1_time, spec, cfg)
    return out


def _versioned(future: pd.DataFrame, cols: list[str], issue: Any, target: Any, lag: dict) -> dict:
    """Latest forecast of each column issued at or before ``issue - lag``, for each target."""
    fc = future[cols].reset_index()
    fc.columns = ["fc_issue", "target_time", *cols]
    fc["fc_issue"] = pd.DatetimeIndex(fc["fc_issue"]).as_unit("ns")
    fc["target_time"] = pd.DatetimeIndex(fc["target_time"]).as_unit("ns")
    out = {}
    groups: dict[pd.Timedelta, list[str]] = {}
    for c in cols:
        groups.setdefault(lag.get(c, pd.Timedelta(0)), []).append(c)
    query = pd.DataFrame(
        {
            "target_time": pd.DatetimeIndex(target).as_unit("ns"),
            "row": np.arange(len(target)),
        }
    )
    for lg, group in groups.items():
        q = query.assign(asof=(pd.DatetimeIndex(issue) - lg).as_unit("ns"))
        q = q.sort_values("asof", kind="stable")
        # columns present on the same rows merge together; a column from other rows (another
        # source stacked in, e.g. DA prices beside weather) merges on its own rows only
        subsets = [group] if fc[group].notna().all().all() else [[c] for c in group]
        for cols_ in subsets:
            right = fc[["fc_issue", "target_time", *cols_]].dropna(subset=cols_, how="all")
            right = right.sort_values("fc_issue", kind="stable")
            merged = pd.merge_asof(
                q,
                right,
                left_on="asof",
                right_on="fc_issue",
                by="target_time",
                direction="backward",
            )
            merged = merged.sort_values("row")
            for c in cols_:
                out[c] = merged[c].to_numpy(dtype=float)
    return out


def build_features(
    data: ForecastData,
    spec: ForecastSpec,
    issue_times: Any,
    cfg: FeatureConfig | None = None,
    grid: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Feature rows for each ``(issue_time, step)``; see the module doc.

    Parameters
    ----------
    data, spec : ForecastData, ForecastSpec
        The series and problem.
    issue_times : sequence of pandas.Timestamp
        Issue times (tz-aware).
    cfg : FeatureConfig, optional
        Optional features (holidays).
    grid : pandas.DataFrame, optional
        Rows to fill (default ``forecast_grid(issue_times, spec)``).

    Returns
    -------
    pandas.DataFrame
        ``issue_time``, ``target_time``, ``step``, ``level`` [unit of y] and the feature columns;
        :func:`feature_columns` names the model inputs.
    """
    cfg = cfg or FeatureConfig()
    g = forecast_grid(issue_times, spec) if grid is None else grid.reset_index(drop=True)
    y = data.y
    pos = Grid(y.index, spec.freq)
    vals = y.to_numpy(dtype=float)
    filled = ffill(vals)
    issue = pd.DatetimeIndex(g["issue_time"])
    target = pd.DatetimeIndex(g["target_time"])
    pa = pos.pos(spec.last_known_label(issue, "y"))
    pt = pos.pos(target)
    per_day = steps_per_day(spec.freq)
    s = pd.Series(vals)
    roll_level = s.rolling(cfg.level_days * per_day, min_periods=1).mean().to_numpy()
    roll_mean = s.rolling(per_day, min_periods=1).mean().to_numpy()
    roll_std = s.rolling(per_day, min_periods=2).std().to_numpy()
    level = pos.take(ffill(roll_level), pa)
    feats: dict[str, np.ndarray] = {"step": g["step"].to_numpy(dtype=float)}
    feats["last"] = pos.take(filled, pa) - level
    feats["mean_1d"] = pos.take(ffill(roll_mean), pa) - level
    feats["std_1d"] = pos.take(roll_std, pa)
    # same time of day on the most recent day known at the issue
    lags = SeasonalLags(target, pt, pa, spec)
    sh = [pos.take(vals, lags.positions(per_day, i)) - level for i in range(7)]
    feats["sh_1"] = sh[0]
    feats["sh_2"] = sh[1]
    with np.errstate(all="ignore"):
        stack = np.vstack(sh)
        cnt = np.isfinite(stack).sum(axis=0)
        feats["sh_mean7"] = np.where(cnt > 0, np.nansum(stack, axis=0) / np.maximum(cnt, 1), np.nan)
    week = 7 * per_day
    feats["sw_1"] = pos.take(vals, lags.positions(week)) - level
    feats["sw_2"] = pos.take(vals, lags.positions(week, 1)) - level
    sh1_ns = pos.t0 + lags.positions(per_day).astype("int64") * pos.step
    sh1_time = pd.DatetimeIndex(sh1_ns.astype("datetime64[ns]")).tz_localize("UTC")
    feats.update(calendar_features(target, issue, spec, cfg, sh1_time))
    feats.update(_covariates(data, spec, pos, issue, target, pt, per_day, sh1_time))
    out = g[["issue_time", "target_time", "step"]].copy()
    out["level"] = level
    out["f_level"] = level
    for name, col in feats.items():
        if name != "step":
            out[f"f_{name}"] = col
    out["f_step"] = feats["step"]
    return out


def _covariates(
    data: ForecastData,
    spec: ForecastSpec,
    pos: Grid,
    issue: pd.DatetimeIndex,
    target: pd.DatetimeIndex,
    pt: np.ndarray,
    per_day: int,
    sh1_time: pd.DatetimeIndex,
) -> dict[str, np.ndarray]:
    out: dict[str, np.ndarray] = {}
    fut = list(spec.future_covariates)
    if fut and data.future is not None:
        lag = dict(spec.availability_lag)
        if data.future_is_versioned:
            vers = _versioned(data.future, fut, issue, target, lag)
            then = _versioned(data.future, fut, issue, sh1_time, lag)
        else:
            vers = {c: pos.take(data.future[c].to_numpy(dtype=float), pt) for c in fut}
            p1 = pos.pos(sh1_time)
            then = {c: pos.take(data.future[c].to_numpy(dtype=float), p1) for c in fut}
        for c in fut:
            out[f"fut_{c}"] = vers[c]
            # the change since the day the sh_1 lag comes from (a warmer day than the one whose
            # load the model starts from): trees cannot subtract two features themselves
            out[f"fut_{c}_vs_sh1"] = vers[c] - then[c]
    for c in spec.past_covariates:
        if data.past is None:
            break
        v = data.past[c].to_numpy(dtype=float)
        pc = pos.pos(spec.last_known_label(issue, c))
        own = pd.Series(v).rolling(7 * per_day, min_periods=1).mean().to_numpy()
        own_level = pos.take(ffill(own), pc)  # the covariate's own 7-day level at the issue
        out[f"past_{c}_last"] = pos.take(ffill(v), pc)
        out[f"past_{c}_last_anom"] = out[f"past_{c}_last"] - own_level
        mean = pd.Series(v).rolling(per_day, min_periods=1).mean().to_numpy()
        out[f"past_{c}_mean_1d"] = pos.take(mean, pc)
        # same time of day, most recent day known at the issue (relative to the target)
        sh = pos.take(v, SeasonalLags(target, pt, pc, spec).positions(per_day))
        out[f"past_{c}_sh_1"] = sh
        out[f"past_{c}_sh_1_anom"] = sh - own_level
    return out


def feature_columns(frame: pd.DataFrame) -> list[str]:
    """The model input columns of a :func:`build_features` frame."""
    return [c for c in frame.columns if c.startswith("f_")]


def target_values(frame: pd.DataFrame, y: pd.Series) -> np.ndarray:
    """Observed target at each row's target time (NaN when missing or off the grid)."""
    return y.reindex(pd.DatetimeIndex(frame["target_time"])).to_numpy(dtype=float)
