"""The project's catalog is valid, complete, and its spec API behaves."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.conftest import CATALOG
from workbench.catalog import load_catalog_spec, parse_duration
from workbench.catalog.loader import interpolate
from workbench.core.errors import InterpolationError, UnknownDatasetError


def test_project_catalog_is_valid_and_covers_every_kind_and_layer():
    spec = load_catalog_spec(CATALOG)
    assert {d.kind for d in spec.datasets} == {"table", "cube", "frames", "raster"}
    assert {d.layer for d in spec.datasets} == {"bronze", "silver", "gold", "ops"}
    for name in ("gold.fact_load", "gold.fact_generation", "gold.fact_market_prices"):
        assert spec.dataset(name).kind == "table"


def test_platform_scada_columns_are_declared():
    spec = load_catalog_spec(CATALOG)
    raw = spec.dataset("bronze.raw_scada").columns
    assert {"timestamp", "asset_id", "value", "quality_code"} <= set(raw)
    clean = spec.dataset("silver.scada_cleaned").columns
    assert set(clean) == {
        "record_id",
        "timestamp",
        "asset_id",
        "value_mw",
        "quality_code",
        "quality_status",
    }


def test_locations_are_interpolated_under_workbench_home(workbench_home):
    spec = load_catalog_spec(CATALOG)
    assert spec.dataset("bronze.pmu").location == f"{workbench_home}/lake/bronze/pmu.zarr"
    assert spec.warehouses["default"].url == f"duckdb:///{workbench_home}/warehouse.duckdb"


def test_environment_overrides_the_default(monkeypatch, tmp_path):
    monkeypatch.setenv("WORKBENCH_LAKE", str(tmp_path / "lake"))
    monkeypatch.setenv("WORKBENCH_WAREHOUSE", "postgres://analyst@localhost:5432/grid")
    spec = load_catalog_spec(CATALOG)
    assert spec.dataset("bronze.meter_reads").location == f"{tmp_path}/lake/bronze/meter_reads"
    assert spec.warehouses["default"].url == "postgres://analyst@localhost:5432/grid"


@pytest.mark.parametrize(
    ("text", "env", "expected"),
    [
        ("${A}", {"A": "x"}, "x"),
        ("${A:-d}", {}, "d"),
        ("${A:-d}", {"A": ""}, "d"),
        ("pre/${A:-${B}/z}/post", {"B": "b"}, "pre/b/z/post"),
        ("no vars, a $ sign", {}, "no vars, a $ sign"),
    ],
)
def test_interpolate(text, env, expected):
    assert interpolate(text, env) == expected


@pytest.mark.parametrize("text", ["${A", "${}", "${1A}", "${A-B}"])
def test_interpolate_rejects_malformed(text):
    with pytest.raises(InterpolationError, match="malformed interpolation"):
        interpolate(text, {"A": "x"})


@pytest.mark.parametrize(
    ("text", "seconds"), [("2s", 2), ("5min", 300), ("1h", 3600), ("7d", 604800), ("16ms", 0.016)]
)
def test_parse_duration(text, seconds):
    assert parse_duration(text) == timedelta(seconds=seconds)


def test_parse_duration_rejects_garbage():
    with pytest.raises(ValueError, match="expected a duration"):
        parse_duration("5 minutes")


def test_unknown_dataset_suggests_the_closest_names():
    spec = load_catalog_spec(CATALOG)
    with pytest.raises(UnknownDatasetError) as info:
        spec.dataset("gold.fact_lod")
    assert info.value.suggestions[0] == "gold.fact_load"
    assert "did you mean 'gold.fact_load'" in str(info.value)


def test_unknown_dataset_far_from_everything_points_to_the_list():
    spec = load_catalog_spec(CATALOG)
    with pytest.raises(UnknownDatasetError, match="workbench catalog list"):
        spec.dataset("zzz")
