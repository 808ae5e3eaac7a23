"""The bus and its events: who hears what, across threads, and the events' wire form."""

from __future__ import annotations

import asyncio
import json
import threading

import pytest

from backend.adapters.memory.bus import MAX_BACKLOG
from backend.container import Services
from backend.content import text_content
from backend.events import (
    ChatChanged,
    Event,
    MessageCreated,
    ReceiptsChanged,
    event_from_dict,
    event_to_dict,
)
from backend.models import Chat, Receipts
from backend.ports import SubscriptionLagged
from tests.backend.helpers import (
    Person,
    drain,
    next_event,
    requires_immediate_delivery,
    settle,
)


async def test_a_message_is_announced_to_every_member_and_nobody_else(
    services: Services, alice: Person, bob: Person, carol: Person, chat: Chat
) -> None:
    subs = {p.user.username: services.bus.subscribe(p.id) for p in (alice, bob, carol)}
    try:
        sent = services.messaging.send_message(alice.id, chat.id, text_content("hi bob"))

        for name in ("alice", "bob"):  # alice's own other tabs hear it too
            event = await next_event(subs[name])
            assert event == MessageCreated(chat_id=chat.id, message=sent)
        assert await settle(subs["carol"]) == []
        with pytest.raises(TimeoutError):
            await next_event(subs["carol"], timeout=0.05)
    finally:
        for sub in subs.values():
            await sub.close()


async def test_every_tab_of_a_user_hears_the_message(
    services: Services, alice: Person, bob: Person, chat: Chat
) -> None:
    phone, laptop = services.bus.subscribe(bob.id), services.bus.subscribe(bob.id)
    try:
        sent = services.messaging.send_message(alice.id, chat.id, text_content("hi"))
        assert await settle(phone) == await settle(laptop) == [MessageCreated(chat.id, sent)]
    finally:
        await phone.close()
        await laptop.close()


async def test_a_resend_is_announced_again_with_the_same_id(
    services: Services, alice: Person, bob: Person, chat: Chat
) -> None:
    sub = services.bus.subscribe(bob.id)
    try:
        first = services.messaging.send_message(alice.id, chat.id, text_content("hi"), "t-1")
        services.messaging.send_message(alice.id, chat.id, text_content("hi"), "t-1")
        events = await settle(sub)
        assert events == [MessageCreated(chat.id, first)] * 2
    finally:
        await sub.close()


async def test_receipts_are_announced_with_the_chat_aggregate(
    services: Services, alice: Person, bob: Person, carol: Person, chat: Chat
) -> None:
    m = services.messaging.send_message(alice.id, chat.id, text_content("hi")).id
    subs = [services.bus.subscribe(p.id) for p in (alice, bob, carol)]
    alice_sub, bob_sub, carol_sub = subs
    try:
        services.receipts.mark_delivered(bob.id, chat.id, m)
        delivered = ReceiptsChanged(
            chat_id=chat.id,
            user_id=bob.id,
            delivered_upto=m,
            read_upto="",
            # alice has read her own message; bob has only received it
            chat_receipts=Receipts(delivered_upto=m, read_upto=""),
        )
        assert await settle(alice_sub) == await settle(bob_sub) == [delivered]

        services.receipts.mark_read(bob.id, chat.id, m)
        read = ReceiptsChanged(
            chat_id=chat.id,
            user_id=bob.id,
            delivered_upto=m,
            read_upto=m,
            chat_receipts=Receipts(delivered_upto=m, read_upto=m),
        )
        assert await settle(alice_sub) == await settle(bob_sub) == [read]
        assert await settle(carol_sub) == []
    finally:
        for sub in subs:
            await sub.close()


async def test_a_reply_that_reads_the_chat_is_announced_as_a_receipt(
    services: Services, alice: Person, bob: Person, chat: Chat
) -> None:
    m1 = services.messaging.send_message(bob.id, chat.id, text_content("hi alice")).id
    sub = services.bus.subscribe(bob.id)
    try:
        # alice answers from a client that never called mark_read
        services.messaging.send_message(alice.id, chat.id, text_content("hi bob"))
        # the server now says m1 is read...
        receipts = services.messaging.list_messages(bob.id, chat.id).receipts
        assert receipts.read_upto == m1
        # ...and bob's tabs should be told so
        changes = [e for e in await settle(sub) if isinstance(e, ReceiptsChanged)]
        assert changes
        assert changes[-1].chat_receipts == receipts
    finally:
        await sub.close()


async def test_opening_a_chat_tells_only_the_opener_once(
    services: Services, alice: Person, bob: Person
) -> None:
    alice_sub, bob_sub = services.bus.subscribe(alice.id), services.bus.subscribe(bob.id)
    try:
        chat = services.chats.open_direct_chat(alice.id, bob.id)
        assert await settle(alice_sub) == [ChatChanged(chat_id=chat.id)]
        # bob hears nothing until alice writes...
        assert await settle(bob_sub) == []
        services.chats.open_direct_chat(alice.id, bob.id)
        assert await settle(alice_sub) == await settle(bob_sub) == []

        # ...or until he opens the chat himself, which puts it in his list (once).
        services.chats.open_direct_chat(bob.id, alice.id)
        assert await settle(bob_sub) == [ChatChanged(chat_id=chat.id)]
        services.chats.open_direct_chat(bob.id, alice.id)
        assert await settle(alice_sub) == await settle(bob_sub) == []
    finally:
        await alice_sub.close()
        await bob_sub.close()


