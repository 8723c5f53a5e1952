"""Turn a user's table (CSV or Parquet) into :class:`~workbench.forecasting.base.ForecastData`.

Every repair is counted in a :class:`DataReport`; anything that cannot be repaired without
guessing is rejected with an error that says what to pass instead. The rules:

* **timestamps** — tz-aware values (or strings with offsets) are converted to UTC; naive values
  are read in ``tz`` (``--tz``) and rejected without it; text mixing both is rejected.
  Unparseable values are an error naming the rows. Slashed dates (``05/03/2024``) are read
  month-first unless day-first gives a more regular series (noted in the report).
* **DST** — naive local times: the repeated hour of an autumn change is resolved by order of
  appearance (first = summer time, second = winter time; counted as ``ambiguous_resolved``);
  a local time that does not exist (spring change) is moved forward to the first valid instant
  (counted as ``nonexistent_shifted``).
* **duplicates** — exact duplicate instants are an error unless ``duplicates`` is ``"mean"``,
  ``"first"`` or ``"last"``; the rows merged are counted.
* **grid** — the step is ``freq`` or inferred (the most common spacing; the report says so).
  Timestamps between grid points are averaged into the interval that starts before them
  (``resampled_rows``). Missing steps become NaN (``gaps_filled``).
* **non-numeric values** — an error naming the column and example rows, unless ``coerce`` is set:
  then they become NaN and are counted per column.
* **infinite values** (``inf``, ``-inf``) — the same: an error, or with ``coerce`` NaN counted
  per column in ``infinite_to_nan``. They never reach a model or a metric.
* **missing columns** — :class:`~workbench.core.errors.MissingColumnsError` with the available ones.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from workbench.core.errors import MissingColumnsError, WorkbenchError
from workbench.core.timestamps import check_time_zones
from workbench.forecasting.base import ForecastData, ForecastError

DUPLICATE_POLICIES = ("error", "mean", "first", "last")


class DataPreparationError(ForecastError):
    """The table cannot be turned into a forecastable series as given."""


class TimestampError(DataPreparationError):
    """Timestamps are missing a zone, unparseable or not on a grid."""


class DuplicateTimestampsError(DataPreparationError):
    """Several rows share one instant and no aggregation was asked for."""


class NonNumericError(DataPreparationError):
    """A value column holds text that is not a number."""


class NonFiniteError(DataPreparationError):
    """A value column holds ``inf`` or ``-inf``."""


@dataclass
class DataReport:
    """What :func:`prepare_frame` found and repaired (every count is a number of rows/steps)."""

    rows_in: int = 0
    timestamps: str = ""
    tz: str = "UTC"
    freq: str = ""
    freq_inferred: bool = False
    start: str = ""
    end: str = ""
    steps: int = 0
    nonexistent_shifted: int = 0
    ambiguous_resolved: int = 0
    duplicates_merged: int = 0
    resampled_rows: int = 0
    gaps_filled: int = 0
    coerced_to_nan: dict[str, int] = field(default_factory=dict)
    infinite_to_nan: dict[str, int] = field(default_factory=dict)
    missing_target: int = 0
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-able dict."""
        return asdict(self)


def _examples(frame: pd.DataFrame, mask: np.ndarray, col: str, n: int = 3) -> str:
    rows = frame.loc[mask, col].head(n)
    return ", ".join(f"row {i + 1}: {v!r}" for i, v in zip(rows.index, rows, strict=True))


