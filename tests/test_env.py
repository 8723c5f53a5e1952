"""The environment files: the lock pins what pyproject asks for, the kernel is registered."""

from __future__ import annotations

import json
import re
import sys
import tomllib
from importlib import metadata
from pathlib import Path

from packaging.requirements import Requirement
from packaging.version import Version

from tests.conftest import ROOT


def _lock() -> dict[str, Version]:
    pins = {}
    for line in (ROOT / "env" / "requirements.lock").read_text().splitlines():
        if line and not line.startswith("#"):
            name, _, version = line.partition("==")
            pins[re.sub(r"[-_.]+", "-", name).lower()] = Version(version)
    return pins


def _requirements() -> list[Requirement]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    reqs = [Requirement(r) for r in project["dependencies"]]
    for extra, items in project["optional-dependencies"].items():
        if extra != "all":
            reqs += [Requirement(r) for r in items]
    return reqs


def test_every_requirement_is_pinned_in_the_lock_within_its_range():
    pins = _lock()
    for req in _requirements():
        name = re.sub(r"[-_.]+", "-", req.name).lower()
        assert name in pins, f"{req.name} is required by pyproject.toml but not pinned in the lock"
        version = Version(pins[name].base_version)  # torch 2.13.0+cpu satisfies ==2.13.0
        assert req.specifier.contains(version, prereleases=True), (req, pins[name])


def test_known_pins():
    pins = _lock()
    assert pins["torch"].base_version == "2.13.0"
    assert pins["sqlglot"] < Version("30.18")
    assert pins["ibis-framework"] == Version("12.0.0")
    assert pins["duckdb"] < Version("1.5")


def test_the_installed_stack_is_the_locked_one():
    pins = _lock()
    for name in ("ibis-framework", "duckdb", "sqlglot", "pandas", "torch", "xarray", "zarr"):
        assert Version(metadata.version(name)) == pins[name], name


def test_the_gridmind_kernel_is_registered_in_the_venv():
    spec_file = Path(sys.prefix) / "share" / "jupyter" / "kernels" / "gridmind" / "kernel.json"
    assert spec_file.is_file(), "run `make install` (it registers the kernel)"
    spec = json.loads(spec_file.read_text())
    assert Path(spec["argv"][0]).parent == Path(sys.executable).parent  # this venv's python
    assert spec["language"] == "python"
