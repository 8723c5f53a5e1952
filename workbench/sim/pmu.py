"""Synchrophasor (PMU) cube ``bronze.pmu``: frequency, ROCOF, voltage phasor per PMU at 30/60 fps.

System frequency follows an aggregate swing equation on the system base (~80 GW),
``2H/f0 · dΔf/dt = −ΔP_load − D·Δf − ΔP_fast − ΔP_gov − ΔP_agc`` (per unit), with load damping D,
a small fast response (load resources, batteries), governors with 5 % droop on the responsive
fleet (1.2-2 s lag, 0.4-1 s dead time) feeding reheat turbines (a 20-30 % high-pressure share
at once, the rest after a 7.5-10 s reheater lag) and AGC moving their set points to restore
60 Hz over minutes (see :func:`draw_system_params`). The loop is linear: it is discretised once
(zero-order hold), split into first-order modes and run with ``scipy.signal.lfilter``, state
carried across blocks. ΔP_load is minute-scale wander plus second-scale noise, scaled so that
normal frequency has the drawn standard deviation (0.010-0.013 Hz: outside events the system
frequency leaves ±0.05 Hz less than about once a day), plus injected steps: generator trips
(900-2,750 MW, log-uniform: ROCOF 0.05-0.2 Hz/s, nadir 59.6-59.85 Hz 4-6 s after the trip,
settling by droop near 59.9 Hz, back within 0.01 Hz of 60 Hz in 2-6 minutes) and load
rejections.

Each region adds a local deviation (electromechanical swings, an inter-area mode rung by trips,
a forced oscillation of 0.2-2 Hz and 4-15 mHz (one per cube) with a regional mode shape,
decaying with a damping ratio of a few % once the source stops). Per PMU: the regional
frequency plus measurement noise; ROCOF, the smoothed derivative; voltage magnitude with slow
wander, capacitor switching steps and dips at trips; the voltage angle against the
nominal-60-Hz UTC reference, turning with the integral of the frequency deviation plus the
local power-flow angle, wrapped to [-180, 180) degrees. Noise keeps the total vector error at
0.2-1 %. Quality: 0 good, 1 bad-quality burst (sync lost: values unreliable), 2 dropout
(values NaN); both come in labelled bursts. Randomness is drawn per minute of data from seeds
fixed up front, so the cube is the same whatever ``block_minutes`` it is produced in.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np
import pandas as pd
from numpy.polynomial import polynomial as npoly
from scipy.signal import cont2discrete, lfilter, tf2ss

from workbench.core.errors import WorkbenchError
from workbench.sim.events import events_frame

NOMINAL_HZ = 60.0
PMU_VARIABLES = ("frequency_hz", "rocof_hz_per_s", "voltage_magnitude_pu", "voltage_angle_deg")
QUALITY_GOOD, QUALITY_BAD, QUALITY_DROPOUT = 0, 1, 2
_WARMUP_PAGES = 15  # minutes of noise run before ``start`` so the cube starts in steady state
_PAGE_OFFSET = 1000  # SeedSequence entropy must be non-negative
#: Keyword options of :func:`simulate_pmu` and :func:`iter_pmu_blocks`, with their defaults.
OPTIONS: dict[str, Any] = {
    "system_base_mw": 80_000.0,  # system base of the swing equation [MW]
    "trip_mw": (900.0, 2750.0),  # range of generator trip sizes [MW]
    "rejection_mw": (400.0, 1500.0),  # range of load rejection sizes [MW]
    # forced-oscillation frequencies [Hz]: real ones span 0.1-2 Hz, but a few-mHz one below
    # 0.2 Hz hides in the ambient wander of a minutes-long window, so the cube's single one
    # is drawn where a detector can show it
    "oscillation_hz": (0.2, 2.0),
    "dropouts_per_hour": 1.2,  # dropout bursts per PMU and hour
    "bad_quality_per_hour": 0.8,  # bad-quality bursts per PMU and hour
}


def make_pmu_ids(grid_or_regions: Any, n: int) -> pd.Series:
    """Assign ``n`` PMUs to regions, in proportion to population (at least one each when n allows).

    Parameters
    ----------
    grid_or_regions : Grid or pandas.DataFrame
        A :class:`workbench.sim.regions.Grid` or a ``bronze.raw_regions`` frame.
    n : int
        Number of PMUs.

    Returns
    -------
    pandas.Series
        Region id of each PMU, indexed by PMU id ('PMU_0001', ...), index name ``pmu``, series
        name ``region_id``. Pass it as ``pmu_ids`` to :func:`simulate_pmu` so PMUs of one
        region share that region's local dynamics; ``list(series.index)`` gives the ids.
    """
    regions = getattr(grid_or_regions, "regions", grid_or_regions)
    if "region_id" not in regions.columns:
        raise WorkbenchError(f"expected a Grid or a regions frame; found {list(regions.columns)}")
    weight = regions["population"].to_numpy(float) if "population" in regions else None
    weight = np.ones(len(regions)) if weight is None or weight.sum() <= 0 else weight
    floor = 1 if n >= len(regions) else 0
    share = weight / weight.sum() * (n - floor * len(regions))
    counts = floor + np.floor(share).astype(int)
    counts[np.argsort(share - np.floor(share))[::-1][: n - counts.sum()]] += 1
    region_of = np.repeat(regions["region_id"].to_numpy(str), counts)
    index = pd.Index([f"PMU_{i:04d}" for i in range(1, n + 1)], name="pmu")
    return pd.Series(region_of, index=index, name="region_id")


def draw_system_params(rng: np.random.Generator) -> dict[str, float]:
    """Draw the swing-loop parameters of one cube (keywords of :func:`system_filter`).

    Inertia H 5-7 s on the 80 GW base (400-560 GW·s), load damping 1-2, a small fast response,
    governors (5 % droop on about 40 % of the fleet) with a 1.2-2 s lag and 0.4-1 s dead time
    feeding reheat turbines (reheater 7.5-10 s, high-pressure share 20-30 %), AGC restoring
    60 Hz with a 1-2 minute time constant. Trips of 900-2,750 MW then reach their nadir 4-6 s
    after the loss (59.6-59.85 Hz), settle by droop and are back within 0.01 Hz in 2-6 minutes.
    """
    return {
        "inertia_s": rng.uniform(5.0, 7.0),
        "damping": rng.uniform(1.0, 2.0),
        "fast_gain": rng.uniform(0.0, 0.7),
        "fast_lag_s": rng.uniform(0.3, 0.8),
        "governor_gain": rng.uniform(7.0, 9.5),
        "governor_lag_s": rng.uniform(1.2, 2.0),
        "governor_delay_s": rng.uniform(0.4, 1.0),
        "reheat_lag_s": rng.uniform(7.5, 10.0),
        "hp_fraction": rng.uniform(0.2, 0.3),
        "agc_s": rng.uniform(60.0, 120.0),
    }


def system_filter(
    rate_hz: float,
    *,
    inertia_s: float = 6.0,
    damping: float = 1.5,
    fast_gain: float = 0.5,
    fast_lag_s: float = 0.5,
    governor_gain: float = 8.5,
    governor_lag_s: float = 1.5,
    governor_delay_s: float = 0.6,
    reheat_lag_s: float = 8.5,
    hp_fraction: float = 0.25,
    agc_s: float = 90.0,
) -> SwingFilter:
    """Discrete filter from load imbalance [pu] to frequency deviation [pu].

    The loop, per unit on the system base: ``2H s Δf = −ΔP − D Δf − ΔP_fast − ΔP_mech`` with a
    fast response ``ΔP_fast = K_f Δf / (1 + s T_f)`` (load resources, batteries), governors
    ``K_g Δf · e^{−s τ} / (1 + s T_g)`` (droop 5 % on the responsive share, dead time τ as a
    first-order Padé term) feeding a reheat turbine ``(1 + s F T_rh) / (1 + s T_rh)`` (the
    high-pressure fraction F acts at once, the rest after the reheater lag), and AGC moving the
    governors' set points by ``β / (T_agc s)`` (frequency bias β = D + K_f + K_g) through the
    same turbines.

    Parameters
    ----------
    rate_hz : float
        Sample rate [1/s].
    inertia_s : float
        Aggregate inertia constant H on the system base [s].
    damping : float
        Load damping D [pu power / pu frequency].
    fast_gain, fast_lag_s : float
        Fast primary response gain [pu/pu] and first-order lag [s].
    governor_gain, governor_lag_s, governor_delay_s : float
        Governor gain (1/droop times the responsive share) [pu/pu], lag [s] and dead time [s].
    reheat_lag_s, hp_fraction : float
        Reheater time constant [s] and the high-pressure turbine's share of the power [-].
    agc_s : float
        Time constant of secondary control (AGC) restoring the frequency [s].

    Returns
    -------
    SwingFilter
        The loop discretised (zero-order hold) and split into first-order modes;
        ``filt(dP_pu)[0] * 60`` is the deviation [Hz].
    """
    s = np.array([0.0, 1.0])
    half = governor_delay_s / 2.0
    lag_f = np.array([1.0, fast_lag_s])
    gov = npoly.polymul([1.0, governor_lag_s], [1.0, half])  # governor lag and Padé pole
    reheat = np.array([1.0, reheat_lag_s])
    mech = npoly.polymul([1.0, hp_fraction * reheat_lag_s], [1.0, -half])  # turbine and Padé zero
    k_agc = (damping + fast_gain + governor_gain) / agc_s
    common = npoly.polymul(lag_f, npoly.polymul(gov, reheat))
    den = npoly.polymul(npoly.polymul([damping, 2.0 * inertia_s], s), common)
    den = npoly.polyadd(den, fast_gain * npoly.polymul(s, npoly.polymul(gov, reheat)))
    den = npoly.polyadd(den, governor_gain * npoly.polymul(s, npoly.polymul(lag_f, mech)))
    den = npoly.polyadd(den, k_agc * npoly.polymul(lag_f, mech))
    num = -npoly.polymul(s, common)
    return SwingFilter(num[::-1], den[::-1], rate_hz)


class SwingFilter:
    """A continuous transfer function discretised (zero-order hold) as parallel first-order modes.

    A polynomial (``lfilter``) form of the fifth-order loop loses the AGC's slow pole to
    rounding at 60 fps (its poles lie within 1e-4 of 1); the modal form keeps every pole exact.

    Parameters
    ----------
    num, den : array-like
        Continuous numerator and denominator, highest power first (proper: deg num <= deg den).
    rate_hz : float
        Sample rate [1/s].
    """

    def __init__(self, num: Any, den: Any, rate_hz: float) -> None:
        a, b, c, d = tf2ss(num, den)
        ad, bd, cd, dd, _ = cont2discrete((a, b, c, d), 1.0 / rate_hz, method="zoh")
        lam, vec = np.linalg.eig(ad)
        self.poles = lam
        self.gains = (cd @ vec).ravel() * np.linalg.solve(vec, bd).ravel()
        self.direct = float(np.squeeze(dd))
        self.order = lam.size

    def __call__(
        self, x: np.ndarray, zi: np.ndarray | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """Filter ``x`` (1-D) from state ``zi`` (zeros if None); returns (output, final state)."""
        x = np.asarray(x, np.float64)
        zi = np.zeros(self.order, complex) if zi is None else zi
        out = np.zeros(x.size, complex)
        zf = np.empty(self.order, complex)
        for j, (lam, g) in enumerate(zip(self.poles, self.gains, strict=True)):
            y, z = lfilter([0.0, g], [1.0, -lam], x, zi=zi[j : j + 1])
            out += y
            zf[j] = z[0]
        return out.real + self.direct * x, zf


def simulate_pmu(
    pmu_ids: Sequence[str] | pd.Series,
    rate_hz: float,
    start: Any,
    minutes: int,
    n_events: int,
    rng: np.random.Generator,
    **options: Any,
) -> tuple[Any, pd.DataFrame]:
    """Simulate a whole PMU cube in memory (use :func:`iter_pmu_blocks` for large cubes).

    Parameters
    ----------
    pmu_ids : sequence of str or pandas.Series
        PMU ids, or the Series of :func:`make_pmu_ids` (PMU id -> region id). Plain ids are
        spread over four areas.
    rate_hz : float
        Reporting rate [frames/s], 30 or 60.
    start : timestamp-like
        First frame (UTC; naive values are taken as UTC).
    minutes : int
        Duration [min].
    n_events : int
        Grid events injected (generator trips, load rejections, forced oscillations; at least
        one of each when ``n_events >= 3``). Dropout and bad-quality bursts come in addition.
    rng : numpy.random.Generator
        Source of randomness.
    **options
        Overrides of :data:`OPTIONS` (system base, trip and rejection sizes, burst rates).

    Returns
    -------
    cube : xarray.Dataset
        Dims (time, pmu); float32 frequency_hz [Hz], rocof_hz_per_s [Hz/s],
        voltage_magnitude_pu [pu], voltage_angle_deg [deg]; int8 quality (0 good).
    events : pandas.DataFrame
        ``ops.sim_events`` (source 'pmu'): trips and rejections (target 'system', magnitude MW),
        forced_oscillation ('system', its frequency [Hz]), dropout and bad_quality (the PMU id,
        duration [s]).
    """
    import xarray as xr

    blocks, labels = [], [events_frame([])]
    for block, so_far in iter_pmu_blocks(
        pmu_ids, rate_hz, start, minutes, n_events, rng, block_minutes=10, **options
    ):
        blocks.append(block)
        labels.append(so_far)
    return xr.concat(blocks, dim="time"), labels[-1]


def iter_pmu_blocks(
    pmu_ids: Sequence[str] | pd.Series,
    rate_hz: float,
    start: Any,
    minutes: int,
    n_events: int,
    rng: np.random.Generator,
    block_minutes: int = 10,
    **options: Any,
) -> Iterator[tuple[Any, pd.DataFrame]]:
    """Yield the PMU cube ``block_minutes`` at a time, with the events that started so far.

    Same arguments as :func:`simulate_pmu`. Blocks are consecutive in time; a 10-minute block
    of 1,000 PMUs at 60 fps holds 36M samples per variable (about 0.6 GB in all), so an hour
    can be written to Zarr block by block within about 2 GB.

    Yields
    ------
    (block, events) : tuple of xarray.Dataset and pandas.DataFrame
        The next block of the cube and ``ops.sim_events`` of every event starting before its end.
    """
    if int(block_minutes) < 1 or int(minutes) < 1:
        raise WorkbenchError(
            f"expected minutes and block_minutes >= 1; found {minutes!r}, {block_minutes!r}"
        )
    model = _PmuModel(pmu_ids, float(rate_hz), start, int(minutes), int(n_events), rng, **options)
    for p0 in range(0, int(minutes), int(block_minutes)):
        p1 = min(p0 + int(block_minutes), int(minutes))
        yield model.block(p0, p1), model.events_before(p1 * 60.0)


class _PmuModel:
    """Plan (parameters, events, seeds) drawn up front, then state carried from block to block."""

    def __init__(self, pmu_ids: Any, rate_hz: float, start: Any, minutes: int, n_events: int,
                 rng: np.random.Generator, **options: Any) -> None:  # fmt: skip
        unknown = set(options) - set(OPTIONS)
        if unknown:
            raise WorkbenchError(
                f"expected options among {sorted(OPTIONS)}; found {sorted(unknown)}"
            )
        opt = {**OPTIONS, **options}
        system_base_mw = float(opt["system_base_mw"])
        self.ids, region_of = _pmu_table(pmu_ids)
        _, self.reg_idx = np.unique(region_of, return_inverse=True)
        n_reg, n_pmu = int(self.reg_idx.max()) + 1, len(self.ids)
        self.rate, self.page_n = rate_hz, int(np.rint(rate_hz * 60.0))
        if self.page_n < 1 or abs(rate_hz * 60.0 - self.page_n) > 1e-6:
            raise WorkbenchError(
                f"expected a whole number of frames per minute; found {rate_hz} fps"
            )
        ts = pd.Timestamp(start)
        self.start = (ts.tz_convert("UTC") if ts.tzinfo else ts.tz_localize("UTC")).as_unit("ns")
        self.base_mw, dt, span_s = system_base_mw, 1.0 / rate_hz, minutes * 60.0
        self.params = draw_system_params(rng)
        self.swing = system_filter(rate_hz, **self.params)
        # load noise: unit AR(1) wander (minutes) and fast noise (seconds), scaled to the target std
        self.sigma_hz = rng.uniform(0.010, 0.013)
        share_w = rng.uniform(0.6, 0.8)
        self.phi = np.exp(-dt / np.array([rng.uniform(60.0, 180.0), rng.uniform(1.0, 3.0)]))
        impulse = np.zeros(int(2400 * rate_hz))
        impulse[0] = 1.0
        self.amp = np.empty(2)
        for j, share in enumerate((share_w, 1.0 - share_w)):
            ar = lfilter([np.sqrt(1 - self.phi[j] ** 2)], [1.0, -self.phi[j]], impulse)
            h = self.swing(ar)[0] * NOMINAL_HZ
            self.amp[j] = np.sqrt(share) * self.sigma_hz / np.sqrt(np.sum(h**2))
        # regional and per-PMU parameters
        self.loc_sigma_hz = rng.uniform(0.001, 0.002, n_reg)
        mode = rng.uniform(-1.0, 1.0, n_reg)
        self.mode = (mode - mode.mean()) / max(np.abs(mode - mode.mean()).max(), 1e-9)
        self.v_sigma = rng.uniform(0.002, 0.005, n_reg)
        self.flow_sigma_deg = rng.uniform(2.0, 6.0, n_reg)
        self.angle0_deg = rng.uniform(-30.0, 30.0, n_reg)
        self.theta_deg = np.full(n_reg, rng.uniform(-180.0, 180.0))
        self.v0 = rng.uniform(0.985, 1.04, n_pmu)
        self.pmu_angle_deg = rng.uniform(-12.0, 12.0, n_pmu)
        tve = rng.uniform(0.002, 0.01, n_pmu)
        self.noise = {
            "frequency_hz": rng.uniform(0.0005, 0.0015, n_pmu),
            "rocof_hz_per_s": rng.uniform(0.005, 0.015, n_pmu),
            "voltage_magnitude_pu": self.v0 * tve / 2.0,
            "voltage_angle_deg": np.degrees(tve / 2.0),
        }
        n_steps = rng.poisson(2.0 * minutes / 60.0 * n_reg)
        self.steps = (
            rng.uniform(0, span_s, n_steps),
            rng.integers(0, n_reg, n_steps),
            rng.choice([-1.0, 1.0], n_steps) * rng.uniform(0.003, 0.008, n_steps),
        )
        self.seed = int(rng.integers(0, 2**63 - 1))
        step = self.swing(np.ones(int(1200 * rate_hz)))[0] * NOMINAL_HZ
        self.grid_events = _plan_grid_events(
            rng, n_events, span_s, n_reg, opt["trip_mw"], opt["rejection_mw"], opt["oscillation_hz"]
        )
        for ev in self.grid_events:
            if ev["kind"] in ("generator_trip", "load_rejection"):
                dev = np.abs(step) * ev["mw"] / system_base_mw
                ev["end_s"] = ev["t_s"] + (np.flatnonzero(dev > 0.01)[-1] + 1) * dt
        self.bursts = _plan_bursts(rng, n_pmu, span_s, opt, force=n_events > 0)
        self.z_sys, self.z_ar = np.zeros(self.swing.order, complex), np.zeros((2, 1))
        self.z_loc, self.z_reg = np.zeros((1, n_reg)), np.zeros((2, 1, n_reg))
        self.z_rocof, self.f_last = np.zeros((1, n_reg)), np.zeros(n_reg)
        for page in range(-_WARMUP_PAGES, 0):  # settle the filters on noise before the start
            e_sys, e_reg = self._page_noise(page)[:2]
            t = (page * self.page_n + np.arange(self.page_n)) * dt
            self._regional(t, self._system(t, e_sys), e_reg)

    # ------------------------------------------------------------------ noise and dynamics
    def _page_noise(self, page: int, n_pmu: int = 0) -> tuple[np.ndarray, ...]:
        g = np.random.default_rng([self.seed, page + _PAGE_OFFSET])
        e_sys = g.standard_normal((2, self.page_n))
        e_reg = g.standard_normal((3, self.page_n, self.mode.size))
        pmu = (
            tuple(g.standard_normal((self.page_n, n_pmu), dtype=np.float32) for _ in PMU_VARIABLES)
            if n_pmu
            else ()
        )
        return (e_sys, e_reg, *pmu)

    def _system(self, t: np.ndarray, e: np.ndarray) -> np.ndarray:
        """System frequency deviation [Hz] at times ``t`` [s since start]."""
        dp_pu = np.zeros(t.size)
        for j in range(2):
            ar, self.z_ar[j] = lfilter(
                [np.sqrt(1 - self.phi[j] ** 2)], [1.0, -self.phi[j]], e[j], zi=self.z_ar[j]
            )
            dp_pu += self.amp[j] * ar
        for ev in self.grid_events:
            if ev["kind"] != "forced_oscillation":
                sign = 1.0 if ev["kind"] == "generator_trip" else -1.0
                dp_pu += sign * ev["mw"] / self.base_mw * (t >= ev["t_s"])
        dev, self.z_sys = self.swing(dp_pu, self.z_sys)
        return dev * NOMINAL_HZ

    def _regional(self, t: np.ndarray, sys_hz: np.ndarray, e: np.ndarray) -> tuple[np.ndarray, ...]:
        """Regional frequency deviation [Hz], ROCOF [Hz/s], angle [deg], voltage deviation [pu]."""
        dt = 1.0 / self.rate
        phi_loc, phi_v, phi_flow = np.exp(-dt / np.array([2.0, 300.0, 900.0]))
        ar, self.z_loc = lfilter([np.sqrt(1 - phi_loc**2)], [1, -phi_loc], e[0], 0, self.z_loc)
        local = ar * self.loc_sigma_hz
        volt, self.z_reg[0] = lfilter([np.sqrt(1 - phi_v**2)], [1, -phi_v], e[1], 0, self.z_reg[0])
        volt *= self.v_sigma
        flow, self.z_reg[1] = lfilter(
            [np.sqrt(1 - phi_flow**2)], [1, -phi_flow], e[2], 0, self.z_reg[1]
        )
        for t_k, r_k, size in zip(*self.steps, strict=True):
            volt[t >= t_k, r_k] += size
        for ev in self.grid_events:
            tau = t - ev["t_s"]
            if ev["kind"] == "forced_oscillation":
                w, d = 2 * np.pi * ev["hz"], ev["duration_s"]
                on = (tau >= 0) & (tau < d + 6.0 / (ev["zeta"] * w))
                s = tau[on]
                env = np.where(s < d, np.minimum(s / 2.0, 1.0), np.exp(-ev["zeta"] * w * (s - d)))
                phase = np.where(self.mode < 0, np.pi, 0.0)
                gain = 0.6 + 0.4 * np.abs(self.mode)
                local[on] += ev["amp_hz"] * gain * env[:, None] * np.sin(w * s[:, None] + phase)
                continue
            on = (tau >= 0) & (tau < 60.0)
            s = tau[on][:, None]
            w = 2 * np.pi * ev["mode_hz"]
            ring = np.exp(-ev["zeta"] * w * s) * np.sin(w * s)
            local[on] += ev["ring_hz"] * self.mode * ring
            sign = -1.0 if ev["kind"] == "generator_trip" else 1.0
            weight = np.where(np.arange(self.mode.size) == ev["region"], 1.0, 0.3)
            volt[on] += sign * ev["dip_pu"] * weight * np.exp(-s / 3.0)
        dev = sys_hz[:, None] + local
        deriv = np.diff(np.vstack([self.f_last, dev]), axis=0) * self.rate
        self.f_last = dev[-1].copy()
        alpha = np.exp(-dt / 0.1)
        rocof, self.z_rocof = lfilter([1 - alpha], [1, -alpha], deriv, 0, self.z_rocof)
        theta = self.theta_deg + np.cumsum(dev * (360.0 * dt), axis=0)
        self.theta_deg = np.mod(theta[-1], 360.0)
        angle = np.mod(theta + self.angle0_deg + flow * self.flow_sigma_deg, 360.0)
        return dev, rocof, angle, volt

    # ------------------------------------------------------------------ blocks and labels
    def block(self, p0: int, p1: int) -> Any:
        import xarray as xr

        n, n_pmu, rows = (p1 - p0) * self.page_n, len(self.ids), self.page_n
        idx = p0 * self.page_n + np.arange(n)
        t = idx / self.rate
        e_sys, e_reg = np.empty((2, n)), np.empty((3, n, self.mode.size))
        data = {v: np.empty((n, n_pmu), np.float32) for v in PMU_VARIABLES}
        for k, page in enumerate(range(p0, p1)):
            sl = slice(k * rows, (k + 1) * rows)
            noise = self._page_noise(page, n_pmu)
            e_sys[:, sl], e_reg[:, sl] = noise[0], noise[1]
            for v, arr in zip(PMU_VARIABLES, noise[2:], strict=True):
                data[v][sl] = arr
        dev, rocof, angle, volt = self._regional(t, self._system(t, e_sys), e_reg)
        regional = {
            "frequency_hz": (NOMINAL_HZ + dev).astype(np.float32),
            "rocof_hz_per_s": rocof.astype(np.float32),
            "voltage_magnitude_pu": (1.0 + volt).astype(np.float32),
            "voltage_angle_deg": angle.astype(np.float32),
        }
        v0, angle0 = self.v0.astype(np.float32), self.pmu_angle_deg.astype(np.float32) + 180.0
        for c in range(0, n, 8192):  # row chunks keep the (time, pmu) temporaries small
            rs = slice(c, min(c + 8192, n))
            for v in PMU_VARIABLES:
                arr = data[v][rs]
                arr *= self.noise[v].astype(np.float32)
                local = regional[v][rs][:, self.reg_idx]
                if v == "voltage_magnitude_pu":
                    local *= v0
                arr += local
            ang = data["voltage_angle_deg"][rs]
            ang += angle0
            np.mod(ang, np.float32(360.0), out=ang)
            ang -= np.float32(180.0)
        quality = np.zeros((n, n_pmu), np.int8)
        self._apply_bursts(t, data, quality)
        stamps = self.start.value + np.round(idx * (1e9 / self.rate)).astype(np.int64)
        return xr.Dataset(
            {v: (("time", "pmu"), data[v]) for v in PMU_VARIABLES}
            | {"quality": (("time", "pmu"), quality)},
            coords={"time": stamps.view("datetime64[ns]"), "pmu": self.ids},
            attrs={"nominal_frequency_hz": NOMINAL_HZ, "system_base_mw": self.base_mw}
            | {k: float(v) for k, v in self.params.items()},
        )

    def _apply_bursts(
        self, t: np.ndarray, data: dict[str, np.ndarray], quality: np.ndarray
    ) -> None:
        for k, (kind, p, t0, t1) in enumerate(self.bursts):
            i0, i1 = np.searchsorted(t, [t0, t1])
            if i1 <= i0:
                continue
            if kind == "dropout":
                for v in PMU_VARIABLES:
                    data[v][i0:i1, p] = np.nan
                quality[i0:i1, p] = QUALITY_DROPOUT
                continue
            # bad quality: sync lost, the angle drifts and the frequency gets noisy
            g = np.random.default_rng([self.seed, 2, k])
            j0 = int(np.rint((t[i0] - t0) * self.rate))
            n_all = int(np.ceil((t1 - t0) * self.rate)) + 1
            drift = np.linspace(0.0, g.uniform(-8.0, 8.0), n_all)[j0 : j0 + i1 - i0]
            jitter = g.normal(0.0, 0.01, n_all)[j0 : j0 + i1 - i0]
            ok = quality[i0:i1, p] == QUALITY_GOOD
            data["voltage_angle_deg"][i0:i1, p] += np.where(ok, drift, 0).astype(np.float32)
            data["frequency_hz"][i0:i1, p] += np.where(ok, jitter, 0).astype(np.float32)
            quality[i0:i1, p] = np.where(ok, QUALITY_BAD, quality[i0:i1, p])
            ang = data["voltage_angle_deg"][i0:i1, p]
            data["voltage_angle_deg"][i0:i1, p] = np.mod(ang + 180.0, 360.0) - 180.0

    def events_before(self, t_s: float) -> pd.DataFrame:
        records = []
        for ev in self.grid_events:
            if ev["t_s"] < t_s:
                mag = ev["hz"] if ev["kind"] == "forced_oscillation" else ev["mw"]
                records.append(self._record(ev["kind"], "system", ev["t_s"], ev["end_s"], mag))
        for kind, p, t0, t1 in self.bursts:
            if t0 < t_s:
                records.append(self._record(kind, str(self.ids[p]), t0, t1, t1 - t0))
        frame = events_frame(records)
        return frame.sort_values("start", kind="stable", ignore_index=True)

    def _record(self, kind: str, target: str, t0: float, t1: float, mag: float) -> dict[str, Any]:
        return {
            "event_id": None,
            "event_type": kind,
            "source": "pmu",
            "target_id": target,
            "start": self.start + pd.Timedelta(round(t0 * 1e9), "ns"),
            "end": self.start + pd.Timedelta(round(t1 * 1e9), "ns"),
            "magnitude": float(mag),
        }


def _plan_grid_events(rng: np.random.Generator, n_events: int, span_s: float, n_reg: int,
                      trip_mw: tuple[float, float], rejection_mw: tuple[float, float],
                      oscillation_hz: tuple[float, float]) -> list[dict[str, Any]]:  # fmt: skip
    """Event types (one of each first), spread one per slot, early in the slot to leave recovery."""
    kinds = ["generator_trip", "load_rejection", "forced_oscillation"][: max(n_events, 0)]
    # forced oscillations are rare: one per cube, the other events trips and rejections
    extra = rng.choice(["generator_trip", "load_rejection"], max(n_events - 3, 0), p=[0.7, 0.3])
    kinds = list(rng.permutation(kinds + list(extra)))
    slot = 0.9 * span_s / max(n_events, 1)
    events = []
    for j, kind in enumerate(kinds):
        t_s = round(0.05 * span_s + j * slot + rng.uniform(0.0, 0.35) * slot, 3)
        if kind == "forced_oscillation":
            hz = float(np.exp(rng.uniform(*np.log(oscillation_hz))))
            duration = min(max(rng.uniform(30.0, 180.0), 8.0 / hz), 0.5 * slot)
            zeta = rng.uniform(0.02, 0.08)
            end_s = t_s + duration + np.log(20.0) / (zeta * 2 * np.pi * hz)
            amp_hz = float(np.exp(rng.uniform(np.log(0.004), np.log(0.015))))  # 4-15 mHz
            events.append({"kind": kind, "t_s": t_s, "hz": hz, "amp_hz": amp_hz,
                           "zeta": zeta, "duration_s": duration, "end_s": end_s})  # fmt: skip
            continue
        lo, hi = trip_mw if kind == "generator_trip" else rejection_mw
        mw = float(np.exp(rng.uniform(np.log(lo), np.log(hi))))  # small losses more often
        events.append({"kind": kind, "t_s": t_s, "mw": mw, "region": int(rng.integers(n_reg)),
                       "mode_hz": rng.uniform(0.5, 0.8), "zeta": rng.uniform(0.05, 0.12),
                       "ring_hz": rng.uniform(0.01, 0.025) * mw / 2750.0,
                       "dip_pu": rng.uniform(0.01, 0.03) * mw / 2750.0})  # fmt: skip
    return events


def _plan_bursts(
    rng: np.random.Generator, n_pmu: int, span_s: float, opt: dict, force: bool
) -> list:
    """Dropout and bad-quality bursts per PMU: (kind, pmu index, start [s], end [s])."""
    bursts = []
    for kind, rate, median_s, cap_s in (
        ("dropout", opt["dropouts_per_hour"], 1.0, 120.0),
        ("bad_quality", opt["bad_quality_per_hour"], 3.0, 60.0),
    ):
        counts = rng.poisson(rate * span_s / 3600.0, n_pmu)
        if force and counts.sum() == 0:
            counts[rng.integers(n_pmu)] = 1
        pmus = np.repeat(np.arange(n_pmu), counts)
        starts = np.round(rng.uniform(0.0, span_s, pmus.size), 3)
        lengths = np.round(
            np.clip(np.exp(rng.normal(np.log(median_s), 1.0, pmus.size)), 0.1, cap_s), 3
        )
        bursts += [
            (kind, int(p), float(s), float(min(s + d, span_s)))
            for p, s, d in zip(pmus, starts, lengths, strict=True)
        ]
    return bursts


def _pmu_table(pmu_ids: Sequence[str] | pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """PMU ids and their region (or one of four areas for plain ids)."""
    if isinstance(pmu_ids, pd.Series):
        ids, regions = pmu_ids.index.to_numpy(str), pmu_ids.to_numpy(str)
    else:
        ids = np.asarray(list(pmu_ids), dtype=str)
        regions = np.array([f"AREA_{i % 4}" for i in range(ids.size)])
    if ids.size == 0:
        raise WorkbenchError("expected at least one PMU id; found none")
    if len(set(ids.tolist())) != ids.size:
        raise WorkbenchError("expected unique PMU ids; found duplicates")
    return ids, regions