def parse_timestamps(
    raw: pd.Series, tz: str | None, report: DataReport
) -> tuple[pd.DatetimeIndex, str]:
    """Parse a time column to UTC; returns the index and the zone for calendar features."""
    frame = raw.to_frame("ts").reset_index(drop=True)
    if raw.isna().any():
        bad = raw.isna().to_numpy()
        raise TimestampError(
            f"expected a timestamp in every row; found {int(bad.sum())} empty "
            f"(e.g. {', '.join(f'row {i + 1}' for i in np.flatnonzero(bad)[:3])}). "
            "Remove those rows or fill them."
        )
    if isinstance(raw.dtype, pd.DatetimeTZDtype) or pd.api.types.is_datetime64_dtype(raw.dtype):
        parsed = pd.DatetimeIndex(raw)
    else:
        check_time_zones(raw, str(raw.name), error=TimestampError)
        parsed = _parse_text(raw.astype(str), report)
        bad = np.asarray(parsed.isna())
        if bad.any():
            raise TimestampError(
                f"expected parseable timestamps; found {int(bad.sum())} that are not "
                f"({_examples(frame, bad, 'ts')}). Use ISO 8601, e.g. 2024-03-31 01:00:00."
            )
    if parsed.tz is not None:
        zone = tz or (str(parsed.tz) if "UTC" not in str(parsed.tz) else "UTC")
        report.timestamps = f"tz-aware ({parsed.tz}), converted to UTC"
        return parsed.tz_convert("UTC"), valid_timezone(zone)
    if tz is None:
        raise TimestampError(
            "expected tz-aware timestamps or a time zone; found naive timestamps "
            f"(e.g. {raw.iloc[0]}). Pass --tz with the zone they were recorded in, "
            "e.g. --tz Europe/London or --tz UTC."
        )
    zone = valid_timezone(tz)
    return _localize(parsed, zone, report), zone


def _parse_strings(text: pd.Series, dayfirst: bool) -> pd.DatetimeIndex:
    try:
        out = pd.to_datetime(text, errors="coerce", format="mixed", dayfirst=dayfirst)
    except (ValueError, TypeError):  # mixed offsets (a DST change in the strings)
        out = pd.to_datetime(text, errors="coerce", format="mixed", dayfirst=dayfirst, utc=True)
    return pd.DatetimeIndex(out)


def _regularity(index: pd.DatetimeIndex) -> tuple[int, int]:
    """(unparsed count, distinct spacings): lower is a more plausible reading."""
    ok = index.dropna()
    diffs = np.unique(np.diff(np.sort(ok.as_unit("ns").asi8))) if len(ok) > 1 else []
    return int(index.isna().sum()), len(diffs)


def _parse_text(text: pd.Series, report: DataReport) -> pd.DatetimeIndex:
    """Parse strings; ``01/02/2024`` is read day-first only when that gives a regular series."""
    month_first = _parse_strings(text, dayfirst=False)
    if not text.str.contains("/").any():
        return month_first
    day_first = _parse_strings(text, dayfirst=True)
    if _regularity(day_first) < _regularity(month_first):
        report.notes.append("dates like 01/02/2024 read as day/month/year (the regular reading)")
        return day_first
    return month_first


def valid_timezone(
    tz: Any, what: str = "time zone", error: type[WorkbenchError] | None = None
) -> str:
    """Return ``tz`` when it is an IANA zone name; otherwise raise a one-line error.

    The message lists the closest valid names and how to list them all. ``error`` is the class
    raised (default :class:`TimestampError`).

    >>> valid_timezone("America/Chicago")
    'America/Chicago'
    """
    import difflib
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

    try:
        if not isinstance(tz, str) or not tz.strip():
            raise ValueError(tz)
        ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError, OSError):  # unknown, malformed, a folder name
        close = difflib.get_close_matches(str(tz), sorted(available_timezones()), n=3)
        hint = f"did you mean {' or '.join(close)}? " if close else ""
        msg = (
            f"expected {what} as an IANA name such as UTC or America/Chicago; found {tz!r}. "
            f'{hint}List them with: python -c "import zoneinfo; '
            f'print(sorted(zoneinfo.available_timezones()))"'
        )
        raise (error or TimestampError)(msg) from None
    return tz


