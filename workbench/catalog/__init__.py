"""The data catalog: what each dataset is (kind, location, schema with units, key, time,
availability lag), parsed from ``data_catalog.yaml`` and validated.

How to load a dataset lives in :mod:`workbench.io`; this package only describes data.
"""

from workbench.catalog.loader import load_catalog_spec, parse_catalog_spec
from workbench.catalog.schema import CatalogSpec, Column, DatasetSpec, parse_duration

__all__ = [
    "CatalogSpec",
    "Column",
    "DatasetSpec",
    "load_catalog_spec",
    "parse_catalog_spec",
    "parse_duration",
]
