"""``workbench market``: a real run on a file, the catalog commands, and bad input."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

WORKBENCH = str(Path(sys.executable).parent / "workbench")


def price_file(path: Path, days: int = 3) -> Path:
    n = 24 * days
    rng = np.random.default_rng(0)
    ts = pd.date_range("2024-03-01", periods=n, freq="h")  # naive: read as UTC
    actual = 40 + 25 * np.sin(np.arange(n) * 2 * np.pi / 24) + rng.normal(0, 5, n)
    frame = pd.DataFrame({"ts": ts, "rt": actual, "da": actual + rng.normal(0, 4, n)})
    if path.suffix == ".csv":
        frame.to_csv(path, index=False)
    else:
        frame.to_parquet(path, index=False)
    return path


def invoke(args: list[str], capsys, monkeypatch) -> tuple[int, str, str]:
    from workbench.cli.main import main

    monkeypatch.setattr(sys, "argv", ["workbench", *args])
    monkeypatch.setenv("COLUMNS", "200")
    with pytest.raises(SystemExit) as info:
        main()
    out = capsys.readouterr()
    return info.value.code, out.out, out.err


def test_arbitrage_backtest_on_a_csv_file(tmp_path):
    src = price_file(tmp_path / "prices.csv")
    output = tmp_path / "out" / "schedule.parquet"
    args = ["market", "arbitrage", str(src), "--time-col", "ts", "--price-col", "rt",
            "--forecast-col", "da", "--energy-mwh", "100", "--power-mw", "25",
            "--efficiency", "0.9", "--cycles-per-day", "1", "--output", str(output)]  # fmt: skip
    done = subprocess.run(
        [WORKBENCH, *args], capture_output=True, text=True, timeout=120,
        env={**os.environ, "COLUMNS": "200"},
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "3 days" in done.stdout
    assert "ratio" in done.stdout
    schedule = pd.read_parquet(output)
    assert len(schedule) == 72
    assert str(schedule["timestamp"].dt.tz) == "UTC"
    assert schedule["charge_mw"].between(-1e-6, 25 + 1e-6).all()
    assert schedule["discharge_mw"].between(-1e-6, 25 + 1e-6).all()
    assert schedule["soc_mwh"].between(-1e-6, 100 + 1e-6).all()
    np.testing.assert_allclose(schedule["actual_price_usd_per_mwh"], pd.read_csv(src)["rt"])


def test_arbitrage_perfect_foresight_to_csv(tmp_path, capsys, monkeypatch):
    src = price_file(tmp_path / "prices.parquet", days=2)
    output = tmp_path / "schedule.csv"
    code, out, err = invoke(
        ["market", "arbitrage", str(src), "--time-col", "ts", "--price-col", "rt",
         "--energy-mwh", "50", "--power-mw", "50", "--cycles-per-day", "0",
         "--output", str(output)], capsys, monkeypatch,
    )  # fmt: skip
    assert code == 0, err
    assert "profit at rt" in out
    schedule = pd.read_csv(output)
    assert len(schedule) == 48
    assert schedule["soc_mwh"].max() <= 50 + 1e-6


def _bad_inputs(tmp: Path) -> list[tuple[list[str], str]]:
    good = price_file(tmp / "good.csv", days=1)
    corrupt = tmp / "corrupt.parquet"
    corrupt.write_bytes(b"not a parquet file at all")
    empty = tmp / "empty.csv"
    empty.write_text("ts,rt\n")
    text = tmp / "prices.txt"
    text.write_text("ts,rt\n")
    words = tmp / "words.csv"
    words.write_text("ts,rt\n2024-03-01 00:00,12.5\n2024-03-01 01:00,cheap\n")
    stamps = tmp / "stamps.csv"
    stamps.write_text("ts,rt\nyesterday,12.5\nnoon,13\n")
    gappy = tmp / "gappy.csv"
    gappy.write_text("ts,rt\n2024-03-01 00:00,1\n2024-03-01 01:00,2\n2024-03-01 03:00,3\n")
    holes = tmp / "holes.csv"
    holes.write_text("ts,rt\n2024-03-01 00:00,1\n2024-03-01 01:00,\n2024-03-01 02:00,3\n")
    return [
        ([str(tmp / "nope.csv")], "found nothing there"),
        ([str(text)], "expected a .csv or .parquet file"),
        ([str(corrupt)], "cannot read"),
        ([str(empty)], "found an empty table"),
        ([str(good), "--forecast-col", "fc"], "expected columns ['fc'] are missing"),
        ([str(words)], "found text such as 'cheap' in 1 rows"),
        ([str(stamps)], "expected timestamps in column 'ts'"),
        ([str(gappy)], "expected regular intervals"),
        ([str(holes)], "expected a finite price in every interval"),
        ([str(good), "--efficiency", "1.5"], "round_trip_efficiency in (0, 1]"),
        ([str(good), "--initial-soc", "1.2"], "initial_soc between"),
    ]


def test_bad_files_and_parameters_get_one_clear_line(tmp_path, capsys, monkeypatch):
    for extra, message in _bad_inputs(tmp_path):
        src, *options = extra
        args = ["market", "arbitrage", src, "--time-col", "ts", "--price-col", "rt",
                "--energy-mwh", "10", "--power-mw", "5", *options,
                "--output", str(tmp_path / "s.parquet")]  # fmt: skip
        code, _, err = invoke(args, capsys, monkeypatch)
        assert code == 1, (extra, err)
        assert err.startswith("error:"), (extra, err)
        assert message in " ".join(err.split()), (extra, err)
        assert "Traceback" not in err
    good = str(tmp_path / "good.csv")
    code, _, err = invoke(
        ["market", "arbitrage", good, "--time-col", "ts", "--price-col", "rt",
         "--energy-mwh", "10", "--power-mw", "5", "--output", str(tmp_path / "s.txt")],
        capsys, monkeypatch,
    )  # fmt: skip
    assert code == 1
    assert "expected --output to end in .parquet or .csv" in err


def test_spreads_and_lmp_over_the_catalog(ci_gold_catalog, tmp_path, capsys, monkeypatch):
    output = tmp_path / "spreads.parquet"
    code, out, err = invoke(
        ["market", "spreads", "--tz", "America/Chicago", "--by-hour", "--output", str(output)],
        capsys, monkeypatch,
    )  # fmt: skip
    assert code == 0, err
    assert "BUS_HOUSTON" in out
    assert "q99" in out
    summary = pd.read_parquet(output)
    assert len(summary) == 5 * 24
    code, out, err = invoke(["market", "lmp"], capsys, monkeypatch)
    assert code == 0, err
    assert "IF_COAST_HOUSTON" in out
    assert "share_congestion" in out
    code, _, err = invoke(["market", "spreads", "--table", "gold.fact_load"], capsys, monkeypatch)
    assert code == 1
    assert "expected a price table" in err


def test_unknown_time_zone_and_directory_output_are_one_line(tmp_path, capsys, monkeypatch):
    good = str(price_file(tmp_path / "good.csv", days=1))
    base = ["market", "arbitrage", good, "--time-col", "ts", "--price-col", "rt",
            "--energy-mwh", "10", "--power-mw", "5"]  # fmt: skip
    out = tmp_path / "s.parquet"
    code, _, err = invoke([*base, "--tz", "Bogus/Zone", "--output", str(out)], capsys, monkeypatch)
    assert code == 1
    assert len(err.strip().splitlines()) == 1, err
    assert "found 'Bogus/Zone'" in err
    assert "zoneinfo.available_timezones()" in err
    assert not out.exists()
    code, _, err = invoke([*base, "--tz", "America/Chicgo", "--output", str(out)], capsys,
                          monkeypatch)  # fmt: skip
    assert code == 1
    assert "did you mean America/Chicago" in err
    folder = tmp_path / "folder.parquet"
    folder.mkdir()
    code, _, err = invoke([*base, "--output", str(folder)], capsys, monkeypatch)
    assert code == 1
    assert "found a directory" in err
    assert "Traceback" not in err
    assert list(folder.iterdir()) == []
    code, _, err = invoke(["market", "spreads", "--tz", "Mars/Olympus"], capsys, monkeypatch)
    assert code == 1
    assert "found 'Mars/Olympus'" in err
