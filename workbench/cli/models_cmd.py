"""``workbench models``: list, inspect and promote versions in the model registry (MLflow)."""

from __future__ import annotations

import json
from typing import Any

import typer
from rich.table import Table

from workbench.cli.console import console
from workbench.cli.output import emit, format_option

app = typer.Typer(
    help="The model registry (MLflow): versions, metadata, aliases champion/challenger, archived."
    "\n\nExample: workbench models list",
    no_args_is_help=True,
)

ROOT_OPTION = typer.Option(
    None,
    "--registry",
    help="Registry folder or MLflow URI (default: MLFLOW_TRACKING_URI or WORKBENCH_HOME/mlflow).",
)


def _registry(root: str | None) -> Any:
    from workbench.forecasting.registry import ModelRegistry

    return ModelRegistry(root)


def _metrics_text(metrics: dict[str, Any]) -> str:
    parts = []
    for key, value in list(metrics.items())[:4]:
        parts.append(f"{key}={value:.4g}" if isinstance(value, int | float) else f"{key}={value}")
    return ", ".join(parts)


@app.command("list")
def list_models(
    name: str = typer.Argument(None, help="Show every version of this model."),
    registry: str = ROOT_OPTION,
    fmt: str = format_option(),
) -> None:
    """List registered models (or the versions of one), with stages and metrics.

    Example:
        workbench models list load_NORTH
    """
    from workbench.cli.output import check_format

    check_format(fmt)
    reg = _registry(registry)
    if name is None:
        names = reg.list_models()
        if not names and fmt == "table":
            console.print(f"no models registered in {reg.root}", highlight=False)
            return
        rows = []
        for model in names:
            versions = reg.history(model)
            champion = [str(v.version) for v in versions if v.stage == "champion"]
            challenger = [str(v.version) for v in versions if v.stage == "challenger"]
            rows.append(
                {
                    "model": model,
                    "versions": len(versions),
                    "champion": ",".join(champion) or None,
                    "challenger": ",".join(challenger) or None,
                    "latest_created": versions[-1].metadata.get("created_at"),
                }
            )
        emit(rows, fmt, ["model", "versions", "champion", "challenger", "latest_created"])
        return
    rows = []
    for mv in reg.history(name):
        row = mv.summary()
        rows.append(
            {
                "version": mv.version,
                "stage": mv.stage,
                "class": str(row["model_class"]).rsplit(".", 1)[-1],
                "created": row["created_at"],
                "trained_on": f"{row['train_start'] or '?'}..{row['train_end'] or '?'}",
                "metrics": _metrics_text(row["metrics"]),
            }
        )
    emit(rows, fmt, ["version", "stage", "class", "created", "trained_on", "metrics"])


@app.command("show")
def show(
    name: str = typer.Argument(..., help="Registered model name."),
    version: int = typer.Option(None, "--version", "-v", min=1, help="Version number."),
    stage: str = typer.Option(
        None, "--stage", help="The version in this stage or alias (default: champion)."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print the metadata as JSON."),
    registry: str = ROOT_OPTION,
) -> None:
    """Show one version's metadata (default: the champion).

    Example:
        workbench models show load_NORTH --version 3
    """
    mv = _registry(registry).get(name, stage=stage, version=version)
    if as_json:
        typer.echo(json.dumps({"stage": mv.stage, **mv.metadata}, indent=2))
        return
    meta = mv.metadata
    console.print(f"[bold]{name}[/] v{mv.version} — stage [bold]{mv.stage}[/]", highlight=False)
    model = meta.get("model") or {}
    rows = [
        ("class", model.get("class")),
        ("params", json.dumps(model.get("params"))),
        ("features", ", ".join(meta.get("features") or []) or "-"),
        ("training window", json.dumps(meta.get("training_window"))),
        ("metrics", json.dumps(meta.get("metrics"))),
        ("backtest", json.dumps(meta.get("backtest"))),
        ("source", mv.uri),
        ("data version", meta.get("data_version")),
        ("code version", json.dumps(meta.get("code_version"))),
        ("created at", meta.get("created_at")),
        ("artifact", json.dumps(meta.get("artifact"))),
    ]
    table = Table("field", "value", show_header=False)
    for key, value in rows:
        table.add_row(key, str(value))
    console.print(table)


@app.command("promote")
def promote(
    name: str = typer.Argument(..., help="Registered model name."),
    version: int = typer.Argument(..., min=1, help="Version to move."),
    stage: str = typer.Option(
        "champion", "--stage", help="Target: champion, challenger, archived or none."
    ),
    force: bool = typer.Option(
        False,
        "--force",
        help="Promote to champion even if its backtest is worse or not comparable.",
    ),
    reason: str = typer.Option(None, "--reason", help="Why (required with --force; recorded)."),
    registry: str = ROOT_OPTION,
) -> None:
    """Move a version to a stage; a new champion must beat or tie the current one (or --force).

    Example:
        workbench models promote load_NORTH 3 --stage champion --reason "wins the March backtest"
    """
    from workbench.forecasting.registry import check_stage

    check_stage(stage)  # before the history look-up, so a bad stage is named first
    reg = _registry(registry)
    before = {mv.version: mv.stage for mv in reg.history(name)}
    mv = reg.promote(name, version, stage, force=force, reason=reason)
    after = {v.version: v.stage for v in reg.history(name)}
    console.print(f"{name} v{mv.version}: {before[version]} -> {mv.stage}", highlight=False)
    for other, old in before.items():
        if other != version and after[other] != old:
            console.print(f"{name} v{other}: {old} -> {after[other]}", highlight=False)
    last = reg.events(name)[-1]
    if last.get("forced"):
        console.print(
            f"forced by {last['by']}: {last['reason']} (refused: {last['refused_because']})",
            highlight=False,
        )
