"""Times in Redis: exact microseconds since the epoch, from the service's clock (never Redis's,
so fake clocks in tests and every process agree). Lua numbers hold them exactly (< 2**53)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def micros(at: datetime) -> int:
    return (at - EPOCH) // timedelta(microseconds=1)


def from_micros(value: bytes | str | float) -> datetime:
    return EPOCH + timedelta(microseconds=int(value))
