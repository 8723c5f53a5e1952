"""SCADA/EMS telemetry (``bronze.raw_scada``): per-asset active power every 2-4 s, faults included.

Each asset is scanned every ``interval_s`` seconds with its own phase offset and a small timing
jitter. The measured value follows the asset's 5-minute generation (``bronze.raw_generation``),
linearly interpolated between interval midpoints, plus a technology-dependent AR(1) process
(regulation, turbulence, cloud flicker) and transducer noise. On top, faults are injected and
labelled in ``ops.sim_events`` (source ``'scada'``):

============== ==================================================== ==========================
event_type     what the rows show                                   magnitude
============== ==================================================== ==========================
out_of_range   sentinel values (-9999, 32767, 65535...), mostly bad  the sentinel [MW]
spike          one or two samples jump by 20-100 % of capacity       the jump [MW]
flatline       the value is stuck (bit-identical) for 2-60 min       the stuck value [MW]
dropout        rows missing for 30 s - 30 min                        rows lost [count]
duplicate      every row of a 1-10 min window landed twice           rows duplicated [count]
out_of_order   a 10 s - 5 min window buffered and flushed late       flush delay [s]
time_skew      the RTU clock is off: timestamps shifted              skew [s]
============== ==================================================== ==========================

Faults that rules cannot catch (the rows look healthy: good quality codes, plausible values,
no sentinel, no bit-identical run, no gap):

======================== ========================================== ==========================
event_type               what the rows show                         magnitude
======================== ========================================== ==========================
calibration_drift        gain error ramping from 0 over 2-8 h        gain error reached
                         (cut by the day's end: the part so far)    [fraction]
bias_step                a constant offset of 3-15 % of capacity     offset [MW]
                         for 20 min - 3 h
stuck_with_noise         a frozen value plus transducer-size noise   frozen value [MW]
                         for 10 min - 2 h (never bit-identical)
intermittent_oscillation bursts of a 12-60 s sine of 2-8 % of        amplitude [MW]
                         capacity within 10-60 min
copied_from_asset        another asset's readings for 30 min - 4 h   mean |copied - true| [MW]
                         (``detail``: ``source=<asset_id>``), a     (>= 1 % of capacity)
                         source whose readings differ from the
                         asset's own by >= 1 % of its capacity
======================== ========================================== ==========================

Quality codes follow the catalog: 0 or 192 good (the convention is per RTU protocol: a
quarter of the assets send 0), 24 or 152 suspect, 8/16/64 bad; suspect and bad codes are mostly
on faulty rows, with a light background of isolated ones. Rows come in landing order (sorted by
``ingested_at``), so out-of-order and duplicated records look as they would in the stream.
Label ``end`` is exclusive (last affected scan + one interval).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
from scipy.signal import lfilter

from workbench.core.errors import MissingColumnsError, WorkbenchError
from workbench.sim.events import events_frame

SCADA_COLUMNS: tuple[str, ...] = ("timestamp", "asset_id", "value", "quality_code", "ingested_at")

#: Expected faults per asset and day, by event type (Poisson).
DEFAULT_FAULT_RATES: dict[str, float] = {
    "out_of_range": 0.15,
    "spike": 0.4,
    "flatline": 0.15,
    "dropout": 0.4,
    "duplicate": 0.2,
    "out_of_order": 0.2,
    "time_skew": 0.04,
    "calibration_drift": 0.05,
    "bias_step": 0.1,
    "stuck_with_noise": 0.1,
    "intermittent_oscillation": 0.1,
    "copied_from_asset": 0.05,
}

#: The fault types above whose rows keep good quality codes and plausible values.
SILENT_FAULTS: tuple[str, ...] = (
    "calibration_drift",
    "bias_step",
    "stuck_with_noise",
    "intermittent_oscillation",
    "copied_from_asset",
)

GOOD_CODES = (192, 0)
SUSPECT_CODES = (24, 152)
BAD_CODES = (8, 16, 64)
SENTINELS_MW = (-9999.0, -32768.0, 32767.0, 65535.0, 99999.0)

# technology -> (AR(1) std [fraction of capacity], AR(1) std [fraction of output], tau [s])
_PROCESS_NOISE: dict[str, tuple[float, float, float]] = {
    "solar": (0.002, 0.03, 45.0),
    "wind": (0.008, 0.03, 40.0),
    "gas_cc": (0.004, 0.0, 60.0),
    "gas_ct": (0.004, 0.0, 45.0),
    "coal": (0.003, 0.0, 90.0),
    "nuclear": (0.0005, 0.0, 120.0),
    "hydro": (0.005, 0.0, 60.0),
    "battery": (0.01, 0.0, 20.0),
}
_DEFAULT_NOISE = (0.004, 0.0, 60.0)
_MEASUREMENT_NOISE = 0.0005  # white transducer noise [fraction of capacity]
#: Least mean |copied - true| of a copied_from_asset fault [fraction of the asset's capacity]:
#: 20 x the transducer noise; a source reading what the asset reads (both idle) is no fault
COPY_MIN_ERROR = 0.01
_STR = pd.StringDtype("pyarrow", na_value=np.nan)
_NS = 1_000_000_000


def simulate_scada(
    generation: pd.DataFrame,
    assets: pd.DataFrame,
    start: Any,
    end: Any,
    interval_s: float,
    rng: np.random.Generator,
    asset_ids: Sequence[str] | None = None,
    *,
    fault_rates: Mapping[str, float] | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Simulate SCADA telemetry between ``start`` and ``end`` in one frame.

    Same arguments as :func:`iter_scada`, whose daily frames it concatenates.

    Returns
    -------
    scada : pandas.DataFrame
        ``bronze.raw_scada`` rows: timestamp (UTC), asset_id, value [MW], quality_code (int32),
        ingested_at (UTC), in landing order.
    events : pandas.DataFrame
        ``ops.sim_events`` labels of every injected fault.
    """
    frames, labels = [], []
    for frame, events in iter_scada(
        generation, assets, start, end, interval_s, rng, asset_ids, fault_rates=fault_rates
    ):
        frames.append(frame)
        labels.append(events)
    scada = pd.concat(frames, ignore_index=True) if frames else _empty_frame()
    events = pd.concat(labels, ignore_index=True) if labels else events_frame([])
    return scada, events


