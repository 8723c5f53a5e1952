"""Jobs run for real: papermill in the gridmind kernel on a private copy of the ci lakehouse."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.jobs.conftest import write_probe_job
from workbench.jobs import runs as job_runs
from workbench.jobs.runner import run_job
from workbench.jobs.spec import load_job_spec

pytestmark = pytest.mark.notebook


def _gold_forecasts() -> list[tuple]:
    from workbench import open_catalog

    with open_catalog(read_only=True) as cat:
        wh = cat.warehouse()
        if not wh.exists("gold.load_forecasts"):
            return []
        frame = cat.read("gold.load_forecasts")
    return sorted(zip(frame.run_key, frame.timestamp.astype(str), frame.load_mw, strict=True))


def _cli(*args: str, **kw) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "workbench.cli.main", *args],
        capture_output=True,
        text=True,
        timeout=240,
        env={**os.environ},
        **kw,
    )


def _wait_for(predicate, timeout: float = 60.0, what: str = "condition") -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def test_run_records_publishes_and_replaces_on_rerun(job_home, jobs_dir):
    spec = load_job_spec(jobs_dir / "probe.yaml")
    first = run_job(spec, {"metric": "7.5"})
    assert first.ok, first.last.error
    run = first.last
    executed = Path(run.notebook_path)
    assert executed == job_home / "runs" / "probe" / f"{run.run_id}.ipynb"
    cells = json.loads(executed.read_text())["cells"]
    injected = [c for c in cells if "injected-parameters" in c["metadata"].get("tags", [])]
    assert "run_key = " in "".join(injected[0]["source"])  # run_id and run_key injected
    assert run.rows_written == 3
    assert first.alerts == ["mape_day_ahead_pct = 7.5 is above 5"]
    rows = _gold_forecasts()
    assert [r[0] for r in rows] == ["probe:2024-03-10"] * 3

    recorded = job_runs.history("probe")
    assert list(recorded.status) == ["succeeded"]
    stored = recorded.iloc[0]
    assert stored.run_id == run.run_id
    assert stored.parameters["metric"] == 7.5
    assert stored.parameters["run_key"] == "probe:2024-03-10"
    assert stored.metrics["mape_day_ahead_pct"] == 7.5
    assert stored.metrics["alerts"] == first.alerts
    assert stored.rows_written == 3
    assert stored.duration_s > 0
    assert stored.ended_at > stored.started_at

    # the same parameters again: the run key's rows are replaced, never duplicated
    second = run_job(spec, {"metric": "7.5"})
    assert second.ok, second.last.error
    assert second.last.run_id != run.run_id
    assert _gold_forecasts() == rows
    assert len(job_runs.history("probe")) == 2


def test_failing_run_retries_keeps_notebook_and_leaves_gold_alone(job_home, jobs_dir):
    # RuntimeError declared transient in this spec: retried once, each reason recorded
    write_probe_job(jobs_dir, name="flaky", retries=1, retry_on="[RuntimeError]")
    before = _gold_forecasts()
    done = _cli("jobs", "run", "flaky", "-p", "fail=true")
    assert done.returncode == 1, done.stdout + done.stderr
    assert "probe failure on purpose" in done.stdout + done.stderr
    runs = job_runs.history("flaky")
    assert list(runs.status) == ["failed", "failed"]  # the first attempt and one retry
    assert sorted(m["attempt"] for m in runs.metrics) == [1, 2]
    by_attempt = {m["attempt"]: m for m in runs.metrics}
    assert by_attempt[1]["failure_kind"] == "RuntimeError"
    assert by_attempt[1]["retry_reason"].startswith("retry 1 of 1 in 0.1 s: 'RuntimeError'")
    assert by_attempt[2]["retry_reason"].startswith("not retried: 'RuntimeError' is transient")
    for row in runs.itertuples():
        assert "RuntimeError: probe failure on purpose" in row.error
        executed = json.loads(Path(row.notebook_path).read_text())
        outputs = [o for c in executed["cells"] for o in c.get("outputs", [])]
        errors = [o for o in outputs if o["output_type"] == "error"]
        assert errors[0]["evalue"] == "probe failure on purpose"
        assert row.rows_written == 0
    assert _gold_forecasts() == before


def test_a_failure_not_declared_transient_fails_at_once(job_home, jobs_dir):
    # retries declared for warehouse_locked and kernel_died only: a data error is not retried
    write_probe_job(jobs_dir, name="strict", retries=2)
    result = run_job(load_job_spec(jobs_dir / "strict.yaml"), {"fail": "true"})
    assert [a.status for a in result.attempts] == ["failed"]
    stored = job_runs.history("strict").iloc[0]
    assert stored.metrics["failure_kind"] == "RuntimeError"
    assert stored.metrics["retried"] is False
    assert "not a transient failure in retries.retry_on" in stored.metrics["retry_reason"]


def test_kernel_killed_mid_run_marks_the_run_failed(job_home, jobs_dir, tmp_path):
    spec = load_job_spec(jobs_dir / "probe.yaml")
    pid_file = tmp_path / "kernel.pid"
    killer_done: list[int] = []

    def kill_kernel_when_started() -> None:
        _wait_for(lambda: pid_file.exists() and pid_file.read_text(), what="the kernel")
        pid = int(pid_file.read_text())
        os.kill(pid, signal.SIGKILL)
        killer_done.append(pid)

    import threading

    killer = threading.Thread(target=kill_kernel_when_started)
    killer.start()
    result = run_job(spec, {"sleep_s": "60", "pid_file": str(pid_file)})
    killer.join()
    assert killer_done
    assert not result.ok
    run = result.last
    assert run.duration_s < 55  # it did not wait for the sleep
    stored = job_runs.history("probe").iloc[0]
    assert stored.status == "failed"
    assert stored.error
    assert Path(stored.notebook_path).exists()  # the executed notebook is kept
    assert _gold_forecasts() == []


def test_backfill_three_days(job_home, jobs_dir):
    done = _cli("jobs", "backfill", "probe", "--start", "2024-03-05", "--end", "2024-03-07")
    assert done.returncode == 0, done.stdout + done.stderr
    keys = sorted({r[0] for r in _gold_forecasts()})
    assert keys == ["probe:2024-03-05", "probe:2024-03-06", "probe:2024-03-07"]
    runs = job_runs.history("probe")
    assert list(runs.status) == ["succeeded"] * 3
    assert sorted(p["issue_date"] for p in runs.parameters) == [
        "2024-03-05",
        "2024-03-06",
        "2024-03-07",
    ]
    history = _cli("jobs", "history", "probe")
    assert history.returncode == 0
    assert history.stdout.count("succeeded") == 3
    # again, one day longer and in-process: the three days done are skipped, one day runs
    more = _cli(
        "jobs", "backfill", "probe", "--start", "2024-03-05", "--end", "2024-03-08",
        "--in-process",
    )  # fmt: skip
    assert more.returncode == 0, more.stdout + more.stderr
    assert "probe: 1 day(s) run, 3 skipped (done before), 0 failed" in more.stdout
    assert more.stdout.count("already succeeded") == 3
    assert len(_gold_forecasts()) == 4 * 3  # four run keys, three rows each, none twice
    runs = job_runs.history("probe")
    assert list(runs.status) == ["succeeded"] * 4
    executors = sorted(m["executor"] for m in runs.metrics)
    assert executors == ["in-process", "papermill", "papermill", "papermill"]


def test_scheduler_runs_ticks_and_stops_cleanly_on_sigterm(job_home, tmp_path, monkeypatch):
    folder = tmp_path / "sched-jobs"
    spec_path = write_probe_job(folder, cron="* * * * * *")  # every second
    pid_file = tmp_path / "kernel.pid"
    spec_path.write_text(
        spec_path.read_text().replace(
            'pid_file: {type: str, default: ""}', f'pid_file: {{type: str, default: "{pid_file}"}}'
        )
    )
    monkeypatch.setenv("WORKBENCH_JOBS_DIR", str(folder))
    # first a real scheduled run to completion, then one long run stopped by SIGTERM
    done = _cli("jobs", "scheduler", "--max-runs", "1")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "stopped after 1 run" in done.stdout
    assert list(job_runs.history("probe").status) == ["succeeded"]
    gold_after_first = _gold_forecasts()
    assert len(gold_after_first) == 3

    spec_path.write_text(spec_path.read_text().replace("default: 0.0, min: 0", "default: 60.0"))
    pid_file.unlink()
    proc = subprocess.Popen(
        [sys.executable, "-m", "workbench.cli.main", "jobs", "scheduler"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ},
    )
    try:
        _wait_for(lambda: pid_file.exists() and pid_file.read_text(), what="a scheduled run")
        # a second scheduler is refused while this one runs
        other = _cli("jobs", "scheduler", "--max-runs", "1")
        assert other.returncode == 1
        assert "only scheduler" in other.stderr
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, out + err
    assert "received SIGTERM" in err
    runs = job_runs.history("probe")
    assert list(runs.status) == ["failed", "succeeded"]
    assert "cancelled" in runs.iloc[0].error
    assert Path(runs.iloc[0].notebook_path).exists()
    kernel = int(pid_file.read_text())
    _wait_for(lambda: not Path(f"/proc/{kernel}").exists(), 10, "the kernel to stop")
    assert _gold_forecasts() == gold_after_first


MARIMO = """import marimo

