"""Conformal quantiles per forecast step: an inner validation split, then online updates.

**At fit time** a point model is fitted on the training window minus a validation tail, issues
daily forecasts over that tail (at the time of day of the training cut-off, which is the
backtest's issue time), and the residuals ``y - y_pred`` give, per step, the offsets added to
``y_pred`` for each quantile level. Neighbouring steps are pooled (``±pool`` steps) so each
quantile rests on enough residuals; a split-conformal finite-sample correction widens the tails
slightly. The offsets are centred on the median residual of each step: the validation bias is
the inner model's (trained on older data, often on another level of a drifting series), not the
refitted model's, and carrying it over was measured to wreck coverage (GB demand: 25 % observed
for a nominal 80 % interval, 66 % centred). The tail is long — 35 % of the window, 14 to 56
days — because day-ahead errors come in multi-day spells (a warm week, a holiday period): a
one-week tail sees one spell and gives intervals that are right on average but wrong for weeks.

**At predict time** (online conformal) the fitted model also forecasts daily issues between its
cut-off and the requested issues; for each requested issue ``T`` the residuals are those of the
calibration tail and of these out-of-sample forecasts whose targets are known at ``T`` (target
label + freq + the target's availability lag ``<= T``), from issues in the last
:data:`ONLINE_WINDOW_DAYS` days. A model kept for weeks (a monthly retrain, a production model in
the registry) thus tracks the current error level instead of the one at its fit. The tail's
residuals are centred (the inner model's bias), the model's own are not (its bias is real). On top,
adaptive conformal inference (:class:`AdaptiveLevel`) widens the levels after issues that missed
too often and narrows them after issues that never did. On the GB demand series this took 80 %
interval coverage from 0.66 to 0.79, on the demo load to 0.78-0.79 (see benchmarks/README.md);
``online_calibration=False`` keeps the static offsets.

The model is refitted on the whole window. When the window is too short for a split (fewer than
:data:`MIN_INNER_TRAIN_DAYS` + 7 days) the window is split in halves; when even that fails, the
residuals of the daily seasonal naive over the window are used, and ``fit_info`` says so.

Everything here works on any :class:`PointForecaster` (defined here: a point model plus this
calibration).
"""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from workbench.forecasting.base import (
    CALIBRATION_PARAMS,
    ForecastData,
    Forecaster,
    ForecastSpec,
    InsufficientDataError,
    quantile_column,
)
from workbench.forecasting.features import seasonal_naive_values
from workbench.forecasting.windows import (
    DAY,
    daily_issues,
    known_target,
    resolve_until,
    validation_issues,
)

if TYPE_CHECKING:
    from typing import Self

#: Residuals of issues at most this old [days] calibrate an issue online (see the module doc).
ONLINE_WINDOW_DAYS = 28
#: Fewest distinct issues in the online window; below it all known residuals are used.
MIN_ONLINE_ISSUES = 7
#: Step of the adaptive miss level per scored issue (see :class:`AdaptiveLevel`).
ACI_GAMMA = 0.05


class PointForecaster(Forecaster):
    """A forecaster that predicts points and gets its quantiles by conformal calibration.

    Subclasses implement :meth:`_fit_point` and :meth:`_predict_point` (returning the
    :func:`forecast_grid` rows plus ``y_pred``). :meth:`fit` then

    1. fits a clone on the training window minus an inner validation tail, predicts daily issues
       over that tail, and keeps the residual quantiles per step (pooled over neighbouring steps),
    2. fits on the whole training window.

    :meth:`predict` adds ``y_pred + residual quantile`` per step, updated online with the model's
    own out-of-sample residuals known at each issue; quantiles are sorted so they never cross.
    Calibration details are in :mod:`workbench.forecasting.calibration`; the validation coverage
    lands in ``fit_info["calibration"]``.

    Parameters accepted by every point forecaster (in ``params``): ``calibration_days`` (int,
    length of the inner validation tail; default: automatic), ``clip_min`` (float or ``"auto"``:
    clip predictions below at the training minimum when it is >= 0, e.g. solar),
    ``online_calibration`` (bool, default True: update the offsets at each issue),
    ``calibration_pool`` (steps pooled each side for the residual quantiles).
    """

    @classmethod
    def extra_params(cls) -> frozenset[str]:
        """The calibration parameters every point forecaster takes."""
        return CALIBRATION_PARAMS

    @abstractmethod
    def _fit_point(self, data: ForecastData, spec: ForecastSpec, until: pd.Timestamp) -> None:
        """Fit the point model on data known at ``until``."""

    @abstractmethod
    def _predict_point(self, data: ForecastData, issue_times: Any) -> pd.DataFrame:
        """``forecast_grid(issue_times, spec)`` plus a ``y_pred`` column."""

    def fit(
        self, data: ForecastData, spec: ForecastSpec, *, until: pd.Timestamp | None = None
    ) -> Self:
        """Calibrate on an inner validation split, then fit on the whole window (see class doc)."""
        fit_calibrated(self, data, spec, until)
        return self

    def predict(self, data: ForecastData, issue_times: Sequence[pd.Timestamp]) -> pd.DataFrame:
        """Point forecast plus calibrated quantiles (see class doc)."""
        self._require_fitted()
        return predict_calibrated(self, data, issue_times)


