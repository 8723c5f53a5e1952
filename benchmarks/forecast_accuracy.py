"""Forecast skill per series and model against the best seasonal naive, and the year-backtest time.

Series (each day-ahead, daily issues, the test window after the training data):

1. ``taylor``: GB national demand shipped with pmdarima (``load_taylor``, Taylor 2003: half-hourly
   from 2000-06-05, 12 weeks), 48 half-hours ahead from 00:00 London, the last 4 weeks, weekly
   refits;
2. ``demo``: the synthetic grid lakehouse at ``WORKBENCH_HOME`` (default /tmp/figures-demo, read
   only): load per region (48 h from 06:00 local, weather forecasts) and DA and RT price per node,
   the last ``--days`` days, monthly refits;
3. ``year``: a synthetic half-hourly load driven by temperature (3 years; the temperature
   forecast is the truth plus an error growing with lead time), a year of daily origins at 00:00,
   48 steps of 30 min, monthly refits — also timed: plain ``lightgbm`` and ``auto`` side by side.

For each series and model: MAE / MAE of the best seasonal naive on the same issues (the better of
``seasonal_naive`` and ``seasonal_naive_weekly`` on the test), MAPE, 80 % coverage and what
``auto`` chose (with the one-line reason of its last fit). Models are names, so ``lear`` or any
model added later is one ``--models`` entry away. Usage::

    WORKBENCH_HOME=/tmp/figures-demo .venv/bin/python benchmarks/forecast_accuracy.py
        [--models seasonal_naive,seasonal_naive_weekly,lightgbm,combination,auto,lear]
        [--days 91] [--nodes BUS_NORTH,BUS_WEST] [--skip-taylor] [--skip-demo] [--skip-year]
        [--year-only-timing]
"""

from __future__ import annotations

import argparse
import math
import os
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from workbench.forecasting.backtest import BacktestResult, backtest, issue_schedule
from workbench.forecasting.base import ForecastData, ForecastSpec, InsufficientDataError
from workbench.forecasting.selection import daily_losses, diebold_mariano

NAIVES = ("seasonal_naive", "seasonal_naive_weekly")
DEFAULT_MODELS = "seasonal_naive,seasonal_naive_weekly,lightgbm,combination,auto"
ROWS: list[dict[str, Any]] = []


def run_series(
    series: str,
    data: ForecastData,
    spec: ForecastSpec,
    issues: pd.DatetimeIndex,
    models: list[str],
    retrain: str,
    case_params: dict[str, dict[str, Any]] | None = None,
) -> dict[str, BacktestResult]:
    """Backtest every model (naives always) on the same issues; add one table row per model.

    ``case_params`` (the use case's parameters per model, e.g. LightGBM's holidays, ``auto``'s
    candidates for day-ahead prices) reach each model alone and inside ``auto`` and
    ``combination`` (``build_forecaster``). A model that refuses the series (too little history
    for it) is reported and left out of the table.
    """
    results: dict[str, BacktestResult] = {}
    for model in dict.fromkeys([*NAIVES, *models]):
        try:
            results[model] = backtest(
                data, spec, model, issues, retrain=retrain, baseline=None, case_params=case_params
            )
        except InsufficientDataError as exc:
            print(f"  {series:<22} {model:<22} refused: {exc}", flush=True)
    scores = {m: r.metrics()["model"] for m, r in results.items()}
    best = min(NAIVES, key=lambda n: scores[n]["mae"])
    naive_days = daily_losses(results[best].forecasts, data.y)
    lag = max(0, math.ceil((spec.lead + spec.horizon) * spec.freq / pd.Timedelta("1D")) - 1)
    for model in [m for m in models if m in results]:
        s, res = scores[model], results[model]
        # is the model worse than the best naive by more than noise? one-sided DM on test days
        days = daily_losses(res.forecasts, data.y)
        common = naive_days.index.intersection(days.index)
        _, p_worse = diebold_mariano((days[common] - naive_days[common]).to_numpy(), lag)
        chosen = sorted({str(f.get("chosen")) for f in res.fits if f.get("chosen")})
        ROWS.append(
            {
                "series": series,
                "model": model,
                "mae_ratio": s["mae"] / scores[best]["mae"],
                "mape_pct": s["mape_pct"],
                "coverage_80": s.get("coverage_80", float("nan")),
                "best_naive": best,
                "seconds": res.wall_time_s,
                "chosen": "+".join(chosen),
                "reason": str(res.fits[-1].get("reason", "")),
                "p_worse": p_worse,
            }
        )
        r = ROWS[-1]
        print(
            f"  {series:<22} {model:<22} MAE/best naive {r['mae_ratio']:.3f}  "
            f"MAPE {r['mape_pct']:.2f} %  cov80 {r['coverage_80']:.2f}  {r['seconds']:.1f} s"
            + (f"  chose {r['chosen']}" if r["chosen"] else ""),
            flush=True,
        )
    return results


