"""``open_catalog()``: list, describe, scan and read every kind, write tables."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from workbench.core.errors import (
    CatalogError,
    DataAccessError,
    MissingColumnsError,
    MissingExtraError,
    UnknownDatasetError,
)


def _load_frame(hours: int = 48) -> pd.DataFrame:
    ts = pd.date_range("2024-07-01", periods=hours * 12, freq="5min", tz="UTC")
    parts = [
        pd.DataFrame({"timestamp": ts, "region_id": r, "load_mw": base + np.arange(len(ts))})
        for r, base in (("NORTH", 10_000.0), ("COAST", 20_000.0))
    ]
    return pd.concat(parts, ignore_index=True)


def test_list_orders_by_layer_and_filters(catalog):
    names = catalog.list()
    layers = [n.split(".")[0] for n in names]
    assert layers == sorted(layers, key=["bronze", "silver", "gold", "ops"].index)
    assert set(catalog.list(layer="gold")) >= {"gold.fact_load", "gold.dim_regions"}
    assert all(n.startswith("ops.") for n in catalog.list(layer="ops"))
    with pytest.raises(CatalogError, match="expected layer one of"):
        catalog.list(layer="platinum")


def test_describe_reads_as_text_and_html(catalog):
    d = catalog.describe("gold.fact_load")
    text = str(d)
    assert text.splitlines()[0] == "gold.fact_load"
    assert "availability lag  1h" in text
    assert "actual_load_mw" in text
    assert "MW" in text
    html = d._repr_html_()
    assert "<table>" in html
    assert "<td style='text-align:left'>actual_load_mw</td>" in html


def test_unknown_name_suggests(catalog):
    with pytest.raises(UnknownDatasetError, match=r"did you mean .bronze\.raw_load."):
        catalog.scan("bronze.raw_lod")


def test_write_scan_read_a_table(catalog):
    assert catalog.write("bronze.raw_load", _load_frame()) == 2 * 48 * 12
    t = catalog.scan("bronze.raw_load")
    assert t.columns == ("timestamp", "region_id", "load_mw")  # lazy Ibis table
    assert int(t.count().execute()) == 2 * 48 * 12
    window = catalog.read(
        "bronze.raw_load",
        start="2024-07-01T06:00",
        end=pd.Timestamp("2024-07-01T07:00", tz="UTC"),
        where={"region_id": "COAST"},
        columns=["timestamp", "load_mw"],
    )
    assert list(window.columns) == ["timestamp", "load_mw"]
    assert len(window) == 12  # half-open: [06:00, 07:00)
    assert window["timestamp"].min() == pd.Timestamp("2024-07-01T06:00", tz="UTC")
    assert window["load_mw"].iloc[0] == 20_000.0 + 72


def test_read_with_a_callable_filter_and_polars(catalog):
    catalog.write("bronze.raw_load", _load_frame())
    out = catalog.read("bronze.raw_load", where=lambda t: t.load_mw > 20_500, backend="polars")
    assert type(out).__module__.startswith("polars")
    assert out["load_mw"].min() > 20_500


def test_write_checks_declared_columns_and_keeps_data(catalog):
    catalog.write("bronze.raw_load", _load_frame(1))
    with pytest.raises(MissingColumnsError, match="load_mw"):
        catalog.write("bronze.raw_load", _load_frame(1).rename(columns={"load_mw": "load"}))
    assert int(catalog.scan("bronze.raw_load").count().execute()) == 24


def test_declared_types_are_kept(catalog):
    catalog.write("bronze.raw_load", _load_frame(1).astype({"load_mw": "int64"}))
    schema = catalog.scan("bronze.raw_load").schema()
    assert str(schema["load_mw"]).startswith("float64")
    assert schema["timestamp"].timezone == "UTC"


def test_time_window_on_a_table_without_time(catalog):
    with pytest.raises(DataAccessError, match="has no time column"):
        catalog.read("gold.dim_regions", start="2024-01-01")


def test_bad_where_is_explained(catalog):
    catalog.write("bronze.raw_load", _load_frame(1))
    with pytest.raises(DataAccessError, match="expected where="):
        catalog.read("bronze.raw_load", where="region_id = 'NORTH'")
    with pytest.raises(MissingColumnsError, match="node_id"):
        catalog.read("bronze.raw_load", where={"node_id": "x"})


def test_frames_scan_with_dask_and_read_with_pushdown(catalog):
    import pyarrow as pa
    import pyarrow.parquet as pq

    spec = catalog.entry("bronze.meter_reads")
    ts = pd.date_range("2024-07-01", periods=96, freq="15min", tz="UTC")
    for region in ("NORTH", "COAST"):
        folder = Path(spec.location) / "date=2024-07-01" / f"region_id={region}"
        folder.mkdir(parents=True)
        frame = pd.DataFrame(
            {
                "meter_id": [f"M_{region}_1"] * 96,
                "timestamp": ts,
                "energy_kwh": np.full(96, 0.3),
                "is_estimated": False,
                "customer_class": "residential",
            }
        )
        pq.write_table(pa.Table.from_pandas(frame, preserve_index=False), folder / "part-0.parquet")
    lazy = catalog.scan("bronze.meter_reads")
    assert type(lazy).__module__.startswith("dask")
    assert len(lazy) == 192
    read = catalog.read(
        "bronze.meter_reads", where={"region_id": "COAST"}, start="2024-07-01T12:00"
    )
    assert len(read) == 48
    assert set(read["region_id"]) == {"COAST"}


def test_frames_without_files_say_how_to_build(catalog):
    with pytest.raises(DataAccessError, match="workbench demo build"):
        catalog.read("bronze.meter_reads")


def test_cube_scan_is_lazy_and_read_selects(catalog):
    import xarray as xr

    spec = catalog.entry("bronze.pmu")
    times = pd.date_range("2024-07-01", periods=600, freq="100ms").values
    pmus = np.array(["PMU_0001", "PMU_0002", "PMU_0003"], dtype=object)
    freq = 60 + 0.01 * np.random.default_rng(0).standard_normal((600, 3))
    ds = xr.Dataset(
        {"frequency_hz": (("time", "pmu"), freq.astype("float32"))},
        coords={"time": times, "pmu": pmus},
    )
    ds.chunk({"time": 200, "pmu": 3}).to_zarr(spec.location, mode="w", consolidated=False)
    lazy = catalog.scan("bronze.pmu")
    assert lazy["frequency_hz"].chunks is not None  # dask-backed
    got = catalog.read(
        "bronze.pmu",
        start="2024-07-01T00:00:10",
        end="2024-07-01T00:00:20",
        where={"pmu": ["PMU_0002"]},
        columns=["frequency_hz"],
    )
    assert got.sizes == {"time": 100, "pmu": 1}
    np.testing.assert_allclose(got["frequency_hz"].values[:, 0], freq[100:200, 1].astype("float32"))


def test_raster_series_keeps_crs_and_transform(catalog):
    import rasterio
    from rasterio.transform import from_origin

    spec = catalog.entry("bronze.satellite")
    folder = Path(spec.location)
    folder.mkdir(parents=True)
    transform = from_origin(-104.0, 36.0, 0.1, 0.1)
    for i, stamp in enumerate(("20240701T1200Z", "20240701T1215Z")):
        with rasterio.open(
            folder / f"sat_{stamp}.tif", "w", driver="GTiff", width=8, height=6, count=1,
            dtype="float32", crs="EPSG:4326", transform=transform,
        ) as dst:  # fmt: skip
            dst.write(np.full((6, 8), i / 2, dtype="float32"), 1)
    ds = catalog.scan("bronze.satellite")
    assert ds["reflectance"].shape == (2, 6, 8)
    assert "4326" in ds.attrs["crs"] or "WGS 84" in ds.attrs["crs"]
    assert ds.attrs["transform"][0] == pytest.approx(0.1)
    late = catalog.read("bronze.satellite", start="2024-07-01T12:10")
    assert late.sizes["time"] == 1
    assert float(late["reflectance"].mean()) == pytest.approx(0.5)


def test_missing_extra_names_the_pip_command(catalog, monkeypatch):
    monkeypatch.setitem(sys.modules, "dask.dataframe", None)  # as if dask were not installed
    Path(catalog.entry("bronze.meter_reads").location).mkdir(parents=True)
    (Path(catalog.entry("bronze.meter_reads").location) / "x.parquet").write_bytes(b"")
    with pytest.raises(MissingExtraError, match=r"pip install 'gridmind-workbench\[cubes\]'"):
        catalog.scan("bronze.meter_reads")


def test_credentials_come_from_the_environment(tmp_path, monkeypatch):
    from workbench import open_catalog

    cat = open_catalog()
    monkeypatch.delenv("SNOWFLAKE_USER", raising=False)
    monkeypatch.delenv("SNOWFLAKE_PASSWORD", raising=False)
    with pytest.raises(CatalogError, match=r"\['SNOWFLAKE_USER', 'SNOWFLAKE_PASSWORD'\]"):
        cat.warehouse("snowflake")
    monkeypatch.setenv("SNOWFLAKE_USER", "svc_forecast")
    monkeypatch.setenv("SNOWFLAKE_PASSWORD", "p@ss/word")
    wh = cat.warehouse("snowflake")
    assert wh.url.startswith("snowflake://svc_forecast:p%40ss%2Fword@gridmind/GRIDMIND")
    assert "p%40ss" not in repr(wh)
