"""A user's own table file (``.csv`` or ``.parquet``), read with errors that say what to fix.

The command-line tools that take a user's file (``workbench forecast backtest``, ``workbench
anomaly``, ``workbench market arbitrage``) read it here, each raising its own error class, and
check its columns with the helpers below: :func:`numeric_column` (text that is not a number),
:func:`check_not_all_missing` and, from :mod:`workbench.core.timestamps`, ``check_time_zones``
(stamps with and without an offset mixed)
and :func:`check_rows` (a series needs two rows).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from workbench.core.errors import DataAccessError, WorkbenchError

SUFFIXES = (".csv", ".parquet", ".pq")
MISSING_MARKERS = ("", "NA", "NaN", "nan", "null", "NULL")
"""CSV cells read as missing. Other text (``n/a``, ``-``, ``?``) stays text, so a numeric column
holding it is refused by :func:`numeric_column` instead of silently becoming NaN."""


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
    if p.is_dir():
        raise error(f"expected a {what} at {p}; found a directory")
    if not p.is_file():
        raise error(f"expected a {what} at {p}; found nothing there")
    suffix = p.suffix.lower()
    if suffix not in SUFFIXES:
        raise error(
            f"expected a .csv or .parquet file; found {p.name!r}. Convert it to one of those."
        )
    try:
        if suffix == ".csv":
            frame = pd.read_csv(p, keep_default_na=False, na_values=list(MISSING_MARKERS))
        else:
            frame = pd.read_parquet(p)
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


def numeric_column(column: Any, name: str, *, error: type[WorkbenchError]) -> np.ndarray:
    """A value column as float64 (NaN where missing); text that is not a number is refused.

    Parameters
    ----------
    column : pandas.Series
        The column as read (numbers, or text when a CSV cell was not a number).
    name : str
        The column's name, for the message.
    error : WorkbenchError subclass
        Raised: "expected numeric values in column 'value'; found text such as 'n/a' in 5 rows".

    Returns
    -------
    numpy.ndarray
        The values; ``inf`` is kept (a caller that cannot use it refuses it).
    """
    import pandas as pd

    if pd.api.types.is_bool_dtype(column.dtype):
        raise error(f"expected numeric values in column {name!r}; found booleans")
    if pd.api.types.is_numeric_dtype(column.dtype):
        return column.to_numpy(np.float64, na_value=np.nan)
    coerced = pd.to_numeric(column, errors="coerce")
    bad = np.asarray(coerced.isna() & column.notna())
    if bad.any():
        example = column[bad].iloc[0]
        raise error(
            f"expected numeric values in column {name!r}; found text such as {example!r} in "
            f"{int(bad.sum())} rows. Fix those cells or leave them empty."
        )
    return coerced.to_numpy(np.float64, na_value=np.nan)


def check_not_all_missing(values: np.ndarray, name: str, *, error: type[WorkbenchError]) -> None:
    """Refuse a value column with no number at all (every row missing).

    Parameters
    ----------
    values : numpy.ndarray
        Float values (NaN: missing).
    name : str
        The column's name, for the message.
    error : WorkbenchError subclass
        Raised with a one-line message.
    """
    arr = np.asarray(values, dtype=np.float64)
    if arr.size and np.isnan(arr).all():
        raise error(
            f"expected numeric values in column {name!r}; found all {arr.size} rows missing (NaN)"
        )


def check_rows(
    frame: Any, path: str | Path, *, error: type[WorkbenchError], least: int = 2
) -> None:
    """Refuse a table with fewer than ``least`` rows where a series is needed."""
    if len(frame) < least:
        raise error(
            f"expected at least {least} rows in {Path(path).name} to make a series; "
            f"found {len(frame)} row{'s' if len(frame) != 1 else ''}"
        )
