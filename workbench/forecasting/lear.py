"""LEAR: LASSO-estimated autoregressive day-ahead price model (Lago et al. 2021, epftoolbox).

The strongest simple benchmark of the electricity-price literature, fitted to our Forecaster
contract. For each target local day ``d`` (days of ``spec.tz``) and time-of-day slot ``s`` (24
hourly, 48 half-hourly; a slot is local clock time, so DST days of 23 or 25 hours keep their slots):

* inputs: the full daily price profiles of the three most recent local days whose every value is
  known at the issue (``d-1, d-2, d-3`` when known; otherwise the latest known ones: the
  availability lag of ``y`` is respected exactly) and of ``d-7`` (or ``d-14``... when ``d-7`` is
  not known yet; epftoolbox's full profile, which contains the same slot of ``d-7`` and keeps one
  input matrix for all slots), the slots of the running day after the last complete one that
  are already known at the issue (at a 10:00 issue with a 1 h lag: 00:00-08:00 of ``d-1``; NaN,
  hence 0 after the transform, for the others), each future covariate's full profile for ``d``,
  ``d-1`` and ``d-7``
  (versioned covariates as issued at or before the issue minus their lag, read with
  :func:`~workbench.forecasting.features.build_features`), and 7 day-of-week dummies of ``d``;
* one LASSO per slot (and per *gap* ``d - last known day``: a 48 h horizon from 00:00 has two),
  alpha chosen by AIC on the LARS path, as epftoolbox's ``LassoLarsIC(criterion="aic")`` does;
  the path is computed on the Gram matrix shared by the slots and followed only until the
  criterion's minimum is behind it (see :meth:`LEARForecaster.lasso`; same alpha, about 3x
  fewer LARS steps);
* a variance-stabilising transform per calibration window: each input column and each slot of the
  target are centred by their median, scaled by their MAD (normal-consistent) and passed through
  ``asinh``; forecasts are transformed back with ``sinh``. By default (``centre="recent"``) the
  target and the price inputs are first expressed against the mean price of the most recent
  complete day known at the issue: on the demo grid's prices, whose level drifts with the season
  and whose hours move together, the published window-median centring (``centre="window"``)
  left the sparse AIC model at the window's level: mean MAE ratio to the best seasonal naive
  over the 5 demo nodes 1.44 with ``"window"``, 0.85 with ``"recent"`` (90 DA issues, monthly
  refits; benchmarks/price_models.py);
* the forecast is the average over several calibration windows (``windows_days``, the most recent
  56, 84, 1092 and 1456 days by default); windows longer than the history are dropped and
  ``fit_info["windows_days"]`` says which were used.

Inputs that are missing (a gap in the data, the skipped hour of a spring DST day, a covariate
version that does not reach back to ``d-7``) count as the window median, i.e. 0 after the
transform, so they add nothing. The AIC's noise variance is the variance of the transformed target
of the slot (sklearn < 1.1's rule, the one epftoolbox's published results used); it also lets a
56-day window fit more inputs than it has days. Training pairs are daily issues at the local time
of day of the fit's cut-off, each with every local day its horizon touches. Quantiles come from
the conformal calibration of :class:`~workbench.forecasting.calibration.PointForecaster`.

References
----------
Lago, J., Marcjasz, G., De Schutter, B., Weron, R. (2021). Forecasting day-ahead electricity
prices: A review of state-of-the-art algorithms, best practices and an open-access benchmark.
Applied Energy 293, 116983.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from workbench.forecasting.base import (
    ForecastData,
    ForecastError,
    ForecastSpec,
    InsufficientDataError,
    forecast_grid,
)
from workbench.forecasting.calibration import PointForecaster
from workbench.forecasting.features import FeatureConfig, build_features, steps_per_day
from workbench.forecasting.windows import Grid, known_target

#: Calibration windows of Lago et al. (2021) [days].
DEFAULT_WINDOWS: tuple[int, ...] = (56, 84, 1092, 1456)
#: Most recent fully known local days whose price profiles are inputs.
PRICE_DAYS = 3
#: Days looked back for the exogenous profiles (d, d-1, d-7).
EXOG_DAYS: tuple[int, ...] = (0, 1, 7)
#: Normal-consistent MAD factor (1 / Phi^-1(0.75)).
MAD_SCALE = 1.482602218505602
#: LARS steps per block, and how far before the path's end the criterion's minimum must lie.
LARS_BLOCK, LARS_PATIENCE = 48, 12
_NS_DAY = 86_400 * 10**9
NAT = np.iinfo(np.int64).min  # NaT as int ns


# ------------------------------------------------------------------------------- transform
@dataclass
class AsinhScaler:
    """Column-wise median / MAD standardisation followed by ``asinh``, and its inverse.

    ``z = asinh((x - median) / mad)``; ``mad`` is the normal-consistent median absolute deviation
    of each column (a column whose MAD is 0, e.g. irradiance at night, uses its standard
    deviation, and a constant column 1, so it maps to 0 rather than to NaN).
    """

    median: np.ndarray
    mad: np.ndarray

    @classmethod
    def fit(cls, x: np.ndarray) -> AsinhScaler:
        """Median and MAD of each column of ``x`` ``(n, k)`` (NaN ignored; all-NaN -> 0, 1)."""
        x = np.asarray(x, dtype=float)
        with np.errstate(all="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN columns: handled below
            med = np.nanmedian(x, axis=0)
            med = np.where(np.isfinite(med), med, 0.0)
            mad = MAD_SCALE * np.nanmedian(np.abs(x - med), axis=0)
            std = np.nanstd(x, axis=0)
        mad = np.where(np.isfinite(mad) & (mad > 1e-12), mad, std)
        mad = np.where(np.isfinite(mad) & (mad > 1e-12), mad, 1.0)
        return cls(median=np.asarray(med, dtype=float), mad=np.asarray(mad, dtype=float))

    def transform(self, x: np.ndarray) -> np.ndarray:
        """``asinh((x - median) / mad)``; NaN stays NaN."""
        return np.arcsinh((np.asarray(x, dtype=float) - self.median) / self.mad)

    def inverse(self, z: np.ndarray) -> np.ndarray:
        """``sinh(z) * mad + median`` (the exact inverse of :meth:`transform`)."""
        return np.sinh(np.asarray(z, dtype=float)) * self.mad + self.median


# ------------------------------------------------------------------------------- day layout
class DayLayout:
    """Local days and time-of-day slots of ``spec.tz`` on the target's UTC grid.

    A local day is an integer (days since 1970-01-01 of the local date), a slot is
    ``local time of day // freq``. :meth:`labels` gives the UTC label of ``(day, slot)`` —
    NaT for the skipped hour of a spring DST day, the first (summer-time) occurrence of a
    repeated autumn hour.
    """

    def __init__(self, spec: ForecastSpec) -> None:
        self.spec = spec
        self.per_day = steps_per_day(spec.freq)
        self.step = spec.freq.value

    def day_slot(self, times: Any) -> tuple[np.ndarray, np.ndarray]:
        """Local day and slot of UTC instants."""
        local = pd.DatetimeIndex(times).tz_convert(self.spec.tz).tz_localize(None)
        ns = local.as_unit("ns").asi8
        day = np.floor_divide(ns, _NS_DAY)
        slot = np.minimum((ns - day * _NS_DAY) // self.step, self.per_day - 1)
        return day.astype(np.int64), slot.astype(np.int64)

    def last_complete_day(self, issue_times: Any, column: str = "y") -> np.ndarray:
        """The latest local day whose every label of ``column`` is known at each issue."""
        known = self.spec.last_known_label(issue_times, column) + self.spec.freq
        day, _ = self.day_slot(known)
        return day - 1

    def labels(self, days: np.ndarray, slots: np.ndarray) -> np.ndarray:
        """UTC label [int ns, NaT as ``iNaT``] of each ``(local day, slot)``."""
        naive = pd.DatetimeIndex(
            (np.asarray(days, dtype=np.int64) * _NS_DAY + np.asarray(slots) * self.step).astype(
                "datetime64[ns]"
            )
        )
        first = np.ones(len(naive), dtype=bool)
        local = naive.tz_localize(self.spec.tz, ambiguous=first, nonexistent="NaT")
        return local.tz_convert("UTC").as_unit("ns").asi8


def _take(y: pd.Series, labels_ns: np.ndarray) -> np.ndarray:
    """Values of ``y`` (on its regular grid) at UTC labels [int ns]; NaN off the grid or at NaT."""
    out = np.full(labels_ns.shape, np.nan)
    if len(y) < 2:
        return out
    grid = Grid(y.index, pd.Timedelta(y.index[1] - y.index[0]))
    valid = labels_ns != NAT
    out[valid] = grid.take(y.to_numpy(dtype=float), grid.pos(labels_ns[valid]))
    return out


def centred_gram(z: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Column means, the centred matrix and its Gram matrix ``zc.T @ zc``."""
    mean = z.mean(axis=0)
    zc = z - mean
    return mean, zc, zc.T @ zc


