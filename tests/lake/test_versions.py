"""Parquet datasets published as versions behind a pointer switched by one rename."""

from __future__ import annotations

import os

import pandas as pd


def _spec(catalog, tmp_path):
    spec = catalog.entry("silver.meter_readings")
    return spec.model_copy(update={"location": str(tmp_path / "silver" / "meter_readings")})


def _reads(n: int, kwh: float) -> pd.DataFrame:
    ts = pd.date_range("2024-03-20", periods=n, freq="15min", tz="UTC")
    return pd.DataFrame(
        {
            "meter_id": "MTR_1",
            "timestamp": ts,
            "energy_kwh": kwh,
            "is_estimated": False,
            "customer_class": "residential",
            "region_id": "NORTH",
            "date": ts.date,
        }
    )


def _version(spec, version: str, frame: pd.DataFrame) -> None:
    import ibis

    from workbench.io.frames import write_version

    assert write_version(ibis.duckdb.connect().create_table("t", frame), spec, version) == len(
        frame
    )


def _rows(spec) -> int:
    from workbench.io.frames import pinned, scan_parquet_ibis

    return int(scan_parquet_ibis(pinned(spec)).count().execute())


def test_a_plain_folder_becomes_a_version_and_the_pointer_switches_atomically(catalog, tmp_path):
    from workbench.io.frames import (
        clean_versions,
        current_version,
        prepare_pointer,
        switch_pointer,
        write_partitioned,
    )

    spec = _spec(catalog, tmp_path)
    write_partitioned([_reads(4, 0.1)], spec)  # written before versions: a plain folder
    assert _rows(spec) == 4
    assert current_version(spec) is None
    _version(spec, "b1", _reads(8, 0.2))
    assert _rows(spec) == 4  # written, not yet published
    link = prepare_pointer(spec, "b1")
    assert _rows(spec) == 4  # a new pointer made, not yet switched
    switch_pointer(spec, link)
    assert current_version(spec) == "b1"
    assert _rows(spec) == 8
    assert os.readlink(spec.location) == ".meter_readings.v-b1"  # relative: the lake can move
    _version(spec, "b2", _reads(12, 0.3))
    _version(spec, "dead", _reads(1, 0.3))  # a build that died before its commit
    switch_pointer(spec, prepare_pointer(spec, "b2"))
    assert _rows(spec) == 12
    removed = {p.name for p in clean_versions(spec, {"b1"})}
    assert removed == {".meter_readings.v-dead", ".meter_readings.v-legacy"}
    left = {p.name for p in (tmp_path / "silver").iterdir()}
    assert left == {"meter_readings", ".meter_readings.v-b1", ".meter_readings.v-b2"}


def test_a_reader_stays_on_the_version_it_resolved(catalog, tmp_path):
    from workbench.io.frames import pinned, prepare_pointer, scan_parquet_ibis, switch_pointer

    spec = _spec(catalog, tmp_path)
    _version(spec, "b1", _reads(8, 0.2))
    switch_pointer(spec, prepare_pointer(spec, "b1"))
    reading = pinned(spec)  # a reader resolved the pointer, then a build switched it
    _version(spec, "b2", _reads(3, 0.2))
    switch_pointer(spec, prepare_pointer(spec, "b2"))
    assert int(scan_parquet_ibis(reading).count().execute()) == 8
    assert _rows(spec) == 3


def test_the_catalog_reads_the_version_the_warehouse_committed(catalog, tmp_path, monkeypatch):
    """A build killed between its commit and the pointer switch is whole for catalog readers."""
    from workbench.io.frames import prepare_pointer, switch_pointer

    monkeypatch.setenv("WORKBENCH_LAKE", str(tmp_path))
    from workbench import open_catalog

    cat = open_catalog()
    spec = cat.entry("silver.meter_readings")
    _version(spec, "b1", _reads(8, 0.2))
    switch_pointer(spec, prepare_pointer(spec, "b1"))
    _version(spec, "b2", _reads(3, 0.2))  # committed below, pointer not switched
    runs = pd.DataFrame(
        {
            "build_id": ["b1", "b2"],
            "table_name": "silver.meter_readings",
            "sources": "bronze.meter_reads",
            "started_at": pd.to_datetime(["2024-01-01", "2024-01-02"], utc=True),
            "ended_at": pd.to_datetime(["2024-01-01", "2024-01-02"], utc=True),
            "since": pd.NaT,
            "rows_in": 1,
            "rows_out": 1,
            "rows_quarantined": 0,
            "status": "built",
        }
    )
    runs["since"] = pd.to_datetime(runs["since"], utc=True)
    cat.write("ops.build_runs", runs)
    assert len(cat.read("silver.meter_readings")) == 3
    assert _rows(spec) == 8  # a bare spec follows the pointer until the next build
    cat.close()
