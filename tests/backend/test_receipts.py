"""Receipts: per-member delivered/read watermarks and the ticks a sender sees."""

from __future__ import annotations

import pytest

from backend.container import Services
from backend.content import text_content
from backend.errors import NotFound
from backend.events import ReceiptsChanged
from backend.ids import new_message_id
from backend.models import Chat, Member, MessageStatus, Receipts
from tests.backend.helpers import Person, settle


def say(services: Services, who: Person, chat: Chat, text: str = "hi") -> str:
    return services.messaging.send_message(who.id, chat.id, text_content(text)).id


def member(services: Services, who: Person, chat: Chat) -> Member:
    return services.chats.access_chat(who.id, chat.id)[1]


def status(services: Services, sender: Person, chat: Chat, message_id: str) -> MessageStatus:
    """The tick the sender sees on one of their messages, from their history page."""
    return services.messaging.list_messages(sender.id, chat.id).receipts.status_of(message_id)


def test_sent_then_delivered_then_read(
    services: Services, alice: Person, bob: Person, chat: Chat
) -> None:
    m = say(services, alice, chat)
    assert status(services, alice, chat, m) is MessageStatus.SENT

    services.receipts.mark_delivered(bob.id, chat.id, m)
    assert status(services, alice, chat, m) is MessageStatus.DELIVERED

    services.receipts.mark_read(bob.id, chat.id, m)
    assert status(services, alice, chat, m) is MessageStatus.READ
    # the chat list shows the same tick on the last message
    [summary] = services.chats.list_chats(alice.id)
    assert summary.receipts.status_of(summary.chat.last_message_id) is MessageStatus.READ


def test_reading_implies_delivery(
    services: Services, alice: Person, bob: Person, chat: Chat
) -> None:
    m = say(services, alice, chat)
    services.receipts.mark_read(bob.id, chat.id)

    mine = member(services, bob, chat)
    assert mine.read_upto == mine.delivered_upto == m
    assert status(services, alice, chat, m) is MessageStatus.READ


def test_a_partial_read_ticks_only_the_messages_up_to_it(
    services: Services, alice: Person, bob: Person, chat: Chat
) -> None:
    m1, m2, m3 = (say(services, alice, chat, t) for t in ("one", "two", "three"))
    services.receipts.mark_delivered(bob.id, chat.id, m2)
    services.receipts.mark_read(bob.id, chat.id, m1)

    assert [status(services, alice, chat, m) for m in (m1, m2, m3)] == [
        MessageStatus.READ,
        MessageStatus.DELIVERED,
        MessageStatus.SENT,
    ]


def test_watermarks_never_move_backwards(
    services: Services, alice: Person, bob: Person, chat: Chat
) -> None:
    m1, _, m3 = (say(services, alice, chat, t) for t in ("one", "two", "three"))
    services.receipts.mark_read(bob.id, chat.id, m3)

    # a slow tab reports an older position afterwards
    services.receipts.mark_read(bob.id, chat.id, m1)
    services.receipts.mark_delivered(bob.id, chat.id, m1)

    mine = member(services, bob, chat)
    assert mine.read_upto == mine.delivered_upto == m3
    assert status(services, alice, chat, m3) is MessageStatus.READ


def test_a_claim_beyond_the_last_message_is_clamped(
    services: Services, alice: Person, bob: Person, chat: Chat
) -> None:
    m1 = say(services, alice, chat)
    # a buggy or lying client claims to have read a message that does not exist yet
    future = new_message_id()
    services.receipts.mark_read(bob.id, chat.id, future)
    assert member(services, bob, chat).read_upto == m1

    # so the next real message is not born "read"
    m2 = say(services, alice, chat, "are you there?")
    assert status(services, alice, chat, m2) is MessageStatus.SENT
    assert services.chats.get_summary(bob.id, chat.id).unread == 1


def test_marking_an_empty_chat_does_nothing(
    services: Services, alice: Person, bob: Person, chat: Chat
) -> None:
    services.receipts.mark_read(bob.id, chat.id)
    services.receipts.mark_delivered(bob.id, chat.id, new_message_id())
    mine = member(services, bob, chat)
    assert (mine.delivered_upto, mine.read_upto) == ("", "")


async def test_marking_again_publishes_nothing(
    services: Services, alice: Person, bob: Person, chat: Chat
) -> None:
    m = say(services, alice, chat)
    sub = services.bus.subscribe(alice.id)
    try:
        services.receipts.mark_read(bob.id, chat.id, m)
        [event] = await settle(sub)
        assert isinstance(event, ReceiptsChanged)

        services.receipts.mark_read(bob.id, chat.id, m)
        services.receipts.mark_delivered(bob.id, chat.id, m)
        services.receipts.mark_read(bob.id, chat.id)
        services.receipts.mark_all_delivered(bob.id)
        assert await settle(sub) == []
    finally:
        await sub.close()


def test_mark_all_delivered_advances_every_chat(
    services: Services, alice: Person, bob: Person, carol: Person, chat: Chat
) -> None:
    with_carol = services.chats.open_direct_chat(carol.id, bob.id)
    from_alice = say(services, alice, chat, "from alice")
    from_carol = say(services, carol, with_carol, "from carol")

    # bob's phone comes online and fetches everything
    services.receipts.mark_all_delivered(bob.id)

    assert member(services, bob, chat).delivered_upto == from_alice
    assert member(services, bob, with_carol).delivered_upto == from_carol
    assert status(services, alice, chat, from_alice) is MessageStatus.DELIVERED
    assert status(services, carol, with_carol, from_carol) is MessageStatus.DELIVERED
    # delivered is not read
    assert member(services, bob, chat).read_upto == ""
    assert services.chats.get_summary(bob.id, chat.id).unread == 1


def test_mark_all_delivered_leaves_read_chats_alone(
    services: Services, alice: Person, bob: Person, chat: Chat
) -> None:
    m = say(services, alice, chat)
    services.receipts.mark_read(bob.id, chat.id)
    services.receipts.mark_all_delivered(bob.id)
    mine = member(services, bob, chat)
    assert (mine.delivered_upto, mine.read_upto) == (m, m)


def test_an_outsider_cannot_mark_receipts(
    services: Services, alice: Person, bob: Person, carol: Person, chat: Chat
) -> None:
    m = say(services, alice, chat)
    with pytest.raises(NotFound):
        services.receipts.mark_read(carol.id, chat.id, m)
    with pytest.raises(NotFound):
        services.receipts.mark_delivered(carol.id, chat.id, m)

    assert status(services, alice, chat, m) is MessageStatus.SENT
    # and carol's "all delivered" touches only her own chats
    services.receipts.mark_all_delivered(carol.id)
    assert status(services, alice, chat, m) is MessageStatus.SENT


def test_sending_advances_the_senders_own_watermarks(
    services: Services, alice: Person, bob: Person, chat: Chat
) -> None:
    m1 = say(services, bob, chat, "hi alice")
    assert member(services, alice, chat).read_upto == ""

    # alice answers without having marked anything: she has obviously seen bob's message
    m2 = say(services, alice, chat, "hi bob")
    mine = member(services, alice, chat)
    assert (mine.delivered_upto, mine.read_upto) == (m2, m2)
    assert services.chats.get_summary(alice.id, chat.id).unread == 0
    assert status(services, bob, chat, m1) is MessageStatus.READ
    assert services.messaging.list_messages(alice.id, chat.id).receipts == Receipts(
        delivered_upto=m1, read_upto=m1
    )
