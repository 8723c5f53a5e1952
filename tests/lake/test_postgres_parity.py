"""The same transform code on PostgreSQL: the ci medallion built there agrees with DuckDB's."""

from __future__ import annotations

import numpy as np
import pytest

from tests.lake.test_build import _copy_lakehouse

pytestmark = [pytest.mark.postgres, pytest.mark.slow]


def _aggregates(cat, name: str) -> dict[str, float]:
    t = cat.scan(name)
    numeric = [c for c, dtype in t.schema().items() if dtype.is_numeric()]
    row = (
        t.aggregate(rows=t.count(), **{f"sum_{c}": t[c].sum() for c in numeric}).to_pandas().iloc[0]
    )
    return {k: float(v) for k, v in row.items()}


def test_postgres_gold_equals_duckdb_gold(
    ci_lakehouse, ci_medallion, postgres_server, tmp_path, monkeypatch
):
    from workbench import open_catalog
    from workbench.lake.build import build_medallion

    # DuckDB's side: the session's ci medallion (one build_medallion of a copy of the ci
    # lakehouse), read only; PostgreSQL's side builds from the same bronze in its own home
    monkeypatch.setenv("WORKBENCH_HOME", str(ci_medallion))
    duck = open_catalog(read_only=True)
    assert duck.warehouse().backend_name == "duckdb"
    home = _copy_lakehouse(ci_lakehouse, tmp_path / "home")
    monkeypatch.setenv("WORKBENCH_HOME", str(home))

    monkeypatch.setenv("WORKBENCH_WAREHOUSE", postgres_server.url)
    pg = open_catalog()
    assert pg.warehouse().backend_name == "postgres"
    for name in duck.list(layer="bronze"):
        if duck.entry(name).kind == "table":
            pg.write(name, duck.scan(name).to_pandas(), mode="replace")
    result = build_medallion(pg)
    assert all(r.status == "built" for r in result.tables)

    compared = 0
    for name in duck.list(layer="gold"):
        if not duck.warehouse().exists(duck.entry(name).location):
            continue
        d, p = _aggregates(duck, name), _aggregates(pg, name)
        assert d["rows"] > 0, name
        assert d.keys() == p.keys(), name
        for key in d:
            assert np.isclose(d[key], p[key], rtol=1e-9, equal_nan=True), (
                name,
                key,
                d[key],
                p[key],
            )
        compared += 1
    assert compared == 9  # the five platform tables, mix, carbon, reliability, reserves
    built = {r.table_name for r in result.tables}
    for name in duck.list(layer="silver"):
        # Parquet datasets are the same files on both; tables outside the medallion (satellite
        # features) are built by their own step
        if duck.entry(name).kind == "table" and name in built:
            assert duck.warehouse().exists(duck.entry(name).location), name
            assert _aggregates(duck, name)["rows"] == _aggregates(pg, name)["rows"], name
    duck.close()
    pg.close()
