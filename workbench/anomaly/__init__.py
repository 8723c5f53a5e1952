"""anomaly layer (see DESIGN.md)."""
