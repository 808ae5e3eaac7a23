"""Embedded, in-process adapters for one machine: the event bus, rate limits, presence and
typing (each with expiry, the twins of Redis keys with TTLs)."""
