"""`workbench anomaly train` and `detect --method ensemble [--model]` as a user runs them."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from tests.anomaly.test_cli_and_cube import _one_line_error, run
from tests.anomaly.test_learned import T0, telemetry
from workbench.cli.anomaly_cmd import MODEL_VERSION

COLS = ("--time-col", "timestamp", "--value-col", "value", "--group-col", "asset")


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    d = tmp_path_factory.mktemp("learned")
    history = pd.concat([telemetry(T0, 24, seed=1), telemetry(T0 + pd.Timedelta("24h"), 12, 2)])
    history.to_parquet(d / "history.parquet")
    new = telemetry(T0 + pd.Timedelta("36h"), 12, seed=3)
    hit = (new["asset"] == "A1") & new["timestamp"].between(
        T0 + pd.Timedelta("40h"), T0 + pd.Timedelta("41h")
    )
    new.loc[hit, "value"] += 25.0
    new.to_csv(d / "new.csv", index=False)
    new.drop(columns="ref").to_csv(d / "unlabelled.csv", index=False)
    labels = pd.DataFrame({"target_id": ["A0"], "start": [T0 + pd.Timedelta("2h")],
                           "end": [T0 + pd.Timedelta("3h")]})  # fmt: skip
    labels.to_csv(d / "labels.csv", index=False)
    return d


def test_train_then_detect_with_the_model(files):
    model = files / "model.joblib"
    out = run("train", str(files / "history.parquet"), *COLS, "--reference-col", "ref",
              "--labels", str(files / "labels.csv"), "--split", "2024-03-02T00:00:00Z",
              "--output", str(model))  # fmt: skip
    assert out.returncode == 0, out.stderr
    assert "left out as labelled or rule-detected faults" in out.stdout
    meta = json.loads((files / "model.joblib.json").read_text())
    assert meta["kind"] == "workbench.anomaly.learned"
    assert meta["version"] == MODEL_VERSION
    assert meta["training_window"][1].startswith("2024-03-02 00:00:00")
    assert meta["excluded"]["training_samples_left_out"] > 900  # the labelled hour, widened
    events = files / "events.parquet"
    out = run("detect", str(files / "new.csv"), *COLS, "--reference-col", "ref",
              "--method", "ensemble", "--model", str(model), "--output", str(events))  # fmt: skip
    assert out.returncode == 0, out.stderr
    ev = pd.read_parquet(events)
    assert list(ev.columns[:6]) == ["group", "start", "end", "score", "kind", "detector"]
    step = ev[(ev["group"] == "A1") & (ev["kind"] == "bias_step")]
    assert len(step) == 1
    assert "learned:level" in step["detector"].iloc[0]


def test_a_model_of_the_wrong_version_or_columns_is_refused(files):
    model = files / "model.joblib"
    if not model.exists():
        pytest.fail("test_train_then_detect_with_the_model must run first")
    out = run("detect", str(files / "new.csv"), *COLS, "--method", "ensemble",
              "--model", str(model), "--output", str(files / "x.parquet"))  # fmt: skip
    _one_line_error(out, "expected --reference-col 'ref' as in training")
    meta = json.loads((files / "model.joblib.json").read_text())
    old = files / "old.joblib"
    old.write_bytes(model.read_bytes())
    (files / "old.joblib.json").write_text(json.dumps({**meta, "version": MODEL_VERSION - 1}))
    out = run("detect", str(files / "new.csv"), *COLS, "--reference-col", "ref", "--method",
              "ensemble", "--model", str(old), "--output", str(files / "x.parquet"))  # fmt: skip
    _one_line_error(out, f"expected model version {MODEL_VERSION}; found {MODEL_VERSION - 1}")
    out = run("detect", str(files / "new.csv"), *COLS, "--method", "rules",
              "--model", str(model), "--output", str(files / "x.parquet"))  # fmt: skip
    _one_line_error(out, "expected --model only with --method learned or ensemble")
    assert not (files / "x.parquet").exists()


def test_unsupervised_detect_on_a_file_without_labels(files):
    events = files / "unsupervised.parquet"
    out = run("detect", str(files / "unlabelled.csv"), *COLS, "--method", "ensemble",
              "--output", str(events))  # fmt: skip
    assert out.returncode == 0, out.stderr
    assert "unsupervised (no --model)" in out.stdout
    assert "contamination 0.01" in out.stdout
    share = float(out.stdout.split("estimated contamination ")[1].split("%")[0]) / 100
    planted = 1 / 36  # one hour of one of 3 assets over 12 hours
    assert planted / 2 <= share <= 3 * planted  # about the faulty share, not the parameter
    ev = pd.read_parquet(events)
    a1 = ev[ev["group"] == "A1"]
    hit = (a1["start"] <= T0 + pd.Timedelta("41h")) & (a1["end"] >= T0 + pd.Timedelta("40h"))
    assert hit.any(), ev


def test_register_then_detect_with_the_registered_model(files, tmp_path, monkeypatch):
    """``train --register`` puts the detector in the model registry (MLflow, like a
    forecaster); ``detect --model NAME@1`` loads it back and finds what the file model finds."""
    import joblib

    from workbench.forecasting.registry import ModelRegistry

    monkeypatch.setenv("WORKBENCH_HOME", str(tmp_path))  # the CLI subprocesses inherit it
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    out = run("train", str(files / "history.parquet"), *COLS, "--reference-col", "ref",
              "--split", "2024-03-02T00:00:00Z", "--output", str(tmp_path / "m.joblib"),
              "--register", "scada_faults")  # fmt: skip
    assert out.returncode == 0, out.stderr
    assert "registered as 'scada_faults' v1" in out.stdout
    det, info = ModelRegistry().load_version("scada_faults", version=1)
    assert det.thresholds == joblib.load(tmp_path / "m.joblib").thresholds
    assert info.metadata["extra"]["kind"] == "workbench.anomaly.learned"
    assert info.metadata["training_window"]["end"].startswith("2024-03-02")
    found = []
    for model in ("scada_faults@1", str(tmp_path / "m.joblib")):
        events = tmp_path / "events.parquet"
        out = run("detect", str(files / "new.csv"), *COLS, "--method", "ensemble",
                  "--reference-col", "ref", "--model", model, "--output", str(events))  # fmt: skip
        assert out.returncode == 0, out.stderr
        found.append(pd.read_parquet(events))
    pd.testing.assert_frame_equal(found[0], found[1])
    step = found[0][(found[0]["group"] == "A1") & (found[0]["kind"] == "bias_step")]
    assert len(step) == 1
