"""Media blobs as files under the data directory (the embedded default)."""
