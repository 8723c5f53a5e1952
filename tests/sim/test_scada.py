"""SCADA telemetry: follows the 5-min generation, faults injected where the labels say."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from workbench.sim.events import EVENT_COLUMNS
from workbench.sim.scada import (
    BAD_CODES,
    COPY_MIN_ERROR,
    DEFAULT_FAULT_RATES,
    GOOD_CODES,
    SCADA_COLUMNS,
    SILENT_FAULTS,
    SUSPECT_CODES,
    iter_scada,
    simulate_scada,
)

START = pd.Timestamp("2024-07-01 20:00", tz="UTC")
END = START + pd.Timedelta(hours=8)  # crosses a UTC midnight
TECHS = ["solar", "wind", "gas_cc", "gas_ct", "coal", "nuclear", "hydro", "battery"]


def _inputs() -> tuple[pd.DataFrame, pd.DataFrame]:
    rng = np.random.default_rng(0)
    assets = pd.DataFrame(
        {
            "asset_id": [f"{t.upper()}_NORTH_01" for t in TECHS],
            "technology": TECHS,
            "capacity_mw": [300.0, 250.0, 800.0, 200.0, 600.0, 1200.0, 100.0, 150.0],
        }
    )
    times = pd.date_range(START - pd.Timedelta("1h"), END + pd.Timedelta("1h"), freq="5min")
    k = np.arange(len(times))
    rows = []
    for a in assets.itertuples():
        level = 0.3 + 0.4 * (0.5 + 0.5 * np.sin(k / 40.0 + rng.uniform(0, 6)))
        gen = a.capacity_mw * level
        if a.technology == "battery":
            gen = a.capacity_mw * 0.6 * np.sin(k / 12.0)  # charges (negative) and discharges
        rows.append(
            pd.DataFrame(
                {
                    "timestamp": times,
                    "asset_id": a.asset_id,
                    "generation_mw": gen,
                    "available": True,
                }
            )
        )
    return pd.concat(rows, ignore_index=True), assets


GEN, ASSETS = _inputs()
RATES = dict.fromkeys(DEFAULT_FAULT_RATES, 6.0)  # plenty of every fault in 8 hours


@pytest.fixture(scope="module")
def scada() -> tuple[pd.DataFrame, pd.DataFrame]:
    return simulate_scada(
        GEN, ASSETS, START, END, 2.0, np.random.default_rng(11), fault_rates=RATES
    )


@pytest.fixture(scope="module")
def clean() -> tuple[pd.DataFrame, pd.DataFrame]:
    return simulate_scada(
        GEN,
        ASSETS,
        START,
        END,
        4.0,
        np.random.default_rng(3),
        fault_rates=dict.fromkeys(DEFAULT_FAULT_RATES, 0.0),
    )


def _rows(frame: pd.DataFrame, event: pd.Series) -> pd.DataFrame:
    sel = (
        (frame["asset_id"] == event["target_id"])
        & (frame["timestamp"] >= event["start"])
        & (frame["timestamp"] < event["end"])
    )
    return frame.loc[sel]


def test_columns_types_and_landing_order(scada):
    frame, events = scada
    assert tuple(frame.columns) == SCADA_COLUMNS
    assert str(frame["timestamp"].dtype) == "datetime64[ns, UTC]"
    assert str(frame["ingested_at"].dtype) == "datetime64[ns, UTC]"
    assert frame["quality_code"].dtype == np.int32
    assert frame["value"].dtype == np.float64
    assert tuple(events.columns) == EVENT_COLUMNS
    assert set(events["source"]) == {"scada"}
    # rows come as landed: by ingestion time within each day
    for _, day in frame.groupby(frame["ingested_at"].dt.floor("D")):
        assert day["ingested_at"].is_monotonic_increasing or len(day) < 2


def test_scan_rate_and_phase_per_asset(clean):
    frame, _ = clean
    assert frame["timestamp"].min() >= START
    assert frame["timestamp"].max() < END
    for _, rows in frame.groupby("asset_id"):
        gaps = rows["timestamp"].sort_values().diff().dt.total_seconds().dropna()
        assert abs(gaps.median() - 4.0) < 0.05
        assert gaps.min() > 3.5  # jitter is small, no dropouts here
        assert gaps.max() < 4.5
        assert len(rows) == pytest.approx(8 * 3600 / 4.0, abs=2)
    phases = frame.groupby("asset_id")["timestamp"].min().dt.microsecond
    assert phases.nunique() > 4  # assets are not scanned in lockstep


def test_follows_five_minute_generation(clean):
    frame, _ = clean
    cap = ASSETS.set_index("asset_id")["capacity_mw"]
    five = (
        frame.assign(timestamp=frame["timestamp"].dt.floor("5min"))
        .groupby(["asset_id", "timestamp"])["value"]
        .mean()
    )
    gen = GEN.set_index(["asset_id", "timestamp"])["generation_mw"].reindex(five.index)
    err = (five - gen).abs() / cap.reindex(five.index.get_level_values(0)).to_numpy()
    assert err.median() < 0.01
    assert err.quantile(0.99) < 0.06
    # smooth at the scan scale: consecutive scans differ by a small share of capacity
    for asset_id, rows in frame.sort_values("timestamp").groupby("asset_id"):
        step = rows["value"].diff().abs().median() / cap[asset_id]
        assert step < 0.01, asset_id
    battery = frame[frame["asset_id"] == "BATTERY_NORTH_01"]["value"]
    assert battery.min() < -50  # charging shows as negative
    assert battery.max() > 50


def test_quality_codes_mostly_good_and_tied_to_faults(scada, clean):
    frame, events = clean
    assert frame["quality_code"].isin(GOOD_CODES).mean() > 0.99
    codes = set(frame["quality_code"].unique())
    assert codes <= set(GOOD_CODES) | set(SUSPECT_CODES) | set(BAD_CODES)
    frame, events = scada
    faulty = np.zeros(len(frame), bool)
    labelled = np.zeros(len(frame), bool)
    for _, ev in events.iterrows():
        window = frame.index.isin(_rows(frame, ev).index)
        after = (
            (frame["asset_id"] == ev["target_id"])
            & (frame["timestamp"] >= ev["end"])
            & (frame["timestamp"] < ev["end"] + pd.Timedelta("10s"))
        ).to_numpy()
        labelled |= window | after
        if ev["event_type"] in ("out_of_range", "spike", "flatline"):
            faulty |= window
    not_good = ~frame["quality_code"].isin(GOOD_CODES).to_numpy()
    assert not_good[faulty].mean() > 0.3
    assert not_good[~labelled].mean() < 0.01
    assert not_good[faulty].mean() > 20 * not_good[~labelled].mean()


def test_every_fault_type_present_and_labelled(scada):
    _, events = scada
    assert set(events["event_type"]) == set(DEFAULT_FAULT_RATES)
    assert (events["end"] > events["start"]).all()
    assert events["event_id"].is_unique
    assert set(events["target_id"]) <= set(ASSETS["asset_id"])


def test_out_of_range_and_spikes_show_in_values(scada):
    frame, events = scada
    cap = ASSETS.set_index("asset_id")["capacity_mw"]
    for _, ev in events[events["event_type"] == "out_of_range"].iterrows():
        rows = _rows(frame, ev)
        assert (rows["value"] == ev["magnitude"]).any()
        assert ev["magnitude"] < -1000 or ev["magnitude"] > 10_000
    in_range = frame["value"].between(-1000, 10_000)
    assert (~in_range).sum() >= 1
    for _, ev in events[events["event_type"] == "spike"].iterrows():
        assert abs(ev["magnitude"]) >= 0.2 * cap[ev["target_id"]] - 1e-6


def test_flatlines_are_stuck_for_minutes(scada):
    frame, events = scada
    flats = events[events["event_type"] == "flatline"]
    assert len(flats) > 0
    for _, ev in flats.iterrows():
        rows = _rows(frame, ev)
        overwritten = rows["value"].isin([ev["magnitude"]])
        assert overwritten.mean() > 0.8  # stuck, except where another fault took over
        assert ev["end"] - ev["start"] >= pd.Timedelta("2min")


def test_dropouts_duplicates_and_out_of_order(scada):
    frame, events = scada
    for _, ev in events[events["event_type"] == "dropout"].iterrows():
        inner = _rows(frame, ev)
        assert len(inner) <= 2  # skewed or late scans of neighbours at most
    for _, ev in events[events["event_type"] == "duplicate"].iterrows():
        rows = _rows(frame, ev)
        if len(rows):
            assert rows.duplicated(["asset_id", "timestamp", "value"]).sum() > 0
    assert frame.duplicated(["asset_id", "timestamp"]).sum() > 0
    late = events[events["event_type"] == "out_of_order"]
    assert len(late) > 0
    found = 0
    for _, ev in late.iterrows():
        rows = _rows(frame, ev)
        after = frame[
            (frame["asset_id"] == ev["target_id"])
            & (frame["timestamp"] >= ev["end"])
            & (frame["timestamp"] < ev["end"] + pd.Timedelta("30s"))
        ]
        if len(rows) and len(after):
            found += int(after["ingested_at"].min() < rows["ingested_at"].max())
    assert found > 0  # a later scan landed before the buffered ones


def test_time_skew_shifts_timestamps(scada):
    frame, events = scada
    skews = events[events["event_type"] == "time_skew"]
    assert len(skews) > 0
    for _, ev in skews.iterrows():
        rows = frame[frame["asset_id"] == ev["target_id"]]
        lag = (rows["ingested_at"] - rows["timestamp"]).dt.total_seconds()
        # rows whose arrival falls in the window carry the skew: landing lag ≈ latency − skew
        arrived = rows["ingested_at"].between(
            ev["start"] + pd.Timedelta(seconds=max(ev["magnitude"], 0) + 10),
            ev["end"] - pd.Timedelta(seconds=abs(ev["magnitude"]) + 10),
        )
        if arrived.sum() > 20:
            assert lag[arrived].median() == pytest.approx(
                lag[~arrived].median() - ev["magnitude"], abs=3
            )


def test_days_stream_and_match_the_whole(scada):
    days = list(
        iter_scada(GEN, ASSETS, START, END, 2.0, np.random.default_rng(11), fault_rates=RATES)
    )
    assert len(days) == 2  # 20:00 to 04:00 UTC crosses midnight
    whole, events = scada
    assert sum(len(f) for f, _ in days) == len(whole)
    pd.testing.assert_frame_equal(pd.concat([f for f, _ in days], ignore_index=True), whole)
    assert sum(len(e) for _, e in days) == len(events)


def test_same_seed_same_data_and_other_seed_differs():
    kwargs = {"asset_ids": ["GAS_CC_NORTH_01", "WIND_NORTH_01"], "fault_rates": RATES}
    end = START + pd.Timedelta("30min")
    a, ea = simulate_scada(GEN, ASSETS, START, end, 3.0, np.random.default_rng(5), **kwargs)
    b, eb = simulate_scada(GEN, ASSETS, START, end, 3.0, np.random.default_rng(5), **kwargs)
    c, _ = simulate_scada(GEN, ASSETS, START, end, 3.0, np.random.default_rng(6), **kwargs)
    pd.testing.assert_frame_equal(a, b)
    pd.testing.assert_frame_equal(ea, eb)
    assert set(a["asset_id"]) == {"GAS_CC_NORTH_01", "WIND_NORTH_01"}
    assert not a["value"].equals(c["value"])


def test_bad_arguments_are_explained():
    from workbench.core.errors import WorkbenchError

    with pytest.raises(WorkbenchError, match="unknown"):
        simulate_scada(GEN, ASSETS, START, END, 2.0, np.random.default_rng(0), asset_ids=["NOPE"])
    with pytest.raises(WorkbenchError, match="fault types"):
        simulate_scada(
            GEN, ASSETS, START, END, 2.0, np.random.default_rng(0), fault_rates={"gremlins": 1.0}
        )
    with pytest.raises(WorkbenchError, match="end after start"):
        simulate_scada(GEN, ASSETS, END, START, 2.0, np.random.default_rng(0))


# ------------------------------------------------------------------ faults rules cannot catch
SILENT_RATES = dict.fromkeys(DEFAULT_FAULT_RATES, 0.0)


def _silent(kind: str) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """The same scans without faults and with only ``kind`` (the clean values are drawn before
    any fault, so the two runs differ exactly where the labels say)."""
    clean, none = simulate_scada(GEN, ASSETS, START, END, 2.0, np.random.default_rng(5),
                                 fault_rates=SILENT_RATES)  # fmt: skip
    assert none.empty
    faulty, events = simulate_scada(GEN, ASSETS, START, END, 2.0, np.random.default_rng(5),
                                    fault_rates={**SILENT_RATES, kind: 8.0})  # fmt: skip
    both = clean.merge(faulty, on=["asset_id", "timestamp"], suffixes=("_clean", ""))
    assert len(both) == len(clean) == len(faulty)
    return both, events, clean


@pytest.mark.parametrize("kind", SILENT_FAULTS)
def test_silent_faults_keep_good_codes_and_change_only_their_window(kind):
    both, events, _ = _silent(kind)
    assert len(events) > 3
    assert set(events["event_type"]) == {kind}
    assert (both["quality_code"] == both["quality_code_clean"]).all()
    inside = np.zeros(len(both), bool)
    for _, ev in events.iterrows():
        inside |= (
            (both["asset_id"] == ev["target_id"])
            & (both["timestamp"] >= ev["start"])
            & (both["timestamp"] < ev["end"])
        ).to_numpy()
    assert (both.loc[~inside, "value"] == both.loc[~inside, "value_clean"]).all()
    changed = (both.loc[inside, "value"] != both.loc[inside, "value_clean"]).mean()
    assert changed > (0.2 if kind == "intermittent_oscillation" else 0.5)  # bursts and gaps


def _window(both: pd.DataFrame, ev: pd.Series) -> pd.DataFrame:
    """The scans a label covers: ``end`` is the last affected scan + one 2-s interval."""
    rows = _rows(both, ev).sort_values("timestamp")
    return rows[rows["timestamp"] < ev["end"] - pd.Timedelta("1s")]


def test_calibration_drift_ramps_the_gain():
    """A steady ramp from no error to the label's magnitude; one cut by the day's end keeps the
    pace of a 2-8 h drift: it ends at a part of its gain, never at full gain in minutes."""
    both, events, _ = _silent("calibration_drift")
    n_cut = 0
    for _, ev in events.iterrows():
        rows = _window(both, ev)
        span = ev["end"] - ev["start"]
        cut = abs(ev["end"] - ev["end"].round("D")) < pd.Timedelta("5s") or ev["end"] >= END
        n_cut += bool(cut and span < pd.Timedelta("2h"))
        if cut:  # the pace of a 2-8 h ramp to 4-12 %: at most 12 % per 2 h
            assert abs(ev["magnitude"]) <= min(0.12, 0.12 * span / pd.Timedelta("2h")) + 1e-3
        else:
            assert 0.04 <= abs(ev["magnitude"]) <= 0.12
        ramp = np.linspace(0.0, ev["magnitude"], len(rows))
        np.testing.assert_allclose(rows["value"], rows["value_clean"] * (1 + ramp), atol=1.1e-3)
    assert n_cut > 0, "expected a drift cut by the day's end in the fixture's days"


def test_bias_step_is_a_constant_offset():
    both, events, _ = _silent("bias_step")
    cap = ASSETS.set_index("asset_id")["capacity_mw"]
    for _, ev in events.iterrows():
        rows = _window(both, ev)
        assert 0.03 * cap[ev["target_id"]] <= abs(ev["magnitude"]) <= 0.15 * cap[ev["target_id"]]
        np.testing.assert_allclose(
            rows["value"] - rows["value_clean"], ev["magnitude"], atol=1.1e-3
        )


def test_stuck_with_noise_is_frozen_but_never_bit_identical():
    both, events, _ = _silent("stuck_with_noise")
    cap = ASSETS.set_index("asset_id")["capacity_mw"]
    for _, ev in events.iterrows():
        rows = _window(both, ev)
        assert (rows["value"] - ev["magnitude"]).abs().max() <= 0.004 * cap[ev["target_id"]]
        assert (rows["value"].diff() == 0).mean() < 0.05  # no flatline for the rules to see
        cut = abs(ev["end"] - ev["end"].round("D")) < pd.Timedelta("5s") or ev["end"] >= END
        assert cut or ev["end"] - ev["start"] >= pd.Timedelta("10min")


def test_intermittent_oscillation_comes_in_bursts_of_the_labelled_amplitude():
    both, events, _ = _silent("intermittent_oscillation")
    for _, ev in events.iterrows():
        diff = (_window(both, ev)["value"] - _window(both, ev)["value_clean"]).abs()
        assert diff.max() <= ev["magnitude"] + 1e-3
        assert diff.max() >= 0.8 * ev["magnitude"]
        if ev["end"] - ev["start"] > pd.Timedelta("200s"):  # not cut short by the period's end
            assert (diff < 1e-9).mean() > 0.05  # quiet gaps between the bursts


def test_copied_from_asset_repeats_the_source_readings():
    both, events, clean = _silent("copied_from_asset")
    cap = ASSETS.set_index("asset_id")["capacity_mw"]
    for _, ev in events.iterrows():
        assert ev["detail"].startswith("source=")
        source = ev["detail"].removeprefix("source=")
        assert source != ev["target_id"]
        rows = _window(both, ev)
        src = clean[
            (clean["asset_id"] == source)
            & (clean["timestamp"] >= ev["start"] - pd.Timedelta("4s"))
            & (clean["timestamp"] < ev["end"] + pd.Timedelta("4s"))
        ]
        assert rows["value"].isin(src["value"]).all()
        error = (rows["value"] - rows["value_clean"]).abs().mean()
        assert ev["magnitude"] == pytest.approx(error, rel=1e-6)
        assert error >= COPY_MIN_ERROR * cap[ev["target_id"]]  # an observable copy
