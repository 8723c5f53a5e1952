"""``auto``: the best seasonal naive unless a richer model beats it significantly on validation.

Validation (never touching anything after the training cut-off): every candidate is fitted on the
training window the way it would be anyway — a point forecaster fits a clone at the start of its
validation tail, forecasts daily issues over the tail (14-56 daily origins, each day-ahead, see
:func:`~workbench.forecasting.windows.validation_issues`), then refits on the whole window. Those
out-of-sample tail forecasts (``validation_pred_``, kept by the calibration) are the validation
scores, so no candidate is fitted twice; the winner is the already fitted candidate. A candidate
that is not a point forecaster is fitted once more at the tail start to get its tail forecasts.

Decision rule (a one-sided Diebold-Mariano test on daily losses):

1. the loss of an issue is the mean absolute error over its horizon;
2. the *best naive* (lowest mean loss among :data:`NAIVE_MODELS` in the candidates) is the default;
3. a richer candidate replaces it only when its daily loss differences ``d = naive - candidate``
   have a mean that is positive at level ``alpha`` (default 5 %): ``t = mean(d) / se(d)`` with a
   Newey-West standard error (forecasts issued on consecutive days overlap when the horizon
   reaches past a day), compared with a Student t with ``n - 1`` degrees of freedom;
4. among the significant ones the lowest mean loss wins.

So on a series where nothing beats the naive, ``auto`` is the naive (up to a false positive rate
of ``alpha``), and the report says why (``fit_info["reason"]``, one line).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any, Self

import numpy as np
import pandas as pd

from workbench.forecasting.base import (
    ForecastData,
    Forecaster,
    ForecastError,
    ForecastSpec,
)
from workbench.forecasting.pipeline import build_forecaster
from workbench.forecasting.windows import DAY, known_target, resolve_until, validation_issues

#: Candidates of ``auto`` unless given: two naives, LightGBM and their combination.
DEFAULT_CANDIDATES: tuple[str, ...] = (
    "seasonal_naive",
    "seasonal_naive_weekly",
    "lightgbm",
    "combination",
)
#: Candidates that count as "naive": the default choice, which richer ones must beat.
NAIVE_MODELS: frozenset[str] = frozenset({"seasonal_naive", "seasonal_naive_weekly"})
#: One-sided significance level of the test a richer model must pass.
DEFAULT_ALPHA = 0.05


def daily_losses(pred: pd.DataFrame, y: pd.Series) -> pd.Series:
    """Mean absolute error of each issue over its horizon [unit of y], indexed by issue time."""
    truth = y.reindex(pd.DatetimeIndex(pred["target_time"])).to_numpy(dtype=float)
    err = np.abs(truth - pred["y_pred"].to_numpy(dtype=float))
    frame = pd.DataFrame({"issue": pd.DatetimeIndex(pred["issue_time"]).as_unit("ns"), "e": err})
    return frame.dropna().groupby("issue")["e"].mean()


def diebold_mariano(d: np.ndarray, lag: int) -> tuple[float, float]:
    """One-sided test that the mean of the loss differences ``d`` is > 0.

    Parameters
    ----------
    d : numpy.ndarray
        Daily loss differences (baseline minus candidate) [unit of y].
    lag : int
        Newey-West lags (overlap of consecutive forecasts, in issues).

    Returns
    -------
    (float, float)
        The statistic and its one-sided p-value (Student t, ``n - 1`` degrees of freedom);
        ``(0.0, 1.0)`` with fewer than 3 differences or none varying.
    """
    from scipy.stats import t as student

    d = np.asarray(d, dtype=float)
    n = len(d)
    if n < 3:
        return 0.0, 1.0
    c = d - d.mean()
    var = float(c @ c) / n
    for k in range(1, min(lag, n - 1) + 1):
        var += 2.0 * (1.0 - k / (lag + 1)) * float(c[k:] @ c[:-k]) / n
    if not var > 1e-12 * max(1.0, float(d @ d) / n):
        if d.mean() > 0:  # better on every day by the same amount: certain
            return math.inf, 0.0
        return 0.0, 1.0
    stat = float(d.mean() / math.sqrt(var / n))
    return stat, float(student.sf(stat, n - 1))


class AutoForecaster(Forecaster):
    """The best seasonal naive, or a richer candidate that beats it significantly (module doc).

    Parameters
    ----------
    candidates : sequence of str
        Model names to try; at least one of :data:`NAIVE_MODELS`.
    candidate_params : dict, optional
        ``{name: {param: value}}``, used like a use case's by
        :func:`~workbench.forecasting.pipeline.build_forecaster`: the ``combination``
        candidate gets the parameters of its members from here too.
    extra : sequence of str
        More model names appended to the candidates (e.g. ``("lear",)`` for prices).
    alpha : float
        One-sided significance level a richer model must reach against the best naive.
    validation_days : int, optional
        Length of the validation tail [days] (default: automatic, 14-56 days); passed to each
        point-forecaster candidate as ``calibration_days``.
    """

    name = "auto"
    member_params_arg = "candidate_params"

    def __init__(
        self,
        candidates: Sequence[str] = DEFAULT_CANDIDATES,
        candidate_params: dict[str, dict[str, Any]] | None = None,
        extra: Sequence[str] = (),
        alpha: float = DEFAULT_ALPHA,
        validation_days: int | None = None,
    ) -> None:
        names = tuple(dict.fromkeys([*candidates, *extra]))
        super().__init__(
            candidates=names,
            candidate_params=dict(candidate_params or {}),
            extra=tuple(extra),
            alpha=float(alpha),
            validation_days=validation_days,
        )
        if not names:
            raise ForecastError("expected at least one candidate model; found none")
        if not NAIVE_MODELS & set(names):
            raise ForecastError(
                "expected a seasonal naive among the candidates (the default a richer model "
                f"must beat); found {list(names)}. Add 'seasonal_naive' or 'seasonal_naive_weekly'."
            )
        if not 0.0 < alpha < 0.5:
            raise ForecastError(f"expected alpha in (0, 0.5); found {alpha}")
        for name in names:  # an unknown name or parameter fails now, not as a "skip"
            self._make(name)
        self.chosen_: Forecaster | None = None

    def _make(self, name: str) -> Forecaster:
        # the candidates' parameters act as a use case's: a combination gets its members'
        known = self.params["candidate_params"]
        model = build_forecaster(name, case_params=known)
        days = self.params["validation_days"]
        if days is not None and "calibration_days" in model.accepted_params():
            model = build_forecaster(name, case_params=known, params={"calibration_days": days})
        return model

    def fit(
        self, data: ForecastData, spec: ForecastSpec, *, until: pd.Timestamp | None = None
    ) -> Self:
        """Fit every candidate once, score their validation tails, keep the rule's choice."""
        from workbench.forecasting.calibration import PointForecaster
        from workbench.forecasting.ensemble import Combination

        until = resolve_until(data, spec, until)
        y = known_target(data, spec, until)
        if y.empty:
            raise ForecastError(f"expected target values known before {until}; found none")
        issues = validation_issues(spec, until, y.index[0], self.params["validation_days"])
        fitted: dict[str, Forecaster] = {}
        errors: dict[str, str] = {}
        losses: dict[str, pd.Series] = {}
        for name in self.params["candidates"]:
            model = self._make(name)
            if isinstance(model, Combination):
                points = {n: m for n, m in fitted.items() if isinstance(m, PointForecaster)}
                model.use_fitted(points)
            try:
                model.fit(data, spec, until=until)
            except ForecastError as exc:  # e.g. too little history for this model
                errors[name] = str(exc)
                continue
            fitted[name] = model
            tail = getattr(model, "validation_pred_", None)
            if tail is None and not isinstance(model, PointForecaster) and len(issues):
                try:  # not a point forecaster: fit once more at the tail start
                    tail = self._make(name).fit(data, spec, until=issues[0]).predict(data, issues)
                except ForecastError as exc:
                    errors[name] = f"not validated: {exc}"
            if tail is not None:
                losses[name] = daily_losses(tail, y)
        if not fitted:
            raise ForecastError(
                f"expected a candidate that fits before {until}; found none: {errors}"
            )
        self.chosen_, info = self._decide(fitted, losses, spec)
        self.spec = spec
        self.fit_info = {**info, "skipped": errors, "chosen_fit": self.chosen_.fit_info}
        return self

    def _decide(
        self, fitted: dict[str, Forecaster], losses: dict[str, pd.Series], spec: ForecastSpec
    ) -> tuple[Forecaster, dict[str, Any]]:
        alpha = self.params["alpha"]
        common = None
        for s in losses.values():
            common = s.index if common is None else common.intersection(s.index)
        table = {n: s.reindex(common).to_numpy() for n, s in losses.items()} if len(losses) else {}
        n_days = 0 if common is None else len(common)
        scores = {n: float(np.mean(v)) for n, v in table.items()} if n_days else {}
        naives = [n for n in self.params["candidates"] if n in NAIVE_MODELS and n in fitted]
        rule = (
            f"best seasonal naive unless a richer model's daily MAE is lower with one-sided "
            f"Diebold-Mariano p < {alpha:g}"
        )
        base = {"rule": rule, "validation_mae": scores, "validation_days": n_days}
        if not naives:
            best = min(scores, key=scores.__getitem__) if scores else next(iter(fitted))
            reason = f"{best}: no seasonal naive could be fitted; best validation MAE"
            return fitted[best], {**base, "chosen": best, "reason": reason, "tests": {}}
        scored_naives = [n for n in naives if n in scores]
        if not scored_naives:
            reason = (
                f"{naives[0]}: the default (history too short for a validation tail, "
                "nothing to compare)"
            )
            return fitted[naives[0]], {**base, "chosen": naives[0], "reason": reason, "tests": {}}
        naive = min(scored_naives, key=scores.__getitem__)
        reach = (spec.lead + spec.horizon) * spec.freq
        lag = max(0, math.ceil(reach / DAY) - 1)
        tests: dict[str, dict[str, float]] = {}
        for name in scores:
            if name in NAIVE_MODELS:
                continue
            d = table[naive] - table[name]
            stat, p = diebold_mariano(d, lag)
            gain = float(d.mean() / scores[naive]) if scores[naive] > 0 else 0.0
            tests[name] = {"mae_gain": round(gain, 4), "dm_stat": round(stat, 3), "p_value": p}
        winners = [n for n, t in tests.items() if t["p_value"] < alpha and t["mae_gain"] > 0]
        info = {**base, "best_naive": naive, "tests": tests, "newey_west_lag": lag}
        if winners:
            best = min(winners, key=scores.__getitem__)
            t = tests[best]
            reason = (
                f"{best}: validation MAE {scores[best]:.4g} vs best naive {naive} "
                f"{scores[naive]:.4g} over {n_days} days ({-t['mae_gain']:+.1%}, DM t="
                f"{t['dm_stat']:.2f}, p={t['p_value']:.3g} < {alpha:g})"
            )
            return fitted[best], {**info, "chosen": best, "reason": reason}
        if tests:
            close = min(tests, key=lambda n: scores[n])
            t = tests[close]
            why = (
                f"best other {close} {-t['mae_gain']:+.1%}, DM t={t['dm_stat']:.2f}, "
                f"p={t['p_value']:.3g} >= {alpha:g}"
            )
        else:
            why = "no richer candidate was validated"
        reason = (
            f"{naive} (best naive, validation MAE {scores[naive]:.4g} over {n_days} days): "
            f"no richer model beat it significantly ({why})"
        )
        return fitted[naive], {**info, "chosen": naive, "reason": reason}

    def predict(self, data: ForecastData, issue_times: Sequence[pd.Timestamp]) -> pd.DataFrame:
        """Forecast with the chosen model."""
        self._require_fitted()
        assert self.chosen_ is not None
        return self.chosen_.predict(data, issue_times)
