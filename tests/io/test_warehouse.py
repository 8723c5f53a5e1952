"""The warehouse accessor on a real DuckDB file: schemas, round trips, transactional writes."""

from __future__ import annotations

import pandas as pd
import pytest

from workbench.core.errors import MissingColumnsError, SchemaError, WarehouseError
from workbench.io.warehouse import Warehouse, split_name


@pytest.fixture
def wh(warehouse_url):
    warehouse = Warehouse(warehouse_url)
    yield warehouse
    warehouse.close()


def _load(values, start="2024-01-01"):
    return pd.DataFrame(
        {
            "timestamp": pd.date_range(start, periods=len(values), freq="h", tz="UTC"),
            "region_id": ["NORTH"] * len(values),
            "load_mw": [float(v) for v in values],
        }
    )


def test_schemas_are_created_on_first_use(wh):
    assert {"bronze", "silver", "gold", "ops"} <= set(wh.con.list_databases())
    if wh.duckdb_path is not None:
        assert wh.duckdb_path.is_file()


def test_round_trip_through_a_real_file(wh):
    frame = _load([100, 200, 300])
    assert wh.write("bronze.raw_load", frame) == 3
    wh.close()
    reopened = Warehouse(wh.url, read_only=wh.backend_name == "duckdb")
    back = reopened.table("bronze.raw_load").order_by("timestamp").to_pandas()
    reopened.close()
    pd.testing.assert_frame_equal(back, frame, check_dtype=False)
    assert str(back["timestamp"].dt.tz) == "UTC"


def test_append_replace_and_upsert(wh):
    wh.write("bronze.raw_load", _load([1, 2, 3]))
    wh.write("bronze.raw_load", _load([4], start="2024-01-01 03:00"), mode="append")
    assert wh.table("bronze.raw_load").count().execute() == 4
    wh.write(
        "bronze.raw_load",
        _load([20, 30, 50], start="2024-01-01 01:00"),
        mode="upsert",
        key=["region_id", "timestamp"],
    )
    got = wh.table("bronze.raw_load").order_by("timestamp").to_pandas()["load_mw"].tolist()
    assert got == [1, 20, 30, 50]
    wh.write("bronze.raw_load", _load([7]), mode="replace")
    assert wh.table("bronze.raw_load").to_pandas()["load_mw"].tolist() == [7]


def test_a_failed_write_leaves_the_table_as_it_was(wh):
    wh.write("bronze.raw_load", _load([1, 2, 3]))
    bad = _load([1, 2, 3]).astype({"load_mw": object})
    bad.loc[2, "load_mw"] = "not a number"
    with pytest.raises(WarehouseError, match="rolled back"):
        wh.write("bronze.raw_load", bad, mode="replace")
    assert wh.table("bronze.raw_load").to_pandas()["load_mw"].tolist() == [1, 2, 3]
    assert not [t for t in wh.list_tables("bronze") if t.startswith("_stage_")]


def test_missing_and_extra_columns_are_rejected_before_writing(wh):
    wh.write("bronze.raw_load", _load([1]))
    with pytest.raises(MissingColumnsError, match=r"\['load_mw'\] are missing"):
        wh.write("bronze.raw_load", _load([1]).drop(columns="load_mw"))
    with pytest.raises(SchemaError, match=r"\['extra'\] are not in the table"):
        wh.write("bronze.raw_load", _load([1]).assign(extra=1))
    assert wh.table("bronze.raw_load").count().execute() == 1


def test_upsert_needs_a_key(wh):
    with pytest.raises(WarehouseError, match="needs key columns"):
        wh.write("bronze.raw_load", _load([1]), mode="upsert")


def test_unknown_table_says_what_exists(wh):
    wh.write("bronze.raw_load", _load([1]))
    with pytest.raises(WarehouseError, match=r"tables in 'bronze': \['raw_load'\]"):
        wh.table("bronze.raw_lod")


def test_read_only_on_a_missing_file_is_a_clear_error(tmp_path):
    with pytest.raises(WarehouseError, match="found no file"):
        Warehouse(f"duckdb:///{tmp_path}/none.duckdb", read_only=True).con  # noqa: B018


@pytest.mark.parametrize("bad", ["fact_load", "gold.", ".x", "a.b.c"])
def test_split_name_rejects_unqualified_names(bad):
    with pytest.raises(WarehouseError, match=r"schema\.table"):
        split_name(bad)


