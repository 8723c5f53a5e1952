"""Deep and plug-in forecasters: fit/predict times on CPU and accuracy on the catalog use cases.

Prints, per model, the fit wall time, the batched predict time over all test issues and the
backtest scores (MAE, nMAE or MAPE, pinball, 80 % coverage, skill vs seasonal naive) for

1. TFT on the load use case (region ``NORTH``) and the LSTM encoder-decoder on the wind use case
   (``WIND_NORTH_01``), each next to LightGBM, on the demo lakehouse — or, without one, the ``ci``
   profile (see ``forecast_accuracy.find_home``);
2. the fit time of TFT and LSTM on a year of synthetic hourly load (CPU defaults: 5 epochs over
   at most 2,000 recent windows), and the model registry's save + load time for each;
3. the seconds per Optuna trial of LightGBM tuning (3 folds) with the SQLite study storage.

Usage::

    .venv/bin/python benchmarks/forecast_models.py [--skip-catalog] [--skip-synthetic]
        [--skip-tuning] [--epochs 5]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))

from workbench.forecasting.backtest import backtest, issue_schedule
from workbench.forecasting.base import ForecastData, ForecastSpec, make_forecaster

COLUMNS = ("mae", "nmae_pct", "mape_pct", "pinball", "coverage_80")


def _row(label: str, model: str, fit_s: float, pred_s: float, metrics: dict) -> None:
    vals = "  ".join(f"{k}={metrics.get(k, float('nan')):.3f}" for k in COLUMNS)
    print(f"  {label:<22} {model:<16} fit {fit_s:6.1f} s  predict {pred_s:5.2f} s  {vals}")


def _timed_backtest(case, model: str, params: dict, issues) -> None:
    t0 = time.perf_counter()
    inst = make_forecaster(model, **params).fit(case.data, case.spec, until=issues[0])
    fit_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    inst.predict(case.data, list(issues))
    pred_s = time.perf_counter() - t0
    res = backtest(case.data, case.spec, inst, issues, retrain="never")
    m = res.metrics()
    _row(case.name, model, fit_s, pred_s, m["model"])
    sk = m["skill"]
    print(
        f"  {'':<22} {'':<16} skill vs seasonal naive: MAE {sk['skill_mae']:+.1%}, "
        f"pinball {sk['skill_pinball']:+.1%} ({len(issues)} issues)"
    )


def catalog(epochs: int) -> None:
    from forecast_accuracy import find_home

    from workbench.forecasting.usecases.load import load_usecase
    from workbench.forecasting.usecases.wind import wind_usecase
    from workbench.io.catalog import open_catalog

    home, how = find_home()
    os.environ["WORKBENCH_HOME"] = str(home)
    print(f"1. use cases — {how}")
    cat = open_catalog()
    gen = cat.relation("gold.fact_generation")
    last = pd.Timestamp(gen.timestamp.max().to_pyarrow().as_py()).tz_convert("UTC")
    first = pd.Timestamp(gen.timestamp.min().to_pyarrow().as_py()).tz_convert("UTC")
    span = (last - first).days
    test_days = max(5, min(28, span // 4))
    start = (last - pd.Timedelta(days=test_days + 2)).normalize()
    end = (last - pd.Timedelta(days=2)).normalize()
    load = load_usecase(cat, "NORTH")
    issues = issue_schedule(start, end, load.issue_time, load.spec.tz)
    wind = wind_usecase(cat, "WIND_NORTH_01", train_end=issues[0])
    deep = {"n_epochs": epochs}
    for case, model, params in (
        (load, "lightgbm", load.model_params.get("lightgbm", {})),
        (load, "tft", deep),
        (wind, "lightgbm", wind.model_params["lightgbm"]),
        (wind, "lstm", {**wind.model_params["lstm"], **deep}),
    ):
        _timed_backtest(case, model, params, issues)
    cat.close()


def synthetic(epochs: int) -> None:
    from workbench.forecasting.registry import ModelRegistry

    print("2. a year of synthetic hourly load (fit at the end, 48 h horizon, 7 daily issues)")
    idx = pd.date_range("2023-01-01", periods=24 * 365, freq="1h", tz="UTC")
    rng = np.random.default_rng(0)
    temp = 15 + 10 * np.sin(2 * np.pi * (idx.dayofyear - 100) / 365) + rng.normal(0, 2, len(idx))
    daily = 150 * np.sin(2 * np.pi * (idx.hour - 7) / 24)
    y = pd.Series(1000 + daily + 8 * np.abs(temp - 18) + rng.normal(0, 15, len(idx)), index=idx)
    data = ForecastData(y=y, future=pd.DataFrame({"temperature_c": temp}, index=idx))
    spec = ForecastSpec(freq="1h", horizon=48, future_covariates=("temperature_c",))
    until = idx[-24 * 9]
    issues = pd.date_range(until, periods=7, freq="D")
    with tempfile.TemporaryDirectory() as tmp:
        reg = ModelRegistry(Path(tmp) / "registry")
        for model in ("tft", "lstm", "lightgbm"):
            params = {"n_epochs": epochs} if model != "lightgbm" else {}
            t0 = time.perf_counter()
            inst = make_forecaster(model, **params).fit(data, spec, until=until)
            fit_s = time.perf_counter() - t0
            t0 = time.perf_counter()
            pred = inst.predict(data, list(issues))
            pred_s = time.perf_counter() - t0
            truth = y.reindex(pd.DatetimeIndex(pred["target_time"])).to_numpy()
            mape = 100 * np.mean(np.abs(truth - pred["y_pred"]) / truth)
            t0 = time.perf_counter()
            version = reg.register(f"synthetic_{model}", inst, data=data)
            reg.load(f"synthetic_{model}", version=version)
            reg_s = time.perf_counter() - t0
            print(
                f"  {model:<10} fit {fit_s:6.1f} s  predict {pred_s:5.2f} s  MAPE {mape:5.2f} %  "
                f"registry save+load {reg_s:4.2f} s"
            )


def tuning() -> None:
    from workbench.forecasting.tuning import tune

    print("3. Optuna tuning of LightGBM (60 days hourly, 3 folds over 9 days, 6 trials)")
    idx = pd.date_range("2024-01-01", periods=24 * 60, freq="1h", tz="UTC")
    rng = np.random.default_rng(1)
    y = pd.Series(
        100 + 20 * np.sin(2 * np.pi * idx.hour / 24) + rng.normal(0, 3, len(idx)), index=idx
    )
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        res = tune(
            ForecastData(y=y),
            ForecastSpec(freq="1h", horizon=24),
            "lightgbm",
            study_name="bench",
            storage=f"sqlite:///{tmp}/optuna.db",
            n_trials=6,
            validation_days=9,
            n_folds=3,
            fixed_params={"issues_per_day": 1, "num_threads": 1},
        )
        wall = time.perf_counter() - t0
    print(
        f"  {wall:.1f} s: {wall / 6:.1f} s per trial; {res.n_complete} complete, "
        f"{res.n_pruned} pruned; best MAE {res.best_value:.3f}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--skip-catalog", action="store_true")
    parser.add_argument("--skip-synthetic", action="store_true")
    parser.add_argument("--skip-tuning", action="store_true")
    parser.add_argument("--epochs", type=int, default=5)
    args = parser.parse_args()
    import torch

    print(
        f"torch {torch.__version__}, {torch.get_num_threads()} CPU threads, {os.cpu_count()} cores"
    )
    if not args.skip_catalog:
        catalog(args.epochs)
    if not args.skip_synthetic:
        synthetic(args.epochs)
    if not args.skip_tuning:
        tuning()


if __name__ == "__main__":
    main()