def iter_scada(
    generation: pd.DataFrame,
    assets: pd.DataFrame,
    start: Any,
    end: Any,
    interval_s: float,
    rng: np.random.Generator,
    asset_ids: Sequence[str] | None = None,
    *,
    fault_rates: Mapping[str, float] | None = None,
) -> Iterator[tuple[pd.DataFrame, pd.DataFrame]]:
    """Yield SCADA telemetry one UTC day at a time, with that day's fault labels.

    Parameters
    ----------
    generation : pandas.DataFrame
        ``bronze.raw_generation``: timestamp (5-min interval start, UTC), asset_id,
        generation_mw [MW], available. Should cover ``[start, end)``; beyond it the nearest
        interval is held.
    assets : pandas.DataFrame
        Assets with at least asset_id, technology and capacity_mw [MW].
    start, end : timestamp-like
        Period ``[start, end)`` of scans (naive values are taken as UTC).
    interval_s : float
        Nominal scan period [s], typically 2-4.
    rng : numpy.random.Generator
        Source of randomness; the output is deterministic for a given state.
    asset_ids : sequence of str, optional
        Assets to scan; default every asset of ``assets``.
    fault_rates : mapping, optional
        Expected faults per asset-day by event type; defaults :data:`DEFAULT_FAULT_RATES`.

    Yields
    ------
    (scada, events) : tuple of pandas.DataFrame
        One day of ``bronze.raw_scada`` rows (landing order) and its ``ops.sim_events`` labels.
    """
    start_ts, end_ts = _utc(start), _utc(end)
    if not interval_s > 0:
        raise WorkbenchError(f"expected interval_s > 0 [s]; found {interval_s!r}")
    if end_ts <= start_ts:
        raise WorkbenchError(f"expected end after start; found start={start_ts}, end={end_ts}")
    rates = dict(DEFAULT_FAULT_RATES)
    if fault_rates is not None:
        unknown = set(fault_rates) - set(rates)
        if unknown:
            raise WorkbenchError(
                f"expected fault types among {sorted(rates)}; found {sorted(unknown)}"
            )
        rates.update(fault_rates)
    table = _asset_table(assets, generation, asset_ids)
    grid_t0, gen = _generation_matrix(generation, table.index, start_ts, end_ts)
    n_assets = len(table)
    capacity = table["capacity_mw"].to_numpy(float)
    tech = table["technology"].to_numpy(str)

    phase_s = rng.uniform(0.0, interval_s, n_assets)
    good_code = np.where(rng.random(n_assets) < 0.75, GOOD_CODES[0], GOOD_CODES[1])
    latency_s = rng.uniform(0.2, 1.5, n_assets)
    ar_state = rng.standard_normal(n_assets)  # stationary unit AR(1) at start
    days = pd.date_range(start_ts.floor("D"), end_ts, freq="D")
    day_rngs = rng.spawn(len(days))
    ids = table.index.to_numpy(str)
    for day, day_rng in zip(days, day_rngs, strict=True):
        lo, hi = max(day, start_ts), min(day + pd.Timedelta(days=1), end_ts)
        if hi <= lo:
            continue
        t0_s = (lo - start_ts).total_seconds()
        t1_s = (hi - start_ts).total_seconds()
        k_lo = np.ceil((t0_s - phase_s) / interval_s).astype(np.int64)
        k_hi = np.ceil((t1_s - phase_s) / interval_s).astype(np.int64)
        counts = k_hi - k_lo
        n_max = int(counts.max())
        k = k_lo[:, None] + np.arange(n_max)[None, :]
        valid = np.arange(n_max)[None, :] < counts[:, None]
        nominal_s = phase_s[:, None] + k * interval_s  # seconds since start
        # ---- physical value: 5-min generation interpolated + AR(1) process + transducer noise
        pos = (nominal_s + (start_ts - grid_t0).total_seconds() - 150.0) / 300.0
        base = _interp_rows(gen, pos)
        unit_ar, ar_state = _unit_ar1(day_rng, tech, interval_s, n_max, ar_state)
        frac_cap, frac_out, _ = np.array([_PROCESS_NOISE.get(t, _DEFAULT_NOISE) for t in tech]).T
        sigma = frac_cap[:, None] * capacity[:, None] + frac_out[:, None] * np.abs(base)
        value = base + np.where(np.abs(base) > 1e-6, sigma * unit_ar, 0.0)
        lower = np.where(tech == "battery", -capacity, 0.0)[:, None]
        value = np.clip(value, lower, 1.02 * capacity[:, None])
        value += _MEASUREMENT_NOISE * capacity[:, None] * day_rng.standard_normal(value.shape)
        value = np.round(value, 3)
        quality = np.broadcast_to(good_code[:, None], value.shape).astype(np.int32)
        background = day_rng.random(value.shape)
        quality[background < 0.002] = day_rng.choice(SUSPECT_CODES, int((background < 0.002).sum()))
        bad_bg = background > 0.9995
        quality[bad_bg] = day_rng.choice(BAD_CODES, int(bad_bg.sum()))
        jitter_s = np.clip(day_rng.normal(0.0, 0.02 * interval_s, value.shape), -0.1, 0.1)
        stamp_s = np.clip(nominal_s + jitter_s, t0_s, t1_s - 0.001)
        ingest_s = stamp_s + latency_s[:, None] + day_rng.exponential(0.3, value.shape)
        repeats = valid.astype(np.int64)
        records: list[dict[str, Any]] = []
        frac_day = (t1_s - t0_s) / 86_400.0
        ctx = _FaultContext(
            rng=day_rng,
            value=value,
            quality=quality,
            stamp_s=stamp_s,
            ingest_s=ingest_s,
            repeats=repeats,
            counts=counts,
            capacity=capacity,
            interval_s=interval_s,
            start=start_ts,
            ids=ids,
            tech=tech,
            good_code=good_code,
            busy=np.zeros(value.shape, bool),
            records=records,
        )
        for kind, inject in _INJECT.items():  # a loop over faults (a few per asset-day)
            n_faults = day_rng.poisson(rates[kind] * frac_day, n_assets)
            for a in np.repeat(np.arange(n_assets), n_faults):
                inject(ctx, int(a))
        yield _assemble(ctx), events_frame(records)


