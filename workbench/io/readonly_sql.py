"""A read-only SQL connection with a row cap and a timeout, for untrusted queries (AI agents).

One short-lived connection per use (``with ReadOnlySql(url) as ro: ro.fetch(sql, ...)``):

- **DuckDB**: the file opens ``read_only=True`` (waiting out a writer's lock like every reader,
  see :mod:`workbench.io.warehouse`); then external access is disabled (no file, URL, ``ATTACH``,
  ``COPY``, ``INSTALL``) and the configuration locked (no ``SET``), so even SQL that slipped past
  a guard can neither write the warehouse nor touch the file system. A timer thread interrupts a
  query that runs past ``timeout_s``.
- **PostgreSQL**: every query runs in a ``READ ONLY`` transaction with ``statement_timeout``, and
  the connection is refused unless its role may only read: not a superuser, no ``CREATE`` on the
  layer schemas, no ``INSERT``/``UPDATE``/``DELETE``/``TRUNCATE`` on their tables. Create such a
  role with ``GRANT USAGE ON SCHEMA gold TO agent; GRANT SELECT ON ALL TABLES IN SCHEMA gold TO
  agent`` (and the same for the other schemas it may read).

Other backends are refused: the guarantees above are only written for these two.
"""

from __future__ import annotations

import contextlib
import threading
from typing import TYPE_CHECKING, Any

from workbench.catalog.schema import LAYERS
from workbench.core.errors import DataAccessError, WarehouseError
from workbench.io.warehouse import Warehouse

if TYPE_CHECKING:
    import ibis.expr.types as ir
    import pyarrow as pa

SUPPORTED = ("duckdb", "postgres", "postgresql")


class QueryTimeoutError(DataAccessError):
    """A read-only query ran past its time limit and was cancelled by the engine."""


class ReadOnlyViolationError(WarehouseError):
    """The warehouse refused a write on the read-only connection, or the role may write."""


