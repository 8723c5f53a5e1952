"""Data access shared by the dashboard pages: short-lived read-only catalog, filters, buckets.

Every page refresh opens the warehouse read-only (:func:`reader`), runs its queries as Ibis
expressions (filters and aggregations pushed down into the warehouse, so only what is drawn
leaves it) and closes the connection again, so scheduled jobs can write in between and new rows
show up on the next refresh.

Display resolution
------------------
Long ranges are aggregated, never thinned: :func:`choose_resolution` picks the finest step from
:data:`RESOLUTIONS` that keeps a series under ``max_points`` points (a year of 5-min load becomes
12-hourly means with min/max envelopes); :func:`bucket` maps a timestamp column onto that step as
integer epoch seconds, which every Ibis backend computes (DuckDB, PostgreSQL, Snowflake).
"""

from __future__ import annotations

import contextlib
import os
import threading
from collections import OrderedDict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field, replace
from datetime import timedelta
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from workbench.core.config import workbench_home
from workbench.core.errors import WorkbenchError
from workbench.io.catalog import Catalog, open_catalog

if TYPE_CHECKING:
    import ibis.expr.types as ir

#: Display steps, finest first; a chart uses the finest one that fits ``max_points``.
RESOLUTIONS: tuple[timedelta, ...] = tuple(
    timedelta(minutes=m) for m in (5, 15, 30, 60, 180, 360, 720, 1440, 10080)
)
#: Points per series a chart is drawn with at most: about one per pixel of a full-width chart
#: (1,100-1,500 px). The browser's cost of drawing a min/max envelope grows with its points (a
#: year at 6 h, 1,464 points per region, took twice the canvas time of 12 h in headless Chromium).
MAX_POINTS = 1200


class NoDataError(WorkbenchError):
    """The warehouse (or a table a page needs) is missing or holds no rows yet."""


@dataclass(frozen=True)
class Filters:
    """What a planner picked on a page; ``None`` means everything.

    Attributes
    ----------
    regions : tuple of str, optional
        Region ids (``gold.dim_regions.region_id``).
    start, end : pandas.Timestamp, optional
        Half-open window ``[start, end)`` [UTC].
    horizon_h : (int, int), optional
        Forecast lead times kept, inclusive [h] (target time minus issue time).
    technologies : tuple of str, optional
        Generation technologies (``gold.generation_mix.technology``).
    market : str
        ``"DA"`` or ``"RT"`` for the LMP heatmap.
    component : str
        The price column of the heatmap: lmp_price, energy_component, congestion or losses.
    tz : str
        Time zone the charts are drawn in (``America/Chicago`` by default, or ``UTC``).
    """

    regions: tuple[str, ...] | None = None
    start: pd.Timestamp | None = None
    end: pd.Timestamp | None = None
    horizon_h: tuple[int, int] | None = None
    technologies: tuple[str, ...] | None = None
    market: str = "RT"
    component: str = "lmp_price"
    tz: str = "America/Chicago"

    def __post_init__(self) -> None:
        for name in ("start", "end"):
            value = getattr(self, name)
            if value is not None:
                object.__setattr__(self, name, utc(value))
        if self.start is not None and self.end is not None and self.end <= self.start:
            msg = f"expected the date range to end after it starts; found {self.start} → {self.end}"
            raise NoDataError(msg)

    def with_(self, **changes: Any) -> Filters:
        return replace(self, **changes)


#: Quick ranges offered on every dated page: label → length (``"all"``: the data's whole span).
QUICK_RANGES: dict[str, timedelta | None] = {
    "24 h": timedelta(hours=24),
    "7 d": timedelta(days=7),
    "30 d": timedelta(days=30),
    "1 y": timedelta(days=365),
    "all": None,
}
DEFAULT_RANGE = "7 d"


def quick_window(
    name: str, bounds: tuple[pd.Timestamp, pd.Timestamp], step: timedelta
) -> tuple[pd.Timestamp, pd.Timestamp]:
    """``[start, end)`` of quick range ``name`` ending at the data's last interval.

    Examples
    --------
    >>> import pandas as pd
    >>> b = (pd.Timestamp("2024-01-01", tz="UTC"), pd.Timestamp("2024-03-01 23:00", tz="UTC"))
    >>> [str(t) for t in quick_window("7 d", b, timedelta(hours=1))]
    ['2024-02-24 00:00:00+00:00', '2024-03-02 00:00:00+00:00']
    """
    if name not in QUICK_RANGES:
        msg = f"expected a range in {list(QUICK_RANGES)}; found {name!r}"
        raise WorkbenchError(msg)
    end = bounds[1] + step
    length = QUICK_RANGES[name]
    start = bounds[0] if length is None else max(bounds[0], end - length)
    return start, end


