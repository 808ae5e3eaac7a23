"""The TypingStore contract, in memory and on Redis (two instances on one server, as two
processes would be: a typist recorded on one is seen from the other)."""

from __future__ import annotations

from datetime import timedelta

import redis

from backend.adapters.redis.typing import KEY_GRACE, KEY_PREFIX
from backend.ports import TypingStore
from tests.contracts.conftest import NOW

TTL = timedelta(seconds=3.5)
ALICE, BOB, CAROL = "alice-id", "bob-id", "carol-id"


def test_a_typist_is_seen_from_every_process_until_the_indicator_lapses(
    typing_stores: tuple[TypingStore, TypingStore],
) -> None:
    a, b = typing_stores
    assert b.typing_in("chat-1", NOW) == {}
    a.start("chat-1", ALICE, NOW, TTL)
    assert b.typing_in("chat-1", NOW) == {ALICE: NOW + TTL}
    assert b.typing_in("chat-1", NOW + TTL - timedelta(milliseconds=1)) == {ALICE: NOW + TTL}
    assert b.typing_in("chat-1", NOW + TTL) == {}  # lapsed on its own
    assert a.typing_in("chat-2", NOW) == {}  # other chats know nothing of it


def test_typing_again_renews_the_indicator_and_stopping_ends_it(
    typing_stores: tuple[TypingStore, TypingStore],
) -> None:
    a, b = typing_stores
    a.start("chat-1", ALICE, NOW, TTL)
    b.start("chat-1", BOB, NOW, TTL)
    later = NOW + timedelta(seconds=2)
    b.start("chat-1", ALICE, later, TTL)  # the composer re-sends every two seconds
    assert a.typing_in("chat-1", NOW + TTL) == {ALICE: later + TTL}
    assert a.typing_in("chat-1", later) == {ALICE: later + TTL, BOB: NOW + TTL}
    a.stop("chat-1", ALICE)
    assert b.typing_in("chat-1", later) == {BOB: NOW + TTL}
    b.stop("chat-1", CAROL)  # never typed: nothing to do
    b.stop("chat-9", CAROL)
    assert a.typing_in("chat-1", later) == {BOB: NOW + TTL}


def test_on_redis_a_quiet_chat_holds_no_key_for_long(redis_url: str) -> None:
    from backend.adapters.redis.typing import RedisTyping

    typing = RedisTyping(redis_url)
    client = redis.Redis.from_url(redis_url)
    try:
        typing.start("chat-1", ALICE, NOW, TTL)
        ttl_ms = client.pttl(KEY_PREFIX + "chat-1")
        assert 0 < ttl_ms <= (TTL + KEY_GRACE).total_seconds() * 1000
        # A write drops the lapsed typists it finds.
        typing.start("chat-1", BOB, NOW + 2 * TTL, TTL)
        assert client.zrange(KEY_PREFIX + "chat-1", 0, -1) == [BOB.encode()]
    finally:
        typing.close()
        client.close()
