"""``workbench anomaly``: sensor anomalies and frequency excursions in any CSV/Parquet file."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

from workbench.cli.console import console
from workbench.core.errors import WorkbenchError

app = typer.Typer(
    help="Anomalies: sensor faults and grid-frequency excursions."
    "\n\nExample:\n    workbench anomaly detect --help",
    no_args_is_help=True,
)


class AnomalyFileError(WorkbenchError):
    """An input or output file of ``workbench anomaly`` cannot be used."""


def _read_table(path: Path) -> Any:
    from workbench.io.files import read_table

    return read_table(path, error=AnomalyFileError, what="data file")


def _check_series(
    frame: Any, data: Path, time_col: str, value_col: str, *, finite: bool = False
) -> None:
    """A series to scan: at least 2 rows, zones not mixed, numbers in the value column.

    ``finite``: refuse ``inf`` too (a frequency cannot be infinite; a sensor scan flags it).
    """
    import numpy as np

    from workbench.core.timestamps import check_time_zones
    from workbench.io.files import check_not_all_missing, check_rows, numeric_column

    check_rows(frame, data, error=AnomalyFileError)
    if time_col in frame.columns:
        check_time_zones(frame[time_col], time_col, error=AnomalyFileError)
    if value_col in frame.columns:
        values = numeric_column(frame[value_col], value_col, error=AnomalyFileError)
        check_not_all_missing(values, value_col, error=AnomalyFileError)
        inf = np.isinf(values)
        if finite and inf.any():
            first = int(np.flatnonzero(inf)[0])
            msg = (
                f"expected finite values in column {value_col!r}; found {int(inf.sum())} "
                f"infinite (first in row {first + 1}: {values[first]}); drop those rows or "
                "leave the cells empty"
            )
            raise AnomalyFileError(msg)


def _check_output(output: Path) -> None:
    from workbench.io.files import check_output_path

    check_output_path(output, (".parquet", ".pq"), error=AnomalyFileError)


def _write(events: Any, output: Path) -> None:
    _check_output(output)
    try:
        output.parent.mkdir(parents=True, exist_ok=True)
        events.to_parquet(output, index=False)
    except OSError as exc:
        raise AnomalyFileError(f"cannot write {output}: {exc}") from exc


def _check_window(data: Path | None, start: str | None, end: str | None) -> None:
    """``--start``/``--end`` select a window of the cube: parseable, ordered, not with a file."""
    from workbench.io.timewindow import to_utc

    if data is not None and (start or end):
        msg = (
            f"expected --start/--end only without a file (they select a window of the PMU "
            f"cube); found them with {data}. Cut the file instead, or drop the file argument"
        )
        raise AnomalyFileError(msg)
    lo, hi = to_utc(start, "--start"), to_utc(end, "--end")
    if lo is not None and hi is not None and lo >= hi:
        msg = (
            f"expected --start before --end; found --start {lo.isoformat()} and --end "
            f"{hi.isoformat()} (an empty window). Swap them"
        )
        raise AnomalyFileError(msg)


MODEL_KIND = "workbench.anomaly.learned"
MODEL_VERSION = 7  # 3: quiet signal, noise scale, tail-fit thresholds; 4: calm signal;
# 5: quiet and calm in units of the asset's healthy tail; 6: memory signal, each asset's healthy
# AR(1) + white model; 7: drift residual in units of the local noise (floor, ratio), each
# asset's wiggle unit (#17)


def _meta_path(model: Path) -> Path:
    return model.with_name(model.name + ".json")


def _save_model(det: Any, model: Path, meta: dict[str, Any]) -> None:
    import json

    import joblib

    if model.suffix != ".joblib":
        msg = f"expected a model path ending in .joblib; found {model.name!r}. Rename it"
        raise AnomalyFileError(msg)
    try:
        model.parent.mkdir(parents=True, exist_ok=True)
        joblib.dump(det, model)
        _meta_path(model).write_text(json.dumps(meta, indent=2, default=str))
    except OSError as exc:
        raise AnomalyFileError(f"cannot write {model}: {exc}") from exc


def _check_meta(meta: Any, where: str, time_col: str, value_col: str, group_col: str | None,
                reference_col: str | None) -> None:  # fmt: skip
    """Kind, version and columns of a model's metadata match this run."""
    if not isinstance(meta, dict) or meta.get("kind") != MODEL_KIND:
        found = meta.get("kind") if isinstance(meta, dict) else type(meta).__name__
        raise AnomalyFileError(
            f"expected a model of kind {MODEL_KIND!r} in {where}; found {found!r}"
        )
    if meta.get("version") != MODEL_VERSION:
        msg = (
            f"expected model version {MODEL_VERSION}; found {meta.get('version')!r}. "
            "Retrain it with 'workbench anomaly train'"
        )
        raise AnomalyFileError(msg)
    want = {"time_col": time_col, "value_col": value_col, "group_col": group_col,
            "reference_col": reference_col}  # fmt: skip
    diff = {k: (meta.get(k), v) for k, v in want.items() if meta.get(k) != v}
    if diff:
        k, (trained, given) = next(iter(diff.items()))
        msg = f"expected --{k.replace('_', '-')} {trained!r} as in training; found {given!r}"
        raise AnomalyFileError(msg)


