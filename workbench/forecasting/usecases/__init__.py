"""Use cases on the catalog: tables turned into ForecastData with the catalog's availability lags.

* :mod:`.load` — load 48 h ahead per region (gold.fact_load, weather forecasts, holidays).
* :mod:`.price` — day-ahead and real-time LMP per node (gold.fact_market_prices).
* ``solar`` and ``wind`` (per plant) live in their own modules.

This package is the shell of forecasting: it reads the catalog, the pure core
(:mod:`workbench.forecasting.pipeline` and below) never does. Builders take any object that
satisfies :class:`CatalogReader` (the workbench's :class:`~workbench.io.catalog.Catalog` does)
and return a :class:`~workbench.forecasting.pipeline.UseCase`: the data, the spec and the model
parameters that suit it, ready for :func:`~workbench.forecasting.backtest.backtest_case` or
:func:`~workbench.forecasting.pipeline.build_forecaster`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol, runtime_checkable

from workbench.forecasting.pipeline import UseCase

__all__ = ["CatalogReader", "DatasetInfo", "UseCase", "WarehouseInfo"]


@runtime_checkable
class DatasetInfo(Protocol):
    """What a use case reads of a catalog entry."""

    kind: str
    warehouse: str
    location: str

    @property
    def availability_lag_td(self) -> Any:
        """How long after its interval a value becomes known (a timedelta)."""


@runtime_checkable
class WarehouseInfo(Protocol):
    """What a use case asks a warehouse: does this table exist."""

    def exists(self, location: str) -> bool:
        """True when the table exists."""


@runtime_checkable
class CatalogReader(Protocol):
    """The part of a catalog the use cases and forecast jobs use (read-only)."""

    def __contains__(self, name: object) -> bool:
        """True when ``name`` is declared."""

    def entry(self, name: str) -> DatasetInfo:
        """The declaration of a dataset."""

    def warehouse(self, name: str = "default") -> WarehouseInfo:
        """A warehouse by name."""

    def read(
        self,
        name: str,
        *,
        start: Any = None,
        end: Any = None,
        columns: Sequence[str] | None = None,
        where: Any = None,
    ) -> Any:
        """A window of a dataset as a pandas DataFrame."""
