"""Event-level scoring of detected anomalies against labelled events (``ops.sim_events``).

A predicted event *matches* a label when both are on the same group (asset, PMU; a label whose
target is a wildcard such as ``"system"`` matches any group) and their intervals overlap once the
label is widened by ``tolerance`` on both sides: ``pred.start <= label.end + tol`` and
``pred.end >= label.start - tol``. Per event type:

- recall = labels matched by at least one prediction / labels;
- precision = predictions that match at least one label / predictions;
- F1 = 2 P R / (P + R); 0 when P + R is 0; NaN when neither labels nor predictions exist.

Typed scoring (``kind_map`` given, or the predictions carry ``event_type``): a prediction of kind
``k`` is of type ``kind_map.get(k, k)`` and matches labels of that type only. Untyped scoring
(predictions without a type, e.g. a frequency detector): a prediction counts for every type whose
label it matches, and a prediction matching no label counts as a false positive of every type
(the conservative choice). The ``all`` row pools every label and prediction.

One-to-one scoring (``one_to_one=True``): each label is matched by at most one prediction and
each prediction matches at most one label (a maximum matching of the overlap graph, per type):
a second piece of one fault is a false positive, not a second true one, and one prediction
spanning two faults finds only one of them. Then ``correct`` = ``detected`` = the matching's
size. An event detector that reports one fault as several events (two signals, or a burst and
its pause) scores no better than one that reports it once.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from workbench.anomaly.base import AnomalyInputError, duration_ns
from workbench.core.errors import MissingColumnsError

SCORE_COLUMNS = (
    "event_type",
    "n_labels",
    "n_predicted",
    "detected",
    "correct",
    "precision",
    "recall",
    "f1",
)


def score_events(
    predicted: Any,
    labels: Any,
    tolerance: Any = "0s",
    *,
    group_col: str | None = "group",
    label_group_col: str | None = "target_id",
    kind_col: str = "kind",
    kind_map: Mapping[str, str] | None = None,
    wildcard_groups: Sequence[str] = ("system",),
    one_to_one: bool = False,
) -> Any:
    """Precision, recall and F1 of predicted events against labels, by event type.

    Parameters
    ----------
    predicted : pandas.DataFrame
        Predicted events with ``start``, ``end`` (UTC), optionally ``group_col`` and
        ``kind_col`` (or ``event_type``).
    labels : pandas.DataFrame
        Labelled events with ``start``, ``end``, ``event_type`` and optionally
        ``label_group_col`` (``ops.sim_events``).
    tolerance : str, Timedelta or float
        Widening of each label on both sides [s].
    group_col, label_group_col : str or None
        Group columns; None (either) matches events regardless of group.
    kind_col : str
        Column of the predicted kind, mapped to event types with ``kind_map``.
    kind_map : mapping, optional
        Predicted kind -> label event type (e.g. ``{"stale": "dropout"}``); turns on typed
        scoring.
    wildcard_groups : sequence of str
        Label groups that match any predicted group.
    one_to_one : bool
        Match each label to at most one prediction and back (a maximum matching per type):
        pieces of one fault beyond the first count as false positives.

    Returns
    -------
    pandas.DataFrame
        One row per event type plus ``all``: event_type, n_labels, n_predicted, detected,
        correct, precision, recall, f1.

    Examples
    --------
    >>> kinds = {"stale": "dropout"}
    >>> score_events(pred, sim_events, tolerance="30s", kind_map=kinds)  # doctest: +SKIP
    """
    import pandas as pd

    tol = duration_ns(tolerance, "tolerance")
    for what, frame, cols in (
        ("predicted events", predicted, ["start", "end"]),
        ("labels", labels, ["start", "end", "event_type"]),
    ):
        if not isinstance(frame, pd.DataFrame):
            raise AnomalyInputError(f"expected {what} as a DataFrame; found {type(frame).__name__}")
        missing = set(cols) - set(frame.columns)
        if missing:
            raise MissingColumnsError(what, missing, frame.columns)
    p_start, p_end = _ns(predicted["start"]), _ns(predicted["end"])
    l_start, l_end = _ns(labels["start"]) - tol, _ns(labels["end"]) + tol
    overlap = (p_start[:, None] <= l_end[None, :]) & (p_end[:, None] >= l_start[None, :])
    if group_col in predicted.columns and label_group_col in labels.columns:
        pg = predicted[group_col].astype(str).to_numpy(object)
        lg = labels[label_group_col].astype(str).to_numpy(object)
        same = (pg[:, None] == lg[None, :]) | np.isin(lg, list(wildcard_groups))[None, :]
        overlap &= same
    l_type = labels["event_type"].astype(str).to_numpy(object)
    typed = kind_map is not None or "event_type" in predicted.columns
    p_type = None
    if typed:
        if "event_type" in predicted.columns:
            p_type = predicted["event_type"].astype(str).to_numpy(object)
        elif kind_col in predicted.columns:
            mapping = dict(kind_map or {})
            p_type = np.array([mapping.get(k, k) for k in predicted[kind_col].astype(str)], object)
        else:
            raise MissingColumnsError("predicted events (typed scoring)", [kind_col], predicted)
        overlap &= p_type[:, None] == l_type[None, :]
    types = sorted(set(l_type) | (set(p_type) if p_type is not None else set()))
    rows = []
    unmatched = ~overlap.any(axis=1)
    for t in [*types, "all"]:
        lab = np.ones(l_type.size, bool) if t == "all" else l_type == t
        m = overlap[:, lab]
        detected = int(m.any(axis=0).sum())
        if one_to_one:
            if t == "all":
                mine = np.ones(p_start.size, bool)
            else:  # untyped: the predictions on this type's labels and those on none
                mine = p_type == t if typed else m.any(axis=1) | unmatched
            size, n_pred = max_matching(m[mine]), int(mine.sum())
            rows.append((t, int(lab.sum()), n_pred, size, size,
                         *_prf(lab.sum(), n_pred, size, size)))  # fmt: skip
            continue
        if t == "all":
            n_pred = p_start.size
            correct = int(overlap.any(axis=1).sum())
        elif typed:
            mine = p_type == t
            n_pred, correct = int(mine.sum()), int(m[mine].any(axis=1).sum())
        else:
            hits = m.any(axis=1)
            correct = int(hits.sum())
            n_pred = correct + int(unmatched.sum())
        rows.append(
            (
                t,
                int(lab.sum()),
                n_pred,
                detected,
                correct,
                *_prf(lab.sum(), n_pred, detected, correct),
            )
        )
    return pd.DataFrame(rows, columns=list(SCORE_COLUMNS))


def max_matching(overlap: np.ndarray) -> int:
    """Size of a maximum matching of a bipartite graph (rows: predictions, columns: labels;
    ``overlap[i, j]`` True where they may match), by augmenting paths (Kuhn): each prediction
    in turn takes a free label or re-routes the owner of a taken one."""
    adj = [np.flatnonzero(row) for row in overlap]
    owner = np.full(overlap.shape[1], -1, np.int64)

    def augment(p: int, seen: np.ndarray) -> bool:
        stack = [(p, iter(adj[p]))]  # iterative depth-first search: no recursion limit
        path: list[tuple[int, int]] = []
        while stack:
            node, labels = stack[-1]
            for lab in labels:
                if seen[lab]:
                    continue
                seen[lab] = True
                if owner[lab] < 0:
                    owner[lab] = node
                    for q, lq in reversed(path):
                        owner[lq] = q
                    return True
                path.append((node, int(lab)))
                stack.append((int(owner[lab]), iter(adj[owner[lab]])))
                break
            else:
                stack.pop()
                if path:
                    path.pop()
        return False

    seen = np.zeros(overlap.shape[1], bool)
    size = 0
    for p in range(overlap.shape[0]):
        if adj[p].size:
            seen[:] = False
            size += augment(p, seen)
    return size


def _prf(n_labels: int, n_pred: int, detected: int, correct: int) -> tuple[float, float, float]:
    precision = correct / n_pred if n_pred else float("nan")
    recall = detected / n_labels if n_labels else float("nan")
    if not n_pred and not n_labels:
        return precision, recall, float("nan")
    p = 0.0 if np.isnan(precision) else precision
    r = 0.0 if np.isnan(recall) else recall
    return precision, recall, (2 * p * r / (p + r) if p + r > 0 else 0.0)


def _ns(column: Any) -> np.ndarray:
    import pandas as pd

    try:
        return pd.DatetimeIndex(pd.to_datetime(column, utc=True)).as_unit("ns").asi8
    except (ValueError, TypeError) as exc:
        raise AnomalyInputError(f"expected event times as timestamps; found {exc}") from exc
