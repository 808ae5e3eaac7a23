"""The messenger's rules and storage, independent of any user interface (never imports reflex)."""
