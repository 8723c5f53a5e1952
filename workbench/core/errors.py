"""The workbench's error hierarchy.

Every error says what was expected, what was found and, where it helps, what to do.
All of them derive from :class:`WorkbenchError`, so callers (the CLI, jobs, notebooks)
can catch one class.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence


class WorkbenchError(Exception):
    """Base class of every error raised on purpose by the workbench."""


class CatalogError(WorkbenchError):
    """The data catalog file is unreadable, malformed or inconsistent."""


class CatalogValidationError(CatalogError):
    """An entry of the catalog breaks the schema (unknown key, wrong type, missing field)."""

    def __init__(self, source: str, problems: Sequence[str]) -> None:
        self.source = source
        self.problems = list(problems)
        lines = "\n".join(f"  - {p}" for p in self.problems)
        noun = "problem" if len(self.problems) == 1 else "problems"
        super().__init__(f"{source}: {len(self.problems)} {noun} in the data catalog:\n{lines}")


class InterpolationError(CatalogError):
    """A ``${VAR}`` reference in the catalog cannot be resolved."""


class SecretInCatalogError(CatalogError):
    """A secret (password, token, key) is written in the catalog instead of referenced by name."""


class UnknownDatasetError(CatalogError, KeyError):
    """A dataset name is not in the catalog; the message lists the closest names."""

    def __init__(self, name: str, known: Iterable[str]) -> None:
        import difflib

        known = sorted(known)
        self.name = name
        self.suggestions = difflib.get_close_matches(name, known, n=3, cutoff=0.6)
        if self.suggestions:
            hint = "did you mean " + " or ".join(repr(s) for s in self.suggestions) + "?"
        else:
            hint = "run `workbench catalog list` to see the datasets"
        super().__init__(f"no dataset named {name!r} in the catalog; {hint}")

    def __str__(self) -> str:  # KeyError would quote the message otherwise
        return str(self.args[0])


class DataAccessError(WorkbenchError):
    """Reading from or writing to a store (warehouse, Zarr, Parquet, raster) failed."""


class WarehouseError(DataAccessError):
    """The warehouse is unreachable or refused an operation."""


class SchemaError(DataAccessError):
    """Data does not have the columns or types that were expected."""


class MissingColumnsError(SchemaError):
    """Required columns are absent; lists the missing and the available ones."""

    def __init__(self, what: str, missing: Iterable[str], available: Iterable[str]) -> None:
        self.missing = sorted(missing)
        self.available = sorted(available)
        super().__init__(
            f"{what}: expected columns {self.missing} are missing; found {self.available}"
        )


class MissingExtraError(WorkbenchError, ImportError):
    """An optional dependency is not installed; the message gives the exact install command."""

    def __init__(self, module: str, extra: str, feature: str | None = None) -> None:
        self.module = module
        self.extra = extra
        what = f"{feature} needs" if feature else "this feature needs"
        super().__init__(
            f"{what} the optional dependency {module!r}, which is not installed; "
            f"install it with: pip install 'gridmind-workbench[{extra}]'"
        )
