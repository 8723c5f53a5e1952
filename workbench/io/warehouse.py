"""The warehouse accessor: Ibis over a backend chosen by URL.

``duckdb:///…`` (a file under ``WORKBENCH_HOME`` by default) or any Ibis URL
(``postgres://``, ``snowflake://``…). The schemas ``bronze``, ``silver``, ``gold`` and ``ops``
are created on first use. Writes are transactional: data is first staged in a temporary table,
then moved into the target inside one transaction, so a failed write leaves the target as it
was.

Readers and writers at once (DuckDB)
------------------------------------
A DuckDB file takes one read-write process *or* many read-only processes, never both: opening
it while another process holds a conflicting lock fails. The workbench's design for
dashboards reading while jobs write:

- **Short-lived connections.** Writers (jobs, builds) open the warehouse, write in one
  transaction and close it (``with Warehouse(url) as wh: ...``); readers open it read-only
  (``open_catalog(read_only=True)``), and a read-only catalog's ``read()`` closes its
  connection once the rows are materialised, so nobody holds the file for long.
- **Waiting, not failing, on the lock.** Opening a DuckDB file that another process holds
  retries with exponential backoff (from 50 ms, up to 1 s for readers and 0.2 s for writers)
  for ``lock_timeout_s`` (default ``WORKBENCH_LOCK_TIMEOUT_S`` or 30 s) before raising
  :class:`WarehouseLockedError`. A reader thus waits out a job's commit; a job waits out a
  dashboard's query.
- **Writers are not starved.** A writer that has to wait leaves ``<file>.write-pending``
  beside the DuckDB file; readers about to open the file wait while that marker is fresh, so
  the writer gets in between two queries.
- Readers never see a half-written job: each job's writes commit together in one
  transaction.
- **Long writers work on a copy.** Holding the write lock is only fine for short commits. The
  medallion build, which writes for minutes, works on a private copy of the file and
  publishes it with one ``os.replace`` under a write lock held for milliseconds
  (:mod:`workbench.io.staging`), so a dashboard reading during a build never waits for it.

Server warehouses (PostgreSQL, Snowflake) have no file lock; the same code works unchanged.
"""

from __future__ import annotations

import contextlib
import os
import time
import uuid
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal
from urllib.parse import urlparse

from workbench.catalog.schema import LAYERS
from workbench.core.errors import MissingColumnsError, SchemaError, WarehouseError

if TYPE_CHECKING:
    import ibis.expr.types as ir
    import pandas as pd
    from ibis.backends import BaseBackend
    from ibis.expr.schema import Schema

WriteMode = Literal["append", "replace", "upsert"]

#: How long opening a DuckDB file held by another process keeps retrying [s] (env override).
LOCK_TIMEOUT_ENV = "WORKBENCH_LOCK_TIMEOUT_S"
DEFAULT_LOCK_TIMEOUT_S = 30.0


class WarehouseLockedError(WarehouseError):
    """The DuckDB file stayed locked by another process for longer than the lock timeout."""


class WarehousePermissionError(WarehouseError):
    """The warehouse refused a statement for want of privilege (a write by the read-only role)."""


#: SQLSTATEs of a refused privilege and of a write in a read-only transaction (PostgreSQL).
_DENIED_SQLSTATES = ("42501", "25006")


def _denied_state(exc: BaseException | None) -> str | None:
    """The SQLSTATE of a refused privilege in ``exc`` or its causes, else None."""
    seen = 0
    while exc is not None and seen < 8:
        state = getattr(exc, "sqlstate", None) or getattr(exc, "pgcode", None)
        if state in _DENIED_SQLSTATES:
            return state
        exc, seen = exc.__cause__ or exc.__context__, seen + 1
    return None


def _is_lock_conflict(exc: BaseException) -> bool:
    return "Could not set lock" in str(exc) or "Conflicting lock" in str(exc)


