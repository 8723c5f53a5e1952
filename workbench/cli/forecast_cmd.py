"""``workbench forecast``: backtest forecasters on any CSV or Parquet file."""

from __future__ import annotations

import json
from pathlib import Path

import typer

from workbench.cli.console import console, err_console
from workbench.core.errors import WorkbenchError

app = typer.Typer(
    help="Forecasting: honest rolling-origin backtests on any file."
    "\n\nExample:\n    workbench forecast backtest --help",
    no_args_is_help=True,
)


class ForecastCliError(WorkbenchError):
    """A command-line argument of ``workbench forecast`` is unusable."""


def _split(text: str | None) -> tuple[str, ...]:
    return tuple(c.strip() for c in (text or "").split(",") if c.strip())


def _quantiles(text: str) -> tuple[float, ...]:
    try:
        return tuple(float(q) for q in _split(text))
    except ValueError:
        raise ForecastCliError(
            f"expected --quantiles as numbers in (0, 1) like 0.1,0.5,0.9; found {text!r}"
        ) from None


@app.command("backtest")
def backtest_cmd(
    data: Path | None = typer.Argument(
        None, help="CSV or Parquet file with a time column and a target (omit with --usecase)."
    ),
    time_col: str | None = typer.Option(None, "--time-col", help="Timestamp column."),
    target: str | None = typer.Option(None, "--target", help="Column to forecast."),
    output: Path = typer.Option(..., "--output", help="Forecasts file (.parquet or .csv)."),
    freq: str | None = typer.Option(None, "--freq", help="Step (30min, 1h); inferred if omitted."),
    horizon: str = typer.Option("1D", "--horizon", help="Per issue: a duration or steps."),
    issue_time: str = typer.Option("00:00", "--issue-time", help="Daily issue time, local."),
    tz: str | None = typer.Option(
        None, "--tz", help="Zone of naive timestamps and of the issue time (e.g. Europe/London)."
    ),
    future_covariates: str | None = typer.Option(
        None, "--future-covariates", help="Comma-separated columns known ahead."
    ),
    past_covariates: str | None = typer.Option(
        None, "--past-covariates", help="Comma-separated columns known only up to the issue."
    ),
    model: str = typer.Option("auto", "--model", help="auto|seasonal_naive|lightgbm|tft|lstm|..."),
    test_start: str | None = typer.Option(None, "--test-start", help="First issue date (local)."),
    test_end: str | None = typer.Option(None, "--test-end", help="Last issue date (local)."),
    retrain: str = typer.Option("monthly", "--retrain", help="never|monthly|weekly|every"),
    quantiles: str = typer.Option("0.1,0.5,0.9", "--quantiles", help="Quantile levels."),
    report: Path | None = typer.Option(None, "--report", help="Write a JSON report here."),
    duplicates: str = typer.Option(
        "error", "--duplicates", help="Duplicate timestamps: error|mean|first|last."
    ),
    coerce: bool = typer.Option(
        False, "--coerce", help="Turn non-numeric and infinite values into missing ones (counted)."
    ),
    no_track: bool = typer.Option(
        False, "--no-track", help="Do not log the run to MLflow (MLFLOW_TRACKING_URI or local)."
    ),
    latitude: float | None = typer.Option(
        None, "--latitude", help="Plant latitude [deg] for --model clearsky:<inner> (pvlib)."
    ),
    longitude: float | None = typer.Option(
        None, "--longitude", help="Plant longitude [deg] for --model clearsky:<inner> (pvlib)."
    ),
    usecase: str | None = typer.Option(
        None, "--usecase", help="Catalog use case instead of a file: solar_nowcast|wind_nowcast."
    ),
    asset: str | None = typer.Option(None, "--asset", help="Plant id for --usecase."),
) -> None:
    """Backtest a model with one issue per day and write forecasts (and a report).

    Example:
        workbench forecast backtest load.csv --time-col timestamp --target load_mw --output fc.csv
    """
    from workbench.forecasting.clearsky import check_location
    from workbench.io.files import check_output_path

    check_output_path(output, (".parquet", ".csv"), error=ForecastCliError)
    if report is not None:
        check_output_path(report, None, error=ForecastCliError, option="--report")
    location = check_location(latitude, longitude)
    if usecase is not None:
        if data is not None or location is not None:
            raise ForecastCliError(
                f"expected --usecase {usecase} without a data file or --latitude/--longitude "
                "(the catalog gives the plant); found them. Drop one or the other"
            )
        _nowcast(usecase, asset, model, test_start, test_end, retrain, output, report)
        return
    if data is None or time_col is None or target is None:
        raise ForecastCliError(
            "expected a data file with --time-col and --target (or --usecase with --asset); "
            "found some missing. See workbench forecast backtest --help"
        )
    model_params = None
    if location is not None:
        if not (model.startswith("clearsky:") or model == "smart_persistence"):
            raise ForecastCliError(
                "expected --model clearsky:<inner> or smart_persistence with --latitude/"
                f"--longitude; found --model {model}. The location sets their clear-sky profile"
            )
        model_params = {"latitude": location[0], "longitude": location[1]}
    from workbench.forecasting.data import DataPreparationError
    from workbench.forecasting.user_backtest import backtest_table
    from workbench.io.files import read_table

    frame = read_table(data, error=DataPreparationError, allow_empty=True)
    run = backtest_table(
        frame,
        time_col,
        target,
        freq=freq,
        horizon=horizon,
        issue_time=issue_time,
        tz=tz,
        future_covariates=_split(future_covariates),
        past_covariates=_split(past_covariates),
        model=model,
        test_start=test_start,
        test_end=test_end,
        retrain=retrain,
        quantiles=_quantiles(quantiles),
        duplicates=duplicates,
        coerce=coerce,
        model_params=model_params,
    )
    out = run.output()
    rep = run.report()
    try:
        output.parent.mkdir(parents=True, exist_ok=True)
        if output.suffix.lower() == ".csv":
            out.to_csv(output, index=False)
        else:
            out.to_parquet(output, index=False)
        if report is not None:
            report.parent.mkdir(parents=True, exist_ok=True)
            report.write_text(json.dumps(rep, indent=2, default=str))
    except OSError as exc:
        raise ForecastCliError(f"cannot write {exc.filename or output}: {exc.strerror}") from exc
    for note in run.data_report.notes:
        err_console.print(f"[yellow]note:[/] {note}", highlight=False)
    _summary(rep, output)
    if not no_track:
        from workbench.forecasting.tracking import log_backtest, tracking_uri

        tags = {"source": str(data), "target": target, "output": str(output)}
        run_id = log_backtest(run, tags=tags, retrain=retrain)
        console.print(f"MLflow run {run_id} in {tracking_uri()}", highlight=False)


