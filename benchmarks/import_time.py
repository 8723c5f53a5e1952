"""How long does ``import workbench`` take, next to the libraries it must not load?

Run: ``.venv/bin/python benchmarks/import_time.py``. Each figure is the median of fresh
interpreters (``python -X importtime`` would show the detail); the ratios put the package's own
cost next to a bare interpreter and next to importing pandas or ibis.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import time

RUNS = 7
STATEMENTS = {
    "bare interpreter": "pass",
    "import workbench": "import workbench",
    "from workbench import open_catalog": "from workbench import open_catalog",
    "import pandas": "import pandas",
    "import ibis": "import ibis",
}


def wall(statement: str) -> float:
    samples = []
    for _ in range(RUNS):
        t0 = time.perf_counter()
        subprocess.run([sys.executable, "-c", statement], check=True)
        samples.append(time.perf_counter() - t0)
    return statistics.median(samples)


def main() -> None:
    results = {label: wall(stmt) for label, stmt in STATEMENTS.items()}
    bare = results["bare interpreter"]
    print(f"{'statement':<38}{'median s':>10}{'minus bare s':>14}")
    for label, seconds in results.items():
        print(f"{label:<38}{seconds:>10.3f}{seconds - bare:>14.3f}")
    own = results["import workbench"] - bare
    print(f"\nimport workbench costs {own * 1000:.0f} ms over a bare interpreter")
    print("(goal: well under 500 ms)")


if __name__ == "__main__":
    main()