class _FaultContext:
    """Day arrays (asset x scan) that the fault injectors edit in place."""

    def __init__(self, **kwargs: Any) -> None:
        self.__dict__.update(kwargs)

    def window(self, a: int, min_s: float, max_s: float) -> tuple[int, int] | None:
        """A random run of scans on asset ``a`` lasting ``min_s``-``max_s`` seconds that no
        other fault touches (so every label stays true), cut at the day's end; None when none
        is found."""
        run = self.drawn_window(a, min_s, max_s)
        return None if run is None else run[:2]

    def drawn_window(self, a: int, min_s: float, max_s: float) -> tuple[int, int, int] | None:
        """:meth:`window`, with the run's drawn length in scans (longer than ``i1 - i0`` when
        the day's end cut it: a fault that evolves in time keeps its pace)."""
        n = int(self.counts[a])
        for _ in range(10):
            length = max(1, int(self.rng.uniform(min_s, max_s) / self.interval_s))
            i0 = int(self.rng.integers(0, max(n - 1, 1)))
            i1 = min(i0 + length, n)
            if i1 > i0 and not self.busy[a, max(i0 - 1, 0) : i1 + 1].any():
                self.busy[a, i0:i1] = True
                return i0, i1, length
        return None

    def label(
        self, kind: str, a: int, i0: int, i1: int, magnitude: float, detail: str | None = None
    ) -> None:
        nominal = self.stamp_s[a, [i0, i1 - 1]]
        self.records.append(
            {
                "event_id": None,
                "event_type": kind,
                "source": "scada",
                "target_id": str(self.ids[a]),
                "start": self.start + pd.to_timedelta(round(nominal[0], 3), unit="s"),
                "end": self.start + pd.to_timedelta(round(nominal[1] + self.interval_s, 3), "s"),
                "magnitude": float(magnitude),
                "detail": detail,
            }
        )

    def codes(self, n: int, p_good: float, p_suspect: float, good: int) -> np.ndarray:
        u = self.rng.random(n)
        suspect = self.rng.choice(SUSPECT_CODES, n)
        bad = self.rng.choice(BAD_CODES, n)
        return np.where(u < p_good, good, np.where(u < p_good + p_suspect, suspect, bad))


