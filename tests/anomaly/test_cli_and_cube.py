"""`workbench anomaly` as a user runs it, and streaming vs batch on the ci PMU cube."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

WORKBENCH = str(Path(sys.executable).parent / "workbench")
T0 = pd.Timestamp("2024-01-01", tz="UTC")


def run(*args: str, env: dict[str, str] | None = None):
    return subprocess.run(
        [WORKBENCH, "anomaly", *args],
        capture_output=True,
        text=True,
        env={**os.environ, "COLUMNS": "200", **(env or {})},
        timeout=120,
    )


def _one_line_error(out, needle: str) -> None:
    assert out.returncode == 1, out.stdout + out.stderr
    assert "Traceback" not in out.stderr
    assert len(out.stderr.strip().splitlines()) == 1, out.stderr
    assert needle in out.stderr, out.stderr


@pytest.fixture
def freq_csv(tmp_path):
    t = np.arange(0, 60, 0.1)
    f = np.full(t.size, 60.0)
    f[(t >= 20) & (t < 21)] = 59.9
    frame = pd.DataFrame(
        {"ts": (T0 + pd.to_timedelta(t, unit="s")).astype(str), "hz": f, "pmu": "X"}
    )
    path = tmp_path / "freq.csv"
    frame.to_csv(path, index=False)
    return path


def test_frequency_on_a_csv_and_detect_on_parquet(freq_csv, tmp_path):
    out = run("frequency", str(freq_csv), "--time-col", "ts", "--value-col", "hz",
              "--group-col", "pmu", "--output", str(tmp_path / "ep.parquet"))  # fmt: skip
    assert out.returncode == 0, out.stderr
    ep = pd.read_parquet(tmp_path / "ep.parquet")
    assert list(ep.columns) == ["group", "start", "end", "min_hz", "max_hz", "samples_outside"]
    assert ep["samples_outside"].tolist() == [10]
    assert ep["group"].tolist() == ["X"]
    frame = pd.read_csv(freq_csv)
    frame.loc[300, "hz"] = 75.0  # a spike
    frame.to_parquet(tmp_path / "v.parquet")
    out = run("detect", str(tmp_path / "v.parquet"), "--time-col", "ts", "--value-col", "hz",
              "--method", "rules", "--output", str(tmp_path / "ev.parquet"))  # fmt: skip
    assert out.returncode == 0, out.stderr
    ev = pd.read_parquet(tmp_path / "ev.parquet")
    assert list(ev.columns) == ["group", "start", "end", "score", "kind"]
    assert "spike" in set(ev["kind"])


def test_bad_files_get_one_line_errors(freq_csv, tmp_path):
    o = str(tmp_path / "o.parquet")
    common = ["--time-col", "ts", "--value-col", "hz", "--output", o]
    _one_line_error(run("frequency", str(tmp_path / "none.csv"), *common), "found nothing there")
    garbage = tmp_path / "bad.parquet"
    garbage.write_bytes(b"not a parquet file at all")
    _one_line_error(run("detect", str(garbage), *common), "cannot read")
    _one_line_error(run("detect", str(freq_csv), "--time-col", "ts", "--value-col", "mw",
                        "--output", o), "missing")  # fmt: skip
    frame = pd.read_csv(freq_csv)
    frame["hz"] = frame["hz"].astype(object)
    frame.loc[3, "hz"] = "sixty"
    frame.to_csv(tmp_path / "text.csv", index=False)
    _one_line_error(
        run("frequency", str(tmp_path / "text.csv"), *common),
        "found text such as 'sixty' in 1 rows",
    )
    frame = pd.read_csv(freq_csv)
    frame.loc[3, "ts"] = "yesterday-ish"
    frame.to_csv(tmp_path / "times.csv", index=False)
    _one_line_error(run("detect", str(tmp_path / "times.csv"), *common), "timestamps")
    (tmp_path / "x.txt").write_text("a,b\n1,2\n")
    _one_line_error(run("detect", str(tmp_path / "x.txt"), *common), ".csv or .parquet")


@pytest.mark.slow
def test_streaming_in_shuffled_one_second_batches_equals_batch_on_the_ci_cube(ci_catalog):
    from workbench.anomaly.frequency.batch import detect_frequency_cube, detect_frequency_frame
    from workbench.anomaly.frequency.stream import FrequencyDetector
    from workbench.anomaly.sweep import FREQUENCY_EVENT_COLUMNS, frequency_events_sweep

    ds = ci_catalog.read("bronze.pmu")
    batch = detect_frequency_cube(ds)
    assert len(batch) > 0
    rate = 30
    times = pd.DatetimeIndex(ds["time"].values).tz_localize("UTC")
    f = ds["frequency_hz"].transpose("time", "pmu").values
    q = ds["quality"].transpose("time", "pmu").values
    rng = np.random.default_rng(0)
    order = np.arange(times.size)
    for i in range(0, order.size, rate):  # rows shuffled within each 1-s batch
        order[i : i + rate] = rng.permutation(order[i : i + rate])
    det = FrequencyDetector([str(p) for p in ds["pmu"].values], allowed_lateness="1s")
    parts = [det.push(times[order[i : i + rate]], f[order[i : i + rate]], q[order[i : i + rate]])
             for i in range(0, order.size, rate)]  # fmt: skip
    parts.append(det.flush())
    streamed = pd.concat(parts, ignore_index=True).sort_values(
        ["group", "start"], ignore_index=True
    )
    assert det.late_rows == 0
    pd.testing.assert_frame_equal(streamed, batch)
    # the long-frame batch path agrees too
    long = ds[["frequency_hz", "quality"]].to_dataframe().reset_index()
    frame_batch = detect_frequency_frame(long, "time", "frequency_hz", "pmu", "quality")
    pd.testing.assert_frame_equal(frame_batch, batch)
    sweep = frequency_events_sweep(ds)
    assert list(sweep.columns) == list(FREQUENCY_EVENT_COLUMNS)
    assert len(sweep) == len(batch)
    labels = ci_catalog.read("ops.sim_events", where={"source": "pmu"})
    trip = labels[labels["event_type"] == "generator_trip"].iloc[0]
    near = sweep[
        (sweep["start"] >= trip["start"]) & (sweep["start"] < trip["start"] + pd.Timedelta("5s"))
    ]
    assert len(near) == ds.sizes["pmu"]  # every PMU sees the trip within 5 s
    assert (near["nadir_hz"] < 59.95).all()
    assert (near["rocof_hz_per_s"] < 0).all()


def test_frequency_window_is_checked_before_any_read(freq_csv, tmp_path):
    o = tmp_path / "o.parquet"
    out = run("frequency", "--start", "2024-03-02", "--end", "2024-03-01", "--output", str(o))
    _one_line_error(out, "expected --start before --end")
    out = run("frequency", "--start", "2024-03-01", "--end", "2024-03-01", "--output", str(o))
    _one_line_error(out, "an empty window")
    out = run("frequency", "--start", "yesterday", "--output", str(o))
    _one_line_error(out, "expected --start as an ISO 8601 time")
    out = run("frequency", str(freq_csv), "--time-col", "ts", "--value-col", "hz",
              "--start", "2024-01-01", "--output", str(o))  # fmt: skip
    _one_line_error(out, "only without a file")
    (tmp_path / "dir.parquet").mkdir()
    out = run("frequency", str(freq_csv), "--time-col", "ts", "--value-col", "hz",
              "--output", str(tmp_path / "dir.parquet"))  # fmt: skip
    _one_line_error(out, "found a directory")
    assert not o.exists()