def _localize(naive: pd.DatetimeIndex, tz: str, report: DataReport) -> pd.DatetimeIndex:
    """Localize naive wall times with counted DST repairs (see the module doc)."""
    probe = naive.tz_localize(tz, ambiguous="NaT", nonexistent="shift_forward")
    amb = np.asarray(probe.isna())
    probe2 = naive.tz_localize(tz, ambiguous=np.ones(len(naive), bool), nonexistent="NaT")
    nonexistent = np.asarray(probe2.isna())
    order = pd.Series(naive.asi8).groupby(naive.asi8).cumcount().to_numpy()
    flags = ~(amb & (order >= 1))  # first occurrence: summer time; later ones: winter time
    local = naive.tz_localize(tz, ambiguous=flags, nonexistent="shift_forward")
    report.ambiguous_resolved = int(amb.sum())
    report.nonexistent_shifted = int(nonexistent.sum())
    report.timestamps = f"naive, read as local time in {tz}, converted to UTC"
    if report.ambiguous_resolved:
        report.notes.append(
            f"{report.ambiguous_resolved} local times repeated by a DST change were resolved by "
            "order (first = summer time)"
        )
    if report.nonexistent_shifted:
        report.notes.append(
            f"{report.nonexistent_shifted} local times skipped by a DST change were moved forward"
        )
    return local.tz_convert("UTC")


def _numeric(frame: pd.DataFrame, cols: list[str], coerce: bool, report: DataReport) -> None:
    for col in cols:
        raw = frame[col]
        if pd.api.types.is_numeric_dtype(raw.dtype) and not pd.api.types.is_bool_dtype(raw.dtype):
            frame[col] = raw.astype(float)
            continue
        num = pd.to_numeric(raw, errors="coerce")
        blank = raw.isna() | raw.astype(str).str.strip().isin(["", "nan", "NaN", "NA", "null"])
        bad = np.asarray(num.isna() & ~blank)
        if bad.any():
            if not coerce:
                raise NonNumericError(
                    f"expected numbers in column {col!r}; found {int(bad.sum())} non-numeric "
                    f"values ({_examples(frame, bad, col)}). Fix them, or pass --coerce to turn "
                    "them into missing values (counted in the report)."
                )
            report.coerced_to_nan[col] = int(bad.sum())
        frame[col] = num.astype(float)
    for col in cols:
        inf = np.asarray(np.isinf(frame[col].to_numpy(dtype=float)))
        if not inf.any():
            continue
        if not coerce:
            raise NonFiniteError(
                f"expected finite numbers in column {col!r}; found {int(inf.sum())} infinite "
                f"values ({_examples(frame, inf, col)}). Fix them, or pass --coerce to turn "
                "them into missing values (counted in the report)."
            )
        report.infinite_to_nan[col] = int(inf.sum())
        frame.loc[inf, col] = np.nan


def infer_freq(index: pd.DatetimeIndex) -> pd.Timedelta:
    """The most common positive spacing of sorted timestamps."""
    diffs = np.diff(np.unique(index.as_unit("ns").asi8))
    if not len(diffs):
        raise TimestampError("expected at least 2 distinct timestamps to infer a step; found 1")
    values, counts = np.unique(diffs, return_counts=True)
    return pd.Timedelta(int(values[np.argmax(counts)]), unit="ns")


def _check_gaps(index: pd.DatetimeIndex, step: pd.Timedelta) -> None:
    """Refuse a series whose grid would be mostly gaps (more missing steps than rows).

    Short gaps are filled with NaN and counted; a gap that dwarfs the data (a file joining two
    far-apart periods) is an error naming where it is, before a grid that size is built.
    """
    step_ns = step.value
    grid = (index[-1].value - index[0].value) // step_ns + 1
    missing = grid - len(index)
    if missing <= len(index):
        return
    diffs = np.diff(index.as_unit("ns").asi8)
    widest = int(np.argmax(diffs))
    gap = pd.Timedelta(int(diffs[widest]), unit="ns")
    raise TimestampError(
        f"expected a mostly continuous series of {step} steps; found a gap of {gap} after "
        f"{index[widest]} ({missing:,} of {grid:,} steps would be missing for {len(index)} rows)."
        " Cut the file to one side of the gap."
    )


