"""Combine detectors: normalised scores (1.0 = each detector's threshold), max or voting; and
events of the rules and the learned detectors, merged with provenance (:func:`combine`)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from workbench.anomaly.base import AnomalyInputError
from workbench.anomaly.detectors.base import SensorDetector
from workbench.anomaly.detectors.kinds import PRECEDENCE, merge_pieces, shadowed
from workbench.anomaly.events import empty_events
from workbench.anomaly.inputs import LongSeries

#: rank of each learned detector in :data:`PRECEDENCE` (0 = sharpest)
RANK = {d: k for k, names in enumerate(PRECEDENCE) for d in names}


class EnsembleDetector(SensorDetector):
    """An ensemble of detectors.

    The ensemble score of a sample is the ``min_votes``-th largest member score: with
    ``min_votes=1`` the maximum (any member alarms), with ``min_votes=2`` at least two members
    must reach their threshold, and so on.

    Parameters
    ----------
    members : sequence of SensorDetector
        Detectors whose scores follow the 1.0-is-threshold convention.
    min_votes : int
        Members that must alarm for the ensemble to alarm.
    """

    kind = "ensemble"

    def __init__(self, members: Sequence[SensorDetector], min_votes: int = 1,
                 gap_tolerance: Any = "0s") -> None:  # fmt: skip
        super().__init__(gap_tolerance)
        if not members:
            raise AnomalyInputError("expected at least one ensemble member; found none")
        if not 1 <= int(min_votes) <= len(members):
            msg = f"expected 1 <= min_votes <= {len(members)}; found {min_votes!r}"
            raise AnomalyInputError(msg)
        self.members, self.min_votes = list(members), int(min_votes)

    def fit(self, series: LongSeries) -> EnsembleDetector:
        for m in self.members:
            m.fit(series)
        return self

    def member_scores(self, series: LongSeries) -> np.ndarray:
        """Scores of every member, shape (n_members, n_samples)."""
        return np.vstack([m.score(series) for m in self.members])

    def score(self, series: LongSeries) -> np.ndarray:
        scores = np.sort(self.member_scores(series), axis=0)
        return scores[-self.min_votes]


def combine(rule_events: Any, learned_events: Any, tolerance_ns: int = 0,
            burst_gap_ns: int = 300_000_000_000) -> Any:  # fmt: skip
    """Rules + learned events with provenance; overlapping events of a group merged.

    Events of one group that overlap (or are at most ``tolerance_ns`` apart) become one: its
    kind is the rule's when a rule other than the spike rule found it (those rules are exact on
    their faults), else the kind of the sharpest learned member (``kinds.PRECEDENCE``; of
    equals, the highest-scoring: a copy chained to a stuck piece by a rule event is a copy; a
    spike inside a learned event is part of that fault), else the spike. Spikes that come in
    bursts (:func:`spikes_to_bursts`) are an oscillation, not spikes, and so is a small spike
    near an oscillation event (:func:`absorb_peaks`). ``detector`` lists every detector that
    found it and ``scores`` their scores (``name=score;...``); ``score`` is the highest.
    Merged events of one kind that are pieces of one fault (``kinds.merge_pieces``) become one.
    """
    import pandas as pd

    from workbench.anomaly.detectors.learned import pd_string

    rule_events = spikes_to_bursts(rule_events, burst_gap_ns)
    r = rule_events.assign(detector="rules:" + rule_events["kind"].astype(str), rule=True)
    lrn = learned_events.assign(rule=False)
    ev = (
        pd.concat([x for x in (r, lrn) if len(x)], ignore_index=True) if len(r) + len(lrn) else None
    )
    if ev is None:
        return empty_events().assign(detector=pd_string([]), scores=pd_string([]))
    ev = ev.sort_values(["group", "start"], kind="stable", ignore_index=True)
    # a learned event mostly outside the exact rules' events is a fault of its own: it is
    # merged apart from them (an out-of-range sample inside a drift must not take its type)
    apart = own_learned(ev) | (ev["rule"] & ~exact_rule(ev) & ~near_exact(ev)).to_numpy()
    # learned events that are no shadow of a sharper one (overlapping or near) are distinct
    # faults (the learned detector joined the pieces of one fault): each keeps its own
    # cluster, which the rule events and the shadows overlapping it join
    learned = (~ev["rule"]).to_numpy().copy()
    learned[learned] = ~shadowed(ev[learned], near=True)
    cluster = np.where(apart, cluster_ids(ev, apart, tolerance_ns, learned),
                       cluster_ids(ev, ~apart, tolerance_ns) + len(ev))  # fmt: skip
    rows = []
    for _, c in ev.groupby(cluster, sort=True):
        exact = c["rule"] & (c["kind"] != "spike")  # a spike inside a learned event is its part
        if exact.any() or c["rule"].all():
            lead = c[exact] if exact.any() else c
            top = lead.loc[lead["score"].idxmax()]
        else:  # the sharpest learned signature speaks (kinds.PRECEDENCE), then the score
            lrn = c[~c["rule"]]
            rank = lrn["detector"].astype(str).map(detector_rank)
            top = lrn.loc[
                lrn.assign(_r=rank).sort_values(["_r", "score"], ascending=[True, False]).index[0]
            ]
        rows.append({
            "group": top["group"], "start": c["start"].min(), "end": c["end"].max(),
            "score": float(c["score"].max()), "kind": top["kind"],
            "detector": "+".join(dict.fromkeys(c["detector"].astype(str))),
            "scores": ";".join(
                f"{d}={x:.2f}" for d, x in zip(c["detector"], c["score"], strict=True)
            ),
        })  # fmt: skip
    out = pd.DataFrame(absorb_peaks(rows, burst_gap_ns))
    for col in ("group", "kind", "detector", "scores"):
        out[col] = out[col].astype("string")
    return merge_pieces(out)


#: a rule fault leaves its trace in the learned signals this far around it [ns] (the level
#: residual's 5-min window): a learned event mostly beyond it is another fault
RULE_REACH_NS = 300 * 10**9
#: rule kinds exact on their faults (the spike rule is not: a spike inside a learned event is
#: its part, and spikes in bursts are an oscillation)
EXACT_RULES = ("flatline", "out_of_range", "stale")


def exact_rule(ev: Any) -> Any:
    """Whether each event is one of an exact rule (:data:`EXACT_RULES`)."""
    return ev["rule"] & ev["kind"].astype(str).isin(EXACT_RULES)


def near_exact(ev: Any) -> np.ndarray:
    """Whether each event overlaps an exact rule's event of its group (widened by
    :data:`RULE_REACH_NS`)."""
    return exact_cover(ev) > 0


def own_learned(ev: Any) -> np.ndarray:
    """Learned events of which under half the span lies within the exact rules' events of
    their group widened by :data:`RULE_REACH_NS`: faults of their own, not a rule fault's
    trace in the learned signals."""
    span = (ev["end"].astype("int64") - ev["start"].astype("int64")).to_numpy()
    return (~ev["rule"]).to_numpy() & (exact_cover(ev) < 0.5 * np.maximum(span, 1))


def exact_cover(ev: Any) -> np.ndarray:
    """Time [ns] of each event's span covered by the exact rules' events of its group, each
    widened by :data:`RULE_REACH_NS` (overlaps between rule events counted once per rule)."""
    start, end = ev["start"].astype("int64").to_numpy(), ev["end"].astype("int64").to_numpy()
    grp = ev["group"].astype(str).to_numpy(object)
    cover = np.zeros(len(ev), np.float64)
    rules = np.flatnonzero(exact_rule(ev).to_numpy())
    for j in rules:
        lo, hi = start[j] - RULE_REACH_NS, end[j] + RULE_REACH_NS
        on = (grp == grp[j]) & (start <= hi) & (end >= lo)
        cover[on] += np.minimum(end[on], hi) - np.maximum(start[on], lo)
    cover[rules] = np.maximum(end[rules] - start[rules], 1)
    return cover


def cluster_ids(ev: Any, take: np.ndarray, tolerance_ns: int,
                distinct: np.ndarray | None = None) -> np.ndarray:  # fmt: skip
    """Cluster number of each event among those ``take``-n (sorted by group and start): events
    of one group that overlap or lie at most ``tolerance_ns`` apart share one; -1 elsewhere.
    Two ``distinct`` events never share one: another event joins the latest open cluster it
    reaches, a distinct one only a cluster that holds no distinct event yet."""
    start, end = ev["start"].astype("int64").to_numpy(), ev["end"].astype("int64").to_numpy()
    grp = ev["group"].astype(str).to_numpy(object)
    own = np.zeros(len(ev), bool) if distinct is None else np.asarray(distinct, bool)
    out = np.full(len(ev), -1, np.int64)
    open_: list[list[int]] = []  # [cluster, reach, holds a distinct event] of the group
    cur, prev = -1, None
    for i in np.flatnonzero(take):
        if prev is None or grp[i] != grp[prev]:
            open_ = []
        reached = [c for c in open_ if start[i] <= c[1] + tolerance_ns]
        if own[i]:
            reached = [c for c in reached if not c[2]]
        if reached:
            c = reached[-1]
            c[1], c[2] = max(c[1], end[i]), c[2] or own[i]
        else:
            cur += 1
            c = [cur, end[i], own[i]]
            open_.append(c)
        out[i], prev = c[0], i
    return out


def detector_rank(detector: str) -> int:
    """Rank in :data:`kinds.PRECEDENCE` of a learned event's detector (of ``+``-joined
    detectors, the sharpest); past the last rank for an unknown one."""
    return min(RANK.get(d, len(RANK)) for d in detector.split("+"))


def spikes_to_bursts(rule_events: Any, gap_ns: int, min_spikes: int = 2) -> Any:
    """Spike events of a group that come ``min_spikes`` or more at most ``gap_ns`` apart become
    one ``intermittent_oscillation`` event (a real spike is rare: under 2 per asset-day)."""
    import pandas as pd

    rule_events = rule_events.reset_index(drop=True)  # labels below must be unique
    spikes = rule_events[rule_events["kind"] == "spike"].sort_values(["group", "start"])
    if len(spikes) < min_spikes:
        return rule_events
    g = spikes["group"].astype(str).to_numpy(object)
    st, en = spikes["start"].astype("int64").to_numpy(), spikes["end"].astype("int64").to_numpy()
    new = np.ones(len(spikes), bool)
    new[1:] = (g[1:] != g[:-1]) | (st[1:] - en[:-1] > gap_ns)
    run = np.cumsum(new)
    size = np.bincount(run)[run]
    burst = spikes[size >= min_spikes]
    if burst.empty:
        return rule_events
    agg = burst.groupby(run[size >= min_spikes]).agg(
        group=("group", "first"), start=("start", "min"), end=("end", "max"), score=("score", "max")
    )
    agg["kind"] = pd.array(["intermittent_oscillation"] * len(agg), dtype="string")
    rest = rule_events.drop(index=burst.index)
    return pd.concat([rest, agg.reset_index(drop=True)], ignore_index=True)


#: a rule spike scoring under this (x its threshold) near an oscillation is one of its peaks;
#: a real spike (a jump of a fifth of capacity or more) scores far higher
PEAK_SCORE_MAX = 10.0


def absorb_peaks(rows: list[dict[str, Any]], gap_ns: int) -> list[dict[str, Any]]:
    """Merge each lone spike (kind ``spike``, score under :data:`PEAK_SCORE_MAX`) at most
    ``gap_ns`` [ns] from an ``intermittent_oscillation`` event of its group into that event:
    the bursts of an oscillation pause for up to minutes, and a peak the spike rule flags in
    a pause of the learned event is the oscillation's, not a spike."""
    import pandas as pd

    osc = [r for r in rows if r["kind"] == "intermittent_oscillation"]
    keep = []
    for r in rows:
        host = None
        if r["kind"] == "spike" and r["score"] < PEAK_SCORE_MAX:
            t0, t1 = pd.Timestamp(r["start"]).value, pd.Timestamp(r["end"]).value
            near = [
                o for o in osc if o["group"] == r["group"]
                and pd.Timestamp(o["start"]).value - gap_ns <= t1
                and pd.Timestamp(o["end"]).value + gap_ns >= t0
            ]  # fmt: skip
            host = near[0] if near else None
        if host is None:
            keep.append(r)
            continue
        host["start"], host["end"] = min(host["start"], r["start"]), max(host["end"], r["end"])
        host["detector"] = "+".join(
            dict.fromkeys((host["detector"] + "+" + r["detector"]).split("+"))
        )
        host["scores"] += ";" + r["scores"]
        host["score"] = max(host["score"], r["score"])
    return keep