def utc(value: Any) -> pd.Timestamp:
    """A timezone-aware UTC ``Timestamp`` (naive values are taken as UTC)."""
    ts = pd.Timestamp(value)
    return ts.tz_localize("UTC") if ts.tzinfo is None else ts.tz_convert("UTC")


# ---------------------------------------------------------------------- reading
def _spec(path: str | None) -> tuple[Any, Path]:
    """The validated catalog, parsed once per catalog file and ``WORKBENCH_*`` environment."""
    env = tuple(sorted((k, v) for k, v in os.environ.items() if k.startswith("WORKBENCH_")))
    return _spec_cached(path, env)


@lru_cache(maxsize=8)
def _spec_cached(path: str | None, env: tuple[tuple[str, str], ...]) -> tuple[Any, Path]:
    cat = open_catalog(path)  # the catalog interpolates ${WORKBENCH_HOME} and friends
    return cat.spec, cat.path


class Reader:
    """One refresh's access to the warehouse: Ibis tables by catalog name, missing ones as None.

    Table listings, relations and :meth:`memo` results are kept for the reader's life (one
    refresh), so a page asks the warehouse for each only once.
    """

    def __init__(self, catalog: Catalog, version: tuple[Any, ...] | None = None) -> None:
        self.catalog = catalog
        #: The default warehouse file's :func:`file_version` when the reader connected
        #: (``None``: not a DuckDB file, so only a query can tell whether its data changed).
        self.version = version
        #: Where the data lives (catalog file, lakehouse home, default warehouse URL): part of
        #: every cache key, so two lakehouses whose tables have equal signatures never share
        #: cached results.
        self.where = (str(catalog.path), str(workbench_home()), catalog.warehouse().url)
        self._listed: dict[tuple[str, str], set[str]] = {}
        self._relations: dict[str, Any] = {}
        self._memo: dict[Any, Any] = {}

    def exists(self, name: str) -> bool:
        spec = self.catalog.entry(name)
        schema, _, table = spec.location.partition(".")
        key = (spec.warehouse, schema)
        if key not in self._listed:
            wh = self.catalog.warehouse(spec.warehouse)
            schemas = set(wh.con.list_databases())
            self._listed[key] = set(wh.list_tables(schema)) if schema in schemas else set()
        return table in self._listed[key]

    def table(self, name: str) -> ir.Table | None:
        """The Ibis table of a catalog table, or ``None`` when it has not been written yet."""
        if not self.exists(name):
            return None
        if name not in self._relations:
            self._relations[name] = self.catalog.relation(name)
        return self._relations[name]

    def require(self, name: str) -> ir.Table:
        t = self.table(name)
        if t is None:
            msg = (
                f"expected table {name} in the warehouse; found none. Build the lakehouse "
                "(`workbench demo` or `workbench build`) or wait for the job that writes it"
            )
            raise NoDataError(msg)
        return t

    def table_signature(self, name: str) -> tuple[Any, ...]:
        """(rows, latest time) of one table, asked once per reader (``()`` when missing)."""
        sigs = self._memo.setdefault(("signatures",), {})
        if name not in sigs:
            got = signature(self, [name])
            sigs[name] = got[0] if got else ()
        return sigs[name]

    def remember_signatures(
        self, sigs: tuple[tuple[Any, ...], ...], asked: Sequence[str] = ()
    ) -> None:
        """Keep the rows of a :func:`signature` query of tables ``asked`` (those without a row
        are missing) so :func:`cached` need not ask again."""
        store = self._memo.setdefault(("signatures",), {})
        for name in asked:
            store[name] = ()
        for row in sigs:
            store[row[0]] = row

    def memo(self, key: Any, compute: Any) -> Any:
        """``compute()`` once per reader for ``key`` (bounds asked by the filters and the page)."""
        if key not in self._memo:
            self._memo[key] = compute()
        return self._memo[key]


class _QueryCache:
    """Query results shared by every session, keyed by the query, its filters and the
    signature (rows, latest time) of each table it reads: a job writing one table re-runs only
    the queries that read it."""

    def __init__(self, size: int = 256) -> None:
        self.size = size
        self._items: OrderedDict[Any, Any] = OrderedDict()
        self._lock = threading.Lock()

    def get_or_compute(self, key: Any, compute: Any) -> Any:
        with self._lock:
            if key in self._items:
                self._items.move_to_end(key)
                return self._items[key]
        value = compute()
        with self._lock:
            self._items[key] = value
            while len(self._items) > self.size:
                self._items.popitem(last=False)
        return value


_QUERIES = _QueryCache()


