"""The medallion build on the ci lakehouse: idempotent, incremental, all-or-nothing, checked."""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pytest

from workbench.core.errors import WorkbenchError

CUT = pd.Timestamp("2024-03-21", tz="UTC")  # the ci profile's last day
TIME_TABLES = {
    "bronze.raw_load": "timestamp",
    "bronze.raw_generation": "timestamp",
    "bronze.raw_weather": "timestamp",
    "bronze.raw_weather_forecast": "issue_time",
    "bronze.raw_market": "timestamp",
    "bronze.raw_interchange": "timestamp",
    "bronze.raw_ancillary": "timestamp",
    "bronze.raw_scada": "timestamp",
}


def _copy_lakehouse(src: Path, dst: Path) -> Path:
    dst.mkdir(parents=True)
    shutil.copy(src / "warehouse.duckdb", dst / "warehouse.duckdb")
    (dst / "lake").symlink_to(src / "lake")  # cubes, meters, rasters are read, never written
    return dst


@pytest.fixture
def lakehouse(ci_lakehouse, tmp_path, monkeypatch):
    """A private copy of the ci lakehouse, opened through the catalog."""
    from workbench import open_catalog

    home = _copy_lakehouse(ci_lakehouse, tmp_path / "home")
    monkeypatch.setenv("WORKBENCH_HOME", str(home))
    cat = open_catalog()
    yield cat
    cat.close()


@pytest.fixture
def built_lakehouse(ci_medallion, tmp_path, monkeypatch):
    """A private copy of the session's ci medallion (one full build of the ci lakehouse, silver
    and gold published): warehouse and lake files copied, as a build writes both."""
    from workbench import open_catalog

    home = tmp_path / "built"
    home.mkdir()
    shutil.copy(ci_medallion / "warehouse.duckdb", home / "warehouse.duckdb")
    shutil.copytree(ci_medallion / "lake", home / "lake", symlinks=True)
    monkeypatch.setenv("WORKBENCH_HOME", str(home))
    cat = open_catalog()
    yield cat
    cat.close()


def gold_snapshot(cat) -> dict[str, pd.DataFrame]:
    out = {}
    for name in cat.list(layer="gold"):
        spec = cat.entry(name)
        if not cat.warehouse().exists(spec.location):
            continue
        frame = cat.scan(name).to_pandas()
        out[name] = frame.sort_values(list(spec.key)).reset_index(drop=True)
    return out


def assert_same_gold(a: dict[str, pd.DataFrame], b: dict[str, pd.DataFrame]) -> None:
    assert a.keys() == b.keys()
    for name in a:
        pd.testing.assert_frame_equal(a[name], b[name], check_exact=False, rtol=1e-9, obj=name)


def _cut_bronze(cat) -> dict[str, pd.DataFrame]:
    """Remove the last day from every timed bronze table; return the removed rows."""
    wh = cat.warehouse()
    removed = {}
    for name, column in TIME_TABLES.items():
        t = cat.scan(name)
        removed[name] = t.filter(t[column] >= CUT.to_pydatetime()).to_pandas()
        wh.delete_since(cat.entry(name).location, column, CUT.to_pydatetime())
    return removed


@pytest.mark.slow
def test_rebuild_is_idempotent_and_a_new_day_adds_exactly_that_day(
    lakehouse, ci_medallion, monkeypatch
):
    from workbench import open_catalog
    from workbench.lake.build import build_medallion

    removed = _cut_bronze(lakehouse)
    build_medallion(lakehouse)
    before = gold_snapshot(lakehouse)
    again = build_medallion(lakehouse)
    assert all(r.since is not None for r in again.tables if r.table_name == "gold.fact_load")
    assert_same_gold(before, gold_snapshot(lakehouse))  # unchanged bronze: nothing changes

    for name, rows in removed.items():
        lakehouse.write(name, rows, mode="append")
    build_medallion(lakehouse)
    after = gold_snapshot(lakehouse)

    # a full build from the complete bronze, elsewhere, gives the same gold: the session's ci
    # medallion is that build (one build_medallion of a copy of the ci lakehouse), read only
    monkeypatch.setenv("WORKBENCH_HOME", str(ci_medallion))
    with open_catalog(read_only=True) as reference:
        assert_same_gold(after, gold_snapshot(reference))

    # and what the new day added is exactly that day
    hourly = after["gold.fact_load"]
    added = hourly[~hourly.set_index(["region", "timestamp"]).index.isin(
        before["gold.fact_load"].set_index(["region", "timestamp"]).index
    )]  # fmt: skip
    assert len(added) == 24 * hourly["region"].nunique()
    assert (added["timestamp"] >= CUT).all()
    assert (added["timestamp"] < CUT + pd.Timedelta(days=1)).all()
    kept = hourly[hourly["timestamp"] < CUT].reset_index(drop=True)
    pd.testing.assert_frame_equal(kept, before["gold.fact_load"], check_exact=False, rtol=1e-9)


