"""The reserves tile on hand-made warehouse rows: its number, colour state and fallbacks."""

from __future__ import annotations

import pandas as pd
import pytest

from workbench.apps import data as d
from workbench.apps import tiles

TIMES = pd.date_range("2024-08-01 23:00", periods=3, freq="5min", tz="UTC")


@pytest.mark.parametrize(
    ("mw", "state"),
    [
        (20_000.0, "normal"),
        (tiles.RESERVE_LEVELS_MW["watch"], "normal"),  # at a level: not below it
        (tiles.RESERVE_LEVELS_MW["watch"] - 1, "watch"),
        (tiles.RESERVE_LEVELS_MW["eea1"] - 1, "eea1"),
        (tiles.RESERVE_LEVELS_MW["eea2"] - 1, "eea2"),
        (tiles.RESERVE_LEVELS_MW["eea3"] - 1, "eea3"),
        (-500.0, "eea3"),
    ],
)
def test_reserve_state_is_the_lowest_level_crossed(mw, state):
    assert tiles.reserve_state(mw) == state


def test_levels_are_ercot_s_scaled_to_the_grid():
    assert tiles.RESERVE_LEVELS_MW == {
        "watch": 2680.0, "eea1": 2240.0, "eea2": 1790.0, "eea3": 1340.0
    }  # fmt: skip
    assert list(tiles.RESERVE_LEVELS_MW.values()) == sorted(tiles.RESERVE_LEVELS_MW.values())[::-1]


def test_reserves_tile_shows_the_latest_interval_with_its_state(catalog):
    rows = pd.DataFrame(
        {
            "timestamp": TIMES,
            "demand_mw": [70_000.0, 71_000.0, 72_000.0],
            "reserve_mw": [9_000.0, 6_000.0, 3_000.0],
            "responsive_reserve_mw": [8_000.0, 5_000.0, 2_500.0],
        }
    )
    catalog.write("silver.system_reserves", rows)
    catalog.close()
    with d.reader() as r:
        tile = tiles.reserves(r)
    assert (tile.value, tile.as_of, tile.state) == (2_500.0, TIMES[-1], "watch")
    assert tile.detail == "responsive, 3.5% of demand; watch: conservation appeal"
    rows.loc[2, "responsive_reserve_mw"] = 9_000.0
    catalog.write("silver.system_reserves", rows, mode="replace")
    catalog.close()
    with d.reader() as r:
        calm = tiles.reserves(r)
    assert (calm.value, calm.state) == (9_000.0, "normal")
    assert calm.detail == "responsive, 12.5% of demand; normal (watch below 2,680 MW)"
    html = tiles.tiles_html([tile])
    assert 'class="wb-tile wb-tile-watch" data-key="reserves" data-value="2500.0"' in html
    assert 'data-state="watch"' in html
    assert "2,500 MW" in html


def test_reserves_tile_without_a_table_says_what_fills_it(catalog):
    catalog.write("silver.system_load", pd.DataFrame(
        {"timestamp": TIMES, "region_id": "COAST", "load_mw": 1.0}
    ))  # fmt: skip
    catalog.close()
    with d.reader() as r:
        tile = tiles.reserves(r)
        shown = tiles.headline(r)
    assert (tile.value, tile.state) == (None, None)
    assert tile.detail == "no reserves yet: `workbench demo build`, `workbench build`"
    assert [t.key for t in shown] == ["load", "peak", "price", "reserves", "frequency"]
