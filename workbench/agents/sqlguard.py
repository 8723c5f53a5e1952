"""The SQL guard of the ``query`` tool: one read-only SELECT over catalog tables, or a refusal.

The guard parses the text with sqlglot in the warehouse's dialect and accepts it only when

* it is exactly **one** statement, and that statement is a query (``SELECT``, a set operation of
  selects, ``WITH ... SELECT``, a parenthesised select) — never DDL, DML, ``ATTACH``, ``COPY``,
  ``INSTALL``/``LOAD``, ``PRAGMA``, ``SET``, ``CALL``, ``EXPLAIN``, transactions;
* no node inside it writes or locks: data-modifying CTEs (``WITH d AS (DELETE ... RETURNING)``),
  ``SELECT ... INTO`` (creates a table on PostgreSQL), ``FOR UPDATE``;
* every table it reads is a catalog table written ``schema.table`` (or a CTE of the query):
  no system catalogs (``pg_authid``, ``information_schema``, ``duckdb_*``), no file paths
  (``FROM 'file.csv'``);
* no function reads files or URLs (``read_csv``, ``read_parquet``, ``read_json``, ``glob``, ...),
  runs SQL from a string (``query``), reads settings, secrets or the environment
  (``current_setting``, ``duckdb_secrets``, ``getenv``) or changes state (``nextval``,
  ``set_config``, ``pg_terminate_backend``); the only table functions are ``range``,
  ``generate_series`` and ``unnest``.

What runs is the SQL that sqlglot *regenerates* from the checked tree, wrapped in a row cap
(``SELECT * FROM (<query>) AS q LIMIT cap + 1``), so the text the engine sees is the text that was
checked: a comment or quoting trick that parses differently in the engine cannot smuggle a
second statement through.

The guard is one layer of three: the query then runs on a read-only connection (DuckDB
``read_only=True`` with external access disabled and the configuration locked; PostgreSQL a
``READ ONLY`` transaction under a role that may only ``SELECT``), see
:mod:`workbench.io.readonly_sql`.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass

from workbench.agents.errors import QueryRefusedError

#: Longest SQL text accepted [characters].
MAX_SQL_CHARS = 20_000
#: sqlglot dialect per warehouse backend.
DIALECTS = {"duckdb": "duckdb", "postgres": "postgres", "postgresql": "postgres"}

#: Table functions a query may read from.
TABLE_FUNCTIONS = frozenset({"range", "generate_series", "unnest", "explode"})

#: Functions refused anywhere, by exact (lower-case) name.
FORBIDDEN_FUNCTIONS = frozenset(
    {
        # files, URLs and other databases
        "glob",
        "sniff_csv",
        "file",
        "delta_scan",
        "http_get",
        "http_post",
        "lo_import",
        "lo_export",
        "lo_get",
        "lo_open",
        "lo_from_bytea",
        "lo_put",
        "dblink",
        "dblink_exec",
        "dblink_connect",
        # SQL from a string
        "query",
        "query_table",
        "json_execute_serialized_sql",
        "json_deserialize_sql",
        # settings, secrets, the environment
        "getenv",
        "current_setting",
        "set_config",
        "getvariable",
        "which_secret",
        "load_aws_credentials",
        "inet_server_addr",
        "inet_server_port",
        # state changes
        "nextval",
        "setval",
        "checkpoint",
        "force_checkpoint",
        "txid_current",
    }
)
#: Function-name prefixes refused anywhere (families of file, system or extension functions).
FORBIDDEN_PREFIXES = (
    "read_",
    "parquet_",
    "duckdb_",
    "pragma_",
    "iceberg_",
    "delta_",
    "sqlite_",
    "postgres_",
    "mysql_",
    "pg_",
    "lo_",
    "dblink",
    "icu_",
)
#: ``pg_*`` functions that are harmless and useful (a type name; a sleep the timeout will end).
ALLOWED_PG_FUNCTIONS = frozenset({"pg_typeof", "pg_sleep"})

#: Schemas (lower case) a query may never read, whatever the table.
SYSTEM_SCHEMAS = frozenset(
    {"information_schema", "pg_catalog", "pg_toast", "main", "temp", "system", "pg_temp"}
)


@dataclass(frozen=True)
class GuardedQuery:
    """A query that passed the guard.

    Attributes
    ----------
    sql : str
        The regenerated, row-capped SQL to run (``LIMIT max_rows + 1`` to detect truncation).
    checked_sql : str
        The regenerated query without the cap.
    tables : tuple of str
        The catalog tables it reads, ``schema.table``.
    """

    sql: str
    checked_sql: str
    tables: tuple[str, ...]


def _refuse(reason: str) -> QueryRefusedError:
    return QueryRefusedError(
        f"query refused: {reason}. The query tool runs exactly one read-only SELECT over the "
        "catalog's tables (list_datasets names them)"
    )


def _function_name(node: object) -> str:
    from sqlglot import exp

    if isinstance(node, exp.Anonymous):
        return str(node.name).lower()
    assert isinstance(node, exp.Func)
    return node.sql_name().lower()


def _check_function(name: str) -> None:
    if name in ALLOWED_PG_FUNCTIONS:
        return
    if name in FORBIDDEN_FUNCTIONS or name.startswith(FORBIDDEN_PREFIXES):
        raise _refuse(
            f"expected no file, URL, settings, secret or state-changing functions; found {name}()"
        )


def check_query(
    sql: str, *, tables: Iterable[str], dialect: str = "duckdb", max_rows: int = 1000
) -> GuardedQuery:
    """Check ``sql`` and return the capped SQL to run, or raise :class:`QueryRefusedError`.

    Parameters
    ----------
    sql : str
        The caller's query text.
    tables : iterable of str
        The tables it may read, ``schema.table`` (the catalog's table datasets).
    dialect : str
        sqlglot dialect of the warehouse (``duckdb``, ``postgres``).
    max_rows : int
        Row cap; the SQL fetches ``max_rows + 1`` rows so truncation can be reported.

    Examples
    --------
    >>> check_query("SELECT 1 AS one", tables=[]).sql
    'SELECT * FROM (SELECT 1 AS one) AS q LIMIT 1001'
    >>> check_query("DROP TABLE gold.fact_load", tables=["gold.fact_load"])  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    workbench.agents.errors.QueryRefusedError: query refused: expected a SELECT; found a Drop ...
    """
    import sqlglot
    from sqlglot import exp
    from sqlglot.errors import ParseError, TokenError

    if not isinstance(sql, str) or not sql.strip():
        raise _refuse(f"expected SQL text; found {str(sql)[:80]!r}")
    if len(sql) > MAX_SQL_CHARS:
        raise _refuse(f"expected at most {MAX_SQL_CHARS} characters of SQL; found {len(sql)}")
    allowed = {t.lower() for t in tables}
    logging.getLogger("sqlglot").setLevel(logging.ERROR)  # "falling back to Command" chatter
    try:
        statements = [s for s in sqlglot.parse(sql, read=dialect) if s is not None]
    except (ParseError, TokenError) as exc:
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise _refuse(f"expected SQL that parses; found a syntax error ({first})") from None
    if len(statements) != 1:
        raise _refuse(f"expected exactly one statement; found {len(statements)}")
    tree = statements[0]
    if not isinstance(tree, exp.Query):
        raise _refuse(f"expected a SELECT; found a {type(tree).__name__} statement")

    ctes = {str(c.alias_or_name).lower() for c in tree.find_all(exp.CTE)}
    forbidden = (exp.DML, exp.DDL, exp.Command, exp.Into, exp.Lock, exp.Set, exp.Pragma, exp.Copy)
    read: set[str] = set()
    for node in tree.walk():
        if isinstance(node, forbidden):
            kind = type(node).__name__
            raise _refuse(f"expected a read-only query; found a {kind} inside it")
        if isinstance(node, exp.Func):
            _check_function(_function_name(node))
        if isinstance(node, exp.Table):
            read |= _check_table(node, allowed, ctes)
    checked = tree.sql(dialect=dialect)
    capped = exp.select("*").from_(tree.subquery("q")).limit(int(max_rows) + 1)
    return GuardedQuery(capped.sql(dialect=dialect), checked, tuple(sorted(read)))


def _check_table(node: object, allowed: set[str], ctes: set[str]) -> set[str]:
    """The catalog table a FROM/JOIN item reads; refuse system tables, files and functions."""
    from sqlglot import exp

    assert isinstance(node, exp.Table)
    inner = node.this
    if isinstance(inner, exp.Func):
        name = _function_name(inner)
        if name not in TABLE_FUNCTIONS:
            raise _refuse(
                f"expected only catalog tables or range/generate_series/unnest in FROM; "
                f"found the table function {name}()"
            )
        return set()
    if not isinstance(inner, exp.Identifier):
        raise _refuse(f"expected a table name in FROM; found {node.sql()!r}")
    name, db, catalog = str(node.name).lower(), str(node.db).lower(), str(node.catalog)
    if catalog:
        raise _refuse(f"expected tables as schema.table; found {node.sql()!r} (three parts)")
    if not db:
        if name in ctes:
            return set()
        raise _refuse(
            f"expected a catalog table written schema.table (e.g. gold.fact_load); found {name!r}"
        )
    if db in SYSTEM_SCHEMAS or db.startswith("pg_"):
        raise _refuse(f"expected catalog tables; found the system table {db}.{name}")
    qualified = f"{db}.{name}"
    if qualified not in allowed:
        raise _refuse(f"expected a table of the catalog; found {qualified!r}")
    return {qualified}
