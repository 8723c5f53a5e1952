"""A user's table: what reading and the shared column checks accept and refuse."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from workbench.core.errors import DataAccessError
from workbench.core.timestamps import check_time_zones
from workbench.io.files import check_not_all_missing, check_rows, numeric_column, read_table


def test_csv_keeps_unknown_missing_words_as_text_so_they_are_refused(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text("ts,value,site\n1,1.5,NA\n2,,x\n3,NaN,y\n4,n/a,z\n5,inf,w\n")
    frame = read_table(path)
    assert frame["site"].isna().tolist() == [True, False, False, False, False]
    with pytest.raises(DataAccessError, match=r"column 'value'; found text such as 'n/a' in 1 "):
        numeric_column(frame["value"], "value", error=DataAccessError)
    ok = numeric_column(
        frame["value"].where(frame["value"] != "n/a"), "value", error=DataAccessError
    )
    assert np.isnan(ok[[1, 2, 3]]).all()
    assert ok[0] == 1.5
    assert np.isinf(ok[4])


def test_a_directory_is_named_as_one(tmp_path):
    with pytest.raises(DataAccessError, match="found a directory"):
        read_table(tmp_path)


def test_all_missing_values_are_refused():
    check_not_all_missing(np.array([np.nan, 1.0]), "v", error=DataAccessError)
    with pytest.raises(DataAccessError, match="found all 2 rows missing"):
        check_not_all_missing(np.array([np.nan, np.nan]), "v", error=DataAccessError)


def test_mixing_naive_and_offset_times_is_refused_but_a_dst_change_is_not():
    dst = pd.Series(["2024-11-03T01:30:00-05:00", "2024-11-03T01:30:00-06:00"])
    check_time_zones(dst, "ts", error=DataAccessError)
    check_time_zones(
        pd.Series(["2024-01-01 00:00", "2024-01-01 01:00"]), "ts", error=DataAccessError
    )
    check_time_zones(pd.Series(["2024-01-01T00:00Z", "soon"]), "ts", error=DataAccessError)
    mixed = pd.Series(["2024-01-01T00:00:00+00:00", "2024-01-01T01:00:00", "2024-01-01T02:00Z"])
    with pytest.raises(DataAccessError, match=r"found 2 with one .* and 1 without"):
        check_time_zones(mixed, "ts", error=DataAccessError)


def test_a_series_needs_two_rows():
    check_rows(pd.DataFrame({"a": [1, 2]}), "f.csv", error=DataAccessError)
    with pytest.raises(
        DataAccessError, match=r"at least 2 rows in f\.csv to make a series; found 1 row"
    ):
        check_rows(pd.DataFrame({"a": [1]}), "f.csv", error=DataAccessError)