def _out_of_range(ctx: _FaultContext, a: int) -> None:
    if (run := ctx.window(a, ctx.interval_s, 5 * ctx.interval_s)) is None:
        return
    i0, i1 = run
    sentinel = float(ctx.rng.choice(SENTINELS_MW))
    ctx.value[a, i0:i1] = sentinel
    ctx.quality[a, i0:i1] = ctx.codes(i1 - i0, 0.15, 0.25, int(ctx.good_code[a]))
    ctx.label("out_of_range", a, i0, i1, sentinel)


def _spike(ctx: _FaultContext, a: int) -> None:
    if (run := ctx.window(a, ctx.interval_s, 2 * ctx.interval_s)) is None:
        return
    i0, i1 = run
    jump = float(ctx.rng.choice([-1.0, 1.0]) * ctx.rng.uniform(0.2, 1.0) * ctx.capacity[a])
    ctx.value[a, i0:i1] = np.round(ctx.value[a, i0:i1] + jump, 3)
    ctx.quality[a, i0:i1] = ctx.codes(i1 - i0, 0.6, 0.3, int(ctx.good_code[a]))
    ctx.label("spike", a, i0, i1, jump)


def _flatline(ctx: _FaultContext, a: int) -> None:
    if (run := ctx.window(a, 120.0, 3600.0)) is None:
        return
    i0, i1 = run
    stuck = ctx.value[a, i0]
    ctx.value[a, i0:i1] = stuck
    ctx.quality[a, i0:i1] = ctx.codes(1, 0.5, 0.4, int(ctx.good_code[a]))[0]  # one code for the run
    ctx.label("flatline", a, i0, i1, stuck)


