"""List and history commands: names whole in a pipe, no boxes, csv and json, one-line errors."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import CATALOG
from tests.jobs.conftest import write_probe_job

WORKBENCH = str(Path(sys.executable).parent / "workbench")
BOX = set("│┃─━┏┓┗┛┡┩╇╈┼┬┴├┤╭╮╰╯")
LONG = "a_job_with_a_deliberately_long_name_that_does_not_fit_in_a_narrow_column"


def run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    """The CLI in a pipe on an 80-column 'terminal' (what defect 12 was seen with)."""
    return subprocess.run(
        [WORKBENCH, *args],
        capture_output=True,
        text=True,
        env={**os.environ, "COLUMNS": "80", **(env or {})},
        timeout=180,
    )


@pytest.fixture
def long_jobs(tmp_path: Path) -> Path:
    folder = tmp_path / "jobs"
    write_probe_job(folder)
    spec = write_probe_job(folder, name=LONG)
    spec.write_text(spec.read_text().replace("owner: platform", "owner: grid-data-platform-team"))
    return folder


def test_jobs_list_keeps_names_whole_in_a_pipe(long_jobs):
    out = run("jobs", "list", "--jobs-dir", str(long_jobs))
    assert out.returncode == 0, out.stderr
    assert not BOX & set(out.stdout)
    lines = out.stdout.splitlines()
    assert lines[0].split() == ["job", "schedule", "timezone", "notebook", "outputs", "owner"]
    rows = {line.split()[0]: line for line in lines[1:]}
    assert set(rows) == {"probe", LONG}
    assert rows[LONG].split()[-1] == "grid-data-platform-team"
    assert "gold.load_forecasts" in rows[LONG].split()


def test_jobs_list_as_csv_and_json(long_jobs):
    as_csv = run("jobs", "list", "--jobs-dir", str(long_jobs), "--format", "csv")
    assert as_csv.returncode == 0, as_csv.stderr
    rows = list(csv.DictReader(io.StringIO(as_csv.stdout)))
    assert [r["job"] for r in rows] == [LONG, "probe"]
    assert rows[0]["schedule"] == "0 10 * * *"
    as_json = run("jobs", "list", "--jobs-dir", str(long_jobs), "--format", "json")
    assert as_json.returncode == 0, as_json.stderr
    assert json.loads(as_json.stdout)[0]["owner"] == "grid-data-platform-team"


def test_catalog_list_keeps_names_and_descriptions_whole():
    from workbench.catalog import load_catalog_spec

    datasets = load_catalog_spec(CATALOG).datasets
    out = run("catalog", "list")
    assert out.returncode == 0, out.stderr
    assert not BOX & set(out.stdout)
    lines = out.stdout.splitlines()[1:]
    assert len(lines) == len(datasets)  # one line per dataset: nothing wrapped
    assert sorted(line.split()[0] for line in lines) == sorted(d.name for d in datasets)
    by_name = {line.split()[0]: line for line in lines}
    for d in datasets:
        assert by_name[d.name].endswith(" ".join(d.description.split()))
    assert f"{len(datasets)} datasets" in out.stderr
    as_json = json.loads(run("catalog", "list", "--format", "json").stdout)
    assert {r["name"] for r in as_json} == {d.name for d in datasets}


def test_bad_format_is_one_line():
    out = run("catalog", "list", "--format", "xml")
    assert out.returncode == 1
    assert out.stderr.strip().count("\n") == 0
    assert "expected --format one of ['table', 'csv', 'json']; found 'xml'" in out.stderr


def test_history_limit_must_be_positive(tmp_path):
    # defect 9: was a traceback
    out = run("jobs", "history", "--limit", "-5", env={"WORKBENCH_HOME": str(tmp_path)})
    assert out.returncode == 1
    assert "Traceback" not in out.stderr
    assert out.stderr.strip().count("\n") == 0
    assert "expected --limit of 1 or more; found -5" in out.stderr


def test_run_key_with_a_nested_field_is_one_line(long_jobs):
    # defect 9: a nested format field was accepted, then failed with a traceback at run time
    spec = long_jobs / "probe.yaml"
    spec.write_text(spec.read_text().replace('"{job}:{issue_date}"', '"{job}:{rows:{fail}}"'))
    out = run("jobs", "list", "--jobs-dir", str(long_jobs))
    assert out.returncode == 1
    assert "Traceback" not in out.stderr
    assert out.stderr.strip().count("\n") == 0, out.stderr
    assert "{rows:{fail}}" in out.stderr
    assert "plain fields" in out.stderr


@pytest.mark.parametrize("model", ["lightgbn", "sktime:NoSuch"])
def test_unknown_model_fails_before_anything_runs(tmp_path, model):
    # defect 1: it used to publish a seasonal baseline and exit 0
    home = tmp_path / "home"
    home.mkdir()
    out = run(
        "jobs", "run", "day_ahead_load", "-p", f"model={model}", env={"WORKBENCH_HOME": str(home)}
    )
    assert out.returncode == 1
    assert "Traceback" not in out.stderr
    assert out.stderr.strip().count("\n") == 0, out.stderr
    assert f"found {model!r}" in out.stderr
    assert "'lightgbm'" in out.stderr
    assert list(home.iterdir()) == []  # no run folder, no warehouse, no ops row
