"""The warehouse's transactional write next to DuckDB's own bulk load, on the same frame.

Run: ``.venv/bin/python benchmarks/warehouse_write.py [--rows 25000000]``. The workbench stages
the frame in a temporary table and moves it into the target inside a transaction, with casts to
the declared types; the baseline is a bare ``CREATE TABLE AS SELECT`` from the Arrow table.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path


def main() -> None:
    import numpy as np
    import pandas as pd
    import pyarrow as pa

    from workbench.io.warehouse import Warehouse

    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=25_000_000)
    n = parser.parse_args().rows
    rng = np.random.default_rng(0)
    frame = pd.DataFrame(
        {
            "timestamp": pd.date_range("2023-01-01", periods=n, freq="s", tz="UTC"),
            "asset_id": pd.Series(rng.choice([f"GAS_{i:03d}" for i in range(119)], n)),
            "generation_mw": rng.random(n) * 500,
            "available": np.ones(n, bool),
        }
    )
    with tempfile.TemporaryDirectory() as tmp:
        wh = Warehouse(f"duckdb:///{Path(tmp) / 'a.duckdb'}")
        t = time.perf_counter()
        wh.write("bronze.raw_generation", frame, mode="replace")
        ours = time.perf_counter() - t
        wh.close()
        import duckdb

        con = duckdb.connect(str(Path(tmp) / "b.duckdb"))
        t = time.perf_counter()
        arrow = pa.Table.from_pandas(frame, preserve_index=False)
        con.register("frame_view", arrow)
        con.execute("CREATE TABLE raw_generation AS SELECT * FROM frame_view")
        baseline = time.perf_counter() - t
        con.close()
    print(f"{'writer':<44}{'seconds':>9}{'M rows/s':>10}")
    print(f"{'workbench Warehouse.write (transactional)':<44}{ours:>9.1f}{n / ours / 1e6:>10.2f}")
    print(f"{'duckdb CTAS from Arrow (baseline)':<44}{baseline:>9.1f}{n / baseline / 1e6:>10.2f}")
    print(f"ratio workbench / baseline: {ours / baseline:.2f}")


if __name__ == "__main__":
    main()
