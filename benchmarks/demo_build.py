"""Time the demo lakehouse: the simulator's build of bronze, step by step, then the medallion.

Run: ``.venv/bin/python benchmarks/demo_build.py [--profile demo] [--home /tmp/bench-home]``.
Prints seconds per step, the total against the issue's goal (demo bronze in under 2 minutes on
2 cores), rows per second of the medallion build, and the process's peak memory.

The jobs' backfill (what ``workbench demo`` runs after the build), before/after in one run::

    benchmarks/demo_build.py --backfill-days 7 --from-home /tmp/demo-main --baseline /work/main

copies the built lakehouse ``--from-home`` (its warehouse file; the lake is linked, read
only) once per side, runs ``workbench demo jobs --backfill-days N`` from the ``--baseline``
checkout then from this one, each in its own process, and prints the wall time of each, their
ratio and this checkout's coverage table. Run it under ``flock /tmp/gridmind-demo.lock``.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import time
from pathlib import Path


def _backfill(checkout: Path, source: Path, home: Path, days: int) -> tuple[float, str]:
    """``workbench demo jobs`` of ``checkout`` on a copy of ``source``; (wall [s], its output)."""
    import subprocess
    import sys

    shutil.rmtree(home, ignore_errors=True)
    home.mkdir(parents=True)
    shutil.copy(source / "warehouse.duckdb", home / "warehouse.duckdb")
    (home / "lake").symlink_to(source / "lake")
    env = {**os.environ, "WORKBENCH_HOME": str(home), "PYTHONPATH": str(checkout)}
    env.update(COLUMNS="160", MPLBACKEND="Agg")
    env.pop("MLFLOW_TRACKING_URI", None)
    command = [sys.executable, "-m", "workbench.cli.main", "demo", "jobs"]
    t0 = time.perf_counter()
    out = subprocess.run(
        [*command, "--backfill-days", str(days)],
        cwd=checkout,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    wall = time.perf_counter() - t0
    (home / "backfill.log").write_text(out.stdout + out.stderr)
    if out.returncode != 0:
        tail = (out.stdout + out.stderr)[-2000:]
        raise SystemExit(f"expected the backfill of {checkout} to succeed; found:\n{tail}")
    return wall, out.stdout


def backfill_main(args: argparse.Namespace) -> None:
    """Before/after wall time of the jobs' backfill over ``args.backfill_days`` days."""

    source = Path(args.from_home)
    if not (source / "warehouse.duckdb").is_file():
        raise SystemExit(f"expected a built lakehouse at {source}; found no warehouse.duckdb")
    here = Path(__file__).resolve().parents[1]
    sides = [("this checkout", here)]
    if args.baseline:
        sides.insert(0, ("baseline", Path(args.baseline).resolve()))
    walls, last = {}, ""
    for label, checkout in sides:
        home = Path(f"{args.home}-{label.replace(' ', '-')}")
        walls[label], last = _backfill(checkout, source, home, args.backfill_days)
        print(f"{label:<16}{checkout!s:<34}{walls[label]:>9.1f} s   (log {home}/backfill.log)")
    if args.baseline:
        ratio = walls["this checkout"] / walls["baseline"]
        print(f"backfill of {args.backfill_days} day(s), this checkout / baseline: {ratio:.2f}")
    table = last[last.find("forecasts per target") :] if "forecasts per target" in last else last
    print(table[-4000:])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--profile", default="demo")
    parser.add_argument("--home", default="/tmp/workbench-bench-demo")
    parser.add_argument(
        "--backfill-days", type=int, default=0, help="time the jobs' backfill instead of a build"
    )
    parser.add_argument("--from-home", help="the built lakehouse the backfill copies (read only)")
    parser.add_argument("--baseline", help="another checkout to time first (e.g. /work/main)")
    args = parser.parse_args()
    if args.backfill_days:
        if not args.from_home:
            raise SystemExit("expected --from-home DIR (a built lakehouse) with --backfill-days")
        backfill_main(args)
        return
    shutil.rmtree(args.home, ignore_errors=True)
    os.environ["WORKBENCH_HOME"] = args.home

    from workbench import open_catalog
    from workbench.lake.build import build_medallion
    from workbench.sim.build import build_lakehouse
    from workbench.sim.profiles import get_profile

    cat = open_catalog()
    marks: list[tuple[str, float]] = []
    last = [time.perf_counter(), ""]

    def on_step(text: str, done: int, total: int) -> None:
        now = time.perf_counter()
        if last[1]:
            marks.append((str(last[1]), now - float(last[0])))
        last[0], last[1] = now, text

    t0 = time.perf_counter()
    summary = build_lakehouse(cat, get_profile(args.profile), seed=42, on_step=on_step)
    bronze_s = time.perf_counter() - t0
    print(f"{'bronze step':<58}{'seconds':>9}")
    for text, seconds in marks:
        print(f"{text:<58}{seconds:>9.1f}")
    rows = sum(r.rows for r in summary)
    print(f"{'bronze total':<58}{bronze_s:>9.1f}   goal < 120 s: ratio {bronze_s / 120:.2f}")

    t1 = time.perf_counter()
    result = build_medallion(cat)
    medallion_s = time.perf_counter() - t1
    rows_in = sum(r.rows_in for r in result.tables)
    print(f"{'medallion (silver + gold, full build)':<58}{medallion_s:>9.1f}")
    print(f"  {rows_in:,} source rows read, {rows_in / medallion_s / 1e6:.2f} M rows/s")
    t2 = time.perf_counter()
    build_medallion(cat)
    again = time.perf_counter() - t2
    print(f"{'medallion again (incremental, unchanged bronze)':<58}{again:>9.1f}")
    peak_gb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e6
    print(f"\n{rows:,} bronze rows/samples; peak memory {peak_gb:.1f} GB")
    cat.close()


if __name__ == "__main__":
    main()
