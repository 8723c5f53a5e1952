"""Errors of the forecasting layer (re-exported by :mod:`workbench.forecasting.base`)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from workbench.core.errors import WorkbenchError


class ForecastError(WorkbenchError):
    """A forecast problem is ill-posed (bad spec, bad data shape, model misuse)."""


class NotFittedError(ForecastError):
    """``predict`` was called before ``fit``."""


class InsufficientDataError(ForecastError):
    """Too little history to fit or validate; the message says how much was needed."""


class UnknownModelError(ForecastError):
    """A model name is not registered; the message lists the registered names.

    Not a ``KeyError``: code that catches ``KeyError`` for its own lookups must not swallow an
    unknown model name and carry on with something else.
    """

    def __init__(self, name: str, known: Sequence[str]) -> None:
        import difflib

        self.name = name
        self.known = sorted(known)
        close = difflib.get_close_matches(name, self.known, n=2, cutoff=0.6)
        hint = ("did you mean " + " or ".join(repr(c) for c in close) + "? ") if close else ""
        super().__init__(
            f"expected a model name in {self.known}; found {name!r}. {hint}"
            "Prefixed names such as 'sktime:AutoETS' are accepted for registered prefixes."
        )


class UnknownParameterError(ForecastError):
    """A model was given parameters it does not take; the message lists the valid ones."""

    def __init__(
        self,
        model: str,
        unknown: Iterable[str],
        valid: Iterable[str],
        more: Iterable[str] = (),
        more_note: str = "",
    ) -> None:
        import difflib

        self.model = model
        self.unknown = sorted(unknown)
        self.valid = sorted(valid)
        hints = []
        for name in self.unknown:
            close = difflib.get_close_matches(name, [*self.valid, *more], n=1, cutoff=0.7)
            if close:
                hints.append(f"{close[0]!r} for {name!r}")
        hint = f" Did you mean {', '.join(hints)}?" if hints else ""
        extra = f" {more_note}" if more_note else ""
        super().__init__(
            f"expected parameters of model {model!r} in {self.valid}{extra}; found unknown "
            f"{self.unknown}.{hint}"
        )
