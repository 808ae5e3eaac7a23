"""Identifiers: random ids for entities, time-ordered ids for messages."""

from __future__ import annotations

import os
import threading
import time
import uuid
from collections.abc import Callable


def new_id() -> str:
    """A random, unguessable id (UUID4) for users, chats and sessions."""
    return str(uuid.uuid4())


class MessageIdGenerator:
    """Makes UUIDv7 strings that sort, as text, in the order they were made.

    The 48-bit millisecond timestamp leads; the 12-bit ``rand_a`` field is a counter within one
    millisecond (RFC 9562 method 1), so ids made by one process are strictly increasing even when
    many share a millisecond. Ids from several processes interleave by their clocks: order is the
    server's, not the client's.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._last_ms = 0
        self._counter = 0

    def __call__(self) -> str:
        with self._lock:
            ms = time.time_ns() // 1_000_000
            if ms <= self._last_ms:
                ms = self._last_ms
                self._counter += 1
                if self._counter > 0xFFF:  # counter exhausted: borrow the next millisecond
                    ms += 1
                    self._counter = 0
            else:
                self._counter = 0
            self._last_ms = ms
            counter = self._counter
        return _uuid7(ms, counter)


def _uuid7(ms: int, counter: int) -> str:
    rand_b = int.from_bytes(os.urandom(8), "big") & ((1 << 62) - 1)
    value = (ms << 80) | (0x7 << 76) | (counter << 64) | (0b10 << 62) | rand_b
    return str(uuid.UUID(int=value))


new_message_id = MessageIdGenerator()


def message_id_above(newest: str, new_id: Callable[[], str]) -> str:
    """An id from ``new_id`` if it sorts above ``newest`` ("" = none yet), else the next id
    after ``newest`` (its millisecond, counter + 1): a writer whose clock is behind the last
    one's still makes the chat's ids increase, at once and however far behind it is."""
    candidate = new_id()
    if candidate > newest:
        return candidate
    value = uuid.UUID(newest).int
    ms, counter = value >> 80, (value >> 64) & 0xFFF
    if counter == 0xFFF:  # counter exhausted: borrow the next millisecond
        return _uuid7(ms + 1, 0)
    return _uuid7(ms, counter + 1)


def is_uuid(value: object) -> bool:
    """Whether ``value`` is a canonical lowercase UUID string (ids from clients are checked so)."""
    if not isinstance(value, str) or len(value) != 36:
        return False
    try:
        return str(uuid.UUID(value)) == value
    except ValueError:
        return False


MAX_TEMP_ID = 64  # characters of a client's own message id (its tempId)


def is_temp_id(value: object) -> bool:
    """Whether ``value`` can be a client's temp id ("" for none): text, and not too long."""
    return isinstance(value, str) and len(value) <= MAX_TEMP_ID
