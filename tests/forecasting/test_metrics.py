"""Metrics against hand-computed values."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from workbench.forecasting import metrics as m

Y = np.array([100.0, 200.0, 0.0, np.nan])
F = np.array([110.0, 150.0, 10.0, 5.0])


def test_point_metrics_by_hand():
    # pairs: (100,110) (200,150) (0,10); the NaN truth is ignored
    assert m.mae(Y, F) == pytest.approx((10 + 50 + 10) / 3)
    assert m.rmse(Y, F) == pytest.approx(np.sqrt((100 + 2500 + 100) / 3))
    # MAPE skips y=0 (below 1 % of mean |y| = 1.0): (10/100 + 50/200) / 2
    assert m.mape(Y, F) == pytest.approx(100 * (0.1 + 0.25) / 2)
    # sMAPE: 2*10/210, 2*50/350, 2*10/10
    assert m.smape(Y, F) == pytest.approx(100 * (20 / 210 + 100 / 350 + 2.0) / 3)
    assert m.nmae(Y, F, capacity=500.0) == pytest.approx(100 * (70 / 3) / 500)
    assert np.isnan(m.nmae(Y, F, capacity=None))


def test_pinball_crps_coverage_skill_by_hand():
    y = np.array([10.0, 20.0])
    f = np.array([12.0, 15.0])
    # q=0.9: y-f = -2 -> 0.1*2 = 0.2 ; y-f = 5 -> 0.9*5 = 4.5
    assert m.pinball_loss(y, f, 0.9) == pytest.approx((0.2 + 4.5) / 2)
    qf = np.array([[8.0, 10.0, 12.0], [14.0, 18.0, 22.0]])
    p1 = (0.1 * 2 + 0.1 * 6) / 2
    p5 = (0.0 + 0.5 * 2) / 2
    p9 = (0.1 * 2 + 0.1 * 2) / 2  # y-f = -2, -2 -> 0.1*2 each
    assert m.crps_from_quantiles(y, qf, [0.1, 0.5, 0.9]) == pytest.approx(2 * (p1 + p5 + p9) / 3)
    assert m.coverage(np.array([1.0, 5.0, 9.0]), np.zeros(3), np.full(3, 6.0)) == pytest.approx(
        2 / 3
    )
    assert m.skill(5.0, 10.0) == pytest.approx(0.5)
    assert np.isnan(m.skill(5.0, 0.0))


def test_score_frame_and_by_step():
    frame = pd.DataFrame(
        {
            "issue_time": pd.Timestamp("2024-01-01", tz="UTC"),
            "target_time": pd.date_range("2024-01-01", periods=4, freq="h", tz="UTC"),
            "step": [1, 2, 1, 2],
            "y_pred": [1.0, 2.0, 3.0, 4.0],
            "y_true": [1.0, 4.0, 3.0, 8.0],
            "q0.1": [0.0, 1.0, 2.0, 3.0],
            "q0.9": [2.0, 3.0, 4.0, 5.0],
        }
    )
    s = m.score_frame(frame, (0.1, 0.9))
    assert s["mae"] == pytest.approx(6 / 4)
    assert s["coverage_80"] == pytest.approx(0.5)
    by = m.score_by(frame, "step", (0.1, 0.9))
    assert by.loc[1, "mae"] == 0.0
    assert by.loc[2, "mae"] == pytest.approx(3.0)
    sk = m.add_skill(s, {**s, "mae": 3.0})
    assert sk["skill_mae"] == pytest.approx(0.5)


@pytest.mark.parametrize("bad", [np.inf, -np.inf])
@pytest.mark.parametrize("where", ["truth", "forecast"])
def test_metrics_refuse_infinite_values(bad, where):
    y = np.array([1.0, 2.0, 3.0])
    f = np.array([1.5, 2.0, 2.0])
    if where == "truth":
        y[1] = bad
    else:
        f[1] = bad
    for fn in (m.mae, m.rmse, m.mape, m.smape):
        with pytest.raises(m.NonFiniteMetricError, match=f"the {where}"):
            fn(y, f)
    with pytest.raises(m.NonFiniteMetricError):
        m.pinball_loss(y, f, 0.1)
    with pytest.raises(m.NonFiniteMetricError):
        m.coverage(y, f - 1, f + 1)
    pred = pd.DataFrame({"y_true": y, "y_pred": f, "q0.1": f - 1, "q0.9": f + 1})
    with pytest.raises(m.NonFiniteMetricError):
        m.score_frame(pred, (0.1, 0.9))


def test_metrics_skip_nan_and_explicit_masking_works():
    y = np.array([1.0, np.nan, 3.0, np.inf])
    f = np.array([2.0, 5.0, 3.0, 4.0])
    ok = np.isfinite(y)
    assert m.mae(y[ok], f[ok]) == pytest.approx(0.5)  # NaN skipped, inf masked by the caller
    assert m.coverage(y[ok], f[ok] - 0.1, f[ok] + 0.1) == pytest.approx(0.5)
    pred = pd.DataFrame({"y_true": y[:3], "y_pred": f[:3]})
    assert m.score_frame(pred)["n"] == 2
