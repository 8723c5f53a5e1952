"""Preparing a user's table: each malformed input gets its own clear error or a counted repair."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from workbench.core.errors import MissingColumnsError
from workbench.forecasting.data import (
    DataPreparationError,
    DuplicateTimestampsError,
    NonFiniteError,
    NonNumericError,
    TimestampError,
    prepare_frame,
)
from workbench.io.files import read_table as read_file


def read_table(path):
    """What `workbench forecast backtest` does with the user's file before prepare_frame."""
    return read_file(path, error=DataPreparationError, allow_empty=True)


def _frame(stamps, values=None, **cols):
    values = np.arange(len(stamps), dtype=float) if values is None else values
    return pd.DataFrame({"ts": stamps, "y": values, **cols})


def test_naive_timestamps_need_a_zone():
    frame = _frame(["2024-01-01 00:00", "2024-01-01 01:00", "2024-01-01 02:00"])
    with pytest.raises(TimestampError, match="--tz"):
        prepare_frame(frame, "ts", "y")
    data, report, tz = prepare_frame(frame, "ts", "y", tz="America/Chicago")
    assert tz == "America/Chicago"
    assert data.y.index[0] == pd.Timestamp("2024-01-01 06:00", tz="UTC")
    assert report.freq_inferred
    assert report.freq == str(pd.Timedelta("1h"))
    with pytest.raises(TimestampError, match="IANA"):
        prepare_frame(frame, "ts", "y", tz="Mars/Olympus")


def test_offset_strings_across_dst_are_converted():
    stamps = ["2024-03-31T00:00:00+00:00", "2024-03-31T02:00:00+01:00", "2024-03-31T03:00:00+01:00"]
    data, report, _ = prepare_frame(_frame(stamps), "ts", "y")
    assert data.y.index.tolist() == list(
        pd.date_range("2024-03-31 00:00", periods=3, freq="h", tz="UTC")
    )
    assert "tz-aware" in report.timestamps


def test_autumn_dst_repeated_hour_resolved_by_order():
    local = ["2024-10-27 00:00", "2024-10-27 01:00", "2024-10-27 01:00", "2024-10-27 02:00"]
    data, report, _ = prepare_frame(_frame(local), "ts", "y", tz="Europe/London")
    assert report.ambiguous_resolved == 2
    assert report.gaps_filled == 0
    assert data.y.tolist() == [0.0, 1.0, 2.0, 3.0]  # 23:00, 00:00 (BST), 01:00 (GMT), 02:00 UTC
    assert data.y.index[1] == pd.Timestamp("2024-10-27 00:00", tz="UTC")


def test_spring_dst_nonexistent_time_shifted_and_counted():
    local = ["2024-03-31 00:00", "2024-03-31 00:30", "2024-03-31 01:30", "2024-03-31 02:00"]
    frame = _frame(local)
    data, report, _ = prepare_frame(frame, "ts", "y", tz="Europe/London", duplicates="mean")
    assert report.nonexistent_shifted == 1
    # 01:30 does not exist: moved to 02:00 BST = 01:00 UTC, same instant as 02:00 -> merged
    assert report.duplicates_merged == 1
    assert data.y.iloc[-1] == pytest.approx(2.5)


def test_gaps_become_nan_and_are_counted():
    stamps = pd.date_range("2024-01-01", periods=10, freq="30min", tz="UTC").delete([3, 4, 7])
    data, report, _ = prepare_frame(_frame(stamps), "ts", "y")
    assert report.gaps_filled == 3
    assert len(data.y) == 10
    assert int(data.y.isna().sum()) == 3


def test_duplicates_error_or_counted_merge():
    stamps = ["2024-01-01 00:00Z", "2024-01-01 01:00Z", "2024-01-01 01:00Z", "2024-01-01 02:00Z"]
    frame = _frame(stamps, [1.0, 2.0, 4.0, 5.0])
    with pytest.raises(DuplicateTimestampsError, match="--duplicates"):
        prepare_frame(frame, "ts", "y")
    data, report, _ = prepare_frame(frame, "ts", "y", duplicates="mean")
    assert report.duplicates_merged == 1
    assert data.y.tolist() == [1.0, 3.0, 5.0]
    data, _, _ = prepare_frame(frame, "ts", "y", duplicates="last")
    assert data.y.tolist() == [1.0, 4.0, 5.0]


def test_non_numeric_error_names_column_and_rows_or_coerce():
    stamps = pd.date_range("2024-01-01", periods=4, freq="h", tz="UTC")
    frame = _frame(stamps, ["1.5", "n/a", "", "4"])
    with pytest.raises(NonNumericError, match=r"'y'.*row 2: 'n/a'"):
        prepare_frame(frame, "ts", "y")
    _, report, _ = prepare_frame(frame, "ts", "y", coerce=True)
    assert report.coerced_to_nan == {"y": 1}
    assert report.missing_target == 2


