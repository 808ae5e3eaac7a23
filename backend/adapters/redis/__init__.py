"""Scale-out adapters on Redis: the cross-process bus and shared rate limits."""
