"""Notebook discovery and the execution-time summary printed at the end of the session."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOK_DIRS = (ROOT / "notebooks", ROOT / "pipelines" / "papermill" / "notebooks")
TIMINGS: dict[str, float] = {}


def jupyter_notebooks() -> list[Path]:
    """Every committed Jupyter notebook (the .ipynb side of each jupytext pair)."""
    return sorted(p for d in NOTEBOOK_DIRS if d.exists() for p in d.rglob("*.ipynb"))


def marimo_notebooks() -> list[Path]:
    """Every marimo notebook: a plain .py that builds ``app = marimo.App(...)``."""
    return sorted(
        p
        for d in NOTEBOOK_DIRS
        if d.exists()
        for p in d.rglob("*.py")
        if "marimo.App(" in p.read_text()
    )


def rel(path: Path) -> str:
    return str(path.relative_to(ROOT))


@pytest.fixture
def timed():
    """Record how long a notebook takes, for the summary at the end of the session."""

    class _Timer:
        def __call__(self, name: str):
            self.name = name
            return self

        def __enter__(self):
            self.t0 = time.perf_counter()

        def __exit__(self, *exc):
            TIMINGS[self.name] = time.perf_counter() - self.t0

    return _Timer()


def pytest_terminal_summary(terminalreporter) -> None:
    if not TIMINGS:
        return
    terminalreporter.section("notebook execution times")
    for name, seconds in sorted(TIMINGS.items(), key=lambda kv: -kv[1]):
        terminalreporter.write_line(f"{seconds:7.1f} s  {name}")
    terminalreporter.write_line(f"{sum(TIMINGS.values()):7.1f} s  total ({len(TIMINGS)} notebooks)")


def project_copy(dst: Path) -> Path:
    """A git repository holding the project's files as they are now (tracked and new, not ignored).

    Saves in JupyterLab write into it, and ``git status --porcelain`` there shows what a user's
    session would leave behind in their checkout.
    """
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT, capture_output=True, check=True,
    ).stdout.decode().split("\0")  # fmt: skip
    for name in filter(None, listed):
        src = ROOT / name
        if src.is_file():  # a file deleted but not yet staged is listed too
            (dst / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dst / name)
    git = ["git", "-c", "user.name=test", "-c", "user.email=test@localhost"]
    for args in (["init", "-q"], ["add", "-A"], ["commit", "-q", "-m", "copy"]):
        subprocess.run([*git, *args], cwd=dst, check=True)
    return dst


def git_status(repo: Path) -> list[str]:
    """``git status --porcelain`` lines of ``repo`` (empty when nothing changed)."""
    out = subprocess.run(
        ["git", "status", "--porcelain"], cwd=repo, capture_output=True, text=True, check=True
    ).stdout
    return out.splitlines()


class Lab:
    """JupyterLab started by ``env/lab.sh`` (what ``make lab`` runs) on a copy of the project."""

    def __init__(self, repo: Path, home: Path, log: Path) -> None:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        self.repo, self.token, self.log = repo, uuid.uuid4().hex, log
        self.url = f"http://127.0.0.1:{self.port}"
        env = {**os.environ, "WORKBENCH_HOME": str(home), "WORKBENCH_PYTHON": sys.executable}
        self._out = log.open("w")
        self.proc = subprocess.Popen(
            [
                str(repo / "env" / "lab.sh"),
                "--no-browser",
                "--ServerApp.ip=127.0.0.1",
                f"--ServerApp.port={self.port}",
                f"--IdentityProvider.token={self.token}",
            ],
            cwd=repo,
            env=env,
            stdout=self._out,
            stderr=subprocess.STDOUT,
        )

    def api(self, path: str, method: str = "GET", body: dict | None = None) -> dict:
        """Call the server's REST API with the token; the decoded JSON answer."""
        req = urllib.request.Request(
            f"{self.url}/api/{path}",
            data=None if body is None else json.dumps(body).encode(),
            headers={"Authorization": f"token {self.token}", "Content-Type": "application/json"},
            method=method,
        )
        with urllib.request.urlopen(req, timeout=30) as resp:
            return json.loads(resp.read())

    def wait(self, timeout_s: float = 120) -> Lab:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                pytest.fail(f"env/lab.sh exited {self.proc.returncode}:\n{self.log.read_text()}")
            try:
                self.api("status")
                return self
            except OSError:
                time.sleep(0.3)
        pytest.fail(f"JupyterLab did not answer in {timeout_s} s:\n{self.log.read_text()[-3000:]}")

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self._out.close()


@pytest.fixture(scope="module")
def lab(ci_medallion: Path, tmp_path_factory) -> Iterator[Lab]:
    """``env/lab.sh`` serving a copy of the project on a private copy of the ci medallion."""
    from tests.conftest import copy_home

    base = tmp_path_factory.mktemp("lab")
    repo = project_copy(base / "repo")
    home = copy_home(ci_medallion, base / "home")
    server = Lab(repo, home, base / "lab.log")
    try:
        yield server.wait()
    finally:
        server.stop()


@pytest.fixture
def notebook_home(ci_medallion, tmp_path, monkeypatch) -> Path:
    """A copy of the built ci lakehouse as WORKBENCH_HOME, matplotlib headless (per test)."""
    from tests.conftest import copy_home

    home = copy_home(ci_medallion, tmp_path / "home")
    monkeypatch.setenv("WORKBENCH_HOME", str(home))
    monkeypatch.setenv("MPLBACKEND", "Agg")
    return home