def _check_detector(det: Any, where: str) -> Any:
    from workbench.anomaly.detectors.learned import LearnedDetector

    if not isinstance(det, LearnedDetector):
        raise AnomalyFileError(f"expected a LearnedDetector in {where}; found {type(det).__name__}")
    return det


def _load_model(model: Path, time_col: str, value_col: str, group_col: str | None,
                reference_col: str | None) -> Any:  # fmt: skip
    """A model written by ``workbench anomaly train``: kind, version and columns checked."""
    import json

    import joblib

    meta_file = _meta_path(model)
    if not model.is_file() or not meta_file.is_file():
        msg = (
            f"expected a model from 'workbench anomaly train' ({model.name} and "
            f"{meta_file.name}); found no {model.name if not model.is_file() else meta_file.name}"
        )
        raise AnomalyFileError(msg)
    try:
        meta = json.loads(meta_file.read_text())
    except (OSError, ValueError) as exc:
        raise AnomalyFileError(f"expected JSON metadata in {meta_file}; found {exc}") from exc
    _check_meta(meta, meta_file.name, time_col, value_col, group_col, reference_col)
    try:
        det = joblib.load(model)
    except (OSError, ValueError, EOFError) as exc:
        raise AnomalyFileError(f"expected a joblib model in {model}; found {exc}") from exc
    return _check_detector(det, str(model))


def _registered_ref(model: str) -> tuple[str, str | None, int | None]:
    """``NAME`` (latest version), ``NAME@ALIAS`` (champion, challenger...) or ``NAME@N``."""
    name, _, tail = model.partition("@")
    if not tail:
        return name, None, None
    return (name, None, int(tail)) if tail.isdigit() else (name, tail, None)


def _load_registered(model: str, time_col: str, value_col: str, group_col: str | None,
                     reference_col: str | None) -> Any:  # fmt: skip
    """A model registered by ``workbench anomaly train --register``, checked like a file."""
    from workbench.forecasting.registry import ModelRegistry, RegistryError

    name, stage, version = _registered_ref(model)
    reg = ModelRegistry()
    try:
        if stage is None and version is None:
            version = reg.history(name)[-1].version
        det, info = reg.load_version(name, stage, version=version)
    except RegistryError as exc:
        raise AnomalyFileError(str(exc)) from exc
    where = f"registered model {name!r} v{info.version}"
    _check_meta(info.metadata.get("extra"), where, time_col, value_col, group_col, reference_col)
    return _check_detector(det, where)


def _register(det: Any, name: str, meta: dict[str, Any], frame: Any) -> int:
    """Register the fitted detector as the next version of ``name`` (like a forecaster)."""
    from workbench.forecasting.registry import ModelRegistry, RegistryError

    metrics = {f"threshold_{k}": float(v) for k, v in det.thresholds.items()}
    try:
        return ModelRegistry().register(
            name, det, metadata=meta, data=frame, training_window=tuple(meta["training_window"]),
            metrics=metrics, features=[meta["value_col"]],
        )  # fmt: skip
    except RegistryError as exc:
        raise AnomalyFileError(str(exc)) from exc


