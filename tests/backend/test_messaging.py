"""Messaging: sending, idempotent resends, refusing bad content, and paging through history."""

from __future__ import annotations

import dataclasses
import itertools
import threading
from typing import Any

import pytest

from backend.container import Services, build_services
from backend.content import text_content
from backend.errors import InvalidInput, NotFound, RateLimited, TooLarge
from backend.ids import is_uuid
from backend.models import Chat, Message
from backend.settings import Settings
from tests.backend.helpers import Person
from tests.conftest import FakeClock


def history(services: Services, who: Person, chat: Chat) -> list[Message]:
    """Every message of the chat as ``who`` sees it, oldest first."""
    return services.messaging.list_messages(who.id, chat.id, limit=100).messages


def texts(messages: list[Message]) -> list[str]:
    return [m.content["text"] for m in messages]


# --- sending -------------------------------------------------------------------------------


def test_alice_sends_and_bob_sees_it(
    services: Services, clock: FakeClock, alice: Person, bob: Person, chat: Chat
) -> None:
    sent = services.messaging.send_message(alice.id, chat.id, text_content("hi bob"))

    assert is_uuid(sent.id)
    assert sent.chat_id == chat.id
    assert sent.sender_id == alice.id
    assert sent.content == {"type": "text", "text": "hi bob"}
    assert sent.created_at == clock()
    assert history(services, bob, chat) == [sent]
    assert history(services, alice, chat) == [sent]


def test_message_ids_strictly_increase_in_sending_order(
    services: Services, alice: Person, bob: Person, chat: Chat
) -> None:
    sent = [
        services.messaging.send_message(
            (alice, bob)[i % 2].id, chat.id, text_content(f"message {i}")
        )
        for i in range(60)
    ]
    ids = [m.id for m in sent]

    assert all(a < b for a, b in itertools.pairwise(ids))
    assert [m.id for m in history(services, bob, chat)] == ids


def test_text_is_trimmed_and_unknown_fields_are_dropped(
    services: Services, alice: Person, bob: Person, chat: Chat
) -> None:
    content = {"type": "text", "text": "\n  hello  \n", "sender_id": bob.id, "admin": True}
    sent = services.messaging.send_message(alice.id, chat.id, content)

    assert sent.content == {"type": "text", "text": "hello"}
    assert sent.sender_id == alice.id
    assert history(services, bob, chat)[0].content == {"type": "text", "text": "hello"}


def test_html_is_stored_verbatim_as_text(
    services: Services, alice: Person, bob: Person, chat: Chat
) -> None:
    html = "<script>alert('hi')</script> & <b>bold</b> &amp;"
    services.messaging.send_message(alice.id, chat.id, text_content(html))

    [stored] = history(services, bob, chat)
    assert stored.content == {"type": "text", "text": html}
    assert services.chats.list_chats(bob.id)[0].chat.last_preview == html


def test_inner_lines_survive_while_the_preview_is_one_line(
    services: Services, alice: Person, bob: Person, chat: Chat
) -> None:
    services.messaging.send_message(alice.id, chat.id, text_content("line one\n\nline   two"))

    assert texts(history(services, bob, chat)) == ["line one\n\nline   two"]
    assert services.chats.list_chats(bob.id)[0].chat.last_preview == "line one line two"


# --- idempotent resends --------------------------------------------------------------------


def test_resending_with_the_same_temp_id_stores_once(
    services: Services, alice: Person, bob: Person, chat: Chat
) -> None:
    first = services.messaging.send_message(alice.id, chat.id, text_content("hi"), temp_id="t-1")
    # the client timed out and tries again (even if its copy of the text drifted)
    again = services.messaging.send_message(alice.id, chat.id, text_content("hi!"), temp_id="t-1")

    assert again == first
    assert again.temp_id == "t-1"
    assert history(services, bob, chat) == [first]
    assert services.chats.get_summary(bob.id, chat.id).unread == 1


