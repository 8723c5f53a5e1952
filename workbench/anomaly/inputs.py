"""Validate a long frame (time, value, optional group and quality) and put it in series order."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from workbench.anomaly.base import AnomalyInputError
from workbench.core.errors import MissingColumnsError


@dataclass
class LongSeries:
    """Samples sorted by (group, time); exact repeats of a (group, time) sample removed and counted.

    Attributes
    ----------
    group : int64 array
        Index into ``labels`` per sample.
    time : int64 array
        Nanoseconds since the epoch (UTC).
    values : float array
        The measured values (dtype kept: float32 stays float32).
    quality : array or None
        Quality per sample (0 good) when a quality column was given.
    labels : object array
        Group ids.
    duplicates : int
        Rows dropped as exact repeats of an earlier (group, time) sample; a repeat with another
        value is refused, never dropped.
    """

    group: np.ndarray
    time: np.ndarray
    values: np.ndarray
    quality: np.ndarray | None
    labels: np.ndarray
    duplicates: int


def long_series(
    frame: Any,
    time_col: str,
    value_col: str,
    group_col: str | None = None,
    quality_col: str | None = None,
) -> LongSeries:
    """Check columns and types of a long frame and sort it into series.

    Raises
    ------
    MissingColumnsError
        A named column is absent (lists the available ones).
    AnomalyInputError
        Values are not numeric, times do not parse, or quality is not integer.
    """
    import pandas as pd

    if not isinstance(frame, pd.DataFrame):
        raise AnomalyInputError(f"expected a pandas DataFrame; found {type(frame).__name__}")
    need = [c for c in (time_col, value_col, group_col, quality_col) if c is not None]
    missing = [c for c in need if c not in frame.columns]
    if missing:
        raise MissingColumnsError("anomaly input", missing, [str(c) for c in frame.columns])
    values = numeric_values(frame[value_col], value_col)
    time = parse_times(frame[time_col], time_col)
    if group_col is None:
        codes, labels = np.zeros(len(frame), np.int64), np.array(["all"], dtype=object)
    else:
        codes, uniques = pd.factorize(frame[group_col].astype("string"), sort=True)
        if (codes < 0).any():
            n_bad = int((codes < 0).sum())
            msg = f"expected a group id in every row of {group_col!r}; found {n_bad} missing"
            raise AnomalyInputError(msg)
        codes, labels = codes.astype(np.int64), np.asarray(uniques, dtype=object)
    quality = None
    if quality_col is not None:
        q = pd.to_numeric(frame[quality_col], errors="coerce")
        if q.isna().any():
            raise AnomalyInputError(
                f"expected integer quality codes in {quality_col!r}; found non-numeric or missing"
            )
        quality = q.to_numpy(np.int64)
    order = np.lexsort((time, codes))
    codes, time, values = codes[order], time[order], values[order]
    quality = None if quality is None else quality[order]
    dup = np.zeros(codes.size, bool)
    dup[1:] = (codes[1:] == codes[:-1]) & (time[1:] == time[:-1])
    if dup.any():
        prev = np.flatnonzero(dup) - 1
        same = (values[dup] == values[prev]) | (np.isnan(values[dup]) & np.isnan(values[prev]))
        if not same.all():
            first = int(np.flatnonzero(dup)[~same][0])
            when = pd.Timestamp(int(time[first]), tz="UTC")
            msg = (
                f"expected one value per {'series and ' if group_col else ''}time; found "
                f"{int((~same).sum())} repeated times with different values (first at {when}, "
                f"{float(values[first - 1])!r} and {float(values[first])!r}). "
                "Remove or resolve them first"
            )
            raise AnomalyInputError(msg)
        keep = ~dup
        codes, time, values = codes[keep], time[keep], values[keep]
        quality = None if quality is None else quality[keep]
    return LongSeries(codes, time, values, quality, labels, int(dup.sum()))


def numeric_values(column: Any, name: str) -> np.ndarray:
    """A numeric column as a float array (NaN for missing); non-numeric text is an error."""
    import pandas as pd

    if pd.api.types.is_bool_dtype(column.dtype):
        raise AnomalyInputError(f"expected numeric values in {name!r}; found booleans")
    if pd.api.types.is_numeric_dtype(column.dtype):
        if isinstance(column.dtype, np.dtype) and column.dtype.kind == "f":
            return column.to_numpy()  # float32 stays float32
        return column.to_numpy(np.float64, na_value=np.nan)
    coerced = pd.to_numeric(column, errors="coerce")
    bad = coerced.isna() & column.notna()
    if bad.any():
        example = column[bad].iloc[0]
        msg = (
            f"expected numeric values in {name!r}; found {int(bad.sum())} that are not numbers "
            f"(e.g. {example!r})"
        )
        raise AnomalyInputError(msg)
    return coerced.to_numpy(np.float64, na_value=np.nan)


def parse_times(column: Any, name: str) -> np.ndarray:
    """Timestamps as int64 ns (UTC; naive values are UTC).

    Unparseable or missing values are an error, and so is text mixing stamps with and without a
    UTC offset.
    """
    import pandas as pd

    from workbench.core.timestamps import check_time_zones

    text = column.dtype == object or pd.api.types.is_string_dtype(column.dtype)
    check_time_zones(column, name, error=AnomalyInputError)
    try:  # text: ISO 8601 with or without fractions and offsets (what CSV writers produce)
        parsed = pd.to_datetime(column, utc=True, format="ISO8601" if text else None)
    except (ValueError, TypeError, OverflowError) as exc:
        first = str(exc).splitlines()[0]
        msg = f"expected timestamps in {name!r}; found values that do not parse ({first})"
        raise AnomalyInputError(msg) from exc
    if parsed.isna().any():
        n_bad = int(parsed.isna().sum())
        msg = f"expected a timestamp in every row of {name!r}; found {n_bad} missing"
        raise AnomalyInputError(msg)
    return pd.DatetimeIndex(parsed).as_unit("ns").asi8
