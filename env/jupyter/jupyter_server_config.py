"""Jupyter server settings for ``make lab`` (env/lab.sh puts this folder on JUPYTER_CONFIG_PATH).

- The ``gridmind`` kernel is the default; ``--allow-root`` only when the server runs as root.
- jupytext reads the project's ``jupytext.toml``: Lab is rooted at ``notebooks/`` and jupytext's
  server side looks for a config file only inside the Lab root, so the same settings are given
  to the contents manager here (one source: the file at the repository root).
- Notebooks are saved without outputs and volatile metadata (``strip_for_git``): the committed
  ``.ipynb`` equals what a save writes, so opening, running and saving a notebook leaves no diff
  in git beyond the user's own edits. Outputs stay in the browser until the tab is closed; keep an
  executed copy with papermill or File > Save and Export Notebook As.
"""

from __future__ import annotations

import os
import tomllib
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

# notebook-level and cell-level metadata a save keeps in the .ipynb (the rest is per-session state:
# language_info, widgets, collapsed/scrolled, execution timings); jupytext's lines_to_next_cell
# keeps the blank lines ruff wants in the .py (two before a def that follows a markdown cell)
KEEP_NOTEBOOK_METADATA = ("kernelspec", "jupytext")
KEEP_CELL_METADATA = ("tags", "lines_to_next_cell")


def strip_for_git(model: dict, **kwargs) -> None:
    """Pre-save hook: drop outputs, execution counts and volatile metadata from a notebook model.

    Parameters
    ----------
    model : dict
        The contents-manager model being saved; changed in place when its type is ``notebook``
        (text files, such as the paired ``.py``, are left as they are).
    **kwargs
        ``path`` and ``contents_manager``, passed by Jupyter Server (unused).
    """
    if model.get("type") != "notebook" or not isinstance(model.get("content"), dict):
        return
    nb = model["content"]
    meta = nb.get("metadata", {})
    for key in [k for k in meta if k not in KEEP_NOTEBOOK_METADATA]:
        del meta[key]
    jupytext_meta = meta.get("jupytext", {})
    jupytext_meta.pop("text_representation", None)
    for cell in nb.get("cells", []):
        cell_meta = cell.get("metadata", {})
        for key in [k for k in cell_meta if k not in KEEP_CELL_METADATA]:
            del cell_meta[key]
        if cell.get("cell_type") == "code":
            cell["outputs"] = []
            cell["execution_count"] = None


c = get_config()  # noqa: F821 -- provided by traitlets when Jupyter loads this file

c.ServerApp.allow_root = os.geteuid() == 0
# nothing leaves the host unless the user asks: no news feed, no update check, no extension index
c.LabApp.news_url = None
c.LabApp.check_for_updates_class = "jupyterlab.NeverCheckForUpdate"
c.LabApp.extension_manager = "readonly"
c.MappingKernelManager.default_kernel_name = "gridmind"
c.ContentsManager.pre_save_hook = strip_for_git
# the server applies this config to its contents manager twice (jupytext re-creates it): the
# second time it "overrides" strip_for_git with itself, which is not worth a warning
warnings.filterwarnings("ignore", message=r"Overriding existing pre_save_hook \(strip_for_git\)")
for _key, _value in tomllib.loads((ROOT / "jupytext.toml").read_text()).items():
    setattr(c.ContentsManager, _key, _value)
