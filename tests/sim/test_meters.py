"""Smart-meter reads: local days (DST), aggregate tracks regional load, spiky homes, defects."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from workbench.sim.meters import (
    METER_COLUMNS,
    RESIDENTIAL_KW,
    iter_meter_reads,
    meter_scale,
)

REGIONS = pd.DataFrame(
    {
        "region_id": ["NORTH", "HOUSTON", "WEST"],
        "timezone": ["America/Chicago", "America/Chicago", "America/Denver"],
        "population": [9.1e6, 7.3e6, 0.6e6],
    }
)
PEAK_MW = {"NORTH": 25_000.0, "HOUSTON": 20_000.0, "WEST": 4_000.0}


def _load(first: str, last: str) -> pd.DataFrame:
    """5-min regional load with a weather-like multi-day swing and a local daily shape."""
    times = pd.date_range(first, last, freq="5min", tz="UTC", inclusive="left")
    rows = []
    for r, (region_id, peak) in enumerate(PEAK_MW.items()):
        local = times.tz_convert(REGIONS["timezone"][r])
        hour = (local.hour + local.minute / 60).to_numpy()
        daily = (
            0.62
            + 0.33 * np.exp(-(((hour - 17) / 4) ** 2))
            + 0.08 * np.exp(-(((hour - 8) / 2) ** 2))
        )
        swing = 1 + 0.12 * np.sin(np.arange(len(times)) / (288 * 1.7) + r)
        rows.append(
            pd.DataFrame(
                {"timestamp": times, "region_id": region_id, "load_mw": peak * daily * swing}
            )
        )
    return pd.concat(rows, ignore_index=True)


LOAD = _load("2024-10-28", "2024-11-08")


@pytest.fixture(scope="module")
def reads() -> pd.DataFrame:
    frames = list(iter_meter_reads(REGIONS, LOAD, 2_000, "2024-11-01", 5, np.random.default_rng(4)))
    return pd.concat(frames, ignore_index=True)


def test_columns_and_types(reads):
    assert tuple(reads.columns) == METER_COLUMNS
    assert str(reads["timestamp"].dtype) == "datetime64[ns, UTC]"
    assert reads["energy_kwh"].dtype == np.float64
    assert reads["is_estimated"].dtype == bool
    assert set(reads["customer_class"].unique()) == {"residential", "commercial"}
    assert set(reads["region_id"].unique()) == set(REGIONS["region_id"])
    assert pd.Series(reads["meter_id"].unique()).str.fullmatch(r"MTR_\d{7}").all()
    assert (reads["timestamp"].dt.minute % 15 == 0).all()
    assert (reads["energy_kwh"] >= 0).all()


def test_one_frame_per_local_date_and_region_and_dst_days():
    frames = list(
        iter_meter_reads(
            REGIONS,
            _load("2024-03-08", "2024-03-12"),
            60,
            "2024-03-09",
            2,
            np.random.default_rng(1),
        )
    )
    frames += list(iter_meter_reads(REGIONS, LOAD, 60, "2024-11-02", 3, np.random.default_rng(1)))
    expected = {
        "2024-03-09": 96,
        "2024-03-10": 92,
        "2024-11-02": 96,
        "2024-11-03": 100,
        "2024-11-04": 96,
    }
    seen = set()
    for frame in frames:
        assert frame["date"].nunique() == 1
        assert frame["region_id"].nunique() == 1
        day, region_id = str(frame["date"].iloc[0]), frame["region_id"].iloc[0]
        seen.add((day, region_id))
        assert frame["timestamp"].nunique() == expected[day], (day, region_id)
        tz = REGIONS.set_index("region_id").loc[region_id, "timezone"]
        local = frame["timestamp"].dt.tz_convert(tz)
        assert (local.dt.date.astype(str) == day).all()  # the LOCAL date of every read
    assert len(seen) == len(frames) == 5 * len(REGIONS)


def test_meter_sums_track_regional_load(reads):
    scale = meter_scale(REGIONS, LOAD, 2_000)
    load_15 = (
        LOAD.assign(timestamp=LOAD["timestamp"].dt.floor("15min"))
        .groupby(["region_id", "timestamp"])["load_mw"]
        .mean()
    )
    unique = reads.drop_duplicates(["meter_id", "timestamp"])
    complete = unique.groupby("timestamp")["region_id"].nunique() == len(REGIONS)
    system = unique.groupby("timestamp")["energy_kwh"].sum()[complete]
    system_load = load_15.groupby("timestamp").sum().reindex(system.index)
    assert np.corrcoef(system, system_load)[0, 1] > 0.97
    for region_id, rows in unique.groupby("region_id"):
        total = rows.groupby("timestamp")["energy_kwh"].sum()
        load = load_15.loc[region_id].reindex(total.index)
        assert np.corrcoef(total, load)[0, 1] > (0.95 if len(rows) > 100_000 else 0.8), region_id
        expected = load * 1000 * 0.25 * scale[region_id]
        ratio = total.sum() / expected.sum()
        assert 0.93 < ratio < 1.02  # a couple of % of reads are missing
    assert scale["NORTH"] == pytest.approx(scale["WEST"], rel=0.1)


def test_households_are_spiky_and_sized_like_us_homes(reads):
    homes = reads[reads["customer_class"] == "residential"]
    mean_kw = homes.groupby("meter_id")["energy_kwh"].mean() * 4
    assert mean_kw.mean() == pytest.approx(RESIDENTIAL_KW, rel=0.12)  # ~10,700 kWh/yr
    assert 0.25 < homes["energy_kwh"].mean() < 0.4
    cv = homes.groupby("meter_id")["energy_kwh"].agg(lambda x: x.std() / x.mean())
    assert cv.median() > 0.7  # one household is very spiky...
    north = homes[homes["region_id"] == "NORTH"].drop_duplicates(["meter_id", "timestamp"])
    aggregate = north.groupby("timestamp")["energy_kwh"].sum()
    assert aggregate.pct_change().abs().median() < 0.1  # ...the sum of many is smooth
    assert homes["energy_kwh"].max() > 8 * homes["energy_kwh"].mean()


def test_commercial_meters_keep_business_hours(reads):
    com = reads[(reads["customer_class"] == "commercial") & (reads["region_id"] == "NORTH")]
    local = com["timestamp"].dt.tz_convert("America/Chicago")
    weekday = local.dt.weekday < 5
    day = com[weekday & local.dt.hour.between(10, 15)]["energy_kwh"].mean()
    night = com[weekday & local.dt.hour.between(0, 4)]["energy_kwh"].mean()
    weekend_day = com[~weekday & local.dt.hour.between(10, 15)]["energy_kwh"].mean()
    assert day > 1.8 * night
    assert day > 1.4 * weekend_day
    share = reads["customer_class"].eq("commercial").groupby(reads["meter_id"]).first().mean()
    assert 0.08 < share < 0.16
    big = reads.groupby(["customer_class"])["energy_kwh"].mean()
    assert big["commercial"] > 4 * big["residential"]


def test_missing_duplicate_and_estimated_reads(reads):
    meters = reads.groupby("region_id")["meter_id"].nunique()
    slots = sum(meters[r] * n for r, n in [("NORTH", 96 * 4 + 100), ("HOUSTON", 96 * 4 + 100)])
    slots += meters["WEST"] * (96 * 4 + 100)
    unique = reads.drop_duplicates(["meter_id", "timestamp"])
    missing = 1 - len(unique) / slots
    assert 0.01 < missing < 0.04
    dup = reads.duplicated(["meter_id", "timestamp"]).mean()
    assert 0.001 < dup < 0.01
    assert reads.duplicated().sum() == reads.duplicated(["meter_id", "timestamp"]).sum()  # exact
    est = reads["is_estimated"].mean()
    assert 0.004 < est < 0.03
    # estimates are smooth: no household spike among them
    homes = reads[reads["customer_class"] == "residential"]
    assert homes.loc[homes["is_estimated"], "energy_kwh"].max() < homes["energy_kwh"].quantile(0.99)


def test_chunks_bound_frames_and_same_seed_same_data():
    kwargs = {"n_meters": 300, "start": "2024-11-04", "days": 1}
    a = list(
        iter_meter_reads(REGIONS, LOAD, rng=np.random.default_rng(9), chunk_meters=40, **kwargs)
    )
    b = list(
        iter_meter_reads(REGIONS, LOAD, rng=np.random.default_rng(9), chunk_meters=40, **kwargs)
    )
    assert max(f["meter_id"].nunique() for f in a) <= 40
    assert sum(f["meter_id"].nunique() for f in a) == 300
    for fa, fb in zip(a, b, strict=True):
        pd.testing.assert_frame_equal(fa, fb)
    c = list(
        iter_meter_reads(REGIONS, LOAD, rng=np.random.default_rng(10), chunk_meters=40, **kwargs)
    )
    assert not a[0]["energy_kwh"].equals(c[0]["energy_kwh"])


def test_load_outside_the_frame_repeats_the_day_before():
    short = LOAD[LOAD["timestamp"] < "2024-11-05 12:00"]
    frames = list(iter_meter_reads(REGIONS, short, 400, "2024-11-05", 1, np.random.default_rng(2)))
    reads = pd.concat(frames)
    for _, rows in reads.groupby("region_id"):
        total = rows.groupby("timestamp")["energy_kwh"].sum()
        assert len(total) == 96
        assert (total > 0).all()
        late = total[total.index >= "2024-11-05 12:00"].mean()
        assert late == pytest.approx(total[total.index < "2024-11-05 12:00"].mean(), rel=0.5)
