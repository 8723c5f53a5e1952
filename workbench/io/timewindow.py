"""Time-window arguments (``start=``, ``end=``) as timezone-aware UTC instants."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from workbench.core.errors import DataAccessError


def to_utc(value: Any, name: str = "time") -> datetime | None:
    """Parse ``str`` / ``date`` / ``datetime`` / ``pandas.Timestamp`` into an aware UTC datetime.

    Naive values are taken as UTC, as everywhere inside the workbench.
    """
    if value is None:
        return None
    if hasattr(value, "to_pydatetime"):
        value = value.to_pydatetime()
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            msg = (
                f"expected {name} as an ISO 8601 time such as '2024-07-01T00:00Z'; found {value!r}"
            )
            raise DataAccessError(msg) from None
    elif isinstance(value, date) and not isinstance(value, datetime):
        value = datetime(value.year, value.month, value.day)
    if not isinstance(value, datetime):
        msg = f"expected {name} as a datetime or ISO string; found {type(value).__name__} {value!r}"
        raise DataAccessError(msg)
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)
