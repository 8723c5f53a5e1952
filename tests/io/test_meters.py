"""Smart-meter reads: the Dask scan and the regional load aggregation on DuckDB and Polars.

The Dask engine, on a real LocalCluster, is tested in ``tests/io/test_dask.py``. The numbers here
are checked against an independent pyarrow + pandas computation over the same files.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.dataset as pds
import pytest

from tests.conftest import CATALOG
from workbench.core.errors import DataAccessError, WorkbenchError
from workbench.io.meters import DEFAULT_ENGINE, MeterAggregationError, aggregate_meter_load

SILVER = "silver.meter_readings"
WINDOW = {"start": "2024-03-20T12:00", "end": "2024-03-21T06:00"}


def _truth(spec, by=("region_id",), start=None, end=None) -> pd.DataFrame:
    """Energy, reads and estimated reads per quarter-hour, straight from the files."""
    table = pds.dataset(spec.location, format="parquet", partitioning="hive").to_table()
    frame = table.to_pandas()
    frame["timestamp"] = pd.to_datetime(frame["timestamp"], utc=True).astype("datetime64[ns, UTC]")
    if start is not None:
        frame = frame[frame["timestamp"] >= pd.Timestamp(start, tz="UTC")]
    if end is not None:
        frame = frame[frame["timestamp"] < pd.Timestamp(end, tz="UTC")]
    keys = ["timestamp", *by]
    frame = frame.astype(dict.fromkeys(by, str))
    return (
        frame.groupby(keys)
        .agg(
            energy_kwh=("energy_kwh", "sum"),
            reads=("energy_kwh", "size"),
            est=("is_estimated", "sum"),
        )
        .reset_index()
    )


# ---------------------------------------------------------------------- the Dask scan
@pytest.mark.parametrize("name", ["bronze.meter_reads", SILVER])
def test_scan_is_a_typed_dask_frame(ci_gold_catalog, name):
    import dask.dataframe as dd

    frame = ci_gold_catalog.scan(name)
    assert isinstance(frame, dd.DataFrame)
    assert list(frame.columns) == list(ci_gold_catalog.entry(name).columns)
    dtypes = frame.dtypes
    assert isinstance(dtypes["timestamp"], pd.DatetimeTZDtype)
    assert str(dtypes["timestamp"].tz) == "UTC"
    assert str(dtypes["date"]) == "date32[day][pyarrow]"
    assert str(dtypes["region_id"]) == "string"
    part = frame.partitions[0].compute()
    assert part.dtypes.equals(dtypes)  # the computed frame has the declared types
    folders = {
        (p.parent.parent.name.split("=")[1], p.parent.name.split("=")[1])
        for p in Path(ci_gold_catalog.entry(name).location).rglob("*.parquet")
    }
    values = frame[["date", "region_id"]].drop_duplicates().compute()
    assert {(str(d), r) for d, r in values.itertuples(index=False)} == folders
    assert frame["energy_kwh"].sum().compute() == pytest.approx(
        pds.dataset(ci_gold_catalog.entry(name).location).to_table()["energy_kwh"]
        .to_numpy()
        .sum()
    )  # fmt: skip


def test_scan_reads_nothing_until_computed(ci_gold_catalog, tmp_path):
    spec = ci_gold_catalog.entry(SILVER)
    copy = tmp_path / "meter_readings"
    shutil.copytree(spec.location, copy)
    from workbench.io.frames import scan_parquet_dask

    frame = scan_parquet_dask(spec.model_copy(update={"location": str(copy)}))
    files = sorted(copy.rglob("*.parquet"))
    files[-1].unlink()  # after the scan: only a lazy frame would notice at compute time
    with pytest.raises((FileNotFoundError, OSError)):
        frame["energy_kwh"].sum().compute()


def test_scan_rejects_unknown_columns(ci_gold_catalog):
    from workbench.io.frames import scan_parquet_dask

    with pytest.raises(WorkbenchError, match="expected columns \\['load_mw'\\] are missing"):
        scan_parquet_dask(ci_gold_catalog.entry(SILVER), columns=["load_mw"])


# ---------------------------------------------------------------------- aggregation
@pytest.mark.parametrize("engine", ["duckdb", "polars"])
def test_quarter_hours_match_the_files(ci_gold_catalog, engine):
    spec = ci_gold_catalog.entry(SILVER)
    out = aggregate_meter_load(ci_gold_catalog, freq="15min", engine=engine, **WINDOW)
    truth = _truth(spec, **WINDOW)
    assert list(out.columns) == [
        "timestamp", "region_id", "load_mw", "energy_kwh", "meters", "estimated_share",
    ]  # fmt: skip
    assert len(out) == len(truth)
    pd.testing.assert_series_equal(out["timestamp"], truth["timestamp"])
    assert out["region_id"].tolist() == truth["region_id"].tolist()
    np.testing.assert_allclose(out["energy_kwh"], truth["energy_kwh"], rtol=1e-9)
    np.testing.assert_allclose(out["load_mw"], truth["energy_kwh"] / 0.25 / 1000, rtol=1e-9)
    np.testing.assert_array_equal(out["meters"], truth["reads"])
    np.testing.assert_allclose(out["estimated_share"], truth["est"] / truth["reads"])
    assert out["timestamp"].min() == pd.Timestamp(WINDOW["start"], tz="UTC")
    assert out["timestamp"].max() < pd.Timestamp(WINDOW["end"], tz="UTC")
    assert 0 < out["estimated_share"].mean() < 0.2


@pytest.mark.parametrize("freq", ["5min", "15min", "1h"])
@pytest.mark.parametrize("dataset", [SILVER, "bronze.meter_reads"])
def test_duckdb_and_polars_agree(ci_gold_catalog, freq, dataset):
    kwargs = {"freq": freq, "by": ("region_id", "customer_class"), "regions": ["COAST", "WEST"]}
    a = aggregate_meter_load(ci_gold_catalog, dataset, engine="duckdb", **kwargs)
    b = aggregate_meter_load(ci_gold_catalog, dataset, engine="polars", **kwargs)
    pd.testing.assert_frame_equal(a, b, rtol=1e-9)
    assert set(a["region_id"]) == {"COAST", "WEST"}
    assert set(a["customer_class"]) == {"residential", "commercial"}


def test_five_minutes_spread_each_read_evenly(ci_gold_catalog):
    q = aggregate_meter_load(ci_gold_catalog, freq="15min", **WINDOW)
    f = aggregate_meter_load(ci_gold_catalog, freq="5min", **WINDOW)
    assert len(f) == 3 * len(q)
    parent = f.assign(timestamp=f["timestamp"].dt.floor("15min"))
    back = parent.groupby(["timestamp", "region_id"], as_index=False).agg(
        energy_kwh=("energy_kwh", "sum"),
        load_min=("load_mw", "min"),
        load_max=("load_mw", "max"),
        meters=("meters", "first"),
    )
    np.testing.assert_allclose(back["energy_kwh"], q["energy_kwh"], rtol=1e-12)
    np.testing.assert_allclose(back["load_min"], q["load_mw"], rtol=1e-12)  # constant within
    np.testing.assert_allclose(back["load_max"], q["load_mw"], rtol=1e-12)
    np.testing.assert_array_equal(back["meters"], q["meters"])
    assert set(f["timestamp"].dt.minute % 15) == {0, 5, 10}


def test_a_five_minute_window_may_start_inside_a_read(ci_gold_catalog):
    f = aggregate_meter_load(
        ci_gold_catalog, freq="5min", start="2024-03-20T12:05", end="2024-03-20T12:40"
    )
    assert sorted(set(f["timestamp"].dt.strftime("%H:%M"))) == [
        "12:05", "12:10", "12:15", "12:20", "12:25", "12:30", "12:35",
    ]  # fmt: skip


def test_hours_sum_their_quarter_hours(ci_gold_catalog):
    q = aggregate_meter_load(ci_gold_catalog, freq="15min", **WINDOW)
    h = aggregate_meter_load(ci_gold_catalog, freq="1h", **WINDOW)
    q["hour"] = q["timestamp"].dt.floor("1h")
    sums = q.groupby(["hour", "region_id"], as_index=False).agg(
        energy_kwh=("energy_kwh", "sum"), meters=("meters", "sum")
    )
    np.testing.assert_allclose(h["energy_kwh"], sums["energy_kwh"], rtol=1e-12)
    np.testing.assert_allclose(h["load_mw"], sums["energy_kwh"] / 1000, rtol=1e-12)
    np.testing.assert_allclose(h["meters"], sums["meters"] / 4)  # mean over the quarter-hours


def test_customer_classes_add_up_to_the_region(ci_gold_catalog):
    region = aggregate_meter_load(ci_gold_catalog, freq="1h")
    classes = aggregate_meter_load(ci_gold_catalog, freq="1h", by=("region_id", "customer_class"))
    total = classes.groupby(["timestamp", "region_id"], as_index=False)[
        ["energy_kwh", "load_mw", "meters"]
    ].sum()
    pd.testing.assert_frame_equal(
        total, region[["timestamp", "region_id", "energy_kwh", "load_mw", "meters"]], rtol=1e-9
    )
    system = aggregate_meter_load(ci_gold_catalog, freq="1h", by=())
    assert list(system.columns)[:2] == ["timestamp", "load_mw"]
    np.testing.assert_allclose(
        system["load_mw"].to_numpy(),
        region.groupby("timestamp")["load_mw"].sum().to_numpy(),
        rtol=1e-9,
    )


def test_bronze_duplicates_show_against_silver(ci_gold_catalog):
    bronze = aggregate_meter_load(ci_gold_catalog, "bronze.meter_reads", freq="1h", by=())
    silver = aggregate_meter_load(ci_gold_catalog, SILVER, freq="1h", by=())
    assert (bronze["meters"] >= silver["meters"]).all()
    assert bronze["meters"].sum() > silver["meters"].sum()  # the sim lands 0.3 % twice


# ---------------------------------------------------------------------- partition pruning
@pytest.fixture
def poisoned(ci_gold_catalog, tmp_path):
    """A copy of the silver reads plus unreadable files in partitions outside the window."""
    spec = ci_gold_catalog.entry(SILVER)
    root = tmp_path / "meter_readings"
    shutil.copytree(spec.location, root)
    for folder in ("date=2024-03-10/region_id=COAST", "date=2024-03-21/region_id=ZZZ"):
        (root / folder).mkdir(parents=True)
        (root / folder / "part-bad.parquet").write_bytes(b"not parquet at all")
    return spec.model_copy(update={"location": str(root)})


@pytest.mark.parametrize("engine", ["duckdb", "polars"])
def test_partitions_outside_the_window_are_never_opened(ci_gold_catalog, poisoned, engine):
    kwargs = {"freq": "1h", "regions": ["COAST", "WEST"], **WINDOW}
    out = aggregate_meter_load(poisoned, engine=engine, **kwargs)
    expected = aggregate_meter_load(ci_gold_catalog, engine=engine, **kwargs)
    pd.testing.assert_frame_equal(out, expected)
    with pytest.raises(DataAccessError, match="expected readable Parquet"):
        aggregate_meter_load(poisoned, engine=engine, freq="1h")  # all partitions: it is read


# ---------------------------------------------------------------------- bad input
@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"freq": "2h"}, r"expected freq among \['15min', '1h', '5min'\]; found '2h'"),
        ({"engine": "spark"}, r"expected engine among \['duckdb', 'polars', 'dask'\]"),
        ({"by": ("meter_id",)}, r"expected by= columns among"),
        ({"start": "2024-03-20T12:10", "freq": "15min"}, r"expected start on a 15min boundary"),
        ({"end": "2024-03-20T12:15", "freq": "1h"}, r"expected end on a 1h boundary"),
        ({"start": "2024-03-21", "end": "2024-03-20"}, r"expected start before end"),
        ({"regions": ["MARS"]}, r"expected regions among \['COAST', .*found \['MARS'\]"),
        ({"start": "yesterday"}, r"expected start as an ISO 8601 time"),
    ],
)
def test_bad_arguments_are_refused(ci_gold_catalog, kwargs, message):
    with pytest.raises(WorkbenchError, match=message):
        aggregate_meter_load(ci_gold_catalog, **kwargs)


@pytest.mark.parametrize("engine", ["duckdb", "polars"])
def test_an_empty_window_says_what_the_data_holds(ci_gold_catalog, engine):
    with pytest.raises(MeterAggregationError, match=r"found none \(the dataset holds local dates "
                       r"2024-03-20 to 2024-03-21\); widen the window"):  # fmt: skip
        aggregate_meter_load(ci_gold_catalog, engine=engine, start="2025-01-01", end="2025-01-02")


def test_a_table_or_missing_files_are_refused(ci_gold_catalog, tmp_path):
    with pytest.raises(MeterAggregationError, match="expected a frames dataset"):
        aggregate_meter_load(ci_gold_catalog, "gold.fact_load")
    empty = ci_gold_catalog.entry(SILVER).model_copy(update={"location": str(tmp_path)})
    with pytest.raises(MeterAggregationError, match=r"found none .*workbench demo build"):
        aggregate_meter_load(empty)


# ---------------------------------------------------------------------- CLI
def _cli(*args: str, home: Path) -> subprocess.CompletedProcess:
    exe = str(Path(sys.executable).parent / "workbench")
    env = {**os.environ, "WORKBENCH_HOME": str(home), "WORKBENCH_CATALOG": str(CATALOG)}
    return subprocess.run(
        [exe, "meters", *args], capture_output=True, text=True, env=env, timeout=120
    )


def test_cli_writes_the_aggregate(ci_gold_catalog, ci_medallion, tmp_path):
    output = tmp_path / "out" / "load.parquet"
    done = _cli(
        "aggregate", "--freq", "1h", "--start", "2024-03-20T12:00", "--end", "2024-03-21",
        "--region", "COAST", "--region", "WEST", "--by-class", "--output", str(output),
        home=ci_medallion,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert f"rows of 1h load ({DEFAULT_ENGINE})" in done.stdout
    written = pd.read_parquet(output)
    expected = aggregate_meter_load(
        ci_gold_catalog, freq="1h", start="2024-03-20T12:00", end="2024-03-21",
        regions=["COAST", "WEST"], by=("region_id", "customer_class"),
    )  # fmt: skip
    pd.testing.assert_frame_equal(written, expected, check_dtype=False)


def test_cli_bad_input_is_one_red_line(ci_medallion, tmp_path):
    for args in (
        ["--freq", "2min", "--output", str(tmp_path / "a.parquet")],
        ["--start", "2030-01-01", "--output", str(tmp_path / "a.parquet")],
        ["--output", str(tmp_path / "a.csv")],
    ):
        done = _cli("aggregate", *args, home=ci_medallion)
        assert done.returncode == 1
        assert done.stderr.startswith("error: expected")
        assert "Traceback" not in done.stderr
    assert not list(tmp_path.glob("*.parquet"))


def test_default_path_equals_the_hand_written_engines(ci_gold_catalog):
    """The default engine over the whole dataset (no window: the benchmark's query) equals
    hand-written DuckDB SQL and Polars on the same files (issue 22)."""
    import duckdb
    import polars as pl

    root = ci_gold_catalog.frames_spec(SILVER).location
    out = aggregate_meter_load(ci_gold_catalog, freq="15min")
    assert DEFAULT_ENGINE == "polars"
    sql = f"""
        SELECT "timestamp", region_id, sum(energy_kwh) AS energy_kwh, count(*) AS reads,
               count(*) FILTER (WHERE is_estimated) AS est
        FROM read_parquet('{root}/**/*.parquet', hive_partitioning = true)
        WHERE energy_kwh IS NOT NULL GROUP BY ALL ORDER BY ALL
    """
    by_duckdb = duckdb.connect().execute(sql).df()
    by_polars = (
        pl.scan_parquet(f"{root}/**/*.parquet", hive_partitioning=True)
        .filter(pl.col("energy_kwh").is_not_null())
        .group_by(["timestamp", "region_id"])
        .agg(pl.col("energy_kwh").sum(), pl.len().alias("reads"), pl.col("is_estimated").sum())
        .sort(["timestamp", "region_id"])
        .collect()
        .to_pandas()
    )
    for hand in (by_duckdb, by_polars):
        assert len(out) == len(hand)
        stamps = pd.to_datetime(hand["timestamp"], utc=True).astype("datetime64[ns, UTC]")
        assert out["timestamp"].tolist() == stamps.tolist()
        assert out["region_id"].tolist() == hand["region_id"].astype(str).tolist()
        np.testing.assert_allclose(out["energy_kwh"], hand["energy_kwh"], rtol=1e-9)
        np.testing.assert_array_equal(out["meters"], hand["reads"])
    np.testing.assert_allclose(out["estimated_share"], by_duckdb["est"] / by_duckdb["reads"])
