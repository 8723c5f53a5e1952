"""Streaming frequency-excursion detector: many PMUs, a few numpy passes per batch.

A batch is a 2-D block ``time x pmu`` (a second of a 10,000-PMU feed at 60 fps is 60 x 10,000).
Rows may arrive late or out of order: a reorder buffer holds them until the watermark
``max time seen - allowed_lateness`` passes, then releases them in time order to the episode rule
(:mod:`workbench.anomaly.frequency.episodes`). A batch already in time order (checked in O(n))
with nothing else buffered skips the reorder buffer, also when late rows were dropped from its
start or end. The released block is cut into runs spanning less than the window and each run is
reduced over its time axis (:func:`~workbench.anomaly.frequency.block.update_block`): per PMU,
the count, min/max and first/last out-of-band samples; the cost does not grow with the number
of samples out of band. Work arrays and the reordered block live in reused buffers.

:meth:`FrequencyDetector.push` returns the closed episodes as a pandas frame;
:meth:`FrequencyDetector.push_arrays` returns the same episodes as arrays, without the few tenths
of a millisecond that building a frame costs (``benchmarks/frequency_stream.py`` times both).

Late data: a row whose time is at or before the last row already released cannot be processed in
order; it is dropped and counted in :attr:`FrequencyDetector.late_rows` (never silently). Rows with
equal times are deduplicated (the first to arrive wins) and counted in ``duplicate_rows``.
Missing samples are NaN (never out of band); a gap in time is a quiet spell like any other.
Bad-quality samples (``quality != 0``) are ignored: they neither trigger nor extend an episode.

Latency: Python's cyclic garbage collector is paused while a batch is processed
(:func:`gc_paused`) and restored to its previous state afterwards, so a collection of the whole
heap (tens of milliseconds with pandas loaded) never lands inside a batch; the few objects a
batch allocates are collected, if ever needed, between batches. The per-batch work is a fixed
number of numpy passes: two column reductions over the block, then only the columns with a
sample outside the band (see :mod:`workbench.anomaly.frequency.block`); the scan for episodes
ended by a quiet spell is two comparisons over the PMUs, the rest runs on those that are due.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any, NamedTuple

import numpy as np

from workbench.anomaly.base import AnomalyInputError, duration_ns, times_ns
from workbench.anomaly.frequency.block import BlockWork, update_block
from workbench.anomaly.frequency.episodes import (
    NO_TIME,
    Episodes,
    EpisodeState,
    label_array,
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
    path : {"block", "samples"}
        ``"block"`` (default) reduces each released block over its time axis
        (:func:`~workbench.anomaly.frequency.block.update_block`, cost independent of how many
        samples are out of band); ``"samples"`` lists the out-of-band samples and runs the batch
        detector's :meth:`EpisodeState.update`. Both give the same episodes; the second is the
        reference.

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
        path: str = "block",
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
        self._buf: list[_Piece] = []
        self._max_seen = NO_TIME
        self._released = NO_TIME
        self.late_rows = 0
        self.duplicate_rows = 0
        self.rows_processed = 0
        if path not in ("block", "samples"):
            raise AnomalyInputError(f"expected path 'block' or 'samples'; found {path!r}")
        self.path = path
        self._labels = label_array(self.pmus)
        self._empty = to_frame(Episodes.empty(), self._labels)
        self._work_bufs = BlockWork(_REUSE_ROWS)

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

        Returns
        -------
        pandas.DataFrame
            One row per closed episode, sorted by PMU then start: group (PMU id), start, end
            (UTC), min_hz, max_hz [Hz], samples_outside.
        """
        with gc_paused():
            return self._frame(self._push(times, values, quality))

    def push_arrays(self, times: Any, values: Any, quality: Any = None) -> Episodes:
        """:meth:`push` without the frame: the closed episodes as arrays, same rows and order.

        Building a pandas frame costs a few tenths of a millisecond per batch that closes an
        episode; a consumer that routes episodes on without pandas skips it here.

        Returns
        -------
        Episodes
            ``group`` is the PMU's column index (``self.pmus[group]`` is its id), ``start`` and
            ``end`` are int64 [ns since the epoch, UTC], sorted by PMU then start.
        """
        with gc_paused():
            return _sorted(self._push(times, values, quality))

    def flush(self) -> Any:
        """Process everything buffered and close every open episode (end of the stream)."""
        with gc_paused():
            return self._frame(self._flush())

    def flush_arrays(self) -> Episodes:
        """:meth:`flush` without the frame (see :meth:`push_arrays`)."""
        with gc_paused():
            return _sorted(self._flush())

    # ------------------------------------------------------------------ internals
    def _push(self, times: Any, values: Any, quality: Any) -> Episodes:
        """Add a batch; return the episodes it closes, unsorted."""
        if isinstance(times, np.ndarray) and times.dtype == np.int64 and times.ndim == 1:
            t = times  # int64 nanoseconds already (a feed's own clock): no conversion
        else:
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
            return Episodes.empty()
        rows = None  # the rows of the batch still pending (None: all), kept without a copy
        late = t <= self._released
        if late.any():
            self.late_rows += int(late.sum())
            rows = np.flatnonzero(~late)
            if rows.size == 0:
                return Episodes.empty()
        self._buf.append(_Piece(t, v, q, rows))
        self._max_seen = max(self._max_seen, int(t.max() if rows is None else t[rows].max()))
        return self._release(self._max_seen - self.lateness_ns)

    def _flush(self) -> Episodes:
        return Episodes.concat([self._release(None), self.state.close_all()])

    def _release(self, watermark: int | None) -> Episodes:
        if not self._buf:
            return Episodes.empty()
        one = self._buf[0]
        if len(self._buf) == 1 and (one.rows is None or _is_range(one.rows)):
            # in-order fast path: the batch (or a contiguous run of its rows, when late rows
            # were dropped from its start or end) is released as it is, without a copy
            t, v, q = one.t, one.v, one.q
            if one.rows is not None:
                run = slice(int(one.rows[0]), int(one.rows[-1]) + 1)
                t, v, q = t[run], v[run], None if q is None else q[run]
            if np.all(t[1:] > t[:-1]):  # an O(n) check, no sort
                return self._release_in_order(t, v, q, watermark)
        return self._release_sorted(watermark)

    def _release_in_order(
        self, t: np.ndarray, v: np.ndarray, q: np.ndarray | None, watermark: int | None
    ) -> Episodes:
        """Release the rows of one pending piece already in time order (no sort, no copy)."""
        n_out = t.size if watermark is None else int(np.searchsorted(t, watermark, "right"))
        self._buf = [] if n_out == t.size else [_Piece(t, v, q, np.arange(n_out, t.size))]
        if n_out == 0:
            return Episodes.empty()
        return self._process(t[:n_out], v[:n_out], None if q is None else q[:n_out])

    def _release_sorted(self, watermark: int | None) -> Episodes:
        """Release the pending rows of every piece up to the watermark, sorted by time."""
        # general path: sort the pending rows of every piece by time, drop duplicates, gather
        # the released rows into a reused block and keep the rest as row indices (no copy)
        tt = np.concatenate([p.t if p.rows is None else p.t[p.rows] for p in self._buf])
        rr = np.concatenate([np.arange(p.t.size) if p.rows is None else p.rows for p in self._buf])
        sizes = [p.t.size if p.rows is None else p.rows.size for p in self._buf]
        pid = np.repeat(np.arange(len(self._buf)), sizes)
        order = np.argsort(tt, kind="stable")  # arrival order among equal times: first wins
        tt, rr, pid = tt[order], rr[order], pid[order]
        dup = np.zeros(tt.size, bool)
        dup[1:] = tt[1:] == tt[:-1]
        if dup.any():
            self.duplicate_rows += int(dup.sum())
            tt, rr, pid = tt[~dup], rr[~dup], pid[~dup]
        n_out = tt.size if watermark is None else int(np.searchsorted(tt, watermark, "right"))
        pieces, self._buf = self._buf, []
        for j, p in enumerate(pieces):
            pending = rr[n_out:][pid[n_out:] == j]
            if pending.size:
                self._buf.append(_Piece(p.t, p.v, p.q, np.sort(pending)))
        if n_out == 0:
            return Episodes.empty()
        dtype = np.result_type(*(p.v.dtype for p in pieces))
        v = self._work_bufs.get("v", (n_out, self.pmus.size), dtype)
        q = None
        if any(p.q is not None for p in pieces):
            q_dtype = np.result_type(np.int8, *(p.q.dtype for p in pieces if p.q is not None))
            q = self._work_bufs.get("q", (n_out, self.pmus.size), q_dtype)
        for j, p in enumerate(pieces):
            at = np.flatnonzero(pid[:n_out] == j)
            if at.size:
                v[at] = p.v[rr[:n_out][at]]
                if q is not None:
                    q[at] = 0 if p.q is None else p.q[rr[:n_out][at]]
        return self._process(tt[:n_out], v, q)

    def _process(self, t: np.ndarray, v: np.ndarray, q: np.ndarray | None) -> Episodes:
        """Run the episode rule over released rows in time order."""
        n_out = t.size
        self._released = int(t[-1])
        self.rows_processed += n_out
        if self.path == "samples":
            mask = out_of_band(v, q, self.lo, self.hi)
            # nonzero of the (pmu x time) view lists samples by PMU, then time: no sort needed
            pi, ti = np.nonzero(mask.T)
            closed = [self.state.update(pi.astype(np.int64), t[ti], v[ti, pi].astype(np.float64))]
        else:
            closed = [
                update_block(
                    self.state,
                    t[a:b],
                    v[a:b],
                    None if q is None else q[a:b],
                    self.lo,
                    self.hi,
                    self._work_bufs,
                )
                for a, b in _spans(t, self.window_ns)
            ]
        return Episodes.concat([*closed, self.state.close_quiet(self._released)])

    def _frame(self, episodes: Episodes) -> Any:
        if episodes.group.size == 0:  # most batches close nothing: copy a ready empty frame
            return self._empty.copy(deep=False)  # no rows: nothing a caller could share
        return to_frame(episodes, self._labels)


