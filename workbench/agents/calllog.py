"""``ops.agent_calls``: one row per agent tool call, written on a separate writer connection.

The query connection of the tools is read-only; the log is appended through the warehouse layer
(:meth:`workbench.io.catalog.Catalog.write`, one transaction) on a short-lived read-write
connection opened for that row and closed at once, so a DuckDB file is never held between calls.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from workbench.agents.errors import AgentError
from workbench.agents.scrub import Scrubber
from workbench.core.errors import WorkbenchError

TABLE = "ops.agent_calls"
#: Longest argument JSON and message kept in the log [characters].
MAX_LOGGED_CHARS = 4000
OUTCOMES = ("ok", "capped", "refused", "timeout", "error")


@dataclass(frozen=True)
class AgentCall:
    """One tool call as logged."""

    tool: str
    arguments: dict[str, Any]
    rows: int
    bytes: int
    duration_s: float
    outcome: str
    message: str
    client: str
    call_id: str = ""
    called_at: datetime | None = None


class AgentCallLog:
    """Appends :class:`AgentCall` rows to ``ops.agent_calls`` of a catalog's warehouse.

    Parameters
    ----------
    spec, path
        The catalog spec and file (a writable :class:`~workbench.io.catalog.Catalog` is opened
        on them for each row).
    scrubber : Scrubber
        Masks secrets in the arguments and messages before they are written.
    """

    def __init__(self, spec: Any, path: Any, scrubber: Scrubber) -> None:
        self.spec, self.path, self.scrubber = spec, path, scrubber

    def record(self, call: AgentCall) -> str:
        """Write one row; returns its ``call_id``. Raises :class:`AgentError` if it cannot."""
        import pandas as pd

        from workbench.io.catalog import Catalog

        if call.outcome not in OUTCOMES:
            raise AgentError(f"expected an outcome among {OUTCOMES}; found {call.outcome!r}")
        call_id = call.call_id or uuid.uuid4().hex
        arguments = json.dumps(call.arguments, default=str, sort_keys=True)
        row = {
            "call_id": call_id,
            "called_at": pd.Timestamp(call.called_at or datetime.now(UTC)),
            "tool": call.tool,
            "client": call.client,
            "arguments": self.scrubber.clipped(arguments, MAX_LOGGED_CHARS),
            "rows": int(call.rows),
            "bytes": int(call.bytes),
            "duration_s": float(call.duration_s),
            "outcome": call.outcome,
            "message": self.scrubber.clipped(call.message, MAX_LOGGED_CHARS),
        }
        writer = Catalog(self.spec, self.path)
        try:
            writer.write(TABLE, pd.DataFrame([row]), mode="append")
        except WorkbenchError as exc:
            msg = (
                f"expected to record the {call.tool} call in {TABLE}; found the warehouse "
                f"refusing the write: {self.scrubber.text(str(exc).splitlines()[0])}"
            )
            raise AgentError(msg) from exc
        finally:
            writer.close()
        return call_id
