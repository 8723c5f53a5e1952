"""Throughput of the streaming frequency-excursion detector: 10,000 PMUs at 60 fps, one core.

Prints samples/s over a stream of 1-s batches (60 x 10,000) and the latency of one batch
(p50/p99), in order and with rows shuffled within each batch (allowed lateness 1 s).
Goals (DESIGN.md): >= 50M samples/s and < 20 ms per batch; printed, not asserted.

    .venv/bin/python benchmarks/frequency_stream.py [--pmus 10000] [--seconds 60]
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMEXPR_NUM_THREADS"):
    os.environ[_var] = "1"

import argparse  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402


def make_data(n_pmu: int, rate: int, seconds: int, seed: int = 0) -> np.ndarray:
    """``seconds`` of frequency [Hz], float32 (time x pmu): 0.012 Hz noise, a few excursions."""
    rng = np.random.default_rng(seed)
    f = (60.0 + rng.normal(0, 0.012, (seconds * rate, n_pmu))).astype(np.float32)
    for _ in range(max(seconds // 5, 1)):  # system-wide dips of 2 s on 30 % of the PMUs
        t0 = int(rng.integers(0, max(seconds - 2, 1) * rate))
        cols = rng.random(n_pmu) < 0.3
        f[t0 : t0 + 2 * rate, cols] -= np.float32(0.1)
    f[rng.random(f.shape) < 1e-4] = np.nan
    return f


def run(n_pmu: int, rate: int, seconds: int, shuffle: bool) -> dict[str, float]:
    from workbench.anomaly.frequency.stream import FrequencyDetector

    data = make_data(n_pmu, rate, min(seconds, 10))
    pmus = [f"PMU_{i:05d}" for i in range(n_pmu)]
    det = FrequencyDetector(pmus, allowed_lateness="1s" if shuffle else "0s")
    rng = np.random.default_rng(1)
    start = np.datetime64("2024-07-01T00:00:00", "ns").astype(np.int64)
    step = int(1e9 // rate)
    lat, episodes = [], 0
    batches = []
    for s in range(seconds):  # prepared up front: only push() is timed
        rows = (s % (data.shape[0] // rate)) * rate + np.arange(rate)
        t = start + (s * rate + np.arange(rate)) * step
        if shuffle:
            perm = rng.permutation(rate)
            rows, t = rows[perm], t[perm]
        batches.append((t, data[rows]))
    total0 = time.perf_counter()
    for t, v in batches:
        t0 = time.perf_counter()
        episodes += len(det.push(t, v))
        lat.append(time.perf_counter() - t0)
    episodes += len(det.flush())
    total = time.perf_counter() - total0
    lat_ms = np.array(lat) * 1e3
    return {
        "samples_per_s": seconds * rate * n_pmu / total,
        "p50_ms": float(np.percentile(lat_ms, 50)),
        "p99_ms": float(np.percentile(lat_ms, 99)),
        "episodes": episodes,
        "late_rows": det.late_rows,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pmus", type=int, default=10_000)
    parser.add_argument("--rate", type=int, default=60)
    parser.add_argument("--seconds", type=int, default=60)
    args = parser.parse_args()
    print(f"{args.pmus:,} PMUs x {args.rate} fps, {args.seconds} one-second batches, 1 thread")
    for shuffle in (False, True):
        r = run(args.pmus, args.rate, args.seconds, shuffle)
        label = "shuffled within batch, lateness 1 s" if shuffle else "in order"
        print(
            f"{label:38s} {r['samples_per_s'] / 1e6:7.1f} M samples/s (goal >= 50)  "
            f"batch p50 {r['p50_ms']:5.1f} ms  p99 {r['p99_ms']:5.1f} ms (goal < 20)  "
            f"episodes {r['episodes']}  late rows {r['late_rows']}"
        )


if __name__ == "__main__":
    main()
