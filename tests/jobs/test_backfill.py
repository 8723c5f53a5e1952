"""Backfills: idempotent by run key, resumable after a failed day, and the in-process executor."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest

from workbench.jobs import runs as job_runs
from workbench.jobs.backfill import backfill, day_range
from workbench.jobs.runner import run_job
from workbench.jobs.spec import JobSpecError, load_job_spec

pytestmark = pytest.mark.notebook


def _keys_and_rows() -> dict[str, int]:
    from workbench import open_catalog

    with open_catalog(read_only=True) as cat:
        frame = cat.read("gold.load_forecasts")
    return frame.groupby("run_key").size().to_dict()


def test_backfill_skips_what_succeeded_resumes_after_a_failure_and_reruns_on_request(
    job_home, jobs_dir
):
    spec = load_job_spec(jobs_dir / "probe.yaml")
    days = day_range(date(2024, 3, 5), date(2024, 3, 6))
    # the second day fails (a notebook error): the first is in gold, the second is not
    first = backfill(spec, days[:1], in_process=True)
    failed = backfill(spec, days[1:], {"fail": True}, in_process=True)
    assert first.ok
    assert [d.action for d in first.days] == ["ran"]
    assert not failed.ok
    assert [d.day for d in failed.failed] == [date(2024, 3, 6)]
    assert failed.failed[0].result.last.error.startswith(
        "RuntimeError: probe failure on purpose (cell"
    )
    assert _keys_and_rows() == {"probe:2024-03-05": 3}

    # started again over the whole range: only the failed day runs
    resumed = backfill(spec, days, {"rows": 5, "metric": 7.5}, in_process=True)
    assert [d.action for d in resumed.days] == ["skipped", "ran"]
    assert resumed.ok
    assert _keys_and_rows() == {"probe:2024-03-05": 3, "probe:2024-03-06": 5}
    # recorded like a papermill run: publish claimed it, alerts evaluated, notebook kept
    run = job_runs.history("probe").iloc[0]
    assert run.status == "succeeded"
    assert run.metrics["executor"] == "in-process"
    assert run.metrics["rows_by_table"] == {"gold.load_forecasts": 5}
    assert run.metrics["published_at"]
    assert resumed.days[1].result.alerts == ["mape_day_ahead_pct = 7.5 is above 5"]
    saved = json.loads(Path(run.notebook_path).read_text())
    injected = [c for c in saved["cells"] if "injected-parameters" in c["metadata"].get("tags", [])]
    assert 'issue_date = "2024-03-06"' in "".join(injected[0]["source"])

    # twice: nothing runs, nothing changes
    again = backfill(spec, days, in_process=True)
    assert [d.action for d in again.days] == ["skipped"] * 2
    assert len(job_runs.history("probe")) == 3  # 2 succeeded + 1 failed, no new rows

    # rerun replaces a day's rows under its key instead of adding to them
    redo = backfill(spec, days[:1], {"rows": 2}, rerun=True, in_process=True)
    assert [d.action for d in redo.days] == ["ran"]
    assert _keys_and_rows() == {"probe:2024-03-05": 2, "probe:2024-03-06": 5}


def test_in_process_refuses_a_marimo_notebook(job_home, tmp_path):
    folder = tmp_path / "m"
    folder.mkdir()
    (folder / "m.py").write_text("import marimo\napp = marimo.App()\n")
    (folder / "mprobe.yaml").write_text(
        "name: mprobe\ndescription: marimo\nnotebook: m.py\nowner: platform\n"
        "parameters:\n  issue_date: {type: date, default: '2024-03-10'}\n"
    )
    spec = load_job_spec(folder / "mprobe.yaml")
    with pytest.raises(JobSpecError, match="expected a Jupyter notebook to run in-process"):
        run_job(spec, in_process=True)
    assert job_runs.history("mprobe").empty  # refused before anything was recorded or run


def test_day_range_refuses_a_reversed_range():
    with pytest.raises(JobSpecError, match="expected --end on or after --start"):
        day_range(date(2024, 3, 7), date(2024, 3, 5))
