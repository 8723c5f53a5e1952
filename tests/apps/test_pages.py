"""The page queries on a copy of the ci lakehouse with job rows, and their pure helpers."""

from __future__ import annotations

import pandas as pd
import pytest

from workbench.apps import data as d
from workbench.apps.pages import generation, load, market, operations, reliability


@pytest.fixture
def r(dash_home, monkeypatch):
    monkeypatch.setenv("WORKBENCH_HOME", str(dash_home))
    with d.reader() as reader:
        yield reader


def test_load_query_filters_regions_horizons_and_dates(r):
    full = load.query(r, d.Filters())
    assert set(full.frames["actual"]["region_id"]) == {"COAST", "HOUSTON", "NORTH", "SOUTH", "WEST"}
    assert "30min resolution" in full.summary  # 21 days of 5-min load
    assert full.frames["error_by_horizon"]["horizon_h"].tolist() == list(range(14, 62))
    assert len(full.frames["error_by_hour"]) == 24
    band = full.frames["forecast"]
    assert (band["q_low_mw"] < band["q50_mw"]).all()
    assert (band["q50_mw"] < band["q_high_mw"]).all()

    f = d.Filters(regions=("COAST",), horizon_h=(14, 24), start="2024-03-08", end="2024-03-15")
    part = load.query(r, f)
    assert set(part.frames["actual"]["region_id"]) == {"COAST"}
    assert part.frames["actual"]["timestamp"].min() == pd.Timestamp("2024-03-08", tz="UTC")
    assert part.frames["actual"]["timestamp"].max() < pd.Timestamp("2024-03-15", tz="UTC")
    assert part.frames["error_by_horizon"]["horizon_h"].tolist() == list(range(14, 25))
    assert part.frames["latest_run"]["region_id"].tolist() == ["COAST"]
    # the latest run issued before the window's end
    assert part.frames["latest_run"]["issue_time"].iloc[0] == pd.Timestamp(
        "2024-03-14 15:00", tz="UTC"
    )


def test_actual_load_means_match_the_raw_rows(r):
    f = d.Filters(regions=("WEST",), start="2024-03-05", end="2024-03-06")
    out = load.actual_series(r, f, pd.Timedelta(hours=1).to_pytimedelta())
    raw = r.require("silver.system_load")
    raw = raw.filter(raw.region_id == "WEST").to_pandas()
    raw = raw[(raw.timestamp >= f.start) & (raw.timestamp < f.end)]
    expected = raw.set_index("timestamp")["load_mw"].resample("1h").mean()
    assert len(out) == 24
    assert out["load_mw"].to_numpy() == pytest.approx(expected.to_numpy())
    assert (out["min_mw"] <= out["load_mw"]).all()
    assert (out["load_mw"] <= out["max_mw"]).all()


def test_hourly_errors_use_local_hours_across_dst():
    # 2024-03-10: Chicago springs forward; 08:00 and 09:00 UTC are 02:00 CST -> 03:00/04:00 CDT
    per_hour = pd.DataFrame(
        {
            "region_id": "R",
            "timestamp": pd.to_datetime(["2024-03-09 08:00", "2024-03-10 08:00"], utc=True),
            "error_mw": [10.0, -20.0],
            "actual_mw": [100.0, 100.0],
        }
    )
    out = load.hourly_errors(per_hour, {"R": "America/Chicago"}).set_index("local_hour")
    assert out.index.tolist() == [2, 3]
    assert out.loc[3, "mape_pct"] == pytest.approx(20.0)
    assert out.loc[2, "bias_mw"] == 10.0


def test_run_accuracy_counts_band_coverage():
    ts = pd.to_datetime(["2024-01-01 00:00", "2024-01-01 01:00"], utc=True)
    rows = pd.DataFrame(
        {
            "run_key": "k", "issue_time": ts[0] - pd.Timedelta(hours=14), "model": "m",
            "region_id": "R", "timestamp": list(ts) * 3,
            "quantile": [0.1, 0.1, 0.5, 0.5, 0.9, 0.9],
            "load_mw": [90.0, 90.0, 100.0, 100.0, 110.0, 110.0],
        }
    )  # fmt: skip
    actual = pd.DataFrame({"region_id": "R", "timestamp": ts, "actual_load_mw": [105.0, 120.0]})
    out = load.run_accuracy(rows, actual).iloc[0]
    assert out["targets"] == 2
    assert out["hours_with_actuals"] == 2
    assert out["mae_mw"] == pytest.approx(12.5)
    assert out["band_coverage_pct"] == pytest.approx(50.0)


def test_generation_query_and_renewable_share(r):
    full = generation.query(r, d.Filters())
    assert full.frames["mix"]["technology"].nunique() == 8
    share = full.frames["renewable_share"]["renewable_share_pct"]
    assert share.between(0, 100).all()
    assert share.max() > 0
    f = d.Filters(technologies=("solar", "wind"), regions=("WEST",))
    part = generation.query(r, f)
    assert set(part.frames["mix"]["technology"]) == {"solar", "wind"}
    assert part.frames["capacity_factors"]["technology"].tolist() == ["solar", "wind"]
    assert set(part.frames["carbon"]["region_id"]) == {"WEST"}
    # the share is of all generation, whatever technologies are shown
    assert part.frames["renewable_share"]["renewable_share_pct"].notna().all()

    long = pd.DataFrame(
        {"timestamp": 1, "technology": ["solar", "coal", "battery"], "generation_mw": [30, 70, -5]}
    )
    assert generation.renewable_share(long)["renewable_share_pct"].tolist() == [30.0]


