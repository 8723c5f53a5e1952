"""Every command's ``--help``: an example, no Python types, usages that read like usages.

The tree is walked from the registered commands, so commands added later are checked too.
"""

from __future__ import annotations

import re

import pytest

from workbench.cli.helptext import walk
from workbench.cli.main import command

ROOT_COMMAND = command()
COMMANDS = list(walk(ROOT_COMMAND))
TYPE_NOISE = re.compile(r"<(?:bool|str|int|float|path|list\[[^\]]*\]|datetime|[a-z ]+ range)>")


def _help(path: tuple[str, ...], capsys, monkeypatch) -> str:
    monkeypatch.setenv("COLUMNS", "80")
    monkeypatch.setenv("TERM", "dumb")
    code = ROOT_COMMAND.main(
        args=[*path[1:], "--help"], prog_name="workbench", standalone_mode=False
    )
    assert code in (0, None)
    return capsys.readouterr().out


def test_the_tree_has_every_group_and_command():
    names = {" ".join(path) for path, _ in COMMANDS}
    assert {"workbench", "workbench jobs run", "workbench forecast backtest"} <= names
    assert len(names) >= 30


@pytest.mark.parametrize(("path", "cmd"), COMMANDS, ids=[" ".join(p) for p, _ in COMMANDS])
def test_help_is_plain_and_has_an_example(path, cmd, capsys, monkeypatch):
    text = _help(path, capsys, monkeypatch)
    assert f"Usage: {' '.join(path)}" in text
    usage = next(line for line in text.splitlines() if "Usage:" in line)
    assert not re.search(r"[{}]", usage), usage
    assert re.search(r"^\s*Example:", text, re.M), f"{' '.join(path)} --help has no example"
    assert not TYPE_NOISE.search(text), TYPE_NOISE.search(text).group(0)
    assert re.search(r"--help\s+Show this message", text), "a flag shows a metavar"
    for param in cmd.params:
        for opt in (
            [*param.opts, *param.secondary_opts] if param.param_type_name == "option" else []
        ):
            assert re.search(rf"(?<![\w-]){re.escape(opt)}(?![\w-])", text), f"{opt} cut or missing"
    for name in getattr(cmd, "commands", {}):
        assert re.search(rf"│ {re.escape(name)}\s", text), f"command {name} cut or missing"


def test_a_value_option_shows_what_it_takes(capsys, monkeypatch):
    text = _help(("workbench", "jobs", "run"), capsys, monkeypatch)
    assert re.search(r"--jobs-dir\s+PATH\s", text)
    assert re.search(r"Usage: workbench jobs run \[OPTIONS\] NAME\s*$", text, re.M)
