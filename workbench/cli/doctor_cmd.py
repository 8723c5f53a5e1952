"""``workbench doctor``: is this installation ready? Versions, catalog, warehouse, kernel..."""

from __future__ import annotations

import shutil
import sys
from dataclasses import dataclass
from glob import glob
from importlib import metadata
from pathlib import Path

import typer
from rich.table import Table

from workbench.cli.console import console

PACKAGES = (
    "gridmind-workbench",
    "ibis-framework",
    "duckdb",
    "sqlglot",
    "pandas",
    "polars",
    "pyarrow",
    "xarray",
    "zarr",
    "dask",
    "rasterio",
    "pvlib",
    "lightgbm",
    "darts",
    "sktime",
    "torch",
    "optuna",
    "papermill",
    "marimo",
    "panel",
    "playwright",
)


@dataclass
class Check:
    name: str
    status: str  # ok, warn, fail
    detail: str


def _versions() -> Check:
    found, missing = [], []
    for pkg in PACKAGES:
        try:
            found.append(f"{pkg} {metadata.version(pkg)}")
        except metadata.PackageNotFoundError:
            missing.append(pkg)
    detail = ", ".join(found) + (f"; not installed: {', '.join(missing)}" if missing else "")
    return Check("packages", "warn" if missing else "ok", detail)


def _catalog() -> tuple[Check, object | None]:
    from workbench.core.errors import WorkbenchError
    from workbench.io.catalog import open_catalog

    try:
        cat = open_catalog()
    except WorkbenchError as exc:
        return Check("catalog", "fail", str(exc).splitlines()[0]), None
    return Check("catalog", "ok", f"{len(cat)} datasets in {cat.path}"), cat


def _warehouse(cat) -> Check:
    from workbench.core.errors import WorkbenchError

    if cat is None:
        return Check("warehouse", "fail", "no catalog, so no warehouse URL")
    from workbench.io.warehouse import Warehouse

    try:
        wh = cat.warehouse()
        if wh.backend_name != "duckdb":  # a server: look, don't create schemas (any role)
            wh = Warehouse(wh.url, read_only=True)
        wh.ping()
        visible = set(wh.con.list_databases())
        layers = ("bronze", "silver", "gold", "ops")
        tables = sum(len(wh.list_tables(s)) for s in layers if s in visible)
        detail = f"{wh!r} answers; {tables} tables"
        if wh.user:
            access = wh.schema_access(layers)
            said = {"write": "writes", "read": "reads only", "none": "cannot read"}
            parts = [
                f"{verb} {', '.join(s for s in layers if access[s] == a)}"
                for a, verb in said.items()
                if a in access.values()
            ]
            detail += f"; role {wh.user!r} {'; '.join(parts)}"
    except WorkbenchError as exc:
        return Check("warehouse", "fail", str(exc).splitlines()[0])
    return Check("warehouse", "ok", detail)


def _kernel() -> Check:
    try:
        from jupyter_client.kernelspec import KernelSpecManager
    except ImportError:
        return Check(
            "kernel", "warn", "jupyter_client missing: pip install 'gridmind-workbench[notebooks]'"
        )
    specs = KernelSpecManager().find_kernel_specs()
    if "gridmind" in specs:
        return Check("kernel", "ok", f"'gridmind' at {specs['gridmind']}")
    return Check("kernel", "warn", "kernel 'gridmind' not registered: run `make install`")


def _chromium() -> Check:
    path = shutil.which("chromium") or shutil.which("chromium-browser")
    if path:
        return Check("chromium", "ok", path)
    return Check(
        "chromium", "warn", "not found (dashboard browser tests need it): apt-get install chromium"
    )


def _postgres() -> Check:
    initdb = sorted(glob("/usr/lib/postgresql/*/bin/initdb"))
    if initdb:
        return Check("postgresql", "ok", initdb[-1])
    return Check(
        "postgresql", "warn", "not found (portability tests need it): apt-get install postgresql"
    )


def _home() -> Check:
    from workbench.core.config import workbench_home

    home = workbench_home()
    probe = home if home.exists() else next((p for p in home.parents if p.exists()), Path("/"))
    free_gb = shutil.disk_usage(probe).free / 1e9
    return Check(
        "WORKBENCH_HOME", "ok" if free_gb > 2 else "warn", f"{home} ({free_gb:.0f} GB free)"
    )


def doctor() -> None:
    """Check versions, catalog, warehouse, the Jupyter kernel, Chromium and PostgreSQL.

    Example:
        workbench doctor
    """
    cat_check, cat = _catalog()
    checks = [
        Check("python", "ok", sys.version.split()[0] + f" at {sys.executable}"),
        _versions(),
        _home(),
        cat_check,
        _warehouse(cat),
        _kernel(),
        _chromium(),
        _postgres(),
    ]
    style = {"ok": "green", "warn": "yellow", "fail": "bold red"}
    table = Table(title="workbench doctor", title_justify="left")
    table.add_column("check")
    table.add_column("status")
    table.add_column("detail", overflow="fold")
    for c in checks:
        table.add_row(c.name, f"[{style[c.status]}]{c.status}[/]", c.detail)
    console.print(table)
    failed = [c.name for c in checks if c.status == "fail"]
    if failed:
        console.print(f"[bold red]doctor: {len(failed)} check(s) failed: {', '.join(failed)}[/]")
        raise typer.Exit(1)
