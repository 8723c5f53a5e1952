"""Satellite frames: a real projected grid, clouds that follow each region's reported cover."""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest

from workbench.sim.satellite import (
    CRS,
    albers_forward,
    albers_inverse,
    iter_satellite_frames,
    region_index,
    satellite_grid,
)

REGIONS = pd.DataFrame(
    {
        "region_id": ["NORTH", "HOUSTON", "SOUTH", "WEST", "COAST"],
        "latitude": [32.78, 29.76, 29.90, 31.40, 28.35],
        "longitude": [-96.95, -95.37, -98.05, -103.50, -97.75],
        "area_sq_km": [102_000.0, 23_000.0, 95_000.0, 190_000.0, 48_000.0],
    }
)
START = pd.Timestamp("2024-06-10", tz="UTC")
SIZE = 48


def _weather(seed: int = 0, days: int = 3) -> pd.DataFrame:
    times = pd.date_range(START - pd.Timedelta("2h"), periods=24 * days + 4, freq="h")
    rng = np.random.default_rng(seed)
    walk = np.cumsum(rng.normal(0, 0.35, (len(times), len(REGIONS))), axis=0)
    walk = 100 / (1 + np.exp(-walk))  # cloud cover [%] wandering between clear and overcast
    frames = [
        pd.DataFrame(
            {
                "timestamp": times,
                "location_id": region_id,
                "cloud_cover_pct": walk[:, i],
                "temperature_f": 80.0,
            }
        )
        for i, region_id in enumerate(REGIONS["region_id"])
    ]
    site = pd.DataFrame(
        {"timestamp": times, "location_id": "SOLAR_WEST_01", "cloud_cover_pct": 0.0}
    )
    return pd.concat([*frames, site], ignore_index=True)


WEATHER = _weather()


@pytest.fixture(scope="module")
def frames() -> list[tuple[pd.Timestamp, np.ndarray]]:
    return list(iter_satellite_frames(REGIONS, WEATHER, START, 3, SIZE, np.random.default_rng(5)))


def test_projection_matches_proj_and_round_trips():
    # reference values from PROJ (EPSG:4269 -> EPSG:5070) for Austin and El Paso
    x, y = albers_forward(np.array([-97.7431, -106.485]), np.array([30.2672, 31.7619]))
    np.testing.assert_allclose(x, [-167451.371, -986956.256], atol=0.01)
    np.testing.assert_allclose(y, [800570.853, 1019759.221], atol=0.01)
    np.testing.assert_allclose(
        albers_forward(np.array([-96.0]), np.array([23.0])), [[0.0], [0.0]], atol=1e-6
    )
    lon, lat = albers_inverse(x, y)
    np.testing.assert_allclose(lon, [-97.7431, -106.485], atol=1e-9)
    np.testing.assert_allclose(lat, [30.2672, 31.7619], atol=1e-9)


def test_grid_covers_the_regions():
    crs, (a, b, c, d, e, f), width, height = satellite_grid(REGIONS, 64)
    assert crs == CRS == "EPSG:5070"
    assert (width, height) == (64, 64)
    assert b == d == 0.0
    assert a == -e > 0
    assert 5_000 < a < 50_000  # metres per pixel over a Texas-sized area
    x, y = albers_forward(REGIONS["longitude"].to_numpy(), REGIONS["latitude"].to_numpy())
    assert (x > c).all()
    assert (x < c + a * width).all()
    assert (y < f).all()
    assert (y > f + e * height).all()
    index = region_index(REGIONS, 64)
    assert index.shape == (64, 64)
    shares = np.bincount(index.ravel(), minlength=len(REGIONS)) / index.size
    assert shares.min() > 0.02
    assert shares[3] > shares[1]  # the vast west region takes more pixels than Houston