_REUSE_ROWS = 4096


@contextmanager
def gc_paused() -> Iterator[None]:
    """Pause Python's cyclic garbage collector for the block, then restore its previous state
    (enabled or not); reference counting still frees everything a batch drops at once."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _is_range(rows: np.ndarray) -> bool:
    """Whether sorted distinct row indices are one contiguous run."""
    return rows.size > 0 and int(rows[-1]) - int(rows[0]) + 1 == rows.size


def _sorted(episodes: Episodes) -> Episodes:
    """Episodes by PMU then start (what :func:`to_frame` writes); no work when there are none."""
    return episodes if episodes.group.size == 0 else episodes.sorted()


def _spans(t: np.ndarray, window_ns: int, max_rows: int = 32_000) -> list[tuple[int, int]]:
    """Split sorted rows into runs spanning less than the window (no quiet spell inside one)."""
    if t[-1] - t[0] < window_ns and t.size <= max_rows:
        return [(0, t.size)]
    out, a = [], 0
    while a < t.size:
        b = int(np.searchsorted(t, t[a] + window_ns, side="left"))
        b = min(b, a + max_rows)
        out.append((a, b))
        a = b
    return out


class _Piece(NamedTuple):
    """A pushed batch waiting in the reorder buffer: its arrays and its pending rows."""

    t: np.ndarray
    v: np.ndarray
    q: np.ndarray | None
    rows: np.ndarray | None  # pending rows (None: all of them)


def validate_rule(nominal_hz: float, band_hz: float, count: int) -> None:
    """Reject a rule that cannot work (non-positive band or count, odd nominal)."""
    if not (np.isfinite(nominal_hz) and nominal_hz > 0):
        raise AnomalyInputError(f"expected nominal_hz > 0 [Hz]; found {nominal_hz!r}")
    if not (np.isfinite(band_hz) and band_hz > 0):
        raise AnomalyInputError(f"expected band_hz > 0 [Hz]; found {band_hz!r}")
    if int(count) != count or int(count) < 1:
        raise AnomalyInputError(f"expected count as an integer >= 1; found {count!r}")
