"""The stream's dense block step: a time-ordered block reduced over its time axis.

:func:`update_block` is the dense twin of :meth:`EpisodeState.update
<workbench.anomaly.frequency.episodes.EpisodeState.update>` (same state, same episodes): instead of
listing the out-of-band samples it reduces a block of rows spanning less than the window, where
there is no quiet spell, so a group of ``count`` can only start at a carried sample or at the
block's first out-of-band sample; per series the count, min/max and the first and last few
out-of-band rows are all it needs.

Where the time goes (a 1-s batch of 60 x 10,000 with 3,000 PMUs in an excursion, the stream's
worst batches): the candidate PMUs come from two column reductions (NaN-ignoring min and max,
no full-width mask); only their values are gathered, into a reused buffer, and masked; the row
positions (count, first and newest out-of-band rows) are ``uint8`` products and maxima of that
mask. Every ``(rows x pmu)`` temporary lives in a :class:`BlockWork`, so a stream allocates no
large array per batch.

The carried tail (the newest ``count - 1`` out-of-band samples) is kept only for series that
are not in an episode: an open episode never reads it (its statistics are carried, and it ends
only at a quiet spell, which discards the tail), and in the excursion batches nearly every
series with a sample out of band is in one. A state fed by :func:`update_block` must therefore
not be fed by :meth:`EpisodeState.update` (a detector uses one path throughout).
"""

from __future__ import annotations

import numpy as np

from workbench.anomaly.frequency.episodes import NO_TIME, Episodes, EpisodeState, out_of_band


class BlockWork:
    """Reused ``(rows x pmu)`` work buffers of :func:`update_block` (grown, never shrunk).

    Parameters
    ----------
    max_rows : int
        Blocks of up to this many rows reuse the buffers; longer ones (a flush of a long
        backlog) get fresh arrays.
    """

    def __init__(self, max_rows: int = 4096) -> None:
        self.max_rows = int(max_rows)
        self._bufs: dict[str, np.ndarray] = {}

    def get(self, name: str, shape: tuple[int, int], dtype: np.dtype | type) -> np.ndarray:
        """A C-contiguous array of ``shape`` and ``dtype`` (contents undefined)."""
        size = shape[0] * shape[1]
        buf = self._bufs.get(name)
        if buf is None or buf.dtype != dtype or buf.size < size:
            if shape[0] > self.max_rows:
                return np.empty(shape, dtype)
            buf = self._bufs[name] = np.empty(size, dtype)
        return buf[:size].reshape(shape)


