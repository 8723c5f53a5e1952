"""Experiments in MLflow: every backtest is a run with its parameters, metrics, forecasts and plots.

The tracking store is ``MLFLOW_TRACKING_URI`` when set (a team's server, another database), else
a local SQLite file ``WORKBENCH_HOME/mlflow/mlflow.db`` with artifacts under
``WORKBENCH_HOME/mlflow/artifacts``. The model registry
(:mod:`workbench.forecasting.registry`) lives in the same store.

Part of the shell: it writes files and talks to MLflow; the forecasting core never imports it.
:mod:`mlflow` is imported on first use, so ``import workbench`` stays light.

>>> from workbench.forecasting.tracking import log_backtest
>>> run_id = log_backtest(result, experiment="load_north", retrain="monthly")  # doctest: +SKIP
"""

from __future__ import annotations

import logging
import math
import os
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from workbench.core.errors import WorkbenchError

TRACKING_ENV = "MLFLOW_TRACKING_URI"
#: Shared artifact root when the tracking store is a server database (PostgreSQL).
ARTIFACTS_ENV = "WORKBENCH_MLFLOW_ARTIFACTS"
DEFAULT_EXPERIMENT = "backtests"
#: Longest parameter value MLflow stores [characters].
_MAX_PARAM = 6000


class TrackingError(WorkbenchError):
    """The MLflow tracking store is unreachable or refused what was logged."""


def mlflow_home() -> Path:
    """``WORKBENCH_HOME/mlflow``: the default store's folder."""
    from workbench.core.config import workbench_home

    return workbench_home() / "mlflow"


def store_for(root: str | os.PathLike[str] | None = None) -> tuple[str, str | None]:
    """The tracking URI and the artifact root (``None``: the server's own) for ``root``.

    Parameters
    ----------
    root : str or path, optional
        ``None``: ``MLFLOW_TRACKING_URI`` if set, else the SQLite store under
        :func:`mlflow_home`. A folder: a SQLite store ``<root>/mlflow.db`` with artifacts in
        ``<root>/artifacts``. A URI with a scheme (``sqlite:///…``, ``http://…``): that store.
    """
    if root is None:
        env = os.environ.get(TRACKING_ENV)
        if env:
            return env, team_artifact_root(env)
        root = mlflow_home()
    text = os.fspath(root)
    if "://" in text and not text.startswith("file://"):
        return text, None
    folder = Path(text.removeprefix("file://")).expanduser().resolve()
    return f"sqlite:///{folder / 'mlflow.db'}", (folder / "artifacts").as_uri()


def team_artifact_root(uri: str) -> str | None:
    """The shared artifact root of a database tracking store (``WORKBENCH_MLFLOW_ARTIFACTS``).

    A tracking server (``http://…``) and a SQLite file keep their own default. A server database
    (``postgresql://…``, ``mysql://…``) has none that several hosts share (MLflow would write
    ``./mlruns`` under each process's working folder), so one must be named: a shared folder
    or an fsspec/MLflow artifact URL (``s3://…``, ``/mnt/team/mlflow-artifacts``).

    Raises
    ------
    TrackingError
        A server database is the tracking store and ``WORKBENCH_MLFLOW_ARTIFACTS`` is unset.
    """
    scheme = uri.split("://", 1)[0].split("+", 1)[0].lower()
    if scheme not in ("postgresql", "postgres", "mysql", "mssql"):
        return None
    root = os.environ.get(ARTIFACTS_ENV)
    if not root:
        msg = (
            f"expected {ARTIFACTS_ENV} (a shared folder or artifact URL) with the database "
            f"tracking store {TRACKING_ENV}={scheme}://…; found it unset, so artifacts would "
            f"land in each process's ./mlruns. Set {ARTIFACTS_ENV}=/shared/mlflow-artifacts"
        )
        raise TrackingError(msg)
    if "://" in root:
        return root.rstrip("/")
    return Path(root).expanduser().resolve().as_uri()


def tracking_uri() -> str:
    """``MLFLOW_TRACKING_URI`` if set, else ``sqlite:///<WORKBENCH_HOME>/mlflow/mlflow.db``."""
    return store_for(None)[0]


def _mlflow_errors() -> tuple[type[BaseException], ...]:
    from mlflow.exceptions import MlflowException

    return (MlflowException, OSError)


