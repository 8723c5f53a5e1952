"""Optional dependencies, loaded when a feature needs them.

Heavy libraries (torch, darts, dask, panel, rasterio, ...) are never imported by
``import workbench``; a feature calls :func:`require` at call time instead, which either
returns the module or raises :class:`MissingExtraError` naming the exact ``pip install``.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from types import ModuleType
from typing import Any

from workbench.core.errors import MissingExtraError

#: Which extra of ``gridmind-workbench`` provides each optional top-level module.
EXTRA_FOR_MODULE: dict[str, str] = {
    "xarray": "cubes",
    "zarr": "cubes",
    "dask": "cubes",
    "distributed": "cubes",
    "rasterio": "satellite",
    "pvlib": "sim",
    "holidays": "sim",
    "scipy": "sim",
    "pandera": "quality",
    "lightgbm": "forecast",
    "optuna": "forecast",
    "sklearn": "forecast",
    "sktime": "forecast",
    "darts": "forecast",
    "torch": "deep",
    "papermill": "notebooks",
    "jupytext": "notebooks",
    "nbformat": "notebooks",
    "jupyter_client": "notebooks",
    "marimo": "notebooks",
    "matplotlib": "notebooks",
    "panel": "apps",
    "bokeh": "apps",
    "playwright": "apps",
    "psycopg2": "postgres",
    "mcp": "agents",
    "langchain_core": "agents",
    "prefect": "team",
}


def require(module: str, extra: str | None = None, feature: str | None = None) -> ModuleType:
    """Import ``module`` or raise :class:`MissingExtraError` with the install command.

    Parameters
    ----------
    module : str
        Dotted module name, e.g. ``"dask.dataframe"``.
    extra : str, optional
        The extra that provides it; looked up in :data:`EXTRA_FOR_MODULE` by default.
    feature : str, optional
        What needs it, for the message (e.g. ``"scanning a frames dataset"``).
    """
    top = module.split(".")[0]
    try:
        return importlib.import_module(module)
    except ModuleNotFoundError as exc:
        if exc.name is not None and exc.name.split(".")[0] != top:
            raise  # a broken install of something else: don't disguise it
        raise MissingExtraError(module, extra or EXTRA_FOR_MODULE.get(top, "all"), feature) from exc


def lazy_attributes(package: str, where: Mapping[str, str]) -> Callable[[str], Any]:
    """A module ``__getattr__`` that imports each public name from its module on first use.

    ``__getattr__ = lazy_attributes(__name__, {"open_catalog": "workbench.io.catalog"})`` keeps
    ``import package`` light: the module behind a name is imported when the name is first read,
    and the value is cached in the package's namespace.
    """

    def module_getattr(name: str) -> Any:
        if name in where:
            import sys

            value = getattr(importlib.import_module(where[name]), name)
            setattr(sys.modules[package], name, value)
            return value
        msg = f"module {package!r} has no attribute {name!r}"
        raise AttributeError(msg)

    return module_getattr