def test_password_is_redacted_in_repr():
    assert "***" in repr(Warehouse("postgres://u:secret@localhost/db"))
    assert "secret" not in repr(Warehouse("postgres://u:secret@localhost/db"))


def test_write_many_commits_all_tables_or_none(wh):
    from workbench.io.warehouse import TableWrite

    wh.write("silver.a", _load([1, 2]))
    wh.write("gold.b", _load([3]))
    bad = _load([9]).astype({"load_mw": object})
    bad.loc[0, "load_mw"] = "oops"
    with pytest.raises(WarehouseError, match=r"silver\.a \(replace\), gold\.b \(append\)"):
        wh.write_many(
            [
                TableWrite("silver.a", _load([7, 7, 7]), "replace"),
                TableWrite("gold.b", bad, "append"),
            ]
        )
    assert wh.table("silver.a").to_pandas()["load_mw"].tolist() == [1, 2]  # first one undone too
    assert wh.table("gold.b").count().execute() == 1
    counts = wh.write_many(
        [
            TableWrite("silver.a", _load([7, 7, 7]), "replace"),
            TableWrite("gold.b", _load([5]), "append"),
        ]
    )
    assert counts == {"silver.a": 3, "gold.b": 1}
    assert wh.table("gold.b").count().execute() == 2


def test_a_transaction_spans_writes_and_reads_its_own_writes(wh):
    wh.write("silver.a", _load([1, 2]))
    with wh.transaction():
        wh.write("silver.a", _load([10, 20, 30]), mode="replace")
        seen = wh.table("silver.a").count().execute()  # reads see the uncommitted write
        wh.write(
            "gold.b", wh.table("silver.a").aggregate(load_mw=wh.table("silver.a").load_mw.sum())
        )
    assert seen == 3
    assert wh.table("gold.b").to_pandas()["load_mw"].tolist() == [60]


def test_a_failure_inside_a_transaction_undoes_every_write(wh):
    wh.write("silver.a", _load([1, 2]))

    def build_that_fails_half_way():
        with wh.transaction():
            wh.write("silver.a", _load([10, 20, 30]), mode="replace")
            wh.write("gold.c", _load([5]))
            raise RuntimeError("boom")

    with pytest.raises(RuntimeError, match="boom"):
        build_that_fails_half_way()
    assert wh.table("silver.a").to_pandas()["load_mw"].tolist() == [1, 2]
    assert not wh.exists("gold.c")


def test_nanosecond_timestamps_are_floored_to_microseconds(wh):
    frame = _load([1.0])
    frame["timestamp"] = pd.to_datetime(["2024-03-22T00:32:32.242805212"], utc=True)
    wh.write("bronze.raw_load", frame)
    got = wh.table("bronze.raw_load").to_pandas()["timestamp"].iloc[0]
    assert got == pd.Timestamp("2024-03-22T00:32:32.242805", tz="UTC")


def test_delete_since_removes_the_window_only(wh):
    from datetime import UTC, datetime

    wh.write("bronze.raw_load", _load([1, 2, 3, 4]))
    wh.delete_since("bronze.raw_load", "timestamp", datetime(2024, 1, 1, 2, tzinfo=UTC))
    assert wh.table("bronze.raw_load").to_pandas()["load_mw"].tolist() == [1, 2]


def test_nulls_empty_strings_bools_and_times_survive_the_trip(wh):
    frame = pd.DataFrame(
        {
            "timestamp": pd.to_datetime(["2024-03-10T07:59:58.25", None], utc=True),
            "label": ["", None],
            "flag": [True, False],
            "value": [1.5, float("nan")],
            "count": pd.array([3, None], dtype="Int64"),
        }
    )
    wh.write("ops.trip", frame)
    back = wh.table("ops.trip").to_pandas()
    assert back["timestamp"].iloc[0] == pd.Timestamp("2024-03-10T07:59:58.25", tz="UTC")
    assert pd.isna(back["timestamp"].iloc[1])
    assert back["label"].iloc[0] == ""
    assert back["label"].iloc[1] is None or pd.isna(back["label"].iloc[1])
    assert back["flag"].tolist() == [True, False]
    assert back["value"].iloc[0] == 1.5
    assert pd.isna(back["value"].iloc[1])
    assert back["count"].iloc[0] == 3
    assert pd.isna(back["count"].iloc[1])
