"""Public test helpers (like ``xarray.testing``): real services for tests and notebooks."""