def test_a_build_failing_half_way_leaves_silver_and_gold_as_they_were(built_lakehouse, monkeypatch):
    from workbench.lake import steps
    from workbench.lake.build import build_medallion

    lakehouse = built_lakehouse  # built once already: what a failed rebuild must keep
    before = gold_snapshot(lakehouse)
    silver_rows = int(lakehouse.scan("silver.system_load").count().execute())
    lakehouse.warehouse().delete_since("silver.system_load", "timestamp", CUT.to_pydatetime())
    silver_after_delete = int(lakehouse.scan("silver.system_load").count().execute())

    def broken(sources):
        raise RuntimeError("disk full while building carbon")

    patched = tuple(
        s if s.target != "gold.carbon_emissions" else type(s)(s.target, s.sources, broken)
        for s in steps.STEPS
    )
    monkeypatch.setattr("workbench.lake.build.STEPS", patched)
    with pytest.raises(WorkbenchError, match="disk full while building carbon"):
        build_medallion(lakehouse)
    assert_same_gold(before, gold_snapshot(lakehouse))
    assert int(lakehouse.scan("silver.system_load").count().execute()) == silver_after_delete
    assert silver_after_delete < silver_rows  # the failed build's silver rewrite was undone
    runs = lakehouse.read("ops.build_runs")
    last = runs[runs.build_id == runs.sort_values("started_at").build_id.iloc[-1]]
    assert set(last["status"]) == {"rolled back"}


def test_gold_refuses_to_publish_on_a_contract_breach(lakehouse, monkeypatch):
    from workbench.lake.build import PublishRefusedError, build_medallion
    from workbench.lake.contracts import RANGES

    monkeypatch.setitem(
        RANGES,
        "gold.fact_load",
        {"actual_load_mw": (0.0, 1000.0)},  # no region is that small: every row breaches
    )
    with pytest.raises(PublishRefusedError, match=r"gold\.fact_load breaks its contract"):
        build_medallion(lakehouse)
    assert not lakehouse.warehouse().exists("gold.fact_load")
    assert not lakehouse.warehouse().exists("silver.system_load")  # nothing was published
    dq = lakehouse.read("ops.dq_results", where={"table_name": "gold.fact_load"})
    breach = dq[~dq.passed]
    assert breach["column_name"].tolist() == ["actual_load_mw"]
    assert (
        breach["failures"].iloc[0] == int(lakehouse.scan("bronze.raw_load").count().execute()) // 12
    )


def test_bad_scada_rows_are_quarantined_and_counted(lakehouse):
    from workbench.lake.build import build_medallion

    result = build_medallion(lakehouse, layers=("silver",), tables=["silver.scada_cleaned"])
    raw = lakehouse.scan("bronze.raw_scada")
    bad_codes = ~raw.quality_code.isin([0, 192, 24, 152])
    bad_records = int(
        raw.filter(bad_codes).select("asset_id", "timestamp").distinct().count().execute()
    )
    report = result.tables[0]
    assert report.rows_quarantined == bad_records > 0
    quarantine = lakehouse.read("ops.quarantine", where={"table_name": "silver.scada_cleaned"})
    assert len(quarantine) == bad_records
    assert set(quarantine["reason"]) == {"BAD quality code"}
    distinct = int(raw.select("asset_id", "timestamp").distinct().count().execute())
    assert report.rows_out + report.rows_quarantined == distinct  # nothing lost