def update_block(
    state: EpisodeState,
    t: np.ndarray,
    values: np.ndarray,
    quality: np.ndarray | None,
    lo: float,
    hi: float,
    work: BlockWork | None = None,
) -> Episodes:
    """Feed a dense block of rows in time order to ``state``; return the episodes it closes.

    Parameters
    ----------
    state : EpisodeState
        The per-series state, updated in place.
    t : numpy.ndarray of int64, shape (n,)
        Row times [ns], strictly increasing, later than every row fed before, spanning less
        than the window (``t[-1] - t[0] < window``: no quiet spell inside the block),
        ``n < 65535``.
    values : numpy.ndarray, shape (n, n_series)
        Values [Hz] (any float precision; compared in their own precision).
    quality : numpy.ndarray of int, shape (n, n_series), optional
        0 good; flagged samples are ignored.
    lo, hi : float
        The band [Hz]: out of band is strictly outside ``[lo, hi]``
        (:func:`~workbench.anomaly.frequency.episodes.out_of_band`).
    work : BlockWork, optional
        Reused buffers (a stream passes its own; without it temporaries are allocated).
    """
    work = BlockWork(0) if work is None else work
    n = values.shape[0]
    # candidate columns from the column minima and maxima (NaN ignored, like in the mask): two
    # reductions instead of a full-width mask; with quality flags a candidate may have none
    c_min = np.fmin.reduce(values, axis=0)
    c_max = np.fmax.reduce(values, axis=0)
    cols = np.flatnonzero((c_min < lo) | (c_max > hi))
    if cols.size == 0:
        return Episodes.empty()
    # gather the candidates into reused buffers; the mask is only computed for them
    sv = work.get("sv", (n, cols.size), values.dtype)
    np.take(values, cols, axis=1, out=sv, mode="clip")  # "clip": the out is not buffered
    sq = None
    if quality is not None:
        sq = work.get("sq", (n, cols.size), quality.dtype)
        np.take(quality, cols, axis=1, out=sq, mode="clip")
    sm = out_of_band(
        sv, sq, lo, hi, work.get("sm", (n, cols.size), np.bool_), work.get("sw", sv.shape, bool)
    )
    if quality is not None:
        keep = np.logical_or.reduce(sm, axis=0)
        if not keep.all():  # candidates whose samples outside the band are all flagged
            cols, sv, sm = cols[keep], sv[:, keep], sm[:, keep]
            if cols.size == 0:
                return Episodes.empty()
    k, m, w = state.tail_t.shape[1], state.count - 1, state.window
    smu = sm.view(np.uint8)
    # row positions in the narrowest integer type (1-based, 0: none)
    rdt = np.uint8 if n < 255 else np.uint16
    rows = np.arange(1, n + 1, dtype=rdt)[:, None]
    idx = np.multiply(smu, rows, out=work.get("idx", (n, cols.size), rdt))
    nn = np.add.reduce(smu, axis=0, dtype=rdt).astype(np.int64)
    ci = np.arange(cols.size)
    last = []  # last[j]: row of the j-th newest out-of-band sample (-1: none)
    cur = np.maximum.reduce(idx, axis=0).astype(np.int64)
    last.append(cur - 1)
    for _ in range(1, k):
        idx[cur - 1, ci] = 0  # drop the newest (cur == 0: the column is already all zero)
        cur = np.maximum.reduce(idx, axis=0).astype(np.int64)
        last.append(cur - 1)
    rev = np.multiply(smu, rows[::-1], out=idx)  # n - row where out of band, else 0
    first0 = n - np.maximum.reduce(rev, axis=0).astype(np.int64)
    if quality is None:  # a column's extreme outside the band is out of band itself
        lo_c, hi_c = c_min[cols], c_max[cols]
        vmin = _extreme(np.minimum, sv, sm, lo_c, (lo_c < lo) | (lo_c > hi))
        vmax = _extreme(np.maximum, sv, sm, hi_c, (hi_c > hi) | (hi_c < lo))
    else:  # a flagged sample may be the column's extreme
        vmin = np.minimum.reduce(sv, axis=0, where=sm, initial=np.inf).astype(np.float64)
        vmax = np.maximum.reduce(sv, axis=0, where=sm, initial=-np.inf).astype(np.float64)
    lt, act, tn = state.last_t[cols], state.active[cols], state.tail_n[cols].copy()
    # a quiet spell before the block's first out-of-band sample closes the open cluster
    brk = (lt != NO_TIME) & (t[first0] - np.where(lt != NO_TIME, lt, 0) >= w)
    close = brk & act
    g_close = cols[close]
    closed = Episodes(
        g_close.astype(np.int64),
        state.ep_start[g_close],
        lt[close],
        state.ep_min[g_close],
        state.ep_max[g_close],
        state.ep_count[g_close],
    )
    act &= ~brk
    tn[brk] = 0
    # clusters not yet in an episode: the first group of `count` spanning <= window starts
    # at a carried sample (checked against the first new ones) or at the first new sample
    start_j = np.full(cols.size, -1, np.int64)  # index in the cluster (tail, then new)
    look = np.flatnonzero(~act & (tn > 0))
    if look.size and m > 0:
        start_j[look] = _start_in_tail(state, t, sm[:, look], cols[look], tn[look], nn[look])
    at_new = ~act & (start_j < 0) & (nn >= state.count)
    start_j[at_new] = tn[at_new]
    trig = start_j >= 0
    # statistics of the newly triggered episodes (carried samples from start_j on)
    start_t = t[first0]
    cnt = nn.copy()
    it = np.flatnonzero(trig & (start_j < tn))
    if it.size:
        itn, isj, g_it = tn[it], start_j[it], cols[it]
        for s in range(k):  # slot s holds cluster index s - (k - tn)
            j_of_slot = s - (k - itn)
            use = j_of_slot >= isj
            ov = state.tail_v[g_it, s]
            cnt[it] += use
            vmin[it] = np.where(use, np.minimum(vmin[it], ov), vmin[it])
            vmax[it] = np.where(use, np.maximum(vmax[it], ov), vmax[it])
            start_t[it] = np.where(j_of_slot == isj, state.tail_t[g_it, s], start_t[it])
    gc = cols[act]  # continued episodes
    cnt[act] += state.ep_count[gc]
    vmin[act] = np.minimum(vmin[act], state.ep_min[gc])
    vmax[act] = np.maximum(vmax[act], state.ep_max[gc])
    start_t[act] = state.ep_start[gc]
    live = act | trig
    state.active[cols] = live
    state.ep_start[cols] = start_t
    state.ep_count[cols] = np.where(live, cnt, 0)
    state.ep_min[cols] = np.where(live, vmin, np.inf)
    state.ep_max[cols] = np.where(live, vmax, -np.inf)
    state.last_t[cols] = t[last[0]]
    state.tail_n[cols] = np.minimum(tn + nn, k)
    out = np.flatnonzero(~live)  # not in an episode: the only series whose tail is read later
    if out.size:
        _carry_tail(state, t, sv, out, cols[out], [r[out] for r in last], nn[out], tn[out])
    return closed


