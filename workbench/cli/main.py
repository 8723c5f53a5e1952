"""Entry point of the ``workbench`` command.

Every command exits non-zero on failure with a one-line error (the full traceback only with
``WORKBENCH_DEBUG=1``).
"""

from __future__ import annotations

import os
import sys

import typer
from rich.markup import escape

# typer 0.29 vendors click; its usage errors are only importable from here
from typer._click.exceptions import BadParameter, NoArgsIsHelpError, UsageError

from workbench.cli import (
    anomaly_cmd,
    build_cmd,
    catalog_cmd,
    demo_cmd,
    doctor_cmd,
    forecast_cmd,
    jobs_cmd,
    market_cmd,
    mcp_cmd,
    meters_cmd,
    models_cmd,
    serve_cmd,
    sim_cmd,
    warehouse_cmd,
)
from workbench.cli.console import err_console
from workbench.cli.helptext import plain_help
from workbench.core.errors import WorkbenchError

app = typer.Typer(
    name="workbench",
    help="GridMind Workbench: data catalog, demo lakehouse, forecasts and jobs for grid data."
    "\n\nExample:\n    workbench catalog list",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
app.add_typer(catalog_cmd.app, name="catalog")
app.add_typer(demo_cmd.app, name="demo")
app.add_typer(sim_cmd.app, name="sim")
app.add_typer(anomaly_cmd.app, name="anomaly")
app.add_typer(jobs_cmd.app, name="jobs")
app.add_typer(market_cmd.app, name="market")
app.add_typer(meters_cmd.app, name="meters")
app.add_typer(models_cmd.app, name="models")
app.add_typer(forecast_cmd.app, name="forecast")
app.add_typer(warehouse_cmd.app, name="warehouse")
app.command("doctor")(doctor_cmd.doctor)
app.command("build")(build_cmd.build)
app.command("serve")(serve_cmd.serve)
app.command("mcp")(mcp_cmd.mcp)


def _version(value: bool) -> None:
    if value:
        from workbench import __version__

        typer.echo(__version__)
        raise typer.Exit(0)


@app.callback()
def _root(
    version: bool = typer.Option(
        False, "--version", help="Print the version and exit.", is_eager=True, callback=_version
    ),
) -> None:
    """GridMind Workbench."""


def command() -> typer.core.TyperGroup:
    """The ``workbench`` command tree as it runs: every command with plain help (helptext.py)."""
    return plain_help(typer.main.get_command(app))


def _given(exc: BadParameter, argv: list[str]) -> str | None:
    """The text the user gave for the parameter ``exc`` is about, if it was on the command line."""
    opts = getattr(exc.param, "opts", None) or []
    for i, arg in enumerate(argv):
        for opt in opts:
            if arg == opt and i + 1 < len(argv):
                return argv[i + 1]
            if arg.startswith(f"{opt}="):
                return arg[len(opt) + 1 :]
    return None


def _usage_line(exc: UsageError, argv: list[str]) -> str:
    """One line for a bad option or argument: what was wrong, what was given, where the help is."""
    message = " ".join(exc.format_message().split()).rstrip(".")
    given = _given(exc, argv) if isinstance(exc, BadParameter) else None
    found = f"; found {given!r}" if given is not None and given not in message else ""
    where = exc.ctx.command_path if exc.ctx is not None else "workbench"
    return f"{message[:1].lower()}{message[1:]}{found} (see '{where} --help')"


def _fail(first: str, rest: list[str] | None = None, code: int = 1) -> None:
    err_console.print(f"[bold red]error:[/] {first}", highlight=False, soft_wrap=True, markup=True)
    for line in rest or []:
        err_console.print(line, highlight=False, soft_wrap=True, markup=False)
    sys.exit(code)


def main() -> None:
    """Run the CLI; every failure becomes one red line on stderr and a non-zero exit code.

    Workbench errors exit 1, usage errors (unknown option, bad value, missing argument) exit 2;
    the full traceback only with ``WORKBENCH_DEBUG=1``.
    """
    try:
        code = command()(standalone_mode=False)
    except NoArgsIsHelpError as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except UsageError as exc:
        if os.environ.get("WORKBENCH_DEBUG"):
            raise
        _fail(escape(_usage_line(exc, sys.argv[1:])), code=exc.exit_code)
    except typer.TyperException as exc:  # a click error that is not a usage error (a bad file)
        if os.environ.get("WORKBENCH_DEBUG"):
            raise
        _fail(escape(" ".join(exc.format_message().split())), code=exc.exit_code)
    except typer.Abort:
        _fail("aborted", code=1)
    except WorkbenchError as exc:
        if os.environ.get("WORKBENCH_DEBUG"):
            raise
        first, *rest = str(exc).splitlines() or [type(exc).__name__]
        _fail(escape(first), rest)
    sys.exit(code if isinstance(code, int) else 0)


if __name__ == "__main__":
    main()
