"""Day-ahead load job end to end: kernel start to rows in gold (goal < 30 s on the demo).

Runs the real job (``pipelines/papermill/day_ahead_load.yaml``) through the runner — papermill,
the ``gridmind`` kernel, the notebook, the publish transaction, ``ops.job_runs`` — on a private
copy of the lakehouse: the demo one when ``WORKBENCH_HOME`` (or ``.workbench``) has a warehouse,
else the ``ci`` profile built into a temporary folder (and said so).

    .venv/bin/python benchmarks/job_latency.py [--runs 2]
"""

from __future__ import annotations

import argparse
import os
import shutil
import tempfile
import time
from pathlib import Path


def _private_home(tmp: Path) -> tuple[Path, str]:
    from workbench.core.config import workbench_home

    source = workbench_home()
    home = tmp / "home"
    home.mkdir()
    if (source / "warehouse.duckdb").exists():
        shutil.copy(source / "warehouse.duckdb", home / "warehouse.duckdb")
        (home / "lake").symlink_to(source / "lake")
        return home, f"a copy of {source}"
    from workbench.io.catalog import open_catalog
    from workbench.lake.build import build_medallion
    from workbench.sim.build import build_lakehouse
    from workbench.sim.profiles import get_profile

    os.environ["WORKBENCH_HOME"] = str(home)
    cat = open_catalog()
    build_lakehouse(cat, get_profile("ci"), seed=42)
    build_medallion(cat)
    cat.close()
    return home, "the ci profile (no demo lakehouse found; run `make demo` for the demo figure)"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=2, help="Runs (the first trains if needed).")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="job-latency-") as tmp:
        home, what = _private_home(Path(tmp))
        os.environ["WORKBENCH_HOME"] = str(home)
        from workbench.jobs.runner import run_job
        from workbench.jobs.spec import get_job_spec

        spec = get_job_spec("day_ahead_load")
        print(f"day_ahead_load on {what}")
        for i in range(args.runs):
            t0 = time.perf_counter()
            result = run_job(spec, {"issue_date": "auto"})
            wall = time.perf_counter() - t0
            run = result.last
            if not result.ok:
                raise SystemExit(f"run {i + 1} failed: {run.error} ({run.notebook_path})")
            print(
                f"run {i + 1}: kernel start to rows in gold {run.duration_s:.1f} s "
                f"(with run registry writes {wall:.1f} s); {run.rows_written} rows; "
                f"model {run.metrics.get('model_source', '?')}; "
                f"MAPE of the previous day {run.metrics.get('mape_day_ahead_pct')}, of the "
                f"forecast's first day {run.metrics.get('mape_next_day_pct')} %"
            )
        print("goal: < 30 s on the demo")


if __name__ == "__main__":
    main()
