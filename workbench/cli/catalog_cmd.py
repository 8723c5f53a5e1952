"""``workbench catalog list | describe NAME``."""

from __future__ import annotations

import typer

from workbench.cli.console import console
from workbench.cli.output import emit, format_option

app = typer.Typer(
    help="Browse the data catalog (data_catalog.yaml)."
    "\n\nExample:\n    workbench catalog describe gold.fact_load",
    no_args_is_help=True,
)


@app.command("list")
def list_(
    layer: str = typer.Option(
        None, "--layer", "-l", help="Only this layer: bronze, silver, gold, ops."
    ),
    catalog: str = typer.Option(None, "--catalog", help="Catalog file (default: the project's)."),
    fmt: str = format_option(),
) -> None:
    """List every dataset with its kind, layer and description (names never cut).

    Example:
        workbench catalog list --layer gold
    """
    from workbench.cli.output import check_format
    from workbench.io.catalog import open_catalog

    check_format(fmt)
    cat = open_catalog(catalog)
    rows = []
    for name in cat.list(layer):
        e = cat.entry(name)
        rows.append(
            {
                "name": e.name,
                "kind": e.kind,
                "resolution": e.resolution,
                "owner": e.owner,
                "description": e.description,
            }
        )
    title = f"{len(rows)} datasets in {cat.path}"
    emit(rows, fmt, ["name", "kind", "resolution", "owner", "description"], title=title)


@app.command("describe")
def describe(
    name: str = typer.Argument(..., help="Dataset name, e.g. gold.fact_load."),
    catalog: str = typer.Option(None, "--catalog", help="Catalog file (default: the project's)."),
) -> None:
    """Describe one dataset: location, key, time, lag, columns with types and units.

    Example:
        workbench catalog describe gold.fact_load
    """
    from workbench.io.catalog import open_catalog

    cat = open_catalog(catalog)
    console.print(str(cat.describe(name)), highlight=False, soft_wrap=True)
