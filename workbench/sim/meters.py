"""Smart-meter interval reads (``bronze.meter_reads``): 15-minute kWh per meter, as landed.

The meters are a sample of each region's customers. Meters go to regions in proportion to the
region's mean load; 12 % of each region's meters are commercial. Each meter has a size (mean
power, lognormal around 1.22 kW for residential, i.e. about 10,700 kWh/yr, and 8.5 kW for
commercial) and a class shape in local time: commercial meters follow business hours (weekdays
08:00-18:00, lower at night, on weekends and on US/Texas holidays); residential meters take the
complement, chosen so that the *expected* sum of a region's meters is exactly proportional to the
region's load:

    E[sum of a region's meters](t) [kW] = meter_scale[region] · load_mw(t) · 1000

with ``meter_scale = (sum of the meters' mean power) / (the region's mean load over the load frame
given)``; see :func:`meter_scale`. Pass a year of load for the household figures to be annual
means. Each read is that expectation times a lognormal, AR(1)-correlated household factor (very
spiky: σ ≈ 0.9 for homes, 0.35 for businesses), continuing from day to day.

Landing defects: about 2 % of reads are missing (isolated, plus communication gaps of a few hours on
10 % of meter-days), about 1 % are estimated (half the gaps and some isolated reads filled by the
head-end's estimation: ``is_estimated`` true, smooth values) and about 0.3 % are landed twice
(identical duplicate rows). Frames hold one local date of
one region (92 quarter-hours on the spring-forward day, 100 on the fall-back day), optionally split
in chunks of ``chunk_meters`` meters.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta
from typing import Any

import numpy as np
import pandas as pd
from scipy.signal import lfilter

from workbench.core.errors import MissingColumnsError, WorkbenchError

METER_COLUMNS = (
    "meter_id",
    "timestamp",
    "energy_kwh",
    "is_estimated",
    "customer_class",
    "region_id",
    "date",
)
RESIDENTIAL_KW = 10_700.0 / 8760.0  # mean power of a US home [kW]
COMMERCIAL_KW = 8.5  # mean power of a small/medium business [kW]
COMMERCIAL_SHARE = 0.12  # of the meters
_SIGMA = {"residential": 0.9, "commercial": 0.35}  # lognormal spread of a 15-min read
_PHI = 0.5  # AR(1) coefficient of the household factor between 15-min reads
# isolated missing, isolated estimated, duplicated reads; chance of a gap per meter-day
_P_MISSING, _P_ESTIMATED, _P_DUP, _P_GAP = 0.015, 0.005, 0.003, 0.1
_GAP_MEAN_READS = 12.0
_STR = pd.StringDtype("pyarrow", na_value=np.nan)
_CLASSES = np.array(["residential", "commercial"])


def meter_scale(regions: pd.DataFrame, load: pd.DataFrame, n_meters: int) -> pd.Series:
    """Ratio of the meters' expected sum to the region's load, per region [1].

    Parameters
    ----------
    regions : pandas.DataFrame
        ``bronze.raw_regions`` (region_id, timezone, ...).
    load : pandas.DataFrame
        ``bronze.raw_load`` (timestamp, region_id, load_mw [MW]).
    n_meters : int
        Meters in all regions.

    Returns
    -------
    pandas.Series
        Indexed by region_id: expected meter sum [kW] divided by regional load [kW]. Multiply
        a region's load [MW] by ``1000 * 0.25 * scale`` for the expected kWh of its meters in a
        quarter-hour.
    """
    counts, mean_load_mw = _allocate(regions, load, n_meters)
    n_com = np.round(COMMERCIAL_SHARE * counts).astype(int)
    total_kw = (counts - n_com) * RESIDENTIAL_KW + n_com * COMMERCIAL_KW
    scale = np.where(mean_load_mw > 0, total_kw / (mean_load_mw * 1000.0), 0.0)
    return pd.Series(scale, index=pd.Index(regions["region_id"], name="region_id"), name="scale")


def iter_meter_reads(
    regions: pd.DataFrame,
    load: pd.DataFrame,
    n_meters: int,
    start: Any,
    days: int,
    rng: np.random.Generator,
    chunk_meters: int | None = 100_000,
) -> Iterator[pd.DataFrame]:
    """Yield meter reads one (local date, region[, chunk of meters]) at a time.

    Parameters
    ----------
    regions : pandas.DataFrame
        ``bronze.raw_regions``; ``timezone`` sets each region's local days and business hours.
    load : pandas.DataFrame
        ``bronze.raw_load`` (5-min or coarser). Quarter-hours it does not cover repeat the same
        time a day earlier (or the nearest covered value).
    n_meters : int
        Meters in all regions.
    start : date-like
        First local date (a timestamp's calendar date is used as is).
    days : int
        Number of local dates.
    rng : numpy.random.Generator
        Source of randomness (the output also depends on ``chunk_meters``).
    chunk_meters : int or None
        Split each region-day into frames of at most this many meters (default 100,000: about
        9.6M rows, 1-1.5 GB at peak while generating); None: one frame per region-day.

    Yields
    ------
    pandas.DataFrame
        ``bronze.meter_reads`` columns: meter_id, timestamp (UTC, interval start), energy_kwh
        [kWh], is_estimated, customer_class, region_id, date (local date, date32). Rows are
        ordered by meter then time; duplicates sit next to their original.
    """
    if days < 0 or n_meters < 0:
        raise WorkbenchError(f"expected days, n_meters >= 0; found {days}, {n_meters}")
    counts, _ = _allocate(regions, load, n_meters)
    chunk = max(int(counts.max(initial=1)), 1) if chunk_meters is None else int(chunk_meters)
    if chunk < 1:
        raise WorkbenchError(f"expected chunk_meters >= 1; found {chunk_meters!r}")
    first_day = pd.Timestamp(start).date()
    shapes = _load_shapes(regions, load, first_day, days)
    offsets = np.concatenate([[0], np.cumsum(counts)])
    n_total = int(offsets[-1])
    # meters: class, size [kW] (normalised so each class has its nominal mean), AR state
    is_com = np.zeros(n_total, bool)
    size_kw = np.exp(rng.normal(0.0, 0.5, n_total))
    for r, n in enumerate(counts):
        sel = slice(offsets[r], offsets[r + 1])
        is_com[sel] = rng.permutation(np.arange(n) < np.round(COMMERCIAL_SHARE * n))
        for cls, nominal in ((False, RESIDENTIAL_KW), (True, COMMERCIAL_KW)):
            of_class = size_kw[sel][is_com[sel] == cls]
            if of_class.size:  # exact class means, so that meter_scale holds region by region
                size_kw[sel] = np.where(
                    is_com[sel] == cls, size_kw[sel] * nominal / of_class.mean(), size_kw[sel]
                )
    sigma = np.where(is_com, _SIGMA["commercial"], _SIGMA["residential"])
    state = rng.standard_normal(n_total)
    id_digits = max(7, len(str(n_total)))
    if id_digits > 8:
        raise WorkbenchError(f"expected at most 99,999,999 meters; found {n_total}")
    holidays = _holidays(first_day, days)
    for d in range(days):
        local_day = first_day + timedelta(days=d)
        for r, row in enumerate(regions.itertuples(index=False)):
            if counts[r] == 0:
                continue
            stamps, shape_com = _local_day(local_day, row.timezone, holidays)
            lo = offsets[r]
            sel = slice(lo, offsets[r + 1])
            k_com = size_kw[sel][is_com[sel]].sum()
            k_res = size_kw[sel][~is_com[sel]].sum()
            shape_res = np.maximum(1.0 + k_com / max(k_res, 1e-9) * (1.0 - shape_com), 0.2)
            region_shape = shapes[row.region_id].reindex(stamps).to_numpy(float)
            expect = {  # expected kWh per kW of meter size, per quarter-hour
                False: region_shape * shape_res * 0.25,
                True: region_shape * shape_com * 0.25,
            }
            for c0 in range(lo, offsets[r + 1], chunk):
                c1 = min(c0 + chunk, offsets[r + 1])
                yield _chunk_frame(
                    rng, id_digits, c0, c1, stamps, expect, is_com, size_kw, sigma, state,
                    row.region_id, local_day,
                )  # fmt: skip


def _chunk_frame(
    rng: np.random.Generator,
    id_digits: int,
    c0: int,
    c1: int,
    stamps: pd.DatetimeIndex,
    expect: dict[bool, np.ndarray],
    is_com: np.ndarray,
    size_kw: np.ndarray,
    sigma: np.ndarray,
    state: np.ndarray,
    region_id: str,
    local_day: date,
) -> pd.DataFrame:
    """Reads of meters ``c0:c1`` for one local day; updates the AR ``state`` in place."""
    import pyarrow as pa

    m, n_t = c1 - c0, len(stamps)
    com = is_com[c0:c1]
    noise = rng.standard_normal((m, n_t), dtype=np.float32)
    gain = np.array([np.sqrt(1 - _PHI**2)], np.float32)
    factor, _ = lfilter(
        gain, np.array([1.0, -_PHI], np.float32), noise, axis=1,
        zi=(_PHI * state[c0:c1])[:, None].astype(np.float32),
    )  # fmt: skip
    state[c0:c1] = factor[:, -1]
    s = sigma[c0:c1, None].astype(np.float32)
    factor *= s
    factor -= 0.5 * s**2
    np.exp(factor, out=factor)
    base = np.where(com[:, None], expect[True][None, :], expect[False][None, :])
    base *= size_kw[c0:c1, None]
    # estimated reads (half the communication gaps, a few isolated ones) take the smooth value
    u = rng.random((m, n_t), dtype=np.float32)
    missing = u < _P_MISSING
    estimated = (u >= _P_MISSING) & (u < _P_MISSING + _P_ESTIMATED)
    reps = 1 + (u > 1 - _P_DUP).astype(np.int8)
    gap_rows = np.flatnonzero(rng.random(m) < _P_GAP)
    g_start = rng.integers(0, n_t, gap_rows.size)[:, None]
    g_len = rng.geometric(1.0 / _GAP_MEAN_READS, gap_rows.size)[:, None]
    t_idx = np.arange(n_t)[None, :]
    in_gap = (t_idx >= g_start) & (t_idx < g_start + g_len)
    filled = (rng.random(gap_rows.size) < 0.5)[:, None]
    estimated[gap_rows] |= in_gap & filled
    missing[gap_rows] |= in_gap & ~filled
    factor[estimated] = 0.98
    reps[missing] = 0
    per_meter = reps.sum(axis=1, dtype=np.int64)
    idx = np.repeat(np.arange(m * n_t), reps.ravel().astype(np.intp))
    base *= factor
    energy = base.ravel()[idx].round(3)
    utc_ns = np.tile(stamps.as_unit("ns").asi8, m)[idx]
    n = idx.size
    day32 = pa.array(np.full(n, (local_day - date(1970, 1, 1)).days, np.int32)).view(pa.date32())
    return pd.DataFrame(
        {
            "meter_id": _repeat_fixed(_meter_id_bytes(c0 + 1, m, id_digits), per_meter),
            "timestamp": pd.DatetimeIndex(utc_ns.view("datetime64[ns]"), tz="UTC"),
            "energy_kwh": energy,
            "is_estimated": estimated.ravel()[idx],
            "customer_class": _repeat_views(_CLASS_VIEWS[com.astype(np.int8)], per_meter),
            "region_id": pd.arrays.ArrowStringArray(_constant_strings(region_id, n), dtype=_STR),
            "date": pd.array(day32, dtype=pd.ArrowDtype(pa.date32())),
        },
        copy=False,
    )


def _string_views(labels: list[bytes]) -> np.ndarray:
    """Arrow string-view records (16 bytes: int32 length, inline bytes) of short labels."""
    out = np.zeros((len(labels), 16), np.uint8)
    for i, raw in enumerate(labels):
        out[i, :4] = np.frombuffer(np.int32(len(raw)).tobytes(), np.uint8)
        out[i, 4 : 4 + len(raw)] = np.frombuffer(raw, np.uint8)
    return out


_CLASS_VIEWS = _string_views([c.encode() for c in _CLASSES])


def _meter_id_bytes(first: int, m: int, digits: int) -> np.ndarray:
    """Bytes (m, 4 + digits) of 'MTR_' + zero-padded numbers ``first .. first+m-1``."""
    out = np.empty((m, 4 + digits), np.uint8)
    out[:, :4] = np.frombuffer(b"MTR_", np.uint8)
    number = np.arange(first, first + m, dtype=np.int64)
    for k in range(digits):
        out[:, 4 + k] = 48 + (number // 10 ** (digits - 1 - k)) % 10
    return out


def _repeat_fixed(labels: np.ndarray, repeats: np.ndarray) -> pd.arrays.ArrowStringArray:
    """Repeat each fixed-width label (rows of ``labels`` bytes) ``repeats`` times, as strings."""
    import pyarrow as pa

    data = np.repeat(labels, repeats, axis=0)
    n, width = data.shape
    if n * width >= 2**31 - 1:
        raise WorkbenchError(f"expected frames under 2 GiB of ids; found {n} rows (chunk them)")
    offsets = np.arange(n + 1, dtype=np.int32) * np.int32(width)
    arr = pa.Array.from_buffers(pa.string(), n, [None, pa.py_buffer(offsets), pa.py_buffer(data)])
    return pd.arrays.ArrowStringArray(arr, dtype=_STR)


def _repeat_views(views: np.ndarray, repeats: np.ndarray) -> pd.arrays.ArrowStringArray:
    """Repeat each label ``repeats`` times, as a pandas string array (no per-row Python work)."""
    import pyarrow as pa

    rows = np.repeat(np.ascontiguousarray(views).view("V16").ravel(), repeats)
    arr = pa.Array.from_buffers(pa.string_view(), rows.size, [None, pa.py_buffer(rows)])
    return pd.arrays.ArrowStringArray(arr.cast(pa.string()), dtype=_STR)


def _allocate(
    regions: pd.DataFrame, load: pd.DataFrame, n_meters: int
) -> tuple[np.ndarray, np.ndarray]:
    """Meters per region (largest remainder, in proportion to mean load) and mean load [MW]."""
    for frame, need, what in (
        (regions, {"region_id", "timezone"}, "regions"),
        (load, {"timestamp", "region_id", "load_mw"}, "load"),
    ):
        if not need <= set(frame.columns):
            raise MissingColumnsError(
                f"meter reads {what}", need - set(frame.columns), frame.columns
            )
    mean_load = load.groupby("region_id")["load_mw"].mean()
    mean_mw = mean_load.reindex(regions["region_id"]).fillna(0.0).to_numpy(float)
    if n_meters and mean_mw.sum() <= 0:
        raise WorkbenchError("expected positive load for at least one region; found none")
    share = mean_mw / max(mean_mw.sum(), 1e-12) * n_meters
    counts = np.floor(share).astype(int)
    counts[np.argsort(share - counts)[::-1][: n_meters - counts.sum()]] += 1
    return counts, mean_mw


def _load_shapes(
    regions: pd.DataFrame, load: pd.DataFrame, first_day: date, days: int
) -> dict[str, pd.Series]:
    """Per region: 15-min mean load over its own mean [1], on UTC quarter-hours of the period."""
    times = pd.to_datetime(load["timestamp"], utc=True)
    lo = pd.Timestamp(first_day, tz="UTC") - pd.Timedelta(hours=14)
    grid = pd.date_range(lo, lo + pd.Timedelta(days=days + 2), freq="15min", unit="ns")
    shapes = {}
    for region_id in regions["region_id"]:
        rows = load["region_id"] == region_id
        series = pd.Series(load.loc[rows, "load_mw"].to_numpy(float), index=times[rows])
        mean = series.mean()
        q = series.groupby(series.index.floor("15min")).mean().reindex(grid)
        for _ in range(days + 2):  # fill uncovered quarter-hours from the day before
            if not q.isna().any():
                break
            q = q.fillna(q.shift(96))
        q = q.ffill().bfill()
        shapes[region_id] = q / mean if mean and np.isfinite(mean) else q * 0.0
    return shapes


def _local_day(
    local_day: date, timezone: str, holidays: set[date]
) -> tuple[pd.DatetimeIndex, np.ndarray]:
    """UTC starts of the local day's quarter-hours (92/96/100) and the commercial shape there."""
    t0 = pd.Timestamp(local_day).tz_localize(timezone)
    t1 = pd.Timestamp(local_day + timedelta(days=1)).tz_localize(timezone)
    local = pd.date_range(t0, t1, freq="15min", inclusive="left", unit="ns")
    hour = local.hour + local.minute / 60.0
    workday = local_day.weekday() < 5 and local_day not in holidays
    return local.tz_convert("UTC"), _business_shape(hour.to_numpy(float), workday)


def _business_shape(hour: np.ndarray, workday: bool) -> np.ndarray:
    """Commercial load multiplier by local hour, normalised to a weekly mean of 1 [1]."""
    open_ = np.clip((hour - 6.0) / 2.0, 0, 1) * np.clip((20.0 - hour) / 2.0, 0, 1)
    raw = 0.6 + 0.85 * open_ if workday else 0.72 + 0.12 * open_
    week = np.arange(0, 24, 0.25)
    week_open = np.clip((week - 6.0) / 2.0, 0, 1) * np.clip((20.0 - week) / 2.0, 0, 1)
    mean = (5 * (0.6 + 0.85 * week_open).mean() + 2 * (0.72 + 0.12 * week_open).mean()) / 7
    return raw / mean


def _holidays(first_day: date, days: int) -> set[date]:
    import holidays

    years = range(first_day.year, (first_day + timedelta(days=max(days, 1))).year + 1)
    return set(holidays.country_holidays("US", subdiv="TX", years=years).keys())


def _constant_strings(value: str, n: int) -> Any:
    """A pyarrow string array of ``n`` copies of ``value``, built without a per-row loop."""
    import pyarrow as pa

    raw = value.encode()
    if n * len(raw) >= 2**31 - 1:
        return pa.repeat(pa.scalar(value, pa.string()), n)
    offsets = np.arange(n + 1, dtype=np.int32) * np.int32(len(raw))
    return pa.Array.from_buffers(
        pa.string(), n, [None, pa.py_buffer(offsets), pa.py_buffer(raw * n)]
    )
