"""The model registry on MLflow: versions, metadata, aliases, the promotion guard, clear errors."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from workbench.forecasting.registry import (
    ModelRegistry,
    RegistryError,
    backtest_record,
    data_version,
)


@pytest.fixture
def training() -> tuple[pd.DataFrame, pd.Series]:
    rng = np.random.default_rng(0)
    index = pd.date_range("2024-03-01", periods=200, freq="1h", tz="UTC")
    x = pd.DataFrame(
        {"temperature_c": rng.normal(10, 5, 200), "hour": index.hour.astype(float)}, index=index
    )
    y = pd.Series(3.0 * x["temperature_c"] - 0.5 * x["hour"] + rng.normal(0, 1, 200), index=index)
    return x, y


def _fitted_ridge(x: pd.DataFrame, y: pd.Series, alpha: float = 1.0):
    from sklearn.linear_model import Ridge

    return Ridge(alpha=alpha).fit(x, y)


WINDOW = {"start": "2024-03-01T00:00:00+00:00", "end": "2024-03-31T00:00:00+00:00"}


def _bt(mae: float, window: dict[str, str] = WINDOW) -> dict:
    return {"metric": "mae", "value": mae, **window}


def test_round_trip_model_and_metadata(registry_root: Path, training) -> None:
    x, y = training
    model = _fitted_ridge(x, y, alpha=0.5)
    reg = ModelRegistry(registry_root)
    window = (y.index[0], y.index[-1])
    version = reg.register(
        "load_north",
        model,
        {"note": "first try"},
        data=(x, y),
        features=list(x.columns),
        training_window=window,
        metrics={"mape": 2.4, "mae_mw": np.float64(12.5)},
    )
    assert version == 1
    loaded, info = reg.load_version("load_north", version=1)
    np.testing.assert_array_equal(loaded.predict(x), model.predict(x))
    meta = info.metadata
    assert meta["version"] == 1
    assert meta["model"]["class"] == "sklearn.linear_model._ridge.Ridge"
    assert meta["model"]["params"]["alpha"] == 0.5
    assert meta["features"] == ["temperature_c", "hour"]
    assert meta["training_window"] == {"start": window[0].isoformat(), "end": window[1].isoformat()}
    assert meta["metrics"] == {"mape": 2.4, "mae_mw": 12.5}
    assert meta["data_version"] == data_version((x, y))
    assert meta["code_version"]["package"]
    assert pd.Timestamp(meta["created_at"]).tzinfo is not None
    assert meta["extra"] == {"note": "first try"}
    assert meta["artifact"]["format"] == "joblib"
    assert info.stage == "none"
    # an MLflow model version whose source is the artifact folder, with the lineage as tags
    from mlflow import MlflowClient

    uri = f"sqlite:///{registry_root / 'mlflow.db'}"
    assert reg.root == uri
    mv = MlflowClient(tracking_uri=uri, registry_uri=uri).get_model_version("load_north", "1")
    assert mv.source == info.uri
    assert mv.tags["workbench.data_version"] == data_version((x, y))
    assert mv.tags["workbench.artifact_format"] == "joblib"
    run = MlflowClient(tracking_uri=uri).get_run(mv.run_id)
    assert run.data.params["model.alpha"] == "0.5"
    assert run.data.metrics["mape"] == 2.4
    # the artifact folder holds the model and a plain JSON copy of the metadata
    folders = list((registry_root / "artifacts").rglob("metadata.json"))
    assert len(folders) == 1
    assert (folders[0].parent / "model.joblib").is_file()
    on_disk = json.loads(folders[0].read_text())
    assert on_disk == {**meta, "version": None}  # the number is MLflow's, known after the write


def test_default_store_is_under_workbench_home(mlflow_home: Path, training) -> None:
    x, y = training
    reg = ModelRegistry()
    assert reg.root == f"sqlite:///{mlflow_home / 'mlflow.db'}"
    reg.register("m", _fitted_ridge(x, y))
    assert len(list((mlflow_home / "artifacts").rglob("model.joblib"))) == 1


def test_versions_are_monotonic_and_aliases_move(registry_root: Path, training) -> None:
    x, y = training
    reg = ModelRegistry(registry_root)
    v1 = reg.register("wind", _fitted_ridge(x, y, 1.0), backtest=_bt(3.0), stage="champion")
    v2 = reg.register("wind", _fitted_ridge(x, y, 2.0), backtest=_bt(2.9), stage="staging")
    v3 = reg.register("wind", _fitted_ridge(x, y, 3.0))
    assert (v1, v2, v3) == (1, 2, 3)
    assert reg.load("wind").alpha == 1.0  # the champion by default
    assert reg.load("wind", "challenger").alpha == 2.0
    assert reg.load("wind", "production").alpha == 1.0  # the old names still work
    assert reg.alias_version("wind", "champion") == 1
    reg.promote("wind", v2)
    stages = {mv.version: mv.stage for mv in reg.history("wind")}
    assert stages == {1: "archived", 2: "champion", 3: "none"}
    assert reg.load("wind").alpha == 2.0
    reg.transition("wind", v2, "archived")
    with pytest.raises(RegistryError, match=r"stage 'champion'; found none .*v1=archived"):
        reg.load("wind")
    assert reg.alias_version("wind") is None
    events = reg.events("wind")
    assert [(e["version"], e["from"], e["to"]) for e in events] == [
        (1, "none", "champion"),
        (2, "none", "challenger"),
        (1, "champion", "archived"),
        (2, "challenger", "champion"),
        (2, "champion", "archived"),
    ]
    assert all(e["by"] for e in events)
    assert reg.register("wind", _fitted_ridge(x, y)) == 4
    assert reg.list_models() == ["wind"]
    # one challenger at a time: a new one displaces the previous, and the events say so
    v5 = reg.register("wind", _fitted_ridge(x, y), stage="challenger")
    v6 = reg.register("wind", _fitted_ridge(x, y), stage="challenger")
    assert (reg.get("wind", version=v5).stage, reg.get("wind", stage="challenger").version) == (
        "none", v6
    )  # fmt: skip
    assert [(e["version"], e["from"], e["to"]) for e in reg.events("wind")[-2:]] == [
        (5, "challenger", "none"),
        (6, "none", "challenger"),
    ]


def test_a_worse_challenger_is_refused(registry_root: Path, training, monkeypatch) -> None:
    x, y = training
    reg = ModelRegistry(registry_root)
    reg.register("load", _fitted_ridge(x, y, 1.0), backtest=_bt(10.0), stage="champion")
    worse = reg.register("load", _fitted_ridge(x, y, 9.0), backtest=_bt(10.5), stage="challenger")
    with pytest.raises(
        RegistryError,
        match=r"^expected a challenger no worse than the champion on the same backtest window; "
        r"found MAE 10\.5 \(v2\) vs 10 \(v1\) on 2024-03-01.*\.\.2024-03-31.*"
        r"Pass force=True \(--force\) to promote anyway$",
    ):
        reg.promote("load", worse)
    assert reg.alias_version("load", "champion") == 1  # nothing moved
    assert reg.alias_version("load", "challenger") == worse
    assert [e["to"] for e in reg.events("load")] == ["champion", "challenger"]
    # forcing needs a reason, and records who and why
    with pytest.raises(RegistryError, match="expected a reason for a forced promotion"):
        reg.promote("load", worse, force=True)
    monkeypatch.setenv("WORKBENCH_USER", "ana")
    info = reg.promote("load", worse, force=True, reason="storm week: v1 misses ramps")
    assert info.stage == "champion"
    assert reg.load("load").alpha == 9.0
    last = reg.events("load")[-1]
    assert (last["version"], last["to"], last["forced"]) == (2, "champion", True)
    assert (last["by"], last["reason"]) == ("ana", "storm week: v1 misses ramps")
    assert "MAE 10.5 (v2) vs 10 (v1)" in last["refused_because"]
    assert info.tags["workbench.forced_by"] == "ana"
    assert info.tags["workbench.forced_reason"] == "storm week: v1 misses ramps"


def test_an_equal_or_better_challenger_is_promoted(registry_root: Path, training) -> None:
    x, y = training
    reg = ModelRegistry(registry_root)
    reg.register("load", _fitted_ridge(x, y, 1.0), backtest=_bt(10.0), stage="champion")
    tie = reg.register("load", _fitted_ridge(x, y, 2.0), backtest=_bt(10.0))
    assert reg.promote("load", tie).stage == "champion"
    better = reg.register("load", _fitted_ridge(x, y, 3.0), backtest=_bt(9.5))
    assert reg.promote("load", better).stage == "champion"
    assert [v.stage for v in reg.history("load")] == ["archived", "archived", "champion"]
    assert not any(e.get("forced") for e in reg.events("load"))


def test_different_windows_or_missing_scores_are_refused_unless_forced(
    registry_root: Path, training
) -> None:
    x, y = training
    reg = ModelRegistry(registry_root)
    reg.register("load", _fitted_ridge(x, y, 1.0), backtest=_bt(10.0), stage="champion")
    april = {"start": "2024-04-01T00:00:00+00:00", "end": "2024-04-30T00:00:00+00:00"}
    other = reg.register("load", _fitted_ridge(x, y, 2.0), backtest=_bt(5.0, april))
    with pytest.raises(RegistryError, match=r"same window and metric; found mae on 2024-04-01"):
        reg.promote("load", other)
    unscored = reg.register("load", _fitted_ridge(x, y, 3.0))
    with pytest.raises(RegistryError, match=r"found none recorded for v3.*--force"):
        reg.promote("load", unscored)
    assert reg.alias_version("load") == 1
    reg.promote("load", other, force=True, reason="April is the season that matters")
    assert reg.alias_version("load") == other
    assert reg.events("load")[-1]["forced"] is True


def test_backtest_record_takes_the_window_and_score_of_a_backtest(registry_root: Path) -> None:
    from workbench.forecasting.backtest import backtest, issue_schedule
    from workbench.forecasting.base import ForecastSpec
    from workbench.forecasting.synthetic import synthetic_data

    data = synthetic_data(days=30, tz="UTC", seed=1, start="2024-02-01")
    spec = ForecastSpec(freq=pd.Timedelta("1h"), horizon=24)
    issues = issue_schedule("2024-02-20", "2024-02-25", "00:00", "UTC")
    result = backtest(data, spec, "seasonal_naive", issues)
    record = backtest_record(result)
    assert record["value"] == pytest.approx(result.metrics()["model"]["mae"])
    assert (record["start"], record["end"]) == (issues[0].isoformat(), issues[-1].isoformat())
    with pytest.raises(RegistryError, match="'nope' score"):
        backtest_record(result, "nope")


def test_errors_name_what_exists(registry_root: Path, training) -> None:
    x, y = training
    reg = ModelRegistry(registry_root)
    with pytest.raises(RegistryError, match="registered: none yet"):
        reg.load("solar")
    reg.register("solar_a", _fitted_ridge(x, y))
    reg.register("solar_b", _fitted_ridge(x, y))
    with pytest.raises(RegistryError, match=r"found 'solar'.*registered: solar_a, solar_b"):
        reg.load("solar")
    with pytest.raises(RegistryError, match=r"among \[1\]; found 7"):
        reg.load("solar_a", version=7)
    with pytest.raises(RegistryError, match="expected a stage among none, challenger, champion"):
        reg.load("solar_a", "prod")
    with pytest.raises(RegistryError, match="expected a stage among"):
        reg.transition("solar_a", 1, "live")
    with pytest.raises(RegistryError, match="letters, digits"):
        reg.register("../escape", object())


def test_failed_save_leaves_no_version(registry_root: Path, training) -> None:
    x, y = training
    reg = ModelRegistry(registry_root)
    reg.register("m", _fitted_ridge(x, y))

    class Unpicklable:
        def __reduce__(self):
            raise TypeError("cannot pickle this")

    with pytest.raises(TypeError, match="cannot pickle"):
        reg.register("m", Unpicklable())
    assert [mv.version for mv in reg.history("m")] == [1]
    assert len(list((registry_root / "artifacts").rglob("metadata.json"))) == 1
    assert reg.register("m", _fitted_ridge(x, y)) == 2


def test_data_version_tracks_the_data(training) -> None:
    x, y = training
    assert data_version((x, y)) == data_version((x.copy(), y.copy()))
    changed = y.copy()
    changed.iloc[5] += 0.001
    assert data_version((x, changed)) != data_version((x, y))
    assert data_version((x.rename(columns={"hour": "h"}), y)) != data_version((x, y))
    assert data_version(None) is None


def test_forecaster_round_trip_gives_identical_predictions(registry_root: Path) -> None:
    from workbench.forecasting.base import ForecastData, ForecastSpec, make_forecaster

    index = pd.date_range("2024-03-01", periods=24 * 21, freq="1h", tz="UTC")
    rng = np.random.default_rng(1)
    y = pd.Series(
        100 + 10 * np.sin(2 * np.pi * index.hour / 24) + rng.normal(0, 1, len(index)),
        index=index,
        name="load_mw",
    )
    data = ForecastData(y=y)
    spec = ForecastSpec(freq=pd.Timedelta("1h"), horizon=24)
    model = make_forecaster("seasonal_naive").fit(data, spec, until=index[24 * 18])
    issues = [index[24 * 19], index[24 * 20]]
    reg = ModelRegistry(registry_root)
    version = reg.register("load_sn", model, data=data, training_window=(index[0], index[24 * 18]))
    loaded, info = reg.load_version("load_sn", version=version)
    pd.testing.assert_frame_equal(loaded.predict(data, issues), model.predict(data, issues))
    assert info.metadata["spec"]["horizon"] == 24
    assert info.metadata["model"]["class"].endswith("SeasonalNaive")


def test_models_cli_lists_shows_and_promotes(
    mlflow_home: Path, training, capsys, monkeypatch
) -> None:
    from types import SimpleNamespace

    from workbench.cli.main import main

    x, y = training
    reg = ModelRegistry()
    reg.register(
        "wind_a",
        _fitted_ridge(x, y, 1.0),
        metrics={"mae": 3.5},
        backtest=_bt(3.5),
        stage="champion",
    )
    reg.register("wind_a", _fitted_ridge(x, y, 2.0), metrics={"mae": 3.1}, backtest=_bt(3.1))
    reg.register("wind_a", _fitted_ridge(x, y, 3.0), metrics={"mae": 3.9}, backtest=_bt(3.9))
    from workbench.cli import console as consoles

    for printer in (consoles.console, consoles.err_console):  # COLUMNS=200, set back after
        monkeypatch.setattr(printer, "_width", 200)

    def run(*args: str, user: str | None = None) -> SimpleNamespace:
        """``workbench models ...`` through the CLI's own entry point, in this process (the
        console script itself is run as a subprocess by tests/cli): exit code and output."""
        with monkeypatch.context() as mp:
            mp.setattr("sys.argv", ["workbench", "models", *args])
            if user is not None:
                mp.setenv("WORKBENCH_USER", user)
            capsys.readouterr()
            with pytest.raises(SystemExit) as ended:
                main()
        out, err = capsys.readouterr()
        return SimpleNamespace(returncode=ended.value.code, stdout=out, stderr=err)

    listed = run("list")
    assert listed.returncode == 0, listed.stderr
    assert "wind_a" in listed.stdout
    shown = run("show", "wind_a", "--version", "2", "--json")
    assert shown.returncode == 0, shown.stderr
    meta = json.loads(shown.stdout)
    assert (meta["version"], meta["stage"], meta["metrics"]) == (2, "none", {"mae": 3.1})
    promoted = run("promote", "wind_a", "2")
    assert promoted.returncode == 0, promoted.stderr
    assert "v2: none -> champion" in promoted.stdout
    assert "v1: champion -> archived" in promoted.stdout
    assert reg.get("wind_a").version == 2
    versions = run("list", "wind_a")
    assert "archived" in versions.stdout
    assert "champion" in versions.stdout
    # a worse challenger is refused, then forced with a reason that is recorded
    refused = run("promote", "wind_a", "3")
    assert refused.returncode == 1
    assert "expected a challenger no worse than the champion" in refused.stderr
    assert "Traceback" not in refused.stderr
    assert reg.get("wind_a").version == 2
    forced = run("promote", "wind_a", "3", "--force", "--reason", "new sensor", user="bo")
    assert forced.returncode == 0, forced.stderr
    assert "v3: none -> champion" in forced.stdout
    assert "forced by bo: new sensor" in forced.stdout
    assert reg.get("wind_a").version == 3
    last = reg.events("wind_a")[-1]
    assert (last["version"], last["by"], last["reason"], last["forced"]) == (
        3, "bo", "new sensor", True
    )  # fmt: skip
    missing = run("show", "solar_b")
    assert missing.returncode == 1
    assert "registered: wind_a" in missing.stderr
    assert "Traceback" not in missing.stderr


def test_reading_a_store_that_does_not_exist_creates_nothing(tmp_path: Path) -> None:
    reg = ModelRegistry(tmp_path / "nowhere")
    assert reg.list_models() == []
    assert reg.alias_version("load") is None
    with pytest.raises(RegistryError, match="registered: none yet"):
        reg.load("load")
    with pytest.raises(RegistryError, match="expected a stage among"):
        reg.get("load", stage="golden")
    assert not (tmp_path / "nowhere").exists()
