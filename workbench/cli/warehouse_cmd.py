"""``workbench warehouse roles``: the writer and read-only roles of a PostgreSQL warehouse."""

from __future__ import annotations

import typer

from workbench.cli.console import console

app = typer.Typer(
    help="The shared warehouse: roles and privileges."
    "\n\nExample:\n    workbench warehouse roles --print-sql > roles.sql",
    no_args_is_help=True,
)


@app.command("roles")
def roles(
    print_sql: bool = typer.Option(
        False, "--print-sql", help="Print the SQL instead of running it (for a DBA to review)."
    ),
    database: str = typer.Option(
        None, help="Database name for --print-sql; default: the one of WORKBENCH_WAREHOUSE."
    ),
    writer: str = typer.Option("workbench_writer", help="Role of builds and jobs."),
    reader: str = typer.Option("workbench_reader", help="Read-only role (gold and ops)."),
) -> None:
    """Create a writer role (owns the layer schemas) and a reader role (SELECT on gold, ops).

    Without --print-sql the SQL runs on WORKBENCH_WAREHOUSE, which must connect as a superuser
    or the database owner. Set the roles' passwords afterwards (ALTER ROLE ... PASSWORD).

    Example:
        WORKBENCH_WAREHOUSE=postgresql://admin@db/grid workbench warehouse roles
    """
    from workbench.core.config import default_warehouse_url
    from workbench.io.roles import apply_roles, database_of, roles_sql

    if print_sql:
        name = database or database_of(default_warehouse_url())
        typer.echo(roles_sql(database=name, writer=writer, reader=reader), nl=False)
        return
    url = default_warehouse_url()
    apply_roles(url, writer=writer, reader=reader)
    console.print(
        f"roles ready: {writer} (builds, jobs: owns bronze, silver, gold, ops) and {reader} "
        "(SELECT on gold, ops). Set their passwords with ALTER ROLE ... PASSWORD."
    )
