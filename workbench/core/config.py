"""Where the workbench keeps its data and finds its catalog.

``WORKBENCH_HOME`` holds the embedded lakehouse (the DuckDB warehouse file, the lake of
Parquet and Zarr stores, job runs, the model registry). Resolution order:

1. the ``WORKBENCH_HOME`` environment variable;
2. ``.workbench/`` in the project root (the nearest folder above the working directory
   that holds a ``data_catalog.yaml``), so notebooks in ``notebooks/...`` find the same data;
3. ``~/.gridmind``.

The catalog file is ``WORKBENCH_CATALOG`` if set, else the project root's ``data_catalog.yaml``.
"""

from __future__ import annotations

import os
from pathlib import Path

CATALOG_FILENAME = "data_catalog.yaml"
HOME_ENV = "WORKBENCH_HOME"
CATALOG_ENV = "WORKBENCH_CATALOG"
WAREHOUSE_ENV = "WORKBENCH_WAREHOUSE"


def project_root(start: Path | None = None) -> Path | None:
    """The nearest folder at or above ``start`` (default: cwd) holding a ``data_catalog.yaml``."""
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if (folder / CATALOG_FILENAME).is_file():
            return folder
    return None


def workbench_home() -> Path:
    """The folder that holds the embedded lakehouse; created on first use by writers."""
    env = os.environ.get(HOME_ENV)
    if env:
        return Path(env).expanduser().resolve()
    root = project_root()
    if root is not None:
        return root / ".workbench"
    return Path.home() / ".gridmind"


def default_catalog_path() -> Path:
    """The catalog file to open when none is named."""
    from workbench.core.errors import CatalogError

    env = os.environ.get(CATALOG_ENV)
    if env:
        return Path(env).expanduser()
    root = project_root()
    if root is not None:
        return root / CATALOG_FILENAME
    msg = (
        f"expected a {CATALOG_FILENAME} in {Path.cwd()} or a folder above it; found none. "
        f"Run from the project folder or set {CATALOG_ENV}=/path/to/{CATALOG_FILENAME}"
    )
    raise CatalogError(msg)


def default_warehouse_url() -> str:
    """``WORKBENCH_WAREHOUSE`` if set, else a DuckDB file under ``WORKBENCH_HOME``."""
    return os.environ.get(WAREHOUSE_ENV) or f"duckdb:///{workbench_home() / 'warehouse.duckdb'}"
