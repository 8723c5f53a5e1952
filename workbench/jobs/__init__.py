"""jobs layer (see DESIGN.md)."""
