"""Forecast accuracy and backtest speed: catalog use cases, the GB demand series, a year of origins.

Prints per model MAPE / nMAE / pinball / 80 % coverage and skill vs seasonal naive, plus the
backtest wall time, for

1. the load (48 h, per region, daily issues over the last ``--days``, monthly refits) and price
   (DA and RT, every node) use cases on the demo lakehouse
   (``WORKBENCH_HOME/warehouse.duckdb`` with gold built); without one, on the ``ci`` profile
   (``/tmp/gridmind-ci-medallion`` if prebuilt, else built into a temp home) — and says so;
2. the public GB national demand series shipped with pmdarima (``load_taylor``, Taylor 2003:
   half-hourly from 2000-06-05, 12 weeks), day-ahead issues at 00:00 for the last 4 weeks;
3. the goal "LightGBM backtest over a year of daily origins on one hourly series < 60 s on 2
   cores": a demo region when the demo has a year, else a synthetic hourly load series (2 years).

Models are model names, so models added later (``tft``, ``lstm``, ``sktime:...``) can be
listed with ``--models``. Usage::

    WORKBENCH_HOME=/tmp/gridmind-demo .venv/bin/python benchmarks/forecast_accuracy.py
        [--models lightgbm,auto,seasonal_naive_weekly] [--days 91]
        [--skip-catalog] [--skip-taylor] [--skip-year]
"""

from __future__ import annotations

import argparse
import os
import shutil
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from workbench.forecasting.backtest import backtest, issue_schedule
from workbench.forecasting.base import ForecastData, ForecastSpec

COLUMNS = ("mape_pct", "nmae_pct", "mae", "rmse", "pinball", "coverage_80")


def show(label: str, res, baseline_name: str = "seasonal_naive") -> dict:
    m = res.metrics()
    rows = {res.model: m["model"], baseline_name: m["baseline"]}
    for name, s in rows.items():
        vals = "  ".join(f"{k}={s.get(k, float('nan')):.3f}" for k in COLUMNS)
        print(f"  {label:<26} {name:<22} {vals}")
    sk = m["skill"]
    print(
        f"  {label:<26} skill vs seasonal naive: MAE {sk['skill_mae']:+.1%}, pinball "
        f"{sk['skill_pinball']:+.1%}; backtest {res.wall_time_s:.1f} s, {len(res.fits)} fits"
    )
    return m


def find_home() -> tuple[Path, str]:
    home = Path(os.environ.get("WORKBENCH_HOME", Path.home() / ".gridmind"))
    if (home / "warehouse.duckdb").exists():
        return home, f"demo lakehouse at {home}"
    prebuilt = Path("/tmp/gridmind-ci-medallion")
    if (prebuilt / ".complete").exists():
        tmp = Path(tempfile.mkdtemp(prefix="gridmind-fc-"))
        shutil.copy(prebuilt / "warehouse.duckdb", tmp / "warehouse.duckdb")
        (tmp / "lake").symlink_to(prebuilt / "lake")
        return tmp, f"no demo lakehouse: using a copy of the prebuilt ci profile ({prebuilt})"
    from workbench.io.catalog import open_catalog
    from workbench.lake.build import build_medallion
    from workbench.sim.build import build_lakehouse
    from workbench.sim.profiles import get_profile

    tmp = Path(tempfile.mkdtemp(prefix="gridmind-fc-"))
    os.environ["WORKBENCH_HOME"] = str(tmp)
    cat = open_catalog()
    build_lakehouse(cat, get_profile("ci"), seed=42)
    build_medallion(cat)
    cat.close()
    return tmp, f"no demo lakehouse: built the ci profile into {tmp}"


