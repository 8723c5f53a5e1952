"""Use cases on the catalog: tables turned into ForecastData with the catalog's availability lags.

* :mod:`.load` — load 48 h ahead per region (gold.fact_load, weather forecasts, holidays).
* :mod:`.price` — day-ahead and real-time LMP per node (gold.fact_market_prices).
* ``solar`` and ``wind`` (per plant) live in their own modules.

Each builder returns a :class:`UseCase`: the data, the spec and the model parameters that suit it,
ready for :func:`workbench.forecasting.backtest.backtest`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from workbench.forecasting.base import ForecastData, ForecastSpec


@dataclass
class UseCase:
    """A forecast problem built from the catalog.

    ``model_params`` maps a model name to its parameters (the ``candidate_params`` of ``auto``);
    ``notes`` says what was used or skipped (e.g. "no weather forecasts: none used").
    """

    name: str
    data: ForecastData
    spec: ForecastSpec
    issue_time: str = "00:00"
    model_params: dict[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
