"""Embedded, in-process adapters for one machine: the event bus and rate limits."""
