"""Bad input files, made once per run (each test gets a copy): every way a table can be wrong.

Each file has the columns the corpus passes on the command line (``timestamp`` and ``value``) unless
its point is to lack them. A good file is made too, so a case can vary one option at a time.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

GOOD_HOURS = 24 * 60


def _hourly(n: int, start: str = "2024-01-01") -> pd.DataFrame:
    times = pd.date_range(start, periods=n, freq="1h", tz="UTC")
    rng = np.random.default_rng(0)
    values = 1000 + 200 * np.sin(np.arange(n) * 2 * np.pi / 24) + rng.normal(0, 10, n)
    return pd.DataFrame({"timestamp": times, "value": values})


def _csv(path: Path, frame: pd.DataFrame) -> Path:
    frame.to_csv(path, index=False)
    return path


def make_files(folder: Path) -> dict[str, Path]:
    """Write every bad file (and one good one) under ``folder``; return them by name."""
    folder.mkdir(parents=True, exist_ok=True)
    good = _hourly(GOOD_HOURS)
    files: dict[str, Path] = {"good": _csv(folder / "good.csv", good)}
    files["missing"] = folder / "no_such_file.csv"
    files["directory"] = folder / "a_folder.csv"
    files["directory"].mkdir()
    files["empty"] = folder / "empty.csv"
    files["empty"].write_bytes(b"")
    files["empty_parquet"] = folder / "empty.parquet"
    files["empty_parquet"].write_bytes(b"")
    files["header_only"] = folder / "header_only.csv"
    files["header_only"].write_text("timestamp,value\n")
    files["wrong_columns"] = _csv(
        folder / "wrong_columns.csv", good.rename(columns={"timestamp": "time", "value": "reading"})
    )
    non_numeric = good.astype({"value": object})
    non_numeric.loc[5:9, "value"] = "n/a"
    files["non_numeric"] = _csv(folder / "non_numeric.csv", non_numeric)
    all_nan = good.copy()
    all_nan["value"] = np.nan
    files["all_nan"] = _csv(folder / "all_nan.csv", all_nan)
    with_inf = good.copy()
    with_inf.loc[100, "value"] = np.inf
    with_inf.loc[200, "value"] = -np.inf
    files["inf"] = _csv(folder / "inf.csv", with_inf)
    files["duplicates"] = _csv(
        folder / "duplicates.csv", pd.concat([good, good.iloc[10:20]], ignore_index=True)
    )
    mixed = good.copy()
    stamps = mixed["timestamp"].dt.strftime("%Y-%m-%dT%H:%M:%S+00:00").astype(object)
    stamps.iloc[::2] = (
        mixed["timestamp"]
        .iloc[::2]
        .dt.tz_convert("America/Chicago")
        .dt.strftime("%Y-%m-%dT%H:%M:%S")
    )
    mixed["timestamp"] = stamps
    files["mixed_zones"] = _csv(folder / "mixed_zones.csv", mixed)
    files["unsorted"] = _csv(folder / "unsorted.csv", good.iloc[::-1])
    files["one_row"] = _csv(folder / "one_row.csv", good.iloc[:1])
    gap = pd.concat([good.iloc[:48], _hourly(48, start="2026-06-01")], ignore_index=True)
    files["huge_gap"] = _csv(folder / "huge_gap.csv", gap)
    bad_times = good.astype({"timestamp": object})
    bad_times.loc[3, "timestamp"] = "not a time"
    files["bad_timestamps"] = _csv(folder / "bad_timestamps.csv", bad_times)
    files["binary"] = folder / "binary.csv"
    files["binary"].write_bytes(np.random.default_rng(1).bytes(4096))
    files["binary_parquet"] = folder / "binary.parquet"
    files["binary_parquet"].write_bytes(np.random.default_rng(2).bytes(4096))
    files["unsupported"] = folder / "table.xlsx"
    files["unsupported"].write_bytes(b"PK\x03\x04 not really a workbook")
    return files