def file_version(path: Path) -> tuple[Any, ...]:
    """Identity, size and modification time [ns] of a DuckDB file and of its write-ahead log.

    Every commit appends to the log or, at a checkpoint, rewrites the file; a build swaps in a
    new file (a new inode): any write changes this tuple, so it versions the file's data.
    """
    out: list[Any] = [str(path)]
    for p in (path, path.with_name(path.name + ".wal")):
        try:
            st = p.stat()
        except FileNotFoundError:
            out.append(None)
            continue
        out.append((st.st_ino, st.st_size, st.st_mtime_ns))
    return tuple(out)


def versioned(r: Reader, key: Any, tables: Sequence[str], compute: Any) -> Any:
    """``compute()`` once per ``key`` and version of the warehouse file holding ``tables``.

    What every session asks first (the filters' options, the data's bounds, the tables'
    signature) then costs a ``stat`` instead of queries while no job writes. Tables outside the
    default DuckDB file (PostgreSQL, Parquet frames) have no file version: ``compute()`` runs.
    The version is taken before the reader connected, so a write during the queries gives a
    new version (a re-run next time), never an old version holding old rows after a write.
    """
    if r.version is None:
        return compute()
    default = r.catalog.warehouse()
    for name in tables:
        spec = r.catalog.entry(name)
        if spec.kind != "table" or r.catalog.warehouse(spec.warehouse) is not default:
            return compute()
    return _QUERIES.get_or_compute((r.where, "versioned", key, r.version), compute)


def cached(r: Reader, key: Any, tables: Sequence[str], compute: Any) -> Any:
    """``compute()`` once per ``key`` and state of ``tables`` (frames come back as copies)."""
    sig = tuple((name, r.table_signature(name)) for name in tables)
    full = (r.where, key, sig)
    value = _QUERIES.get_or_compute(full, compute)
    return value.copy() if isinstance(value, pd.DataFrame) else value


@contextlib.contextmanager
def reader(catalog_path: str | None = None) -> Iterator[Reader]:
    """A read-only :class:`Reader` whose warehouse connection is closed on exit.

    A warehouse that does not exist yet (no DuckDB file) raises :class:`NoDataError`. A DuckDB
    file is opened on the reader's first query (opening it costs more than many a cached page).
    """
    from workbench.core.errors import WarehouseError

    spec, path = _spec(catalog_path)
    cat = Catalog(spec, path, read_only=True)
    try:
        try:
            wh = cat.warehouse()
            file = wh.duckdb_path
            version = file_version(file) if file is not None else None  # before connecting
            if version is None or version[1] is None:
                wh.con  # noqa: B018 - connect now: a missing file or server is "no data yet"
            # else the first query connects: a session served from :func:`versioned` results
            # opens no connection at all
        except WarehouseError as exc:
            msg = f"the warehouse has no data yet ({exc})"
            raise NoDataError(msg) from exc
        yield Reader(cat, version)
    finally:
        cat.close()


# ---------------------------------------------------------------------- filters and buckets
def in_window(t: ir.Table, column: str, f: Filters) -> ir.Table:
    """Rows of ``t`` whose ``column`` lies in the filters' ``[start, end)``."""
    if f.start is not None:
        t = t.filter(t[column] >= f.start.to_pydatetime())
    if f.end is not None:
        t = t.filter(t[column] < f.end.to_pydatetime())
    return t


def in_regions(t: ir.Table, f: Filters, column: str = "region_id") -> ir.Table:
    if f.regions:
        t = t.filter(t[column].isin(list(f.regions)))
    return t


def choose_resolution(
    start: pd.Timestamp,
    end: pd.Timestamp,
    native: timedelta = RESOLUTIONS[0],
    max_points: int = MAX_POINTS,
) -> timedelta:
    """The finest display step, no finer than ``native``, with at most ``max_points`` per series.

    Examples
    --------
    >>> import pandas as pd
    >>> choose_resolution(pd.Timestamp("2024-01-01"), pd.Timestamp("2024-01-08"))
    datetime.timedelta(seconds=900)
    >>> choose_resolution(pd.Timestamp("2024-01-01"), pd.Timestamp("2025-01-01"))
    datetime.timedelta(seconds=43200)
    """
    span = pd.Timedelta(end - start)
    for step in RESOLUTIONS:
        if step >= native and span / step <= max_points:
            return step
    return RESOLUTIONS[-1]


