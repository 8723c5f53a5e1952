"""lake layer (see DESIGN.md)."""
