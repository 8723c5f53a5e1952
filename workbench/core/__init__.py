"""Core: configuration, errors, optional-dependency helpers. Imports nothing heavy."""
