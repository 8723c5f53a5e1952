"""Day-ahead price models on the catalog's nodes: LEAR next to LightGBM and the naive baselines.

For each node, the DA use case (:func:`workbench.forecasting.usecases.price.price_usecase`:
issued at 10:00 local for the next local day, weather forecasts as covariates) is backtested on
daily origins over the last ``days`` of the data with monthly refits, for each model. Printed per
node and model: MAE, the MAE ratio to the better of the two seasonal naive models (daily and
weekly) on the same issues, 80 % coverage, and the backtest wall time; then the mean ratio per
model and, for LEAR, the calibration windows it used. Usage::

    WORKBENCH_HOME=/tmp/figures-demo .venv/bin/python benchmarks/price_models.py [--days 90]
        [--models lear,lightgbm,seasonal_naive,seasonal_naive_weekly] [--market DA]
        [--lear-variants] [--year] [--skip-catalog]

``--year`` times a year of daily origins with monthly refits on a synthetic 6-year hourly price
series (every LEAR window in use) for ``lear`` and ``lightgbm``.
"""

from __future__ import annotations

import argparse
import os
import time
from typing import Any

import numpy as np
import pandas as pd

from workbench.forecasting.backtest import backtest, issue_schedule

MODELS = ("lear", "lightgbm", "seasonal_naive", "seasonal_naive_weekly")
NAIVE = ("seasonal_naive", "seasonal_naive_weekly")


def price_models(
    models: tuple[str, ...] = MODELS,
    days: int = 90,
    market: str = "DA",
    nodes: list[str] | None = None,
    model_params: dict[str, dict[str, Any]] | None = None,
    variants: dict[str, tuple[str, dict[str, Any]]] | None = None,
) -> pd.DataFrame:
    """Backtest price models per node; return one row per ``(node, model)``.

    Parameters
    ----------
    models : tuple of str
        Registry names; the two seasonal naive models are always added (the ratio needs them).
    days : int
        Length of the test period at the end of the data [days]; one issue per day.
    market : {"DA", "RT"}
        Market of the price use case.
    nodes : list of str, optional
        Nodes to run (default: every node of ``gold.fact_market_prices``).
    model_params : dict, optional
        Extra parameters per model name (on top of the use case's own).
    variants : dict, optional
        More rows: ``label -> (model name, parameters)``, e.g.
        ``{"lear_window": ("lear", {"centre": "window"})}``.

    Returns
    -------
    pandas.DataFrame
        ``node, model, mae [USD/MWh], ratio_vs_best_naive, coverage_80, wall_s, issues, fits,
        note`` (LEAR: the calibration windows used).
    """
    from workbench.forecasting.usecases.price import price_usecase
    from workbench.io.catalog import open_catalog

    models = tuple(dict.fromkeys([*models, *NAIVE]))
    cat = open_catalog(read_only=True)
    try:
        if nodes is None:
            frame = cat.read("gold.fact_market_prices", columns=["node"])
            nodes = sorted(frame["node"].unique())
        cases = [price_usecase(cat, n, market) for n in nodes]
    finally:
        cat.close()
    rows = []
    for uc in cases:
        idx = uc.data.y.index
        end = idx[-1] - (uc.spec.lead + uc.spec.horizon) * uc.spec.freq
        start = end - pd.Timedelta(days=days - 1)
        issues = issue_schedule(start, end, uc.issue_time, uc.spec.tz)
        runs = [(m, m, (model_params or {}).get(m, {})) for m in models]
        runs += [(label, m, p) for label, (m, p) in (variants or {}).items()]
        for label, model, extra in runs:
            params = {**uc.model_params.get(model, {}), **extra}
            t0 = time.perf_counter()
            res = backtest(
                uc.data, uc.spec, model, issues, retrain="monthly", baseline=None,
                model_params=params,
            )  # fmt: skip
            wall = time.perf_counter() - t0
            m = res.metrics()["model"]
            note = ""
            if model == "lear" and res.fits:
                used = sorted({tuple(f.get("windows_days", ())) for f in res.fits})
                note = f"windows {used}"
            rows.append(
                {
                    "node": uc.name.split(":")[1],
                    "model": label,
                    "mae": m["mae"],
                    "coverage_80": m.get("coverage_80", float("nan")),
                    "wall_s": wall,
                    "issues": len(issues),
                    "fits": len(res.fits),
                    "note": note,
                }
            )
            print(f"  {rows[-1]['node']:<12} {label:<22} MAE {m['mae']:8.3f}  {wall:6.1f} s {note}")
    out = pd.DataFrame(rows)
    best = out[out["model"].isin(NAIVE)].groupby("node")["mae"].min()
    out["ratio_vs_best_naive"] = out["mae"] / out["node"].map(best)
    return out


