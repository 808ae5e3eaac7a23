"""The PresenceStore contract, in memory and on Redis.

On Redis the two stores of each test are two instances on one server, as two processes would
be: a connection beaten on one is seen by the other, and a transition is claimed by exactly
one of them however they race.
"""

from __future__ import annotations

import threading
from datetime import timedelta

import redis

from backend.adapters.redis.presence import DUE_KEY, KEY_GRACE, KEY_PREFIX, SWEEP_BATCH
from backend.ports import PresenceStore
from tests.contracts.conftest import NOW

TTL = timedelta(seconds=30)
ALICE, BOB = "alice-id", "bob-id"


def test_the_first_connection_brings_a_user_online_on_every_process(
    presences: tuple[PresenceStore, PresenceStore],
) -> None:
    a, b = presences
    assert b.online([ALICE, BOB]) == set()
    assert a.heartbeat(ALICE, "tab-1", NOW, TTL) is True
    assert b.online([ALICE, BOB]) == {ALICE}
    # More beats, from any process, of this or another connection: already online.
    assert b.heartbeat(ALICE, "tab-1", NOW + TTL / 3, TTL) is False
    assert b.heartbeat(ALICE, "phone", NOW, TTL) is False
    assert a.online([]) == set()


def test_the_last_connection_to_close_takes_the_user_offline_once(
    presences: tuple[PresenceStore, PresenceStore],
) -> None:
    a, b = presences
    a.heartbeat(ALICE, "tab-1", NOW, TTL)
    b.heartbeat(ALICE, "phone", NOW, TTL)
    assert b.disconnect(ALICE, "tab-1") is False  # the phone is still there
    assert a.online([ALICE]) == {ALICE}
    assert a.disconnect(ALICE, "phone") is True
    assert b.online([ALICE]) == set()
    assert b.disconnect(ALICE, "phone") is False  # said once
    assert a.disconnect(BOB, "never-seen") is False
    assert a.expire(NOW + 2 * TTL) == {}  # a clean close leaves nothing to lapse


def test_a_silent_connection_lapses_at_its_last_heartbeat(
    presences: tuple[PresenceStore, PresenceStore],
) -> None:
    a, b = presences
    a.heartbeat(ALICE, "laptop", NOW, TTL)
    last = NOW + timedelta(seconds=7, microseconds=250)
    b.heartbeat(ALICE, "laptop", last, TTL)
    assert a.expire(last + TTL - timedelta(seconds=1)) == {}  # not yet
    assert b.online([ALICE]) == {ALICE}
    assert a.expire(last + TTL) == {ALICE: last}
    assert b.online([ALICE]) == set()
    assert b.expire(last + 2 * TTL) == {}  # reported once


def test_a_user_stays_online_while_any_connection_beats(
    presences: tuple[PresenceStore, PresenceStore],
) -> None:
    a, b = presences
    a.heartbeat(ALICE, "phone", NOW, TTL)
    b.heartbeat(ALICE, "laptop", NOW, TTL)
    now = NOW
    for _ in range(6):  # the phone keeps beating, the laptop went quiet
        now += TTL / 3
        a.heartbeat(ALICE, "phone", now, TTL)
        assert b.expire(now) == {}
    assert a.online([ALICE]) == {ALICE}
    # The laptop's lapse was dropped by a sweep: closing the phone is the last connection.
    assert b.disconnect(ALICE, "phone") is True


def test_a_beat_before_the_sweep_keeps_a_lapsed_user_online_without_a_new_announcement(
    presences: tuple[PresenceStore, PresenceStore],
) -> None:
    a, b = presences
    a.heartbeat(ALICE, "laptop", NOW, TTL)
    late = NOW + TTL + timedelta(seconds=5)
    # Back from a long pause before any sweep noticed: never went offline, so not "came online".
    assert b.heartbeat(ALICE, "laptop", late, TTL) is False
    assert a.expire(late) == {}
    assert a.online([ALICE]) == {ALICE}


def test_every_lapsed_user_is_reported_by_exactly_one_of_racing_sweeps(
    presences: tuple[PresenceStore, PresenceStore],
) -> None:
    users = [f"user-{i}" for i in range(SWEEP_BATCH + 150)]  # more than one sweep batch
    for i, user in enumerate(users):
        presences[i % 2].heartbeat(user, "tab", NOW, TTL)
    start = threading.Barrier(4)
    reports: list[dict[str, object]] = []

    def sweep(store: PresenceStore) -> None:
        start.wait()
        reports.append(dict(store.expire(NOW + TTL)))

    threads = [threading.Thread(target=sweep, args=(presences[i % 2],)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    seen = [user for report in reports for user in report]
    assert sorted(seen) == sorted(users)  # all of them, none twice
    assert all(at == NOW for report in reports for at in report.values())


def test_on_redis_a_connection_is_a_key_with_a_ttl_past_its_lapse(redis_url: str) -> None:
    from backend.adapters.redis.presence import RedisPresence

    presence = RedisPresence(redis_url)
    client = redis.Redis.from_url(redis_url)
    try:
        presence.heartbeat(ALICE, "tab", NOW, TTL)
        ttl_ms = client.pttl(KEY_PREFIX + ALICE)
        assert (TTL + KEY_GRACE).total_seconds() * 1000 - 2000 < ttl_ms
        assert ttl_ms <= (TTL + KEY_GRACE).total_seconds() * 1000
        presence.disconnect(ALICE, "tab")
        assert client.exists(KEY_PREFIX + ALICE) == 0
        assert client.zcard(DUE_KEY) == 0  # nothing left behind
    finally:
        presence.close()
        client.close()