def test_messages_without_temp_ids_are_never_merged(
    services: Services, alice: Person, bob: Person, chat: Chat
) -> None:
    services.messaging.send_message(alice.id, chat.id, text_content("ha"))
    services.messaging.send_message(alice.id, chat.id, text_content("ha"))
    assert texts(history(services, bob, chat)) == ["ha", "ha"]


def test_different_senders_may_use_the_same_temp_id(
    services: Services, alice: Person, bob: Person, chat: Chat
) -> None:
    mine = services.messaging.send_message(alice.id, chat.id, text_content("hi"), temp_id="1")
    yours = services.messaging.send_message(bob.id, chat.id, text_content("hey"), temp_id="1")

    assert mine.id != yours.id
    assert texts(history(services, alice, chat)) == ["hi", "hey"]


def test_the_same_temp_id_in_two_chats_sends_two_messages(
    services: Services, alice: Person, bob: Person, carol: Person, chat: Chat
) -> None:
    with_carol = services.chats.open_direct_chat(alice.id, carol.id)
    services.messaging.send_message(alice.id, chat.id, text_content("secret for bob"), temp_id="1")
    to_carol = services.messaging.send_message(
        alice.id, with_carol.id, text_content("hello carol"), temp_id="1"
    )

    # what carol's chat list shows must come from carol's chat only
    [summary] = services.chats.list_chats(carol.id)
    assert summary.chat.last_preview == "hello carol"
    assert to_carol.chat_id == with_carol.id
    assert texts(history(services, carol, with_carol)) == ["hello carol"]


@pytest.mark.parametrize(
    "temp_id",
    [pytest.param("x" * 65, id="too-long"), pytest.param(42, id="not-a-string")],
)
def test_malformed_temp_ids_are_refused(
    services: Services, alice: Person, bob: Person, chat: Chat, temp_id: Any
) -> None:
    with pytest.raises(InvalidInput):
        services.messaging.send_message(alice.id, chat.id, text_content("hi"), temp_id=temp_id)
    assert history(services, bob, chat) == []


def test_a_64_character_temp_id_is_fine(services: Services, alice: Person, chat: Chat) -> None:
    sent = services.messaging.send_message(alice.id, chat.id, text_content("hi"), temp_id="x" * 64)
    assert sent.temp_id == "x" * 64


# --- refusing bad content ------------------------------------------------------------------


@pytest.mark.parametrize(
    "content",
    [
        pytest.param({"type": "text", "text": ""}, id="empty-text"),
        pytest.param({"type": "text", "text": "  \n\t  "}, id="whitespace-only"),
        pytest.param({"type": "text", "text": "\u3000\u2003"}, id="unicode-spaces-only"),
        pytest.param("hello", id="plain-string"),
        pytest.param(None, id="none"),
        pytest.param(["text", "hello"], id="list"),
        pytest.param({"text": "hello"}, id="no-type"),
        pytest.param({"type": 1, "text": "hello"}, id="non-str-type"),
        pytest.param({"type": "image", "url": "https://example.com/a.png"}, id="unknown-type"),
        pytest.param({"type": "text"}, id="no-text"),
        pytest.param({"type": "text", "text": 42}, id="int-text"),
        pytest.param({"type": "text", "text": ["hello"]}, id="list-text"),
        pytest.param({"type": "text", "text": None}, id="none-text"),
    ],
)
def test_bad_content_is_refused_and_nothing_is_stored(
    services: Services, alice: Person, bob: Person, chat: Chat, content: Any
) -> None:
    with pytest.raises(InvalidInput) as refused:
        services.messaging.send_message(alice.id, chat.id, content)

    assert refused.value.message
    assert history(services, bob, chat) == []
    assert services.chats.get_summary(bob.id, chat.id).chat.last_message_id == ""
    assert services.chats.list_chats(bob.id) == []


