"""Errors of the agent tools: every refusal says what was expected, what was found, what to do."""

from __future__ import annotations

from workbench.core.errors import WorkbenchError


class AgentError(WorkbenchError):
    """An agent tool could not answer (bad arguments, a missing dataset, a failed read)."""


class QueryRefusedError(AgentError):
    """The guard refused a query or a tool argument (a write, a file read, a secret lookup)."""


class ToolTimeoutError(AgentError):
    """A tool ran past its time limit and was interrupted."""


class ToolDisabledError(AgentError):
    """A state-changing tool was called without being enabled."""
