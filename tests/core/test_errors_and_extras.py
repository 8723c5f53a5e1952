"""The error hierarchy and optional-dependency loading."""

from __future__ import annotations

import sys

import pytest

from workbench.core.errors import (
    CatalogError,
    DataAccessError,
    MissingColumnsError,
    MissingExtraError,
    SchemaError,
    UnknownDatasetError,
    WarehouseError,
    WorkbenchError,
)
from workbench.core.extras import require


@pytest.mark.parametrize(
    "error", [CatalogError, DataAccessError, SchemaError, WarehouseError, MissingExtraError]
)
def test_every_error_is_a_workbench_error(error):
    assert issubclass(error, WorkbenchError)


def test_missing_columns_lists_missing_and_available():
    err = MissingColumnsError("reading x", {"b"}, ["a", "c"])
    assert str(err) == "reading x: expected columns ['b'] are missing; found ['a', 'c']"


def test_unknown_dataset_is_also_a_key_error():
    err = UnknownDatasetError("gold.fact_lod", ["gold.fact_load"])
    assert isinstance(err, KeyError)
    assert str(err).startswith("no dataset named 'gold.fact_lod'")


def test_require_returns_the_module():
    assert require("json").dumps([1]) == "[1]"


def test_require_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "rasterio", None)
    with pytest.raises(MissingExtraError) as info:
        require("rasterio", feature="reading GeoTIFF rasters")
    assert "reading GeoTIFF rasters needs the optional dependency 'rasterio'" in str(info.value)
    assert "pip install 'gridmind-workbench[satellite]'" in str(info.value)
    assert isinstance(info.value, ImportError)


def test_require_with_an_explicit_extra():
    with pytest.raises(MissingExtraError, match=r"gridmind-workbench\[deep\]"):
        require("surely_not_installed_module_xyz", extra="deep")
