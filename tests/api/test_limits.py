"""The gateway's per-socket frame pace."""

from __future__ import annotations

import pytest

from backend.api.limits import FramePace


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_the_pace_allows_a_burst_then_refills_at_its_rate() -> None:
    clock = Clock()
    pace = FramePace(per_minute=60, burst=3, clock=clock)

    assert [pace.allow() for _ in range(3)] == [0, 0, 0]
    assert pace.allow() == pytest.approx(1.0)  # one a second: the next in a second
    clock.now += 1
    assert pace.allow() == 0
    assert pace.allow() > 0
    clock.now += 60  # a long quiet spell refills only up to the burst
    assert [pace.allow() for _ in range(4)][:3] == [0, 0, 0]
    assert pace.allow() > 0
