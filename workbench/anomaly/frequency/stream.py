"""Streaming frequency-excursion detector: many PMUs, one numpy pass per batch.

A batch is a 2-D block ``time x pmu`` (a second of a 10,000-PMU feed at 60 fps is 60 x 10,000).
Rows may arrive late or out of order: a reorder buffer holds them until the watermark
``max time seen - allowed_lateness`` passes, then releases them in time order to the episode rule
(:mod:`workbench.anomaly.frequency.episodes`), which works on the few out-of-band samples only.

Late data: a row whose time is at or before the last row already released cannot be processed in
order; it is dropped and counted in :attr:`FrequencyDetector.late_rows` (never silently). Rows with
equal times are deduplicated (the first to arrive wins) and counted in ``duplicate_rows``.
Missing samples are NaN (never out of band); a gap in time is a quiet spell like any other.
Bad-quality samples (``quality != 0``) are ignored: they neither trigger nor extend an episode.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from workbench.anomaly.base import AnomalyInputError, duration_ns, times_ns
from workbench.anomaly.frequency.episodes import (
    NO_TIME,
    Episodes,
    EpisodeState,
    out_of_band,
    to_frame,
)


class FrequencyDetector:
    """Incremental "``count`` samples outside the band within ``window``" detector per PMU.

    Parameters
    ----------
    pmus : sequence of str
        PMU ids, one per column of the batches.
    nominal_hz : float
        Nominal frequency [Hz] (60 or 50).
    band_hz : float
        Half-width of the normal band [Hz]; out of band is strictly outside
        ``[nominal - band, nominal + band]``.
    count : int
        Out-of-band samples that trigger an alert.
    window : str, Timedelta or float
        Window [s] within which ``count`` samples must fall, and the quiet spell that ends an
        episode.
    allowed_lateness : str, Timedelta or float
        How long [s] a row may trail the newest row seen and still be processed in order.

    Examples
    --------
    >>> det = FrequencyDetector(["PMU_1"], window="5s")  # doctest: +SKIP
    >>> closed = det.push(times, values)  # values: (time, pmu) [Hz]  # doctest: +SKIP
    >>> closed = det.flush()  # doctest: +SKIP
    """

    def __init__(
        self,
        pmus: Sequence[str],
        nominal_hz: float = 60.0,
        band_hz: float = 0.05,
        count: int = 3,
        window: Any = "5s",
        allowed_lateness: Any = "0s",
    ) -> None:
        validate_rule(nominal_hz, band_hz, count)
        self.pmus = np.asarray(list(pmus), dtype=object)
        if self.pmus.size == 0:
            raise AnomalyInputError("expected at least one PMU; found none")
        self.lo, self.hi = float(nominal_hz) - float(band_hz), float(nominal_hz) + float(band_hz)
        self.window_ns = duration_ns(window, "window")
        if self.window_ns <= 0:
            raise AnomalyInputError(f"expected window > 0; found {window!r}")
        self.lateness_ns = duration_ns(allowed_lateness, "allowed_lateness")
        self.state = EpisodeState(self.pmus.size, int(count), self.window_ns)
        self._buf: list[tuple[np.ndarray, np.ndarray, np.ndarray | None]] = []
        self._max_seen = NO_TIME
        self._released = NO_TIME
        self.late_rows = 0
        self.duplicate_rows = 0
        self.rows_processed = 0

    # ------------------------------------------------------------------ public API
    def push(self, times: Any, values: Any, quality: Any = None) -> Any:
        """Add a batch; return the episodes it closes (a frame, possibly empty).

        Parameters
        ----------
        times : array-like of timestamps, shape (n,)
            Row times (UTC; naive values are UTC), in any order.
        values : array-like, shape (n, n_pmu)
            Frequency [Hz]; NaN for missing samples.
        quality : array-like of int, shape (n, n_pmu), optional
            0 good; anything else flags the sample, which is then ignored.
        """
        t = times_ns(times)
        v = np.asarray(values)
        if v.ndim == 1 and self.pmus.size == 1:
            v = v[:, None]
        if v.ndim != 2 or v.shape != (t.size, self.pmus.size):
            msg = (
                f"expected values of shape ({t.size}, {self.pmus.size}) (time x pmu); "
                f"found {v.shape}"
            )
            raise AnomalyInputError(msg)
        q = None if quality is None else np.asarray(quality).reshape(v.shape)
        if t.size == 0:
            return self._frame(Episodes.empty())
        late = t <= self._released
        if late.any():
            self.late_rows += int(late.sum())
            keep = ~late
            t, v, q = t[keep], v[keep], None if q is None else q[keep]
            if t.size == 0:
                return self._frame(Episodes.empty())
        self._buf.append((t, v, q))
        self._max_seen = max(self._max_seen, int(t.max()))
        return self._frame(self._release(self._max_seen - self.lateness_ns))

    def flush(self) -> Any:
        """Process everything buffered and close every open episode (end of the stream)."""
        closed = self._release(None)
        return self._frame(Episodes.concat([closed, self.state.close_all()]))

    # ------------------------------------------------------------------ internals
    def _release(self, watermark: int | None) -> Episodes:
        if not self._buf:
            return Episodes.empty()
        if len(self._buf) == 1:
            t, v, q = self._buf[0]
        else:
            t = np.concatenate([b[0] for b in self._buf])
            v = np.concatenate([b[1] for b in self._buf])
            q = None
            if any(b[2] is not None for b in self._buf):
                q = np.concatenate(
                    [np.zeros(b[1].shape, np.int8) if b[2] is None else b[2] for b in self._buf]
                )
        if not np.all(t[1:] > t[:-1]):
            order = np.argsort(t, kind="stable")
            t, v, q = t[order], v[order], None if q is None else q[order]
            dup = np.zeros(t.size, bool)
            dup[1:] = t[1:] == t[:-1]
            if dup.any():
                self.duplicate_rows += int(dup.sum())
                t, v, q = t[~dup], v[~dup], None if q is None else q[~dup]
        n_out = t.size if watermark is None else int(np.searchsorted(t, watermark, side="right"))
        self._buf = [] if n_out == t.size else [(t[n_out:], v[n_out:], _tail(q, n_out))]
        if n_out == 0:
            return Episodes.empty()
        t, v, q = t[:n_out], v[:n_out], None if q is None else q[:n_out]
        self._released = int(t[-1])
        self.rows_processed += n_out
        mask = out_of_band(v, q, self.lo, self.hi)
        # nonzero of the (pmu x time) view lists samples by PMU, then time: no sort needed
        pi, ti = np.nonzero(mask.T)
        closed = self.state.update(pi.astype(np.int64), t[ti], v[ti, pi].astype(np.float64))
        return Episodes.concat([closed, self.state.close_quiet(self._released)])

    def _frame(self, episodes: Episodes) -> Any:
        return to_frame(episodes, self.pmus)


def _tail(q: np.ndarray | None, n: int) -> np.ndarray | None:
    return None if q is None else q[n:]


def validate_rule(nominal_hz: float, band_hz: float, count: int) -> None:
    """Reject a rule that cannot work (non-positive band or count, odd nominal)."""
    if not (np.isfinite(nominal_hz) and nominal_hz > 0):
        raise AnomalyInputError(f"expected nominal_hz > 0 [Hz]; found {nominal_hz!r}")
    if not (np.isfinite(band_hz) and band_hz > 0):
        raise AnomalyInputError(f"expected band_hz > 0 [Hz]; found {band_hz!r}")
    if int(count) != count or int(count) < 1:
        raise AnomalyInputError(f"expected count as an integer >= 1; found {count!r}")
