"""GridMind Workbench: notebook-native research and forecasting on power-grid data.

``import workbench`` is light: it loads no heavy library (torch, darts, dask, panel, rasterio,
sktime, lightgbm, not even Ibis or pandas). Everything below is imported on first use.

>>> from workbench import open_catalog
>>> cat = open_catalog()  # doctest: +SKIP
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from workbench.core.errors import (
    CatalogError,
    DataAccessError,
    MissingExtraError,
    SchemaError,
    WorkbenchError,
)

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


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        value = getattr(importlib.import_module(_LAZY[name]), name)
        globals()[name] = value
        return value
    msg = f"module 'workbench' has no attribute {name!r}"
    raise AttributeError(msg)


def __dir__() -> list[str]:
    return sorted(__all__)
