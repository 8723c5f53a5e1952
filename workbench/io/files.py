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
    except (ValueError, OSError, TypeError) as exc:  # parser, decoding, Arrow (ValueError)
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise error(f"cannot read {p} as {suffix[1:]}: {first}") from exc
    if frame.empty and not allow_empty:
        raise error(f"expected rows in {p}; found an empty table")
    return frame


def check_output_path(
    path: str | Path,
    suffixes: tuple[str, ...] | None,
    *,
    error: type[WorkbenchError] = DataAccessError,
    option: str = "--output",
) -> Path:
    """Refuse an output file that cannot be written, before any work is done.

    Parameters
    ----------
    path : str or Path
        The file to write.
    suffixes : tuple of str, optional
        Accepted suffixes, lower case with the dot (``(".parquet", ".csv")``); None: any.
    error : WorkbenchError subclass
        Raised with a one-line message: a wrong suffix, an existing directory, or a parent
        that is a file.
    option : str
        How the message names the argument.
    """
    p = Path(path)
    shown = [s for s in suffixes or () if s != ".pq"]  # .pq: an accepted alias, not shown
    names = " or ".join(shown)
    if p.is_dir():
        kind = f"a file ending in {names}" if names else "a file"
        raise error(f"expected {option} to name {kind}; found a directory {p}")
    if suffixes is not None and p.suffix.lower() not in suffixes:
        raise error(f"expected {option} to end in {names}; found {p.name!r}")
    for parent in p.parents:
        if parent.exists():
            if not parent.is_dir():
                msg = f"expected {option} inside a directory; found {parent} is a file"
                raise error(msg)
            break
    return p
