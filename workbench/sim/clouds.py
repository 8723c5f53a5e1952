"""One advecting cloud field for the satellite frames and the solar plants.

The field is a sum of 192 random Fourier modes (a Gaussian random field with a power-law
spectrum, slope -3.4 in 2-D, outer scale 150 km, wavelengths 4-600 km) moved by a slowly turning
cloud-level wind (about 12 m/s towards the north-east on average, heading wandering by some 35
deg over half a day) and evolving: each mode's phase is a random walk whose decorrelation time
grows with its wavelength (about 40 minutes at 4 km, hours at 100 km). Because it is a sum of
modes, the field can be evaluated anywhere at any 5-minute step for the price of a small
matrix product: at the plants for every daylight step of the period, and at every pixel only
for the satellite days.

The large-scale modulation is the hourly ``cloud_cover_pct`` of the weather frame: a point is
cloudy where the latent field exceeds the quantile that makes its expected cloud fraction equal
the cover there (the regions' covers blended across a soft power diagram of the region centres,
corrected towards each plant site's own cover within about 25 km), so the weather table, the
satellite frames and the plants all see the same clouds. The cloud's optical thickness is the
field's excess over that threshold; both the satellite's reflectance and the plant's clear-sky
index are functions of it (:meth:`CloudField.thickness`).

Times are steps of ``index`` (5-minute interval starts); step ``k`` stands for the interval
``[index[k], index[k] + 5 min)``: the plant's output over that interval and a satellite frame
taken at ``index[k]`` use the same field values.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.special import ndtri

from workbench.core.errors import MissingColumnsError, WorkbenchError

SLOPE = 3.4  # spectral slope of the 2-D power spectrum [1]
OUTER_SCALE_KM = 150.0  # size of the largest cloud systems [km]
MIN_WAVELENGTH_KM, MAX_WAVELENGTH_KM = 4.0, 600.0
N_MODES = 192
TAU0 = 1800.0  # decorrelation time of the smallest clouds [s]
BLOCK_STEPS = 2016  # steps per block of phase evolution (a week of 5-minute steps)
BLEND_KM = 40.0  # width of the transition between two regions' cover [km]
SITE_KM = 25.0  # reach of a plant site's own cover [km]
OPTICAL_SCALE = 0.35  # field excess giving 63 % visual opacity [1]
SOLAR_SCALE = 1.0  # field excess giving 63 % of the full solar attenuation [1]
SOLAR_MAX_ATTENUATION = 0.8  # share of clear-sky GHI removed under thick cloud [1]


class CloudField:
    """The advected, evolving cloud field over the regions for the steps of ``index``.

    Parameters
    ----------
    locations : pandas.DataFrame
        ``location_id``, ``kind`` ('region' or a site kind), ``latitude``, ``longitude`` [deg] and,
        for regions, ``area_sq_km`` [km2]: where the weather frame's cloud cover is observed.
    weather : pandas.DataFrame
        Hourly ``bronze.raw_weather`` rows with ``timestamp``, ``location_id`` and
        ``cloud_cover_pct`` [%] (hour averages labelled at the hour start).
    index : pandas.DatetimeIndex
        Regular tz-aware UTC 5-minute interval starts: the field's steps.
    rng : numpy.random.Generator
        Source of the modes, the wind and the phase evolution.
    """

    def __init__(
        self,
        locations: pd.DataFrame,
        weather: pd.DataFrame,
        index: pd.DatetimeIndex,
        rng: np.random.Generator,
    ) -> None:
        from workbench.sim.satellite import albers_forward

        _require(locations, {"location_id", "kind", "latitude", "longitude"}, "cloud locations")
        _require(weather, {"timestamp", "location_id", "cloud_cover_pct"}, "cloud weather")
        if len(index) < 2 or index.tz is None:
            raise WorkbenchError(f"expected a tz-aware index of >= 2 steps; found {len(index)}")
        self.index = index
        self.step_s = (index[1] - index[0]).total_seconds()
        self._albers = albers_forward
        locs = locations.drop_duplicates("location_id").reset_index(drop=True)
        lx, ly = albers_forward(locs["longitude"].to_numpy(float), locs["latitude"].to_numpy(float))
        is_region = (locs["kind"] == "region").to_numpy()
        if not is_region.any():  # no regions: the sites anchor the blend themselves
            is_region = np.ones(len(locs), bool)
        area = (
            locs["area_sq_km"].to_numpy(float)
            if "area_sq_km" in locs
            else np.full(len(locs), np.nan)
        )
        self._anchor_xy = np.c_[lx[is_region], ly[is_region]]
        self._anchor_r2 = np.nan_to_num(area[is_region], nan=0.0) / np.pi * 1e6
        self._site_xy = np.c_[lx[~is_region], ly[~is_region]]
        self._cover_hourly, self._hours = _hourly_cover(weather, locs["location_id"].tolist())
        self._anchor_cols = np.flatnonzero(is_region)
        self._site_cols = np.flatnonzero(~is_region)
        sep = _nearest_separation(self._anchor_xy)
        self._temperature = 2.0 * BLEND_KM * 1e3 * sep  # softmax scale of the power distance [m2]

        # modes: log-uniform wavenumbers, random directions, power-law amplitudes (unit variance)
        k = 2 * np.pi / (1e3 * np.exp(rng.uniform(
            np.log(MIN_WAVELENGTH_KM), np.log(MAX_WAVELENGTH_KM), N_MODES)))  # fmt: skip
        direction = rng.uniform(0.0, 2 * np.pi, N_MODES)
        self.kx, self.ky = k * np.cos(direction), k * np.sin(direction)  # [rad/m]
        k0 = 2 * np.pi / (OUTER_SCALE_KM * 1e3)
        power = k**2 * (k**2 + k0**2) ** (-SLOPE / 2.0)  # per unit of log wavenumber
        self.amp = np.sqrt(2.0 * power / power.sum())  # sum(amp^2) / 2 = 1
        wavelength_km = 2 * np.pi / k / 1e3
        tau_s = TAU0 * np.clip((wavelength_km / 3.0) ** (2.0 / 3.0), 1.0, 24.0)
        self._phase_sd = np.sqrt(2.0 * self.step_s / tau_s)  # random-walk step [rad]
        self._phase0 = rng.uniform(0.0, 2 * np.pi, N_MODES)

        # cloud-level wind: slowly turning heading, wandering speed; displacement [m] per step
        n = len(index)
        heading = np.radians(45.0 + 35.0 * _ar1(rng, n, 12 * 3600.0 / self.step_s))
        speed = np.clip(12.0 + 3.5 * _ar1(rng, n, 6 * 3600.0 / self.step_s), 3.0, 30.0)
        self.wind_u, self.wind_v = speed * np.cos(heading), speed * np.sin(heading)  # [m/s]
        self.dx = np.r_[0.0, np.cumsum(self.wind_u[:-1] * self.step_s)]
        self.dy = np.r_[0.0, np.cumsum(self.wind_v[:-1] * self.step_s)]

        # phase evolution in blocks: each block's total from this generator, its path a Brownian
        # bridge from its own seed, so any block can be regenerated without the ones before it
        n_blocks = -(-n // BLOCK_STEPS)
        totals = rng.standard_normal((n_blocks, N_MODES)) * self._phase_sd * np.sqrt(BLOCK_STEPS)
        self._block_start = self._phase0 + np.vstack([np.zeros(N_MODES), np.cumsum(totals, 0)])
        self._block_seeds = rng.integers(0, 2**63, n_blocks)

    # ------------------------------------------------------------------ evaluation

    def steps_of(self, times: pd.DatetimeIndex) -> np.ndarray:
        """Positions in ``index`` of ``times`` (each must be one of its steps)."""
        pos = self.index.get_indexer(pd.DatetimeIndex(times).tz_convert("UTC"))
        if (pos < 0).any():
            bad = pd.DatetimeIndex(times)[pos < 0][0]
            raise WorkbenchError(
                f"expected times on the cloud field's 5-minute steps {self.index[0]} .. "
                f"{self.index[-1]}; found {bad}"
            )
        return pos

    def latent(self, x: np.ndarray, y: np.ndarray, steps: np.ndarray) -> np.ndarray:
        """The unit-variance latent field [1] at projected points and steps: (steps, points).

        Parameters
        ----------
        x, y : numpy.ndarray
            EPSG:5070 coordinates [m] of the points (1-D, same length).
        steps : numpy.ndarray
            Sorted step positions in ``index``.
        """
        x, y = np.ravel(x).astype(float), np.ravel(y).astype(float)
        kx_dot = np.outer(self.kx, x) + np.outer(self.ky, y)  # (mode, point)
        cos_p = (self.amp[:, None] * np.cos(kx_dot)).astype(np.float32)
        sin_p = (self.amp[:, None] * np.sin(kx_dot)).astype(np.float32)
        kx32, ky32 = self.kx.astype(np.float32), self.ky.astype(np.float32)
        steps = np.asarray(steps, int)
        out = np.empty((len(steps), len(x)))
        blocks = steps // BLOCK_STEPS
        for b in np.unique(blocks):
            rows = np.flatnonzero(blocks == b)
            lo = int(b) * BLOCK_STEPS
            # phases relative to the block start (float32 keeps its precision over a week)
            base = np.mod(self._block_start[b] - self.kx * self.dx[lo] - self.ky * self.dy[lo],
                          2 * np.pi).astype(np.float32)  # fmt: skip
            at = steps[rows]
            ddx = (self.dx[at] - self.dx[lo]).astype(np.float32)[:, None]
            ddy = (self.dy[at] - self.dy[lo]).astype(np.float32)[:, None]
            theta = base + self._phase_walk(int(b))[at - lo] - ddx * kx32 - ddy * ky32
            out[rows] = np.cos(theta) @ cos_p - np.sin(theta) @ sin_p
        return out

    def cover(self, x: np.ndarray, y: np.ndarray, steps: np.ndarray) -> np.ndarray:
        """Cloud cover fraction [0-1] at points and steps from the weather frame: (steps, points).

        Hourly covers are hour averages, interpolated linearly between hour centres to the
        centre of each 5-minute step; in space the regions' covers are blended over a soft power
        diagram, then pulled towards each site's own cover within about :data:`SITE_KM`.
        """
        x, y = np.ravel(x).astype(float), np.ravel(y).astype(float)
        hourly = self._at_steps(np.asarray(steps, int))  # (steps, locations)
        w = self._anchor_weights(x, y)  # (anchor, point)
        out = hourly[:, self._anchor_cols] @ w
        if len(self._site_cols):
            site_blend = hourly[:, self._anchor_cols] @ self._anchor_weights(*self._site_xy.T)
            resid = hourly[:, self._site_cols] - site_blend  # (steps, site)
            d2 = (self._site_xy[:, :1] - x) ** 2 + (self._site_xy[:, 1:] - y) ** 2
            g = np.exp(-d2 / (2.0 * (SITE_KM * 1e3) ** 2))  # (site, point)
            out += resid @ (g / np.maximum(g.sum(axis=0, keepdims=True), 1.0))
        return np.clip(out, 0.0, 1.0)

    def sample(
        self, x: np.ndarray, y: np.ndarray, steps: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """The latent field and the cloud thickness at points and steps, each (steps, points).

        The thickness [1] is the latent field's excess over the threshold of the local cover,
        0 where clear. Satellite reflectance and the plants' clear-sky index are both functions
        of it (:func:`visual_opacity`, :func:`clear_sky_index`); this is the one place either is
        sampled.
        """
        z = self.latent(x, y, steps)
        c = self.cover(x, y, steps)
        excess = z - ndtri(np.clip(1.0 - c, 1e-4, 1.0 - 1e-4))
        excess[c < 1e-3] = 0.0
        return z, np.maximum(excess, 0.0)

    def clear_sky_index_at(
        self, lon: np.ndarray, lat: np.ndarray, steps: np.ndarray | None = None
    ) -> np.ndarray:
        """Clear-sky index [1] at points given by longitude, latitude [deg]: (step, point).

        ``steps`` (sorted positions in ``index``; all of them when None) are evaluated a block
        at a time, so a caller can skip the night.
        """
        x, y = self.at_lonlat(lon, lat)
        steps = np.arange(len(self.index)) if steps is None else np.asarray(steps, int)
        out = np.empty((len(steps), np.size(x)))
        for lo in range(0, len(steps), BLOCK_STEPS):
            part = slice(lo, lo + BLOCK_STEPS)
            out[part] = clear_sky_index(self.sample(x, y, steps[part])[1])
        return out

    def at_lonlat(self, lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """EPSG:5070 coordinates [m] of longitudes and latitudes [deg]."""
        return self._albers(np.asarray(lon, float), np.asarray(lat, float))

    # ------------------------------------------------------------------ internals

    def _phase_walk(self, b: int) -> np.ndarray:
        """Mode phases [rad] of every step of block ``b`` relative to its start: float32
        (steps in block, mode), a Brownian bridge to the block's drawn total."""
        m = min(BLOCK_STEPS, len(self.index) - b * BLOCK_STEPS)
        gen = np.random.default_rng(self._block_seeds[b])
        w = gen.standard_normal((BLOCK_STEPS, N_MODES), dtype=np.float32)
        w -= w.mean(axis=0)  # increments given their sum: a Brownian bridge
        total = (self._block_start[b + 1] - self._block_start[b]).astype(np.float32)
        w *= self._phase_sd.astype(np.float32)
        w += total / BLOCK_STEPS
        path = np.cumsum(w[: m - 1], axis=0)
        return np.vstack([np.zeros((1, N_MODES), np.float32), path])

    def _anchor_weights(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        ax, ay = self._anchor_xy[:, :1], self._anchor_xy[:, 1:]
        power = (x - ax) ** 2 + (y - ay) ** 2 - self._anchor_r2[:, None]
        logits = -(power - power.min(axis=0)) / self._temperature
        w = np.exp(logits)
        return w / w.sum(axis=0)

    def _at_steps(self, steps: np.ndarray) -> np.ndarray:
        centre = self.index[steps].as_unit("ns").asi8.astype(float) + self.step_s * 5e8
        src = self._hours.as_unit("ns").asi8.astype(float) + 1.8e12
        pos = np.interp(centre, src, np.arange(len(src), dtype=float))
        lo = np.floor(pos).astype(int)
        hi = np.minimum(lo + 1, len(src) - 1)
        frac = (pos - lo)[:, None]
        return self._cover_hourly[lo] * (1.0 - frac) + self._cover_hourly[hi] * frac


def visual_opacity(thickness: np.ndarray) -> np.ndarray:
    """Share of the ground hidden from the satellite [0-1]: thin edges, opaque cores."""
    return 1.0 - np.exp(-np.asarray(thickness) / OPTICAL_SCALE)


def clear_sky_index(thickness: np.ndarray) -> np.ndarray:
    """Share of clear-sky GHI reaching the ground under a cloud of this thickness [1]: 1 in
    the clear, down to 1 - :data:`SOLAR_MAX_ATTENUATION` under thick cloud."""
    return 1.0 - SOLAR_MAX_ATTENUATION * (1.0 - np.exp(-np.asarray(thickness) / SOLAR_SCALE))


def cloud_locations(regions: pd.DataFrame, assets: pd.DataFrame | None = None) -> pd.DataFrame:
    """The locations of a :class:`CloudField`: region centres, then solar and wind sites."""
    parts = [regions.assign(location_id=regions["region_id"], kind="region")]
    if assets is not None:
        sites = assets.loc[assets["technology"].isin(["solar", "wind"])]
        parts.append(sites.assign(location_id=sites["asset_id"], kind=sites["technology"]))
    cols = ["location_id", "kind", "latitude", "longitude", "area_sq_km"]
    frame = pd.concat(parts, ignore_index=True)
    return frame.reindex(columns=cols)


def _hourly_cover(weather: pd.DataFrame, ids: list[str]) -> tuple[np.ndarray, pd.DatetimeIndex]:
    """Hourly cover fraction (hour, location); a location without rows takes the mean of the
    others (the blend treats it as part of its surroundings)."""
    rows = weather[weather["location_id"].isin(ids)]
    wide = (
        rows.assign(timestamp=pd.to_datetime(rows["timestamp"], utc=True))
        .groupby(["timestamp", "location_id"])["cloud_cover_pct"]
        .mean()
        .unstack("location_id")
    )
    if wide.empty:
        raise WorkbenchError(
            f"expected cloud_cover_pct rows for the regions and sites {ids[:5]} in the weather "
            "frame; found none"
        )
    wide = wide.sort_index().reindex(columns=ids).interpolate(limit_direction="both")
    values = wide.to_numpy(float)
    values = np.where(np.isnan(values), np.nanmean(values, axis=1, keepdims=True), values)
    return np.clip(values / 100.0, 0.0, 1.0), pd.DatetimeIndex(wide.index)


def _nearest_separation(xy: np.ndarray) -> float:
    if len(xy) < 2:
        return 300e3
    d = np.hypot(xy[:, :1] - xy[:, 0], xy[:, 1:] - xy[:, 1])
    np.fill_diagonal(d, np.inf)
    return max(float(np.median(d.min(axis=1))), 50e3)  # co-located anchors: 50 km


def _ar1(rng: np.random.Generator, n: int, tau_steps: float) -> np.ndarray:
    from scipy.signal import lfilter

    phi = np.exp(-1.0 / tau_steps)
    e = rng.standard_normal(n) * np.sqrt(1.0 - phi**2)
    e[0] /= np.sqrt(1.0 - phi**2)
    return lfilter([1.0], [1.0, -phi], e)


def _require(frame: pd.DataFrame, need: set[str], what: str) -> None:
    if not need <= set(frame.columns):
        raise MissingColumnsError(what, need - set(frame.columns), frame.columns)
