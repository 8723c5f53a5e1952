"""Load weather and calendar features: degrees, smoothing, lag, bridge days."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from workbench.forecasting.base import ForecastData, ForecastSpec
from workbench.forecasting.features import (
    BRIDGE,
    HOLIDAY,
    WEEKEND,
    WORKING_DAY,
    FeatureConfig,
    build_features,
    day_types,
    degree_base,
    degrees,
)


def test_degrees_exact_on_known_values():
    hdd, cdd = degrees(np.array([40.0, 65.0, 65.5, 100.0, np.nan]), 65.0)
    np.testing.assert_array_equal(hdd[:4], [25.0, 0.0, 0.0, 0.0])
    np.testing.assert_array_equal(cdd[:4], [0.0, 0.0, 0.5, 35.0])
    assert np.isnan(hdd[4])
    assert np.isnan(cdd[4])
    assert degree_base("temperature_f") == 65.0
    assert degree_base("temp_c") == pytest.approx(18.333, abs=1e-3)


def test_bridge_days():
    days = pd.date_range("2024-11-27", "2024-11-30")  # Wed, Thanksgiving, Fri, Sat
    assert list(day_types(days, "US", None)) == [WORKING_DAY, HOLIDAY, BRIDGE, WEEKEND]
    # a Monday before a Tuesday holiday (2024-12-24 is not a US holiday; 2018-12-25 was Tue)
    days = pd.date_range("2018-12-21", "2018-12-26")
    codes = list(day_types(days, "US", None))
    assert codes == [WORKING_DAY, WEEKEND, WEEKEND, BRIDGE, HOLIDAY, WORKING_DAY]
    # in Texas the day after Thanksgiving is itself a holiday, not a bridge
    assert day_types(pd.DatetimeIndex(["2024-11-29"]), "US", "TX")[0] == HOLIDAY


def test_weather_features_on_an_exact_covariate():
    idx = pd.date_range("2024-07-01", periods=24 * 10, freq="1h", tz="UTC")
    temp = pd.Series(np.arange(len(idx), dtype=float) / 10 + 50, index=idx)
    y = pd.Series(1000.0, index=idx)
    spec = ForecastSpec(freq="1h", horizon=24, future_covariates=("temperature_f",))
    data = ForecastData(y=y, future=temp.rename("temperature_f").to_frame())
    issue = pd.Timestamp("2024-07-05 00:00", tz="UTC")
    f = build_features(data, spec, [issue], FeatureConfig(holidays_country="US"))
    t = temp.reindex(pd.DatetimeIndex(f["target_time"])).to_numpy()
    np.testing.assert_allclose(f["f_temperature_f_lag1d"], t - 2.4)  # 24 h earlier: -0.1 °F/h
    # a rising temperature: the smoothed value lags behind, by a steady amount
    smooth = f["f_temperature_f_smooth"].to_numpy()
    np.testing.assert_allclose(f["f_cdd_temperature_f_smooth"], np.maximum(smooth - 65, 0))
    np.testing.assert_allclose(f["f_hdd_temperature_f_smooth"], np.maximum(65 - smooth, 0))
    lagging = t - smooth
    assert (lagging > 0).all()
    assert np.ptp(lagging[-12:]) < 0.01
    # 2024-07-05 is a Friday after the Independence Day holiday: a bridge day
    np.testing.assert_allclose(f["f_hour_x_day_type"], f["f_hour"] + 24 * BRIDGE)
