"""Forecast metrics: point errors, quantile scores, coverage, skill; overall, by step, by hour.

All functions ignore pairs where the truth or the forecast is NaN (a missing value: a gap, a
target not observed yet); ``score_frame``'s ``n`` counts the pairs scored. ``inf`` and ``-inf``
are not missing values: every function raises :class:`NonFiniteMetricError` on them, so a
diverged model or a corrupt target can never score MAE 0 or coverage 100 %. A caller that wants
them out masks explicitly (``ok = np.isfinite(y); mae(y[ok], f[ok])``).

* MAPE and sMAPE are in percent; MAPE skips targets whose ``|y|`` is below ``floor`` (by
  default 1 % of the mean ``|y|``), since relative errors there are meaningless (solar at night).
* nMAE is MAE divided by the capacity, in percent (solar and wind).
* pinball loss of level ``q``: mean of ``max(q * (y - f), (q - 1) * (y - f))``.
* CRPS from quantiles: ``2 * mean over levels of the pinball loss`` — the quantile-score
  approximation of the CRPS integral (exact in the limit of many evenly spread levels).
* coverage of the central interval ``[q_lo, q_hi]`` for each symmetric pair of levels.
* skill vs a baseline: ``1 - score_model / score_baseline`` (positive is better).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from workbench.forecasting.base import ForecastError, quantile_column


class NonFiniteMetricError(ForecastError):
    """A metric was given ``inf`` or ``-inf`` (truth or forecast)."""


def check_finite(values: np.ndarray, what: str) -> np.ndarray:
    """``values`` as floats; :class:`NonFiniteMetricError` if any is ``inf``/``-inf``.

    NaN passes (a missing value, skipped by the metrics).
    """
    arr = np.asarray(values, dtype=float)
    inf = np.isinf(arr)
    if inf.any():
        where = np.flatnonzero(inf.ravel())[:3].tolist()
        msg = (
            f"expected finite or missing (NaN) values in {what}; found {int(inf.sum())} "
            f"infinite (positions {where}). Fix the data or the model, or mask them "
            "explicitly before scoring (ok = np.isfinite(y))"
        )
        raise NonFiniteMetricError(msg)
    return arr


def _pair(y: np.ndarray, f: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    y = check_finite(y, "the truth")
    f = check_finite(f, "the forecast")
    ok = ~(np.isnan(y) | np.isnan(f))
    return y[ok], f[ok]


def mae(y: np.ndarray, f: np.ndarray) -> float:
    """Mean absolute error [unit of y]."""
    y, f = _pair(y, f)
    return float(np.mean(np.abs(y - f))) if len(y) else float("nan")


def rmse(y: np.ndarray, f: np.ndarray) -> float:
    """Root mean squared error [unit of y]."""
    y, f = _pair(y, f)
    return float(np.sqrt(np.mean((y - f) ** 2))) if len(y) else float("nan")


def mape(y: np.ndarray, f: np.ndarray, floor: float | None = None) -> float:
    """Mean absolute percentage error [%] over targets with ``|y| >= floor``.

    ``floor`` defaults to 1 % of the mean ``|y|``.
    """
    y, f = _pair(y, f)
    if not len(y):
        return float("nan")
    floor = 0.01 * float(np.mean(np.abs(y))) if floor is None else floor
    keep = np.abs(y) >= max(floor, np.finfo(float).tiny)
    if not keep.any():
        return float("nan")
    return float(100.0 * np.mean(np.abs((y[keep] - f[keep]) / y[keep])))


def smape(y: np.ndarray, f: np.ndarray) -> float:
    """Symmetric MAPE [%]: ``mean(2 |y - f| / (|y| + |f|))``, pairs with ``y = f = 0`` count 0."""
    y, f = _pair(y, f)
    if not len(y):
        return float("nan")
    den = np.abs(y) + np.abs(f)
    ratio = np.divide(2 * np.abs(y - f), den, out=np.zeros_like(den), where=den > 0)
    return float(100.0 * np.mean(ratio))


def nmae(y: np.ndarray, f: np.ndarray, capacity: float | None) -> float:
    """MAE normalised by capacity [%]; NaN without a capacity."""
    if not capacity:
        return float("nan")
    return 100.0 * mae(y, f) / float(capacity)


def pinball_loss(y: np.ndarray, f: np.ndarray, q: float) -> float:
    """Mean pinball (quantile) loss of level ``q`` [unit of y]."""
    y, f = _pair(y, f)
    if not len(y):
        return float("nan")
    d = y - f
    return float(np.mean(np.maximum(q * d, (q - 1) * d)))


def crps_from_quantiles(y: np.ndarray, qf: np.ndarray, levels: Sequence[float]) -> float:
    """CRPS approximated from quantile forecasts: ``2 * mean_k pinball(q_k)`` [unit of y].

    Parameters
    ----------
    y : array (n,)
        Observations.
    qf : array (n, k)
        Quantile forecasts, one column per level.
    levels : sequence of float
        The k levels.
    """
    qf = np.asarray(qf, dtype=float)
    return float(2.0 * np.mean([pinball_loss(y, qf[:, i], q) for i, q in enumerate(levels)]))


def coverage(y: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> float:
    """Share of observations inside ``[lo, hi]`` [0-1]."""
    y = check_finite(y, "the truth")
    lo = check_finite(lo, "the lower bound")
    hi = check_finite(hi, "the upper bound")
    ok = ~(np.isnan(y) | np.isnan(lo) | np.isnan(hi))
    if not ok.any():
        return float("nan")
    return float(np.mean((y[ok] >= lo[ok]) & (y[ok] <= hi[ok])))


def skill(score: float, baseline_score: float) -> float:
    """``1 - score / baseline`` (positive: better than the baseline)."""
    if not np.isfinite(baseline_score) or baseline_score == 0:
        return float("nan")
    return float(1.0 - score / baseline_score)


def score_frame(
    pred: pd.DataFrame,
    quantiles: Sequence[float] = (),
    capacity: float | None = None,
    y_col: str = "y_true",
) -> dict[str, float]:
    """All metrics of one prediction frame (``y_pred``, ``y_true`` and quantile columns)."""
    y = check_finite(pred[y_col].to_numpy(dtype=float), f"the truth ({y_col})")
    f = check_finite(pred["y_pred"].to_numpy(dtype=float), "the forecast (y_pred)")
    out = {
        "n": int(np.sum(~(np.isnan(y) | np.isnan(f)))),
        "mae": mae(y, f),
        "rmse": rmse(y, f),
        "mape_pct": mape(y, f),
        "smape_pct": smape(y, f),
        "nmae_pct": nmae(y, f, capacity),
    }
    levels = [q for q in quantiles if quantile_column(q) in pred]
    if levels:
        qf = pred[[quantile_column(q) for q in levels]].to_numpy(dtype=float)
        out["pinball"] = float(
            np.mean([pinball_loss(y, qf[:, i], q) for i, q in enumerate(levels)])
        )
        out["crps"] = crps_from_quantiles(y, qf, levels)
        for q in levels:
            if q < 0.5 and (1 - q) in levels:
                lo, hi = quantile_column(q), quantile_column(1 - q)
                width = round(100 * (1 - 2 * q))
                out[f"coverage_{width}"] = coverage(y, pred[lo], pred[hi])
    return out


def score_by(
    pred: pd.DataFrame,
    by: str,
    quantiles: Sequence[float] = (),
    capacity: float | None = None,
    tz: str = "UTC",
) -> pd.DataFrame:
    """Metrics grouped by ``"step"`` or ``"hour"`` (local hour of the target in ``tz``)."""
    if by == "hour":
        key = pd.DatetimeIndex(pred["target_time"]).tz_convert(tz).hour
    else:
        key = pred[by].to_numpy()
    rows = {k: score_frame(g, quantiles, capacity) for k, g in pred.groupby(np.asarray(key))}
    out = pd.DataFrame.from_dict(rows, orient="index")
    out.index.name = by
    return out


def add_skill(model: dict[str, float], baseline: dict[str, float]) -> dict[str, float]:
    """Skill of the model vs the baseline for MAE, RMSE, pinball and CRPS."""
    return {
        f"skill_{k}": skill(model[k], baseline[k])
        for k in ("mae", "rmse", "pinball", "crps")
        if k in model and k in baseline
    }