def bucket(column: ir.TimestampValue, step: timedelta) -> ir.IntegerValue:
    """Epoch seconds of the interval start of ``column`` on a grid of ``step`` (UTC)."""
    seconds = int(step.total_seconds())
    epoch = column.epoch_seconds().cast("int64")
    return (epoch // seconds) * seconds


def from_epoch(values: pd.Series) -> pd.Series:
    """Epoch seconds (from :func:`bucket`) → tz-aware UTC timestamps."""
    return pd.to_datetime(values.astype("int64"), unit="s", utc=True)


def data_range(r: Reader, name: str, column: str) -> tuple[pd.Timestamp, pd.Timestamp] | None:
    """First and last value of a table's time column, or ``None`` when it is empty or missing."""

    def compute() -> tuple[pd.Timestamp, pd.Timestamp] | None:
        t = r.table(name)
        if t is None:
            return None
        row = t.aggregate(lo=t[column].min(), hi=t[column].max()).to_pandas().iloc[0]
        if pd.isna(row["lo"]):
            return None
        return utc(row["lo"]), utc(row["hi"])

    return r.memo(("range", name, column), compute)


def resolved_window(
    f: Filters, bounds: tuple[pd.Timestamp, pd.Timestamp] | None, step: timedelta
) -> tuple[pd.Timestamp, pd.Timestamp] | None:
    """The filters' window, with open ends taken from the data's bounds."""
    if bounds is None:
        return None
    lo = f.start if f.start is not None else bounds[0]
    hi = f.end if f.end is not None else bounds[1] + step
    return lo, hi


def regions(r: Reader) -> list[str]:
    """Region ids from ``gold.dim_regions`` (empty when it is missing)."""
    t = r.table("gold.dim_regions")
    if t is None:
        return []
    return sorted(t.select("region_id").distinct().to_pandas()["region_id"].dropna().tolist())


def distinct(r: Reader, name: str, column: str) -> list[str]:
    t = r.table(name)
    if t is None:
        return []
    return sorted(t.select(column).distinct().to_pandas()[column].dropna().astype(str).tolist())


def signature(r: Reader, names: Sequence[str]) -> tuple[Any, ...]:
    """A cheap fingerprint of tables (row count and latest time): changes when a job writes.

    One query for all the tables (a union of one-row aggregates).
    """
    import ibis

    parts = []
    for name in names:
        t = r.table(name)
        if t is None:
            continue
        column = r.catalog.entry(name).time_column
        latest = t[column].max().cast("string") if column else ibis.null("string")
        parts.append(t.aggregate(name=ibis.literal(name), n=t.count(), latest=latest))
    if not parts:
        return ()
    frame = ibis.union(*parts).to_pandas() if len(parts) > 1 else parts[0].to_pandas()
    return tuple(sorted(frame.itertuples(index=False, name=None), key=lambda row: row[0]))


def label(step: timedelta) -> str:
    """``timedelta(hours=6)`` → ``"6h"``, for data summaries."""
    minutes = int(step.total_seconds() // 60)
    if minutes % 1440 == 0:
        return f"{minutes // 1440}d"
    if minutes % 60 == 0:
        return f"{minutes // 60}h"
    return f"{minutes}min"


@dataclass
class PageData:
    """What one page shows: frames by key (each chart's rows, also offered as CSV) and a summary."""

    frames: dict[str, pd.DataFrame]
    summary: str
    notes: list[str] = field(default_factory=list)
    tz: str = "America/Chicago"
    #: display step of the time-series charts (None: the page has none)
    step: timedelta | None = None


def event_marks(r: Reader, f: Filters, limit: int = 200) -> pd.DataFrame:
    """Frequency events and anomalies in the window as (timestamp, label) marks for charts.

    At most ``limit`` of each kind (the largest excursions and highest scores first), so a
    noisy sweep cannot bury a chart under lines.
    """
    import ibis

    parts = []
    t = r.table("gold.frequency_events")
    if t is not None:
        t = in_window(t, "start", f)
        ev = t.order_by(ibis.asc(t.nadir_hz)).limit(limit).select("start", "pmu", "nadir_hz")
        ev = ev.to_pandas()
        parts.append(
            pd.DataFrame(
                {
                    "timestamp": ev["start"],
                    "label": "frequency event at " + ev["pmu"].astype(str) + ", nadir "
                    + ev["nadir_hz"].map(lambda v: f"{v:.3f} Hz"),
                }
            )
        )  # fmt: skip
    a = r.table("gold.anomaly_events")
    if a is not None:
        a = in_window(a, "start", f)
        an = (
            a.order_by(ibis.desc(a.score))
            .limit(limit)
            .select("start", "source", "kind", "group_id")
        )
        an = an.to_pandas()
        parts.append(
            pd.DataFrame(
                {
                    "timestamp": an["start"],
                    "label": an["source"].astype(str) + " " + an["kind"].astype(str) + " on "
                    + an["group_id"].astype(str),
                }
            )
        )  # fmt: skip
    if not parts:
        return pd.DataFrame(columns=["timestamp", "label"])
    out = pd.concat(parts, ignore_index=True)
    out["timestamp"] = pd.to_datetime(out["timestamp"], utc=True)
    return out.sort_values("timestamp").reset_index(drop=True)
