"""Plain ``--help`` for every command: no Python types, usages that read like usages.

Typer 0.29 shows each parameter's Python type (``--help <bool>``, ``--param <list[str]>``) and
writes a required argument as ``{name}`` in the usage line. :func:`plain_help` walks the whole
command tree once, so every command — including ones added later — is shown the click way:
flags have no metavar, a value option shows what it takes (``TEXT``, ``INTEGER``, ``PATH``, or its
choices ``a|b``), and arguments read ``NAME`` (required) or ``[NAME]`` (optional).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

# typer 0.29 vendors click; a Context is what builds a command's --help option
from typer._click import Context
from typer.core import TyperArgument, TyperOption

# typer's type label (without the angle brackets) -> the word the help shows
WORDS = {
    "str": "TEXT",
    "int": "INTEGER",
    "float": "FLOAT",
    "path": "PATH",
    "file": "FILE",
    "dir": "DIRECTORY",
    "datetime": "DATETIME",
    "int range": "INTEGER",
    "float range": "FLOAT",
}


def _word(param: TyperOption | TyperArgument, ctx: Any) -> str:
    """The value placeholder: a choice list as it is, a Python type as click's word for it."""
    label = TyperOption.display_type(param, ctx).removeprefix("<").removesuffix(">")
    if param.type_descriptor.is_choice:
        return label.removeprefix("list[").removesuffix("]")
    inner = label.removeprefix("list[").removesuffix("]")
    return WORDS.get(inner, inner.upper())


class PlainOption(TyperOption):
    """A typer option whose help shows no type for flags and click's words for values."""

    def display_type_rich(self, ctx: Any) -> str | None:
        if self.metavar is not None:
            return self.metavar
        if self.is_flag:
            return None
        word = _word(self, ctx)
        return f"{word}..." if self.nargs != 1 else word


class PlainArgument(TyperArgument):
    """A typer argument named ``NAME`` / ``[NAME]`` in the usage, without its Python type."""

    @property
    def display_name_raw(self) -> str:
        return self.metavar if self.metavar is not None else (self.name or "").upper()

    def display_type_rich(self, ctx: Any) -> str | None:
        return None

    def get_usage_pieces(self, ctx: Any) -> list[str]:
        name = self.display_name_raw if self.required else f"[{self.display_name_raw}]"
        return [f"{name}..." if self.nargs != 1 else name]


def walk(command: Any, path: tuple[str, ...] = ()) -> Iterator[tuple[tuple[str, ...], Any]]:
    """Every command of a click/typer tree with its path from the root, groups included."""
    path = path or (command.name or "workbench",)
    yield path, command
    for name, sub in sorted(getattr(command, "commands", {}).items()):
        yield from walk(sub, (*path, name))


def plain_help(command: Any) -> Any:
    """Give every parameter of ``command`` and its subcommands the plain help look; returns it.

    Parameters
    ----------
    command
        The root of a command tree built by ``typer.main.get_command``; changed in place.

    Examples
    --------
    >>> import typer.main
    >>> from workbench.cli.main import app
    >>> root = plain_help(typer.main.get_command(app))
    """
    for _, cmd in walk(command):
        help_option = cmd.get_help_option(Context(cmd))  # built once and cached by the command
        for param in [*cmd.params, *([help_option] if help_option else [])]:
            if type(param) is TyperOption:
                param.__class__ = PlainOption
            elif type(param) is TyperArgument:
                param.__class__ = PlainArgument
    return command
