"""Identifiers: random entity ids, time-ordered message ids, and the canonical-uuid check."""

from __future__ import annotations

import itertools
import time
import types
import uuid

import pytest

from backend import ids
from backend.ids import MessageIdGenerator, is_uuid, new_id, new_message_id


def timestamp_ms(value: str) -> int:
    return uuid.UUID(value).int >> 80


def counter(value: str) -> int:
    return (uuid.UUID(value).int >> 64) & 0xFFF


def test_message_ids_are_uuid7_and_strictly_increasing_over_ten_thousand_calls() -> None:
    generate = MessageIdGenerator()
    before_ms = time.time_ns() // 1_000_000
    made = [generate() for _ in range(10_000)]
    after_ms = time.time_ns() // 1_000_000

    assert all(a < b for a, b in itertools.pairwise(made))
    assert len(set(made)) == 10_000
    for value in made:
        parsed = uuid.UUID(value)
        assert parsed.version == 7
        assert parsed.variant == uuid.RFC_4122
        assert is_uuid(value)
    # the leading 48 bits are the wall-clock millisecond (possibly borrowed a little ahead)
    assert before_ms <= timestamp_ms(made[0])
    assert timestamp_ms(made[-1]) <= after_ms + 10_000 // 4096 + 1


def test_the_shared_generator_also_makes_ordered_uuid7s() -> None:
    first, second = new_message_id(), new_message_id()
    assert first < second
    assert uuid.UUID(first).version == uuid.UUID(second).version == 7


@pytest.fixture
def frozen_time(monkeypatch: pytest.MonkeyPatch) -> types.SimpleNamespace:
    """Stops the clock the generator reads; move it by setting ``.ns``."""
    fake = types.SimpleNamespace(ns=1_767_268_800_000 * 1_000_000)
    monkeypatch.setattr(ids, "time", types.SimpleNamespace(time_ns=lambda: fake.ns))
    return fake


def test_ids_in_one_millisecond_count_up_and_then_borrow_the_next(
    frozen_time: types.SimpleNamespace,
) -> None:
    generate = MessageIdGenerator()
    frozen_ms = frozen_time.ns // 1_000_000
    made = [generate() for _ in range(5000)]

    assert all(a < b for a, b in itertools.pairwise(made))
    # 4096 ids fit in the 12-bit counter of the frozen millisecond...
    assert {timestamp_ms(v) for v in made[:4096]} == {frozen_ms}
    assert [counter(v) for v in made[:4096]] == list(range(4096))
    # ...after which the generator moves on to the next millisecond rather than wrap around
    assert {timestamp_ms(v) for v in made[4096:]} == {frozen_ms + 1}
    assert counter(made[4096]) == 0


def test_ids_keep_increasing_when_the_clock_steps_back(
    frozen_time: types.SimpleNamespace,
) -> None:
    generate = MessageIdGenerator()
    before = generate()
    frozen_time.ns -= 2_000 * 1_000_000  # NTP pulls the clock back two seconds
    after = [generate() for _ in range(10)]

    assert before < after[0]
    assert all(a < b for a, b in itertools.pairwise(after))
    assert {timestamp_ms(v) for v in after} == {timestamp_ms(before)}


def test_new_ids_are_random_canonical_uuid4s() -> None:
    made = {new_id() for _ in range(1000)}
    assert len(made) == 1000
    for value in made:
        assert uuid.UUID(value).version == 4
        assert is_uuid(value)


@pytest.mark.parametrize(
    "value",
    [
        pytest.param("12345678-1234-5678-1234-567812345678", id="arbitrary"),
        pytest.param("00000000-0000-0000-0000-000000000000", id="nil"),
        pytest.param(str(uuid.uuid4()), id="uuid4"),
        pytest.param(str(uuid.uuid1()), id="uuid1"),
    ],
)
def test_is_uuid_accepts_canonical_lowercase_uuids(value: str) -> None:
    assert is_uuid(value)


SAMPLE = str(uuid.uuid4())


@pytest.mark.parametrize(
    "value",
    [
        pytest.param(SAMPLE.upper(), id="uppercase"),
        pytest.param(SAMPLE[:9] + SAMPLE[9:].upper(), id="partly-uppercase"),
        pytest.param("{" + SAMPLE + "}", id="braces"),
        pytest.param("urn:uuid:" + SAMPLE, id="urn"),
        pytest.param(SAMPLE.replace("-", ""), id="no-hyphens"),
        pytest.param(SAMPLE.replace("-", "") + "abcd", id="36-chars-no-hyphens"),
        pytest.param(SAMPLE[:-1] + "g", id="non-hex"),
        pytest.param(SAMPLE + " ", id="trailing-space"),
        pytest.param(" " + SAMPLE[1:], id="leading-space"),
        pytest.param("not-a-uuid", id="garbage"),
        pytest.param("x" * 36, id="36-garbage"),
        pytest.param("", id="empty"),
        pytest.param(None, id="none"),
        pytest.param(42, id="int"),
        pytest.param(SAMPLE.encode(), id="bytes"),
        pytest.param(uuid.UUID(SAMPLE), id="uuid-object"),
        pytest.param([SAMPLE], id="list"),
    ],
)
def test_is_uuid_rejects_everything_else(value: object) -> None:
    assert not is_uuid(value)


def test_an_id_above_the_newest_is_made_at_once_whatever_the_clock_says() -> None:
    newest = new_message_id()
    behind = "00000000-0000-7000-8000-000000000000"  # a clock at 1970

    above = ids.message_id_above(newest, lambda: behind)
    assert above > newest and is_uuid(above) and uuid.UUID(above).version == 7
    assert (timestamp_ms(above), counter(above)) == (timestamp_ms(newest), counter(newest) + 1)
    # at the end of a millisecond's counter, the next millisecond
    full = str(uuid.UUID(int=(uuid.UUID(newest).int | (0xFFF << 64))))
    after_full = ids.message_id_above(full, lambda: behind)
    assert (timestamp_ms(after_full), counter(after_full)) == (timestamp_ms(full) + 1, 0)
    # a clock that is ahead is simply used
    ahead = new_message_id()
    assert ids.message_id_above(newest, lambda: ahead) == ahead
    assert ids.message_id_above("", lambda: behind) == behind