def client(uri: str | None = None) -> Any:
    """An :class:`mlflow.MlflowClient` on ``uri`` (tracking and registry), checked reachable.

    Raises
    ------
    TrackingError
        When the store cannot be opened or answered an error.
    """
    uri = uri or tracking_uri()
    # no per-file progress bars on the console of jobs and the CLI (a user's setting wins)
    os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")
    if uri.startswith("sqlite:///"):
        Path(uri.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    # creating a store logs its migrations at INFO on stderr: keep the CLI's stderr for errors
    for name in ("mlflow.store.db.utils", "alembic.runtime.migration"):
        logging.getLogger(name).setLevel(logging.WARNING)
    try:
        from mlflow import MlflowClient

        found = MlflowClient(tracking_uri=uri, registry_uri=uri)
        found.search_experiments(max_results=1)
    except _mlflow_errors() as exc:
        raise TrackingError(
            f"expected a reachable MLflow tracking store at {uri!r}; found "
            f"{type(exc).__name__}: {_first_line(exc)}. Fix or unset {TRACKING_ENV} "
            f"(default: a SQLite file under WORKBENCH_HOME/mlflow)"
        ) from exc
    return found


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else "no message"


def experiment_id(mlflow_client: Any, name: str, artifact_root: str | None) -> str:
    """The id of experiment ``name``, created (artifacts under ``artifact_root``) if missing."""
    found = mlflow_client.get_experiment_by_name(name)
    if found is not None:
        return found.experiment_id
    location = f"{artifact_root}/{name}" if artifact_root else None
    try:
        return mlflow_client.create_experiment(name, artifact_location=location)
    except _mlflow_errors():  # created by another process meanwhile
        found = mlflow_client.get_experiment_by_name(name)
        if found is None:
            raise
        return found.experiment_id


def _param_text(value: Any) -> str:
    text = value if isinstance(value, str) else repr(value)
    return text if len(text) <= _MAX_PARAM else text[: _MAX_PARAM - 1] + "…"


def backtest_params(
    result: Any, *, retrain: str | None = None, model_params: Mapping[str, Any] | None = None
) -> dict[str, str]:
    """The parameters of a backtest run: model and its parameters, spec, retrain, window."""
    import pandas as pd

    spec = result.spec
    issues = pd.DatetimeIndex(result.forecasts["issue_time"].unique()).sort_values()
    chosen = sorted({str(f.get("chosen", result.model)) for f in result.fits})
    params: dict[str, Any] = {
        "model": result.model,
        "chosen_models": ",".join(chosen),
        "retrain": retrain if retrain is not None else "unknown",
        "window_start": issues[0].isoformat() if len(issues) else "",
        "window_end": issues[-1].isoformat() if len(issues) else "",
        "issues": len(issues),
        "fits": len(result.fits),
    }
    for key in ("freq", "horizon", "lead", "quantiles", "tz", "capacity"):
        if hasattr(spec, key):
            params[f"spec.{key}"] = getattr(spec, key)
    for key in ("future_covariates", "past_covariates"):
        if hasattr(spec, key):
            params[f"spec.{key}"] = ",".join(getattr(spec, key)) or "-"
    for key, value in (model_params or {}).items():
        params[f"model.{key}"] = value
    return {k: _param_text(v) for k, v in params.items()}


def backtest_metrics(
    result: Any, scores: Mapping[str, Any] | None = None
) -> tuple[dict[str, float], dict[str, dict[int, float]]]:
    """Overall metrics (model, ``baseline_*``, ``skill_*``) and per-step ones (``*_by_step``).

    ``scores`` is ``result.metrics()`` when the caller already has it (computed otherwise).
    """
    scores = result.metrics() if scores is None else scores
    overall: dict[str, float] = {}
    for prefix, part in (("", "model"), ("baseline_", "baseline"), ("", "skill")):
        for key, value in (scores.get(part) or {}).items():
            if isinstance(value, int | float) and math.isfinite(value):
                overall[f"{prefix}{key}"] = float(value)
    by_step: dict[str, dict[int, float]] = {}
    for row in (scores.get("by_step") or {}).get("model", []):
        step = int(row["step"])
        for key in ("mae", "rmse", "pinball", "coverage_80"):
            value = row.get(key)
            if isinstance(value, int | float) and math.isfinite(value):
                by_step.setdefault(f"{key}_by_step", {})[step] = float(value)
    return overall, by_step


def _write_artifacts(result: Any, scores: Mapping[str, Any], folder: Path) -> None:
    import json

    import matplotlib

    from workbench.forecasting.plots import error_heatmap, fan_chart

    result.forecasts.to_parquet(folder / "forecasts.parquet", index=False)
    if result.baseline is not None:
        result.baseline.to_parquet(folder / "baseline_forecasts.parquet", index=False)
    (folder / "metrics.json").write_text(json.dumps(scores, indent=2, default=str))
    tz = getattr(result.spec, "tz", "UTC")
    for name, draw in (("fan_chart.png", fan_chart), ("error_heatmap.png", error_heatmap)):
        fig = draw(result.forecasts, tz=tz)
        fig.savefig(folder / name, dpi=80)
        matplotlib.pyplot.close(fig)


def log_backtest(
    result: Any,
    *,
    experiment: str = DEFAULT_EXPERIMENT,
    tags: Mapping[str, Any] | None = None,
    retrain: str | None = None,
    model_params: Mapping[str, Any] | None = None,
    uri: str | None = None,
) -> str:
    """Log a backtest as an MLflow run; returns the run id.

    Parameters
    ----------
    result : BacktestResult or TableBacktest
        The backtest (:func:`workbench.forecasting.backtest.backtest`, or the ``result`` of a
        :class:`~workbench.forecasting.user_backtest.TableBacktest`).
    experiment : str
        MLflow experiment name (created when missing).
    tags : mapping, optional
        Run tags, e.g. ``{"source": "load.csv"}``.
    retrain : str, optional
        The refit schedule of the backtest (``never``, ``monthly``, …).
    model_params : mapping, optional
        The model's parameters, logged as ``model.<key>``.
    uri : str, optional
        Tracking store; default :func:`tracking_uri`.

    Raises
    ------
    TrackingError
        When the store cannot be reached or refused the run (the run is then marked FAILED).
    """
    from mlflow.entities import Metric, Param

    result = getattr(result, "result", result)
    uri, artifact_root = store_for(uri)
    mlflow_client = client(uri)
    params = backtest_params(result, retrain=retrain, model_params=model_params)
    scores = result.metrics()  # scored once: the logged metrics and metrics.json
    overall, by_step = backtest_metrics(result, scores)
    run_tags = {"workbench.kind": "backtest", "mlflow.runName": f"{result.model} backtest"}
    run_tags.update({str(k): _param_text(v) for k, v in (tags or {}).items()})
    try:
        exp = experiment_id(mlflow_client, experiment, artifact_root)
        run = mlflow_client.create_run(exp, tags=run_tags)
    except _mlflow_errors() as exc:
        raise TrackingError(
            f"expected to create a run in experiment {experiment!r} at {uri!r}; found "
            f"{type(exc).__name__}: {_first_line(exc)}"
        ) from exc
    run_id = run.info.run_id
    try:
        items = [Param(k, v) for k, v in params.items()]
        for start in range(0, len(items), 100):
            mlflow_client.log_batch(run_id, params=items[start : start + 100])
        now = run.info.start_time
        metrics = [Metric(k, v, now, 0) for k, v in overall.items()]
        for key, steps in by_step.items():
            metrics.extend(Metric(key, v, now, s) for s, v in steps.items())
        for start in range(0, len(metrics), 1000):
            mlflow_client.log_batch(run_id, metrics=metrics[start : start + 1000])
        with tempfile.TemporaryDirectory(prefix="workbench-backtest-") as tmp:
            _write_artifacts(result, scores, Path(tmp))
            mlflow_client.log_artifacts(run_id, tmp)
    except _mlflow_errors() as exc:
        mlflow_client.set_terminated(run_id, "FAILED")
        raise TrackingError(
            f"expected to log the backtest to run {run_id} at {uri!r}; found "
            f"{type(exc).__name__}: {_first_line(exc)}"
        ) from exc
    mlflow_client.set_terminated(run_id, "FINISHED")
    return run_id


def backtest_usecase(
    case: Any,
    model: Any,
    issues: Any,
    *,
    retrain: str = "never",
    baseline: str | None = "seasonal_naive",
    model_params: Mapping[str, Any] | None = None,
    track: bool = True,
    experiment: str | None = None,
    tags: Mapping[str, Any] | None = None,
) -> tuple[Any, str | None]:
    """:func:`~workbench.forecasting.backtest.backtest_case`, logged to MLflow.

    Returns ``(result, run_id)``.

    Parameters
    ----------
    case : UseCase
        A :class:`workbench.forecasting.pipeline.UseCase` (a catalog use case from
        :mod:`workbench.forecasting.usecases`): data, spec, name and per-model parameters.
    model : str or Forecaster
        Model name or instance.
    issues : pandas.DatetimeIndex
        Issue times.
    retrain, baseline, model_params
        As for :func:`~workbench.forecasting.backtest.backtest_case`.
    track : bool
        Log to MLflow (experiment ``case.name`` unless ``experiment`` is given); ``False`` runs
        the backtest only and returns ``run_id=None``.
    tags : mapping, optional
        Extra run tags.
    """
    from workbench.forecasting.backtest import backtest_case
    from workbench.forecasting.pipeline import build_forecaster

    result = backtest_case(
        case,
        model,
        issues,
        retrain=retrain,
        baseline=baseline,
        model_params=dict(model_params) if model_params is not None else None,
    )
    if not track:
        return result, None
    # the parameters the backtest's model was built with (the use case's, then the caller's)
    built = build_forecaster(model, case_params=case.model_params, params=model_params)
    params = built.get_params()
    run_tags = {"usecase": case.name, "notes": "; ".join(case.notes) or "-", **dict(tags or {})}
    run_id = log_backtest(
        result,
        experiment=experiment or case.name,
        tags=run_tags,
        retrain=retrain,
        model_params=params,
    )
    return result, run_id