def test_missing_covariate_lists_available_columns():
    stamps = pd.date_range("2024-01-01", periods=4, freq="h", tz="UTC")
    with pytest.raises(MissingColumnsError, match=r"\['temp'\].*found \['ts', 'wind', 'y'\]"):
        prepare_frame(_frame(stamps, wind=1.0), "ts", "y", future_covariates=["temp"])


def test_unparseable_and_empty_timestamps():
    with pytest.raises(TimestampError, match="row 3: 'yesterday'"):
        prepare_frame(_frame(["2024-01-01", "2024-01-02", "yesterday"]), "ts", "y", tz="UTC")
    with pytest.raises(TimestampError, match="empty"):
        prepare_frame(_frame(["2024-01-01", None, "2024-01-03"]), "ts", "y", tz="UTC")


def test_off_grid_rows_resampled_with_count():
    stamps = pd.DatetimeIndex(
        ["2024-01-01 00:00", "2024-01-01 00:20", "2024-01-01 01:00", "2024-01-01 02:00"], tz="UTC"
    )
    data, report, _ = prepare_frame(_frame(stamps), "ts", "y", freq="1h")
    assert data.y.tolist() == [0.5, 2.0, 3.0]
    assert report.resampled_rows == 4


def test_read_table_rejects_other_formats(tmp_path):
    (tmp_path / "x.xlsx").write_text("nope")
    with pytest.raises(DataPreparationError, match=r"\.csv or \.parquet"):
        read_table(tmp_path / "x.xlsx")
    with pytest.raises(DataPreparationError, match="found nothing"):
        read_table(tmp_path / "missing.csv")


@pytest.mark.parametrize(
    "values",
    [[1.0, np.inf, 3.0, 4.0], [1.0, 2.0, -np.inf, 4.0], ["1", "inf", "3", "-inf"]],
    ids=["inf", "minus_inf", "text_inf"],
)
def test_infinite_target_is_refused_or_counted(values):
    stamps = pd.date_range("2024-01-01", periods=4, freq="h", tz="UTC")
    frame = _frame(stamps, values)
    with pytest.raises(NonFiniteError, match=r"finite numbers in column 'y'.*infinite"):
        prepare_frame(frame, "ts", "y")
    data, report, _ = prepare_frame(frame, "ts", "y", coerce=True)
    n_inf = sum(1 for v in values if str(v).lstrip("-") in ("inf",))
    assert report.infinite_to_nan == {"y": n_inf}
    assert report.missing_target == n_inf
    assert not np.isinf(data.y.to_numpy()).any()


def test_infinite_covariate_is_refused():
    stamps = pd.date_range("2024-01-01", periods=4, freq="h", tz="UTC")
    frame = _frame(stamps, temp=[1.0, 2.0, np.inf, 3.0])
    with pytest.raises(NonFiniteError, match="'temp'"):
        prepare_frame(frame, "ts", "y", future_covariates=["temp"])


def test_times_mixing_offsets_and_naive_are_refused_naming_the_column():
    stamps = ["2024-01-01T00:00:00+00:00", "2024-01-01T01:00:00", "2024-01-01T02:00:00+00:00"]
    with pytest.raises(TimestampError, match=r"column 'ts' all with a UTC offset or all without"):
        prepare_frame(_frame(stamps), "ts", "y", tz="UTC")


def test_csv_text_missing_words_in_the_target_are_refused(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text(
        "ts,y\n2024-01-01T00:00Z,1\n2024-01-01T01:00Z,n/a\n2024-01-01T02:00Z,\n2024-01-01T03:00Z,4\n"
    )
    with pytest.raises(NonNumericError, match="'n/a'"):
        prepare_frame(read_table(path), "ts", "y")
    data, report, _ = prepare_frame(read_table(path), "ts", "y", coerce=True)
    assert report.coerced_to_nan == {"y": 1}
    assert int(data.y.isna().sum()) == 2  # the coerced cell and the empty one


def test_one_row_is_not_a_series():
    with pytest.raises(DataPreparationError, match=r"at least 2 rows .* found 1 row"):
        prepare_frame(_frame(["2024-01-01T00:00Z"]), "ts", "y")


def test_a_gap_larger_than_the_data_is_refused_saying_where():
    first = pd.date_range("2024-01-01", periods=48, freq="1h", tz="UTC")
    later = pd.date_range("2026-06-01", periods=48, freq="1h", tz="UTC")
    with pytest.raises(TimestampError, match=r"gap of 880 days 01:00:00 after 2024-01-02 23:00"):
        prepare_frame(_frame(first.append(later)), "ts", "y")
