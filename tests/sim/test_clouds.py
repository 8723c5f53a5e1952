"""One cloud field for the satellite and the solar plants: same clouds, fast ramps, advection."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from workbench.core.errors import WorkbenchError
from workbench.sim.clouds import CloudField, clear_sky_index, cloud_locations
from workbench.sim.satellite import (
    albers_forward,
    albers_inverse,
    iter_satellite_frames,
    satellite_grid,
)
from workbench.sim.weather import clear_sky

REGIONS = pd.DataFrame(
    {
        "region_id": ["NORTH", "SOUTH", "WEST"],
        "latitude": [32.78, 29.90, 31.40],
        "longitude": [-96.95, -98.05, -103.50],
        "area_sq_km": [102_000.0, 95_000.0, 190_000.0],
    }
)
START = pd.Timestamp("2024-06-10", tz="UTC")
DAYS, SIZE = 3, 64


def _plant_at_pixel(row: int, col: int) -> tuple[float, float]:
    """Longitude and latitude [deg] of a pixel centre of the test grid."""
    _, (a, _, c, _, e, f), _, _ = satellite_grid(REGIONS, SIZE)
    lon, lat = albers_inverse(np.array([c + a * (col + 0.5)]), np.array([f + e * (row + 0.5)]))
    return float(lon[0]), float(lat[0])


PLANT_LON, PLANT_LAT = _plant_at_pixel(30, 20)


def _weather() -> pd.DataFrame:
    """Hourly weather at the regions and the plant: cover wandering between clear and overcast,
    GHI = Ineichen x Kasten-Czeplak (no haze)."""
    hours = pd.date_range(START - pd.Timedelta("2h"), periods=24 * DAYS + 4, freq="h")
    rng = np.random.default_rng(11)
    walk = np.cumsum(rng.normal(0, 0.35, (len(hours), len(REGIONS) + 1)), axis=0)
    cover = 100 / (1 + np.exp(-walk - 1.0))  # mostly broken to overcast
    sites = pd.DataFrame({"latitude": [*REGIONS["latitude"], PLANT_LAT],
                          "longitude": [*REGIONS["longitude"], PLANT_LON],
                          "altitude_m": 0.0})  # fmt: skip
    ghi = clear_sky(sites, hours)["ghi"] * (1 - 0.75 * (cover / 100) ** 3.4)
    ids = [*REGIONS["region_id"], "SOLAR_X_01"]
    return pd.concat(
        [
            pd.DataFrame({"timestamp": hours, "location_id": loc, "cloud_cover_pct": cover[:, i],
                          "ghi_w_per_m2": ghi[:, i], "temperature_f": 85.0,
                          "wind_speed_100m_m_per_s": 6.0, "relative_humidity_pct": 40.0})
            for i, loc in enumerate(ids)
        ],
        ignore_index=True,
    )  # fmt: skip


WEATHER = _weather()
PLANT = pd.DataFrame([{"asset_id": "SOLAR_X_01", "technology": "solar", "region_id": "WEST",
                       "capacity_mw": 200.0, "latitude": PLANT_LAT, "longitude": PLANT_LON,
                       "tracking": "single_axis", "tilt_deg": 0.0, "azimuth_deg": 180.0,
                       "dc_ac_ratio": 1.3}])  # fmt: skip
INDEX = pd.date_range(START, periods=DAYS * 288, freq="5min")


@pytest.fixture(scope="module")
def field() -> CloudField:
    return CloudField(cloud_locations(REGIONS, PLANT), WEATHER, INDEX, np.random.default_rng(3))


def test_the_plant_pixel_and_the_plant_see_the_same_field(field: CloudField) -> None:
    from workbench.sim.renewables import solar_output

    _, (a, _, c, _, e, f), _, _ = satellite_grid(REGIONS, SIZE)
    px, py = np.array([c + a * 20.5]), np.array([f + e * 30.5])
    steps = np.arange(len(INDEX))
    _, thick_pixel = field.sample(px, py, steps)
    kc_plant = field.clear_sky_index_at(np.array([PLANT_LON]), np.array([PLANT_LAT]))
    # one function: the plant's clear-sky index is the field sampled at its pixel's centre
    np.testing.assert_allclose(kc_plant, clear_sky_index(thick_pixel), atol=1e-6)
    assert thick_pixel.max() > 0.5
    assert (thick_pixel == 0).mean() > 0.1
    # the frames and the plant's output come from that field
    frames = list(iter_satellite_frames(REGIONS, WEATHER, START, DAYS, SIZE,
                                        np.random.default_rng(4), clouds=field))  # fmt: skip
    mw = solar_output(PLANT, WEATHER, INDEX, np.random.default_rng(5), clouds=field)["SOLAR_X_01"]
    times = pd.DatetimeIndex([t for t, _ in frames])
    reflectance = np.array([img[30, 20] for _, img in frames])
    site = PLANT.assign(altitude_m=0.0)
    ghi_clear = clear_sky(site, INDEX)["ghi"][:, 0]
    at = field.steps_of(times)
    day = ghi_clear[at] >= 200.0
    kc_out = mw.to_numpy()[at] / 200.0 / (np.maximum(ghi_clear[at], 1.0) / 1000.0)
    assert day.sum() > 100
    assert np.corrcoef(reflectance[day], kc_plant[at, 0][day])[0, 1] < -0.9
    # the realism metric: reflectance at the plant's pixel vs the plant's clear-sky index
    assert np.corrcoef(reflectance[day], kc_out[day])[0, 1] <= -0.6


def test_broken_cloud_gives_fast_ramps_and_clouds_move_with_the_wind(field: CloudField) -> None:
    x, y = albers_forward(np.array([-100.0]), np.array([31.0]))
    kc = field.clear_sky_index_at(np.array([-100.0]), np.array([31.0]))[:, 0]
    broken = field.cover(x, y, np.arange(len(INDEX)))[:, 0] > 0.3
    steps = np.abs(np.diff(kc))[broken[1:]]
    assert np.quantile(steps, 0.99) > 0.2  # tens of % within 5 minutes under broken cloud
    assert kc.min() < 0.4
    assert kc.max() == 1.0
    # frozen-ish advection: the field 30 minutes later, one wind displacement downwind, is
    # closer to the field now than the field 30 minutes later at the same place
    k = np.arange(100, len(INDEX) - 6, 37)
    here = field.latent(x, y, k)[:, 0]
    same_place = np.array([field.latent(x, y, [s + 6])[0, 0] for s in k])
    moved = np.array([
        field.latent(x + field.dx[s + 6] - field.dx[s], y + field.dy[s + 6] - field.dy[s],
                     [s + 6])[0, 0] for s in k
    ])  # fmt: skip
    assert np.corrcoef(here, moved)[0, 1] > np.corrcoef(here, same_place)[0, 1] + 0.05
    assert np.corrcoef(here, moved)[0, 1] > 0.8


def test_cover_follows_the_weather_and_the_field_is_seeded(field: CloudField) -> None:
    x, y = albers_forward(np.array([PLANT_LON]), np.array([PLANT_LAT]))
    steps = np.arange(0, len(INDEX), 12)  # one an hour, at the interval centre + 2.5 min
    got = field.cover(x, y, steps)[:, 0]
    hourly = WEATHER[WEATHER["location_id"] == "SOLAR_X_01"].set_index("timestamp")
    want = hourly["cloud_cover_pct"].reindex(INDEX[steps]).to_numpy() / 100
    assert np.abs(got - want).max() < 0.1  # the site's own cover, interpolated within the hour
    again = CloudField(cloud_locations(REGIONS, PLANT), WEATHER, INDEX, np.random.default_rng(3))
    np.testing.assert_array_equal(again.latent(x, y, steps), field.latent(x, y, steps))
    # blocks regenerate: any step range gives the values of the full evaluation
    part = field.latent(x, y, steps[40:50])
    np.testing.assert_allclose(part, field.latent(x, y, steps)[40:50], rtol=0, atol=1e-5)


def test_frames_outside_the_field_are_an_error(field: CloudField) -> None:
    with pytest.raises(WorkbenchError, match="cloud field"):
        next(iter_satellite_frames(REGIONS, WEATHER, START + pd.Timedelta(days=5), 1, SIZE,
                                   np.random.default_rng(0), clouds=field))  # fmt: skip
