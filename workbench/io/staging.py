"""A build's private copy of a DuckDB warehouse, published in one short commit.

Why
---
DuckDB lets one process open a file read-write, or many processes open it read-only, never
both at once (a file lock). A medallion build that wrote the warehouse file in place held the
write lock for the whole build (a minute on the demo, more at scale), and every dashboard or
catalog reader meanwhile waited ``WORKBENCH_LOCK_TIMEOUT_S`` and failed with
:class:`~workbench.io.warehouse.WarehouseLockedError`.

How
---
1. :meth:`StagedWarehouse.begin` copies the warehouse file to ``<file>.build-<build_id>``
   while holding a *read-only* connection on it: readers go on reading, a writer waits for
   the copy (a second or so for the demo's 300 MB). The file's identity (inode, size,
   modification time, WAL) is noted.
2. The build writes the copy, in one transaction. Nobody else opens that file, so nobody
   waits for it: readers keep reading the warehouse as it was.
3. :meth:`StagedWarehouse.commit` checkpoints and closes the copy, opens the warehouse
   read-write (waiting out readers' short queries) and, holding that lock:

   - if the warehouse is unchanged since step 1, replaces it by the copy with one
     ``os.replace`` (atomic on POSIX): the write lock is held for milliseconds, readers that
     open the file afterwards see the whole build, and a reader that still had the old file
     open finishes on it (the old inode lives until closed);
   - if someone wrote meanwhile (a job publishing forecasts), copies the build's tables from
     the copy into the warehouse in one transaction instead (the build owns those tables), and
     the build's rows of the shared logs (``ops.build_runs``, ``ops.dq_results``). The lock is
     then held for that copy: longer, but correct.

4. A failed build removes its copy (:meth:`StagedWarehouse.discard`); one that was killed
   leaves it, and the next build removes it (:func:`stale_copies`) under the build lock
   (:func:`build_lock`), which also keeps two builds from running at once.

The commit is the single commit point of a build: before it the warehouse is the old one,
after it the new one, whatever happens to the process.

A server warehouse (PostgreSQL, Snowflake) needs none of this: MVCC gives readers the last
committed state while a transaction writes, so the build writes it in place, in one
transaction.
"""

from __future__ import annotations

import contextlib
import os
import shutil
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path

from workbench.io.warehouse import Warehouse, WarehouseError, split_name


class BuildInProgressError(WarehouseError):
    """Another build of the same warehouse holds the build lock."""


@contextlib.contextmanager
def build_lock(path: Path) -> Iterator[None]:
    """Hold an exclusive lock on ``path`` for one build; refuse if another build holds it.

    The lock is the kernel's (``flock``): a build that dies releases it with its process, so
    the next build can tell that whatever it left behind (staging copies, ``running`` rows)
    belongs to nobody.
    """
    import fcntl

    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_CREAT | os.O_RDWR, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 64, 0).decode(errors="replace").strip() or "unknown"
            msg = (
                f"expected no other build of this warehouse to be running; found one holding "
                f"{path} (pid {holder}). Wait for it to finish"
            )
            raise BuildInProgressError(msg) from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, str(os.getpid()).encode(), 0)
        yield
    finally:
        os.close(fd)  # releases the lock


def _wal(path: Path) -> Path:
    return path.with_name(path.name + ".wal")


def _identity(path: Path) -> tuple[int, int, int, bool]:
    st = path.stat()
    return (st.st_ino, st.st_size, st.st_mtime_ns, _wal(path).exists())


def stale_copies(path: Path) -> list[Path]:
    """Remove staging copies of ``path`` left by builds that died; returns them.

    Call it only while holding :func:`build_lock`: then no live build owns a copy.
    """
    removed = []
    for copy in sorted(path.parent.glob(f"{path.name}.build-*")):
        copy.unlink(missing_ok=True)
        removed.append(copy)
    return removed


