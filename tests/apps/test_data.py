"""Display resolution, filters and the read-only reader of the dashboards."""

from __future__ import annotations

from datetime import timedelta

import pandas as pd
import pytest

from workbench.apps import data as d


@pytest.mark.parametrize(
    ("days", "native", "expected"),
    [
        (1, timedelta(minutes=5), timedelta(minutes=5)),  # 288 points: native
        (7, timedelta(minutes=5), timedelta(minutes=15)),  # 2016 at 5 min is over 1200
        (21, timedelta(minutes=5), timedelta(minutes=30)),
        (30, timedelta(minutes=5), timedelta(hours=1)),  # 1440 at 30 min is over 1200
        (366, timedelta(minutes=5), timedelta(hours=12)),  # a year of 5-min load: 732 points
        (7, timedelta(hours=1), timedelta(hours=1)),  # never finer than the source
        (3650, timedelta(hours=1), timedelta(days=7)),
    ],
)
def test_choose_resolution_keeps_series_under_max_points(days, native, expected):
    start = pd.Timestamp("2024-01-01", tz="UTC")
    step = d.choose_resolution(start, start + pd.Timedelta(days=days), native)
    assert step == expected
    if step != d.RESOLUTIONS[-1]:
        assert pd.Timedelta(days=days) / step <= d.MAX_POINTS


def test_filters_are_utc_and_reject_an_inverted_range():
    f = d.Filters(start="2024-03-01", end=pd.Timestamp("2024-03-02 01:00", tz="America/Chicago"))
    assert f.start == pd.Timestamp("2024-03-01", tz="UTC")
    assert f.end == pd.Timestamp("2024-03-02 07:00", tz="UTC")
    with pytest.raises(d.NoDataError, match="expected the date range to end after it starts"):
        d.Filters(start="2024-03-02", end="2024-03-01")


def test_bucket_aggregates_in_the_warehouse(catalog):
    times = pd.date_range("2024-03-01", periods=24, freq="5min", tz="UTC")
    frame = pd.DataFrame({"timestamp": times, "region_id": "COAST", "load_mw": range(24)})
    catalog.write("silver.system_load", frame)
    catalog.close()
    with d.reader() as r:
        t = r.require("silver.system_load")
        t = t.mutate(b=d.bucket(t.timestamp, timedelta(minutes=30)))
        out = t.group_by("b").aggregate(mw=t.load_mw.mean(), n=t.count()).order_by("b").to_pandas()
    assert d.from_epoch(out["b"]).tolist() == list(pd.date_range(times[0], periods=4, freq="30min"))
    assert out["n"].tolist() == [6, 6, 6, 6]
    assert out["mw"].tolist() == [2.5, 8.5, 14.5, 20.5]


def test_reader_on_a_missing_warehouse_says_there_is_no_data(workbench_home):
    with pytest.raises(d.NoDataError, match="the warehouse has no data yet"), d.reader():
        pass
    assert not (workbench_home / "warehouse.duckdb").exists()  # a reader never creates it


def test_reader_reports_missing_tables_and_closes_its_connection(catalog):
    catalog.write("gold.dim_regions", _region("A"))
    catalog.close()
    with d.reader() as r:
        assert r.table("gold.load_forecasts") is None
        with pytest.raises(d.NoDataError, match=r"expected table gold\.load_forecasts"):
            r.require("gold.load_forecasts")
        assert d.regions(r) == ["A"]
        wh = r.catalog.warehouse()
    assert wh._con is None  # closed: a job can take the write lock between two refreshes
    catalog.write("gold.dim_regions", _region("B"), mode="append")


def _region(region_id: str) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "region_id": [region_id], "region_name": [region_id], "iso_rto": ["ISO"],
            "timezone": ["UTC"], "population": [1], "area_sq_miles": [1], "zone": ["LZ_A"],
            "latitude": [30.0], "longitude": [-97.0],
        }
    )  # fmt: skip


def test_versioned_reuses_results_until_a_job_writes_the_warehouse(catalog):
    catalog.write("gold.dim_regions", _region("A"))
    catalog.close()
    asked = []

    def regions(r: d.Reader) -> list[str]:
        def ask() -> list[str]:
            asked.append(1)
            return d.regions(r)

        return d.versioned(r, "regions", ["gold.dim_regions"], ask)

    with d.reader() as r:
        assert r.version is not None
        assert regions(r) == ["A"]
    with d.reader() as r:  # unchanged file: the result, no query
        assert regions(r) == ["A"]
    assert len(asked) == 1
    catalog.write("gold.dim_regions", _region("B"), mode="append")  # a job writes
    catalog.close()
    with d.reader() as r:
        assert regions(r) == ["A", "B"]  # a new version: asked again, never the stale list
    assert len(asked) == 2


def test_versioned_asks_every_time_outside_the_warehouse_file(catalog):
    catalog.write("gold.dim_regions", _region("A"))
    catalog.close()
    with d.reader() as r:
        r.version = None  # a PostgreSQL warehouse has no file to version
        calls = [d.versioned(r, "k", ["gold.dim_regions"], lambda: object()) for _ in range(2)]
    assert calls[0] is not calls[1]


def test_two_lakehouses_with_equal_signatures_never_share_cached_results(
    catalog, workbench_home, monkeypatch
):
    from workbench import open_catalog

    catalog.write("gold.dim_regions", _region("A"))
    catalog.close()
    other = workbench_home.parent / "other-home"
    monkeypatch.setenv("WORKBENCH_HOME", str(other))
    second = open_catalog()
    second.write("gold.dim_regions", _region("B"))  # same rows, same shape: an equal signature
    second.close()

    def regions(r: d.Reader) -> list[str]:
        return d.cached(r, "regions", ["gold.dim_regions"], lambda: d.regions(r))

    seen = {}
    for home in (workbench_home, other, workbench_home):
        monkeypatch.setenv("WORKBENCH_HOME", str(home))
        with d.reader() as r:
            seen.setdefault(home.name, set()).add(tuple(regions(r)))
            seen.setdefault("versioned " + home.name, set()).add(
                tuple(d.versioned(r, "regions", ["gold.dim_regions"], lambda: d.regions(r)))
            )
    assert seen == {
        workbench_home.name: {("A",)}, "versioned " + workbench_home.name: {("A",)},
        "other-home": {("B",)}, "versioned other-home": {("B",)},
    }  # fmt: skip
