"""Repeated samples: exact copies are counted and dropped, conflicting ones refused."""

from __future__ import annotations

import pandas as pd
import pytest

from workbench.anomaly.base import AnomalyInputError
from workbench.anomaly.inputs import long_series


def _frame(values: list[float], times: list[str], groups: list[str]) -> pd.DataFrame:
    return pd.DataFrame({"time": pd.to_datetime(times, utc=True), "v": values, "g": groups})


def test_exact_repeats_are_counted_and_dropped():
    frame = _frame(
        [1.0, 1.0, 2.0], ["2024-01-01 00:00", "2024-01-01 00:00", "2024-01-01 00:01"], ["a"] * 3
    )
    series = long_series(frame, "time", "v", "g")
    assert series.duplicates == 1
    assert list(series.values) == [1.0, 2.0]


def test_a_repeat_with_another_value_is_refused_not_dropped():
    frame = _frame(
        [1.0, 5.0, 2.0], ["2024-01-01 00:00", "2024-01-01 00:00", "2024-01-01 00:01"], ["a"] * 3
    )
    with pytest.raises(
        AnomalyInputError, match=r"1 repeated times with different values .*1\.0 and 5\.0"
    ):
        long_series(frame, "time", "v", "g")


def test_the_same_time_in_two_series_is_no_repeat():
    frame = _frame([1.0, 5.0], ["2024-01-01 00:00", "2024-01-01 00:00"], ["a", "b"])
    series = long_series(frame, "time", "v", "g")
    assert series.duplicates == 0
    assert sorted(series.values) == [1.0, 5.0]
