"""Errors of the market analytics (all :class:`~workbench.core.errors.WorkbenchError`)."""

from __future__ import annotations

from workbench.core.errors import WorkbenchError


class MarketInputError(WorkbenchError):
    """Prices, a forecast, a fleet or a topology given to a market function cannot be used."""


class BatteryParameterError(MarketInputError):
    """A battery's parameters are impossible (negative energy, efficiency above 1, ...)."""


class InfeasibleScheduleError(MarketInputError):
    """No schedule satisfies the battery's constraints over the given intervals."""
