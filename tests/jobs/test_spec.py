"""Job specs: the committed ones load; malformed ones fail naming the file and the key."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.jobs.conftest import write_probe_job
from workbench.jobs.spec import (
    JobNotFoundError,
    JobSpecError,
    get_job_spec,
    load_job_spec,
    load_job_specs,
)

ROOT = Path(__file__).resolve().parents[2]


def test_committed_specs_load_and_point_at_notebooks():
    specs = load_job_specs(ROOT / "pipelines" / "papermill")
    expected = {"day_ahead_load", "solar_forecast", "wind_forecast", "price_forecast"}
    assert expected | {"anomaly_sweep"} <= set(specs)
    for spec in specs.values():
        assert spec.notebook_path().exists()
        assert spec.schedule is not None
        assert spec.outputs
        assert all(o.startswith("gold.") for o in spec.outputs)
    assert any(a.metric == "mape_day_ahead_pct" for a in specs["day_ahead_load"].alerts)


def _write(tmp_path: Path, body: str, name: str = "job") -> Path:
    (tmp_path / "nb.ipynb").write_text("{}")
    path = tmp_path / f"{name}.yaml"
    path.write_text(body)
    return path


BASE = """name: job
description: d
notebook: nb.ipynb
owner: me
parameters:
  issue_date: {type: date, default: today}
  n: {type: int, default: 3, min: 1, max: 10}
  mode: {type: str, default: fast, choices: [fast, slow]}
