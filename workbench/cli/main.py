"""Entry point of the ``workbench`` command.

Every command exits non-zero on failure with a one-line error (the full traceback only with
``WORKBENCH_DEBUG=1``).
"""

from __future__ import annotations

import os
import sys

import typer

from workbench.cli import catalog_cmd, demo_cmd, doctor_cmd
from workbench.cli.console import err_console
from workbench.core.errors import WorkbenchError

app = typer.Typer(
    name="workbench",
    help="GridMind Workbench: data catalog, demo lakehouse, forecasts and jobs for grid data.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
app.add_typer(catalog_cmd.app, name="catalog")
app.add_typer(demo_cmd.app, name="demo")
app.command("doctor")(doctor_cmd.doctor)


@app.callback()
def _root(
    version: bool = typer.Option(False, "--version", help="Print the version and exit."),
) -> None:
    if version:
        from workbench import __version__

        typer.echo(__version__)
        raise typer.Exit(0)


def main(argv: list[str] | None = None) -> None:
    """Run the CLI; workbench errors become one red line on stderr and exit code 1."""
    try:
        app(args=argv, standalone_mode=False)
    except WorkbenchError as exc:
        if os.environ.get("WORKBENCH_DEBUG"):
            raise
        first, *rest = str(exc).splitlines()
        err_console.print(f"[bold red]error:[/] {first}", highlight=False, soft_wrap=True)
        for line in rest:
            err_console.print(line, highlight=False, soft_wrap=True)
        sys.exit(1)
    except typer.Exit as exc:
        sys.exit(exc.exit_code)
    except typer.Abort:
        err_console.print("[red]aborted[/]")
        sys.exit(130)
    except Exception as exc:  # click usage errors and the like
        import click

        if isinstance(exc, click.exceptions.ClickException):
            exc.show()
            sys.exit(exc.exit_code)
        raise


if __name__ == "__main__":
    main()
