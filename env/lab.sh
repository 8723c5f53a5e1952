#!/usr/bin/env bash
# Start JupyterLab the one way the project does: `make lab` and tests/notebooks/test_lab.py run this.
#
#   env/lab.sh [JUPYTER LAB OPTIONS...]     e.g. env/lab.sh --no-browser --port=8899
#
# - builds the demo lakehouse first when $WORKBENCH_HOME has none (`workbench demo build`);
# - roots Lab at notebooks/ and loads env/jupyter/jupyter_server_config.py (through
#   JUPYTER_CONFIG_PATH, so the user's own ~/.jupyter settings still apply): the gridmind kernel
#   by default, the project's jupytext.toml, notebooks saved without outputs, --allow-root only
#   when run as root.
# WORKBENCH_PYTHON picks the interpreter (default: the project's .venv).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
python="${WORKBENCH_PYTHON:-$root/.venv/bin/python}"
export WORKBENCH_HOME="${WORKBENCH_HOME:-$root/.workbench}"
export JUPYTER_CONFIG_PATH="$root/env/jupyter${JUPYTER_CONFIG_PATH:+:$JUPYTER_CONFIG_PATH}"
if [ ! -f "$WORKBENCH_HOME/warehouse.duckdb" ]; then
  echo "no demo lakehouse in $WORKBENCH_HOME: building it first (workbench demo build)" >&2
  "$python" -m workbench.cli.main demo build
fi
exec "$python" -m jupyterlab --notebook-dir="$root/notebooks" "$@"