def residual_frame(pred: pd.DataFrame, y: pd.Series, spec: ForecastSpec) -> pd.DataFrame:
    """Residuals ``y - y_pred`` of a prediction, with when each became known.

    Returns
    -------
    pandas.DataFrame
        ``issue_time``, ``step``, ``residual`` [unit of y] and ``known_at`` (target label + freq
        + the target's availability lag), one row per observed target (NaN targets dropped).
    """
    target = pd.DatetimeIndex(pred["target_time"])
    truth = y.reindex(target).to_numpy(dtype=float)
    res = pd.DataFrame(
        {
            "issue_time": pd.DatetimeIndex(pred["issue_time"]).as_unit("ns"),
            "step": pred["step"].to_numpy(dtype="int64"),
            "residual": truth - pred["y_pred"].to_numpy(dtype=float),
            "known_at": (target + spec.freq + spec.lag("y")).as_unit("ns"),
        }
    )
    return res[np.isfinite(res["residual"])].reset_index(drop=True)


def offsets_from_residuals(
    steps: np.ndarray,
    residuals: np.ndarray,
    spec: ForecastSpec,
    pool: int | None = None,
    center: bool = True,
    scale: float = 1.0,
) -> np.ndarray:
    """Per-step quantile offsets ``(horizon, n_quantiles)``, centred on each step's median.

    Steps within ``±pool`` (default ``max(1, horizon // 24)``) are pooled; a step with fewer than
    10 pooled residuals uses all of them. Split-conformal finite-sample levels. ``center=False``
    keeps the residuals' bias (used online, where it is the deployed model's own); ``scale``
    stretches the levels about the median (``0.5 + (q - 0.5) * scale``; > 1 widens).
    """
    pool = max(1, spec.horizon // 24) if pool is None else pool
    horizon, qs = spec.horizon, np.asarray(spec.quantiles, dtype=float)
    steps = np.asarray(steps, dtype=np.int64)
    residuals = np.asarray(residuals, dtype=float)
    # one row per step, padded with NaN; then the pooled window of each step, sorted (NaN last)
    order = np.argsort(steps, kind="stable")
    steps, residuals = steps[order], residuals[order]
    counts = np.bincount(steps, minlength=horizon + 1)[1 : horizon + 1]
    width = max(1, int(counts.max()) if len(counts) else 1)
    grid = np.full((horizon + 2 * pool, width), np.nan)
    starts = np.searchsorted(steps, np.arange(1, horizon + 1))
    rank = np.arange(len(steps)) - starts[np.clip(steps - 1, 0, horizon - 1)]
    inside = (steps >= 1) & (steps <= horizon)
    grid[steps[inside] - 1 + pool, rank[inside]] = residuals[inside]
    pooled = np.hstack([grid[k : k + horizon] for k in range(2 * pool + 1)])
    pooled.sort(axis=1)
    n = np.isfinite(pooled).sum(axis=1)
    few = n < 10  # too few to estimate tails: fall back on all steps
    if few.any():
        every = np.sort(residuals)
        pooled = np.where(few[:, None], np.nan, pooled)
        pad = np.full((horizon, max(0, len(every) - pooled.shape[1])), np.nan)
        pooled = np.hstack([pooled, pad])
        pooled[few, : len(every)] = every
        n = np.where(few, len(every), n)
    n_f = n[:, None].astype(float)
    levels = np.clip(0.5 + (qs[None, :] - 0.5) * scale * (n_f + 1) / n_f, 0.0, 1.0)
    out = _sorted_quantile(pooled, n, levels)
    if center:
        out = out - _sorted_quantile(pooled, n, np.full((horizon, 1), 0.5))
    return out


def _sorted_quantile(values: np.ndarray, n: np.ndarray, levels: np.ndarray) -> np.ndarray:
    """Row-wise linear-interpolated quantiles (``np.quantile``'s default) of sorted rows.

    ``values`` rows are sorted with their ``n`` finite values first; ``levels`` is
    ``(rows, k)``. Vectorised: one call for all steps instead of one ``np.quantile`` per step.
    """
    pos = levels * (n[:, None] - 1)
    lo = np.floor(pos).astype(np.int64)
    hi = np.minimum(lo + 1, n[:, None] - 1)
    frac = pos - lo
    rows = np.arange(values.shape[0])[:, None]
    a, b = values[rows, lo], values[rows, hi]
    return a + frac * (b - a)


def residual_offsets(
    pred: pd.DataFrame, y: pd.Series, spec: ForecastSpec, pool: int | None = None
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Per-step offsets for each quantile from residuals ``y - y_pred``.

    Parameters
    ----------
    pred : pandas.DataFrame
        Rows with ``issue_time``, ``target_time``, ``step`` and ``y_pred``.
    y : pandas.Series
        Observed target.
    pool : int, optional
        Steps pooled on each side (default: ``max(1, horizon // 24)``).

    Returns
    -------
    offsets : pandas.DataFrame
        Index ``step`` (1..horizon), one column per quantile [unit of y], relative to the median
        residual of the step (so ``q0.5`` is ``y_pred``).
    residuals : pandas.DataFrame
        The :func:`residual_frame` rows used (NaN targets dropped).
    """
    res = residual_frame(pred, y, spec)
    if res.empty:
        raise InsufficientDataError(
            "expected observed targets over the calibration window; found none. Give the model "
            "a longer history or fewer missing values."
        )
    rows = offsets_from_residuals(res["step"].to_numpy(), res["residual"].to_numpy(), spec, pool)
    offsets = pd.DataFrame(rows, columns=spec.quantile_columns)
    offsets.index = pd.RangeIndex(1, spec.horizon + 1, name="step")
    return offsets, res


def interval_coverage(pred: pd.DataFrame, y: pd.Series, spec: ForecastSpec) -> dict[str, float]:
    """Share of observed values below each quantile column [0-1]."""
    truth = y.reindex(pd.DatetimeIndex(pred["target_time"])).to_numpy(dtype=float)
    ok = np.isfinite(truth)
    out = {}
    for col in spec.quantile_columns:
        if col in pred and ok.any():
            out[col] = float(np.mean(truth[ok] <= pred[col].to_numpy()[ok]))
    return out


def fit_calibrated(
    model: PointForecaster, data: ForecastData, spec: ForecastSpec, until: Any
) -> None:
    """Calibrate ``model`` on an inner split, then fit it on all data known at ``until``."""
    data.check_spec(spec)
    until = resolve_until(data, spec, until)
    y_known = known_target(data, spec, until)
    if len(y_known) < 2:
        raise InsufficientDataError(
            f"expected target values known before {until}; found {len(y_known)}. Move the "
            "test start later or give more history."
        )
    issues = validation_issues(spec, until, y_known.index[0], model.params.get("calibration_days"))
    method = "split-conformal"
    pred = None
    if len(issues):
        inner = model.clone()
        try:
            inner._fit_point(data, spec, issues[0])
        except InsufficientDataError:
            issues = issues[:0]
        else:
            inner.spec = spec
            pred = inner._predict_point(data, issues)
    model._fit_point(data, spec, until)
    model.spec = spec
    if pred is None:
        # too short for any split: residuals of the daily seasonal naive, which has no fitted
        # parameters, so its in-window residuals are honest (in-sample ones of a fitted model
        # are not: they collapsed LightGBM intervals to 3 % coverage on 10 days of history)
        method = "seasonal-naive residuals (history too short for a validation split)"
        end = spec.last_known_label([until])[0]
        start = y_known.index[0] + DAY
        issues = daily_issues(until, start, end - (spec.lead + spec.horizon - 1) * spec.freq)
        if not len(issues):
            issues = daily_issues(until, y_known.index[0], end)
        pred = seasonal_naive_values(data, spec, issues, DAY)
    y_cal = y_known
    offsets, res = residual_offsets(pred, y_cal, spec, model.params.get("calibration_pool"))
    model.calibration_ = offsets
    # online, the tail's residuals count without the inner model's bias (see residual_offsets);
    # the fitted model's own residuals keep theirs: it is the bias of the model in use
    inner = res.copy()
    inner["residual"] -= inner.groupby("step")["residual"].transform("median")
    model.calibration_residuals_ = inner
    model.calibrated_until_ = until
    clip = model.params.get("clip_min", "auto")
    if clip == "auto":
        clip = 0.0 if float(y_known.min()) >= 0.0 else None
    model.clip_min_ = clip
    calibrated = apply_calibration(model, pred)
    model.fit_info["calibration"] = {
        "method": method,
        "issues": len(issues),
        "residuals": len(res),
        "bias": float(res["residual"].mean()),
        "online_window_days": ONLINE_WINDOW_DAYS,
        "coverage_on_calibration": interval_coverage(calibrated, y_cal, spec),
    }
    model.fit_info["train_until"] = str(until)
    model.fit_info["train_start"] = str(y_known.index[0])


def predict_calibrated(
    model: PointForecaster, data: ForecastData, issue_times: Sequence[pd.Timestamp]
) -> pd.DataFrame:
    """Point forecasts plus quantiles calibrated online (see the module doc).

    Each issue ``T`` gets offsets from the residuals known at ``T`` — the calibration tail's and
    the fitted model's own out-of-sample ones (daily issues from its cut-off) — of issues in the
    last :data:`ONLINE_WINDOW_DAYS` days. Static offsets when ``online_calibration=False`` or
    when the model was fitted before this existed (no stored residuals).
    """
    spec = model.spec
    assert spec is not None
    issues = pd.DatetimeIndex(issue_times)
    stored = getattr(model, "calibration_residuals_", None)
    until = getattr(model, "calibrated_until_", None)
    online = model.params.get("online_calibration", True) and stored is not None
    if not online or not len(issues) or not (issues.is_monotonic_increasing and issues.is_unique):
        return apply_calibration(model, model._predict_point(data, issues))
    issues = issues.tz_convert("UTC").as_unit("ns")
    window = pd.Timedelta(days=ONLINE_WINDOW_DAYS)
    reach = (spec.lead + spec.horizon) * spec.freq + spec.lag("y")
    extra = daily_issues(until, max(until, issues.min() - window), issues.max() - reach)
    asked = pd.Index(issues.asi8)
    every = pd.DatetimeIndex(np.union1d(issues.asi8, extra.as_unit("ns").asi8), tz="UTC")
    every = every[(every >= until) | every.isin(issues)]
    full = model._predict_point(data, every).reset_index(drop=True)
    own = full[pd.DatetimeIndex(full["issue_time"]) >= until]
    res = pd.concat([stored, residual_frame(own, data.y, spec)], ignore_index=True)
    res_issue = pd.DatetimeIndex(res["issue_time"]).as_unit("ns").asi8  # int ns: fast compares
    res_known = pd.DatetimeIndex(res["known_at"]).as_unit("ns").asi8
    res_step, res_val = res["step"].to_numpy(), res["residual"].to_numpy()
    pool = model.params.get("calibration_pool")
    base = full["y_pred"].to_numpy(dtype=float)
    steps = full["step"].to_numpy()
    issue_col = pd.DatetimeIndex(full["issue_time"]).as_unit("ns").asi8
    target = pd.DatetimeIndex(full["target_time"])
    truth = data.y.reindex(target).to_numpy(dtype=float)
    known_col = (target + spec.freq + spec.lag("y")).as_unit("ns").asi8
    q = np.repeat(model.calibration_.to_numpy()[None, 0], len(full), axis=0)
    aci = AdaptiveLevel(spec.quantiles)
    pending: list[tuple[int, np.ndarray]] = []
    for t in np.unique(issue_col):  # in time order: each issue sees what earlier ones taught
        rows = np.flatnonzero(issue_col == t)
        still = []
        for t_known, done in pending:
            if t_known <= t:  # all of that issue's targets are known by now: score it
                aci.update(truth[done], base[done] + q[done, 0], base[done] + q[done, -1])
            else:
                still.append((t_known, done))
        pending = still
        known = res_known <= t
        pick = known & (res_issue >= t - window.value)
        if len(np.unique(res_issue[pick])) < MIN_ONLINE_ISSUES:
            pick = known
        if pick.sum() < 10:  # nothing known yet at this issue (e.g. before the cut-off)
            q[rows] = model.calibration_.to_numpy()[steps[rows] - 1]
        else:
            offsets = offsets_from_residuals(
                res_step[pick], res_val[pick], spec, pool, center=False, scale=aci.scale
            )
            q[rows] = offsets[steps[rows] - 1]
        if t >= until.value:
            pending.append((known_col[rows].max(), rows))
    keep = pd.Index(issue_col).isin(asked)
    pred = full[keep].reset_index(drop=True)
    out = apply_calibration(model, pred)  # clipping of y_pred; quantiles replaced below
    qs = np.sort(base[keep, None] + q[keep], axis=1)
    clip = getattr(model, "clip_min_", None)
    if clip is not None:
        qs = np.maximum(qs, clip)
    for i, col in enumerate(spec.quantile_columns):
        out[col] = qs[:, i]
    model.fit_info.setdefault("calibration", {})["online_level_scale"] = round(aci.scale, 4)
    return out


class AdaptiveLevel:
    """Adaptive conformal inference on the widest central interval (Gibbs & Candes, 2021).

    After each issue whose targets are all known, the miss level moves by
    ``gamma * (nominal - observed miss rate)``: an interval that missed too often widens for the
    next issues, one that never missed narrows, so coverage holds over time even when the error
    level drifts faster than the residual window follows. :attr:`scale` stretches the quantile
    levels about the median accordingly (1 while nothing is known, or with fewer than two
    quantiles on either side of the median).
    """

    def __init__(self, quantiles: Sequence[float], gamma: float = ACI_GAMMA) -> None:
        lo, hi = min(quantiles), max(quantiles)
        self.nominal = 1.0 - (hi - lo) if lo < 0.5 < hi else None
        self.alpha = self.nominal
        self.gamma = gamma

    def update(self, y: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> None:
        """Score one issue: ``y`` observed, ``[lo, hi]`` the interval it was given."""
        ok = np.isfinite(y)
        if self.nominal is None or not ok.any():
            return
        miss = float(np.mean((y[ok] < lo[ok]) | (y[ok] > hi[ok])))
        self.alpha += self.gamma * (self.nominal - miss)
        self.alpha = float(np.clip(self.alpha, 0.25 * self.nominal, min(0.95, 2 * self.nominal)))

    @property
    def scale(self) -> float:
        """Factor on ``q - 0.5`` that turns the nominal interval into the adapted one."""
        if self.nominal is None or self.alpha is None:
            return 1.0
        return (1.0 - self.alpha) / (1.0 - self.nominal)


def apply_calibration(model: PointForecaster, pred: pd.DataFrame) -> pd.DataFrame:
    """Add quantile columns to a point prediction: ``y_pred + offset[step]``, sorted, clipped."""
    offsets: pd.DataFrame = model.calibration_
    steps = pred["step"].to_numpy()
    base = pred["y_pred"].to_numpy(dtype=float)
    q = base[:, None] + offsets.to_numpy()[steps - 1]
    q = np.sort(q, axis=1)
    out = pred.copy()
    clip = getattr(model, "clip_min_", None)
    if clip is not None:
        q = np.maximum(q, clip)
        out["y_pred"] = np.maximum(base, clip)
    for i, col in enumerate(offsets.columns):
        out[col] = q[:, i]
    return out


def coverage_table(
    pred: pd.DataFrame, quantiles: Sequence[float], y_col: str = "y_true"
) -> pd.DataFrame:
    """Observed share of values below each quantile column, next to the nominal level."""
    truth = pred[y_col].to_numpy(dtype=float)
    ok = np.isfinite(truth)
    rows = []
    for q in quantiles:
        col = quantile_column(q)
        rows.append(
            {"quantile": q, "observed_share_below": float(np.mean(truth[ok] <= pred[col][ok]))}
        )
    return pd.DataFrame(rows)