def year_of_origins(models: tuple[str, ...] = ("lear", "lightgbm"), years: int = 6) -> None:
    """Time a year of daily origins with monthly refits on a synthetic hourly price series.

    ``years`` of history (so every default LEAR window, up to 1456 days, is used), three exact
    future covariates (like the weather of the price use case), DA-like issues at 10:00
    America/Chicago with a 14 h lead; prints wall time and MAE per model.
    """
    from workbench.forecasting.base import ForecastData, ForecastSpec
    from workbench.forecasting.synthetic import synthetic_load

    tz = "America/Chicago"
    days = 365 * years
    load = synthetic_load(days=days, tz=tz, seed=7, start="2020-01-01")
    rng = np.random.default_rng(7)
    temp = 60 + 20 * np.sin(2 * np.pi * np.arange(len(load)) / (24 * 365.25))
    temp = temp + rng.normal(0, 3, len(load))
    wind = np.abs(rng.normal(8, 3, len(load)))
    price = 0.03 * load.to_numpy() + 0.01 * (temp - 60) ** 2 - 0.8 * wind
    price = price + rng.normal(0, 2, len(load)) + (rng.random(len(load)) < 0.005) * 200
    y = pd.Series(price, index=load.index, name="price")
    future = pd.DataFrame({"temp": temp, "wind": wind, "load_fc": load.to_numpy()}, index=y.index)
    data = ForecastData(y=y, future=future)
    spec = ForecastSpec(
        freq="1h", horizon=24, lead=14, future_covariates=tuple(future.columns), tz=tz
    )
    end = y.index[-1] - pd.Timedelta("2D")
    issues = issue_schedule(end - pd.Timedelta("364D"), end, "10:00", tz)
    print(f"\n== a year of daily origins ({len(issues)}), monthly refits, synthetic hourly prices, "
          f"{years} years of history")  # fmt: skip
    for model in models:
        res = backtest(data, spec, model, issues, retrain="monthly", baseline="seasonal_naive")
        m = res.metrics()
        windows = sorted({tuple(f.get("windows_days", ())) for f in res.fits})
        print(
            f"  {model:<10} {res.wall_time_s:6.1f} s for {len(res.fits)} fits; MAE "
            f"{m['model']['mae']:.3f} (seasonal naive {m['baseline']['mae']:.3f})"
            + (f"; windows {windows}" if model == "lear" else "")
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", default=",".join(MODELS))
    parser.add_argument("--days", type=int, default=90)
    parser.add_argument("--market", default="DA")
    parser.add_argument("--skip-catalog", action="store_true")
    parser.add_argument("--year", action="store_true", help="time a year of origins (synthetic)")
    parser.add_argument(
        "--lear-variants", action="store_true",
        help="also run lear with centre='window' (as published) and with longer windows",
    )  # fmt: skip
    args = parser.parse_args()
    if args.year:
        year_of_origins()
    if args.skip_catalog:
        return
    print(f"== {args.market} price models, last {args.days} days, monthly refits "
          f"(WORKBENCH_HOME={os.environ.get('WORKBENCH_HOME')})")  # fmt: skip
    variants = None
    if args.lear_variants:
        variants = {
            "lear_centre_window": ("lear", {"centre": "window"}),
            "lear_windows_1y_2y": ("lear", {"windows_days": (56, 84, 364, 728)}),
        }
    out = price_models(tuple(args.models.split(",")), args.days, args.market, variants=variants)
    cols = ["node", "model", "mae", "ratio_vs_best_naive", "coverage_80", "wall_s", "fits"]
    with pd.option_context("display.width", 160, "display.precision", 3):
        print(out[cols].to_string(index=False))
        summary = out.groupby("model").agg(
            mean_ratio=("ratio_vs_best_naive", "mean"),
            worst_ratio=("ratio_vs_best_naive", "max"),
            wall_s=("wall_s", "sum"),
        )
        print(summary.sort_values("mean_ratio").to_string())
    lear = out[out["model"] == "lear"]
    if len(lear):
        print(f"  lear windows used: {sorted(set(lear['note']))}")


if __name__ == "__main__":
    main()