def _time_skew(ctx: _FaultContext, a: int) -> None:
    if (run := ctx.window(a, 300.0, 3600.0)) is None:
        return
    i0, i1 = run
    skew = float(ctx.rng.choice([-1.0, 1.0]) * ctx.rng.uniform(2.0, 120.0))
    ctx.label("time_skew", a, i0, i1, skew)
    ctx.stamp_s[a, i0:i1] += skew


def _out_of_order(ctx: _FaultContext, a: int) -> None:
    if (run := ctx.window(a, 10.0, 300.0)) is None:
        return
    i0, i1 = run
    delay = float(ctx.rng.uniform(5.0, 60.0))
    flush = ctx.ingest_s[a, i1 - 1] + delay
    ctx.ingest_s[a, i0:i1] = flush + 0.001 * np.arange(i1 - i0)
    ctx.label("out_of_order", a, i0, i1, delay)


def _dropout(ctx: _FaultContext, a: int) -> None:
    if (run := ctx.window(a, 30.0, 1800.0)) is None:
        return
    i0, i1 = run
    lost = int(ctx.repeats[a, i0:i1].sum())
    ctx.repeats[a, i0:i1] = 0
    if i1 < ctx.counts[a] and ctx.rng.random() < 0.5:  # first scan after reconnecting
        ctx.quality[a, i1] = ctx.rng.choice(SUSPECT_CODES)
    ctx.label("dropout", a, i0, i1, lost)


def _duplicate(ctx: _FaultContext, a: int) -> None:
    if (run := ctx.window(a, 60.0, 600.0)) is None:
        return
    i0, i1 = run
    ctx.repeats[a, i0:i1] *= 2
    ctx.label("duplicate", a, i0, i1, float(ctx.repeats[a, i0:i1].sum() / 2))


def _calibration_drift(ctx: _FaultContext, a: int) -> None:
    """A gain error growing at a steady pace from 0 to ``gain`` over the drawn 2-8 h; cut by
    the day's end, it stops at the error reached then (its label's magnitude), as the day's
    part of a longer drift (not a ramp squeezed into the minutes left)."""
    if (run := ctx.drawn_window(a, 2 * 3600.0, 8 * 3600.0)) is None:
        return
    i0, i1, length = run
    gain = float(ctx.rng.choice([-1.0, 1.0]) * ctx.rng.uniform(0.04, 0.12))
    ramp = gain * np.arange(i1 - i0) / max(length - 1, 1)
    ctx.value[a, i0:i1] = np.round(ctx.value[a, i0:i1] * (1.0 + ramp), 3)
    ctx.label("calibration_drift", a, i0, i1, float(ramp[-1]) if i1 - i0 < length else gain)


def _bias_step(ctx: _FaultContext, a: int) -> None:
    if (run := ctx.window(a, 1200.0, 3 * 3600.0)) is None:
        return
    i0, i1 = run
    offset = float(ctx.rng.choice([-1.0, 1.0]) * ctx.rng.uniform(0.03, 0.15) * ctx.capacity[a])
    ctx.value[a, i0:i1] = np.round(ctx.value[a, i0:i1] + offset, 3)
    ctx.label("bias_step", a, i0, i1, offset)


def _stuck_with_noise(ctx: _FaultContext, a: int) -> None:
    if (run := ctx.window(a, 600.0, 2 * 3600.0)) is None:
        return
    i0, i1 = run
    stuck = float(ctx.value[a, i0])
    noise = _MEASUREMENT_NOISE * ctx.capacity[a] * ctx.rng.standard_normal(i1 - i0)
    ctx.value[a, i0:i1] = np.round(stuck + noise, 3)
    ctx.label("stuck_with_noise", a, i0, i1, stuck)


