"""Every command refuses bad input the same way: non-zero exit, one line that names what was
expected and what was found, no traceback, nothing written.

The cases are in :mod:`tests.cli.bad_inputs.cases`, the files in :mod:`tests.cli.bad_inputs.files`.
They run in-process through :func:`workbench.cli.main.main` (the ``workbench`` entry point), except
the commands that would start a server, which run as real processes with a time limit.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.cli.bad_inputs.cases import CASES, Case
from tests.cli.bad_inputs.files import make_files

ROOT = Path(__file__).resolve().parents[3]
PLACEHOLDER = re.compile(r"\{(file:[a-z_]+|out|tmp)\}")


def _argv(case: Case, files: dict[str, Path], tmp: Path) -> list[str]:
    def fill(match: re.Match[str]) -> str:
        key = match.group(1)
        if key.startswith("file:"):
            return str(files[key[5:]])
        return str(tmp / "out") if key == "out" else str(tmp)

    return [PLACEHOLDER.sub(fill, arg) for arg in case.argv]


def _snapshot(folder: Path) -> dict[str, tuple[int, int]]:
    """Every file and folder under ``folder`` with its size and modification time."""
    found = {}
    for path in folder.rglob("*"):
        stat = path.lstat()
        found[str(path.relative_to(folder))] = (stat.st_size, stat.st_mtime_ns)
    return found


def _run_in_process(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    from workbench.cli.main import main

    old = sys.argv
    sys.argv = ["workbench", *argv]
    try:
        main()
        code = 0
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 1
    finally:
        sys.argv = old
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def _run_process(argv: list[str]) -> tuple[int, str, str]:
    out = subprocess.run(
        [sys.executable, "-m", "workbench.cli.main", *argv],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=ROOT,
        env={**os.environ, "COLUMNS": "200"},
    )
    return out.returncode, out.stdout, out.stderr


def test_serve_checks_the_auth_modes_the_server_knows():
    from workbench.apps.server import AUTH_MODES
    from workbench.cli.serve_cmd import AUTH_MODES as CHECKED

    assert CHECKED == AUTH_MODES


def test_the_corpus_is_large_and_ids_are_unique():
    ids = [case.id for case in CASES]
    assert len(ids) == len(set(ids))
    assert len(ids) >= 150


@pytest.fixture(scope="module")
def template(tmp_path_factory) -> tuple[Path, dict[str, Path]]:
    """The bad files, made once; each test gets its own copy (a command could damage one)."""
    folder = tmp_path_factory.mktemp("bad_inputs") / "files"
    return folder, make_files(folder)


def _copy(template: tuple[Path, dict[str, Path]], folder: Path) -> dict[str, Path]:
    source, files = template
    shutil.copytree(source, folder)
    return {name: folder / path.relative_to(source) for name, path in files.items()}


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_bad_input_is_refused_in_one_line(case, tmp_path, monkeypatch, capsys, template):
    monkeypatch.chdir(ROOT)
    monkeypatch.setenv("COLUMNS", "200")
    files = _copy(template, tmp_path / "files")
    argv = _argv(case, files, tmp_path)
    before = _snapshot(tmp_path)
    if case.subprocess:
        code, out, err = _run_process(argv)
    else:
        code, out, err = _run_in_process(argv, capsys)

    assert code != 0, f"exit 0 for bad input; stdout: {out[-500:]!r}"
    assert "Traceback" not in err + out
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1, f"expected one line on stderr; found {len(lines)}: {err[-800:]!r}"
    assert lines[0].startswith("error: ")
    message = lines[0].lower()
    assert any(word.lower() in message for word in case.mention), (
        f"expected the error to name one of {case.mention}; found {lines[0]!r}"
    )
    assert _snapshot(tmp_path) == before, "a refused command wrote or changed files"