@app.command("train")
def train(
    data: Path = typer.Argument(..., help="CSV or Parquet file, one row per sample."),
    time_col: str = typer.Option(..., "--time-col", help="Timestamp column (UTC if naive)."),
    value_col: str = typer.Option(..., "--value-col", help="Numeric value column."),
    group_col: str | None = typer.Option(None, "--group-col", help="Series id column."),
    reference_col: str | None = typer.Option(
        None, "--reference-col", help="Expected value column (schedule, state estimate)."
    ),
    labels: Path | None = typer.Option(
        None, "--labels", help="Known faults (target_id, start, end) to leave out."
    ),
    split: str | None = typer.Option(
        None, "--split", help="First validation time (UTC); default two thirds into the data."
    ),
    target_rate: float = typer.Option(0.05, help="False events per asset-day allowed."),
    output: Path = typer.Option(..., "--output", help="Model file to write (.joblib)."),
    register: str | None = typer.Option(
        None, "--register", help="Also register it in the model registry under this name."
    ),
) -> None:
    """Fit learned detectors on a training period and calibrate them on the rest.

    Example:
        workbench anomaly train scada.csv --time-col timestamp --value-col value_mw \\
            --output model.joblib
    """
    import pandas as pd

    from workbench.anomaly.inputs import parse_times
    from workbench.anomaly.sensor import fit_learned

    if output.suffix != ".joblib":
        msg = f"expected a model path ending in .joblib; found {output.name!r}. Rename it"
        raise AnomalyFileError(msg)
    frame = _read_table(data)
    _check_series(frame, data, time_col, value_col)
    lab = None
    if labels is not None:
        lab = _read_table(labels)
        missing = {"target_id", "start", "end"} - set(lab.columns)
        if missing:
            msg = (
                f"expected label columns target_id, start, end in {labels.name}; found no "
                f"{sorted(missing)}"
            )
            raise AnomalyFileError(msg)
    if time_col not in frame.columns:
        raise AnomalyFileError(
            f"expected a column {time_col!r} in {data.name}; found {list(frame.columns)}"
        )
    times = pd.DatetimeIndex(parse_times(frame[time_col], time_col), tz="UTC")
    cut = split if split is not None else times.min() + (times.max() - times.min()) * 2 / 3
    det = fit_learned(frame, time_col, value_col, group_col, split=cut, labels=lab,
                      reference_col=reference_col, target_rate=target_rate)  # fmt: skip
    meta = {
        "kind": MODEL_KIND, "version": MODEL_VERSION, "time_col": time_col,
        "value_col": value_col, "group_col": group_col, "reference_col": reference_col,
        "training_window": [str(times.min()), str(pd.Timestamp(cut))],
        "validation_window": [str(pd.Timestamp(cut)), str(times.max())],
        "calibration_target_events_per_asset_day": target_rate,
        "thresholds": det.thresholds, "excluded": det.excluded, "groups": sorted(det.params),
    }  # fmt: skip
    _save_model(det, output, meta)
    if register is not None:
        version = _register(det, register, meta, frame)
        console.print(
            f"registered as {register!r} v{version} (load it: --model {register}@{version})"
        )
    ex = det.excluded
    console.print(
        f"trained on {ex['training_samples']} samples ({ex['training_samples_left_out']} left "
        f"out as labelled or rule-detected faults, margins included: "
        f"{ex['training_labelled_samples']} labelled, {ex['training_rule_flagged_samples']} "
        f"rule-flagged), calibrated to {target_rate} false events "
        f"per asset-day; model written to {output}"
    )