async def test_a_publish_from_another_thread_reaches_an_asyncio_subscriber(
    services: Services, alice: Person, bob: Person, chat: Chat
) -> None:
    sub = services.bus.subscribe(bob.id)
    sent = []
    worker = threading.Thread(
        target=lambda: sent.append(
            services.messaging.send_message(alice.id, chat.id, text_content("from a worker"))
        )
    )
    try:
        worker.start()
        event = await next_event(sub, timeout=5)
        await asyncio.to_thread(worker.join, 5)

        assert not worker.is_alive()
        assert event == MessageCreated(chat.id, sent[0])
    finally:
        await sub.close()


async def test_a_bare_publish_from_another_thread_is_delivered_in_order(
    services: Services, bob: Person
) -> None:
    sub = services.bus.subscribe(bob.id)
    events = [ChatChanged(chat_id=f"chat-{i}") for i in range(20)]

    def publish_all() -> None:
        for event in events:
            services.bus.publish([bob.id], event)

    try:
        worker = threading.Thread(target=publish_all)
        worker.start()
        received = [await next_event(sub, timeout=5) for _ in events]
        await asyncio.to_thread(worker.join, 5)
        assert received == events
    finally:
        await sub.close()


async def test_a_closed_subscription_stops_receiving(
    services: Services, alice: Person, bob: Person, chat: Chat
) -> None:
    old_tab, new_tab = services.bus.subscribe(bob.id), services.bus.subscribe(bob.id)
    try:
        await old_tab.close()
        sent = services.messaging.send_message(alice.id, chat.id, text_content("hi"))

        assert drain(new_tab) == [MessageCreated(chat.id, sent)]
        assert drain(old_tab) == []

        await new_tab.close()
        # with nobody listening, sending still works and nobody hears it
        services.messaging.send_message(alice.id, chat.id, text_content("anyone?"))
        assert drain(new_tab) == []
        assert len(services.messaging.list_messages(bob.id, chat.id).messages) == 2
    finally:
        await old_tab.close()
        await new_tab.close()


# --- wire form ---------------------------------------------------------------------------


async def captured_events(services: Services, alice: Person, bob: Person) -> list[Event]:
    """One real event of each type, as alice's tab receives them."""
    sub = services.bus.subscribe(alice.id)
    try:
        chat = services.chats.open_direct_chat(alice.id, bob.id)
        content = {"type": "text", "text": 'héllo <b>wörld</b> 😀\n"quoted"'}
        m = services.messaging.send_message(alice.id, chat.id, content, temp_id="t-1")
        services.receipts.mark_delivered(bob.id, chat.id, m.id)
        return await settle(sub)
    finally:
        await sub.close()


async def test_every_event_type_survives_the_round_trip_through_json(
    services: Services, alice: Person, bob: Person
) -> None:
    events = await captured_events(services, alice, bob)
    assert [type(e) for e in events] == [ChatChanged, MessageCreated, ReceiptsChanged]

    for event in events:
        wire = json.dumps(event_to_dict(event))
        data = json.loads(wire)
        assert data["type"] == event.type
        assert data["chat_id"] == event.chat_id
        assert event_from_dict(data) == event


async def test_a_message_event_keeps_an_aware_timestamp(
    services: Services, alice: Person, bob: Person
) -> None:
    events = await captured_events(services, alice, bob)
    [created] = [e for e in events if isinstance(e, MessageCreated)]

    data = event_to_dict(created)
    assert isinstance(data["message"]["created_at"], str)
    back = event_from_dict(data)
    assert isinstance(back, MessageCreated)
    assert back.message.created_at == created.message.created_at
    assert back.message.created_at.utcoffset() is not None
    # turning an event into a dict leaves the event itself untouched
    assert not isinstance(created.message.created_at, str)


def test_an_unknown_event_type_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown event type"):
        event_from_dict({"type": "chat.deleted", "chat_id": "x"})
    with pytest.raises(ValueError):
        event_from_dict({"chat_id": "x"})


async def test_a_subscriber_that_stops_reading_is_told_to_resync_not_grown_forever(
    services: Services, alice: Person, bob: Person, chat: Chat
) -> None:
    sub = services.bus.subscribe(bob.id)
    requires_immediate_delivery(sub)
    try:
        for i in range(MAX_BACKLOG + 5):
            services.bus.publish([bob.id], ChatChanged(chat_id=f"c{i}"))
        assert sub.queue.qsize() == 0  # the backlog was dropped, not kept
        with pytest.raises(SubscriptionLagged):
            await sub.get(timeout=1)
        # after the resync signal, events flow again
        services.bus.publish([bob.id], ChatChanged(chat_id=chat.id))
        assert await sub.get(timeout=1) == ChatChanged(chat_id=chat.id)
    finally:
        await sub.close()
