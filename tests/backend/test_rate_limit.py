"""The in-memory sliding-window rate limiter, driven by a fake clock."""

from __future__ import annotations

from datetime import timedelta

import pytest

from backend.adapters.memory.rate_limit import InMemoryRateLimiter
from tests.conftest import FakeClock

MINUTE = timedelta(minutes=1)


@pytest.fixture
def limiter(clock: FakeClock) -> InMemoryRateLimiter:
    return InMemoryRateLimiter(clock)


def test_a_fresh_key_may_act(limiter: InMemoryRateLimiter) -> None:
    assert limiter.retry_after("login:user:alice", 3, MINUTE) == 0


def test_hits_below_the_limit_are_allowed(limiter: InMemoryRateLimiter) -> None:
    for _ in range(2):
        limiter.hit("k", MINUTE)
        assert limiter.retry_after("k", 3, MINUTE) == 0


def test_reaching_the_limit_says_when_the_oldest_hit_expires(
    limiter: InMemoryRateLimiter, clock: FakeClock
) -> None:
    for _ in range(3):
        limiter.hit("k", MINUTE)
        clock.advance(seconds=10)
    # hits at 0s, 10s and 20s; it is now 30s: the first one leaves the window at 60s
    assert limiter.retry_after("k", 3, MINUTE) == 30


def test_the_window_slides_one_hit_at_a_time(
    limiter: InMemoryRateLimiter, clock: FakeClock
) -> None:
    for _ in range(3):
        limiter.hit("k", MINUTE)
        clock.advance(seconds=10)

    clock.advance(seconds=29.5)  # 59.5s: the first hit is still in the window
    assert limiter.retry_after("k", 3, MINUTE) == 1  # half a second rounds up to a whole one
    clock.advance(seconds=0.5)  # 60s: it has left
    assert limiter.retry_after("k", 3, MINUTE) == 0

    limiter.hit("k", MINUTE)  # hits now at 10s, 20s and 60s
    assert limiter.retry_after("k", 3, MINUTE) == 10
    clock.advance(seconds=20)  # 80s: both 10s and 20s have left
    assert limiter.retry_after("k", 3, MINUTE) == 0


def test_retry_after_is_never_less_than_a_second(
    limiter: InMemoryRateLimiter, clock: FakeClock
) -> None:
    limiter.hit("k", MINUTE)
    clock.advance(seconds=59.999)
    assert limiter.retry_after("k", 1, MINUTE) == 1


def test_hits_past_the_limit_extend_the_wait(
    limiter: InMemoryRateLimiter, clock: FakeClock
) -> None:
    for _ in range(5):  # at 0..4s; nothing stops a caller counting more than the limit
        limiter.hit("k", MINUTE)
        clock.advance(seconds=1)
    # at 5s, three hits must expire (0s, 1s, 2s) before fewer than 3 remain: the one at 2s
    # leaves the window at 62s
    assert limiter.retry_after("k", 3, MINUTE) == 57


def test_keys_are_independent(limiter: InMemoryRateLimiter) -> None:
    for _ in range(3):
        limiter.hit("login:user:alice", MINUTE)
    assert limiter.retry_after("login:user:alice", 3, MINUTE) > 0
    assert limiter.retry_after("login:user:bob", 3, MINUTE) == 0
    assert limiter.retry_after("login:ip:alice", 3, MINUTE) == 0


def test_the_same_hits_meet_different_limits(limiter: InMemoryRateLimiter) -> None:
    for _ in range(5):
        limiter.hit("k", MINUTE)
    assert limiter.retry_after("k", 5, MINUTE) > 0
    assert limiter.retry_after("k", 30, MINUTE) == 0


def test_a_longer_window_remembers_longer(limiter: InMemoryRateLimiter, clock: FakeClock) -> None:
    window = timedelta(minutes=15)
    for _ in range(5):
        limiter.hit("k", window)
    clock.advance(minutes=14, seconds=59)
    assert limiter.retry_after("k", 5, window) == 1
    clock.advance(seconds=1)
    assert limiter.retry_after("k", 5, window) == 0


def test_keys_nobody_asks_about_again_are_forgotten(
    limiter: InMemoryRateLimiter, clock: FakeClock
) -> None:
    for i in range(999):
        limiter.hit(f"once-{i}", timedelta(minutes=1))
    clock.advance(minutes=2)
    limiter.hit("fresh", timedelta(minutes=1))  # the 1000th hit sweeps
    assert list(limiter._hits) == ["fresh"]
