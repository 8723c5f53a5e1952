"""Dashboard readers during a full medallion build: reads tried, failed, latency, build time.

Run (a demo build peaks at ~8 GB: hold the demo lock)::

    flock /tmp/gridmind-demo.lock .venv/bin/python benchmarks/build_readers.py \\
        --bronze /path/to/demo-home [--baseline /path/to/old/checkout]

``--bronze`` is a lakehouse home holding bronze (``workbench demo build`` output); it is copied,
never written. The copy first gets the table the readers read (``gold.fact_load`` and its
silver sources, untimed), then ``workbench build`` runs in a subprocess (every other table
built in full, those three incrementally: a demo build but for 3 of its 17 tables) while
another process does
``--reads`` catalog reads the way a dashboard does (``open_catalog(read_only=True)`` and a
week of ``gold.fact_load``), one every ``--interval`` seconds, until it has done them all or
the build ends. It prints reads tried / failed, p50 / p99 read latency and the build time.
``--baseline`` repeats the same with another checkout's code (e.g. the main branch before
readers stopped waiting for builds), side by side, on a fresh copy.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

READER = r"""
import json, sys, time
from workbench import open_catalog
from workbench.core.errors import WorkbenchError

reads, interval, stop = int(sys.argv[1]), float(sys.argv[2]), sys.argv[3]
out = {"latency_s": [], "failed": [], "ok": 0}
import os
for i in range(reads):
    if os.path.exists(stop):
        break
    t0 = time.perf_counter()
    try:
        with open_catalog(read_only=True) as cat:
            frame = cat.read("gold.fact_load", start="2024-07-01", end="2024-07-08")
        out["ok"] += 1 if len(frame) else 0
    except WorkbenchError as exc:
        out["failed"].append(f"{type(exc).__name__}: {str(exc).splitlines()[0][:160]}")
    out["latency_s"].append(time.perf_counter() - t0)
    time.sleep(interval)
print(json.dumps(out))
"""


PREBUILD = """
from workbench import open_catalog
from workbench.lake.build import build_medallion

with open_catalog() as cat:
    build_medallion(
        cat, tables=["silver.system_load", "silver.weather_hourly", "gold.fact_load"]
    )
"""


def _copy(bronze: Path, home: Path) -> None:
    shutil.rmtree(home, ignore_errors=True)
    home.mkdir(parents=True)
    shutil.copy(bronze / "warehouse.duckdb", home / "warehouse.duckdb")
    shutil.copytree(bronze / "lake", home / "lake", symlinks=True)


def _env(code: Path, home: Path) -> dict[str, str]:
    env = {**os.environ, "WORKBENCH_HOME": str(home), "PYTHONPATH": str(code), "COLUMNS": "200"}
    env.pop("WORKBENCH_WAREHOUSE", None)
    env.pop("WORKBENCH_LAKE", None)
    return env


def run(code: Path, bronze: Path, home: Path, reads: int, interval: float) -> dict:
    """Prebuild, then a full rebuild with readers beside it; returns the figures."""
    _copy(bronze, home)
    cli = [sys.executable, "-m", "workbench.cli.main", "build"]
    subprocess.run(  # the table the readers read exists (untimed)
        [sys.executable, "-c", PREBUILD], env=_env(code, home), check=True, capture_output=True
    )
    stop = home / "build-done"
    t0 = time.perf_counter()
    build = subprocess.Popen(
        cli,
        env=_env(code, home),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    reader = subprocess.Popen(
        [sys.executable, "-c", READER, str(reads), str(interval), str(stop)],
        env=_env(code, home),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    out, _ = build.communicate()
    build_s = time.perf_counter() - t0
    stop.touch()  # reads after the build ended are not reads during a build
    figures, err = reader.communicate()
    if reader.returncode != 0:
        raise SystemExit(f"the reader crashed:\n{err[-3000:]}")
    result = json.loads(figures.strip().splitlines()[-1])
    result |= {"build_s": build_s, "build_rc": build.returncode, "build_tail": out[-600:]}
    return result


def _pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--bronze", type=Path, required=True)
    parser.add_argument("--work", type=Path, default=Path("/tmp/workbench-bench-build-readers"))
    parser.add_argument("--reads", type=int, default=200)
    parser.add_argument("--interval", type=float, default=0.2, help="pause between reads [s]")
    parser.add_argument("--baseline", type=Path, help="another checkout to compare with")
    args = parser.parse_args()
    here = Path(__file__).resolve().parent.parent
    variants = [("this checkout", here)]
    if args.baseline is not None:
        variants.append((f"baseline {args.baseline}", args.baseline.resolve()))
    print(f"{'code':<40}{'reads':>7}{'failed':>8}{'p50 s':>8}{'p99 s':>8}{'build s':>9}")
    for name, code in variants:  # each line as soon as it is measured
        r = run(code, args.bronze, args.work / name.split()[0], args.reads, args.interval)
        if r["build_rc"] != 0:
            print(f"{name}: the build failed (rc {r['build_rc']}):\n{r['build_tail']}")
        lat = r["latency_s"]
        print(
            f"{name[:39]:<40}{len(lat):>7}{len(r['failed']):>8}"
            f"{_pct(lat, 0.5):>8.3f}{_pct(lat, 0.99):>8.3f}{r['build_s']:>9.1f}",
            flush=True,
        )
        for failure in sorted(set(r["failed"]))[:3]:
            print(f"    {failure}", flush=True)
    shutil.rmtree(args.work, ignore_errors=True)


if __name__ == "__main__":
    main()
