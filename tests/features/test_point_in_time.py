"""Feature views retrieved point-in-time correct: nothing known after the as-of time leaks in."""

from __future__ import annotations

import pandas as pd
import pytest

from tests.conftest import copy_home


@pytest.fixture(scope="module")
def built_home(ci_medallion, tmp_path_factory):
    """A copy of the ci lakehouse with silver and gold built (shared by this module's tests):
    the session's ci medallion, its warehouse copied (lake files linked, only read here)."""
    return copy_home(ci_medallion, tmp_path_factory.mktemp("features") / "home")


@pytest.fixture
def cat(built_home, monkeypatch):
    from workbench import open_catalog

    monkeypatch.setenv("WORKBENCH_HOME", str(built_home))
    catalog = open_catalog()
    yield catalog
    catalog.close()


def test_a_value_available_after_as_of_is_not_returned(cat):
    from workbench.features.store import get_historical_features

    just_before = pd.Timestamp("2024-03-15T12:04:59", tz="UTC")  # 11:00-12:00 lands at 12:05
    just_after = pd.Timestamp("2024-03-15T12:05:00", tz="UTC")
    entities = pd.DataFrame({"region_id": ["NORTH", "NORTH"], "as_of": [just_before, just_after]})
    got = get_historical_features(cat, entities, "load_features")
    assert got["event_time"].tolist() == [
        pd.Timestamp("2024-03-15T10:00", tz="UTC"),
        pd.Timestamp("2024-03-15T11:00", tz="UTC"),
    ]
    assert (got["available_at"] <= got["as_of"]).all()
    assert got["load_mw"].iloc[0] != got["load_mw"].iloc[1]


def test_features_are_the_silver_values_they_claim(cat):
    from workbench.features.store import get_historical_features

    as_of = pd.Timestamp("2024-03-15T12:05:00", tz="UTC")
    got = get_historical_features(
        cat, pd.DataFrame({"region_id": ["COAST"], "as_of": [as_of]}), "load_features"
    )
    load = cat.read(
        "silver.system_load",
        start="2024-03-14T11:00",
        end="2024-03-15T12:00",
        where={"region_id": "COAST"},
    ).set_index("timestamp")["load_mw"]
    hourly = load.resample("1h").mean()
    assert got["load_mw"].iloc[0] == pytest.approx(
        hourly[pd.Timestamp("2024-03-15T11:00", tz="UTC")]
    )
    assert got["load_1h_ago_mw"].iloc[0] == pytest.approx(
        hourly[pd.Timestamp("2024-03-15T10:00", tz="UTC")]
    )
    assert got["load_24h_ago_mw"].iloc[0] == pytest.approx(
        hourly[pd.Timestamp("2024-03-14T11:00", tz="UTC")]
    )
    assert got["load_rolling_24h_mean_mw"].iloc[0] == pytest.approx(hourly.iloc[-24:].mean())
    assert 0 < got["temperature_f"].iloc[0] < 110


def test_values_older_than_the_ttl_are_not_served(cat):
    from workbench.features.store import get_historical_features

    late = pd.Timestamp("2024-04-10", tz="UTC")  # weeks after the data ends
    got = get_historical_features(
        cat, pd.DataFrame({"region_id": ["NORTH"], "as_of": [late]}), "load_features"
    )
    assert got["event_time"].iloc[0] == pd.Timestamp("2024-03-21T23:00", tz="UTC")  # the last row…
    assert pd.isna(got["load_mw"].iloc[0])  # …is stale


def test_generation_features_and_latest_values(cat):
    from workbench.features.store import get_historical_features, get_latest_features

    latest = get_latest_features(cat, "generation_features", as_of="2024-03-10T18:30Z")
    assert len(latest) == int(cat.scan("gold.dim_assets").count().execute())
    assert (latest["event_time"] == pd.Timestamp("2024-03-10T17:00", tz="UTC")).all()
    solar = latest[latest.asset_id.str.startswith("SOLAR")]
    assert solar["ghi_w_per_m2"].notna().all()
    assert (solar["capacity_factor"].between(0, 1)).all()
    with pytest.raises(Exception, match="region_id"):
        get_historical_features(
            cat, pd.DataFrame({"as_of": [pd.Timestamp.now(tz="UTC")]}), "load_features"
        )


def test_computed_columns_are_the_declared_features(cat):
    from workbench.features.store import view_table

    for fv in cat.spec.feature_views:
        columns = view_table(cat, fv.name).columns
        assert columns[:3] == (fv.entity, "event_time", "available_at")
        assert list(columns[3:]) == list(fv.features), fv.name