def _extreme(
    ufunc: np.ufunc, sv: np.ndarray, sm: np.ndarray, plain: np.ndarray, exact: np.ndarray
) -> np.ndarray:
    """Per-column extreme (``np.minimum`` or ``np.maximum``) of the out-of-band samples [Hz],
    float64.

    ``plain`` is the column's NaN-ignoring extreme over all its samples; where ``exact`` says
    it lies outside the band it is an out-of-band sample itself, hence the answer (in an
    under-frequency dip every column's minimum is, and its maximum too where the whole block
    is below the band), so only the other columns need the reduction masked by ``sm``, which
    costs about as much as a column reduction of the whole block.
    """
    need = np.flatnonzero(~exact)
    if need.size == 0:
        return plain.astype(np.float64)
    initial = np.inf if ufunc is np.minimum else -np.inf
    if 4 * need.size > exact.size:  # most columns: one masked pass beats a gather
        got = ufunc.reduce(sv, axis=0, where=sm, initial=initial)
        return np.where(exact, plain, got).astype(np.float64)
    out = plain.astype(np.float64)
    out[need] = ufunc.reduce(sv[:, need], axis=0, where=sm[:, need], initial=initial)
    return out


def _start_in_tail(
    state: EpisodeState,
    t: np.ndarray,
    lsm: np.ndarray,
    g: np.ndarray,
    tn: np.ndarray,
    nn: np.ndarray,
) -> np.ndarray:
    """Cluster index where a trigger group starting at a carried sample begins (-1: none).

    ``g`` are series with ``tn`` carried samples, not in an episode, ``nn`` new ones and the
    out-of-band mask ``lsm`` (rows x g).
    """
    n = t.size
    k, m, w = state.tail_t.shape[1], state.count - 1, state.window
    lrows = np.arange(n, dtype=np.int64)[:, None]
    firsts = []  # firsts[q]: row of the q-th oldest new out-of-band sample (n: none)
    prev = np.full(g.size, -1, np.int64)
    for _ in range(m):
        cand = np.where(lsm & (lrows > prev), lrows, n)
        prev = np.minimum.reduce(cand, axis=0)
        firsts.append(prev)
    firsts = np.stack(firsts)
    li = np.arange(g.size)
    start_j = np.full(g.size, -1, np.int64)
    for j in range(k):
        q = j + m - tn
        ok = (j < tn) & (start_j < 0) & (q < nn)
        if not ok.any():
            continue
        qr = firsts[np.clip(q, 0, m - 1), li]
        slot = k - tn + j
        tail_time = state.tail_t[g, np.clip(slot, 0, k - 1)]
        hit = ok & (t[np.minimum(qr, n - 1)] - tail_time <= w)
        start_j[hit] = j
    return start_j


def _carry_tail(
    state: EpisodeState,
    t: np.ndarray,
    sv: np.ndarray,
    at: np.ndarray,
    cols: np.ndarray,
    last: list[np.ndarray],
    nn: np.ndarray,
    tn: np.ndarray,
) -> None:
    """Carry the newest ``k`` samples of each cluster: the new ones, then older carried ones.

    ``at`` are the clusters' columns in ``sv`` (read in place, not gathered), ``cols`` their
    series."""
    k = state.tail_t.shape[1]
    newest = np.stack(last[::-1], axis=1)  # (cols, k), oldest of the k first; -1: none
    np.maximum(newest, 0, out=newest)
    new_tt = t[newest]
    new_tv = sv[newest, at[:, None]].astype(np.float64)
    few = np.flatnonzero(nn < k)  # fewer than k new samples: older carried ones fill in
    if few.size:
        fnn, ftn = nn[few][:, None], tn[few][:, None]
        j = np.arange(k)[None, :]  # the j-th newest sample goes to slot k - 1 - j
        src = np.minimum(
            np.maximum(k - 1 - (j - fnn), 0), k - 1
        )  # old slot of the (j - nn)-th newest
        from_old = (j >= fnn) & (j - fnn < ftn)
        keep_new = j < fnn
        g_few = cols[few][:, None]
        old_t = np.where(from_old, state.tail_t[g_few, src], NO_TIME)
        old_v = np.where(from_old, state.tail_v[g_few, src], 0.0)
        new_tt[few] = np.where(keep_new, new_tt[few][:, ::-1], old_t)[:, ::-1]
        new_tv[few] = np.where(keep_new, new_tv[few][:, ::-1], old_v)[:, ::-1]
    state.tail_t[cols] = new_tt
    state.tail_v[cols] = new_tv
