"""apps layer (see DESIGN.md)."""