def test_market_query_maps_regions_to_nodes_and_components(r):
    full = market.query(r, d.Filters())
    assert set(full.frames["heatmap"]["node"]) == {f"BUS_{x}" for x in load_regions()}
    west = market.query(r, d.Filters(regions=("WEST",), market="DA", component="congestion"))
    assert set(west.frames["heatmap"]["node"]) == {"BUS_WEST"}
    comp = west.frames["components"].iloc[0]
    assert comp["lmp_price"] == pytest.approx(
        comp["energy_component"] + comp["congestion"] + comp["losses"], abs=0.05
    )
    stats = west.frames["spread_stats"].iloc[0]
    assert stats["node"] == "BUS_WEST"
    assert stats["max_abs_spread"] >= abs(stats["mean_spread"])
    with pytest.raises(d.NoDataError, match="expected a price column"):
        market.query(r, d.Filters(component="price; drop table"))


def load_regions() -> list[str]:
    return ["COAST", "HOUSTON", "NORTH", "SOUTH", "WEST"]


def test_reliability_and_operations_queries(r):
    rel = reliability.query(r, d.Filters(start="2024-03-06", end="2024-03-12"))
    starts = rel.frames["events"]["start"]
    assert len(starts) == 3
    assert starts.between("2024-03-06", "2024-03-12").all()
    assert rel.frames["events_per_day"]["events"].sum() == 3
    assert len(rel.frames["daily"]) == 6
    assert len(rel.frames["dq"]) > 0

    ops = operations.query(r, d.Filters())
    assert len(ops.frames["runs"]) == 6
    assert ops.frames["failures"]["status"].eq("failed").sum() == 2
    fresh = ops.frames["freshness"].set_index("table")
    assert fresh.loc["gold.fact_load", "status"] == "ok"
    assert fresh.loc["gold.price_forecasts", "status"] == "missing"
    links = operations.failure_links(ops.frames["failures"])
    assert links["notebook"].str.contains('href="./runs/load_day_ahead-').all()


def test_failure_links_escape_what_jobs_wrote():
    runs = pd.DataFrame(
        {"run_id": ["r<1>"], "job": ["j"], "status": ["failed"],
         "started_at": [pd.Timestamp("2024-03-05 15:00", tz="UTC")],
         "error": ["<script>alert(1)</script>"]}
    )  # fmt: skip
    out = operations.failure_links(runs, "America/Chicago").iloc[0]
    assert out["started_at"] == "2024-03-05 09:00 CST"
    assert "<script>" not in out["error"]
    assert "&lt;script&gt;" in out["error"]
    assert 'href="./runs/r&lt;1&gt;/notebook"' in out["notebook"]


def test_staleness_marks_tables_behind_the_newest_gold_row():
    frame = pd.DataFrame(
        {
            "table": ["a", "b", "c"],
            "status": ["ok", "ok", "missing"],
            "rows": [10, 10, 0],
            "latest": pd.to_datetime(["2024-03-21", "2024-03-18", None], utc=True),
            "last_build": pd.NaT,
        }
    )
    out = operations.staleness(frame).set_index("table")
    assert out["status"].to_dict() == {"a": "ok", "b": "stale", "c": "missing"}
    assert out.loc["b", "lag_h"] == 72.0


def test_every_page_draws_its_sections(r):
    for page in (load, generation, market, reliability, operations):
        data = page.query(r, d.Filters())
        sections = page.sections(data)
        assert sections
        assert all(s.key and isinstance(s.frame, pd.DataFrame) for s in sections)
        assert any(s.figure is not None for s in sections), page.__name__


def test_components_stack_around_zero_with_their_sign():
    from workbench.apps import charts

    frame = pd.DataFrame(
        {
            "node": ["A", "B"],
            "energy_component": [30.0, 28.0],
            "congestion": [-6.85, 2.0],
            "losses": [0.5, -0.25],
            "lmp_price": [23.65, 29.75],
        }
    )
    fig = charts.diverging_stack(
        "c", "t", frame, x="node", columns=["energy_component", "congestion", "losses"],
        total="lmp_price", y_label="$/MWh",
    )  # fmt: skip
    sources = {r.data_source.name: r.data_source.data for r in fig.renderers}
    congestion = sources["c:congestion"]
    spans = list(zip(congestion["bottom"], congestion["top"], strict=True))
    # A's congestion is a discount: drawn from 0 down to -6.85, not stacked on the energy
    assert spans[0] == pytest.approx((-6.85, 0.0))
    # B's congestion is a premium on top of the energy; B's losses below zero
    assert spans[1] == (28.0, 30.0)
    losses = sources["c:losses"]
    assert list(zip(losses["bottom"], losses["top"], strict=True)) == [(30.0, 30.5), (-0.25, 0.0)]