# ------------------------------------------------------------------------------- the model
class LEARForecaster(PointForecaster):
    """LASSO per slot on recent daily profiles and exogenous forecasts (see the module doc).

    Parameters
    ----------
    windows_days : tuple of int
        Calibration windows [days]; the forecast averages one model per window. Windows longer
        than the history are dropped; at least one must fit.
    criterion : {"aic", "bic"}
        Information criterion choosing each LASSO's alpha on its LARS path.
    max_iter : int
        Maximum LARS steps per fit.
    centre : {"recent", "window"}
        ``"recent"``: target and price inputs relative to the mean of the most recent complete
        known day, then the window median/MAD transform; ``"window"``: the window median/MAD
        transform only (Lago et al. 2021 as published).
    """

    name = "lear"

    def __init__(
        self,
        windows_days: tuple[int, ...] | list[int] = DEFAULT_WINDOWS,
        criterion: str = "aic",
        max_iter: int = 500,
        centre: str = "recent",
        **params: Any,
    ) -> None:
        windows = tuple(int(w) for w in windows_days)
        if not windows or min(windows) < 7:
            raise ForecastError(
                f"expected calibration windows of at least 7 days; found {list(windows_days)}"
            )
        if criterion not in ("aic", "bic"):
            raise ForecastError(f"expected criterion 'aic' or 'bic'; found {criterion!r}")
        if centre not in ("window", "recent"):
            raise ForecastError(f"expected centre 'window' or 'recent'; found {centre!r}")
        super().__init__(
            windows_days=windows, criterion=criterion, max_iter=max_iter, centre=centre, **params
        )

    # ---- inputs -------------------------------------------------------------------------
    def feature_names(self, spec: ForecastSpec) -> list[str]:
        """Names of the inputs, in the order of the coefficients."""
        per_day = steps_per_day(spec.freq)
        names = [f"y_run_s{s:02d}" for s in range(per_day)]  # known part of the running day
        names += [f"y_lag{k}_s{s:02d}" for k in range(1, PRICE_DAYS + 1) for s in range(per_day)]
        names += [f"y_week_s{s:02d}" for s in range(per_day)]
        for c in spec.future_covariates:
            names += [f"{c}_d{j}_s{s:02d}" for j in EXOG_DAYS for s in range(per_day)]
        return [*names, *(f"dow_{i}" for i in range(7))]

    def _pairs(
        self, data: ForecastData, spec: ForecastSpec, y: pd.Series, issue_times: Any
    ) -> tuple[pd.DataFrame, pd.DataFrame, np.ndarray]:
        """Forecast rows, the ``(issue, target day)`` pairs they fall in, and each pair's inputs.

        Returns
        -------
        rows : pandas.DataFrame
            :func:`forecast_grid` rows plus ``pair`` (row of ``pairs``) and ``slot``.
        pairs : pandas.DataFrame
            ``issue_time``, ``day`` (local day), ``gap`` (day minus the latest local day fully
            known at the issue).
        x : numpy.ndarray
            Inputs per pair (:meth:`feature_names` order), untransformed, NaN where missing.
        """
        lay = DayLayout(spec)
        rows = forecast_grid(issue_times, spec)
        issue = pd.DatetimeIndex(rows["issue_time"])
        day, slot = lay.day_slot(pd.DatetimeIndex(rows["target_time"]))
        key = pd.MultiIndex.from_arrays([issue.as_unit("ns").asi8, day])
        codes, uniq = pd.factorize(key)
        rows["pair"] = codes
        rows["slot"] = slot
        p_issue = pd.DatetimeIndex(uniq.get_level_values(0), tz="UTC")
        p_day = uniq.get_level_values(1).to_numpy(dtype=np.int64)
        # the most recent local day fully known at the issue (always before the target day)
        ref = np.minimum(lay.last_complete_day(p_issue), p_day - 1)
        pairs = pd.DataFrame({"issue_time": p_issue, "day": p_day, "gap": p_day - ref})
        n, per_day = len(p_day), lay.per_day
        slots = np.tile(np.arange(per_day), n)
        weeks = np.maximum(1, -(-(p_day - ref) // 7))  # d-7, or d-14 ... when d-7 is not known
        back = [ref - k for k in range(PRICE_DAYS)] + [p_day - 7 * weeks]
        blocks = [
            _take(y, lay.labels(np.repeat(d, per_day), slots)).reshape(n, per_day) for d in back
        ]
        # the running day after the last complete one: its slots already known at the issue
        # (the same ones at every issue of a given local time of day), NaN for the others
        run = lay.labels(np.repeat(ref + 1, per_day), slots)
        known = np.repeat(spec.last_known_label(p_issue).as_unit("ns").asi8, per_day)
        partial = np.where(run <= known, _take(y, run), np.nan)
        blocks.insert(0, partial.reshape(n, per_day))
        if spec.future_covariates:
            blocks.append(self._exog(data, spec, lay, p_issue, p_day))
        dummies = np.zeros((n, 7))
        dummies[np.arange(n), (p_day + 3) % 7] = 1.0  # 1970-01-01 was a Thursday (Monday = 0)
        blocks.append(dummies)
        return rows, pairs, np.hstack(blocks)

    def _exog(
        self,
        data: ForecastData,
        spec: ForecastSpec,
        lay: DayLayout,
        issue: pd.DatetimeIndex,
        day: np.ndarray,
    ) -> np.ndarray:
        """Covariate profiles of ``d``, ``d-1``, ``d-7`` as known at each issue."""
        per_day, n = lay.per_day, len(day)
        slots = np.tile(np.arange(per_day), n * len(EXOG_DAYS))
        days = np.concatenate([np.repeat(day - j, per_day) for j in EXOG_DAYS])
        rep_issue = np.tile(np.repeat(issue.as_unit("ns").asi8, per_day), len(EXOG_DAYS))
        labels = lay.labels(days, slots)
        ok = labels != NAT
        fut = list(spec.future_covariates)
        vals = np.full((len(labels), len(fut)), np.nan)
        if ok.any() and data.future is not None:
            grid = pd.DataFrame(
                {
                    "issue_time": pd.DatetimeIndex(rep_issue[ok], tz="UTC"),
                    "target_time": pd.DatetimeIndex(labels[ok], tz="UTC"),
                    "step": np.ones(int(ok.sum()), dtype=np.int64),
                }
            )
            only_future = spec.replace(past_covariates=())
            frame = build_features(data, only_future, None, FeatureConfig(), grid=grid)
            for i, c in enumerate(fut):
                vals[ok, i] = frame[f"f_fut_{c}"].to_numpy(dtype=float)
        # rows (lag j, pair, slot) x covariate -> per pair: covariate, then lag j, then slot
        cube = vals.reshape(len(EXOG_DAYS), n, per_day, len(fut))
        return cube.transpose(1, 3, 0, 2).reshape(n, len(fut) * len(EXOG_DAYS) * per_day)

    # ---- fit / predict ------------------------------------------------------------------
    def _training_issues(
        self, spec: ForecastSpec, first: pd.Timestamp, until: pd.Timestamp
    ) -> pd.DatetimeIndex:
        """Daily issues at ``until``'s local time of day, strictly before ``until``.

        From 10 days after the first known value (the inputs reach 7 days back), but no further
        back than the longest window plus 3 weeks: older days would not be used.
        """
        local_until = until.tz_convert(spec.tz)
        offset = local_until - local_until.normalize()
        oldest = until - pd.Timedelta(days=max(self.params["windows_days"]) + 21)
        lo = max(first + pd.Timedelta(days=PRICE_DAYS + 7), oldest)
        lo = lo.tz_convert(spec.tz).tz_localize(None)
        days = pd.date_range(lo.normalize(), local_until.tz_localize(None).normalize(), freq="D")
        local = (days + offset).tz_localize(spec.tz, nonexistent="shift_forward", ambiguous=True)
        utc = local.tz_convert("UTC")
        return utc[(utc >= first) & (utc < until)]

    def _fit_point(self, data: ForecastData, spec: ForecastSpec, until: pd.Timestamp) -> None:
        y_known = known_target(data, spec, until)
        windows = self.params["windows_days"]
        # only values known at `until` exist for the fit (inputs and targets alike)
        y_fit = y_known.reindex(data.y.index[data.y.index <= until])
        issues = self._training_issues(spec, y_known.index[0], until) if len(y_known) else []
        _, pairs, x = self._pairs(data, spec, y_fit, issues)
        lay = DayLayout(spec)
        per_day = lay.per_day
        days = pairs["day"].to_numpy()
        slots = np.tile(np.arange(per_day), len(pairs))
        y_mat = _take(y_fit, lay.labels(np.repeat(days, per_day), slots)).reshape(-1, per_day)
        # whole days only (a day with a missing value, or the skipped hour of a spring DST day,
        # is left out): the slots then share one input matrix and one Gram matrix
        seen = np.isfinite(y_mat).all(axis=1)
        pairs, x, y_mat = pairs[seen].reset_index(drop=True), x[seen], y_mat[seen]
        level = self._level(x, per_day)
        y_mat = y_mat - level[:, None]
        days_per_gap = pairs.groupby("gap")["day"].nunique()
        available = int(days_per_gap.max()) if len(days_per_gap) else 0
        used = tuple(w for w in windows if w <= available)
        if not used:
            raise InsufficientDataError(
                f"expected at least {min(windows)} days of target history for lear (its "
                f"shortest calibration window) before {until}; found {available} days. Give "
                "the model more history or pass shorter windows_days."
            )
        # most common gap first; a rare one (the odd step of a DST-day issue) gets no model
        ranked = days_per_gap.sort_values(ascending=False, kind="stable")
        gaps = [int(g) for g, n in ranked.items() if n >= min(used)]
        last_day = int(pairs["day"].max())
        models: dict[tuple[int, int], list[dict[str, Any]]] = {}
        steps = []
        for gap in gaps:
            for w in used:
                keep = ((pairs["gap"] == gap) & (pairs["day"] > last_day - w)).to_numpy()
                sx = AsinhScaler.fit(x[keep, :-7])
                sy = AsinhScaler.fit(y_mat[keep])
                z = self._design(x[keep], sx)
                zy = sy.transform(y_mat[keep])
                shared = centred_gram(z)  # one Gram for every slot with no missing target
                for s in range(per_day):
                    coef, intercept, n_steps = self.lasso(z, zy[:, s], shared)
                    steps.append(n_steps)
                    models.setdefault((gap, s), []).append(
                        {"window": w, "coef": coef, "intercept": intercept, "sx": sx, "sy": sy}
                    )
        self.models_ = models
        self.feature_names_ = self.feature_names(spec)
        self.fallback_ = float(y_known.median())
        nonzero = [int(np.count_nonzero(m["coef"])) for ms in models.values() for m in ms]
        self.fit_info.update(
            windows_days=list(used),
            windows_dropped=[w for w in windows if w not in used],
            history_days=available,  # complete days, counted up to the longest window + 3 weeks
            gaps=gaps,
            lasso_fits=len(nonzero),
            mean_nonzero_coefs=round(float(np.mean(nonzero)), 2),
            mean_lars_steps=round(float(np.mean(steps)), 1),
            features=len(self.feature_names_),
        )

    def lasso(
        self, z: np.ndarray, target: np.ndarray, shared: tuple[np.ndarray, ...]
    ) -> tuple[np.ndarray, float, int]:
        """LASSO on the LARS path, alpha by AIC/BIC: ``(coef, intercept, LARS steps)``.

        ``shared`` is :func:`centred_gram` of ``z`` (used when no target value is missing). The path
        is followed in blocks of :data:`LARS_BLOCK` steps until the criterion's minimum lies at
        least :data:`LARS_PATIENCE` steps before the path's end (or the path ends, or
        ``max_iter``): on price data the minimum comes after a few dozen steps, and each LARS
        step costs about a millisecond in sklearn's Python loop.
        """
        from sklearn.linear_model import lars_path_gram

        ok = np.isfinite(target)
        t = target[ok]
        n = len(t)
        if n < 3 or np.var(t) <= 0:
            return np.zeros(z.shape[1]), float(np.mean(t)) if n else 0.0, 0
        mean_z, zc, gram = shared if ok.all() else centred_gram(z[ok])
        mean_t = float(t.mean())
        tc = t - mean_t
        xy = zc.T @ tc
        noise = float(np.var(tc))  # sklearn < 1.1 / epftoolbox: the target's variance
        penalty = 2.0 if self.params["criterion"] == "aic" else np.log(n)
        cap = min(LARS_BLOCK, int(self.params["max_iter"]))
        while True:
            _, _, path = lars_path_gram(
                xy, gram, n_samples=n, method="lasso", max_iter=cap, copy_Gram=True
            )
            rss = tc @ tc - 2.0 * path.T @ xy + ((gram @ path) * path).sum(axis=0)
            crit = rss / noise + penalty * (np.abs(path) > 0).sum(axis=0)
            best = int(np.argmin(crit))
            ended = path.shape[1] < cap + 1 or cap >= int(self.params["max_iter"])
            if ended or best < path.shape[1] - LARS_PATIENCE:
                break
            cap = min(4 * cap, int(self.params["max_iter"]))
        coef = path[:, best].copy()
        return coef, mean_t - float(mean_z @ coef), path.shape[1] - 1

    def _level(self, x: np.ndarray, per_day: int) -> np.ndarray:
        """Per pair, the level subtracted from the price inputs and the target (in place on x).

        ``centre="window"`` (LEAR as published): 0, the window median does the centring.
        ``centre="recent"``: the mean price of the most recent complete day known at the issue.
        """
        n_price = (PRICE_DAYS + 2) * per_day
        if self.params["centre"] == "window":
            return np.zeros(len(x))
        with np.errstate(all="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # an all-NaN day: level 0 below
            level = np.nanmean(x[:, per_day : 2 * per_day], axis=1)
        level = np.where(np.isfinite(level), level, 0.0)
        x[:, :n_price] -= level[:, None]
        return level

    @staticmethod
    def _design(x: np.ndarray, sx: AsinhScaler) -> np.ndarray:
        """Transformed inputs: the scaled price and covariate profiles, then the 7 dummies."""
        z = np.hstack([sx.transform(x[:, :-7]), x[:, -7:]])
        return np.where(np.isfinite(z), z, 0.0)  # a missing input counts as the window median

    def _predict_point(self, data: ForecastData, issue_times: Any) -> pd.DataFrame:
        spec = self._require_fitted()
        rows, pairs, x = self._pairs(data, spec, data.y, issue_times)
        level = self._level(x, steps_per_day(spec.freq))
        fitted: dict[int, list[int]] = {}
        for g, s in self.models_:
            fitted.setdefault(s, []).append(g)
        slot = rows["slot"].to_numpy()
        gap = pairs["gap"].to_numpy()[rows["pair"].to_numpy()]
        pair = rows["pair"].to_numpy()
        pred = np.full(len(rows), np.nan)
        for (g, s), idx in pd.Series(np.arange(len(rows))).groupby([gap, slot]):
            if s not in fitted:
                raise ForecastError(
                    f"expected a lear model for time-of-day slot {s}; found models for slots "
                    f"{sorted(fitted)}. Refit on a history that covers every slot."
                )
            # a gap never seen in training (the odd step of a DST-day issue) uses the nearest
            # fitted gap, on the most recent known days
            near = min(fitted[s], key=lambda k: (abs(k - g), -k))
            idx = idx.to_numpy()
            total = np.zeros(len(idx))
            for m in self.models_[(near, s)]:
                zy = self._design(x[pair[idx]], m["sx"]) @ m["coef"] + m["intercept"]
                total += np.sinh(zy) * m["sy"].mad[s] + m["sy"].median[s]
            pred[idx] = total / len(self.models_[(near, s)]) + level[pair[idx]]
        pred[~np.isfinite(pred)] = self.fallback_
        out = rows[["issue_time", "target_time", "step"]].copy()
        out["y_pred"] = pred
        return out

    def coefficients(self, slot: int, gap: int | None = None) -> pd.DataFrame:
        """Fitted coefficients (on the transformed scale) of one slot, one column per window.

        Parameters
        ----------
        slot : int
            Local time-of-day slot (the hour for hourly data).
        gap : int, optional
            Target day minus the last known day (default: the most common fitted gap).
        """
        self._require_fitted()
        gap = self.fit_info["gaps"][0] if gap is None else gap
        ms = self.models_[(gap, slot)]
        return pd.DataFrame(
            {f"w{m['window']}": m["coef"] for m in ms}, index=pd.Index(self.feature_names_)
        )
