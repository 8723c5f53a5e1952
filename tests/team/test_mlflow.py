"""MLflow on the team's PostgreSQL (a database of its own), artifacts on a shared folder.

Several writer processes register versions of one model at once; every version lands once, with
its artifact under the shared root, and loads back in another process (this one).
"""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

from tests.conftest import ROOT

pytestmark = [pytest.mark.team, pytest.mark.postgres, pytest.mark.slow]

WRITER = textwrap.dedent(
    """
    import sys
    from workbench.forecasting.registry import ModelRegistry
    from workbench.forecasting.tracking import log_backtest
    who = sys.argv[1]
    reg = ModelRegistry()
    for i in range(2):
        version = reg.register("team_shared", {"writer": who, "i": i}, metrics={"mape": 1.0 + i})
        print(who, i, version, flush=True)
    """
)


def test_several_writers_share_one_postgres_store(team, as_role):
    from workbench.forecasting.registry import ModelRegistry

    as_role("writer")
    # the store's tables are created once (MLflow's migrations), as docs/deploy.md says
    assert ModelRegistry().list_models() is not None
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", WRITER, f"w{i}"],
            env=team.env(),
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for i in range(3)
    ]
    outputs = [p.communicate(timeout=300) for p in procs]
    for proc, (_, err) in zip(procs, outputs, strict=True):
        assert proc.returncode == 0, err[-3000:]
    printed = [line.split() for out, _ in outputs for line in out.splitlines()]
    versions = sorted(int(v) for _, _, v in printed)
    assert versions == [1, 2, 3, 4, 5, 6]  # each registration got its own version, none lost

    reg = ModelRegistry()
    assert reg.root.startswith("postgresql://workbench_writer@")
    history = reg.history("team_shared")
    assert [v.version for v in history] == versions
    seen = set()
    for who, i, version in printed:
        model, info = reg.load_version("team_shared", version=int(version))
        assert model == {"writer": who, "i": int(i)}
        assert info.uri.startswith(team.artifacts.as_uri()) or str(team.artifacts) in info.uri
        seen.add((who, int(i)))
    assert len(seen) == 6
    assert any(team.artifacts.rglob("*")), "no artifact under the shared root"


def test_database_store_without_a_shared_artifact_root_is_refused(team, monkeypatch):
    from workbench.forecasting.tracking import TrackingError, store_for

    monkeypatch.setenv("MLFLOW_TRACKING_URI", team.mlflow)
    monkeypatch.delenv("WORKBENCH_MLFLOW_ARTIFACTS", raising=False)
    with pytest.raises(TrackingError, match="expected WORKBENCH_MLFLOW_ARTIFACTS"):
        store_for(None)
    monkeypatch.setenv("WORKBENCH_MLFLOW_ARTIFACTS", str(team.artifacts))
    assert store_for(None) == (team.mlflow, team.artifacts.resolve().as_uri())