"""

BAD = {
    "unknown top-level key": (BASE + "shedule: {cron: '0 10 * * *'}\n", "'shedule'", "unknown"),
    "bad cron": (BASE + "schedule: {cron: '0 25 * * *'}\n", "'schedule.cron'", "cron"),
    "bad timezone": (
        BASE + "schedule: {cron: '0 10 * * *', timezone: Mars/Olympus}\n",
        "'schedule.timezone'",
        "timezone",
    ),
    "unknown catchup": (
        BASE + "schedule: {cron: '0 10 * * *', catchup: sometimes}\n",
        "'schedule.catchup'",
        "sometimes",
    ),
    "default out of range": (
        BASE.replace("default: 3, min: 1", "default: 30, min: 1"),
        "'parameters.n'",
        "at most 10",
    ),
    "default not a choice": (
        BASE.replace("default: fast", "default: medium"),
        "'parameters.mode'",
        "one of",
    ),
    "unknown parameter type": (
        BASE + "  x: {type: decimal, default: 1}\n",
        "'parameters.x.type'",
        "decimal",
    ),
    "run_key names an unknown parameter": (
        BASE + "run_key: '{job}:{day}'\n",
        "run_key",
        "day",
    ),
    "bad timeout": (BASE + "timeout: ten minutes\n", "'timeout'", "duration"),
    "alert with both bounds": (
        BASE + "alerts: [{metric: m, above: 1, below: 0}]\n",
        "'alerts.0'",
        "exactly one",
    ),
    "retries as text": (BASE + "retries: {max: two}\n", "'retries.max'", "two"),
    "retries without the transient failures": (
        BASE + "retries: {max: 2}\n",
        "'retries'",
        "retry_on is empty",
    ),
    "retry_on with an unknown kind": (
        BASE + "retries: {max: 2, retry_on: [sometimes]}\n",
        "'retries.retry_on'",
        "sometimes",
    ),
    "run_key with a nested field": (
        BASE + "run_key: '{job}:{issue_date.year}'\n",
        "run_key",
        "{issue_date.year}",
    ),
    "run_key with an index": (BASE + "run_key: '{job}:{mode[0]}'\n", "run_key", "{mode[0]}"),
    "run_key with a nested format": (
        BASE + "run_key: '{job}:{n:{mode}}'\n",
        "run_key",
        "{n:{mode}}",
    ),
    "run_key with a positional field": (BASE + "run_key: '{job}:{}'\n", "run_key", "{}"),
    "missing owner": (BASE.replace("owner: me\n", ""), "'owner'", "missing"),
}


@pytest.mark.parametrize("case", list(BAD), ids=list(BAD))
def test_malformed_spec_names_file_and_key(tmp_path, case):
    body, key, words = BAD[case]
    path = _write(tmp_path, body)
    with pytest.raises(JobSpecError) as info:
        load_job_spec(path)
    text = str(info.value)
    assert str(path) in text
    assert key in text
    assert words in text


def test_name_must_match_the_file(tmp_path):
    path = _write(tmp_path, BASE, name="other")
    with pytest.raises(JobSpecError, match="file's name 'other'"):
        load_job_spec(path)


def test_missing_notebook_is_named(tmp_path):
    path = tmp_path / "job.yaml"
    path.write_text(BASE.replace("nb.ipynb", "gone.ipynb"))
    with pytest.raises(JobSpecError, match=r"gone\.ipynb"):
        load_job_spec(path)


def test_parameters_are_typed_and_checked(tmp_path):
    spec = load_job_spec(_write(tmp_path, BASE))
    values = spec.resolve({"n": "7", "issue_date": "2024-03-10"})
    assert values == {"issue_date": "2024-03-10", "n": 7, "mode": "fast"}
    assert spec.key_for(values) == "job:issue_date=2024-03-10,mode=fast,n=7"
    for bad, match in (
        ({"n": "0"}, "at least 1"),
        ({"n": "2.5"}, "expected a int"),
        ({"mode": "turbo"}, "one of"),
        ({"issue_date": "2024-13-01"}, "expected a date"),
        ({"nope": "1"}, "no parameters \\['nope'\\]"),
    ):
        with pytest.raises(JobSpecError, match=match):
            spec.resolve(bad)


def test_unknown_job_lists_the_known_ones(tmp_path):
    write_probe_job(tmp_path)
    with pytest.raises(JobNotFoundError, match="did you mean 'probe'"):
        get_job_spec("prob", tmp_path)


def test_retries_back_off_exponentially(tmp_path):
    spec = load_job_spec(write_probe_job(tmp_path, retries=3))
    assert [spec.retries.delay_s(i) for i in (1, 2, 3)] == pytest.approx([0.1, 0.2, 0.4])


def test_alert_rules():
    from workbench.jobs.spec import Alert

    above, below = Alert(metric="mape", above=5), Alert(metric="rows", below=1)
    assert above.fired({"mape": 5.5}) == "mape = 5.5 is above 5"
    assert above.fired({"mape": 5.0}) is None
    assert above.fired({"mape": None}) is None  # no actuals yet: nothing to alert on
    assert above.fired({}) is None
    assert below.fired({"rows": 0}) == "rows = 0 is below 1"


def test_dates_are_canonical_before_the_run_key(tmp_path):
    # defect 3: 20241228 and 2024-12-28 are one day, so one run key (not two sets of rows)
    spec = load_job_spec(_write(tmp_path, BASE + "run_key: '{job}:{issue_date}'\n"))
    compact = spec.resolve({"issue_date": "20241228", "n": " 07 "})
    iso = spec.resolve({"issue_date": "2024-12-28", "n": "7"})
    assert compact == iso == {"issue_date": "2024-12-28", "n": 7, "mode": "fast"}
    assert spec.key_for(compact) == spec.key_for(iso) == "job:2024-12-28"
    assert spec.resolve({"issue_date": "auto"})["issue_date"] == "auto"  # resolved by the runner


MODEL_SPEC = BASE + "  model: {type: str, default: lightgbm, choices_from: forecast_models}\n"


@pytest.mark.parametrize("name", ["lightgbn", "sktime:NoSuch", "sktime:", "LightGBM"])
def test_unknown_model_names_are_refused_with_the_valid_ones(tmp_path, name):
    # defect 1: an unknown name never falls back; the error lists the factory's names
    spec = load_job_spec(_write(tmp_path, MODEL_SPEC))
    with pytest.raises(JobSpecError) as info:
        spec.resolve({"model": name})
    text = str(info.value)
    assert "\n" not in text
    assert f"found {name!r}" in text
    assert "'lightgbm'" in text
    assert "'seasonal_baseline'" in text
    assert "'sktime:<ClassName>'" in text


@pytest.mark.parametrize("name", ["lightgbm", "seasonal_baseline", "sktime:ThetaForecaster"])
def test_known_model_names_pass(tmp_path, name):
    spec = load_job_spec(_write(tmp_path, MODEL_SPEC))
    assert spec.resolve({"model": name})["model"] == name


def test_committed_forecast_specs_check_model_names():
    specs = load_job_specs(ROOT / "pipelines" / "papermill")
    for job in ("day_ahead_load", "solar_forecast", "wind_forecast", "price_forecast"):
        assert specs[job].parameters["model"].choices_from == "forecast_models"
        assert set(specs[job].retries.retry_on) <= {"warehouse_locked", "kernel_died", "timeout"}
