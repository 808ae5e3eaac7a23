"""Typing: relayed live to the other members, and known for a few seconds to a tab that opens
the chat afterwards."""

from __future__ import annotations

import pytest

from backend.container import Services
from backend.errors import NotFound
from backend.events import TypingChanged
from backend.models import Chat
from backend.services.typing import TYPING_LAPSE
from tests.backend.group_helpers import make_group
from tests.backend.helpers import Person, next_event
from tests.conftest import FakeClock


async def test_the_other_members_hear_it_live(
    services: Services, alice: Person, bob: Person, chat: Chat
) -> None:
    sub = services.bus.subscribe(bob.id)
    try:
        services.typing.set_typing(alice.id, chat.id, True)
        assert await next_event(sub) == TypingChanged(chat.id, alice.id, True)
        services.typing.set_typing(alice.id, chat.id, False)
        assert await next_event(sub) == TypingChanged(chat.id, alice.id, False)
    finally:
        await sub.close()


def test_a_chat_opened_while_someone_types_shows_them_until_they_go_quiet(
    services: Services, alice: Person, bob: Person, chat: Chat, clock: FakeClock
) -> None:
    services.typing.set_typing(alice.id, chat.id, True)
    assert services.typing.typing_now(bob.id, chat.id) == {alice.id: clock.now + TYPING_LAPSE}
    assert services.typing.typing_now(alice.id, chat.id) == {}  # never one's own
    clock.advance(seconds=2)
    services.typing.set_typing(alice.id, chat.id, True)  # the composer re-sends
    clock.advance(seconds=3)
    assert set(services.typing.typing_now(bob.id, chat.id)) == {alice.id}
    clock.advance(seconds=TYPING_LAPSE.total_seconds())
    assert services.typing.typing_now(bob.id, chat.id) == {}  # went quiet: lapsed


def test_stopping_or_sending_ends_the_indicator(
    services: Services, alice: Person, bob: Person, chat: Chat, clock: FakeClock
) -> None:
    services.typing.set_typing(alice.id, chat.id, True)
    services.typing.set_typing(alice.id, chat.id, False)
    assert services.typing.typing_now(bob.id, chat.id) == {}

    services.typing.set_typing(alice.id, chat.id, True)
    clock.advance(seconds=1)
    services.messaging.send_message(alice.id, chat.id, {"type": "text", "text": "done"})
    assert services.typing.typing_now(bob.id, chat.id) == {}
    clock.advance(seconds=1)
    services.typing.set_typing(alice.id, chat.id, True)  # typing the next one
    assert set(services.typing.typing_now(bob.id, chat.id)) == {alice.id}


def test_in_a_group_everyone_typing_is_shown(
    services: Services, alice: Person, bob: Person, carol: Person, clock: FakeClock
) -> None:
    group = make_group(services, alice, bob, carol)
    services.typing.set_typing(alice.id, group.id, True)
    services.typing.set_typing(bob.id, group.id, True)
    assert set(services.typing.typing_now(carol.id, group.id)) == {alice.id, bob.id}
    assert set(services.typing.typing_now(alice.id, group.id)) == {bob.id}


def test_only_current_members_type_or_see_typing(
    services: Services, alice: Person, bob: Person, carol: Person, chat: Chat
) -> None:
    with pytest.raises(NotFound):
        services.typing.set_typing(carol.id, chat.id, True)
    services.typing.set_typing(alice.id, chat.id, True)
    with pytest.raises(NotFound):
        services.typing.typing_now(carol.id, chat.id)
    group = make_group(services, alice, bob, carol)
    services.groups.remove_member(alice.id, group.id, carol.id)
    with pytest.raises(NotFound):
        services.typing.typing_now(carol.id, group.id)
