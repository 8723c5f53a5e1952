"""Package structure rules import-linter cannot express (issue 16, point 3).

* no import cycle among the modules of ``workbench.forecasting`` (function-level imports count:
  a lazy import is still a dependency);
* no private name (``_x``) imported from another module of ``workbench``.

Both scan the source with :mod:`ast`, so they see every ``import`` statement, wherever it is.
"""

from __future__ import annotations

import ast
from pathlib import Path

import workbench

ROOT = Path(workbench.__file__).parent


def _module_name(path: Path) -> str:
    rel = path.relative_to(ROOT.parent).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _imports(path: Path) -> list[tuple[str, list[str]]]:
    """``(module, [names])`` of every ``from x import ...`` / ``import x`` in a file."""
    tree = ast.parse(path.read_text(), filename=str(path))
    here = _module_name(path)
    package = here if path.name == "__init__.py" else here.rpartition(".")[0]
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")
                anchor = anchor[: len(anchor) - (node.level - 1)]
                base = ".".join([*anchor, base] if base else anchor)
            out.append((base, [a.name for a in node.names]))
        elif isinstance(node, ast.Import):
            out.extend((a.name, []) for a in node.names)
    return out


def _modules(package: str) -> dict[str, Path]:
    folder = ROOT.parent.joinpath(*package.split("."))
    return {_module_name(p): p for p in folder.rglob("*.py")}


def _graph(package: str) -> dict[str, set[str]]:
    mods = _modules(package)
    graph: dict[str, set[str]] = {m: set() for m in mods}
    for mod, path in mods.items():
        for base, names in _imports(path):
            targets = {base} | {f"{base}.{n}" for n in names}
            graph[mod] |= {t for t in targets if t in mods and t != mod}
    return graph


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import cycle of ``graph`` as a list of modules, or None."""
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                return [*stack[stack.index(nxt) :], nxt]
            if nxt not in state and (found := visit(nxt)):
                return found
        stack.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state and (found := visit(node)):
            return found
    return None


def test_find_cycle_sees_a_cycle_and_its_absence():
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": set()}) is None


def test_forecasting_has_no_import_cycle():
    graph = _graph("workbench.forecasting")
    assert "workbench.forecasting.base" in graph  # the scan sees the package
    assert "workbench.forecasting.windows" in graph["workbench.forecasting.calibration"]
    assert find_cycle(graph) is None, " -> ".join(find_cycle(graph) or [])


def test_no_private_name_is_imported_across_modules():
    mods = _modules("workbench")
    offenders = []
    for mod, path in mods.items():
        for base, names in _imports(path):
            if not base.startswith("workbench") or base == mod:
                continue
            private = [n for n in names if n.startswith("_") and not n.startswith("__")]
            offenders += [f"{mod}: from {base} import {n}" for n in private]
    assert offenders == []


#: The shell of forecasting: what reads the catalog, files, MLflow (everything else is the core).
FORECASTING_SHELL = {
    "workbench.forecasting",  # the package's own __init__
    "workbench.forecasting.model_artifacts",
    "workbench.forecasting.registry",
    "workbench.forecasting.tracking",
    "workbench.forecasting.usecases",
}


def test_every_forecasting_module_is_core_or_shell():
    """A new module must join the pure-core contract of pyproject.toml or be declared shell."""
    import tomllib

    config = tomllib.loads((ROOT.parent / "pyproject.toml").read_text())
    contracts = config["tool"]["importlinter"]["contracts"]
    (pure,) = [c for c in contracts if c["name"].startswith("The forecasting core is pure")]
    core = set(pure["source_modules"])
    assert FORECASTING_SHELL - {"workbench.forecasting"} <= set(pure["forbidden_modules"])
    modules = {m for m in _modules("workbench.forecasting") if m.count(".") <= 2}
    unplaced = modules - core - FORECASTING_SHELL
    assert unplaced == set(), f"add to the pure-core contract or the shell: {sorted(unplaced)}"
    assert core <= modules  # no stale names in the contract