def test_build_cli_prints_a_summary(lakehouse):
    import os
    import subprocess
    import sys

    out = subprocess.run(
        [str(Path(sys.executable).parent / "workbench"), "build", "--layer", "silver"],
        capture_output=True,
        text=True,
        env={**os.environ, "COLUMNS": "200"},
        timeout=300,
    )
    assert out.returncode == 0, out.stderr
    assert "silver.scada_cleaned" in out.stdout
    assert "quarantined" in out.stdout
    assert "gold.fact_load" not in out.stdout
    runs = lakehouse.read("ops.build_runs")
    assert set(runs["table_name"]) >= {"silver.scada_cleaned", "silver.system_load"}


def test_a_gold_table_falling_behind_its_source_is_refused(lakehouse, monkeypatch):
    from workbench.lake import gold, steps
    from workbench.lake.build import PublishRefusedError, build_medallion

    def stale_fact_load(sources):
        t = gold.fact_load(
            sources["silver.system_load"],
            sources["silver.weather_hourly"],
            sources["gold.dim_regions"],
        )
        return t.filter(t.timestamp < CUT.to_pydatetime() - pd.Timedelta(days=3))

    patched = tuple(
        s if s.target != "gold.fact_load" else type(s)(s.target, s.sources, stale_fact_load)
        for s in steps.STEPS
    )
    monkeypatch.setattr("workbench.lake.build.STEPS", patched)
    with pytest.raises(PublishRefusedError, match="freshness"):
        build_medallion(lakehouse)
    dq = lakehouse.read("ops.dq_results", where={"check_name": "freshness"})
    stale = dq[(dq.table_name == "gold.fact_load")]
    assert stale["passed"].tolist() == [False]
    assert "allowed lag 1 day" in stale["detail"].iloc[0]


def test_fact_load_takes_the_latest_forecast_issued_before_each_hour(lakehouse):
    from workbench.lake.build import build_medallion

    hours = pd.date_range("2024-03-20T00:00", periods=3, freq="h", tz="UTC")

    def run(issue: str, base: float) -> pd.DataFrame:
        return pd.DataFrame(
            {
                "run_key": f"day_ahead_load:{issue}",
                "issue_time": pd.Timestamp(issue, tz="UTC"),
                "timestamp": hours,
                "region_id": "NORTH",
                "model": "seasonal_naive",
                "quantile": 0.5,
                "load_mw": [base, base + 1, base + 2],
            }
        )

    early, late = run("2024-03-19T06:00", 1000.0), run("2024-03-19T12:00", 2000.0)
    after = run(
        "2024-03-20T01:30", 9000.0
    )  # issued after two of the hours: only the third may use it
    upper = late.assign(quantile=0.9, load_mw=99999.0)  # not the median: never used
    lakehouse.write("gold.load_forecasts", pd.concat([early, late, after, upper]))
    build_medallion(lakehouse)
    fact = lakehouse.read(
        "gold.fact_load",
        where={"region": "NORTH"},
        start=hours[0],
        end=hours[-1] + pd.Timedelta(hours=1),
    )
    assert fact["forecast_load_mw"].tolist() == [2000.0, 2001.0, 9002.0]
    assert fact["forecast_error"].tolist() == pytest.approx(
        (fact["actual_load_mw"] - fact["forecast_load_mw"]).tolist()
    )
    others = lakehouse.read("gold.fact_load", where={"region": "COAST"})
    assert others["forecast_load_mw"].isna().all()


def test_since_on_a_table_not_built_yet_creates_it_from_that_day(lakehouse):
    from workbench.lake.build import build_medallion

    result = build_medallion(
        lakehouse, layers=("silver",), tables=["silver.system_load"], since=CUT.to_pydatetime()
    )
    assert result.ok
    silver = lakehouse.read("silver.system_load")
    assert silver["timestamp"].min() == CUT
    assert len(silver) == result.tables[0].rows_out > 0
