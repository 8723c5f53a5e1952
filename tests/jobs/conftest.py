"""Job fixtures: a private writable lakehouse, and small probe notebooks with their specs."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import copy_home

PROBE_SOURCE = """
import os, time
from pathlib import Path
import pandas as pd
from workbench import open_catalog
from workbench.jobs.context import publish, record_degraded, record_metrics

Path(pid_file).write_text(str(os.getpid())) if pid_file else None
time.sleep(sleep_s)
if fail:
    raise RuntimeError("probe failure on purpose")
cat = open_catalog(read_only=True)
issue = pd.Timestamp(issue_date, tz="UTC")
frame = pd.DataFrame({
    "issue_time": issue,
    "timestamp": [issue + pd.Timedelta(hours=h) for h in range(rows)],
    "region_id": "NORTH",
    "model": "probe",
    "quantile": 0.5,
    "load_mw": [1000.0 + h for h in range(rows)],
})
written = publish(cat, {"gold.load_forecasts": frame}, run_key)
if degrade:
    record_degraded(degrade)
record_metrics(mape_day_ahead_pct=metric, rows=rows)
"""


def write_probe_notebook(path: Path) -> Path:
    """A small Jupyter notebook: sleeps, optionally fails, then publishes ``rows`` forecasts."""
    import nbformat

    nb = nbformat.v4.new_notebook()
    params = nbformat.v4.new_code_cell(
        'issue_date = "2024-03-10"\nrows = 3\nfail = False\nsleep_s = 0.0\n'
        'metric = 1.0\npid_file = ""\ndegrade = ""\nrun_key = "probe:manual"'
    )
    params.metadata["tags"] = ["parameters"]
    nb.cells = [nbformat.v4.new_markdown_cell("# probe"), params]
    nb.cells.append(nbformat.v4.new_code_cell(PROBE_SOURCE.strip()))
    nb.metadata["kernelspec"] = {"name": "gridmind", "display_name": "g", "language": "python"}
    nbformat.write(nb, path)
    return path


PROBE_SPEC = """
name: {name}
description: a probe job for tests
notebook: probe.ipynb
owner: platform
parameters:
  issue_date: {{type: date, default: "2024-03-10"}}
  rows: {{type: int, default: 3, min: 1, max: 48}}
  fail: {{type: bool, default: false}}
  sleep_s: {{type: float, default: 0.0, min: 0}}
  metric: {{type: float, default: 1.0}}
  pid_file: {{type: str, default: ""}}
  degrade: {{type: str, default: ""}}
run_key: "{{job}}:{{issue_date}}"
schedule: {{cron: "{cron}", timezone: America/Chicago, catchup: {catchup}, max_catchup: 3}}
timeout: {timeout}
retries: {{max: {retries}, backoff: 0.1s, factor: 2, retry_on: {retry_on}}}
outputs: [gold.load_forecasts]
alerts:
  - {{metric: mape_day_ahead_pct, above: 5}}
"""


def write_probe_job(
    folder: Path,
    name: str = "probe",
    *,
    cron: str = "0 10 * * *",
    catchup: str = "latest",
    timeout: str = "2min",
    retries: int = 0,
    retry_on: str = "[warehouse_locked, kernel_died]",
) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    if not (folder / "probe.ipynb").exists():
        write_probe_notebook(folder / "probe.ipynb")
    spec = folder / f"{name}.yaml"
    spec.write_text(
        PROBE_SPEC.format(
            name=name,
            cron=cron,
            catchup=catchup,
            timeout=timeout,
            retries=retries,
            retry_on=retry_on,
        )
    )
    return spec


@pytest.fixture
def job_home(ci_medallion: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A private writable copy of the ci lakehouse with silver and gold, as WORKBENCH_HOME."""
    home = copy_home(ci_medallion, tmp_path / "home")
    monkeypatch.setenv("WORKBENCH_HOME", str(home))
    monkeypatch.setenv("MPLBACKEND", "Agg")
    return home


@pytest.fixture
def jobs_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A folder of probe job specs, set as WORKBENCH_JOBS_DIR."""
    folder = tmp_path / "jobs"
    write_probe_job(folder)
    monkeypatch.setenv("WORKBENCH_JOBS_DIR", str(folder))
    return folder
