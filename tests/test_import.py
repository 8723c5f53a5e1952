"""``import workbench`` stays light: no heavy library is loaded by it."""

from __future__ import annotations

import json
import subprocess
import sys

HEAVY = (
    "torch",
    "darts",
    "dask",
    "distributed",
    "panel",
    "rasterio",
    "sktime",
    "lightgbm",
    # not named by the issue, but the package imports none of these either
    "pandas",
    "ibis",
    "xarray",
    "polars",
    "pydantic",
)


def _loaded_after(statement: str) -> list[str]:
    code = (
        "import json, sys\n"
        f"{statement}\n"
        f"heavy = {HEAVY!r}\n"
        "print(json.dumps(sorted({m.split('.')[0] for m in sys.modules} & set(heavy))))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return json.loads(out.stdout)


def test_import_workbench_loads_no_heavy_library():
    assert _loaded_after("import workbench") == []


def test_the_check_itself_sees_heavy_imports():
    # guards the guard: the same probe does report a heavy library when one is imported
    assert _loaded_after("import workbench, pandas") == ["pandas"]


def test_public_names_resolve_lazily():
    import workbench

    assert callable(workbench.open_catalog)
    assert workbench.Warehouse.__name__ == "Warehouse"
    assert issubclass(workbench.CatalogError, workbench.WorkbenchError)
