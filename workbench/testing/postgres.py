"""A throw-away PostgreSQL server: its own cluster in a temporary folder on a loopback port.

Uses Debian's ``postgresql`` binaries (``/usr/lib/postgresql/<v>/bin``). ``initdb`` and
``pg_ctl`` refuse to run as root, so as root they run as the ``postgres`` user.

>>> with TemporaryPostgres() as pg:  # doctest: +SKIP
...     url = pg.url  # postgres://postgres@127.0.0.1:PORT/postgres
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path

from workbench.core.errors import WorkbenchError


def find_bin_dir() -> Path:
    """The newest installed PostgreSQL ``bin`` folder."""
    found = sorted(
        glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(p.split("/")[4])
    )
    if not found:
        msg = (
            "expected PostgreSQL server binaries under /usr/lib/postgresql/*/bin; found none. "
            "Install them with: apt-get install -y postgresql (make test does it)"
        )
        raise WorkbenchError(msg)
    return Path(found[-1]).parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class TemporaryPostgres:
    """Start a PostgreSQL cluster in a temporary folder; stop and delete it on exit."""

    def __init__(self) -> None:
        self.bin = find_bin_dir()
        self.port = free_port()
        self.dir = Path(tempfile.mkdtemp(prefix="workbench-pg-"))
        self.data = self.dir / "data"
        self._as_postgres = os.geteuid() == 0

    @property
    def url(self) -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/postgres"

    def _run(self, *args: str) -> None:
        cmd = [str(self.bin / args[0]), *args[1:]]
        if self._as_postgres:
            cmd = ["runuser", "-u", "postgres", "--", *cmd]
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
        if done.returncode != 0:
            output = done.stderr.strip() or done.stdout.strip()
            msg = f"{' '.join(args[:2])} failed ({done.returncode}): {output}"
            raise WorkbenchError(msg)

    def start(self) -> TemporaryPostgres:
        os.chmod(self.dir, 0o755)
        if self._as_postgres:
            shutil.chown(self.dir, "postgres", "postgres")
        self._run("initdb", "-D", str(self.data), "-A", "trust", "-U", "postgres", "-E", "UTF8")
        options = f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1 -c fsync=off"
        self._run(
            "pg_ctl",
            "-D",
            str(self.data),
            "-o",
            options,
            "-l",
            str(self.dir / "log"),
            "-w",
            "start",
        )
        return self

    def stop(self) -> None:
        try:
            if self.data.exists():
                self._run("pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "stop")
        finally:
            shutil.rmtree(self.dir, ignore_errors=True)

    def __enter__(self) -> TemporaryPostgres:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
