"""Smart-meter aggregation benchmark: one day of 1M meters (96M reads) → regional 15-min load.

Run: ``.venv/bin/python benchmarks/meters.py`` (``--rebuild`` regenerates the cached files,
``--skip-month`` leaves out the out-of-core month, ``--methods a,b`` runs a subset).

(a) Data: the ``large`` profile's meters (1,000,000 meters, 1 local day, 5 regions) from the
    simulator's own generator (:func:`workbench.sim.meters.iter_meter_reads`, driven by a
    simulated regional load), written with the catalog's partitioning (``date=/region_id=``,
    zstd Parquet, 100,000-meter files) under ``$WORKBENCH_BENCH_DIR`` (default
    ``/tmp/gridmind-bench``)``/meters``; later runs reuse it.
(b) The same aggregation (reads → energy, reads and estimated reads per region and UTC
    quarter-hour, then load_mw) by: the workbench accessor with its default engine, the
    workbench's Polars and Dask engines (Dask on a 2-worker LocalCluster), hand-written DuckDB
    SQL, Polars lazy by hand, and pandas (pyarrow read of the four columns + groupby). Each runs
    in a fresh subprocess, whose process tree's resident memory is sampled every 20 ms (peak =
    largest sum over the tree; for one process it is also checked against ``ru_maxrss``).
    Every method's result is compared with the DuckDB SQL one (same numbers, 1e-9 relative).
(c) Out of core: a month of reads (``--month-meters`` meters, default 200,000, x 30 days:
    about 566M reads) aggregated by the DuckDB engine under ``memory_limit="1GB"`` with a
    ``temp_directory``, and by the Polars engine (streaming); seconds and peak memory printed.

Goals (printed, not asserted): >= 50M reads/s on 2 cores, within 1.2x of hand-written DuckDB
SQL, >= 20x faster than pandas, peak <= 4 GB; the month within the same memory.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
METHODS = (
    "duckdb_sql",
    "workbench",
    "workbench_polars",
    "polars_lazy",
    "workbench_dask",
    "pandas",
)
GOAL_ROWS_PER_S = 50e6
GOAL_PEAK_GB = 4.0


def bench_dir() -> Path:
    return Path(os.environ.get("WORKBENCH_BENCH_DIR", "/tmp/gridmind-bench"))


def meters_spec(location: Path):
    """The catalog's ``bronze.meter_reads`` entry pointed at ``location``."""
    from workbench import open_catalog

    entry = open_catalog().entry("bronze.meter_reads")
    return entry.model_copy(update={"location": str(location)})


def build_meter_files(
    location: Path, n_meters: int, days: int, start: str, rebuild: bool = False
) -> tuple[int, float]:
    """Simulate and write ``days`` local days of ``n_meters`` meters (skipped when cached).

    Returns the rows written (0 when cached) and the seconds taken.
    """
    import numpy as np
    import pandas as pd

    from workbench.io.frames import write_partitioned
    from workbench.sim.load import simulate_load
    from workbench.sim.meters import iter_meter_reads
    from workbench.sim.regions import make_grid
    from workbench.sim.weather import simulate_weather

    done = location.with_suffix(".complete")
    if done.exists() and not rebuild:
        return 0, 0.0
    shutil.rmtree(location, ignore_errors=True)
    t0 = time.perf_counter()
    rng_grid, rng_wx, rng_load, rng_meters = np.random.default_rng(7).spawn(4)
    grid = make_grid(5, rng_grid)
    lo = pd.Timestamp(start, tz="UTC") - pd.Timedelta(days=1)
    hourly = pd.date_range(lo, periods=(days + 3) * 24, freq="h", name="timestamp")
    five = pd.date_range(lo, periods=(days + 3) * 288, freq="5min", name="timestamp")
    weather = simulate_weather(grid, hourly, rng_wx)
    load, _ = simulate_load(grid, weather, five, rng_load)
    reads = iter_meter_reads(grid.regions, load, n_meters, start, days, rng_meters)
    rows = write_partitioned(reads, meters_spec(location), clear=True)
    done.write_text(json.dumps({"rows": rows, "meters": n_meters, "days": days}))
    return rows, time.perf_counter() - t0


