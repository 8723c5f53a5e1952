"""MLflow costs: import, a new SQLite store, logging one backtest, register + load a LightGBM model.

Everything runs in a temporary ``WORKBENCH_HOME`` (``MLFLOW_TRACKING_URI`` is ignored), on a
synthetic hourly load series: a 60-day LightGBM backtest with 14 daily issues.

    .venv/bin/python benchmarks/mlflow_tracking.py
"""

from __future__ import annotations

import os
import sys
import tempfile
import time


def main() -> None:
    os.environ.pop("MLFLOW_TRACKING_URI", None)
    t0 = time.perf_counter()
    import mlflow

    print(f"import mlflow: {time.perf_counter() - t0:.2f} s")
    import pandas as pd

    from workbench.forecasting.backtest import backtest, issue_schedule
    from workbench.forecasting.base import ForecastSpec, make_forecaster
    from workbench.forecasting.registry import ModelRegistry, backtest_record
    from workbench.forecasting.synthetic import synthetic_data
    from workbench.forecasting.tracking import client, log_backtest, tracking_uri

    data = synthetic_data(days=60, tz="UTC", seed=4, start="2024-01-01")
    spec = ForecastSpec(freq=pd.Timedelta("1h"), horizon=24)
    issues = issue_schedule("2024-02-15", "2024-02-28", "00:00", "UTC")
    result = backtest(data, spec, "lightgbm", issues, model_params={"n_estimators": 100})
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["WORKBENCH_HOME"] = tmp
        t0 = time.perf_counter()
        client(tracking_uri())
        print(f"new SQLite store (migrations): {time.perf_counter() - t0:.2f} s")
        times = []
        for _ in range(3):
            t0 = time.perf_counter()
            log_backtest(result, retrain="never")
            times.append(time.perf_counter() - t0)
        print(f"log one backtest ({len(result.forecasts)} rows, 2 png): "
              f"{', '.join(f'{t:.2f}' for t in times)} s")  # fmt: skip
        model = make_forecaster("lightgbm", n_estimators=100).fit(data, spec, until=issues[0])
        t0 = time.perf_counter()
        reg = ModelRegistry()
        print(f"open the registry: {time.perf_counter() - t0:.2f} s")
        for _ in range(3):
            t0 = time.perf_counter()
            version = reg.register("bench_lgbm", model, backtest=backtest_record(result))
            t1 = time.perf_counter()
            reg.load_version("bench_lgbm", version=version)
            t2 = time.perf_counter()
            reg.promote("bench_lgbm", version)
            t3 = time.perf_counter()
            print(f"v{version}: register {t1 - t0:.2f} s, load {t2 - t1:.2f} s, "
                  f"promote {t3 - t2:.2f} s")  # fmt: skip
        t0 = time.perf_counter()
        reg.load("bench_lgbm")
        print(f"load the champion: {time.perf_counter() - t0:.2f} s")
    print(f"python {sys.version.split()[0]}, mlflow {mlflow.__version__}")


if __name__ == "__main__":
    main()
