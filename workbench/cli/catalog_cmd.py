"""``workbench catalog list | describe NAME``."""

from __future__ import annotations

import typer
from rich.table import Table

from workbench.cli.console import console

app = typer.Typer(help="Browse the data catalog (data_catalog.yaml).", no_args_is_help=True)


@app.command("list")
def list_(
    layer: str = typer.Option(
        None, "--layer", "-l", help="Only this layer: bronze, silver, gold, ops."
    ),
    catalog: str = typer.Option(None, "--catalog", help="Catalog file (default: the project's)."),
) -> None:
    """List every dataset with its kind, layer and description."""
    from workbench.io.catalog import open_catalog

    cat = open_catalog(catalog)
    table = Table(title=f"{len(cat.list(layer))} datasets in {cat.path}", title_justify="left")
    for col in ("name", "kind", "resolution", "owner", "description"):
        table.add_column(col, overflow="fold")
    for name in cat.list(layer):
        e = cat.entry(name)
        table.add_row(e.name, e.kind, e.resolution, e.owner, e.description)
    console.print(table)


@app.command("describe")
def describe(
    name: str = typer.Argument(..., help="Dataset name, e.g. gold.fact_load."),
    catalog: str = typer.Option(None, "--catalog", help="Catalog file (default: the project's)."),
) -> None:
    """Describe one dataset: location, key, time, lag, columns with types and units."""
    from workbench.io.catalog import open_catalog

    cat = open_catalog(catalog)
    console.print(str(cat.describe(name)), highlight=False, soft_wrap=True)
