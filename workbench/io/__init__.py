"""Accessors: the only layer that touches the warehouse, Zarr, Parquet and rasters."""
