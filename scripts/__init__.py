"""Project scripts; servers.py is also imported by the test fixtures."""
