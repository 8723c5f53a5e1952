"""The frequency-excursion episode rule, shared by the streaming and the batch detector.

The rule (the platform's CEP pattern): ``count`` samples outside ``[nominal - band,
nominal + band]`` within ``window`` raise an alert. An *episode* starts at the first out-of-band
sample of the group of ``count`` that triggered it and ends at its last out-of-band sample before
a quiet spell of at least one window (no out-of-band sample for ``>= window``).

Everything therefore depends only on the sorted out-of-band samples of each series: this module
works on those (sparse) samples, vectorised across series, and carries a small per-series state
from one call to the next (:class:`EpisodeState`), so the same code serves a stream (one call per
batch) and a batch (one call, then :meth:`EpisodeState.close_all`). The stream's in-order path
feeds a state of its own through :func:`workbench.anomaly.frequency.block.update_block`, the dense
twin of :meth:`EpisodeState.update` (see that module for why such a state must not be mixed).

Conventions (exact, integer nanoseconds):

- "within the window": the trigger group's span ``t[i + count - 1] - t[i] <= window``, so 3
  samples at 0, 2.5 and 5.0 s fire with a 5-s window and 0, 2.55 and 5.1 s do not;
- a quiet spell: consecutive out-of-band samples ``>= window`` apart end the episode; a trigger
  group never straddles a quiet spell;
- ``min_hz``/``max_hz``/``samples_outside`` are over the episode's out-of-band samples.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

EPISODE_COLUMNS = ("group", "start", "end", "min_hz", "max_hz", "samples_outside")
NO_TIME = np.iinfo(np.int64).min


@dataclass
class Episodes:
    """Closed episodes as arrays: group index, start/end [ns since epoch], min/max [Hz], count."""

    group: np.ndarray
    start: np.ndarray
    end: np.ndarray
    min_hz: np.ndarray
    max_hz: np.ndarray
    samples_outside: np.ndarray

    @classmethod
    def empty(cls) -> Episodes:
        i, f = np.empty(0, np.int64), np.empty(0, np.float64)
        return cls(i, i, i, f, f, i)

    @classmethod
    def concat(cls, parts: list[Episodes]) -> Episodes:
        parts = [p for p in parts if p.group.size]
        if not parts:
            return cls.empty()
        return cls(*(np.concatenate([getattr(p, f) for p in parts]) for f in _FIELDS))

    def sorted(self) -> Episodes:
        """By group, then start. Episodes closed by one batch usually come with each group
        once and in order: checked in O(n), then nothing to sort (a ``lexsort`` of a few
        thousand rows costs about a millisecond)."""
        g = self.group
        if np.all(g[1:] > g[:-1]):
            return self
        order = np.lexsort((self.start, g))
        return Episodes(*(getattr(self, f)[order] for f in _FIELDS))


_FIELDS = ("group", "start", "end", "min_hz", "max_hz", "samples_outside")


class EpisodeState:
    """Per-series state between calls: the open cluster of out-of-band samples.

    Memory is bounded: per series, the last ``count - 1`` out-of-band samples plus the running
    statistics of an open episode (``O(n_series * count)`` in all).

    Parameters
    ----------
    n_series : int
        Number of series (PMUs).
    count : int
        Out-of-band samples needed to trigger.
    window_ns : int
        Window [ns].
    """

    def __init__(self, n_series: int, count: int, window_ns: int) -> None:
        self.count, self.window = int(count), int(window_ns)
        k = max(self.count - 1, 1)
        self.tail_t = np.full((n_series, k), NO_TIME, np.int64)
        self.tail_v = np.zeros((n_series, k), np.float64)
        self.tail_n = np.zeros(n_series, np.int64)
        self.last_t = np.full(n_series, NO_TIME, np.int64)
        self.active = np.zeros(n_series, bool)
        self.ep_start = np.zeros(n_series, np.int64)
        self.ep_count = np.zeros(n_series, np.int64)
        self.ep_min = np.full(n_series, np.inf)
        self.ep_max = np.full(n_series, -np.inf)

    # ------------------------------------------------------------------ updates
    def update(self, g: np.ndarray, t: np.ndarray, v: np.ndarray) -> Episodes:
        """Feed new out-of-band samples; return the episodes they close.

        Parameters
        ----------
        g, t, v : numpy.ndarray
            Series index, time [ns], value [Hz] of the new out-of-band samples, sorted by
            ``(g, t)`` with times strictly increasing within a series and later than every
            sample fed before for that series.
        """
        if g.size == 0:
            return Episodes.empty()
        k = self.tail_t.shape[1]
        groups = g[np.r_[True, g[1:] != g[:-1]]]  # g is sorted: no hashing needed
        # combined sequence per series: carried tail (oldest first), then the new samples
        n_tail = self.tail_n[groups]
        slot = np.arange(k)[None, :] >= (k - n_tail)[:, None]  # tails are right-aligned
        tg = np.repeat(groups, n_tail)
        tt, tv = self.tail_t[groups][slot], self.tail_v[groups][slot]
        cg, ct, cv = np.concatenate([tg, g]), np.concatenate([tt, t]), np.concatenate([tv, v])
        old = np.concatenate([np.ones(tg.size, bool), np.zeros(g.size, bool)])
        if tg.size:
            order = np.argsort(cg, kind="stable")  # tails precede new samples within a series
            cg, ct, cv, old = cg[order], ct[order], cv[order], old[order]
        n = cg.size
        new_series = np.ones(n, bool)
        new_series[1:] = cg[1:] != cg[:-1]
        brk = new_series.copy()
        brk[1:] |= (ct[1:] - ct[:-1]) >= self.window
        cid = np.cumsum(brk) - 1
        c_first = np.flatnonzero(brk)
        c_last = np.append(c_first[1:] - 1, n - 1)
        c_group = cg[c_first]
        # trigger groups: count consecutive samples of one cluster spanning <= window
        m = self.count - 1
        trig = np.zeros(n, bool)
        if n > m:
            span_ok = (ct[m:] - ct[: n - m]) <= self.window
            same = cid[m:] == cid[: n - m]
            trig[: n - m] = span_ok & same
        big = np.int64(n)
        first_trig = np.minimum.reduceat(np.where(trig, np.arange(n), big), c_first)
        # the first cluster of a series continues its open episode if it was already active
        cont = new_series[c_first] & self.active[c_group] & (self.tail_n[c_group] > 0)
        triggered = cont | (first_trig < big)
        start_idx = np.where(cont, c_first, first_trig)
        in_ep = np.zeros(n, bool)
        if triggered.any():
            begin = np.repeat(np.where(triggered, start_idx, big), c_last - c_first + 1)
            in_ep = np.arange(n) >= begin
        # for continued episodes the carried tail was already counted
        counted = in_ep & ~(old & np.repeat(cont, c_last - c_first + 1))
        cnt = np.add.reduceat(counted.astype(np.int64), c_first)
        vmin = np.minimum.reduceat(np.where(counted, cv, np.inf), c_first)
        vmax = np.maximum.reduceat(np.where(counted, cv, -np.inf), c_first)
        start_t = np.where(triggered, ct[np.minimum(start_idx, n - 1)], 0)
        cg_c = c_group[cont]
        start_t[cont] = self.ep_start[cg_c]
        cnt[cont] += self.ep_count[cg_c]
        vmin[cont] = np.minimum(vmin[cont], self.ep_min[cg_c])
        vmax[cont] = np.maximum(vmax[cont], self.ep_max[cg_c])
        # the last cluster of each series stays open; earlier triggered clusters are closed
        is_last = np.ones(c_first.size, bool)
        is_last[:-1] = c_group[1:] != c_group[:-1]
        closed = triggered & ~is_last
        out = Episodes(
            c_group[closed],
            start_t[closed],
            ct[c_last[closed]],
            vmin[closed],
            vmax[closed],
            cnt[closed],
        )
        # carry the open cluster of each series
        lg = c_group[is_last]
        self.active[lg] = triggered[is_last]
        self.ep_start[lg] = start_t[is_last]
        self.ep_count[lg] = np.where(triggered[is_last], cnt[is_last], 0)
        self.ep_min[lg] = np.where(triggered[is_last], vmin[is_last], np.inf)
        self.ep_max[lg] = np.where(triggered[is_last], vmax[is_last], -np.inf)
        s_last = c_last[is_last]
        s_first = c_first[is_last]  # only the open cluster's samples matter later
        keep = np.minimum(s_last - s_first + 1, k)
        self.tail_n[lg] = keep
        self.last_t[lg] = ct[s_last]
        for j in range(k):  # right-aligned: column k-1 holds the newest sample
            idx = s_last - (k - 1 - j)
            ok = (k - 1 - j) < keep
            self.tail_t[lg[ok], j] = ct[idx[ok]]
            self.tail_v[lg[ok], j] = cv[idx[ok]]
        return out

    def close_quiet(self, now_ns: int) -> Episodes:
        """Close the open episodes whose last out-of-band sample is ``>= window`` before
        ``now_ns`` (every sample up to ``now_ns`` has been seen); forget stale tails."""
        last = self.last_t
        # two comparisons over the series, then work on the few that are due only
        due = (last <= np.int64(now_ns) - np.int64(self.window)) & (last != NO_TIME)
        return self._close(np.flatnonzero(due))

    def close_all(self) -> Episodes:
        """Close every open episode (end of data)."""
        return self._close(np.flatnonzero(self.last_t != NO_TIME))

    def _close(self, idx: np.ndarray) -> Episodes:
        """Emit the open episodes among series ``idx`` and reset those series."""
        emit = idx[self.active[idx]]
        out = Episodes(
            emit.astype(np.int64),
            self.ep_start[emit],
            self.last_t[emit],
            self.ep_min[emit],
            self.ep_max[emit],
            self.ep_count[emit],
        )
        self.active[idx] = False
        self.tail_n[idx] = 0
        self.last_t[idx] = NO_TIME
        self.ep_count[idx] = 0
        self.ep_min[idx], self.ep_max[idx] = np.inf, -np.inf
        return out


def out_of_band(
    values: np.ndarray,
    quality: np.ndarray | None,
    lo: float,
    hi: float,
    out: np.ndarray | None = None,
    work: np.ndarray | None = None,
) -> np.ndarray:
    """Samples strictly outside ``[lo, hi]`` with good quality (NaN is never out of band).

    Comparisons run in the values' own precision (float32 cubes stay float32), the same in the
    streaming and the batch detector, so both agree exactly. ``out`` and ``work`` (bool, the
    values' shape) are reused buffers, so a stream allocates nothing per batch.
    """
    mask = np.less(values, lo, out=out)
    work = np.greater(values, hi, out=work)
    mask |= work
    if quality is not None:
        mask &= np.equal(quality, 0, out=work)
    return mask


def to_frame(episodes: Episodes, labels: Any) -> Any:
    """Episodes as a frame with :data:`EPISODE_COLUMNS` (group labels, UTC times).

    ``labels`` is an array of group labels, or :func:`label_array` of it (built once: a stream
    that converts its labels once per detector does not pay for it per batch).
    """
    import pandas as pd

    ep = episodes.sorted()
    lab = labels if isinstance(labels, pd.api.extensions.ExtensionArray) else label_array(labels)
    return pd.DataFrame(
        {
            "group": lab.take(ep.group),
            "start": pd.DatetimeIndex(ep.start.view("datetime64[ns]"), tz="UTC"),
            "end": pd.DatetimeIndex(ep.end.view("datetime64[ns]"), tz="UTC"),
            "min_hz": ep.min_hz.astype(np.float64),
            "max_hz": ep.max_hz.astype(np.float64),
            "samples_outside": ep.samples_outside.astype(np.int64),
        },
        copy=False,
    )


def label_array(labels: Any) -> Any:
    """Group labels as a pandas string array (what :func:`to_frame` writes)."""
    import pandas as pd

    return pd.array(np.asarray(labels, dtype=object), dtype="string")
