"""A user's own table file (``.csv`` or ``.parquet``), read with errors that say what to fix.

The command-line tools that take a user's file (``workbench forecast backtest``, ``workbench
anomaly``, ``workbench market arbitrage``) read it here, each raising its own error class.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from workbench.core.errors import DataAccessError, WorkbenchError

SUFFIXES = (".csv", ".parquet", ".pq")


def read_table(
    path: str | Path,
    *,
    error: type[WorkbenchError] = DataAccessError,
    what: str = "data file",
    allow_empty: bool = False,
) -> Any:
    """Read a ``.csv`` or ``.parquet`` file into a pandas DataFrame.

    Parameters
    ----------
    path : str or Path
        The file.
    error : WorkbenchError subclass
        Raised (with a one-line message) for a missing, unsupported, unreadable or empty file.
    what : str
        How the message names the file ("data file", "price file").
    allow_empty : bool
        Return a table without rows instead of refusing it.
    """
    import pandas as pd

    p = Path(path)
    if not p.is_file():
        raise error(f"expected a {what} at {p}; found nothing there")
    suffix = p.suffix.lower()
    if suffix not in SUFFIXES:
        raise error(
            f"expected a .csv or .parquet file; found {p.name!r}. Convert it to one of those."
        )
    try:
        frame = pd.read_csv(p) if suffix == ".csv" else pd.read_parquet(p)
    except Exception as exc:  # pandas/pyarrow raise many types for a corrupt file
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise error(f"cannot read {p} as {suffix[1:]}: {first}") from exc
    if frame.empty and not allow_empty:
        raise error(f"expected rows in {p}; found an empty table")
    return frame
