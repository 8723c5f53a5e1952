"""score_events against hand-computed cases."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from workbench.anomaly.evaluation import score_events

T0 = pd.Timestamp("2024-01-01", tz="UTC")


def _ev(rows, cols):
    frame = pd.DataFrame(rows, columns=cols)
    frame["start"] = T0 + pd.to_timedelta(frame["start"], unit="s")
    frame["end"] = T0 + pd.to_timedelta(frame["end"], unit="s")
    return frame


LABELS = _ev(
    [
        ("spike", "A", 100, 104),
        ("spike", "B", 200, 204),
        ("flatline", "A", 300, 600),
        ("dropout", "B", 700, 760),
    ],
    ["event_type", "target_id", "start", "end"],
)


def _row(scores, t):
    return scores.set_index("event_type").loc[t]


def test_typed_scoring_by_hand():
    pred = _ev(
        [
            ("A", "spike", 101, 101),  # TP spike A
            ("B", "spike", 206, 206),  # 2 s after the label: TP only with tolerance
            ("A", "spike", 400, 400),  # inside the flatline, but a spike: FP spike
            ("A", "flatline", 350, 500),  # TP flatline
            ("B", "stale", 690, 770),  # stale -> dropout: TP
            ("A", "stale", 700, 760),  # wrong group: FP dropout
        ],
        ["group", "kind", "start", "end"],
    )
    kinds = {"stale": "dropout"}
    strict = score_events(pred, LABELS, tolerance="0s", kind_map=kinds)
    s = _row(strict, "spike")
    assert (s.n_labels, s.n_predicted, s.detected, s.correct) == (2, 3, 1, 1)
    assert s.precision == pytest.approx(1 / 3)
    assert s.recall == pytest.approx(1 / 2)
    assert s.f1 == pytest.approx(2 * (1 / 3) * (1 / 2) / (1 / 3 + 1 / 2))
    d = _row(strict, "dropout")
    assert (d.n_predicted, d.correct, d.detected) == (2, 1, 1)
    assert d.f1 == pytest.approx(2 * 0.5 * 1.0 / 1.5)
    f = _row(strict, "flatline")
    assert (f.precision, f.recall, f.f1) == (1.0, 1.0, 1.0)
    a = _row(strict, "all")
    assert (a.n_labels, a.n_predicted, a.detected, a.correct) == (4, 6, 4 - 1, 3)
    loose = score_events(pred, LABELS, tolerance="2s", kind_map=kinds)
    s = _row(loose, "spike")
    assert (s.detected, s.correct) == (2, 2)
    assert s.f1 == pytest.approx(2 * (2 / 3) * 1.0 / (2 / 3 + 1.0))


def test_untyped_scoring_charges_unmatched_predictions_to_every_type():
    pred = _ev([("A", 101, 102), ("A", 900, 901)], ["group", "start", "end"])
    scores = score_events(pred, LABELS)
    s = _row(scores, "spike")
    assert (s.n_predicted, s.correct, s.detected) == (2, 1, 1)
    assert s.precision == 0.5
    d = _row(scores, "dropout")
    assert (d.n_predicted, d.correct, d.detected) == (1, 0, 0)
    assert d.precision == 0.0
    assert d.recall == 0.0
    assert d.f1 == 0.0


def test_wildcard_label_group_matches_any_pmu_and_empty_cases():
    labels = _ev(
        [("generator_trip", "system", 10, 50)], ["event_type", "target_id", "start", "end"]
    )
    pred = _ev([("PMU_1", 12, 20), ("PMU_2", 13, 30)], ["group", "start", "end"])
    scores = score_events(pred, labels)
    row = _row(scores, "generator_trip")
    assert (row.precision, row.recall, row.f1) == (1.0, 1.0, 1.0)
    none = score_events(pred.iloc[:0], labels)
    row = _row(none, "generator_trip")
    assert math.isnan(row.precision)
    assert row.recall == 0.0
    assert row.f1 == 0.0


def test_one_to_one_scoring_counts_a_fault_once():
    labels = _ev(
        [("stuck_with_noise", "A", 0, 600), ("stuck_with_noise", "A", 1000, 1600),
         ("stuck_with_noise", "B", 0, 600)],
        ["event_type", "target_id", "start", "end"],
    )  # fmt: skip
    pred = _ev(
        [
            ("A", "stuck_with_noise", 10, 200),  # first piece of A's first fault
            ("A", "stuck_with_noise", 300, 1200),  # second piece, also on A's second fault
            ("B", "stuck_with_noise", 10, 200),  # B's fault, first piece
            ("B", "stuck_with_noise", 400, 590),  # B's fault, second piece
        ],
        ["group", "kind", "start", "end"],
    )
    loose = _row(score_events(pred, labels, kind_map={}), "stuck_with_noise")
    assert (loose.n_predicted, loose.correct, loose.detected) == (4, 4, 3)
    strict = _row(score_events(pred, labels, kind_map={}, one_to_one=True), "stuck_with_noise")
    # A: the long piece re-routes to the second fault; B: its second piece is a false positive
    assert (strict.n_predicted, strict.correct, strict.detected) == (4, 3, 3)
    assert strict.precision == pytest.approx(3 / 4)
    assert strict.recall == 1.0
    merged = pred.iloc[[0]].assign(end=T0 + pd.Timedelta(seconds=1600))  # one event, two faults
    one = _row(score_events(merged, labels, kind_map={}, one_to_one=True), "stuck_with_noise")
    assert (one.correct, one.detected, one.recall) == (1, 1, pytest.approx(1 / 3))
    untyped = _row(score_events(pred, labels, one_to_one=True), "stuck_with_noise")
    assert (untyped.n_predicted, untyped.correct) == (4, 3)


def test_max_matching_equals_scipys_on_random_overlap_graphs():
    """The one-to-one scoring's matching is maximum: the same size as scipy's Hopcroft-Karp on
    random prediction x label overlap graphs, sparse and dense, including re-routing chains."""
    import numpy as np
    from scipy.optimize import linear_sum_assignment

    from workbench.anomaly.evaluation import max_matching

    rng = np.random.default_rng(3)
    for trial in range(300):
        n_pred, n_lab = rng.integers(0, 12, size=2)
        overlap = rng.random((n_pred, n_lab)) < rng.choice([0.1, 0.3, 0.6])
        if overlap.size:
            rows, cols = linear_sum_assignment(overlap.astype(float), maximize=True)
            best = int(overlap[rows, cols].sum())
        else:
            best = 0
        assert max_matching(overlap) == best, (trial, overlap.astype(int).tolist())
