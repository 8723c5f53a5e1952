"""The ``workbench`` command line (typer + rich)."""
