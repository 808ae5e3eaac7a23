"""Group receipts and message info."""

from __future__ import annotations

import pytest

from backend.container import Services
from backend.errors import NotFound
from backend.models import MessageStatus
from tests.backend.group_helpers import (
    make_group,
    say,
    status,
)
from tests.backend.helpers import Person
from tests.conftest import FakeClock

# --- group receipts -------------------------------------------------------------------------


def test_delivered_when_every_member_has_it_read_when_every_member_read_it(
    services: Services, alice: Person, bob: Person, carol: Person
) -> None:
    chat = make_group(services, alice, bob, carol)
    m = say(services, alice, chat)
    assert status(services, alice, chat, m) is MessageStatus.SENT

    services.receipts.mark_delivered(bob.id, chat.id, m)
    assert status(services, alice, chat, m) is MessageStatus.SENT  # carol hasn't got it
    services.receipts.mark_delivered(carol.id, chat.id, m)
    assert status(services, alice, chat, m) is MessageStatus.DELIVERED

    services.receipts.mark_read(bob.id, chat.id, m)
    assert status(services, alice, chat, m) is MessageStatus.DELIVERED
    services.receipts.mark_read(carol.id, chat.id, m)
    assert status(services, alice, chat, m) is MessageStatus.READ
    [summary] = [s for s in services.chats.list_chats(alice.id) if s.chat.id == chat.id]
    assert summary.receipts.status_of(m) is MessageStatus.READ


@pytest.mark.parametrize("how", ["leaves", "is removed"])
def test_someone_who_is_gone_no_longer_holds_the_ticks_back(
    services: Services, alice: Person, bob: Person, carol: Person, how: str
) -> None:
    chat = make_group(services, alice, bob, carol)
    m = say(services, alice, chat)
    services.receipts.mark_read(bob.id, chat.id, m)
    assert status(services, alice, chat, m) is MessageStatus.SENT  # carol has nothing yet

    if how == "leaves":
        services.groups.leave(carol.id, chat.id)
    else:
        services.groups.remove_member(alice.id, chat.id, carol.id)
    assert status(services, alice, chat, m) is MessageStatus.READ


# --- message info ---------------------------------------------------------------------------


def test_message_info_says_who_received_and_read_it_and_when(
    services: Services,
    clock: FakeClock,
    alice: Person,
    bob: Person,
    carol: Person,
    dave: Person,
) -> None:
    chat = make_group(services, alice, bob, carol)
    m = say(services, alice, chat)
    sent_at = clock()
    clock.advance(seconds=10)
    services.receipts.mark_delivered(bob.id, chat.id, m)
    bob_got = clock()
    clock.advance(seconds=10)
    services.receipts.mark_read(bob.id, chat.id, m)
    bob_read = clock()
    clock.advance(seconds=10)
    services.receipts.mark_delivered(carol.id, chat.id)
    carol_got = clock()
    clock.advance(seconds=10)
    services.groups.add_members(alice.id, chat.id, [dave.id])  # joined after m: not listed
    services.receipts.mark_read(dave.id, chat.id)
    clock.advance(seconds=10)
    services.receipts.mark_delivered(bob.id, chat.id)  # later moves keep the first times

    info = {
        r.user.username: (r.delivered_at, r.read_at)
        for r in services.receipts.message_info(alice.id, chat.id, m)
    }
    assert info == {"bob": (bob_got, bob_read), "carol": (carol_got, None)}
    assert bob_got > sent_at

    # Any member may ask (the one asking is left out).
    by_bob = services.receipts.message_info(bob.id, chat.id, m)
    assert {r.user.username for r in by_bob} == {"alice", "carol"}
    alice_row = next(r for r in by_bob if r.user.username == "alice")
    assert alice_row.read_at == sent_at  # writing it is reading it


def test_message_info_leaves_out_people_who_left(
    services: Services, alice: Person, bob: Person, carol: Person
) -> None:
    chat = make_group(services, alice, bob, carol)
    m = say(services, alice, chat)
    services.receipts.mark_read(carol.id, chat.id)
    services.groups.leave(carol.id, chat.id)
    assert [r.user.username for r in services.receipts.message_info(alice.id, chat.id, m)] == [
        "bob"
    ]


def test_message_info_of_unknown_or_unseen_messages_is_not_found(
    services: Services, alice: Person, bob: Person, carol: Person, dave: Person
) -> None:
    chat = make_group(services, alice, bob, carol)
    services.groups.remove_member(alice.id, chat.id, carol.id)
    later = say(services, alice, chat, "after carol")
    for who, message_id in (
        (alice, "not-an-id"),
        (alice, ""),
        (carol, later),  # sent after she was removed
    ):
        with pytest.raises(NotFound, match="No such message"):
            services.receipts.message_info(who.id, chat.id, message_id)
    with pytest.raises(NotFound, match="you are not in it"):
        services.receipts.message_info(dave.id, chat.id, later)


def test_message_info_for_someone_who_left_stops_where_they_left(
    services: Services,
    clock: FakeClock,
    alice: Person,
    bob: Person,
    carol: Person,
    dave: Person,
) -> None:
    chat = make_group(services, alice, bob, carol, dave)
    m = say(services, carol, chat, "carol's last words")
    services.receipts.mark_read(dave.id, chat.id, m)
    dave_read = clock()
    clock.advance(minutes=1)
    services.groups.leave(carol.id, chat.id)
    clock.advance(minutes=1)
    services.receipts.mark_read(bob.id, chat.id, m)  # after she left: not hers to learn
    services.groups.leave(dave.id, chat.id)  # nor that dave left later

    info = {
        r.user.username: r.read_at for r in services.receipts.message_info(carol.id, chat.id, m)
    }
    assert info == {"alice": None, "bob": None, "dave": dave_read}
    # The members still in it see it as it is.
    info = {
        r.user.username: r.read_at for r in services.receipts.message_info(alice.id, chat.id, m)
    }
    assert set(info) == {"bob"} and info["bob"] is not None
