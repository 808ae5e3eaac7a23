"""Sending in batches (what the API gateway hands over): every rule per request, one write for
those that pass, and each request answered on its own."""

from __future__ import annotations

import dataclasses
import itertools
import uuid

from backend.container import Services, build_services
from backend.content import text_content
from backend.errors import ChatError, InvalidInput, NotFound, RateLimited
from backend.events import MessageCreated
from backend.models import Chat, Message
from backend.services.messaging import SendOutcome, SendRequest
from backend.settings import Settings
from tests.backend.group_helpers import make_group
from tests.backend.helpers import Person, drain
from tests.conftest import FakeClock


def request(
    who: Person, chat: Chat | str, text: str, temp_id: str = "", **more: str
) -> SendRequest:
    chat_id = chat if isinstance(chat, str) else chat.id
    return SendRequest(who.id, chat_id, text_content(text), temp_id, **more)


def history(services: Services, who: Person, chat: Chat) -> list[Message]:
    return services.messaging.list_messages(who.id, chat.id, limit=100).messages


def kinds(outcomes: list[SendOutcome]) -> list[type]:
    return [type(outcome) for outcome in outcomes]


def test_a_batch_is_stored_in_order_and_each_request_gets_its_message(
    services: Services, alice: Person, bob: Person, chat: Chat
) -> None:
    outcomes = services.messaging.send_messages(
        [
            request(alice, chat, "one", "a1"),
            request(bob, chat, "two", "b1"),
            request(alice, chat, "three", "a2"),
        ]
    )

    assert kinds(outcomes) == [Message] * 3
    sent = [o for o in outcomes if isinstance(o, Message)]
    assert [m.content["text"] for m in sent] == ["one", "two", "three"]
    assert [m.sender_id for m in sent] == [alice.id, bob.id, alice.id]
    assert all(a.id < b.id for a, b in itertools.pairwise(sent))
    assert history(services, bob, chat) == sent
    summary = services.chats.get_summary(bob.id, chat.id)
    assert summary.chat.last_message_id == sent[-1].id  # the chat list moved to the newest


def test_one_bad_request_refuses_only_itself(
    services: Services, alice: Person, bob: Person, carol: Person, chat: Chat
) -> None:
    outcomes = services.messaging.send_messages(
        [
            request(alice, chat, "fine", "t1"),
            request(alice, chat, "   ", "t2"),  # nothing to send
            request(alice, chat, "long temp id", "x" * 65),
            request(alice, chat, "a reply to nothing", "t4", reply_to=str(uuid.uuid4())),
            request(carol, chat, "I am not in this chat", "t5"),
            request(alice, "not-a-chat-id", "nowhere", "t6"),
            SendRequest(alice.id, chat.id, {"type": "text"}, "t7"),  # no text
            request(bob, chat, "also fine", "t8"),
        ]
    )

    assert kinds(outcomes) == [
        Message,
        InvalidInput,
        InvalidInput,
        InvalidInput,
        NotFound,
        NotFound,
        InvalidInput,
        Message,
    ]
    assert history(services, alice, chat) == [outcomes[0], outcomes[7]]


def test_a_non_member_in_a_batch_learns_nothing_and_changes_nothing(
    services: Services, alice: Person, bob: Person, carol: Person, chat: Chat
) -> None:
    before = services.chats.get_summary(alice.id, chat.id)
    outcomes = services.messaging.send_messages(
        [request(carol, chat, "let me in", "c1"), request(carol, str(uuid.uuid4()), "x", "c2")]
    )

    refused = [o for o in outcomes if isinstance(o, ChatError)]
    assert len(refused) == 2
    # The same answer for a chat they are not in as for a chat that does not exist.
    assert {type(o) for o in refused} == {NotFound}
    assert refused[0].message == refused[1].message
    assert history(services, alice, chat) == []
    assert services.chats.get_summary(alice.id, chat.id) == before


def test_a_member_removed_from_a_group_is_refused_in_the_next_batch(
    services: Services, alice: Person, bob: Person, carol: Person
) -> None:
    group = make_group(services, alice, bob, carol)
    [ok] = services.messaging.send_messages([request(carol, group, "still here", "c1")])
    assert isinstance(ok, Message)

    services.groups.remove_member(alice.id, group.id, carol.id)
    outcomes = services.messaging.send_messages(
        [request(carol, group, "am I still here?", "c2"), request(bob, group, "bye carol", "b1")]
    )

    assert kinds(outcomes) == [NotFound, Message]
    texts = [m.content.get("text") for m in history(services, alice, group)]
    assert "am I still here?" not in texts and "bye carol" in texts