def taylor(models: list[str]) -> None:
    from pmdarima.datasets import load_taylor

    y = load_taylor(as_series=True)
    local = pd.date_range("2000-06-05", periods=len(y), freq="30min")
    idx = local.tz_localize("Europe/London").tz_convert("UTC")
    data = ForecastData(y=pd.Series(y.to_numpy(dtype=float), index=idx, name="demand_mw"))
    spec = ForecastSpec(freq="30min", horizon=48, tz="Europe/London")
    issues = issue_schedule("2000-07-31", "2000-08-26", "00:00", "Europe/London")
    print(f"\n== GB demand (pmdarima load_taylor), {len(issues)} issues at 00:00, weekly refits")
    gb = {"lightgbm": {"holidays_country": "GB"}}
    run_series("taylor GB demand", data, spec, issues, models, "weekly", gb)


def demo(models: list[str], days: int, only_nodes: list[str] | None = None) -> None:
    from workbench.forecasting.usecases.load import load_usecase
    from workbench.forecasting.usecases.price import price_usecase
    from workbench.io.catalog import open_catalog

    home = Path(os.environ.setdefault("WORKBENCH_HOME", "/tmp/figures-demo"))
    print(f"\n== synthetic grid demo at {home} (read only), last {days} days, monthly refits")
    cat = open_catalog(read_only=True)
    regions = sorted(cat.read("gold.dim_regions")["region_id"])
    nodes = sorted(cat.read("gold.fact_market_prices", columns=["node"])["node"].unique())
    nodes = [n for n in nodes if not only_nodes or n in only_nodes]
    cases = [load_usecase(cat, r) for r in regions]
    cases += [price_usecase(cat, n, mk) for n in nodes for mk in ("DA", "RT")]
    cat.close()
    for uc in cases:
        idx = uc.data.y.index
        start = idx[-1] - pd.Timedelta(days=days)
        end = idx[-1] - (uc.spec.lead + uc.spec.horizon) * uc.spec.freq
        issues = issue_schedule(start, end, uc.issue_time, uc.spec.tz)
        run_series(f"demo {uc.name}", uc.data, uc.spec, issues, models, "monthly", uc.model_params)


def synthetic_temperature_load(years: int = 3, seed: int = 11) -> ForecastData:
    """Half-hourly load [MW] driven by temperature [°F], Texas-like, with a temperature forecast.

    Temperature: seasonal cycle, daily cycle and an AR(1) weather anomaly. Load: a daily profile
    by local clock time, lower weekends and US holidays, heating below and cooling above 65 °F
    (cooling stronger, in the afternoon), a slow random walk and noise. The exact future
    covariate ``temperature_f`` is a forecast: the truth plus an AR(1) error (σ ≈ 2 °F).
    """
    import holidays

    rng = np.random.default_rng(seed)
    tz = "America/Chicago"
    first = pd.Timestamp("2022-01-01", tz=tz).tz_convert("UTC")
    idx = pd.date_range(first, periods=years * 365 * 48, freq="30min")
    local = idx.tz_convert(tz)
    hour = np.asarray(local.hour + local.minute / 60.0)
    doy = np.asarray(local.dayofyear)
    anomaly = np.zeros(len(idx))
    shocks = rng.normal(0.0, 0.35, len(idx))
    for i in range(1, len(idx)):
        anomaly[i] = 0.995 * anomaly[i - 1] + shocks[i]
    temp = (
        68
        - 18 * np.cos(2 * np.pi * (doy - 20) / 365.25)
        + 8 * np.sin(2 * np.pi * (hour - 9) / 24)
        + anomaly
    )
    cdd, hdd = np.maximum(temp - 65, 0), np.maximum(65 - temp, 0)
    days = local.normalize().tz_localize(None)
    hol = days.isin(pd.DatetimeIndex(list(holidays.US(subdiv="TX", years=range(2022, 2026)))))
    off = np.asarray((local.dayofweek >= 5) | hol)
    profile = 1000 + 220 * np.sin(2 * np.pi * (hour - 9) / 24) + 70 * np.cos(4 * np.pi * hour / 24)
    afternoon = 1 + 0.5 * np.sin(2 * np.pi * (hour - 10) / 24)
    load = profile * np.where(off, 0.85, 1.0) + 14 * cdd * afternoon + 7 * hdd
    load = load + np.cumsum(rng.normal(0, 0.6, len(idx))) + rng.normal(0, 12, len(idx))
    err = np.zeros(len(idx))
    e_shocks = rng.normal(0.0, 0.2, len(idx))
    for i in range(1, len(idx)):
        err[i] = 0.99 * err[i - 1] + e_shocks[i]
    y = pd.Series(load, index=idx, name="load_mw")
    fut = pd.DataFrame({"temperature_f": temp + err}, index=idx)
    return ForecastData(y=y, future=fut)


