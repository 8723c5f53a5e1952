"""Register the ``gridmind`` Jupyter kernel inside the running environment (``sys.prefix``).

The committed spec (env/kernels/gridmind/kernel.json) says ``python``; here it is pinned to this
interpreter, so JupyterLab, papermill and nbclient started from anywhere run the workbench's venv.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

source = Path(__file__).resolve().parent / "kernels" / "gridmind" / "kernel.json"
target = Path(sys.prefix) / "share" / "jupyter" / "kernels" / "gridmind"
spec = json.loads(source.read_text())
spec["argv"][0] = sys.executable
target.mkdir(parents=True, exist_ok=True)
(target / "kernel.json").write_text(json.dumps(spec, indent=1) + "\n")
print(f"registered kernel 'gridmind' at {target}")
