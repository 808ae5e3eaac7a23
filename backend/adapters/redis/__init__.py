"""Scale-out adapters on Redis, shared by every process: the bus, rate limits, presence,
typing and unread counters."""