class StagedWarehouse:
    """A build's copy of a DuckDB warehouse file (see the module docstring).

    Parameters
    ----------
    main : Warehouse
        The warehouse (a ``duckdb:///`` file) the build publishes to; closed by :meth:`begin`
        so that the build holds no lock on it.
    build_id : str
        Names the copy ``<file>.build-<build_id>``.
    """

    def __init__(self, main: Warehouse, build_id: str) -> None:
        path = main.duckdb_path
        if path is None:
            msg = f"expected a DuckDB warehouse file to stage; found {main!r}"
            raise WarehouseError(msg)
        self.main = main
        self.path = path
        self.copy = path.with_name(f"{path.name}.build-{build_id}")
        self.warehouse = Warehouse(f"duckdb:///{self.copy}", lock_timeout_s=0)
        self._identity: tuple[int, int, int, bool] | None = None

    def begin(self) -> Warehouse:
        """Copy the warehouse (under a read-only lock) and return the copy, opened."""
        self.main.close()
        reader = Warehouse(self.main.url, read_only=True, lock_timeout_s=self.main.lock_timeout_s)
        try:
            reader.con  # noqa: B018 (connecting takes the shared lock: no writer meanwhile)
            self._identity = _identity(self.path)
            shutil.copyfile(self.path, self.copy)
            if _wal(self.path).exists():  # left by a writer that died: replayed on open
                shutil.copyfile(_wal(self.path), _wal(self.copy))
        finally:
            reader.close()
        return self.warehouse

    def commit(self, tables: Sequence[str], logs: Mapping[str, tuple[str, str]]) -> str:
        """Publish the copy; returns ``"swapped"`` or ``"merged"`` (see the module docstring).

        Parameters
        ----------
        tables : sequence of str
            ``schema.table`` the build rewrote: copied whole when the warehouse has changed.
        logs : mapping of str to (column, value)
            Shared tables where only the rows with ``column = value`` are the build's.
        """
        self.warehouse.execute("CHECKPOINT")
        self.warehouse.close()
        writer = Warehouse(self.main.url, lock_timeout_s=self.main.lock_timeout_s)
        try:
            writer.con  # noqa: B018 (the write lock: readers wait for the next few ms)
            if _identity(self.path) == self._identity and not _wal(self.copy).exists():
                os.replace(self.copy, self.path)
                return "swapped"
            self._merge(writer, tables, logs)
            return "merged"
        finally:
            writer.close()
            self.discard()

    def _merge(
        self, writer: Warehouse, tables: Sequence[str], logs: Mapping[str, tuple[str, str]]
    ) -> None:
        execute = writer._raw_execute()
        escaped = str(self.copy).replace("'", "''")
        execute(f"ATTACH '{escaped}' AS build_copy (READ_ONLY)")
        try:
            with writer.transaction():
                for qualified in tables:
                    db, table = split_name(qualified)
                    target, source = f'"{db}"."{table}"', f'build_copy."{db}"."{table}"'
                    if writer.exists(qualified):
                        execute(f"DELETE FROM {target}")
                        execute(f"INSERT INTO {target} BY NAME SELECT * FROM {source}")
                    else:
                        execute(f"CREATE TABLE {target} AS SELECT * FROM {source}")
                for qualified, (column, value) in logs.items():
                    db, table = split_name(qualified)
                    target, source = f'"{db}"."{table}"', f'build_copy."{db}"."{table}"'
                    literal = "'" + value.replace("'", "''") + "'"
                    where = f'WHERE "{column}" = {literal}'
                    if not writer.exists(qualified):
                        execute(f"CREATE TABLE {target} AS SELECT * FROM {source} {where}")
                        continue
                    execute(f"DELETE FROM {target} {where}")
                    execute(f"INSERT INTO {target} BY NAME SELECT * FROM {source} {where}")
        finally:
            execute("DETACH build_copy")

    def discard(self) -> None:
        """Remove the copy (a failed or finished build)."""
        self.warehouse.close()
        self.copy.unlink(missing_ok=True)
        _wal(self.copy).unlink(missing_ok=True)


__all__ = ["BuildInProgressError", "StagedWarehouse", "build_lock", "stale_copies"]
