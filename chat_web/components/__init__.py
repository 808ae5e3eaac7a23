"""Small named components that designers compose in Python (each returns an rx.Component)."""