def _intermittent_oscillation(ctx: _FaultContext, a: int) -> None:
    if (run := ctx.window(a, 600.0, 3600.0)) is None:
        return
    i0, i1 = run
    amplitude = float(ctx.rng.uniform(0.02, 0.08) * ctx.capacity[a])
    period_s = float(ctx.rng.uniform(max(12.0, 3 * ctx.interval_s), 60.0))
    t = ctx.stamp_s[a, i0:i1]
    on = np.zeros(i1 - i0, bool)  # bursts of 30-180 s, gaps of 30-300 s, starting with a burst
    edge, burst = t[0], True
    while edge <= t[-1]:
        length = ctx.rng.uniform(30.0, 180.0) if burst else ctx.rng.uniform(30.0, 300.0)
        if burst:
            on |= (t >= edge) & (t < edge + length)
        edge, burst = edge + length, not burst
    wave = amplitude * np.sin(2 * np.pi * (t - t[0]) / period_s + ctx.rng.uniform(0, 2 * np.pi))
    ctx.value[a, i0:i1] = np.round(ctx.value[a, i0:i1] + np.where(on, wave, 0.0), 3)
    ctx.label("intermittent_oscillation", a, i0, i1, amplitude)


def _copied_from_asset(ctx: _FaultContext, a: int) -> None:
    others = [b for b in range(len(ctx.ids)) if b != a]
    if not others or (run := ctx.window(a, 1800.0, 4 * 3600.0)) is None:
        return
    i0, i1 = run
    same = [b for b in others if ctx.tech[b] == ctx.tech[a]]  # a like-for-like mapping error
    floor = COPY_MIN_ERROR * ctx.capacity[a]
    for b in ctx.rng.permutation(same or others):
        j1 = min(i1, int(ctx.counts[b]))
        if j1 <= i0 or ctx.busy[b, i0:j1].any():
            continue
        error = float(np.mean(np.abs(ctx.value[b, i0:j1] - ctx.value[a, i0:j1])))
        if error >= floor:  # readings that match the asset's own are no fault
            break
    else:
        ctx.busy[a, i0:i1] = False  # no clean source that differs: give the window back
        return
    i1 = j1
    copied = ctx.value[b, i0:i1].copy()
    ctx.value[a, i0:i1] = copied
    ctx.label("copied_from_asset", a, i0, i1, error, detail=f"source={ctx.ids[b]}")


_INJECT = {
    "out_of_range": _out_of_range,
    "spike": _spike,
    "flatline": _flatline,
    "time_skew": _time_skew,
    "out_of_order": _out_of_order,
    "dropout": _dropout,
    "duplicate": _duplicate,
    "calibration_drift": _calibration_drift,
    "bias_step": _bias_step,
    "stuck_with_noise": _stuck_with_noise,
    "intermittent_oscillation": _intermittent_oscillation,
    "copied_from_asset": _copied_from_asset,
}


