"""Backtests logged to MLflow: parameters, overall and per-step metrics, forecasts, plots."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from workbench.forecasting.backtest import backtest, issue_schedule
from workbench.forecasting.base import ForecastSpec
from workbench.forecasting.synthetic import synthetic_data
from workbench.forecasting.tracking import TrackingError, log_backtest, tracking_uri


@pytest.fixture(scope="module")
def result():
    data = synthetic_data(days=40, tz="UTC", seed=5, start="2024-02-01")
    spec = ForecastSpec(freq=pd.Timedelta("1h"), horizon=24, tz="UTC")
    issues = issue_schedule("2024-03-01", "2024-03-08", "00:00", "UTC")
    return backtest(data, spec, "seasonal_naive", issues, retrain="weekly")


def _client(uri: str):
    from mlflow import MlflowClient

    return MlflowClient(tracking_uri=uri)


def test_a_backtest_is_logged_with_params_metrics_forecasts_and_plots(mlflow_home, result):
    uri = tracking_uri()
    assert uri == f"sqlite:///{mlflow_home / 'mlflow.db'}"
    run_id = log_backtest(
        result, experiment="load_test", tags={"source": "t.csv"}, retrain="weekly"
    )
    client = _client(uri)
    run = client.get_run(run_id)
    assert run.info.status == "FINISHED"
    assert client.get_experiment(run.info.experiment_id).name == "load_test"
    params = run.data.params
    assert params["model"] == "seasonal_naive"
    assert params["retrain"] == "weekly"
    assert params["spec.horizon"] == "24"
    assert pd.Timestamp(params["window_start"]) == pd.Timestamp("2024-03-01", tz="UTC")
    assert pd.Timestamp(params["window_end"]) == pd.Timestamp("2024-03-08", tz="UTC")
    assert run.data.tags["source"] == "t.csv"
    scores = result.metrics()
    assert run.data.metrics["mae"] == pytest.approx(scores["model"]["mae"])
    assert run.data.metrics["mape_pct"] == pytest.approx(scores["model"]["mape_pct"])
    assert run.data.metrics["baseline_mae"] == pytest.approx(scores["baseline"]["mae"])
    assert "skill_mae" in run.data.metrics
    history = client.get_metric_history(run_id, "mae_by_step")
    by_step = {m.step: m.value for m in history}
    expected = {r["step"]: r["mae"] for r in scores["by_step"]["model"]}
    assert sorted(by_step) == sorted(expected)
    assert len(by_step) == 24
    assert by_step == pytest.approx(expected)
    names = {f.path for f in client.list_artifacts(run_id)}
    assert {"forecasts.parquet", "fan_chart.png", "error_heatmap.png", "metrics.json"} <= names
    # the artifacts are where the default store keeps them, and read back
    local = list((mlflow_home / "artifacts" / "load_test").rglob("forecasts.parquet"))
    assert len(local) == 1
    back = pd.read_parquet(local[0])
    np.testing.assert_allclose(back["y_pred"], result.forecasts["y_pred"])
    png = next((mlflow_home / "artifacts").rglob("fan_chart.png")).read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n"


def test_mlflow_tracking_uri_is_honoured(
    workbench_home, mlflow_template, tmp_path, monkeypatch, result
):
    import shutil

    other = tmp_path / "team" / "mlflow.db"
    other.parent.mkdir()
    shutil.copyfile(mlflow_template, other)
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{other}")
    assert tracking_uri() == f"sqlite:///{other}"
    run_id = log_backtest(result)
    assert _client(f"sqlite:///{other}").get_run(run_id).data.params["model"] == "seasonal_naive"
    assert not (workbench_home / "mlflow").exists()  # nothing written to the local default


def test_a_bad_tracking_uri_is_a_clear_error(monkeypatch, result, workbench_home: Path):
    monkeypatch.setenv("MLFLOW_TRACKING_URI", "nosuchscheme://tracking.example")
    with pytest.raises(TrackingError, match=r"expected a reachable MLflow tracking store at "
                       r"'nosuchscheme://tracking.example'.*MLFLOW_TRACKING_URI"):  # fmt: skip
        log_backtest(result)


def test_the_cli_backtest_logs_a_run_and_prints_its_id(mlflow_home, tmp_path):
    import os
    import re
    import subprocess
    import sys

    frame = synthetic_data(days=30, tz="UTC", seed=2, start="2024-01-01").y.rename("load")
    csv = tmp_path / "load.csv"
    frame.rename_axis("time").reset_index().to_csv(csv, index=False)
    exe = Path(sys.executable).with_name("workbench")
    args = [str(exe), "forecast", "backtest", str(csv), "--time-col", "time", "--target", "load",
            "--model", "seasonal_naive", "--test-start", "2024-01-25", "--retrain", "never",
            "--output", str(tmp_path / "out.parquet")]  # fmt: skip
    env = {**os.environ, "COLUMNS": "200"}
    done = subprocess.run(args, capture_output=True, text=True, timeout=300, env=env)
    assert done.returncode == 0, done.stderr
    found = re.search(r"MLflow run ([0-9a-f]{32}) in (\S+)", done.stdout)
    assert found, done.stdout
    run = _client(found.group(2)).get_run(found.group(1))
    assert run.data.params["retrain"] == "never"
    assert run.data.tags["target"] == "load"
    skipped = subprocess.run([*args, "--no-track"], capture_output=True, text=True, timeout=300,
                             env=env)  # fmt: skip
    assert skipped.returncode == 0, skipped.stderr
    assert "MLflow run" not in skipped.stdout
    failing = subprocess.run(args, capture_output=True, text=True, timeout=300,
                             env={**env, "MLFLOW_TRACKING_URI": "nosuchscheme://x"})  # fmt: skip
    assert failing.returncode == 1
    assert "expected a reachable MLflow tracking store" in failing.stderr
    assert "Traceback" not in failing.stderr
    assert (tmp_path / "out.parquet").is_file()  # the forecasts were written before logging


def test_a_catalog_use_case_backtest_logs_a_run(ci_gold_catalog, mlflow_template, tmp_path,
                                                monkeypatch):  # fmt: skip
    import shutil

    from workbench.forecasting.tracking import backtest_usecase
    from workbench.forecasting.usecases.load import load_usecase

    store = tmp_path / "mlflow.db"  # the shared ci lakehouse stays read-only
    shutil.copyfile(mlflow_template, store)
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{store}")
    case = load_usecase(ci_gold_catalog, "NORTH")
    issues = issue_schedule("2024-03-12", "2024-03-14", case.issue_time, case.spec.tz)
    result, run_id = backtest_usecase(case, "seasonal_naive", issues, retrain="never")
    run = _client(f"sqlite:///{store}").get_run(run_id)
    assert run.data.tags["usecase"] == case.name
    assert run.data.params["spec.tz"] == "America/Chicago"
    assert run.data.params["spec.future_covariates"] == "temperature_f,relative_humidity_pct"
    assert run.data.metrics["mae"] == pytest.approx(result.metrics()["model"]["mae"])
    _, none = backtest_usecase(case, "seasonal_naive", issues, retrain="never", track=False)
    assert none is None
