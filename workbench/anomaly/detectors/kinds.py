"""Typing and precedence of learned events: which silent fault a residual's signature shows.

A level event (the smoothed residual |value - reference| past its threshold) is one of three
faults, told apart by how the value moves inside the event:

- **stuck_with_noise**: the value does not follow the reference (its own spread is under
  half the spread of its residual: the truth moves, the reading does not), or, on a running
  asset, its variation is white;
- **calibration_drift**: the residual is a gain error, ``reference x (a + b t)``, fitting the
  event's smoothed residual far better than a constant (the error grows with time and scales
  with output);
- **bias_step**: otherwise, a constant offset.

Events of one group that overlap are the same fault seen by several signals; the sharper
signal speaks (:data:`PRECEDENCE`).
"""

from __future__ import annotations

from typing import Any

import numpy as np

#: learned detectors from the sharpest signature to the vaguest; an event overlapping an event
#: of an earlier detector (same group) is dropped
PRECEDENCE = (
    ("learned:copy",),
    ("learned:wiggle",),
    ("learned:white", "learned:quiet"),
    ("learned:level",),
    ("learned:drift",),
)
#: a gain error explains the residual when it leaves at most this share of a constant's misfit
DRIFT_FIT = 0.8
#: a value whose spread is under this share of its residual's does not follow the reference
STUCK_SPREAD = 0.5


def level_kind(value: np.ndarray, expected: np.ndarray, smooth_residual: np.ndarray,
               time_ns: np.ndarray, white: np.ndarray, healthy_white: float) -> str:  # fmt: skip
    """The fault type of one level event from its samples.

    Parameters
    ----------
    value, expected : numpy.ndarray
        The reading and what it should read [value units], over the event.
    smooth_residual : numpy.ndarray
        The smoothed residual (5-min mean of value - expected) [value units].
    time_ns : numpy.ndarray
        Sample times [ns].
    white : numpy.ndarray
        Whiteness where the asset runs, NaN where it idles.
    healthy_white : float
        The asset's healthy median whiteness.

    Returns
    -------
    str
        ``stuck_with_noise``, ``calibration_drift`` or ``bias_step``.
    """
    ok = np.isfinite(value) & np.isfinite(expected) & np.isfinite(smooth_residual)
    v, e, r, t = value[ok], expected[ok], smooth_residual[ok], time_ns[ok]
    if v.size < 3:
        return "bias_step"
    if np.std(v) < STUCK_SPREAD * np.std(v - e):
        return "stuck_with_noise"
    busy = np.isfinite(white)
    if busy.mean() >= 0.5 and float(np.mean(white[busy])) >= (1.0 + healthy_white) / 2:
        return "stuck_with_noise"
    constant = float(np.sum((r - r.mean()) ** 2))
    hours = (t - t[0]) / 3.6e12
    design = np.column_stack([e, e * hours])
    coef, *_ = np.linalg.lstsq(design, r, rcond=None)
    gain = float(np.sum((r - design @ coef) ** 2))
    return "calibration_drift" if gain < DRIFT_FIT * constant else "bias_step"


def drop_shadowed(events: Any) -> Any:
    """Drop each learned event that overlaps an event of a detector earlier in
    :data:`PRECEDENCE` (same group): an oscillation whitens the variation and moves the
    level, a copy does both, a stuck value leaves a residual; the vaguer signal only speaks
    for a fault no sharper one found."""
    rank = {d: k for k, names in enumerate(PRECEDENCE) for d in names}
    if events.empty:
        return events.reset_index(drop=True)
    r = events["detector"].astype(str).map(rank).fillna(len(PRECEDENCE)).to_numpy()
    g = events["group"].astype(str).to_numpy(object)
    s = events["start"].astype("int64").to_numpy()
    e = events["end"].astype("int64").to_numpy()
    keep = np.ones(len(events), bool)
    for i in range(len(events)):
        over = (g == g[i]) & (s <= e[i]) & (e >= s[i]) & (r < r[i])
        keep[i] = not over.any()
    return events[keep].reset_index(drop=True)