def test_size_limit_is_counted_in_utf8_bytes(
    services: Services, settings: Settings, alice: Person, bob: Person, chat: Chat
) -> None:
    limit = settings.max_message_bytes
    just_fits = "😀" * (limit // 4)  # 4 bytes each: exactly the limit
    assert len(just_fits.encode()) == limit
    services.messaging.send_message(alice.id, chat.id, text_content(just_fits))

    # one more two-byte character: far fewer characters than the limit, but too many bytes
    too_big = "é" * (limit // 2 + 1)
    assert len(too_big) < limit < len(too_big.encode())
    with pytest.raises(TooLarge) as refused:
        services.messaging.send_message(alice.id, chat.id, text_content(too_big))

    assert isinstance(refused.value, InvalidInput)
    assert refused.value.code == "too_large"
    assert refused.value.params == {"size": len(too_big.encode()), "limit": limit}
    assert texts(history(services, bob, chat)) == [just_fits]


def test_surrounding_whitespace_does_not_count_towards_the_size(
    services: Services, settings: Settings, alice: Person, bob: Person, chat: Chat
) -> None:
    body = "a" * settings.max_message_bytes
    sent = services.messaging.send_message(alice.id, chat.id, text_content(f"\n\n{body}  \n"))
    assert sent.content["text"] == body

    with pytest.raises(TooLarge):
        services.messaging.send_message(alice.id, chat.id, text_content(body + "b"))
    assert len(history(services, bob, chat)) == 1


# --- only members ------------------------------------------------------------------------


def test_an_outsider_cannot_write_or_read(
    services: Services, alice: Person, bob: Person, carol: Person, chat: Chat
) -> None:
    services.messaging.send_message(alice.id, chat.id, text_content("just between us"))

    with pytest.raises(NotFound):
        services.messaging.send_message(carol.id, chat.id, text_content("let me in"))
    with pytest.raises(NotFound):
        services.messaging.list_messages(carol.id, chat.id)
    with pytest.raises(NotFound):
        services.messaging.list_messages_after(carol.id, chat.id, "")

    assert texts(history(services, bob, chat)) == ["just between us"]
    assert services.chats.list_chats(carol.id) == []


# --- paging through history --------------------------------------------------------------


@pytest.fixture
def long_chat(services: Services, alice: Person, bob: Person, chat: Chat) -> list[Message]:
    """120 messages, alice and bob taking turns; returned oldest first."""
    return [
        services.messaging.send_message((alice, bob)[i % 2].id, chat.id, text_content(f"m{i}"))
        for i in range(120)
    ]


def test_first_page_is_the_newest_fifty_oldest_first(
    services: Services, settings: Settings, bob: Person, chat: Chat, long_chat: list[Message]
) -> None:
    page = services.messaging.list_messages(bob.id, chat.id)

    assert settings.page_size == 50
    assert page.messages == long_chat[-50:]
    assert page.has_more is True
    assert page.next_cursor == long_chat[-50].id


def test_walking_the_cursors_returns_every_message_once_in_order(
    services: Services, bob: Person, chat: Chat, long_chat: list[Message]
) -> None:
    pages: list[list[Message]] = []
    cursor = ""
    while True:
        page = services.messaging.list_messages(bob.id, chat.id, before=cursor)
        pages.append(page.messages)
        if not page.has_more:
            assert page.next_cursor == ""
            break
        cursor = page.next_cursor

    assert [len(p) for p in pages] == [50, 50, 20]
    walked = [m for p in reversed(pages) for m in p]
    assert walked == long_chat
    assert len({m.id for m in walked}) == 120


def test_catching_up_after_a_known_message(
    services: Services, bob: Person, chat: Chat, long_chat: list[Message]
) -> None:
    seen = long_chat[29]
    page = services.messaging.list_messages_after(bob.id, chat.id, seen.id, limit=40)

    assert page.messages == long_chat[30:70]
    assert page.has_more is True
    assert page.next_cursor == long_chat[69].id

    rest = services.messaging.list_messages_after(bob.id, chat.id, page.next_cursor, limit=100)
    assert rest.messages == long_chat[70:]
    assert rest.has_more is False
    assert rest.next_cursor == ""

    # nothing newer than the newest message
    latest = services.messaging.list_messages_after(bob.id, chat.id, long_chat[-1].id)
    assert latest.messages == []
    assert latest.has_more is False


def test_catching_up_from_nothing_starts_at_the_oldest(
    services: Services, bob: Person, chat: Chat, long_chat: list[Message]
) -> None:
    page = services.messaging.list_messages_after(bob.id, chat.id, "")
    assert page.messages == long_chat[:50]
    assert page.has_more is True


@pytest.mark.parametrize("limit", [0, -1, -100])
def test_non_positive_page_sizes_are_refused(
    services: Services, bob: Person, chat: Chat, limit: int
) -> None:
    with pytest.raises(InvalidInput):
        services.messaging.list_messages(bob.id, chat.id, limit=limit)
    with pytest.raises(InvalidInput):
        services.messaging.list_messages_after(bob.id, chat.id, "", limit=limit)


def test_huge_page_sizes_are_clamped_to_one_hundred(
    services: Services, bob: Person, chat: Chat, long_chat: list[Message]
) -> None:
    page = services.messaging.list_messages(bob.id, chat.id, limit=10**9)
    assert page.messages == long_chat[-100:]
    assert page.has_more is True

    after = services.messaging.list_messages_after(bob.id, chat.id, "", limit=10**9)
    assert after.messages == long_chat[:100]
    assert after.has_more is True


def test_an_empty_chat_has_an_empty_first_page(
    services: Services, alice: Person, chat: Chat
) -> None:
    page = services.messaging.list_messages(alice.id, chat.id)
    assert page.messages == []
    assert page.has_more is False
    assert page.next_cursor == ""


def test_a_page_of_exactly_the_limit_has_no_more(
    services: Services, alice: Person, bob: Person, chat: Chat
) -> None:
    sent = [
        services.messaging.send_message(alice.id, chat.id, text_content(str(i))) for i in range(10)
    ]
    page = services.messaging.list_messages(bob.id, chat.id, limit=10)
    assert page.messages == sent
    assert page.has_more is False
    assert page.next_cursor == ""


def test_ids_commit_in_the_order_they_are_made_even_from_many_threads(
    services: Services, alice: Person, bob: Person, chat: Chat
) -> None:
    """A reader who has seen message N must have seen every message below N."""
    seen_gaps: list[str] = []

    def writer() -> None:
        for _ in range(40):
            services.messaging.send_message(alice.id, chat.id, text_content("x"))

    def reader() -> None:
        for _ in range(80):
            page = services.messaging.list_messages(bob.id, chat.id, limit=100)
            ids = [m.id for m in page.messages]
            later = services.messaging.list_messages(bob.id, chat.id, limit=100).messages
            # every id at or below what the reader saw as newest was already visible to it
            missing = [m.id for m in later if ids and m.id <= ids[-1] and m.id not in ids]
            seen_gaps.extend(missing)

    threads = [threading.Thread(target=writer) for _ in range(3)]
    threads.append(threading.Thread(target=reader))
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert seen_gaps == []
    stored = services.messaging.list_messages(bob.id, chat.id, limit=100)
    assert len(stored.messages) == 100 and stored.has_more


def test_sends_are_limited_per_user_but_a_resend_of_a_stored_message_is_free(
    services: Services, settings: Settings, clock: FakeClock, alice: Person, chat: Chat
) -> None:
    # A second set of services on the same database, with a tight limit.
    messaging = build_services(dataclasses.replace(settings, sends_per_user=3), clock).messaging
    sent = [
        messaging.send_message(alice.id, chat.id, text_content(f"m{i}"), f"t{i}") for i in range(3)
    ]
    with pytest.raises(RateLimited) as refused:
        messaging.send_message(alice.id, chat.id, text_content("one too many"), "t3")
    assert refused.value.retry_after > 0
    # the ack of t2 was lost and the client resends it: same message, no refusal
    assert messaging.send_message(alice.id, chat.id, text_content("m2"), "t2").id == sent[2].id
    # a refused or invalid send costs nothing, and the window slides
    with pytest.raises(InvalidInput):
        messaging.send_message(alice.id, chat.id, text_content("   "), "t4")
    clock.advance(minutes=1, seconds=1)
    messaging.send_message(alice.id, chat.id, text_content("later"), "t5")
