"""``workbench sim report``: realism.json, the printed table, ``--check`` and the pictures."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from workbench.sim.realism import METRICS


def _report(home, out, *extra: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "workbench.cli.main", "sim", "report", "--out", str(out), *extra],
        capture_output=True,
        text=True,
        env={**os.environ, "WORKBENCH_HOME": str(home), "COLUMNS": "200"},
        timeout=600,
    )


def test_report_writes_the_realism_table_and_check_fails_on_a_short_profile(ci_lakehouse, tmp_path):
    pytest.importorskip("matplotlib")
    out = tmp_path / "report"
    done = _report(ci_lakehouse, out)
    assert done.returncode == 0, done.stderr
    rows = json.loads((out / "realism.json").read_text())
    assert [row["metric"] for row in rows] == [m.name for m in METRICS]
    for row in rows:
        assert set(row) >= {"metric", "value", "low", "high", "ok"}
        assert row["value"] is not None or row.get("reason"), row
        assert row["metric"] in done.stdout
    failing = [row for row in rows if not row["ok"]]
    # three weeks of March cannot show summer evenings or winter mornings
    assert {"summer_evening_to_night_price_ratio", "winter_morning_peak_ratio"} <= {
        row["metric"] for row in failing
    }
    assert f"{len(rows) - len(failing)} of {len(rows)} realism rows ok" in done.stdout
    for name in ("price_duration.png", "dst_week.png", "satellite_frame.png"):
        assert (out / name).stat().st_size > 10_000, name
    checked = _report(ci_lakehouse, tmp_path / "again", "--check")
    assert checked.returncode == 1
    assert "not ok: summer_evening_to_night_price_ratio" in checked.stdout