def catalog_usecases(models: list[str], days: int = 91) -> None:
    from workbench.forecasting.usecases.load import load_usecase
    from workbench.forecasting.usecases.price import price_usecase
    from workbench.io.catalog import open_catalog

    home, what = find_home()
    os.environ["WORKBENCH_HOME"] = str(home)
    print(f"\n== catalog use cases ({what})")
    cat = open_catalog(read_only=True)
    regions = sorted(cat.read("gold.dim_regions")["region_id"])
    nodes = sorted(cat.read("gold.fact_market_prices", columns=["node"])["node"].unique())
    cases = [load_usecase(cat, r) for r in regions]
    cases += [price_usecase(cat, n, mk) for n in nodes for mk in ("DA", "RT")]
    summary: dict[str, list[tuple[str, dict]]] = {}
    for uc in cases:
        idx = uc.data.y.index
        span = idx[-1] - idx[0]
        start = idx[0] + max(pd.Timedelta("10D"), span - pd.Timedelta(days=days))
        end = idx[-1] - (uc.spec.lead + uc.spec.horizon) * uc.spec.freq
        issues = issue_schedule(start, end, uc.issue_time, uc.spec.tz)
        for model in models:
            params = uc.model_params.get(model, {})
            if model == "auto":
                params = {"candidate_params": uc.model_params}
            res = backtest(uc.data, uc.spec, model, issues, retrain="monthly", model_params=params)
            m = show(f"{uc.name} ({len(issues)} issues)", res)
            summary.setdefault(f"{uc.name.split(':')[0]}:{model}", []).append((uc.name, m))
    cat.close()
    print("\n  summary (model vs seasonal naive, same issues)")
    for key, rows in summary.items():
        mape = np.mean([m["model"]["mape_pct"] for _, m in rows])
        cov = np.mean([m["model"]["coverage_80"] for _, m in rows])
        skills = ", ".join(f"{n.split(':', 1)[1]} {m['skill']['skill_mae']:+.0%}" for n, m in rows)
        print(f"  {key:<18} mean MAPE {mape:.2f} %, mean 80 % coverage {cov:.3f}")
        print(f"  {'':<18} MAE skill vs seasonal naive: {skills}")
    print("  goal: day-ahead load MAPE <= 2.5 % per region; 80 % coverage within 0.75-0.85")


def taylor(models: list[str]) -> None:
    from pmdarima.datasets import load_taylor

    y = load_taylor(as_series=True)
    local = pd.date_range("2000-06-05", periods=len(y), freq="30min")
    idx = local.tz_localize("Europe/London").tz_convert("UTC")
    data = ForecastData(y=pd.Series(y.to_numpy(dtype=float), index=idx, name="demand_mw"))
    spec = ForecastSpec(freq="30min", horizon=48, tz="Europe/London")
    issues = issue_schedule("2000-07-31", "2000-08-26", "00:00", "Europe/London")
    print(f"\n== GB national demand (pmdarima load_taylor, {len(y)} half-hours), {len(issues)} "
          "day-ahead issues at 00:00, weekly refits")  # fmt: skip
    for model in models:
        params = (
            {"candidate_params": {"lightgbm": {"holidays_country": "GB"}}}
            if model == "auto"
            else {}
        )
        if model == "lightgbm":
            params = {"holidays_country": "GB"}
        res = backtest(data, spec, model, issues, retrain="weekly", model_params=params)
        show("taylor GB demand", res)


def year_of_origins() -> None:
    from workbench.forecasting.synthetic import synthetic_load

    y = synthetic_load(start="2023-01-01", days=730, freq="1h", tz="America/Chicago", seed=7,
                       noise_mw=15, walk_mw=1.0)  # fmt: skip
    data = ForecastData(y=y)
    spec = ForecastSpec(freq="1h", horizon=48, tz="America/Chicago")
    issues = issue_schedule("2024-01-01", "2024-12-30", "06:00", "America/Chicago")
    print(f"\n== a year of daily origins ({len(issues)} issues × 48 h) on one hourly series "
          "(synthetic load, 2 years; no demo year available)")  # fmt: skip
    for retrain in ("never", "monthly"):
        t0 = time.perf_counter()
        res = backtest(data, spec, "lightgbm", issues, retrain=retrain, baseline="seasonal_naive")
        total = time.perf_counter() - t0
        show(f"year, retrain={retrain}", res)
        print(f"  wall time incl. baseline: {total:.1f} s (goal < 60 s on 2 cores)")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--models", default="lightgbm")
    ap.add_argument("--days", type=int, default=91, help="Test window of the catalog use cases.")
    ap.add_argument("--skip-catalog", action="store_true")
    ap.add_argument("--skip-taylor", action="store_true")
    ap.add_argument("--skip-year", action="store_true")
    args = ap.parse_args()
    models = [m for m in args.models.split(",") if m]
    print(f"cpu count {os.cpu_count()}, load average {os.getloadavg()[0]:.1f}")
    np.seterr(all="ignore")
    if not args.skip_taylor:
        taylor(models)
    if not args.skip_catalog:
        catalog_usecases(models, args.days)
    if not args.skip_year:
        year_of_origins()


if __name__ == "__main__":
    main()
