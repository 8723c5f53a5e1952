"""Solar nowcasts 15 min to 3 h: persistence, smart persistence and the satellite's clouds.

On a built lakehouse (``WORKBENCH_HOME``, or ``--home``; without one a custom profile, the ``ci``
profile with ``--satellite-days`` of 128-pixel frames, is built there first), for every solar
plant inside the satellite grid and every daylight frame time t (the issue), prints the MAE of
the plant's output at t + h [% of capacity] for

- persistence: the output at t;
- smart persistence: the clear-sky index at t times the clear-sky output at t + h;
- satellite: a linear model (least absolute deviations) of the clear-sky index at t + h on the
  index at t and the cloud index of the satellite frame at t, at the plant (bilinear between
  pixel centres) and at the point upwind of it by the cloud motion over h (motion vector from
  the frames t - 1 h and t by block matching; the cloud index smoothed more the longer h);
  fitted on the first half of the days, scored on the second.

Samples where the output is exactly zero in daylight (curtailed by dispatch or out of service)
are left out and counted: no weather-based method can see them.

The clear-sky output of a plant is the upper envelope of its own output by time of day (the
highest over the days at each 5-minute slot, smoothed), so the benchmark uses only the data a
user of the lakehouse has. Usage::

    WORKBENCH_HOME=/tmp/x .venv/bin/python benchmarks/solar_nowcast.py [--satellite-days 14]
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

HORIZONS_MIN = (15, 30, 45, 60, 90, 120, 150, 180)
MAX_SHIFT = 6  # pixels searched for the cloud motion over an hour


def ensure_lakehouse(home: Path | None, days: int, satellite_days: int) -> tuple[Path, str]:
    """A home with a built lakehouse: the given one if built, else a custom ci-like profile."""
    home = home or Path(os.environ.get("WORKBENCH_HOME", tempfile.mkdtemp(prefix="gm-nowcast-")))
    os.environ["WORKBENCH_HOME"] = str(home)
    from workbench.io.catalog import open_catalog

    if (home / "warehouse.duckdb").exists():
        return home, f"lakehouse at {home}"
    from workbench.sim.build import build_lakehouse
    from workbench.sim.profiles import get_profile

    profile = get_profile("ci").with_(
        name="nowcast", days=days, satellite_days=satellite_days, satellite_size=128
    )
    started = time.perf_counter()
    cat = open_catalog()
    build_lakehouse(cat, profile, seed=42)
    cat.close()
    took = time.perf_counter() - started
    return home, (
        f"built a ci-like profile ({days} days, {satellite_days} satellite days, 128 px) into "
        f"{home} in {took:.0f} s"
    )


def load_inputs(cat) -> tuple[pd.DataFrame, pd.DataFrame, np.ndarray, pd.DatetimeIndex, dict]:
    """Solar plants inside the grid, their 5-minute output, the frames and the plant pixels."""
    from workbench.io.satellite import lonlat_to_crs

    cube = cat.scan("bronze.satellite")
    frames = np.asarray(cube["reflectance"].values, dtype=np.float32)  # (time, y, x)
    times = pd.DatetimeIndex(pd.to_datetime(cube["time"].values)).tz_localize("UTC")
    assets = cat.read("bronze.raw_assets")
    plants = assets[assets["technology"] == "solar"].reset_index(drop=True)
    x, y = lonlat_to_crs(plants["longitude"].to_numpy(), plants["latitude"].to_numpy(), "EPSG:5070")
    x, y = np.asarray(x, float), np.asarray(y, float)
    xs, ys = np.asarray(cube["x"].values), np.asarray(cube["y"].values)
    col = np.abs(xs[None, :] - x[:, None]).argmin(axis=1)
    row = np.abs(ys[None, :] - y[:, None]).argmin(axis=1)
    pixel = np.abs(xs[1] - xs[0])
    inside = (np.abs(xs[col] - x) <= pixel) & (np.abs(ys[row] - y) <= pixel)
    plants = plants[inside].reset_index(drop=True)
    pix = {
        "row": row[inside],
        "col": col[inside],
        "rowf": ((y - ys[0]) / (ys[1] - ys[0]))[inside],  # fractional pixel position
        "colf": ((x - xs[0]) / (xs[1] - xs[0]))[inside],
    }
    gen = cat.read(
        "bronze.raw_generation",
        start=times[0] - pd.Timedelta("1h"),
        end=times[-1] + pd.Timedelta("4h"),
        where={"asset_id": plants["asset_id"].tolist()},
    )
    wide = gen.pivot_table(index="timestamp", columns="asset_id", values="generation_mw")
    wide.index = pd.DatetimeIndex(wide.index).tz_convert("UTC")
    return plants, wide[plants["asset_id"]], frames, times, pix


def clear_sky_envelope(wide: pd.DataFrame) -> pd.DataFrame:
    """Clear-sky output [MW] per plant and 5-minute step: the highest output at that time of
    day over the days, smoothed over 15 minutes."""
    slot = wide.index.hour * 12 + wide.index.minute // 5
    top = wide.groupby(slot).max()
    top = top.reindex(range(288)).fillna(0.0)
    top = top.rolling(3, center=True, min_periods=1).max()
    return pd.DataFrame(top.to_numpy()[slot], index=wide.index, columns=wide.columns)


def motion_vectors(frames: np.ndarray, lag: int = 4) -> np.ndarray:
    """Cloud motion [pixels per frame] (row, col) at each frame: the shift (up to
    :data:`MAX_SHIFT` pixels) that best matches the frame ``lag`` frames before onto this one,
    divided by ``lag``; smoothed over an hour (night frames hold the last daylight value)."""
    n, h, w = frames.shape
    m = MAX_SHIFT
    out = np.full((n, 2), np.nan)
    core = (slice(m, h - m), slice(m, w - m))
    for k in range(lag, n):
        now = frames[k][core]
        if now.std() < 1e-3 or frames[k - lag].std() < 1e-3:  # night: no texture to match
            continue
        score = np.full((2 * m + 1, 2 * m + 1), -np.inf)
        for dr in range(-m, m + 1):
            for dc in range(-m, m + 1):
                before = frames[k - lag][m - dr : h - m - dr, m - dc : w - m - dc]
                score[dr + m, dc + m] = np.corrcoef(before.ravel(), now.ravel())[0, 1]
        i, j = np.unravel_index(np.argmax(score), score.shape)
        out[k] = ((i - m) / lag, (j - m) / lag)
    return pd.DataFrame(out).ffill().bfill().fillna(0.0).rolling(4, min_periods=1).mean().to_numpy()


def cloud_index(frames: np.ndarray, day: np.ndarray) -> np.ndarray:
    """Heliosat-like cloud index [0-1]: (reflectance - ground) / (0.8 - ground), the ground
    being each pixel's 5th percentile over the daylight frames."""
    ground = np.quantile(frames[day], 0.05, axis=0)
    return np.clip((frames - ground) / np.maximum(0.8 - ground, 0.2), 0.0, 1.0)


