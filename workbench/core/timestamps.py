"""Checks on time text as users write it, shared by every reader of user tables.

Kept free of pandas (duck-typed on a Series) so the pure cores (forecasting, anomaly) and the
file readers in :mod:`workbench.io.files` use the same rule.
"""

from __future__ import annotations

import re
from typing import Any

from workbench.core.errors import WorkbenchError

#: A clock time followed by a UTC offset or zone letter: ``10:00Z``, ``10:00+01:00``, ``10:00 UTC``.
OFFSET = re.compile(r"\d:\d{2}(?::\d{2}(?:[.,]\d+)?)?\s*(?:Z|UTC|[+-]\d{2}(?::?\d{2})?)$", re.I)


def check_time_zones(column: Any, name: str, *, error: type[WorkbenchError]) -> None:
    """Refuse time text that mixes stamps with a UTC offset and stamps without one.

    Different offsets are fine (a DST change: each is converted to UTC), but a naive stamp next
    to an aware one has no defined instant relative to it.

    Parameters
    ----------
    column : pandas.Series
        The time column as read; only text is checked (parsed datetimes have one zone).
    name : str
        The column's name, for the message.
    error : WorkbenchError subclass
        Raised with a one-line message giving an example of each.
    """
    kind = getattr(column.dtype, "kind", "")
    if not (kind in ("O", "U") or str(column.dtype) in ("string", "str")):
        return
    text = column.dropna().astype(str).str.strip()
    text = text[text.str.contains(r"\d")]  # words ("not a time") are left to the parser
    aware = text.str.contains(OFFSET).to_numpy(bool)
    if aware.any() and not aware.all():
        raise error(
            f"expected timestamps in column {name!r} all with a UTC offset or all without; "
            f"found {int(aware.sum())} with one (e.g. {text[aware].iloc[0]!r}) and "
            f"{int((~aware).sum())} without (e.g. {text[~aware].iloc[0]!r}). Write every time "
            "with its offset (or all in one zone and pass it)."
        )
