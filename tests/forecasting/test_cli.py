"""``workbench forecast backtest`` on user-style files, through the real entry point."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from tests.forecasting.conftest import run_cli
from workbench.forecasting.synthetic import synthetic_load


@pytest.fixture
def user_csv(tmp_path):
    """Half-hourly local (Europe/London) naive timestamps across the spring DST change."""
    y = synthetic_load(start="2024-02-20", days=45, freq="30min", tz="Europe/London", seed=2)
    local = y.index.tz_convert("Europe/London").tz_localize(None)
    temp = 10 + np.sin(np.arange(len(y)) / 48.0)
    frame = pd.DataFrame(
        {"Time": local.strftime("%d/%m/%Y %H:%M"), "Demand": y.round(2), "temp_c": temp}
    )
    path = tmp_path / "demand.csv"
    frame.to_csv(path, index=False)
    return path


def test_backtest_across_dst_writes_stated_columns(monkeypatch, capsys, tmp_path, user_csv):
    out, rep = tmp_path / "fc.parquet", tmp_path / "report.json"
    code, stdout, err = run_cli(
        monkeypatch, capsys, "forecast", "backtest", str(user_csv), "--time-col", "Time",
        "--target", "Demand", "--tz", "Europe/London", "--horizon", "1D", "--issue-time", "09:00",
        "--future-covariates", "temp_c", "--model", "lightgbm", "--test-start", "2024-03-28",
        "--test-end", "2024-04-02", "--retrain", "never", "--quantiles", "0.1,0.5,0.9",
        "--output", str(out), "--report", str(rep),
    )  # fmt: skip
    assert code == 0, err
    fc = pd.read_parquet(out)
    assert list(fc.columns) == [
        "issue_time", "target_time", "step", "y_pred", "y_true", "q0.1", "q0.5", "q0.9"
    ]  # fmt: skip
    assert fc["issue_time"].nunique() == 6
    local_issue = pd.DatetimeIndex(fc["issue_time"].unique()).tz_convert("Europe/London")
    assert set(local_issue.hour) == {9}  # 09:00 local before and after the DST change
    assert fc["step"].max() == 48
    assert fc["y_true"].notna().all()
    report = json.loads(rep.read_text())
    assert report["settings"]["freq"] == str(pd.Timedelta("30min"))
    assert report["data"]["freq_inferred"] is True
    assert report["data"]["gaps_filled"] == 0
    assert set(report["metrics"]) == {"model", "baseline", "skill"}
    assert len(report["by_step"]["model"]) == 48
    assert len(report["by_step"]["baseline"]) == 48
    assert report["metrics"]["skill"]["skill_mae"] > 0
    assert "lightgbm" in stdout


@pytest.mark.parametrize(
    ("mutate", "extra", "message"),
    [
        (lambda f: f, [], "--tz"),  # naive timestamps without a zone
        (lambda f: pd.concat([f, f.iloc[[100]]]), ["--tz", "UTC"], "--duplicates"),
        (lambda f: f.assign(Demand=f["Demand"].astype(str).mask(f.index == 7, "err")),
         ["--tz", "UTC"], "non-numeric"),
        (lambda f: f, ["--tz", "UTC", "--past-covariates", "wind"], "missing"),
        (lambda f: f, ["--tz", "UTC", "--retrain", "daily"], "retrain"),
        (lambda f: f, ["--tz", "UTC", "--model", "prophet"], "expected a model name"),
    ],
)  # fmt: skip
def test_malformed_input_is_one_clear_line(monkeypatch, capsys, tmp_path, user_csv, mutate, extra,
                                           message):  # fmt: skip
    path = tmp_path / "bad.csv"
    mutate(pd.read_csv(user_csv)).to_csv(path, index=False)
    code, _, err = run_cli(
        monkeypatch, capsys, "forecast", "backtest", str(path), "--time-col", "Time",
        "--target", "Demand", "--model", "seasonal_naive", "--output", str(tmp_path / "o.parquet"),
        *extra,
    )  # fmt: skip
    assert code == 1
    assert err.startswith("error:")
    assert message in err
    assert "Traceback" not in err


def test_output_naming_a_directory_is_one_line_and_runs_nothing(monkeypatch, capsys, tmp_path,
                                                                user_csv):  # fmt: skip
    for target in (tmp_path, tmp_path / "fc.parquet"):
        target.mkdir(exist_ok=True)
        code, _, err = run_cli(
            monkeypatch, capsys, "forecast", "backtest", str(user_csv), "--time-col", "Time",
            "--target", "Demand", "--tz", "Europe/London", "--model", "seasonal_naive",
            "--output", str(target),
        )  # fmt: skip
        assert code == 1
        assert len(err.strip().splitlines()) == 1, err
        assert "found a directory" in err
        assert "Traceback" not in err
    assert list((tmp_path / "fc.parquet").iterdir()) == []


def test_infinite_target_is_one_clear_line(monkeypatch, capsys, tmp_path, user_csv):
    frame = pd.read_csv(user_csv)
    frame.loc[[5, 9], "Demand"] = [np.inf, -np.inf]
    path = tmp_path / "inf.csv"
    frame.to_csv(path, index=False)
    args = ["forecast", "backtest", str(path), "--time-col", "Time", "--target", "Demand",
            "--tz", "Europe/London", "--model", "seasonal_naive", "--retrain", "never",
            "--output", str(tmp_path / "o.parquet")]  # fmt: skip
    code, _, err = run_cli(monkeypatch, capsys, *args)
    assert code == 1
    assert "found 2 infinite values" in err
    assert not (tmp_path / "o.parquet").exists()
    code, _, err = run_cli(monkeypatch, capsys, *args, "--coerce", "--report",
                           str(tmp_path / "r.json"))  # fmt: skip
    assert code == 0, err
    report = json.loads((tmp_path / "r.json").read_text())
    assert report["data"]["infinite_to_nan"] == {"Demand": 2}
    assert np.isfinite(report["metrics"]["model"]["mae"])