@app.command("detect")
def detect(
    data: Path = typer.Argument(..., help="CSV or Parquet file, one row per sample."),
    time_col: str = typer.Option(..., "--time-col", help="Timestamp column (UTC if naive)."),
    value_col: str = typer.Option(..., "--value-col", help="Numeric value column."),
    group_col: str | None = typer.Option(None, "--group-col", help="Series id column."),
    reference_col: str | None = typer.Option(
        None, "--reference-col", help="Expected value column (as in training)."
    ),
    method: str = typer.Option("rules", help="rules, iforest, lstm, learned or ensemble."),
    model: str | None = typer.Option(
        None,
        "--model",
        help="Model from 'anomaly train': a .joblib file, or a registered NAME (latest version),"
        " NAME@ALIAS or NAME@VERSION; without it learned runs unsupervised.",
    ),
    contamination: float = typer.Option(0.01, help="Unsupervised: share of samples alarming."),
    gap: str = typer.Option("0s", help="Merge flagged samples at most this far apart."),
    output: Path = typer.Option(..., "--output", help="Events Parquet file to write."),
) -> None:
    """Sensor anomalies (flatline, spike, out of range, stale; or learned) as events.

    Example:
        workbench anomaly detect scada.csv --time-col timestamp --value-col value_mw \\
            --output events.parquet
    """
    from workbench.anomaly.sensor import LEARNED_METHODS, detect_sensor_anomalies

    _check_output(output)
    if model is not None and method not in LEARNED_METHODS:
        msg = f"expected --model only with --method learned or ensemble; found --method {method}"
        raise AnomalyFileError(msg)
    det = None
    if model is not None and model.endswith(".joblib"):
        det = _load_model(Path(model), time_col, value_col, group_col, reference_col)
    elif model is not None:
        det = _load_registered(model, time_col, value_col, group_col, reference_col)
    frame = _read_table(data)
    _check_series(frame, data, time_col, value_col)
    events = detect_sensor_anomalies(
        frame, time_col, value_col, group_col, method=method, gap_tolerance=gap, model=det,
        reference_col=reference_col, contamination=contamination,
    )  # fmt: skip
    _write(events, output)
    console.print(f"{len(events)} anomaly events ({method}) written to {output}")
    if method in LEARNED_METHODS and det is None:
        from workbench.anomaly.sensor import event_coverage

        kinds = events["kind"].value_counts().to_dict() if len(events) else {}
        groups = events["group"].nunique() if len(events) else 0
        share = event_coverage(events, frame, time_col, value_col, group_col)
        console.print(
            f"unsupervised (no --model): fitted on the file itself, contamination "
            f"{contamination}; {len(events)} events on {groups} series: "
            + (", ".join(f"{k} {n}" for k, n in kinds.items()) or "none")
        )
        console.print(
            f"estimated contamination {share['all']:.2%} of samples in events ("
            + (", ".join(f"{k} {v:.2%}" for k, v in share.items() if k != "all") or "none")
            + ")"
        )


@app.command("frequency")
def frequency(
    data: Path | None = typer.Argument(
        None, help="CSV or Parquet file; without it, the catalog's PMU cube (bronze.pmu)."
    ),
    time_col: str = typer.Option("time", "--time-col", help="Timestamp column (UTC if naive)."),
    value_col: str = typer.Option("frequency_hz", "--value-col", help="Frequency column [Hz]."),
    group_col: str | None = typer.Option(None, "--group-col", help="PMU id column."),
    quality_col: str | None = typer.Option(None, "--quality-col", help="Quality (0 good)."),
    nominal: float = typer.Option(60.0, help="Nominal frequency [Hz]."),
    band: float = typer.Option(0.05, help="Band half-width [Hz]."),
    count: int = typer.Option(3, help="Out-of-band samples that trigger an alert."),
    window: str = typer.Option("5s", help="Window for the count, and the quiet spell."),
    start: str | None = typer.Option(None, help="Cube only: first time (UTC)."),
    end: str | None = typer.Option(None, help="Cube only: end time, exclusive (UTC)."),
    output: Path = typer.Option(..., "--output", help="Episodes Parquet file to write."),
) -> None:
    """Frequency-excursion episodes: COUNT samples outside NOMINAL±BAND within WINDOW.

    Example:
        workbench anomaly frequency --start 2024-03-01 --end 2024-03-02 --output excursions.parquet
    """
    from workbench.anomaly.frequency.batch import detect_frequency_cube, detect_frequency_frame

    rule = {"band_hz": band, "count": count, "window": window}
    _check_output(output)
    _check_window(data, start, end)
    if data is not None:
        frame = _read_table(data)
        _check_series(frame, data, time_col, value_col, finite=True)
        episodes = detect_frequency_frame(
            frame, time_col, value_col, group_col, quality_col, nominal_hz=nominal, **rule
        )
    else:
        from workbench.io.catalog import open_catalog

        cat = open_catalog()
        try:
            ds = cat.read("bronze.pmu", start=start, end=end)
        finally:
            cat.close()
        episodes = detect_frequency_cube(ds, nominal_hz=nominal, **rule)
    _write(episodes, output)
    console.print(f"{len(episodes)} frequency episodes written to {output}")