# ---------------------------------------------------------------------- one method, in a child
def _hand_duckdb(root: Path):
    import duckdb

    con = duckdb.connect()
    sql = f"""
        SELECT "timestamp", region_id, sum(energy_kwh) AS energy_kwh, count(*) AS reads
        FROM read_parquet('{root}/**/*.parquet', hive_partitioning = true)
        GROUP BY ALL
    """
    return con.execute(sql).df()


def _hand_polars(root: Path):
    import polars as pl

    lf = pl.scan_parquet(f"{root}/**/*.parquet", hive_partitioning=True)
    out = lf.group_by(["timestamp", "region_id"]).agg(
        pl.col("energy_kwh").sum(), pl.len().alias("reads")
    )
    return out.collect(engine="streaming").to_pandas()


def _hand_pandas(root: Path):
    import pyarrow.dataset as pds

    dataset = pds.dataset(root, format="parquet", partitioning="hive")
    frame = dataset.to_table(columns=["timestamp", "region_id", "energy_kwh"]).to_pandas()
    return frame.groupby(["timestamp", "region_id"], observed=True, as_index=False).agg(
        energy_kwh=("energy_kwh", "sum"), reads=("energy_kwh", "size")
    )


def _workbench(root: Path, default: str | None, **kwargs):
    from workbench.io.meters import aggregate_meter_load

    spec = meters_spec(root)
    extra = {} if default is None else {"engine": default}
    out = aggregate_meter_load(spec, freq="15min", **{**extra, **kwargs})
    return out.assign(reads=out["meters"])


def run_method(method: str, root: Path, repeat: int, result: Path, config: str) -> dict:
    """Run one method ``repeat`` times in this process; the best time and the result."""
    setup_s = 0.0
    kwargs = json.loads(config) if config else {}
    if method == "workbench_dask":
        from workbench.io.dask_cluster import get_client

        t0 = time.perf_counter()
        client = get_client(n_workers=2, threads_per_worker=1, quiet=True)
        setup_s = time.perf_counter() - t0
        kwargs["client"] = client
    funcs = {
        "duckdb_sql": lambda: _hand_duckdb(root),
        "polars_lazy": lambda: _hand_polars(root),
        "pandas": lambda: _hand_pandas(root),
        "workbench": lambda: _workbench(root, None, **kwargs),
        "workbench_polars": lambda: _workbench(root, "polars", **kwargs),
        "workbench_dask": lambda: _workbench(root, "dask", **kwargs),
    }
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = funcs[method]()
        times.append(time.perf_counter() - t0)
    out = out[["timestamp", "region_id", "energy_kwh", "reads"]].copy()
    out["timestamp"] = out["timestamp"].astype("datetime64[ns, UTC]")
    out["region_id"] = out["region_id"].astype(str)
    out.sort_values(["timestamp", "region_id"]).to_parquet(result, index=False)
    import resource

    self_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return {"seconds": min(times), "times": times, "setup_s": setup_s, "maxrss_kb": self_kb}


# ---------------------------------------------------------------------- the parent
def _tree_rss(proc) -> int:
    import psutil

    total = 0
    for p in [proc, *proc.children(recursive=True)]:
        with contextlib.suppress(psutil.Error):
            total += p.memory_info().rss
    return total


def measure(method: str, root: Path, repeat: int, workdir: Path, config: str = "") -> dict:
    """Run a method in a fresh subprocess, sampling its process tree's memory every 20 ms."""
    import psutil

    result = workdir / f"{method}.parquet"
    cmd = [
        sys.executable,
        __file__,
        "--run",
        method,
        "--path",
        str(root),
        "--repeat",
        str(repeat),
        "--result",
        str(result),
        "--config",
        config,
    ]
    child = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    peak = [0]
    stop = threading.Event()
    proc = psutil.Process(child.pid)

    def sample() -> None:
        while not stop.is_set():
            with contextlib.suppress(psutil.Error):
                peak[0] = max(peak[0], _tree_rss(proc))
            stop.wait(0.02)

    thread = threading.Thread(target=sample, daemon=True)
    thread.start()
    out, err = child.communicate()
    stop.set()
    thread.join()
    if child.returncode != 0:
        raise RuntimeError(f"{method} failed:\n{err[-3000:]}")
    figures = json.loads(out.strip().splitlines()[-1])
    figures["peak_bytes"] = max(peak[0], figures["maxrss_kb"] * 1024)
    figures["result"] = result
    return figures


