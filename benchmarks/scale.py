"""Issue 5 in one command: every cube and meter figure, printed side by side.

Run: ``.venv/bin/python benchmarks/scale.py`` (first run builds the cached 1,000-PMU hour and the
1M-meter day under ``$WORKBENCH_BENCH_DIR``, default ``/tmp/gridmind-bench``; later runs reuse
them). It runs :mod:`benchmarks.cubes` (10-minute, 100-PMU window; satellite extraction per frame)
then :mod:`benchmarks.meters` (one day of 1M meters to regional 15-min load: workbench accessor vs
hand-written DuckDB SQL vs Polars vs pandas vs Dask, rows/s, ratios, peak memory; and a month out of
core). Each script also runs alone, with its own options.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main() -> int:
    status = 0
    for script, args in (("cubes.py", []), ("meters.py", [])):
        print(f"\n===== {script} =====", flush=True)
        done = subprocess.run([sys.executable, str(HERE / script), *args], check=False)
        status = status or done.returncode
    return status


if __name__ == "__main__":
    sys.exit(main())