def year(models: list[str]) -> None:
    data = synthetic_temperature_load()
    spec = ForecastSpec(
        freq="30min", horizon=48, tz="America/Chicago", future_covariates=("temperature_f",)
    )
    issues = issue_schedule("2024-01-01", "2024-12-30", "00:00", "America/Chicago")
    print(
        f"\n== a year of daily origins ({len(issues)} issues x 48 half-hours from 00:00, monthly "
        "refits) on a synthetic half-hourly load with a temperature forecast (3 years)"
    )
    lgb = {"lightgbm": {"holidays_country": "US", "holidays_subdiv": "TX"}}
    res = run_series("year 30-min synthetic", data, spec, issues, models, "monthly", lgb)
    if "lightgbm" in res and "auto" in res:
        a, b = res["lightgbm"].wall_time_s, res["auto"].wall_time_s
        print(
            f"  year backtest wall time: lightgbm {a:.1f} s, auto {b:.1f} s, auto/lightgbm "
            f"{b / a:.2f} (goal < 60 s on 2 cores; {os.cpu_count()} cpus, load "
            f"{os.getloadavg()[0]:.1f})"
        )


def table() -> None:
    if not ROWS:
        return
    frame = pd.DataFrame(ROWS)
    print("\n== skill table (MAE / MAE of the best seasonal naive, same issues; < 1 is skill)")
    wide = frame.pivot_table(index="series", columns="model", values="mae_ratio", sort=False)
    print(wide.round(3).to_string())
    print("\n  MAPE [%]")
    print(frame.pivot_table(index="series", columns="model", values="mape_pct", sort=False)
          .round(2).to_string())  # fmt: skip
    auto = frame[frame["model"] == "auto"]
    if len(auto):
        print("\n  auto: chosen model(s) per series, and the reason of its last fit")
        for _, r in auto.iterrows():
            print(f"  {r['series']:<26} {r['chosen']:<40} {r['reason']}")
        worse = auto[auto["mae_ratio"] > 1.0]
        listed = ", ".join(
            f"{r['series']} ({r['mae_ratio']:.3f}, DM p={r['p_worse']:.2f})"
            for _, r in worse.iterrows()
        )
        beyond = int((worse["p_worse"] < 0.05).sum())
        print(
            f"\n  auto MAE/best naive: max {auto['mae_ratio'].max():.3f}, worse than the best "
            f"naive on {len(worse)} of {len(auto)} series: {listed or 'none'}; worse by more "
            f"than noise (one-sided Diebold-Mariano on the test days, p < 0.05) on {beyond}"
        )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--models", default=DEFAULT_MODELS)
    ap.add_argument("--days", type=int, default=91, help="Test window of the demo series [days].")
    ap.add_argument("--nodes", default="", help="Demo price nodes (comma list; default all).")
    ap.add_argument("--skip-taylor", action="store_true")
    ap.add_argument("--skip-demo", action="store_true")
    ap.add_argument("--skip-year", action="store_true")
    ap.add_argument(
        "--year-only-timing", action="store_true", help="Year series: lightgbm and auto only."
    )
    args = ap.parse_args()
    models = [m for m in args.models.split(",") if m]
    print(f"cpu count {os.cpu_count()}, load average {os.getloadavg()[0]:.1f}")
    np.seterr(all="ignore")
    t0 = time.perf_counter()
    if not args.skip_taylor:
        taylor(models)
    if not args.skip_demo:
        demo(models, args.days, [n for n in args.nodes.split(",") if n])
    if not args.skip_year:
        year(["lightgbm", "auto"] if args.year_only_timing else models)
    table()
    print(f"\ntotal {time.perf_counter() - t0:.0f} s")


if __name__ == "__main__":
    main()
