"""Market analytics over the catalog: read the inputs, call the pure functions of :mod:`.lmp`.

The only functions of :mod:`workbench.market` that take a catalog; each reads what it needs
(read-only) and returns frames.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from workbench.market import lmp

PRICE_TABLES = ("silver.market_prices", "gold.fact_market_prices")


def read_prices(
    cat: Any, *, table: str = "silver.market_prices", start: Any = None, end: Any = None
) -> pd.DataFrame:
    """Market prices from ``table`` in the silver layout (gold names renamed)."""
    if table not in PRICE_TABLES:
        from workbench.market.errors import MarketInputError

        msg = f"expected a price table in {list(PRICE_TABLES)}; found {table!r}"
        raise MarketInputError(msg)
    return lmp.standard_prices(cat.read(table, start=start, end=end))


def spreads(
    cat: Any, *, tz: str = "UTC", table: str = "silver.market_prices", by_hour: bool = False
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """DART summary (by node, or node and hour of day in ``tz``) and its distribution by node."""
    dart = lmp.dart_spreads(read_prices(cat, table=table), tz=tz)
    by = ("node_id", "hour") if by_hour else ("node_id",)
    return lmp.spread_summary(dart, by=by), lmp.dart_distribution(dart)


def congestion(
    cat: Any,
    *,
    table: str = "silver.market_prices",
    threshold_usd_per_mwh: float = 1.0,
    with_flows: bool = True,
) -> pd.DataFrame:
    """Congestion hours per interface: price separation from ``table``, flows at the limit
    from ``bronze.raw_interchange`` (when ``with_flows`` and the catalog has it)."""
    prices = read_prices(cat, table=table)
    topology = cat.read("silver.grid_topology")
    flows = cat.read("bronze.raw_interchange") if with_flows else None
    hours = lmp.interface_hours(
        prices, topology, flows, threshold_usd_per_mwh=threshold_usd_per_mwh
    )
    return lmp.congestion_hours(hours)
