"""GridMind Workbench: notebook-native research and forecasting on power-grid data.

``import workbench`` is light: it loads no heavy library (torch, darts, dask, panel, rasterio,
sktime, lightgbm, not even Ibis or pandas). Everything below is imported on first use.

>>> from workbench import open_catalog
>>> cat = open_catalog()  # doctest: +SKIP
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from workbench.core.errors import (
    CatalogError,
    DataAccessError,
    MissingExtraError,
    SchemaError,
    WorkbenchError,
)
from workbench.core.extras import lazy_attributes

__version__ = "0.1.0"

__all__ = [
    "Catalog",
    "CatalogError",
    "DataAccessError",
    "MissingExtraError",
    "SchemaError",
    "Warehouse",
    "WorkbenchError",
    "__version__",
    "open_catalog",
]

_LAZY = {
    "open_catalog": "workbench.io.catalog",
    "Catalog": "workbench.io.catalog",
    "Warehouse": "workbench.io.warehouse",
}

if TYPE_CHECKING:
    from workbench.io.catalog import Catalog, open_catalog
    from workbench.io.warehouse import Warehouse


__getattr__ = lazy_attributes(__name__, _LAZY)