@dataclass(frozen=True)
class TableWrite:
    """One table's part of a (possibly multi-table) transactional write."""

    qualified: str
    data: Any
    mode: WriteMode = "append"
    key: Sequence[str] | None = None
    schema: Schema | None = None


SCHEMAS: tuple[str, ...] = LAYERS


def split_name(qualified: str) -> tuple[str, str]:
    """``"gold.fact_load"`` → ``("gold", "fact_load")``."""
    schema, dot, table = qualified.partition(".")
    if not dot or not schema or not table or "." in table:
        msg = f"expected a table name 'schema.table' such as 'gold.fact_load'; found {qualified!r}"
        raise WarehouseError(msg)
    return schema, table


def _microseconds(data: Any) -> Any:
    """Warehouses keep microseconds: floor pandas nanosecond timestamps instead of failing."""
    if not hasattr(data, "select_dtypes"):
        return data
    stamps = data.select_dtypes(include=["datetime", "datetimetz"]).columns
    if len(stamps) == 0:
        return data
    data = data.copy()
    for col in stamps:
        data[col] = data[col].dt.floor("us").dt.as_unit("us")
    return data


def _redact(url: str) -> str:
    """The URL with its password and secret parameters shown as ``***`` (any characters)."""
    from workbench.catalog.secrets import redact

    return redact(url)


