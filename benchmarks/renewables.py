"""Solar and wind skill on the demo lakehouse: day-ahead without weather, and 0-6 h nowcasts.

Reads a built lakehouse (``--home`` or ``WORKBENCH_HOME``; opened read-only) and prints

1. **solar day-ahead, no weather** (``solar_usecase(weather=False, satellite=False)``): per
   plant, daily issues at 00:00 local for 24 h, monthly retrain; MAE of ``lightgbm``,
   ``clearsky:lightgbm`` (empirical envelope), ``clearsky:lightgbm`` with the plant's
   latitude/longitude (pvlib) and ``smart_persistence``, each as a ratio to yesterday's value
   (``seasonal_naive``, the same local hour of the last known day);
2. **wind day-ahead**: per plant, ``lightgbm`` with the use case's wind forecasts and power
   curve, and without any weather, as a ratio to the best naive (daily or weekly seasonal
   naive, or the last known value);
3. **nowcasts 1..6 h** (``nowcast_usecase``, hourly issues, solar issues while the sun is up)
   over the satellite days: MAE by lead of the nowcast model and its baselines, per kind.

Usage::

    PYTHONPATH=$PWD .venv/bin/python benchmarks/renewables.py --home /tmp/figures-demo \\
        [--part solar|wind|nowcast] [--test-start 2024-07-01 --test-end 2024-12-30]
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

import pandas as pd


def _ratio_table(rows: list[dict], base: str) -> pd.DataFrame:
    table = pd.DataFrame(rows).set_index("plant")
    for col in [c for c in table.columns if c.startswith("mae_") and c != f"mae_{base}"]:
        table[f"x_{col[4:]}"] = table[col] / table[f"mae_{base}"]
    return table


def solar_day_ahead(cat, start: str, end: str, plants: list[str] | None) -> pd.DataFrame:
    """MAE per plant and model over daily 00:00 issues; ``x_`` columns: ratio to persistence."""
    from workbench.forecasting.backtest import backtest, issue_schedule
    from workbench.forecasting.usecases.solar import solar_usecase

    assets = cat.read("gold.dim_assets")
    names = plants or sorted(assets.loc[assets["technology"] == "solar", "asset_id"])
    rows = []
    for plant in names:
        case = solar_usecase(cat, plant, weather=False, satellite=False, issue_time="00:00",
                             horizon_h=24)  # fmt: skip
        issues = issue_schedule(start, end, case.issue_time, case.spec.tz)
        where = case.model_params["smart_persistence"]
        runs = {
            "persistence": ("seasonal_naive", {}),
            "lightgbm": ("lightgbm", {"issues_per_day": 1}),
            "clearsky_lightgbm": ("clearsky:lightgbm", {"issues_per_day": 1}),
            "clearsky_lightgbm_pvlib": ("clearsky:lightgbm", {"issues_per_day": 1, **where}),
            "smart_persistence": ("smart_persistence", {}),
        }
        row: dict = {"plant": plant}
        for label, (name, params) in runs.items():
            t0 = time.perf_counter()
            res = backtest(case.data, case.spec, name, issues, retrain="monthly", baseline=None,
                           model_params=params)  # fmt: skip
            row[f"mae_{label}"] = res.metrics()["model"]["mae"]
            row[f"s_{label}"] = time.perf_counter() - t0
        rows.append(row)
        print(plant, {k: round(v, 3) for k, v in row.items() if k != "plant"}, flush=True)
    return _ratio_table(rows, "persistence")


def wind_day_ahead(cat, start: str, end: str, plants: list[str] | None) -> pd.DataFrame:
    """MAE per plant: naive variants and LightGBM with and without weather forecasts."""
    from workbench.forecasting.backtest import backtest, issue_schedule
    from workbench.forecasting.base import ForecastData
    from workbench.forecasting.usecases.wind import wind_usecase

    assets = cat.read("gold.dim_assets")
    names = plants or sorted(assets.loc[assets["technology"] == "wind", "asset_id"])
    rows = []
    first = pd.Timestamp(start, tz="UTC")
    for plant in names:
        case = wind_usecase(cat, plant, train_end=first, issue_time="00:00", horizon_h=24)
        issues = issue_schedule(start, end, case.issue_time, case.spec.tz)
        bare = ForecastData(y=case.data.y)
        bare_spec = case.spec.replace(future_covariates=())
        runs = {
            "naive_daily": (case.data, case.spec, "seasonal_naive", {}),
            "naive_weekly": (case.data, case.spec, "seasonal_naive_weekly", {}),
            "naive_last": (case.data, case.spec, "seasonal_naive", {"season": "1h"}),
            "lightgbm_weather": (case.data, case.spec, "lightgbm", {"issues_per_day": 1}),
            "lightgbm_no_weather": (bare, bare_spec, "lightgbm", {}),
        }
        row: dict = {"plant": plant}
        for label, (data, spec, name, params) in runs.items():
            res = backtest(data, spec, name, issues, retrain="monthly", baseline=None,
                           model_params=params)  # fmt: skip
            row[f"mae_{label}"] = res.metrics()["model"]["mae"]
        naive = [row[f"mae_{k}"] for k in ("naive_daily", "naive_weekly", "naive_last")]
        row["mae_best_naive"] = min(naive)
        rows.append(row)
        print(plant, {k: round(v, 2) for k, v in row.items() if k != "plant"}, flush=True)
    table = _ratio_table(rows, "best_naive")
    return table.drop(columns=[c for c in table.columns if c.startswith("x_naive")])


def nowcasts(cat, start: str, end: str, kind: str, plants: list[str]) -> pd.DataFrame:
    """MAE [MW] by lead summed over plants: the nowcast model and baselines (and no satellite)."""
    from workbench.forecasting.usecases.nowcast import (
        nowcast_backtest,
        nowcast_issues,
        nowcast_usecase,
    )

    total = None
    first = pd.Timestamp(start, tz="UTC")
    for plant in plants:
        t0 = time.perf_counter()
        case = nowcast_usecase(cat, plant, kind=kind, train_end=first)
        issues = nowcast_issues(case, start, end)
        table, _ = nowcast_backtest(case, issues)  # the model, the satellite one, baselines
        print(f"{kind} nowcast {plant} ({len(issues)} issues, {time.perf_counter() - t0:.0f} s)")
        print(table.round(1).T.to_string(), flush=True)
        total = table if total is None else total + table
    assert total is not None
    out = total / len(plants)
    for col in out.columns:
        if col != "persistence":
            out[f"x {col}"] = out[col] / out["persistence"]
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--home", type=Path, default=None)
    ap.add_argument("--part", choices=["solar", "wind", "nowcast", "all"], default="all")
    ap.add_argument("--test-start", default="2024-07-01")
    ap.add_argument("--test-end", default="2024-12-30")
    ap.add_argument("--plants", default=None, help="Comma-separated plant ids (default: all).")
    ap.add_argument("--nowcast-start", default="2024-12-27")
    ap.add_argument("--nowcast-end", default="2024-12-30")
    ap.add_argument("--nowcast-plants", type=int, default=6, help="Plants per kind.")
    args = ap.parse_args()
    if args.home is not None:
        os.environ["WORKBENCH_HOME"] = str(args.home)
    from workbench.io.catalog import open_catalog

    cat = open_catalog(read_only=True)
    plants = args.plants.split(",") if args.plants else None
    pd.set_option("display.width", 200)
    if args.part in ("solar", "all"):
        t0 = time.perf_counter()
        table = solar_day_ahead(cat, args.test_start, args.test_end, plants)
        print(f"\nsolar day-ahead, no weather, {args.test_start}..{args.test_end} "
              f"({time.perf_counter() - t0:.0f} s); x_ = MAE / yesterday's value")  # fmt: skip
        print(table[[c for c in table.columns if c.startswith("x_")]].round(3).to_string())
        print("worst ratio per model:", table.filter(like="x_").max().round(3).to_dict())
    if args.part in ("wind", "all"):
        table = wind_day_ahead(cat, args.test_start, args.test_end, plants)
        print(f"\nwind day-ahead {args.test_start}..{args.test_end}; x_ = MAE / best naive")
        print(table[[c for c in table.columns if c.startswith("x_")]].round(3).to_string())
        print("worst ratio per model:", table.filter(like="x_").max().round(3).to_dict())
    if args.part in ("nowcast", "all"):
        assets = cat.read("gold.dim_assets")
        for kind in ("solar", "wind"):
            ids = sorted(assets.loc[assets["technology"] == kind, "asset_id"])
            ids = ids[: args.nowcast_plants]
            out = nowcasts(cat, args.nowcast_start, args.nowcast_end, kind, ids)
            print(f"\n{kind} nowcast, mean MAE [MW] over {len(ids)} plants by lead [h], "
                  f"issues {args.nowcast_start}..{args.nowcast_end}")  # fmt: skip
            print(out.round(3).to_string())
    cat.close()


if __name__ == "__main__":
    main()
