"""The RateLimiter contract, in memory and on Redis (two instances sharing one server, as two
processes would), driven by a fake clock."""

from __future__ import annotations

import threading
from datetime import timedelta

from backend.ports import RateLimiter
from tests.conftest import FakeClock

MINUTE = timedelta(minutes=1)


def test_a_fresh_key_may_act(limiters: list[RateLimiter]) -> None:
    assert limiters[0].retry_after("login:user:alice", 3, MINUTE) == 0


def test_reaching_the_limit_says_when_the_oldest_hit_expires(
    limiters: list[RateLimiter], clock: FakeClock
) -> None:
    first, second = limiters
    for limiter in (first, second, first):  # hits from both processes count together
        assert limiter.retry_after("k", 3, MINUTE) == 0
        limiter.hit("k", MINUTE)
        clock.advance(seconds=10)
    # hits at 0s, 10s and 20s; it is now 30s: the first one leaves the window at 60s
    assert second.retry_after("k", 3, MINUTE) == 30
    assert first.retry_after("other", 3, MINUTE) == 0


def test_the_window_slides_one_hit_at_a_time(limiters: list[RateLimiter], clock: FakeClock) -> None:
    limiter = limiters[0]
    for _ in range(3):
        limiter.hit("k", MINUTE)
        clock.advance(seconds=10)
    clock.advance(seconds=29.5)  # 59.5s: the first hit is still in the window
    assert limiter.retry_after("k", 3, MINUTE) == 1  # half a second rounds up
    clock.advance(seconds=0.5)  # 60s: it has left
    assert limiter.retry_after("k", 3, MINUTE) == 0
    assert limiter.retry_after("k", 2, MINUTE) == 10  # the 10s hit leaves at 70s


def test_concurrent_hits_are_all_counted(limiters: list[RateLimiter]) -> None:
    def hit_many(limiter: RateLimiter) -> None:
        for _ in range(50):
            limiter.hit("busy", MINUTE)

    threads = [threading.Thread(target=hit_many, args=(lim,)) for lim in limiters * 2]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert limiters[0].retry_after("busy", 200, MINUTE) > 0
    assert limiters[1].retry_after("busy", 201, MINUTE) == 0