def test_a_temp_id_repeated_inside_a_batch_or_across_batches_stores_one_message(
    services: Services, alice: Person, bob: Person, chat: Chat
) -> None:
    first = services.messaging.send_messages(
        [
            request(alice, chat, "hello", "t1"),
            request(alice, chat, "hello", "t1"),  # the client retried at once
            request(bob, chat, "hi", "t1"),  # bob's own t1 is another message
        ]
    )
    again = services.messaging.send_messages(
        [request(alice, chat, "hello", "t1"), request(alice, chat, "new", "t2")]
    )

    assert kinds(first) == [Message] * 3
    assert kinds(again) == [Message] * 2
    assert first[0] == first[1] == again[0]
    assert first[2] != first[0]
    assert history(services, alice, chat) == [first[0], first[2], again[1]]


async def test_each_stored_message_is_announced_once_recipients_first(
    services: Services, alice: Person, bob: Person, chat: Chat
) -> None:
    bob_sub = services.bus.subscribe(bob.id)
    alice_sub = services.bus.subscribe(alice.id)
    try:
        outcomes = services.messaging.send_messages(
            [
                request(alice, chat, "one", "t1"),
                request(alice, chat, "one", "t1"),
                request(alice, chat, "two", "t2"),
            ]
        )
        created = [e for e in drain(bob_sub) if isinstance(e, MessageCreated)]
        echoed = [e for e in drain(alice_sub) if isinstance(e, MessageCreated)]
    finally:
        await bob_sub.close()
        await alice_sub.close()

    sent = [o for o in outcomes if isinstance(o, Message)]
    assert [e.message for e in created] == [sent[0], sent[2]]
    assert [e.message for e in echoed] == [sent[0], sent[2]]  # the sender's other devices


def test_sending_marks_the_chat_read_for_the_sender_up_to_their_newest(
    services: Services, alice: Person, bob: Person, chat: Chat
) -> None:
    services.messaging.send_message(bob.id, chat.id, text_content("question"))
    outcomes = services.messaging.send_messages(
        [request(alice, chat, "answer 1", "a1"), request(alice, chat, "answer 2", "a2")]
    )

    newest = outcomes[1]
    assert isinstance(newest, Message)
    summary = services.chats.get_summary(alice.id, chat.id)
    assert summary.my_read_upto == newest.id
    assert summary.unread == 0


def test_the_rate_limit_refuses_mid_batch_and_a_resend_inside_it_is_still_answered(
    services: Services, settings: Settings, clock: FakeClock, alice: Person, chat: Chat
) -> None:
    messaging = build_services(dataclasses.replace(settings, sends_per_user=3), clock).messaging
    outcomes = messaging.send_messages(
        [request(alice, chat, f"m{i}", f"t{i}") for i in range(5)]
        + [request(alice, chat, "m1", "t1")]  # a resend of one that passed, over the limit
    )

    assert kinds(outcomes) == [Message] * 3 + [RateLimited] * 2 + [Message]
    assert outcomes[5] == outcomes[1]
    assert all(o.retry_after > 0 for o in outcomes[3:5] if isinstance(o, RateLimited))
    assert history(services, alice, chat) == outcomes[:3]
    # the next batch: a resend of a stored one is answered, a new one still waits
    later = messaging.send_messages(
        [request(alice, chat, "m2", "t2"), request(alice, chat, "m9", "t9")]
    )
    assert kinds(later) == [Message, RateLimited]
    assert later[0] == outcomes[2]


def test_every_message_of_a_batch_is_findable_the_moment_it_is_stored(
    services: Services, alice: Person, bob: Person, chat: Chat
) -> None:
    outcomes = services.messaging.send_messages(
        [
            request(alice, chat, "quarterly budget", "a1"),
            request(bob, chat, "👍", "b1"),  # no words: nothing to index, nothing refused
            request(bob, chat, "budget approved", "b2"),
            request(alice, chat, "quarterly budget", "a1"),  # a resend: indexed once
        ]
    )

    assert kinds(outcomes) == [Message] * 4
    hits = services.search.search_messages(bob.id, "budget").hits
    assert sorted(hit.message.content["text"] for hit in hits) == [
        "budget approved",
        "quarterly budget",
    ]
