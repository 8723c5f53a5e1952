"""How much of gold the jobs have covered: per forecast target, the fact rows that have a forecast.

A fact row has a forecast when a published forecast (median, ``quantile = 0.5``, any run) targets
its series and hour: ``gold.fact_load`` carries it in ``forecast_load_mw`` (filled by the load
job); solar and wind rows of ``gold.fact_generation`` are matched with
``gold.generation_forecasts`` on (asset, hour), day-ahead rows of ``gold.fact_market_prices``
with ``gold.price_forecasts`` on (node, hour). What ``workbench demo`` prints at its end.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Coverage:
    """One forecast target: its fact rows, how many have a forecast, the forecast runs."""

    target: str  # load, solar, wind, price
    fact: str  # the gold fact table (and the rows of it that are this target)
    fact_rows: int
    with_forecast: int
    forecasts_table: str
    forecast_rows: int
    runs: int  # distinct run keys in the forecasts table for this target

    @property
    def share_pct(self) -> float | None:
        """Share of the fact rows with a forecast [%]; None without fact rows."""
        return None if not self.fact_rows else 100.0 * self.with_forecast / self.fact_rows


def _count(expr: Any) -> int:
    return int(expr.count().execute())


def _exists(cat: Any, name: str) -> bool:
    entry = cat.entry(name)
    return cat.warehouse(entry.warehouse).exists(entry.location)


def _matched(facts: Any, forecasts: Any, fact_id: str, fc_id: str) -> int:
    """Fact rows whose (series, hour) has a median forecast in ``forecasts``."""
    med = forecasts.filter(forecasts.quantile == 0.5)
    keys = med.select(k_id=med[fc_id], k_ts=med.timestamp).distinct()
    hit = facts.semi_join(keys, [facts[fact_id] == keys.k_id, facts.timestamp == keys.k_ts])
    return _count(hit)


def forecast_coverage(cat: Any) -> list[Coverage]:
    """Per forecast target (load, solar, wind, price): fact rows, rows with a forecast, runs.

    A target whose tables are not built yet counts 0 (nothing has a forecast).
    """
    out = []
    specs = (
        ("load", "gold.fact_load", "gold.load_forecasts", None),
        ("solar", "gold.fact_generation", "gold.generation_forecasts", "solar"),
        ("wind", "gold.fact_generation", "gold.generation_forecasts", "wind"),
        ("price", "gold.fact_market_prices", "gold.price_forecasts", "DA"),
    )
    for target, fact, fc_name, which in specs:
        if not _exists(cat, fact):
            out.append(Coverage(target, fact, 0, 0, fc_name, 0, 0))
            continue
        facts = cat.scan(fact)
        label = fact
        if target in ("solar", "wind"):
            facts = facts.filter(facts.technology == which)
            label = f"{fact} (technology = {which})"
        elif target == "price":
            facts = facts.filter(facts.market_type == which)
            label = f"{fact} (market_type = {which})"
        fact_rows = _count(facts)
        if not _exists(cat, fc_name):
            out.append(Coverage(target, label, fact_rows, 0, fc_name, 0, 0))
            continue
        fc = cat.scan(fc_name)
        if target in ("solar", "wind"):
            fc = fc.filter(fc.technology == which)
        elif target == "price":
            fc = fc.filter(fc.market == which)
        if target == "load":
            with_fc = int(facts.forecast_load_mw.notnull().sum().execute() or 0)
        elif target == "price":
            with_fc = _matched(facts, fc, "node", "node_id")
        else:
            with_fc = _matched(facts, fc, "asset_id", "asset_id")
        runs = int(fc.run_key.nunique().execute())
        out.append(Coverage(target, label, fact_rows, with_fc, fc_name, _count(fc), runs))
    return out


def gold_row_counts(cat: Any) -> dict[str, int | None]:
    """Rows of every gold table of the catalog; None for a table not built yet."""
    return {
        name: _count(cat.scan(name)) if _exists(cat, name) else None
        for name in cat.list(layer="gold")
    }
