"""The public REST and WebSocket API (seed §5): a second face over the same services."""
