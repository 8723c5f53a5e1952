"""The anomaly sweep job on the ci lakehouse: a day without SCADA is refused, not swept empty."""

from __future__ import annotations

from datetime import date

import pytest


def test_a_day_without_scada_is_refused_not_reported_healthy(ci_gold_catalog):
    from workbench.jobs.sweeps import NoDataForDayError, sweep_day

    with pytest.raises(NoDataForDayError, match=r"expected SCADA rows .* for 1999-01-01"):
        sweep_day(ci_gold_catalog, date(1999, 1, 1))


def test_flatline_rule_on_an_empty_series_finds_nothing():
    import pandas as pd

    from workbench.anomaly.detectors.rules import FlatlineRule
    from workbench.anomaly.inputs import long_series

    empty = pd.DataFrame({"ts": pd.Series([], dtype="datetime64[ns, UTC]"), "mw": [], "asset": []})
    series = long_series(empty, "ts", "mw", "asset")
    assert FlatlineRule().score(series).shape == (0,)