def _summary(rep: dict, output: Path) -> None:
    from rich.table import Table

    s = rep["settings"]
    console.print(
        f"{rep['model']} ({', '.join(rep['chosen_models'])}): {s['issues']} issues "
        f"{s['first_issue']} .. {s['last_issue']}, {s['horizon_steps']} steps of {s['freq']}, "
        f"{s['refits']} fits, {rep['wall_time_s']:.1f} s"
    )
    if rep.get("chosen_because"):  # auto: why the last fit chose its model
        why = rep["chosen_because"][-1]
        console.print(f"chosen because (last fit): {why}", highlight=False, soft_wrap=True)
    table = Table("metric", "model", "seasonal naive", "skill")
    m, b, sk = rep["metrics"]["model"], rep["metrics"].get("baseline", {}), rep["metrics"]["skill"]
    for key in ("mae", "rmse", "mape_pct", "smape_pct", "pinball", "crps", "coverage_80"):
        if key in m:
            skill = sk.get(f"skill_{key}")
            table.add_row(
                key,
                f"{m[key]:.4g}",
                f"{b.get(key, float('nan')):.4g}",
                "" if skill is None else f"{skill:+.1%}",
            )
    console.print(table)
    console.print(f"forecasts written to {output}")


def _nowcast(
    usecase: str,
    asset: str | None,
    model: str,
    test_start: str | None,
    test_end: str | None,
    retrain: str,
    output: Path,
    report: Path | None,
) -> None:
    """Backtest a nowcast use case of the catalog: MAE by lead next to its baselines."""
    from workbench.forecasting.usecases.nowcast import (
        MODEL_NAMES,
        nowcast_backtest,
        nowcast_issues,
        nowcast_usecase,
    )
    from workbench.io.catalog import open_catalog

    kinds = {"solar_nowcast": "solar", "wind_nowcast": "wind"}
    if usecase not in kinds or asset is None or test_start is None or test_end is None:
        raise ForecastCliError(
            f"expected --usecase in {sorted(kinds)} with --asset, --test-start and --test-end; "
            f"found --usecase {usecase} --asset {asset} --test-start {test_start} "
            f"--test-end {test_end}"
        )
    cat = open_catalog()
    try:
        import pandas as pd

        first = pd.Timestamp(test_start, tz="UTC")
        case = nowcast_usecase(cat, asset, kind=kinds[usecase], train_end=first)
    finally:
        cat.close()
    label = case.model if model == "auto" else model
    if label not in MODEL_NAMES:
        raise ForecastCliError(
            f"expected --model auto or one of {sorted(MODEL_NAMES)} for a nowcast; found {model}"
        )
    issues = nowcast_issues(case, test_start, test_end)
    sat = getattr(case, "satellite_model", None)
    labels = tuple(dict.fromkeys((label, *([sat] if sat else []), *case.baselines)))
    table, results = nowcast_backtest(case, issues, labels, retrain=retrain)
    out = results[label].forecasts
    try:
        output.parent.mkdir(parents=True, exist_ok=True)
        if output.suffix.lower() == ".csv":
            out.to_csv(output, index=False)
        else:
            out.to_parquet(output, index=False)
        if report is not None:
            rep = {
                "usecase": case.name,
                "model": label,
                "issues": len(issues),
                "notes": case.notes,
                "mae_by_lead_mw": {c: table[c].to_dict() for c in table.columns},
            }
            report.parent.mkdir(parents=True, exist_ok=True)
            report.write_text(json.dumps(rep, indent=2, default=str))
    except OSError as exc:
        raise ForecastCliError(f"cannot write {exc.filename or output}: {exc.strerror}") from exc
    for note in case.notes:
        err_console.print(f"[yellow]note:[/] {note}", highlight=False)
    console.print(f"{case.name}: {len(issues)} issues, MAE [MW] by lead [h]")
    console.print(table.round(2).to_string())
    console.print(f"forecasts written to {output}")