def _assemble(ctx: _FaultContext) -> pd.DataFrame:
    """Flatten the day arrays into landing-ordered rows (duplicates land 1-30 s later)."""
    reps = ctx.repeats.ravel()
    idx = np.repeat(np.arange(reps.size), reps)
    first = np.ones(idx.size, bool)
    first[1:] = idx[1:] != idx[:-1]
    ingest = ctx.ingest_s.ravel()[idx]
    ingest[~first] += ctx.rng.uniform(1.0, 30.0, int((~first).sum()))
    order = np.argsort(ingest, kind="stable")
    idx, ingest = idx[order], ingest[order]
    n_per = ctx.value.shape[1]
    t0 = ctx.start.value
    stamp_ns = t0 + np.round(ctx.stamp_s.ravel()[idx] * 1000).astype(np.int64) * 1_000_000
    ingest_ns = t0 + np.round(ingest * 1000).astype(np.int64) * 1_000_000
    return pd.DataFrame(
        {
            "timestamp": _utc_array(stamp_ns),
            "asset_id": _take_strings(ctx.ids, idx // n_per),
            "value": ctx.value.ravel()[idx],
            "quality_code": ctx.quality.ravel()[idx].astype(np.int32),
            "ingested_at": _utc_array(ingest_ns),
        },
        copy=False,
    )


def _unit_ar1(
    rng: np.random.Generator, tech: np.ndarray, dt_s: float, n: int, state: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Unit-variance AR(1) rows (one per asset), continuing from ``state`` (last value)."""
    out = np.empty((tech.size, n))
    noise = rng.standard_normal((tech.size, n))
    new_state = state.copy()
    for t in np.unique(tech):
        rows = tech == t
        phi = np.exp(-dt_s / _PROCESS_NOISE.get(t, _DEFAULT_NOISE)[2])
        gain = np.sqrt(1.0 - phi**2)
        zi = (phi * state[rows])[:, None]
        y, _ = lfilter([gain], [1.0, -phi], noise[rows], axis=1, zi=zi)
        out[rows] = y
        new_state[rows] = y[:, -1] if n else state[rows]
    return out, new_state


def _interp_rows(matrix: np.ndarray, pos: np.ndarray) -> np.ndarray:
    """Row-wise linear interpolation of ``matrix`` at fractional column positions ``pos``."""
    n_cols = matrix.shape[1]
    if n_cols == 1:
        return np.broadcast_to(matrix[:, :1], pos.shape).copy()
    pos = np.clip(pos, 0.0, n_cols - 1.0)
    i0 = np.minimum(np.floor(pos).astype(np.int64), n_cols - 2)
    w = pos - i0
    rows = np.arange(matrix.shape[0])[:, None]
    return matrix[rows, i0] * (1.0 - w) + matrix[rows, i0 + 1] * w


def _asset_table(
    assets: pd.DataFrame, generation: pd.DataFrame, asset_ids: Sequence[str] | None
) -> pd.DataFrame:
    need = {"asset_id", "technology", "capacity_mw"}
    if not need <= set(assets.columns):
        raise MissingColumnsError(
            "simulate_scada assets", need - set(assets.columns), assets.columns
        )
    need_gen = {"timestamp", "asset_id", "generation_mw"}
    if not need_gen <= set(generation.columns):
        raise MissingColumnsError(
            "simulate_scada generation", need_gen - set(generation.columns), generation.columns
        )
    table = assets.drop_duplicates("asset_id").set_index("asset_id")[["technology", "capacity_mw"]]
    if asset_ids is not None:
        missing = sorted(set(asset_ids) - set(table.index))
        if missing:
            raise WorkbenchError(
                f"expected asset_ids among the assets; found unknown {missing[:5]}"
            )
        table = table.loc[list(asset_ids)]
    return table


def _generation_matrix(
    generation: pd.DataFrame, ids: pd.Index, start: pd.Timestamp, end: pd.Timestamp
) -> tuple[pd.Timestamp, np.ndarray]:
    """(first 5-min interval, asset x interval generation [MW]) around ``[start, end)``."""
    times = pd.to_datetime(generation["timestamp"], utc=True)
    window = (times >= start - pd.Timedelta("10min")) & (times < end + pd.Timedelta("10min"))
    sub = generation.loc[window & generation["asset_id"].isin(ids)]
    grid = pd.date_range(
        start.floor("5min") - pd.Timedelta("5min"),
        end.ceil("5min") + pd.Timedelta("5min"),
        freq="5min",
    )
    wide = (
        sub.assign(timestamp=times[window])
        .pivot_table(index="asset_id", columns="timestamp", values="generation_mw", aggfunc="mean")
        .reindex(index=ids, columns=grid)
    )
    wide = wide.ffill(axis=1).bfill(axis=1).fillna(0.0)
    return grid[0], wide.to_numpy(float)


def _take_strings(labels: np.ndarray, codes: np.ndarray) -> pd.arrays.ArrowStringArray:
    import pyarrow as pa

    arr = pa.array(np.asarray(labels, dtype=object), type=pa.string()).take(pa.array(codes))
    return pd.arrays.ArrowStringArray(arr, dtype=_STR)


def _utc_array(ns: np.ndarray) -> pd.DatetimeIndex:
    return pd.DatetimeIndex(ns.view("datetime64[ns]"), tz="UTC")


def _utc(value: Any) -> pd.Timestamp:
    ts = pd.Timestamp(value)
    return (ts.tz_localize("UTC") if ts.tzinfo is None else ts.tz_convert("UTC")).as_unit("ns")


def _empty_frame() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "timestamp": pd.DatetimeIndex([], tz="UTC"),
            "asset_id": pd.array([], dtype=_STR),
            "value": np.array([], float),
            "quality_code": np.array([], np.int32),
            "ingested_at": pd.DatetimeIndex([], tz="UTC"),
        }
    )
