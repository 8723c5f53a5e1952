"""Cross-references between notebooks point at files that exist.

Every markdown cell of every notebook (both kinds), the marimo apps and the READMEs are scanned
for notebook names (``01_load_forecasting``, ``forecasting/01_load_forecasting``, a path ending in
``.ipynb`` or a notebook folder's ``.py``); each must name a notebook of the project.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.notebooks.conftest import NOTEBOOK_DIRS, ROOT, jupyter_notebooks, marimo_notebooks, rel

# a numbered notebook (00_catalog_and_medallion), with its folders and extension when given
NUMBERED = re.compile(r"(?<![\w./-])((?:[\w.-]+/)*\d\d_[a-z][a-z0-9_]*)(\.ipynb|\.py)?(?![\w-])")
# any path into a notebook folder ending in .ipynb or .py (the marimo apps)
FOLDERS = "notebooks|tutorials|forecasting|anomaly|market|satellite|pipelines"
PATHED = re.compile(rf"(?<![\w./-])((?:{FOLDERS})/[\w./-]*\w\.(?:ipynb|py))(?![\w-])")
NAMES = {p.stem for d in NOTEBOOK_DIRS for p in d.rglob("*") if p.suffix in (".ipynb", ".py")}


def _texts() -> list[tuple[Path, str]]:
    import jupytext

    out = []
    for path in jupyter_notebooks():
        nb = jupytext.read(path.with_suffix(".py"))
        out.append((path, "\n".join(c.source for c in nb.cells if c.cell_type == "markdown")))
    out += [(p, p.read_text()) for p in marimo_notebooks()]
    out += [(p, p.read_text()) for p in (ROOT / "README.md", ROOT / "notebooks" / "README.md")]
    return out


def _exists(ref: str, ext: str | None, source: Path) -> bool:
    if "/" not in ref and not ext:
        return ref in NAMES
    exts = [ext] if ext else [".ipynb", ".py"]
    bases = (ROOT, ROOT / "notebooks", source.parent, ROOT / "pipelines" / "papermill")
    return any((base / f"{ref}{e}").is_file() for base in bases for e in exts)


def references(text: str) -> list[tuple[str, str | None]]:
    """The notebook references in ``text``: (path or name without extension, extension)."""
    found = [(m.group(1), m.group(2)) for m in NUMBERED.finditer(text)]
    for m in PATHED.finditer(text):
        stem, ext = m.group(1).rsplit(".", 1)
        found.append((stem, f".{ext}"))
    return found


def test_the_scanner_finds_names_paths_and_apps():
    text = "See `01_forecasting_load`, [x](../forecasting/03_wind.ipynb), `anomaly/browser.py`."
    assert references(text) == [
        ("01_forecasting_load", None),
        ("../forecasting/03_wind", ".ipynb"),
        ("anomaly/browser", ".py"),
    ]
    here = ROOT / "notebooks" / "tutorials" / "x.ipynb"
    assert not _exists("01_forecasting_load", None, here)
    assert _exists("../forecasting/03_wind", ".ipynb", here)
    assert _exists("forecasting/01_load_forecasting", None, here)


@pytest.mark.parametrize(
    ("path", "text"), _texts(), ids=lambda v: rel(v) if isinstance(v, Path) else ""
)
def test_notebook_references_exist(path: Path, text: str):
    missing = sorted({r + (e or "") for r, e in references(text) if not _exists(r, e, path)})
    assert not missing, f"{rel(path)} names notebooks that do not exist: {missing}"
