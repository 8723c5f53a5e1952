"""Smart-meter reads → regional load at 5-min, 15-min or hourly resolution, on three engines.

One function, :func:`aggregate_meter_load`. Every engine runs the same, single pass over the
partitioned Parquet: prune partitions (local ``date`` folders, ``region_id`` folders), keep the
reads in the window, and sum energy, reads and estimated reads per read interval and group.
That leaves a few hundred rows a day per region, which the shared (pandas) code below turns
into the requested resolution, so the engines cannot disagree on the definitions:

- **15min**: the reads' own intervals. ``energy_kwh`` is the sum of the reads, ``load_mw`` the
  mean power over the quarter-hour (``energy_kwh / 0.25 h / 1000``).
- **5min**: a 15-minute read says nothing about when within its quarter-hour the energy was
  used, so each read's energy is spread evenly over its three 5-minute intervals: ``load_mw``
  is constant within the quarter-hour and ``energy_kwh`` is a third of the quarter-hour's. No
  sub-15-minute shape is invented.
- **1h**: the sum of the hour's four quarter-hours; ``load_mw`` is the hour's mean power.

``meters`` is the number of meters reporting, averaged over the quarter-hours of the interval
(reads / quarter-hours: a whole number at 5 and 15 minutes, a mean for hours, lower where
reads are missing); ``estimated_share`` the fraction of those reads that the head-end estimated.
Missing reads are not filled: ``load_mw`` is the load of the meters that reported, and
``meters`` says how many did. Quarter-hours without any read have no row. Reads without an
energy value contribute nothing and are not counted. Aggregating ``bronze.meter_reads`` counts
its duplicates twice; use ``silver.meter_readings`` (deduplicated), the default.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from workbench.catalog.schema import DatasetSpec
from workbench.core.errors import DataAccessError, MissingColumnsError
from workbench.io.timewindow import to_utc

if TYPE_CHECKING:
    import pandas as pd

#: Output resolutions and their aliases.
FREQUENCIES: dict[str, str] = {
    "5min": "5min",
    "5m": "5min",
    "15min": "15min",
    "15m": "15min",
    "1h": "1h",
    "h": "1h",
    "60min": "1h",
    "hourly": "1h",
}
_MINUTES = {"5min": 5, "15min": 15, "1h": 60}
#: Engines; see :func:`aggregate_meter_load` for how the default was chosen.
ENGINES = ("duckdb", "polars", "dask")
DEFAULT_ENGINE = "polars"
#: Columns the reads can be grouped by (besides the interval).
GROUP_COLUMNS = ("region_id", "customer_class")
_NEEDED = ("timestamp", "energy_kwh", "is_estimated")
_SUMS = ("energy_kwh", "reads", "estimated_reads")
_DUCKDB_TYPE = {"date": "DATE", "string": "VARCHAR", "int32": "INTEGER", "int64": "BIGINT"}


class MeterAggregationError(DataAccessError):
    """Bad arguments to a meter aggregation, or nothing to aggregate in the window."""


@dataclass(frozen=True)
class MeterQuery:
    """What every engine reads: the files, the window and the groups (validated)."""

    spec: DatasetSpec
    root: str
    freq: str
    by: tuple[str, ...]
    start: datetime | None  # output window [start, end), UTC
    end: datetime | None
    read_start: datetime | None  # reads with timestamps in [read_start, end)
    first_date: date | None  # local-date partitions to open, a day of margin each side
    last_date: date | None
    regions: tuple[str, ...] | None
    files: tuple[str, ...] | None = None  # the pruned files (local data); None: all, by glob


def aggregate_meter_load(
    source: Any,
    dataset: str = "silver.meter_readings",
    *,
    freq: str = "15min",
    start: Any = None,
    end: Any = None,
    regions: str | Sequence[str] | None = None,
    by: str | Sequence[str] = ("region_id",),
    engine: str = DEFAULT_ENGINE,
    client: Any = None,
    duckdb_config: Mapping[str, Any] | None = None,
) -> pd.DataFrame:
    """Aggregate smart-meter reads to load per group and interval.

    Parameters
    ----------
    source : Catalog or DatasetSpec
        A catalog (``dataset`` is looked up in it) or a ``frames`` entry itself.
    dataset : str
        ``silver.meter_readings`` (default, deduplicated) or ``bronze.meter_reads``.
    freq : {"5min", "15min", "1h"}
        Output resolution; see the module docstring for how 5-minute load is defined.
    start, end : str, datetime or pandas.Timestamp, optional
        Half-open UTC window ``[start, end)`` of interval starts, on ``freq`` boundaries;
        naive times are UTC. The local-date partitions from a day before ``start`` to a day
        after ``end`` are opened (partitions hold local dates), no others.
    regions : str or sequence of str, optional
        Keep these regions (their partitions only); all by default.
    by : str or sequence of str
        Grouping besides the interval: ``region_id`` and/or ``customer_class``; ``()`` for the
        system total.
    engine : {"polars", "duckdb", "dask"}
        Where the pass over the reads runs. ``polars`` (default; lazy, streaming engine) was
        the fastest in ``benchmarks/meters.py`` on the 2-core development machine: 96M reads
        (1M meters, one day) in 0.7x the time of hand-written DuckDB SQL and 1.4x faster
        than the ``duckdb`` engine, and a month of 566M reads at 58M reads/s within 0.5 GB,
        2.7x faster than the ``duckdb`` engine with ``memory_limit='1GB'``. ``duckdb`` runs
        in this process too, with the smallest memory (0.2-0.6 GB) and settable limits
        (``duckdb_config``). ``dask`` runs on :func:`workbench.io.dask_cluster.get_client`
        (a LocalCluster, or the scheduler in ``WORKBENCH_DASK_SCHEDULER``): about 7x slower
        than ``polars`` on one machine, but the one that scales out to other machines.
    client : distributed.Client, optional
        For ``engine="dask"``: the client to run on; default :func:`get_client`.
    duckdb_config : mapping, optional
        For ``engine="duckdb"``: connection settings, e.g. ``{"memory_limit": "1GB",
        "temp_directory": "/scratch", "threads": 2}``.

    Returns
    -------
    pandas.DataFrame
        ``timestamp`` (interval start, UTC), the ``by`` columns, ``load_mw`` [MW],
        ``energy_kwh`` [kWh], ``meters`` [count], ``estimated_share`` [1]; sorted by
        timestamp then groups.

    Raises
    ------
    MeterAggregationError
        Unknown freq, engine or grouping column, a window off the freq's boundaries, unknown
        regions, or no reads in the window.

    Examples
    --------
    >>> cat = open_catalog()  # doctest: +SKIP
    >>> hourly = aggregate_meter_load(cat, freq="1h", start="2024-07-01", end="2024-07-02")
    """
    spec = _resolve_spec(source, dataset)
    if engine not in ENGINES:
        msg = f"expected engine among {list(ENGINES)}; found {engine!r}"
        raise MeterAggregationError(msg)
    query = plan_meter_query(spec, freq=freq, start=start, end=end, regions=regions, by=by)
    if engine == "duckdb":
        base = _sums_duckdb(query, duckdb_config)
    elif engine == "polars":
        base = _sums_polars(query)
    else:
        base = _sums_dask(query, client)
    out = finish_meter_load(base, query)
    if out.empty:
        raise MeterAggregationError(_empty_message(query))
    return out


def _resolve_spec(source: Any, dataset: str) -> DatasetSpec:
    # a catalog pins the version its warehouse committed; a bare spec follows the pointer
    spec = source if isinstance(source, DatasetSpec) else source.entry(dataset)
    if spec.kind == "frames" and not isinstance(source, DatasetSpec):
        spec = source.frames_spec(dataset)
    if spec.kind != "frames":
        msg = f"expected a frames dataset of meter reads; found {spec.name} of kind {spec.kind}"
        raise MeterAggregationError(msg)
    missing = set(_NEEDED) - set(spec.columns)
    if missing:
        raise MissingColumnsError(f"aggregating {spec.name}", missing, spec.columns)
    return spec


def plan_meter_query(
    spec: DatasetSpec,
    *,
    freq: str = "15min",
    start: Any = None,
    end: Any = None,
    regions: str | Sequence[str] | None = None,
    by: str | Sequence[str] = ("region_id",),
) -> MeterQuery:
    """Validate the arguments of :func:`aggregate_meter_load` into a :class:`MeterQuery`.

    The dataset's pointer is resolved here, once: the whole query reads one published version
    (see :mod:`workbench.io.frames`), even if a build switches it meanwhile.
    """
    from workbench.io.frames import pinned

    spec = pinned(spec)
    if freq not in FREQUENCIES:
        msg = f"expected freq among {sorted(set(FREQUENCIES.values()))}; found {freq!r}"
        raise MeterAggregationError(msg)
    freq = FREQUENCIES[freq]
    by = (by,) if isinstance(by, str) else tuple(by)
    bad = [c for c in by if c not in GROUP_COLUMNS] + [c for c in set(by) if by.count(c) > 1]
    if bad:
        msg = f"expected by= columns among {list(GROUP_COLUMNS)}, each once; found {list(by)}"
        raise MeterAggregationError(msg)
    missing = set(by) - set(spec.columns)
    if missing:
        raise MissingColumnsError(f"grouping {spec.name}", missing, spec.columns)
    lo, hi = to_utc(start, "start"), to_utc(end, "end")
    for name, value in (("start", lo), ("end", hi)):
        if value is not None and not _on_boundary(value, _MINUTES[freq]):
            msg = (
                f"expected {name} on a {freq} boundary (intervals are labelled by their start); "
                f"found {value:%Y-%m-%d %H:%M:%S} UTC"
            )
            raise MeterAggregationError(msg)
    if lo is not None and hi is not None and lo >= hi:
        msg = f"expected start before end; found start={lo.isoformat()} end={hi.isoformat()}"
        raise MeterAggregationError(msg)
    root = spec.location
    if "://" not in root and not any(Path(root).rglob("*.parquet")):
        msg = (
            f"expected Parquet files of {spec.name} under {root}; found none "
            f"(build the lake first: `workbench demo build`)"
        )
        raise MeterAggregationError(msg)
    if regions is not None:
        regions = (regions,) if isinstance(regions, str) else tuple(dict.fromkeys(regions))
        known = _partition_values(spec, "region_id")
        unknown = [r for r in regions if known and r not in known]
        if unknown or not regions:
            msg = f"expected regions among {sorted(known)}; found {list(regions)}"
            raise MeterAggregationError(msg)
    read_lo = None if lo is None else lo - timedelta(minutes=lo.minute % 15, seconds=lo.second)
    query = MeterQuery(
        spec=spec,
        root=root,
        freq=freq,
        by=by,
        start=lo,
        end=hi,
        read_start=read_lo,
        first_date=None if lo is None else lo.date() - timedelta(days=1),
        last_date=None if hi is None else (hi - timedelta(microseconds=1)).date() + timedelta(1),
        regions=regions,
    )
    files = _pruned_files(query)
    if files is not None and not files:
        raise MeterAggregationError(_empty_message(query))
    return replace(query, files=files)


def _pruned_files(q: MeterQuery) -> tuple[str, ...] | None:
    """The Parquet files of the partitions the query needs (local hive layouts), or None.

    Pruning here, from the folder names, means no engine opens a file outside the window or
    the regions, not even to read its schema (DuckDB reads the first file of a glob to bind).
    """
    parts = list(q.spec.partition_by or ())
    if "://" in q.root or not parts:
        return None
    folders = [Path(q.root)]
    for name in parts:
        keep = []
        for folder in folders:
            for child in sorted(folder.glob(f"{name}=*")):
                value = child.name.split("=", 1)[1]
                if child.is_dir() and _partition_wanted(q, name, value):
                    keep.append(child)
        folders = keep
    return tuple(str(f) for folder in folders for f in sorted(folder.glob("*.parquet")))


def _partition_wanted(q: MeterQuery, name: str, value: str) -> bool:
    if name == "region_id" and q.regions:
        return value in q.regions
    if name == "date" and (q.first_date or q.last_date):
        try:
            day = date.fromisoformat(value)
        except ValueError:
            return True  # not a date: let the engine read it and complain
        return (q.first_date is None or day >= q.first_date) and (
            q.last_date is None or day <= q.last_date
        )
    return True


def _on_boundary(value: datetime, minutes: int) -> bool:
    seconds = (value - datetime(2000, 1, 1, tzinfo=value.tzinfo)).total_seconds()
    return seconds % (minutes * 60) == 0


def _partition_values(spec: DatasetSpec, column: str) -> set[str]:
    """Values of a hive partition column from the folder names (local files only)."""
    if "://" in spec.location or column not in (spec.partition_by or ()):
        return set()
    depth = spec.partition_by.index(column) + 1
    pattern = "/".join(["*"] * (depth - 1) + [f"{column}=*"])
    return {p.name.split("=", 1)[1] for p in Path(spec.location).glob(pattern) if p.is_dir()}


def _empty_message(q: MeterQuery) -> str:
    dates = sorted(_partition_values(q.spec, "date"))
    held = f"local dates {dates[0]} to {dates[-1]}" if dates else "no date partitions"
    window = f"[{q.start or '-inf'}, {q.end or '+inf'})"
    regions = f" for regions {list(q.regions)}" if q.regions else ""
    return (
        f"expected meter reads of {q.spec.name} in {window}{regions}; found none "
        f"(the dataset holds {held}); widen the window"
    )


# ---------------------------------------------------------------------- engines
def _sql_literal(value: Any) -> str:
    if isinstance(value, datetime):
        return f"TIMESTAMPTZ '{value.isoformat()}'"
    if isinstance(value, date):
        return f"DATE '{value.isoformat()}'"
    return "'" + str(value).replace("'", "''") + "'"


def meter_sql(q: MeterQuery) -> str:
    """The DuckDB SQL of the pass over the reads (partition filters first, so files prune)."""
    partitions = {
        name: _DUCKDB_TYPE.get(q.spec.columns[name].type, "VARCHAR")
        for name in q.spec.partition_by or ()
    }
    hive_types = ", ".join(f"'{k}': '{v}'" for k, v in partitions.items())
    if q.files is None:
        files = _sql_literal(f"{q.root.rstrip('/')}/**/*.parquet")
    else:
        files = "[" + ", ".join(_sql_literal(f) for f in q.files) + "]"
    where = ["energy_kwh IS NOT NULL"]
    if q.first_date is not None and "date" in partitions:
        where.append(f'"date" >= {_sql_literal(q.first_date)}')
    if q.last_date is not None and "date" in partitions:
        where.append(f'"date" <= {_sql_literal(q.last_date)}')
    if q.regions:
        where.append(f"region_id IN ({', '.join(_sql_literal(r) for r in q.regions)})")
    if q.read_start is not None:
        where.append(f'"timestamp" >= {_sql_literal(q.read_start)}')
    if q.end is not None:
        where.append(f'"timestamp" < {_sql_literal(q.end)}')
    keys = ", ".join(['"timestamp"', *q.by])
    source = f"read_parquet({files}, hive_partitioning = true"
    source += f", hive_types = {{{hive_types}}})" if hive_types else ")"
    return (
        f"SELECT {keys}, sum(energy_kwh) AS energy_kwh, count(*) AS reads, "
        f"count(*) FILTER (WHERE is_estimated) AS estimated_reads "
        f"FROM {source} WHERE {' AND '.join(where)} GROUP BY {keys}"
    )


def _sums_duckdb(q: MeterQuery, config: Mapping[str, Any] | None) -> pd.DataFrame:
    import duckdb

    con = duckdb.connect(config=dict(config or {}))
    try:
        return con.execute(meter_sql(q)).df()
    except duckdb.Error as exc:
        msg = f"expected readable Parquet reads of {q.spec.name} under {q.root}; found: {exc}"
        raise DataAccessError(msg) from exc
    finally:
        con.close()


def _sums_polars(q: MeterQuery) -> pd.DataFrame:
    import polars as pl

    types = {"date": pl.Date, "string": pl.String, "int32": pl.Int32, "int64": pl.Int64}
    # partition columns are inferred from the folder names (dates as dates, strings as
    # strings) and only those the query uses are cast to their declared type: a full
    # ``hive_schema`` over an explicit file list cost up to 2x in benchmarks/meters.py (#22)
    hive_schema = {
        name: types.get(q.spec.columns[name].type, pl.String) for name in q.spec.partition_by or ()
    }
    used = {*q.by, *(["region_id"] if q.regions else []), *(["date"] if q.first_date else [])}
    used |= {"date"} if q.last_date else set()
    lf = pl.scan_parquet(
        f"{q.root.rstrip('/')}/**/*.parquet" if q.files is None else list(q.files),
        hive_partitioning=True,
    )
    casts = [pl.col(c).cast(t) for c, t in hive_schema.items() if c in used]
    if casts:
        lf = lf.with_columns(casts)
    cond = [pl.col("energy_kwh").is_not_null()]
    if q.first_date is not None and "date" in hive_schema:
        cond.append(pl.col("date") >= q.first_date)
    if q.last_date is not None and "date" in hive_schema:
        cond.append(pl.col("date") <= q.last_date)
    if q.regions:
        cond.append(pl.col("region_id").is_in(list(q.regions)))
    if q.read_start is not None:
        cond.append(pl.col("timestamp") >= q.read_start)
    if q.end is not None:
        cond.append(pl.col("timestamp") < q.end)
    sums = (
        lf.filter(*cond)
        .group_by(["timestamp", *q.by])
        .agg(
            pl.col("energy_kwh").sum().alias("energy_kwh"),
            pl.len().cast(pl.Int64).alias("reads"),
            pl.col("is_estimated").sum().cast(pl.Int64).alias("estimated_reads"),
        )
    )
    try:
        return sums.collect(engine="streaming").to_pandas()
    except (pl.exceptions.PolarsError, OSError) as exc:
        msg = f"expected readable Parquet reads of {q.spec.name} under {q.root}; found: {exc}"
        raise DataAccessError(msg) from exc


def _sums_dask(q: MeterQuery, client: Any) -> pd.DataFrame:
    from workbench.io.dask_cluster import get_client
    from workbench.io.frames import scan_parquet_dask

    client = client or get_client()
    filters: list[tuple[str, str, Any]] = []
    parts = q.spec.partition_by or ()
    if q.first_date is not None and "date" in parts:
        filters.append(("date", ">=", q.first_date.isoformat()))
    if q.last_date is not None and "date" in parts:
        filters.append(("date", "<=", q.last_date.isoformat()))
    if q.regions and "region_id" in parts:
        filters.append(("region_id", "in", list(q.regions)))
    columns = list(dict.fromkeys([*_NEEDED, *q.by, *(["region_id"] if q.regions else [])]))
    # one partition per row group (~1M reads), partition columns left as categoricals (cheap
    # to group by); each partition is summed where it is read and only the sums travel
    frame = scan_parquet_dask(
        q.spec, columns=columns, filters=filters or None, files=q.files, typed=False,
        split_row_groups=True,
    )  # fmt: skip
    meta = _partial_sums(frame._meta, q.by, q.regions, None, None)
    sums = frame.map_partitions(
        _partial_sums, q.by, q.regions, _ns(q.read_start), _ns(q.end), meta=meta
    )
    try:
        return client.compute(sums).result()
    except (OSError, ValueError) as exc:
        msg = f"expected readable Parquet reads of {q.spec.name} under {q.root}; found: {exc}"
        raise DataAccessError(msg) from exc


def _ns(value: datetime | None) -> Any:
    import pandas as pd

    return None if value is None else pd.Timestamp(value)


def _partial_sums(
    part: pd.DataFrame,
    by: tuple[str, ...],
    regions: tuple[str, ...] | None,
    lo: Any,
    hi: Any,
) -> pd.DataFrame:
    """Sums of one partition of reads (runs on the workers)."""
    keep = part["energy_kwh"].notna()
    if regions:
        keep &= part["region_id"].isin(list(regions))
    if lo is not None:
        keep &= part["timestamp"] >= lo
    if hi is not None:
        keep &= part["timestamp"] < hi
    part = part[keep]
    grouped = part.groupby(["timestamp", *by], observed=True, sort=False)
    return grouped.agg(
        energy_kwh=("energy_kwh", "sum"),
        reads=("energy_kwh", "size"),
        estimated_reads=("is_estimated", "sum"),
    ).reset_index()


# ---------------------------------------------------------------------- shared definitions
def finish_meter_load(base: pd.DataFrame, q: MeterQuery) -> pd.DataFrame:
    """Per-read-interval sums (``timestamp``, groups, energy_kwh, reads, estimated_reads) → load.

    Pure pandas on the engines' small output; holds every definition (see the module docstring).
    """
    import numpy as np
    import pandas as pd

    keys = ["timestamp", *q.by]
    base = base.astype(dict.fromkeys(("reads", "estimated_reads"), "int64"))
    stamps = pd.to_datetime(base["timestamp"], utc=True).astype("datetime64[ns, UTC]")
    base = base.assign(timestamp=stamps.dt.floor("15min"))
    for col in q.by:
        base[col] = base[col].astype("str")
    quarters = 1
    if q.freq == "1h":
        base["timestamp"] = base["timestamp"].dt.floor("1h")
        quarters = 4
    grouped = base.groupby(keys, sort=True, observed=True)[list(_SUMS)].sum().reset_index()
    if q.freq == "5min":
        grouped = grouped.loc[grouped.index.repeat(3)].reset_index(drop=True)
        offsets = np.tile(np.array([0, 5, 10], "timedelta64[m]"), len(grouped) // 3)
        grouped["timestamp"] += pd.to_timedelta(offsets)
        grouped["energy_kwh"] /= 3.0
    hours = _MINUTES[q.freq] / 60.0
    out = pd.DataFrame(
        {
            **{k: grouped[k] for k in keys},
            "load_mw": grouped["energy_kwh"] / hours / 1000.0,
            "energy_kwh": grouped["energy_kwh"],
            "meters": grouped["reads"] / quarters,
            "estimated_share": grouped["estimated_reads"] / grouped["reads"],
        }
    )
    if q.start is not None:
        out = out[out["timestamp"] >= pd.Timestamp(q.start)]
    if q.end is not None:
        out = out[out["timestamp"] < pd.Timestamp(q.end)]
    return out.sort_values(keys, kind="stable").reset_index(drop=True)