def test_frames_every_15_minutes_as_float32_reflectance(frames):
    assert len(frames) == 3 * 96
    times = pd.DatetimeIndex([t for t, _ in frames])
    assert times[0] == START
    assert (times.to_series().diff().dropna() == pd.Timedelta("15min")).all()
    assert str(times.tz) == "UTC"
    for _, img in frames[:5]:
        assert img.dtype == np.float32
        assert img.shape == (SIZE, SIZE)
    stack = np.stack([img for _, img in frames])
    assert stack.min() >= 0.0
    assert stack.max() <= 1.0


def _daytime(frames):
    return [(t, img) for t, img in frames if 16 <= t.hour <= 22]  # Texas late morning to afternoon


def test_cloud_fraction_tracks_each_regions_cover(frames):
    index = region_index(REGIONS, SIZE)
    cover = WEATHER.pivot_table(index="timestamp", columns="location_id", values="cloud_cover_pct")
    observed, reported = [], []
    for t, img in _daytime(frames):
        for r, region_id in enumerate(REGIONS["region_id"]):
            observed.append((img[index == r] > 0.3).mean())
            series = cover[region_id]
            stamps = series.index.as_unit("ns").asi8
            reported.append(np.interp(t.as_unit("ns").value, stamps, series.to_numpy()) / 100)
    observed, reported = np.array(observed), np.array(reported)
    assert np.corrcoef(observed, reported)[0, 1] > 0.85
    assert abs(observed.mean() - reported.mean()) < 0.12
    assert observed[reported < 0.05].mean() < 0.1
    assert observed[reported > 0.95].mean() > 0.8


def test_night_is_dark_and_clouds_evolve_coherently(frames):
    night = [img for t, img in frames if 6 <= t.hour <= 9]  # 01:00-04:00 in Texas
    assert max(float(img.max()) for img in night) < 0.05
    day = _daytime(frames)[:12]
    next_corr = np.mean(
        [np.corrcoef(a.ravel(), b.ravel())[0, 1] for (_, a), (_, b) in itertools.pairwise(day)]
    )
    later = np.corrcoef(day[0][1].ravel(), _daytime(frames)[30][1].ravel())[0, 1]
    assert next_corr > 0.6  # 15 minutes apart: the same clouds, moved a little
    assert next_corr > later + 0.2  # a day later: different clouds


def test_clear_ground_is_dark_and_textured():
    clear = WEATHER.assign(cloud_cover_pct=0.0)
    frames = list(
        iter_satellite_frames(
            REGIONS, clear, START + pd.Timedelta("18h"), 1, SIZE, np.random.default_rng(1)
        )
    )
    img = frames[0][1]  # 18:00 UTC: midday in Texas
    assert 0.04 < img.mean() < 0.25
    assert img.max() < 0.3
    assert img.std() > 0.01
    west = region_index(REGIONS, SIZE) == 3
    assert img[west].mean() > img[~west].mean()  # drier, brighter west


def test_same_seed_same_frames():
    a = list(iter_satellite_frames(REGIONS, WEATHER, START, 1, 24, np.random.default_rng(3)))
    b = list(iter_satellite_frames(REGIONS, WEATHER, START, 1, 24, np.random.default_rng(3)))
    c = list(iter_satellite_frames(REGIONS, WEATHER, START, 1, 24, np.random.default_rng(4)))
    for (ta, ia), (tb, ib) in zip(a, b, strict=True):
        assert ta == tb
        np.testing.assert_array_equal(ia, ib)
    assert not np.array_equal(a[70][1], c[70][1])


def test_missing_weather_is_explained():
    from workbench.core.errors import WorkbenchError

    with pytest.raises(WorkbenchError, match="cloud_cover_pct"):
        next(
            iter_satellite_frames(
                REGIONS,
                WEATHER.drop(columns="cloud_cover_pct"),
                START,
                1,
                24,
                np.random.default_rng(0),
            )
        )
    other = WEATHER[~WEATHER["location_id"].isin(REGIONS["region_id"])]
    with pytest.raises(WorkbenchError, match="regions"):
        next(iter_satellite_frames(REGIONS, other, START, 1, 24, np.random.default_rng(0)))