app = marimo.App()


@app.cell
def _():
    import marimo as mo
    from workbench.jobs.context import record_metrics

    args = mo.cli_args()
    if args.get("fail"):
        raise RuntimeError("marimo probe failure")
    record_metrics(rows_seen=int(args.get("rows")), key=str(args.get("run_key")))
    return


if __name__ == "__main__":
    app.run()
"""


def test_marimo_notebook_runs_with_the_same_parameters(job_home, tmp_path):
    (tmp_path / "m.py").write_text(MARIMO)
    (tmp_path / "mprobe.yaml").write_text(
        "name: mprobe\ndescription: marimo probe\nnotebook: m.py\nowner: platform\n"
        "parameters:\n  rows: {type: int, default: 4}\n  fail: {type: bool, default: false}\n"
    )
    spec = load_job_spec(tmp_path / "mprobe.yaml")
    result = run_job(spec, {"rows": "7"})
    assert result.ok, result.last.error
    assert result.last.metrics["rows_seen"] == 7
    assert result.last.metrics["key"] == "mprobe:fail=False,rows=7"
    assert Path(result.last.notebook_path).suffix == ".ipynb"
    failed = run_job(spec, {"fail": "true"})
    assert not failed.ok
    assert "marimo probe failure" in failed.last.error


def test_one_day_written_two_ways_is_one_run_key(job_home, jobs_dir):
    # defect 3: issue_date=20240310 after 2024-03-10 gave a second key and twice the rows
    spec = load_job_spec(jobs_dir / "probe.yaml")
    first = run_job(spec, {"issue_date": "2024-03-10"})
    second = run_job(spec, {"issue_date": "20240310"})
    assert first.ok, first.last.error
    assert second.ok, second.last.error
    assert second.last.parameters["run_key"] == first.last.parameters["run_key"]
    assert second.last.parameters["issue_date"] == "2024-03-10"
    assert [r[0] for r in _gold_forecasts()] == ["probe:2024-03-10"] * 3  # replaced, not added


def test_a_declared_fallback_is_recorded_degraded_never_succeeded(job_home, jobs_dir):
    spec = load_job_spec(jobs_dir / "probe.yaml")
    result = run_job(spec, {"degrade": "model x unavailable; used the declared fallback"})
    assert result.ok  # its outputs were published...
    stored = job_runs.history("probe").iloc[0]
    assert stored.status == "degraded"  # ...and the record says how
    assert stored.error == "degraded: model x unavailable; used the declared fallback"
    assert stored.rows_written == 3
