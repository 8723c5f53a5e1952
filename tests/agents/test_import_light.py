"""The agent stack is an extra: ``import workbench`` (and ``workbench.agents``) load none of it."""

from __future__ import annotations

from tests.test_import import _loaded_after

AGENT_STACK = ("mcp", "langchain_core", "langchain", "uvicorn", "starlette", "sqlglot")


def _agent_modules(statement: str) -> list[str]:
    import json
    import subprocess
    import sys

    code = (
        "import json, sys\n"
        f"{statement}\n"
        "loaded = {m.split('.')[0] for m in sys.modules}\n"
        f"print(json.dumps(sorted(loaded & set({AGENT_STACK!r}))))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return json.loads(out.stdout)


def test_import_workbench_loads_no_agent_library():
    assert _agent_modules("import workbench") == []
    assert _agent_modules("import workbench.agents") == []
    assert _loaded_after("import workbench.agents") == []  # nor a heavy one


def test_the_probe_sees_the_agent_stack():
    # guards the guard: the same probe does report the agent stack once it is imported
    assert "mcp" in _agent_modules("import workbench.agents, mcp")
