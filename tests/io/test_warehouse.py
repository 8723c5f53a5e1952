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


# ---------------------------------------------------------------------- a build's staging copy
def _reader_count(url: str, table: str) -> int:
    """Rows seen by a reader in another process, read-only, failing at once on a lock."""
    import subprocess
    import sys

    code = (
        "import sys; from workbench.io.warehouse import Warehouse; "
        "wh = Warehouse(sys.argv[1], read_only=True, lock_timeout_s=0); "
        "print(wh.table(sys.argv[2]).count().execute())"
    )
    out = subprocess.run(
        [sys.executable, "-c", code, url, table], capture_output=True, text=True, timeout=120
    )
    assert out.returncode == 0, out.stderr[-2000:]
    return int(out.stdout.strip())


def test_a_staged_build_holds_no_lock_and_publishes_by_one_swap(tmp_path):
    from workbench.io.staging import StagedWarehouse

    url = f"duckdb:///{tmp_path}/warehouse.duckdb"
    main = Warehouse(url)
    main.write("silver.system_load", _load([1, 2]))
    staged = StagedWarehouse(main, "b1")
    copy = staged.begin()
    copy.write("silver.system_load", _load([1, 2, 3]), mode="replace")
    copy.write("gold.fact_load", _load([7]))
    # mid-build: another process reads the warehouse as it was, without waiting
    assert _reader_count(url, "silver.system_load") == 2
    assert staged.commit(["silver.system_load", "gold.fact_load"], {}) == "swapped"
    assert _reader_count(url, "silver.system_load") == 3
    assert _reader_count(url, "gold.fact_load") == 1
    assert not list(tmp_path.glob("warehouse.duckdb.build-*"))


def test_a_write_during_a_staged_build_is_kept_by_a_merging_commit(tmp_path):
    from workbench.io.staging import StagedWarehouse

    url = f"duckdb:///{tmp_path}/warehouse.duckdb"
    main = Warehouse(url)
    main.write("silver.system_load", _load([1, 2]))
    runs = pd.DataFrame({"build_id": ["old"], "status": ["built"]})
    main.write("ops.build_runs", runs)
    staged = StagedWarehouse(main, "b2")
    copy = staged.begin()
    copy.write("silver.system_load", _load([5, 6, 7]), mode="replace")
    copy.write("ops.build_runs", pd.DataFrame({"build_id": ["b2"], "status": ["built"]}))
    with Warehouse(url) as job:  # a job publishes meanwhile
        job.write("gold.load_forecasts", _load([42]))
        job.write("ops.build_runs", pd.DataFrame({"build_id": ["job"], "status": ["x"]}))
    logs = {"ops.build_runs": ("build_id", "b2")}
    assert staged.commit(["silver.system_load"], logs) == "merged"
    with Warehouse(url, read_only=True) as after:
        assert after.table("silver.system_load").load_mw.sum().execute() == 18
        assert after.table("gold.load_forecasts").count().execute() == 1  # the job's write
        ids = sorted(after.table("ops.build_runs").build_id.to_pyarrow().to_pylist())
    assert ids == ["b2", "job", "old"]
    assert not list(tmp_path.glob("warehouse.duckdb.build-*"))


def test_a_second_build_is_refused_while_one_holds_the_lock(tmp_path):
    from workbench.io.staging import BuildInProgressError, build_lock

    lock = tmp_path / "warehouse.duckdb.lock-build"
    with build_lock(lock):
        import subprocess
        import sys

        code = (
            "import sys; from pathlib import Path; from workbench.io.staging import build_lock\n"
            "with build_lock(Path(sys.argv[1])): pass"
        )
        out = subprocess.run(
            [sys.executable, "-c", code, str(lock)], capture_output=True, text=True, timeout=60
        )
        assert out.returncode != 0
        assert "expected no other build of this warehouse to be running" in out.stderr
    with build_lock(lock):  # released with its holder
        pass
    assert issubclass(BuildInProgressError, WarehouseError)
