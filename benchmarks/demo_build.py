"""Time the demo lakehouse: the simulator's build of bronze, step by step, then the medallion.

Run: ``.venv/bin/python benchmarks/demo_build.py [--profile demo] [--home /tmp/bench-home]``.
Prints seconds per step, the total against the issue's goal (demo bronze in under 2 minutes on
2 cores), rows per second of the medallion build, and the process's peak memory.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import time


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--profile", default="demo")
    parser.add_argument("--home", default="/tmp/workbench-bench-demo")
    args = parser.parse_args()
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
