"""forecasting layer (see DESIGN.md)."""