def _same(a: Path, b: Path) -> bool:
    import numpy as np
    import pandas as pd

    x, y = pd.read_parquet(a), pd.read_parquet(b)
    return (
        len(x) == len(y)
        and (x["timestamp"].to_numpy() == y["timestamp"].to_numpy()).all()
        and (x["region_id"].to_numpy() == y["region_id"].to_numpy()).all()
        and np.allclose(x["energy_kwh"], y["energy_kwh"], rtol=1e-9)
        and (x["reads"].to_numpy() == y["reads"].to_numpy()).all()
    )


def _warm(root: Path) -> int:
    """Read every file once (page cache), so no method pays the first read; returns bytes."""
    size = 0
    for f in sorted(root.rglob("*.parquet")):
        size += len(f.read_bytes())
    return size


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rebuild", action="store_true")
    parser.add_argument("--skip-month", action="store_true")
    parser.add_argument("--methods", default=",".join(METHODS))
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--month-meters", type=int, default=200_000)
    parser.add_argument("--month-memory", default="1GB")
    args = parser.parse_args(argv)
    from workbench.io.dask_cluster import available_cores
    from workbench.sim.profiles import get_profile

    large = get_profile("large")
    day = bench_dir() / "meters"
    rows, took = build_meter_files(
        day, large.meter_count, large.meter_days, str(large.start), args.rebuild
    )
    info = json.loads(day.with_suffix(".complete").read_text())
    reads = info["rows"]
    print(
        f"data: {info['meters']:,} meters x {info['days']} day = {reads:,} reads "
        f"({_warm(day) / 1e6:.0f} MB of Parquet in {day})"
        + (f"; generated in {took:.0f} s" if rows else "; cached")
    )
    print(f"cores: {available_cores()}, repeat: best of {args.repeat}, fresh process per method")
    workdir = bench_dir() / "meters-results"
    workdir.mkdir(parents=True, exist_ok=True)
    results = {}
    for method in [m for m in args.methods.split(",") if m]:
        results[method] = measure(method, day, args.repeat, workdir)
        r = results[method]
        runs = ", ".join(f"{t:.2f}" for t in r["times"])
        print(f"  {method:17s} {r['seconds']:6.2f} s  (runs {runs})", flush=True)
    base = results.get("duckdb_sql")
    pandas_s = results["pandas"]["seconds"] if "pandas" in results else None
    print()
    print(
        f"{'method':17s} {'seconds':>8s} {'M reads/s':>10s} {'peak GB':>8s} "
        f"{'x DuckDB SQL':>13s} {'faster than pandas':>19s} {'same result':>12s}"
    )
    for method, r in results.items():
        ratio = f"{r['seconds'] / base['seconds']:.2f}x" if base else "-"
        vs_pandas = f"{pandas_s / r['seconds']:.1f}x" if pandas_s else "-"
        same = _same(r["result"], base["result"]) if base else "-"
        rate, peak = reads / r["seconds"] / 1e6, r["peak_bytes"] / 1e9
        print(
            f"{method:17s} {r['seconds']:8.2f} {rate:10.1f} {peak:8.2f} {ratio:>13s} "
            f"{vs_pandas:>19s} {same!s:>12s}"
        )
    if "workbench_dask" in results:
        print(
            f"(workbench_dask: LocalCluster start {results['workbench_dask']['setup_s']:.1f} s "
            f"not included)"
        )
    hand = {m: results[m]["seconds"] for m in ("duckdb_sql", "polars_lazy") if m in results}
    if "workbench" in results and hand:
        import statistics

        fastest = min(hand, key=hand.get)
        ratio = results["workbench"]["seconds"] / hand[fastest]
        median = statistics.median(results["workbench"]["times"]) / statistics.median(
            results[fastest]["times"]
        )
        print(
            f"\ndefault engine vs the fastest hand-written engine in this run ({fastest}): "
            f"{ratio:.2f}x best of runs, {median:.2f}x median -> "
            f"{'met' if max(ratio, median) <= 1.1 else 'NOT met'} (goal <= 1.1x)"
        )
    if "workbench" in results:
        w = results["workbench"]
        print("\ngoals (default engine, 'workbench'):")
        print(
            f"  >= 50M reads/s: {reads / w['seconds'] / 1e6:.1f}M "
            f"-> {'met' if reads / w['seconds'] >= GOAL_ROWS_PER_S else 'NOT met'}"
        )
        if base:
            ratio = w["seconds"] / base["seconds"]
            print(f"  <= 1.2x DuckDB SQL: {ratio:.2f}x -> {'met' if ratio <= 1.2 else 'NOT met'}")
        if pandas_s:
            speed = pandas_s / w["seconds"]
            print(f"  >= 20x pandas: {speed:.1f}x -> {'met' if speed >= 20 else 'NOT met'}")
        peak = w["peak_bytes"] / 1e9
        print(f"  peak <= 4 GB: {peak:.2f} GB -> {'met' if peak <= GOAL_PEAK_GB else 'NOT met'}")
    if not args.skip_month:
        _month(args, workdir)


