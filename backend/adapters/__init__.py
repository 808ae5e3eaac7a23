"""Implementations of the ports: embedded (one machine) and scale-out engines."""