def prepare_frame(
    frame: pd.DataFrame,
    time_col: str,
    target: str,
    *,
    tz: str | None = None,
    freq: str | pd.Timedelta | None = None,
    future_covariates: tuple[str, ...] | list[str] = (),
    past_covariates: tuple[str, ...] | list[str] = (),
    duplicates: str = "error",
    coerce: bool = False,
) -> tuple[ForecastData, DataReport, str]:
    """Validate and repair a user table; see the module doc for the rules.

    Returns
    -------
    data : ForecastData
        Target and covariates on a regular UTC grid.
    report : DataReport
        Counts of every repair.
    tz : str
        The zone for calendar features and daily issue times.
    """
    report = DataReport(rows_in=len(frame))
    needed = [time_col, target, *future_covariates, *past_covariates]
    missing = [c for c in dict.fromkeys(needed) if c not in frame.columns]
    if missing:
        raise MissingColumnsError("the data file", missing, [str(c) for c in frame.columns])
    if duplicates not in DUPLICATE_POLICIES:
        raise DataPreparationError(
            f"expected duplicates policy in {list(DUPLICATE_POLICIES)}; found {duplicates!r}"
        )
    if frame.empty:
        raise DataPreparationError("expected rows in the data file; found none")
    if len(frame) < 2:
        raise DataPreparationError(
            f"expected at least 2 rows in the data file to make a series; found {len(frame)} row"
        )
    values = [target, *future_covariates, *past_covariates]
    work = frame[list(dict.fromkeys([time_col, *values]))].reset_index(drop=True).copy()
    _numeric(work, values, coerce, report)
    index, zone = parse_timestamps(work[time_col], tz, report)
    report.tz = zone
    work = work.drop(columns=[time_col]).set_index(index).sort_index(kind="stable")
    dup = work.index.duplicated(keep=False)
    if dup.any():
        n_dup = int(work.index.duplicated().sum())
        if duplicates == "error":
            ex = ", ".join(str(t) for t in work.index[dup].unique()[:3])
            raise DuplicateTimestampsError(
                f"expected one row per timestamp; found {n_dup} duplicate rows (e.g. at {ex} UTC)."
                " Remove them, or pass --duplicates mean|first|last to merge them (counted)."
            )
        work = work.groupby(level=0).agg(duplicates)
        report.duplicates_merged = n_dup
    if freq is None:
        step = infer_freq(work.index)
        report.freq_inferred = True
        report.notes.append(f"step inferred from the timestamps: {step}")
    else:
        try:
            step = pd.Timedelta(freq)
        except ValueError as exc:
            raise TimestampError(f"expected --freq like 30min or 1h; found {freq!r}") from exc
    report.freq = str(step)
    on_grid = work.index.floor(step)
    off = int((on_grid != work.index).sum())
    if off or on_grid.has_duplicates:
        before = len(work)
        work = work.groupby(on_grid).mean()
        report.resampled_rows = before
        report.notes.append(
            f"{off} timestamps between {step} grid points; {before} rows averaged into "
            f"{len(work)} intervals (interval-start labels)"
        )
    _check_gaps(work.index, step)
    full = pd.date_range(work.index[0], work.index[-1], freq=step)
    report.gaps_filled = len(full) - len(work)
    work = work.reindex(full)
    work.index.name = None
    report.steps = len(work)
    report.start, report.end = str(full[0]), str(full[-1])
    report.missing_target = int(work[target].isna().sum())
    if work[target].notna().sum() < 2:
        raise DataPreparationError(
            f"expected numeric target values in {target!r}; found {work[target].notna().sum()}"
        )
    past = work[list(past_covariates)] if past_covariates else None
    future = work[list(future_covariates)] if future_covariates else None
    data = ForecastData(y=work[target].rename(target), past=past, future=future)
    return data, report, zone