class Warehouse:
    """An Ibis connection to the warehouse, with schema management and safe writes.

    Parameters
    ----------
    url : str
        An Ibis connection URL: ``duckdb:///path/to/file.duckdb``, ``postgres://user@host/db``…
    read_only : bool
        Open a DuckDB file read-only (many read-only processes may share it; no writer meanwhile).
    lock_timeout_s : float, optional
        How long to keep retrying while another process holds the DuckDB file [s]; default
        ``WORKBENCH_LOCK_TIMEOUT_S`` or 30 s. ``0`` fails at once.

    Examples
    --------
    >>> wh = Warehouse("duckdb:///tmp/example.duckdb")  # doctest: +SKIP
    >>> wh.write("bronze.raw_load", frame, mode="append")  # doctest: +SKIP
    >>> wh.table("bronze.raw_load").count().execute()  # doctest: +SKIP
    """

    def __init__(
        self, url: str, *, read_only: bool = False, lock_timeout_s: float | None = None
    ) -> None:
        self.url = url
        self.read_only = read_only
        if lock_timeout_s is None:
            lock_timeout_s = float(os.environ.get(LOCK_TIMEOUT_ENV, DEFAULT_LOCK_TIMEOUT_S))
        self.lock_timeout_s = lock_timeout_s
        self.backend_name = urlparse(url).scheme.split("+")[0]
        if not self.backend_name:
            msg = f"expected a warehouse URL such as 'duckdb:///path.duckdb'; found {url!r}"
            raise WarehouseError(msg)
        self._con: BaseBackend | None = None
        self._schemas_ready = False
        self._tx_depth = 0

    def __repr__(self) -> str:
        return f"Warehouse({_redact(self.url)!r})"

    # ------------------------------------------------------------------ connection
    @property
    def con(self) -> BaseBackend:
        """The Ibis backend, connected on first use with the layer schemas in place."""
        if self._con is None:
            self._con = self._connect()
        if not self._schemas_ready and not self.read_only:
            self.ensure_schemas()
        return self._con

    def _connect(self) -> BaseBackend:
        import ibis

        kwargs: dict[str, Any] = {}
        if self.backend_name == "duckdb":
            path = self.duckdb_path
            if path is not None:
                if self.read_only and not path.exists():
                    msg = f"expected a DuckDB warehouse at {path}; found no file (build it first)"
                    raise WarehouseError(msg)
                path.parent.mkdir(parents=True, exist_ok=True)
            kwargs["read_only"] = self.read_only
        try:
            con = self._connect_waiting(ibis, kwargs)
        except WarehouseLockedError:
            raise
        except ModuleNotFoundError as exc:
            from workbench.core.errors import MissingExtraError

            raise MissingExtraError(exc.name or self.backend_name, self.backend_name) from exc
        except Exception as exc:
            msg = f"cannot connect to the warehouse at {_redact(self.url)}: {exc}"
            raise WarehouseError(msg) from exc
        # UTC inside: truncations to the hour or day, and dates of timestamps, are UTC ones
        if self.backend_name == "duckdb":
            con.raw_sql("SET TimeZone = 'UTC'")
        elif self.backend_name in ("postgres", "postgresql"):
            con.raw_sql("SET TIME ZONE 'UTC'").close()
        return con

    def _connect_waiting(self, ibis: Any, kwargs: dict[str, Any]) -> BaseBackend:
        """``ibis.connect``, retried with backoff while another process locks the DuckDB file.

        A writer that has to wait leaves a ``<file>.write-pending`` marker; readers that find a
        fresh one wait for it to go before they open the file, so a stream of short readers
        cannot starve a writer.
        """
        deadline = time.monotonic() + self.lock_timeout_s
        delay = 0.05
        pending = self._pending_marker()
        waiting_writer = False
        try:
            while True:
                if self.read_only and pending is not None:
                    self._yield_to_writer(pending, deadline)
                try:
                    return ibis.connect(self.url, **kwargs)
                except Exception as exc:
                    if self.backend_name != "duckdb" or not _is_lock_conflict(exc):
                        raise
                    if not self.read_only and pending is not None and not waiting_writer:
                        with contextlib.suppress(OSError):
                            pending.write_text(str(os.getpid()))
                            waiting_writer = True
                    left = deadline - time.monotonic()
                    if left <= 0:
                        mode = "read-only" if self.read_only else "read-write"
                        msg = (
                            f"expected to open the warehouse {self.duckdb_path} {mode}; found it "
                            f"locked by another process for {self.lock_timeout_s:g} s ({exc}). "
                            f"Retry when the other writer is done, or raise {LOCK_TIMEOUT_ENV}"
                        )
                        raise WarehouseLockedError(msg) from exc
                    time.sleep(min(delay, left))
                    delay = min(delay * 2, 1.0 if self.read_only else 0.2)
        finally:
            if waiting_writer and pending is not None:
                with contextlib.suppress(OSError):
                    pending.unlink()

    def _pending_marker(self) -> Path | None:
        path = self.duckdb_path
        return None if path is None else path.with_name(path.name + ".write-pending")

    def _yield_to_writer(self, pending: Path, deadline: float) -> None:
        """Wait (until ``deadline``) while a fresh write-pending marker says a writer waits."""
        while time.monotonic() < deadline:
            try:
                age = time.time() - pending.stat().st_mtime
            except OSError:
                return
            if age > self.lock_timeout_s:  # left behind by a writer that died
                return
            time.sleep(0.02)

    @property
    def duckdb_path(self) -> Path | None:
        """The DuckDB file of a ``duckdb:///`` URL (``None`` in memory or on other backends)."""
        if self.backend_name != "duckdb":
            return None
        parsed = urlparse(self.url)
        raw = (parsed.netloc + parsed.path) if parsed.netloc else parsed.path
        if raw in ("", "/", ":memory:", "/:memory:"):
            return None
        return Path(raw)

    @property
    def connected(self) -> bool:
        """Whether a connection is open (and, on DuckDB, the file's lock held)."""
        return self._con is not None

    def close(self) -> None:
        if self._con is not None:
            with contextlib.suppress(Exception):
                self._con.disconnect()
            self._con = None
            self._schemas_ready = False

    def __enter__(self) -> Warehouse:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def user(self) -> str:
        """The role the URL connects as (empty when the URL names none)."""
        return urlparse(self.url).username or ""

    def schema_access(self, schemas: Sequence[str] = SCHEMAS) -> dict[str, str]:
        """What the connected role may do per layer schema: ``write``, ``read`` or ``none``.

        PostgreSQL answers from ``has_schema_privilege`` and ``has_table_privilege`` (a schema
        missing yet counts as ``write`` when the role may create schemas); other backends say
        ``write`` for every schema unless opened read-only.
        """
        if self.backend_name not in ("postgres", "postgresql"):
            return dict.fromkeys(schemas, "read" if self.read_only else "write")
        names = ", ".join(f"'{s}'" for s in schemas)
        query = (
            "SELECT n.nspname, has_schema_privilege(n.oid, 'CREATE'), "
            "has_schema_privilege(n.oid, 'USAGE'), "
            "has_database_privilege(current_database(), 'CREATE') "
            f"FROM pg_namespace AS n WHERE n.nspname IN ({names})"
        )
        rows = {r[0]: r[1:] for r in self._raw_execute()(query).fetchall()}
        access = {}
        for schema in schemas:
            if schema not in rows:
                access[schema] = "write" if self._database_create() else "none"
                continue
            create, usage, _ = rows[schema]
            access[schema] = "write" if create else "read" if usage else "none"
        return access

    def _database_create(self) -> bool:
        query = "SELECT has_database_privilege(current_database(), 'CREATE')"
        return bool(self._raw_execute()(query).fetchone()[0])

    def permission_error(self, action: str, exc: BaseException) -> WarehousePermissionError | None:
        """A :class:`WarehousePermissionError` when ``exc`` is a refused privilege, else None."""
        if _denied_state(exc) is None:
            return None
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        msg = (
            f"expected write privilege to {action} as role {self.user or '(default)'!r}; found "
            f"the warehouse refused it ({first}). This role is read-only: connect as the writer "
            "role to build or run jobs (see `workbench warehouse roles --print-sql`)"
        )
        return WarehousePermissionError(msg)

    @contextlib.contextmanager
    def _privileged(self, action: str) -> Iterator[None]:
        """Turn a refused privilege inside the block into a :class:`WarehousePermissionError`."""
        try:
            yield
        except WarehouseError:
            raise
        except Exception as exc:
            denied = self.permission_error(action, exc)
            if denied is None:
                raise
            raise denied from exc

    def ensure_schemas(self, schemas: Sequence[str] = SCHEMAS) -> None:
        """Create the layer schemas if they are missing (idempotent)."""
        assert self._con is not None
        existing = set(self._con.list_databases())
        for schema in schemas:
            if schema not in existing:
                try:
                    with self._privileged(f"create schema {schema}"):
                        self._con.raw_sql(f'CREATE SCHEMA IF NOT EXISTS "{schema}"')
                except WarehousePermissionError:
                    # a role that may not create schemas (the read-only role) connects anyway:
                    # its writes are refused one by one, each naming its table
                    with contextlib.suppress(Exception):
                        self._con.con.rollback()
        self._schemas_ready = True

    def ping(self) -> None:
        """Run ``SELECT 1``; raise :class:`WarehouseError` when the warehouse does not answer."""
        import ibis

        try:
            self.con.execute(ibis.literal(1))
        except WarehouseError:
            raise
        except Exception as exc:
            msg = f"the warehouse at {_redact(self.url)} does not answer: {exc}"
            raise WarehouseError(msg) from exc

    # ------------------------------------------------------------------ reading
    def list_tables(self, schema: str) -> list[str]:
        return sorted(self.con.list_tables(database=schema))

    def exists(self, qualified: str) -> bool:
        schema, table = split_name(qualified)
        if self.read_only and schema not in self.con.list_databases():
            return False
        return table in self.con.list_tables(database=schema)

    def table(self, qualified: str) -> ir.Table:
        """A lazy Ibis table for ``schema.table``."""
        schema, table = split_name(qualified)
        if not self.exists(qualified):
            available = self.list_tables(schema) if schema in self.con.list_databases() else []
            msg = (
                f"expected table {qualified!r} in the warehouse; found none "
                f"(tables in {schema!r}: {available or 'none'}). Has it been built?"
            )
            if self.backend_name in ("postgres", "postgresql") and self.user:
                msg += (
                    f" Or role {self.user!r} may not read schema {schema!r} (the read-only role "
                    "reads gold and ops only)"
                )
            raise WarehouseError(msg)
        return self.con.table(table, database=schema)

    def sql(self, query: str) -> ir.Table:
        """A lazy Ibis table from a SQL ``SELECT``."""
        return self.con.sql(query)

    # ------------------------------------------------------------------ writing
    def create_table(self, qualified: str, schema: Schema, *, overwrite: bool = False) -> None:
        """Create an empty table with ``schema`` (no-op if it exists, unless ``overwrite``)."""
        db, table = split_name(qualified)
        if self.exists(qualified) and not overwrite:
            return
        with self._privileged(f"create {qualified}"):
            self.con.create_table(table, schema=schema, database=db, overwrite=overwrite)

    def write(
        self,
        qualified: str,
        data: pd.DataFrame | ir.Table | Any,
        *,
        mode: WriteMode = "append",
        key: Sequence[str] | None = None,
        schema: Schema | None = None,
    ) -> int:
        """Write rows into ``schema.table`` in one transaction; returns the rows written.

        Parameters
        ----------
        qualified : str
            Target ``schema.table``; created (with ``schema``, or the data's own) if missing.
        data : pandas.DataFrame, pyarrow.Table, polars.DataFrame or ibis Table
            Rows whose columns are exactly the target's (any order).
        mode : {"append", "replace", "upsert"}
            ``replace`` swaps the whole content; ``upsert`` replaces rows whose ``key``
            matches and appends the rest.
        key : sequence of str
            Key columns, required for ``upsert``.
        schema : ibis Schema, optional
            The declared schema, used to create the table and to check the data.

        Raises
        ------
        MissingColumnsError, SchemaError
            Data lacks columns of the target or has columns it does not know.
        WarehouseError
            The backend refused the write; the target is unchanged.
        """
        return self.write_many([TableWrite(qualified, data, mode, key, schema)])[qualified]

    def write_many(self, writes: Sequence[TableWrite]) -> dict[str, int]:
        """Write several tables in ONE transaction: all of them change, or none does.

        Each write is staged in a temporary table first (outside the transaction); the moves into
        the targets then commit together. Returns the rows written per table.
        """
        import ibis

        staged: list[tuple[TableWrite, str, Schema]] = []
        statements: list[str] = []
        counts: dict[str, int] = {}
        try:
            for w in writes:
                if w.mode not in ("append", "replace", "upsert"):
                    msg = f"expected mode 'append', 'replace' or 'upsert'; found {w.mode!r}"
                    raise WarehouseError(msg)
                if w.mode == "upsert" and not w.key:
                    msg = f"upsert into {w.qualified} needs key columns; found key={w.key!r}"
                    raise WarehouseError(msg)
                db, table = split_name(w.qualified)
                incoming = (
                    w.data
                    if isinstance(w.data, ibis.expr.types.Table)
                    else ibis.memtable(_microseconds(w.data))
                )
                if not self.exists(w.qualified):
                    self.create_table(w.qualified, w.schema or incoming.schema())
                target_schema = self.con.table(table, database=db).schema()
                self._check_columns(w.qualified, target_schema, incoming.columns, w.key)
                stage = f"_stage_{table}_{uuid.uuid4().hex[:12]}"
                # a temporary table: in memory (spilling if need be), private to this session
                self._stage(stage, w.data, incoming)
                staged.append((w, stage, target_schema))
                statements += self._move_statements(w, stage, target_schema)
                counts[w.qualified] = counts.get(w.qualified, 0) + int(
                    self.con.table(stage).count().execute()
                )
            with self._transaction() as execute:
                for statement in statements:
                    execute(statement)
        except (SchemaError, WarehouseError):
            raise
        except Exception as exc:
            names = ", ".join(f"{w.qualified} ({w.mode})" for w in writes)
            denied = self.permission_error(f"write {names} (nothing was written)", exc)
            if denied is not None:
                raise denied from exc
            msg = f"write to {names} failed and was rolled back: {exc}"
            raise WarehouseError(msg) from exc
        finally:
            for _, stage, _ in staged:
                with contextlib.suppress(Exception):
                    self.con.drop_table(stage, force=True)
        return counts

    def _stage(self, stage: str, data: Any, incoming: ir.Table) -> None:
        """Load the incoming rows into a temporary table (PostgreSQL frames go by COPY)."""
        if self.backend_name in ("postgres", "postgresql") and hasattr(data, "select_dtypes"):
            import csv
            import io

            self.con.create_table(stage, schema=incoming.schema(), temp=True)
            frame = _microseconds(data)[list(incoming.columns)]
            buffer = io.StringIO()
            # NULL is written \N (quoted like any text); FORCE_NULL turns it back into NULL
            frame.to_csv(
                buffer, index=False, header=False, quoting=csv.QUOTE_NONNUMERIC, na_rep=r"\N"
            )
            cols = ", ".join(f'"{c}"' for c in incoming.columns)
            options = rf"FORMAT csv, NULL '\N', FORCE_NULL ({cols})"
            with (
                self.con.con.cursor() as cursor,
                cursor.copy(f'COPY "{stage}" ({cols}) FROM STDIN ({options})') as copy,
            ):
                copy.write(buffer.getvalue())
            return
        self.con.create_table(stage, incoming, temp=True)

    def _move_statements(self, w: TableWrite, stage: str, target_schema: Schema) -> list[str]:
        """SQL that moves a staged table into its target, cast to the target's types."""
        db, table = split_name(w.qualified)
        staged = self.con.table(stage)
        # Ibis compiles a cast to JSON on PostgreSQL as CAST(CAST(x AS JSON) AS VARCHAR), which a
        # json column refuses: JSON columns are cast in plain SQL around the compiled select
        json_cols = {c for c in target_schema.names if target_schema[c].is_json()}
        pg = self.backend_name in ("postgres", "postgresql")
        cast = staged.select(
            **{
                c: staged[c] if pg and c in json_cols else staged[c].cast(target_schema[c])
                for c in target_schema.names
            }
        )
        select = self.con.compile(cast)
        if pg and json_cols:
            outer = ", ".join(
                f'CAST(s."{c}" AS JSON)' if c in json_cols else f's."{c}"'
                for c in target_schema.names
            )
            select = f"SELECT {outer} FROM ({select}) AS s"
        cols = ", ".join(f'"{c}"' for c in target_schema.names)
        tgt = f'"{db}"."{table}"'
        statements = []
        if w.mode == "replace":
            statements.append(f"DELETE FROM {tgt}")
        elif w.mode == "upsert":
            match = " AND ".join(f't."{k}" = s."{k}"' for k in w.key or ())
            statements.append(
                f'DELETE FROM {tgt} AS t WHERE EXISTS (SELECT 1 FROM "{stage}" AS s WHERE {match})'
            )
        statements.append(f"INSERT INTO {tgt} ({cols}) {select}")
        return statements

    @staticmethod
    def _check_columns(
        qualified: str, target: Schema, incoming: Sequence[str], key: Sequence[str] | None
    ) -> None:
        missing = set(target.names) - set(incoming)
        if missing:
            raise MissingColumnsError(f"writing {qualified}", missing, incoming)
        extra = set(incoming) - set(target.names)
        if extra:
            msg = (
                f"writing {qualified}: columns {sorted(extra)} are not in the table; "
                f"expected only {list(target.names)}"
            )
            raise SchemaError(msg)
        unknown_key = set(key or ()) - set(target.names)
        if unknown_key:
            raise MissingColumnsError(f"key of {qualified}", unknown_key, target.names)

    def _raw_execute(self) -> Any:
        """A function running one SQL statement on the backend's own connection."""
        con = self.con
        if self.backend_name in ("duckdb", "postgres", "postgresql"):
            return con.con.execute  # DuckDB and psycopg connections both execute directly
        return lambda sql: con.raw_sql(sql)

    @contextlib.contextmanager
    def transaction(self) -> Iterator[Warehouse]:
        """Everything written inside commits together at the end, or is rolled back.

        Nested calls join the outer transaction. Reads inside see the uncommitted writes, so a
        whole build (silver, then gold computed from that silver) can be one transaction.

        >>> with wh.transaction():  # doctest: +SKIP
        ...     wh.write("silver.x", a, mode="upsert", key=["id"])
        ...     wh.write("gold.y", wh.table("silver.x").group_by("k").agg(n=_.count()))
        """
        if self._tx_depth:
            self._tx_depth += 1
            try:
                yield self
            finally:
                self._tx_depth -= 1
            return
        execute = self._raw_execute()
        execute("BEGIN TRANSACTION" if self.backend_name == "duckdb" else "BEGIN")
        self._tx_depth = 1
        try:
            yield self
        except BaseException:
            self._tx_depth = 0
            with contextlib.suppress(Exception):
                execute("ROLLBACK")
            raise
        self._tx_depth = 0
        execute("COMMIT")

    @contextlib.contextmanager
    def _transaction(self) -> Iterator[Any]:
        """Yield an ``execute(sql)`` function whose statements commit together or not at all."""
        with self.transaction():
            yield self._raw_execute()

    def execute(self, statement: str) -> None:
        """Run one SQL statement (DML or DDL) on the backend; inside :meth:`transaction` it
        commits with the rest."""
        if self.read_only:
            msg = f"expected a writable warehouse to run {statement.split()[0]}; found read-only"
            raise WarehouseError(msg)
        with self._privileged(f"run {statement.split()[0]}"):
            self._raw_execute()(statement)

    def lock_key(self, key: str) -> None:
        """Inside :meth:`transaction`: take an exclusive lock on ``key``, held until commit.

        Two writers publishing the same run key at once are serialised: the second deletes the
        first's rows after it commits, then inserts its own, so a key's rows are never doubled.
        PostgreSQL takes a transaction-scoped advisory lock; a DuckDB file has one writer at a
        time already, so there it is a no-op.
        """
        if not self._tx_depth:
            msg = f"expected lock_key({key!r}) inside a transaction; found none open"
            raise WarehouseError(msg)
        if self.backend_name in ("postgres", "postgresql"):
            quoted = key.replace("'", "''")
            self._raw_execute()(f"SELECT pg_advisory_xact_lock(hashtextextended('{quoted}', 0))")

    def delete_since(self, qualified: str, column: str, since: Any) -> None:
        """Delete the rows whose ``column`` is at or after ``since`` (a window about to be rebuilt).

        ``since`` is a timezone-aware datetime, or a date for DATE columns.
        """
        from datetime import date, datetime

        if isinstance(since, datetime):
            literal = f"TIMESTAMP WITH TIME ZONE '{since.isoformat()}'"
        elif isinstance(since, date):
            literal = f"DATE '{since.isoformat()}'"
        else:
            msg = f"expected since as a datetime or date; found {type(since).__name__}"
            raise WarehouseError(msg)
        db, table = split_name(qualified)
        with self._privileged(f"delete from {qualified}"), self._transaction() as execute:
            execute(f'DELETE FROM "{db}"."{table}" WHERE "{column}" >= {literal}')

    def drop(self, qualified: str) -> None:
        db, table = split_name(qualified)
        with self._privileged(f"drop {qualified}"):
            self.con.drop_table(table, database=db, force=True)

    def row_counts(self, schemas: Sequence[str] = SCHEMAS) -> Mapping[str, int]:
        """Rows per table in the given schemas (for summaries and ``doctor``)."""
        dbs = set(self.con.list_databases())
        return {
            f"{s}.{t}": int(self.con.table(t, database=s).count().execute())
            for s in schemas
            if s in dbs
            for t in self.list_tables(s)
            if not t.startswith("_stage_")
        }