def lad(x: np.ndarray, y: np.ndarray, iterations: int = 40) -> np.ndarray:
    """Least-absolute-deviation regression coefficients (iteratively reweighted least squares):
    the MAE-optimal linear model, robust to the bimodal clear-sky index."""
    coef, *_ = np.linalg.lstsq(x, y, rcond=None)
    for _ in range(iterations):
        sw = np.sqrt(1.0 / np.maximum(np.abs(y - x @ coef), 1e-3))
        coef, *_ = np.linalg.lstsq(x * sw[:, None], y * sw, rcond=None)
    return coef


def evaluate(plants, wide, frames, times, pix) -> pd.DataFrame:
    """MAE [% of capacity] per horizon and method over the second half of the days.

    Samples where the plant's output is exactly zero in daylight at t or t + h (curtailed by
    dispatch or out of service: no weather method can see that) are left out, and counted.
    """
    from scipy.ndimage import gaussian_filter, map_coordinates

    clear = clear_sky_envelope(wide)
    cap = plants.set_index("asset_id")["capacity_mw"].to_numpy()
    gen = wide.to_numpy() / cap
    cs = clear.to_numpy() / cap
    kc = np.clip(gen / np.maximum(cs, 1e-9), 0.0, 1.5)
    pos = wide.index.get_indexer(times)
    light = np.array([f.mean() for f in frames]) > 0.05
    ci = cloud_index(frames, light)
    motion = motion_vectors(frames)
    split = times[0] + (times[-1] - times[0]) / 2
    rows = []
    for h in HORIZONS_MIN:
        ahead, frames_ahead = h // 5, h / 15.0
        sigma = 0.5 + 0.02 * h  # the upwind cloud is smoothed more the further ahead [pixels]
        feats, target, now, truth, cs_ahead, test, dropped = [], [], [], [], [], [], 0
        for k in np.flatnonzero(light & (pos >= 0) & (pos + ahead < len(wide))):
            p = pos[k]
            sunny = (cs[p] >= 0.1) & (cs[p + ahead] >= 0.1)
            live = sunny & (gen[p] > 0) & (gen[p + ahead] > 0)
            dropped += int((sunny & ~live).sum())
            j = np.flatnonzero(live)
            if not len(j):
                continue
            rr, cc = pix["rowf"][j] - 0.5, pix["colf"][j] - 0.5
            local = map_coordinates(ci[k], [rr, cc], order=1, mode="nearest")
            upwind = map_coordinates(
                gaussian_filter(ci[k], sigma),
                [rr - motion[k, 0] * frames_ahead, cc - motion[k, 1] * frames_ahead],
                order=1,
                mode="nearest",
            )
            feats.append(np.c_[np.ones(len(j)), kc[p, j], upwind, upwind**2, local])
            target.append(kc[p + ahead, j])
            now.append(np.c_[gen[p, j], kc[p, j]])
            truth.append(gen[p + ahead, j])
            cs_ahead.append(cs[p + ahead, j])
            test.append(np.full(len(j), times[k] >= split))
        x, y, now = np.vstack(feats), np.concatenate(target), np.vstack(now)
        truth, cs_ahead, test = map(np.concatenate, (truth, cs_ahead, test))
        coef = lad(x[~test], y[~test])
        sat = np.clip(x[test] @ coef, 0.0, 1.5) * cs_ahead[test]
        mae = {
            "persistence": np.abs(now[test, 0] - truth[test]).mean(),
            "smart_persistence": np.abs(now[test, 1] * cs_ahead[test] - truth[test]).mean(),
            "satellite": np.abs(sat - truth[test]).mean(),
        }
        rows.append({"horizon_min": h, "n_test": int(test.sum()), "n_zero_left_out": dropped}
                    | {k: 100.0 * v for k, v in mae.items()})  # fmt: skip
    return pd.DataFrame(rows)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--home", type=Path, default=None, help="Lakehouse home (built if empty).")
    ap.add_argument("--days", type=int, default=21, help="System days of a profile built here.")
    ap.add_argument("--satellite-days", type=int, default=14)
    args = ap.parse_args()
    _home, note = ensure_lakehouse(args.home, args.days, args.satellite_days)
    print(note)
    from workbench.io.catalog import open_catalog

    cat = open_catalog()
    started = time.perf_counter()
    plants, wide, frames, times, pix = load_inputs(cat)
    print(
        f"{len(plants)} solar plants inside the grid; {len(times)} frames "
        f"{times[0]:%Y-%m-%d %H:%M} .. {times[-1]:%Y-%m-%d %H:%M} UTC"
    )
    table = evaluate(plants, wide, frames, times, pix)
    cat.close()
    table["satellite_skill_vs_smart_pct"] = 100.0 * (
        1.0 - table["satellite"] / table["smart_persistence"]
    )
    print("MAE [% of capacity], test = second half of the days, daylight issues every 15 min")
    print(table.round(2).to_string(index=False))
    print(f"evaluated in {time.perf_counter() - started:.1f} s")


if __name__ == "__main__":
    main()