def _month(args: argparse.Namespace, workdir: Path) -> None:
    month = bench_dir() / "meters-month"
    rows, took = build_meter_files(month, args.month_meters, 30, "2024-06-01", args.rebuild)
    info = json.loads(month.with_suffix(".complete").read_text())
    size = sum(f.stat().st_size for f in month.rglob("*.parquet"))
    print(
        f"\nmonth: {info['meters']:,} meters x {info['days']} days = {info['rows']:,} reads "
        f"({size / 1e9:.1f} GB of Parquet)" + (f"; generated in {took:.0f} s" if rows else "")
    )
    spill = workdir / "duckdb-spill"
    spill.mkdir(exist_ok=True)
    duck = {"memory_limit": args.month_memory, "temp_directory": str(spill)}
    runs = {
        f"duckdb engine (memory_limit={args.month_memory}, temp_directory)": (
            "workbench",
            json.dumps({"engine": "duckdb", "duckdb_config": duck}),
        ),
        "polars engine (streaming)": ("workbench_polars", ""),
    }
    for label, (method, config) in runs.items():
        r = measure(method, month, 1, workdir, config)
        peak = r["peak_bytes"] / 1e9
        print(
            f"  {label}: {r['seconds']:.1f} s, {info['rows'] / r['seconds'] / 1e6:.1f}M reads/s, "
            f"peak {peak:.2f} GB -> {'within' if peak <= GOAL_PEAK_GB else 'NOT within'} 4 GB",
            flush=True,
        )
    shutil.rmtree(spill, ignore_errors=True)


if __name__ == "__main__":
    if "--run" in sys.argv:  # a child: one method
        child = argparse.ArgumentParser()
        child.add_argument("--run", required=True)
        child.add_argument("--path", required=True)
        child.add_argument("--repeat", type=int, default=1)
        child.add_argument("--result", required=True)
        child.add_argument("--config", default="")
        a = child.parse_args()
        figures = run_method(a.run, Path(a.path), a.repeat, Path(a.result), a.config)
        print(json.dumps(figures))
    elif "--generate-only" in sys.argv:
        gen = argparse.ArgumentParser()
        gen.add_argument("--generate-only", action="store_true")
        gen.add_argument("--meters", type=int, default=1_000_000)
        gen.add_argument("--days", type=int, default=1)
        gen.add_argument("--start", default="2024-07-01")
        gen.add_argument("--out", default=str(bench_dir() / "meters"))
        a = gen.parse_args()
        print(build_meter_files(Path(a.out), a.meters, a.days, a.start), file=sys.stderr)
    else:
        main()