class ReadOnlySql:
    """A read-only connection to the warehouse at ``url`` (DuckDB file or PostgreSQL).

    Parameters
    ----------
    url : str
        Warehouse URL; on PostgreSQL the URL of a role that may only ``SELECT``.
    timeout_s : float
        Longest a query may run [s]; the engine cancels it after that.
    lock_timeout_s : float, optional
        How long to wait for a DuckDB writer's lock [s] (see :class:`Warehouse`).
    """

    def __init__(self, url: str, *, timeout_s: float = 10.0, lock_timeout_s: float | None = None):
        self.warehouse = Warehouse(url, read_only=True, lock_timeout_s=lock_timeout_s)
        if self.warehouse.backend_name not in SUPPORTED:
            msg = (
                f"expected a DuckDB or PostgreSQL warehouse for read-only agent queries; found "
                f"{self.warehouse.backend_name!r}. Point the agent tools at one of those"
            )
            raise WarehouseError(msg)
        if timeout_s <= 0:
            raise DataAccessError(f"expected timeout_s > 0; found {timeout_s!r}")
        self.timeout_s = float(timeout_s)
        self._ready = False

    @property
    def backend_name(self) -> str:
        return (
            "postgres"
            if self.warehouse.backend_name == "postgresql"
            else self.warehouse.backend_name
        )

    @property
    def is_duckdb(self) -> bool:
        return self.backend_name == "duckdb"

    def _raw(self) -> Any:
        raw = self.warehouse.con.con
        if not self._ready:
            if self.is_duckdb:
                raw.execute("SET enable_external_access = false")
                raw.execute("SET lock_configuration = true")
            else:
                self._check_role(raw)
            self._ready = True
        return raw

    def _check_role(self, raw: Any) -> None:
        """Refuse a PostgreSQL role that could write (superuser, CREATE, INSERT, ...)."""
        schemas = list(LAYERS)
        with raw.cursor() as cur:
            cur.execute("SELECT current_user, rolsuper FROM pg_roles WHERE rolname = current_user")
            user, superuser = cur.fetchone()
            cur.execute(
                "SELECT n.nspname || '.' || c.relname FROM pg_class c "
                "JOIN pg_namespace n ON n.oid = c.relnamespace "
                "WHERE n.nspname = ANY(%s) AND c.relkind IN ('r', 'p', 'v', 'm') AND ("
                "has_table_privilege(c.oid, 'INSERT') OR has_table_privilege(c.oid, 'UPDATE') "
                "OR has_table_privilege(c.oid, 'DELETE') OR has_table_privilege(c.oid, 'TRUNCATE'))"
                " ORDER BY 1 LIMIT 3",
                (schemas,),
            )
            writable = [r[0] for r in cur.fetchall()]
            cur.execute(
                "SELECT nspname FROM pg_namespace WHERE nspname = ANY(%s) "
                "AND has_schema_privilege(oid, 'CREATE') ORDER BY 1",
                (schemas,),
            )
            creatable = [r[0] for r in cur.fetchall()]
        if not raw.autocommit:
            raw.rollback()
        if superuser or writable or creatable:
            found = (
                "a superuser"
                if superuser
                else f"it may write {writable}"
                if writable
                else f"it may CREATE in {creatable}"
            )
            msg = (
                f"expected a PostgreSQL role that may only SELECT for agent queries; found "
                f"{user!r} is {found}. Create one: CREATE ROLE agent LOGIN; GRANT USAGE ON SCHEMA "
                "gold TO agent; GRANT SELECT ON ALL TABLES IN SCHEMA gold TO agent"
            )
            raise ReadOnlyViolationError(msg)

    # ------------------------------------------------------------------ lazy tables
    def table(self, qualified: str) -> ir.Table:
        """A lazy Ibis table on this connection (compile it with :meth:`compile`)."""
        self._raw()
        return self.warehouse.table(qualified)

    def exists(self, qualified: str) -> bool:
        """Whether ``schema.table`` exists on this connection."""
        self._raw()
        return self.warehouse.exists(qualified)

    def compile(self, expr: ir.Expr) -> str:
        """The SQL of an Ibis expression in this backend's dialect."""
        return str(self.warehouse.con.compile(expr))

    # ------------------------------------------------------------------ running
    def fetch(self, sql: str, *, max_rows: int) -> pa.Table:
        """Run one read-only query; return at most ``max_rows + 1`` rows as an Arrow table.

        Raises
        ------
        QueryTimeoutError
            The query ran past ``timeout_s`` (the engine cancelled it).
        ReadOnlyViolationError
            The engine refused a write (the statement tried to change something).
        DataAccessError
            Any other refusal by the engine (unknown column, type error, permission).
        """
        raw = self._raw()
        if self.is_duckdb:
            return self._fetch_duckdb(raw, sql, max_rows)
        return self._fetch_postgres(raw, sql, max_rows)

    def _fetch_duckdb(self, raw: Any, sql: str, max_rows: int) -> pa.Table:
        import duckdb
        import pyarrow as pa

        timer = threading.Timer(self.timeout_s, raw.interrupt)
        timer.daemon = True
        timer.start()
        try:
            reader = raw.execute(sql).fetch_record_batch(1024)
            batches, rows = [], 0
            for batch in reader:
                batches.append(batch)
                rows += batch.num_rows
                if rows > max_rows:
                    break
            table = pa.Table.from_batches(batches, schema=reader.schema)
        except duckdb.InterruptException as exc:
            msg = (
                f"expected the query to finish within {self.timeout_s:g} s; found it still "
                "running, so it was interrupted. Aggregate more or narrow the time window"
            )
            raise QueryTimeoutError(msg) from exc
        except duckdb.PermissionException as exc:  # file system, extensions, attach
            raise ReadOnlyViolationError(_refused(exc)) from exc
        except duckdb.Error as exc:
            text = str(exc).lower()
            if "read-only" in text or "configuration has been locked" in text:
                raise ReadOnlyViolationError(_refused(exc)) from exc
            raise DataAccessError(f"the warehouse rejected the query: {_first(exc)}") from exc
        finally:
            timer.cancel()
        return table.slice(0, max_rows + 1)

    def _fetch_postgres(self, raw: Any, sql: str, max_rows: int) -> pa.Table:
        import psycopg
        import pyarrow as pa

        ms = max(1, int(self.timeout_s * 1000))
        try:
            with raw.transaction(), raw.cursor() as cur:
                cur.execute("SET TRANSACTION READ ONLY")
                cur.execute(f"SET LOCAL statement_timeout = {ms}")
                cur.execute(sql)
                names = [d.name for d in cur.description or []]
                rows = cur.fetchmany(max_rows + 1)
                raise _Rollback(names, rows)  # leave the transaction without committing
        except _Rollback as done:
            names, rows = done.names, done.rows
        except psycopg.errors.QueryCanceled as exc:
            msg = (
                f"expected the query to finish within {self.timeout_s:g} s; found it still "
                "running, so PostgreSQL cancelled it (statement_timeout)"
            )
            raise QueryTimeoutError(msg) from exc
        except (psycopg.errors.ReadOnlySqlTransaction, psycopg.errors.InsufficientPrivilege) as exc:
            raise ReadOnlyViolationError(_refused(exc)) from exc
        except psycopg.Error as exc:
            raise DataAccessError(f"the warehouse rejected the query: {_first(exc)}") from exc
        unique = [f"{n}_{i}" if names.count(n) > 1 else n for i, n in enumerate(names)]
        columns = {n: [r[i] for r in rows] for i, n in enumerate(unique)}
        return pa.table({k: pa.array(v) for k, v in columns.items()})

    def close(self) -> None:
        self.warehouse.close()
        self._ready = False

    def __enter__(self) -> ReadOnlySql:
        return self

    def __exit__(self, *exc: object) -> None:
        with contextlib.suppress(WarehouseError):
            self.close()


class _Rollback(Exception):  # noqa: N818 - control flow: leave psycopg's transaction block
    def __init__(self, names: list[str], rows: list[tuple[Any, ...]]) -> None:
        super().__init__("rollback")
        self.names, self.rows = names, rows


def _first(exc: BaseException) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0]


def _refused(exc: BaseException) -> str:
    return (
        f"expected a read-only statement; the warehouse refused it on the read-only agent "
        f"connection: {_first(exc)}"
    )
