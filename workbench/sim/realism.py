"""The realism table (issue 15): measured figures of a built lakehouse against real-grid ranges.

Every metric is defined in ``REALISM_METRICS.md`` (shared by the simulator helpers) and listed in
:data:`METRICS` with its range. :func:`realism_table` reads the bronze tables through the catalog
(aggregating the big ones in the warehouse: 5-min prices at every node, 5-min generation of every
asset), the PMU cube ``bronze.pmu``, the satellite cube ``bronze.satellite`` and
``ops.sim_events``, and returns one row per metric::

    {"metric": name, "value": float | None, "low": float | None, "high": float | None,
     "ok": bool, "reason": str (only where the value could not be measured)}

A metric that cannot be measured on the data (no oscillation event, no solar plant under the
satellite grid, ...) is reported with ``value=None``, ``ok=False`` and the reason, never skipped.

Two readings the definitions leave open, fixed here:

- ``ambient_band_exits_per_hour`` ignores samples inside *system* PMU events (target not a PMU:
  trips, rejections, oscillations) at every PMU, and inside a PMU's own events (dropout and
  bad-quality bursts) at that PMU only; each window widened to ``[start - 1 s, end + 120 s]``.
  Transitions are counted between consecutive samples that are both counted and not NaN.
- ``oscillation_amplitude_mhz_median`` skips a PMU whose window is more than 10 % NaN and
  interpolates the NaNs of the others linearly before the FFT.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from workbench.core.errors import DataAccessError, WorkbenchError
from workbench.core.extras import require

RT_STEP_H = 5 / 60  # hours per real-time interval
DAYS_PER_YEAR = 365.25
BAND_HZ = 0.05
EVENT_PAD_BEFORE_S = 1.0
EVENT_PAD_AFTER_S = 120.0
NADIR_WINDOW_S = 30.0
OSC_BAND_HZ = (0.1, 2.0)
OSC_MAX_NAN_SHARE = 0.10
CLEAR_SKY_MIN_W_PER_M2 = 200.0


@dataclass(frozen=True)
class Metric:
    """One row of the table: a name and its range (``None`` for an open bound)."""

    name: str
    low: float | None
    high: float | None
    why: str


#: The metrics, in the order of issue 15, with the ranges of REALISM.md.
METRICS: tuple[Metric, ...] = (
    Metric("rt_price_max_usd_per_mwh", 1000.0, None, "scarcity pricing toward the cap"),
    Metric("rt_price_hours_above_1000_per_year", 1.0, 30.0, "only a few scarcity hours a year"),
    Metric("rt_price_share_negative", 0.005, 0.10, "renewable surplus, production-credit bids"),
    Metric("rt_price_median_usd_per_mwh", 15.0, 45.0, "gas on the margin most hours"),
    Metric("rt_to_da_price_std_ratio", 1.3, None, "real time carries forecast errors"),
    Metric("congestion_share_nonzero_median_node", 0.02, 0.35, "constraints bind a minority"),
    Metric("summer_evening_to_night_price_ratio", 1.3, None, "the evening net-load peak"),
    Metric("coal_capacity_factor", 0.40, 0.75, "coal is mid-merit"),
    Metric("trip_nadir_delay_s_median", 4.0, 12.0, "governor and turbine lags"),
    Metric("ambient_band_exits_per_hour", None, 1.0, "±0.05 Hz rarely left outside events"),
    Metric("oscillation_amplitude_mhz_median", 1.0, 15.0, "forced oscillations are small"),
    Metric("satellite_cloud_vs_solar_output_corr", None, -0.6, "the same clouds"),
    Metric("winter_morning_peak_ratio", 1.02, None, "winter weekdays have a morning peak"),
    Metric("solar_capacity_factor", 0.20, 0.30, "annual solar fleet average"),
    Metric("wind_capacity_factor", 0.30, 0.40, "annual wind fleet average"),
    Metric("load_min_to_peak_ratio", 0.35, 0.50, "spring nights vs summer peak"),
    Metric("day_ahead_temperature_forecast_mae_f", 1.5, 4.0, "day-ahead temperature skill"),
)


class MetricUnavailableError(WorkbenchError):
    """The data hold nothing to measure a metric on (the row is reported, not ok)."""


def _in_range(value: float, low: float | None, high: float | None) -> bool:
    return (
        bool(np.isfinite(value))
        and (low is None or value >= low)
        and (high is None or value <= high)
    )


def realism_table(cat: Any) -> list[dict[str, Any]]:
    """Measure every metric of :data:`METRICS` on the lakehouse behind ``cat``.

    Returns
    -------
    list of dict
        ``metric``, ``value`` (float, or ``None`` with a ``reason``), ``low``, ``high`` (``None``
        for an open bound) and ``ok`` (value inside the range), in the order of :data:`METRICS`.
    """
    context = _Context(cat)
    measures: dict[str, Callable[[], float]] = {
        "rt_price_max_usd_per_mwh": lambda: context.market()["max"],
        "rt_price_hours_above_1000_per_year": context.hours_above_1000,
        "rt_price_share_negative": lambda: context.market()["share_negative"],
        "rt_price_median_usd_per_mwh": lambda: context.market()["median"],
        "rt_to_da_price_std_ratio": lambda: context.market()["std_ratio"],
        "congestion_share_nonzero_median_node": context.congestion_share,
        "summer_evening_to_night_price_ratio": context.summer_evening_ratio,
        "coal_capacity_factor": lambda: context.capacity_factor("coal"),
        "trip_nadir_delay_s_median": context.nadir_delay,
        "ambient_band_exits_per_hour": context.band_exits,
        "oscillation_amplitude_mhz_median": context.oscillation_amplitude,
        "satellite_cloud_vs_solar_output_corr": context.satellite_corr,
        "winter_morning_peak_ratio": context.winter_morning_ratio,
        "solar_capacity_factor": lambda: context.capacity_factor("solar"),
        "wind_capacity_factor": lambda: context.capacity_factor("wind"),
        "load_min_to_peak_ratio": context.load_min_to_peak,
        "day_ahead_temperature_forecast_mae_f": context.temperature_mae,
    }
    rows = []
    for metric in METRICS:
        row: dict[str, Any] = {"metric": metric.name, "low": metric.low, "high": metric.high}
        try:
            value = float(measures[metric.name]())
        except (MetricUnavailableError, DataAccessError) as exc:  # nothing to measure on
            row.update(value=None, ok=False, reason=str(exc))
        else:
            row.update(value=value, ok=_in_range(value, metric.low, metric.high))
            if not np.isfinite(value):
                row["reason"] = f"expected a finite value; found {value}"
        rows.append(row)
    return rows


# ---------------------------------------------------------------------------------- pure figures
def hub_hours_above(hub: pd.Series, threshold: float = 1000.0) -> float:
    """Hours a year the hub price [$/MWh] is above ``threshold``, from 5-min intervals.

    ``hub`` is indexed by the interval start; the period is ``len(hub) * 5 min``.
    """
    if hub.empty:
        raise MetricUnavailableError("expected real-time hub prices; found none")
    years = len(hub) * RT_STEP_H / 24.0 / DAYS_PER_YEAR
    return float((hub > threshold).sum() * RT_STEP_H / years)


def evening_to_night_ratio(hub: pd.Series, tz: str) -> float:
    """Mean hub price over local hour-starts 18-20 / over 1-4, June to September."""
    local = hub.index.tz_convert(tz)
    summer = local.month.isin([6, 7, 8, 9])
    evening = hub[summer & local.hour.isin([18, 19, 20])]
    night = hub[summer & local.hour.isin([1, 2, 3, 4])]
    if evening.empty or night.empty:
        raise MetricUnavailableError("expected real-time prices in June-September; found none")
    if night.mean() == 0:
        raise MetricUnavailableError("expected a non-zero summer night mean price; found 0")
    return float(evening.mean() / night.mean())


def nadir_delays(times: np.ndarray, system_hz: np.ndarray, starts: list[pd.Timestamp]) -> list:
    """Seconds from each start to the minimum of ``system_hz`` within ``[start, start + 30 s]``.

    ``times`` are naive UTC ``datetime64``; a start with no sample in its window is left out.
    """
    out = []
    for start in starts:
        t0 = np.datetime64(pd.Timestamp(start).tz_convert("UTC").tz_localize(None), "ns")
        t1 = t0 + np.timedelta64(int(NADIR_WINDOW_S * 1e9), "ns")
        i0 = np.searchsorted(times, t0, side="left")
        i1 = np.searchsorted(times, t1, side="right")
        window = system_hz[i0:i1]
        if not np.isfinite(window).any():
            continue
        k = i0 + int(np.nanargmin(window))
        out.append(float((times[k] - t0) / np.timedelta64(1, "s")))
    return out


def band_exits(freq: np.ndarray, counted: np.ndarray) -> int:
    """Transitions from ``|f - 60| <= 0.05`` to outside between consecutive counted samples.

    ``freq`` and ``counted`` are (time, pmu); NaN samples are never counted.
    """
    ok = counted & np.isfinite(freq)
    inside = np.abs(freq - 60.0) <= BAND_HZ
    exits = ok[:-1] & ok[1:] & inside[:-1] & ~inside[1:]
    return int(exits.sum())


def oscillation_amplitude_hz(series: np.ndarray, rate_hz: float) -> float | None:
    """Peak single-sided FFT amplitude ``2|X|/N`` [Hz] within 0.1-2 Hz of the detrended series.

    Returns ``None`` where more than 10 % of the samples are NaN or fewer than 4 remain.
    """
    x = np.asarray(series, float)
    bad = ~np.isfinite(x)
    if len(x) < 4 or bad.mean() > OSC_MAX_NAN_SHARE:
        return None
    idx = np.arange(len(x))
    if bad.any():
        x = x.copy()
        x[bad] = np.interp(idx[bad], idx[~bad], x[~bad])
    slope, intercept = np.polyfit(idx, x, 1)
    x = x - (slope * idx + intercept)
    amp = 2.0 * np.abs(np.fft.rfft(x)) / len(x)
    freqs = np.fft.rfftfreq(len(x), 1.0 / rate_hz)
    band = (freqs >= OSC_BAND_HZ[0]) & (freqs <= OSC_BAND_HZ[1])
    if not band.any():
        return None
    return float(amp[band].max())


def clear_sky_ghi(times: pd.DatetimeIndex, lat: float, lon: float) -> np.ndarray:
    """pvlib Ineichen clear-sky GHI [W/m2] at a point (Linke turbidity from pvlib's climatology)."""
    from pvlib.location import Location

    return Location(lat, lon).get_clearsky(times, model="ineichen")["ghi"].to_numpy()


def to_cube_crs(lon: Any, lat: Any, crs: str) -> tuple[np.ndarray, np.ndarray]:
    """Longitude/latitude [deg] to x/y [m] of the satellite cube, whose CRS must be the
    simulator's EPSG:5070 (NAD83 / Conus Albers; the projection is the simulator's own, equal to
    PROJ's to the nanometre).

    Raises
    ------
    MetricUnavailableError
        For any other CRS (``workbench.sim`` does not use PROJ; see
        ``workbench.io.satellite.lonlat_to_crs``).
    """
    from workbench.sim.satellite import albers_forward

    wkt = str(crs).replace(" ", "")
    if not (wkt.upper() == "EPSG:5070" or wkt.endswith('AUTHORITY["EPSG","5070"]]')):
        name = str(crs).split('"')[1] if str(crs).count('"') >= 2 else str(crs)[:60]
        msg = f"expected the satellite cube in EPSG:5070 (the simulator's grid); found {name}"
        raise MetricUnavailableError(msg)
    return albers_forward(np.asarray(lon, float), np.asarray(lat, float))


def winter_morning_ratio(system: pd.Series, tz: str) -> float:
    """Mean hourly system load over local hour-starts 7-8 / over 11-13 on winter weekdays.

    Winter is December to February; weekdays are Monday to Friday, US federal holidays excluded.
    """
    from pandas.tseries.holiday import USFederalHolidayCalendar

    local = system.index.tz_convert(tz)
    days = local.normalize().tz_localize(None)
    holidays = USFederalHolidayCalendar().holidays(days.min(), days.max())
    keep = local.month.isin([12, 1, 2]) & (local.dayofweek < 5) & ~days.isin(holidays)
    morning = system[keep & local.hour.isin([7, 8])]
    midday = system[keep & local.hour.isin([11, 12, 13])]
    if morning.empty or midday.empty:
        raise MetricUnavailableError("expected hourly load on winter weekdays; found none")
    return float(morning.mean() / midday.mean())


# ---------------------------------------------------------------------------------- catalog side
def _utc_index(values: Any) -> pd.DatetimeIndex:
    """A UTC DatetimeIndex from warehouse timestamps (naive ones are UTC, see the warehouse)."""
    index = pd.DatetimeIndex(values)
    return index.tz_localize("UTC") if index.tz is None else index.tz_convert("UTC")


class _Context:
    """Reads shared by several metrics, each done once and on demand."""

    def __init__(self, cat: Any) -> None:
        self.cat = cat
        self._cache: dict[str, Any] = {}

    def _once(self, key: str, compute: Callable[[], Any]) -> Any:
        if key not in self._cache:
            self._cache[key] = compute()
        return self._cache[key]

    # -- shared reads
    def tz(self) -> str:
        def compute() -> str:
            regions = self.cat.read("bronze.raw_regions", columns=["timezone"])
            if regions.empty:
                raise MetricUnavailableError("expected regions in bronze.raw_regions; found none")
            return str(regions["timezone"].mode().iloc[0])

        return self._once("tz", compute)

    def assets(self) -> pd.DataFrame:
        return self._once("assets", lambda: self.cat.read("bronze.raw_assets"))

    def pmu_events(self) -> pd.DataFrame:
        return self._once(
            "pmu_events", lambda: self.cat.read("ops.sim_events", where={"source": "pmu"})
        )

    def pmu(self) -> tuple[np.ndarray, np.ndarray, list[str], float]:
        def compute() -> tuple[np.ndarray, np.ndarray, list[str], float]:
            cube = self.cat.scan("bronze.pmu")
            times = cube["time"].values.astype("datetime64[ns]")
            if len(times) < 2:
                raise MetricUnavailableError(
                    "expected PMU samples in bronze.pmu; found fewer than 2"
                )
            freq = cube["frequency_hz"].transpose("time", "pmu").values.astype(np.float64)
            rate = 1.0 / (np.median(np.diff(times)) / np.timedelta64(1, "s"))
            return times, freq, [str(p) for p in cube["pmu"].values], float(rate)

        return self._once("pmu", compute)

    # -- market
    def _rt(self) -> Any:
        m = self.cat.scan("bronze.raw_market")
        return m.filter(m.market == "RT")

    def market(self) -> dict[str, float]:
        def compute() -> dict[str, float]:
            m = self.cat.scan("bronze.raw_market")
            lmp = m.lmp_usd_per_mwh
            stats = (
                m.group_by("market")
                .aggregate(
                    n=m.count(),
                    max=lmp.max(),
                    negative=(lmp < 0).ifelse(1, 0).sum(),
                    median=lmp.median(),
                    std=lmp.std(how="sample"),
                )
                .to_pandas()
                .set_index("market")
            )
            if "RT" not in stats.index or stats.loc["RT", "n"] == 0:
                raise MetricUnavailableError(
                    "expected market 'RT' rows in bronze.raw_market; found none"
                )
            rt = stats.loc["RT"]
            out = {
                "max": float(rt["max"]),
                "share_negative": float(rt["negative"] / rt["n"]),
                "median": float(rt["median"]),
            }
            if "DA" in stats.index and stats.loc["DA", "std"] > 0:
                out["std_ratio"] = float(rt["std"] / stats.loc["DA", "std"])
            return out

        stats = self._once("market", compute)
        if "std_ratio" not in stats:
            raise MetricUnavailableError("expected market 'DA' rows with spread; found none")
        return stats

    def hub(self) -> pd.Series:
        def compute() -> pd.Series:
            rt = self._rt()
            hub = (
                rt.group_by("timestamp")
                .aggregate(hub=rt.lmp_usd_per_mwh.mean())
                .order_by("timestamp")
                .to_pandas()
            )
            return pd.Series(hub["hub"].to_numpy(), index=_utc_index(hub["timestamp"]))

        return self._once("hub", compute)

    def hours_above_1000(self) -> float:
        return hub_hours_above(self.hub())

    def summer_evening_ratio(self) -> float:
        return evening_to_night_ratio(self.hub(), self.tz())

    def congestion_share(self) -> float:
        rt = self._rt()
        share = (
            rt.group_by("node_id")
            .aggregate(share=(rt.congestion_usd_per_mwh.abs() >= 0.01).ifelse(1.0, 0.0).mean())
            .to_pandas()
        )
        if share.empty:
            raise MetricUnavailableError("expected real-time congestion by node; found none")
        return float(share["share"].median())

    def capacity_factor(self, technology: str) -> float:
        assets = self.assets()
        fleet = assets[assets.technology == technology]
        capacity = float(fleet["capacity_mw"].sum())
        if fleet.empty or capacity <= 0:
            raise MetricUnavailableError(f"expected {technology} assets with capacity; found none")
        gen = self.cat.scan("bronze.raw_generation")
        g = gen.filter(gen.asset_id.isin(list(fleet["asset_id"])))
        total = g.aggregate(mw=g.generation_mw.sum(), steps=g.timestamp.nunique()).to_pandas()
        steps = int(total["steps"].iloc[0])
        if steps == 0:
            raise MetricUnavailableError(
                f"expected generation rows of the {technology} fleet; found none"
            )
        return float(total["mw"].iloc[0] / (capacity * steps))

    # -- frequency
    def nadir_delay(self) -> float:
        events = self.pmu_events()
        trips = events[events.event_type == "generator_trip"]
        if trips.empty:
            raise MetricUnavailableError(
                "expected generator_trip events in ops.sim_events; found none"
            )
        times, freq, _, _ = self.pmu()
        with np.errstate(all="ignore"):
            system = np.nanmedian(freq, axis=1) if freq.shape[1] else np.full(len(times), np.nan)
        delays = nadir_delays(times, system, list(trips["start"]))
        if not delays:
            raise MetricUnavailableError("expected PMU samples within 30 s of a trip; found none")
        return float(np.median(delays))

    def band_exits(self) -> float:
        times, freq, pmus, rate = self.pmu()
        counted = np.ones(freq.shape, bool)
        column = {p: i for i, p in enumerate(pmus)}
        for ev in self.pmu_events().itertuples():
            lo = np.datetime64(ev.start.tz_convert("UTC").tz_localize(None), "ns")
            hi = np.datetime64(ev.end.tz_convert("UTC").tz_localize(None), "ns")
            lo -= np.timedelta64(int(EVENT_PAD_BEFORE_S * 1e9), "ns")
            hi += np.timedelta64(int(EVENT_PAD_AFTER_S * 1e9), "ns")
            i0 = np.searchsorted(times, lo, side="left")
            i1 = np.searchsorted(times, hi, side="right")
            if ev.target_id in column:
                counted[i0:i1, column[ev.target_id]] = False
            else:
                counted[i0:i1, :] = False
        hours = float((counted & np.isfinite(freq)).sum()) / rate / 3600.0
        if hours == 0:
            raise MetricUnavailableError("expected PMU samples outside event windows; found none")
        return band_exits(freq, counted) / hours

    def oscillation_amplitude(self) -> float:
        events = self.pmu_events()
        osc = events[events.event_type == "forced_oscillation"]
        if osc.empty:
            raise MetricUnavailableError(
                "expected forced_oscillation events in ops.sim_events; found none"
            )
        times, freq, _, rate = self.pmu()
        amplitudes = []
        for ev in osc.itertuples():
            lo = np.datetime64(ev.start.tz_convert("UTC").tz_localize(None), "ns")
            hi = np.datetime64(ev.end.tz_convert("UTC").tz_localize(None), "ns")
            i0, i1 = np.searchsorted(times, lo, "left"), np.searchsorted(times, hi, "right")
            per_pmu = [oscillation_amplitude_hz(freq[i0:i1, p], rate) for p in range(freq.shape[1])]
            found = [a for a in per_pmu if a is not None]
            if found:
                amplitudes.append(max(found) * 1000.0)
        if not amplitudes:
            raise MetricUnavailableError(
                "expected PMU samples inside an oscillation window; found none"
            )
        return float(np.median(amplitudes))

    # -- solar and satellite
    def satellite_corr(self) -> float:
        cube = self.cat.scan("bronze.satellite")
        crs = cube.attrs.get("crs") or cube.attrs.get("crs_wkt")
        if not crs:
            raise MetricUnavailableError(
                "expected a CRS in the attributes of bronze.satellite; found none"
            )
        xs, ys = cube["x"].values.astype(float), cube["y"].values.astype(float)
        assets = self.assets()
        plants = assets[assets.technology == "solar"].reset_index(drop=True)
        if plants.empty:
            raise MetricUnavailableError("expected solar plants in bronze.raw_assets; found none")
        px, py = to_cube_crs(plants["longitude"], plants["latitude"], crs)
        dx, dy = abs(xs[1] - xs[0]) / 2, abs(ys[1] - ys[0]) / 2
        inside = (
            (px >= xs.min() - dx)
            & (px <= xs.max() + dx)
            & (py >= ys.min() - dy)
            & (py <= ys.max() + dy)
        )
        if not inside.any():
            raise MetricUnavailableError(
                "expected solar plants inside the satellite grid; found none"
            )
        plants, px, py = plants[inside].reset_index(drop=True), px[inside], py[inside]
        ix = np.abs(xs[None, :] - px[:, None]).argmin(axis=1)
        iy = np.abs(ys[None, :] - py[:, None]).argmin(axis=1)
        times = pd.DatetimeIndex(cube["time"].values).tz_localize("UTC")
        xr = require("xarray", feature="the realism table")
        refl = (
            cube["reflectance"]
            .isel(y=xr.DataArray(iy, dims="plant"), x=xr.DataArray(ix, dims="plant"))
            .transpose("time", "plant")
            .values
        )  # (time, plant), one pass over the frames
        gen = self.cat.read(
            "bronze.raw_generation",
            start=times.min().floor("5min"),
            end=times.max().floor("5min") + pd.Timedelta(minutes=5),
            where={"asset_id": list(plants["asset_id"])},
            columns=["timestamp", "asset_id", "generation_mw"],
        )
        wide = gen.pivot_table(index="timestamp", columns="asset_id", values="generation_mw")
        slots = times.floor("5min")
        corrs = []
        for k, plant in plants.iterrows():
            if plant["asset_id"] not in wide.columns or plant["capacity_mw"] <= 0:
                continue
            output = wide[plant["asset_id"]].reindex(slots).to_numpy() / plant["capacity_mw"]
            ghi = clear_sky_ghi(times, float(plant["latitude"]), float(plant["longitude"]))
            day = ghi >= CLEAR_SKY_MIN_W_PER_M2
            with np.errstate(divide="ignore", invalid="ignore"):
                csi = np.where(day, output / (ghi / 1000.0), np.nan)
            keep = day & np.isfinite(csi) & np.isfinite(refl[:, k])
            if keep.sum() < 3 or np.std(csi[keep]) == 0 or np.std(refl[keep, k]) == 0:
                continue
            corrs.append(float(np.corrcoef(refl[keep, k], csi[keep])[0, 1]))
        if not corrs:
            raise MetricUnavailableError(
                "expected daylight frames with varying output at a plant under the grid; found none"
            )
        return float(np.median(corrs))

    # -- load and weather
    def system_load(self) -> pd.Series:
        def compute() -> pd.Series:
            load = self.cat.scan("bronze.raw_load")
            hour = load.timestamp.truncate("h")
            per_region = load.group_by(hour=hour, region_id=load.region_id).aggregate(
                mw=load.load_mw.mean()
            )
            system = (
                per_region.group_by("hour")
                .aggregate(mw=per_region.mw.sum(), regions=per_region.region_id.nunique())
                .order_by("hour")
                .to_pandas()
            )
            if system.empty:
                raise MetricUnavailableError("expected rows in bronze.raw_load; found none")
            full = system[system["regions"] == system["regions"].max()]
            return pd.Series(full["mw"].to_numpy(), index=_utc_index(full["hour"]))

        return self._once("system_load", compute)

    def winter_morning_ratio(self) -> float:
        return winter_morning_ratio(self.system_load(), self.tz())

    def load_min_to_peak(self) -> float:
        system = self.system_load()
        return float(system.min() / system.max())

    def temperature_mae(self) -> float:
        f = self.cat.scan("bronze.raw_weather_forecast")
        w = self.cat.scan("bronze.raw_weather")
        issue_s = f.issue_time.epoch_seconds()
        lead_s = f.timestamp.epoch_seconds() - issue_s
        f = f.filter((issue_s % 86400) == 6 * 3600, lead_s >= 18 * 3600, lead_s <= 42 * 3600)
        f = f.select("location_id", "timestamp", forecast=f.temperature_f)
        w = w.select("location_id", "timestamp", actual=w.temperature_f)
        joined = f.join(w, ["location_id", "timestamp"])
        out = joined.aggregate(
            n=joined.count(), mae=(joined.forecast - joined.actual).abs().mean()
        ).to_pandas()
        if int(out["n"].iloc[0]) == 0:
            raise MetricUnavailableError(
                "expected 06:00 UTC forecasts at lead 18-42 h matching observations; found none"
            )
        return float(out["mae"].iloc[0])
