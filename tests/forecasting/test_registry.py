"""The model registry: versions, metadata, stages, atomic artifacts, clear errors."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from workbench.forecasting.registry import (
    ModelRegistry,
    RegistryError,
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


def test_round_trip_model_and_metadata(tmp_path: Path, training) -> None:
    x, y = training
    model = _fitted_ridge(x, y, alpha=0.5)
    reg = ModelRegistry(tmp_path / "registry")
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
    assert meta["model"]["class"] == "sklearn.linear_model._ridge.Ridge"
    assert meta["model"]["params"]["alpha"] == 0.5
    assert meta["features"] == ["temperature_c", "hour"]
    assert meta["training_window"] == {"start": window[0].isoformat(), "end": window[1].isoformat()}
    assert meta["metrics"] == {"mape": 2.4, "mae_mw": 12.5}
    assert meta["data_version"] == data_version((x, y))
    assert meta["code_version"]["package"]
    assert pd.Timestamp(meta["created_at"]).tzinfo is not None
    assert meta["extra"] == {"note": "first try"}
    assert info.stage == "none"
    # the file on disk is plain JSON a person can read
    on_disk = json.loads((tmp_path / "registry/load_north/versions/1/metadata.json").read_text())
    assert on_disk == meta


def test_default_root_is_under_workbench_home(workbench_home: Path, training) -> None:
    x, y = training
    reg = ModelRegistry()
    reg.register("m", _fitted_ridge(x, y))
    assert (workbench_home / "registry" / "m" / "versions" / "1" / "metadata.json").is_file()


def test_versions_are_monotonic_and_stages_transition(tmp_path: Path, training) -> None:
    x, y = training
    reg = ModelRegistry(tmp_path)
    v1 = reg.register("wind", _fitted_ridge(x, y, 1.0), stage="production")
    v2 = reg.register("wind", _fitted_ridge(x, y, 2.0), stage="staging")
    v3 = reg.register("wind", _fitted_ridge(x, y, 3.0))
    assert (v1, v2, v3) == (1, 2, 3)
    assert reg.load("wind").alpha == 1.0  # production by default
    assert reg.load("wind", "staging").alpha == 2.0
    reg.promote("wind", v2)
    stages = {mv.version: mv.stage for mv in reg.history("wind")}
    assert stages == {1: "archived", 2: "production", 3: "none"}
    assert reg.load("wind").alpha == 2.0
    reg.transition("wind", v2, "archived")
    with pytest.raises(RegistryError, match=r"stage 'production'; found none .*v1=archived"):
        reg.load("wind")
    events = reg.events("wind")
    assert [(e["version"], e["from"], e["to"]) for e in events] == [
        (1, "none", "production"),
        (2, "none", "staging"),
        (1, "production", "archived"),
        (2, "staging", "production"),
        (2, "production", "archived"),
    ]
    # a deleted intermediate version never gets its number reused
    assert reg.register("wind", _fitted_ridge(x, y)) == 4
    assert reg.list_models() == ["wind"]


def test_errors_name_what_exists(tmp_path: Path, training) -> None:
    x, y = training
    reg = ModelRegistry(tmp_path)
    with pytest.raises(RegistryError, match="registered: none yet"):
        reg.load("solar")
    reg.register("solar_a", _fitted_ridge(x, y))
    reg.register("solar_b", _fitted_ridge(x, y))
    with pytest.raises(RegistryError, match=r"found 'solar'.*registered: solar_a, solar_b"):
        reg.load("solar")
    with pytest.raises(RegistryError, match=r"among \[1\]; found 7"):
        reg.load("solar_a", version=7)
    with pytest.raises(RegistryError, match="expected a stage among none, staging, production"):
        reg.load("solar_a", "prod")
    with pytest.raises(RegistryError, match="expected a stage among"):
        reg.transition("solar_a", 1, "live")
    with pytest.raises(RegistryError, match="letters, digits"):
        reg.register("../escape", object())


def test_failed_save_leaves_no_version(tmp_path: Path, training) -> None:
    x, y = training
    reg = ModelRegistry(tmp_path)
    reg.register("m", _fitted_ridge(x, y))

    class Unpicklable:
        def __reduce__(self):
            raise TypeError("cannot pickle this")

    with pytest.raises(TypeError, match="cannot pickle"):
        reg.register("m", Unpicklable())
    assert [mv.version for mv in reg.history("m")] == [1]
    leftovers = [p.name for p in (tmp_path / "m" / "versions").iterdir()]
    assert leftovers == ["1"]
    assert reg.register("m", _fitted_ridge(x, y)) == 2


def test_data_version_tracks_the_data(training) -> None:
    x, y = training
    assert data_version((x, y)) == data_version((x.copy(), y.copy()))
    changed = y.copy()
    changed.iloc[5] += 0.001
    assert data_version((x, changed)) != data_version((x, y))
    assert data_version((x.rename(columns={"hour": "h"}), y)) != data_version((x, y))
    assert data_version(None) is None


def test_forecaster_round_trip_gives_identical_predictions(tmp_path: Path) -> None:
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
    reg = ModelRegistry(tmp_path)
    version = reg.register("load_sn", model, data=data, training_window=(index[0], index[24 * 18]))
    loaded, info = reg.load_version("load_sn", version=version)
    pd.testing.assert_frame_equal(loaded.predict(data, issues), model.predict(data, issues))
    assert info.metadata["spec"]["horizon"] == 24
    assert info.metadata["model"]["class"].endswith("SeasonalNaive")


def test_fsspec_memory_registry(training) -> None:
    x, y = training
    reg = ModelRegistry("memory://workbench-test-registry")
    model = _fitted_ridge(x, y)
    v = reg.register("remote_model", model, stage="production")
    np.testing.assert_array_equal(reg.load("remote_model").predict(x), model.predict(x))
    assert reg.history("remote_model")[0].version == v


def test_models_cli_lists_shows_and_promotes(workbench_home: Path, training) -> None:
    import os
    import subprocess
    import sys

    x, y = training
    reg = ModelRegistry()
    reg.register("wind_a", _fitted_ridge(x, y, 1.0), metrics={"mae": 3.5}, stage="production")
    reg.register("wind_a", _fitted_ridge(x, y, 2.0), metrics={"mae": 3.1})
    exe = Path(sys.executable).with_name("workbench")

    def run(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [str(exe), "models", *args], capture_output=True, text=True, timeout=120,
            env={**os.environ, "COLUMNS": "200"},
        )  # fmt: skip

    listed = run("list")
    assert listed.returncode == 0, listed.stderr
    assert "wind_a" in listed.stdout
    shown = run("show", "wind_a", "--version", "2", "--json")
    assert shown.returncode == 0, shown.stderr
    meta = json.loads(shown.stdout)
    assert (meta["version"], meta["stage"], meta["metrics"]) == (2, "none", {"mae": 3.1})
    promoted = run("promote", "wind_a", "2")
    assert promoted.returncode == 0, promoted.stderr
    assert "v2: none -> production" in promoted.stdout
    assert "v1: production -> archived" in promoted.stdout
    assert reg.get("wind_a").version == 2
    versions = run("list", "wind_a")
    assert "archived" in versions.stdout
    assert "production" in versions.stdout
    missing = run("show", "solar_b")
    assert missing.returncode == 1
    assert "registered: wind_a" in missing.stderr
    assert "Traceback" not in missing.stderr