def test_quick_ranges_end_at_the_data_and_stay_inside_it():
    b = (pd.Timestamp("2024-03-01", tz="UTC"), pd.Timestamp("2024-03-21 23:55", tz="UTC"))
    step = pd.Timedelta(minutes=5).to_pytimedelta()
    assert d.quick_window("24 h", b, step) == (
        pd.Timestamp("2024-03-21", tz="UTC"), pd.Timestamp("2024-03-22", tz="UTC")
    )  # fmt: skip
    assert d.quick_window("1 y", b, step)[0] == b[0]  # not before the first row
    assert d.quick_window("all", b, step) == (b[0], pd.Timestamp("2024-03-22", tz="UTC"))
    with pytest.raises(d.WorkbenchError, match="expected a range in"):
        d.quick_window("2 w", b, step)


def test_merit_order_and_fuel_colours():
    from workbench.apps import charts

    order = charts.merit_order(["gas_ct", "coal", "battery", "wind", "solar", "nuclear", "x"])
    assert order == ["solar", "wind", "nuclear", "coal", "gas_ct", "battery", "x"]
    assert charts.FUEL_COLOURS["solar"] != charts.FUEL_COLOURS["wind"]


def test_freshness_in_words_has_no_nat_or_nan():
    fresh = operations.staleness(
        pd.DataFrame(
            {
                "table": ["gold.a", "gold.b", "gold.c"],
                "status": ["ok", "ok", "missing"],
                "rows": [10, 5, 0],
                "latest": [
                    pd.Timestamp("2024-03-21", tz="UTC"),
                    pd.Timestamp("2024-03-19", tz="UTC"),
                    pd.NaT,
                ],
                "last_build": [pd.Timestamp("2024-03-22", tz="UTC"), pd.NaT, pd.NaT],
            }
        )
    )
    text = operations.freshness_text(fresh, "America/Chicago")
    cells = " ".join(text.astype(str).to_numpy().ravel())
    assert "NaT" not in cells
    assert "nan" not in cells.lower()
    assert text["lag"].tolist() == ["newest", "48.0 h behind", "no rows"]
    dim = operations.staleness(
        pd.DataFrame({"table": ["gold.dim_x"], "status": ["ok"], "rows": [5], "latest": [pd.NaT],
                      "last_build": [pd.NaT]})
    )  # fmt: skip
    assert operations.freshness_text(dim, "UTC")["lag"].tolist() == ["— (no time column)"]
    assert text["latest row"].tolist()[0] == "2024-03-20 19:00 CDT"
    assert text["last build"].tolist()[1:] == ["not in ops.build_runs"] * 2


def test_after_the_warm_up_a_session_on_unchanged_data_opens_no_connection(
    dash_home, tmp_path, monkeypatch
):
    from tests.conftest import copy_home
    from workbench import open_catalog
    from workbench.apps import shell
    from workbench.io.warehouse import Warehouse

    home = copy_home(dash_home, tmp_path / "home")  # this test writes
    monkeypatch.setenv("WORKBENCH_HOME", str(home))
    monkeypatch.setenv(shell.REFRESH_ENV, "0")
    assert set(shell.warm()) == set(shell.PAGES)
    connects, connect = [], Warehouse._connect

    def counted(self):
        connects.append(self.url)
        return connect(self)

    monkeypatch.setattr(Warehouse, "_connect", counted)
    page = shell.PageShell("load", load)  # what `workbench serve` builds for a new session
    assert connects == []  # options, bounds, signature, page data and tiles all cached
    assert "points of actual load" in page.summary.object
    assert 'data-key="load" data-value="' in page.tiles.object
    assert not any("wb-message" in o.css_classes for o in page.body.objects)
    with open_catalog() as cat:  # a job writes: the next session asks the warehouse again
        runs = cat.read("ops.job_runs")
        cat.write("ops.job_runs", runs.tail(1).assign(run_id="warm-test"), mode="append")
    connects.clear()
    after = shell.PageShell("load", load)
    assert connects
    assert any(row[0] == "ops.job_runs" and row[1] == len(runs) + 1 for row in after.signature)


def test_the_forecast_band_is_drawn_at_hourly_resolution_or_finer(r):
    """A year at 12-h points draws the forecast's median without its 10-90 % band (a mean of
    quantiles over hours, on top of the actual load's min-max band); a week draws both."""
    from datetime import timedelta

    from bokeh.models import VArea

    data = load.query(r, d.Filters())
    assert data.step is not None
    assert data.step <= load.BAND_MAX_STEP

    def bands(data: d.PageData) -> tuple[set[str], str]:
        fig = next(iter(load.iter_sections(data))).figure
        names = {
            g.data_source.name.split(":")[0] for g in fig.renderers if isinstance(g.glyph, VArea)
        }
        return names, fig.title.text

    week, title = bands(data)
    assert week == {"load-actual", "load-forecast"}
    assert "10-90 % shaded" in title
    data.step = timedelta(hours=12)
    year, title = bands(data)
    assert year == {"load-actual"}
    assert "band is drawn at 1h resolution or finer" in title
