"""Groups: creating them, roles and who may change what."""

from __future__ import annotations

from typing import Any

import pytest

from backend.container import Services
from backend.errors import Forbidden, InvalidInput, NotFound
from backend.models import Chat, ChatKind, Role
from tests.backend.group_helpers import (
    events,
    history,
    history_ids,
    make_group,
    roles,
    say,
)
from tests.backend.helpers import Person
from tests.conftest import FakeClock

# --- creating -------------------------------------------------------------------------------


def test_the_creator_owns_a_new_group_and_everyone_sees_the_created_line(
    services: Services, alice: Person, bob: Person, carol: Person
) -> None:
    chat = make_group(services, alice, bob, carol, title="  Weekend\n  trip \t")

    assert chat.kind is ChatKind.GROUP
    assert chat.title == "Weekend trip"  # whitespace folded, ends trimmed
    assert roles(services, bob, chat) == {
        "alice": Role.OWNER,
        "bob": Role.MEMBER,
        "carol": Role.MEMBER,
    }
    for who in (alice, bob, carol):
        [line] = history(services, who, chat)
        assert line == {
            "type": "system",
            "event": "created",
            "actor": {"id": alice.id, "name": "Alice Liddell"},
            "targets": [],
            "title": "Weekend trip",
        }
        [summary] = services.chats.list_chats(who.id)
        assert summary.title == "Weekend trip"
        assert summary.member_count == 3
        assert summary.is_member
    assert services.chats.list_chats(alice.id)[0].chat.last_preview == (
        "Alice Liddell created the group"
    )


def test_duplicate_ids_and_the_creator_among_the_members_count_once(
    services: Services, alice: Person, bob: Person
) -> None:
    chat = services.groups.create_group(alice.id, "Pair", [bob.id, bob.id, alice.id])
    assert roles(services, alice, chat) == {"alice": Role.OWNER, "bob": Role.MEMBER}


@pytest.mark.parametrize(
    ("title", "error", "words"),
    [
        ("", InvalidInput, "needs a name"),
        ("  \n\t ", InvalidInput, "needs a name"),
        ("x" * 101, InvalidInput, "at most 100 characters"),
        (None, InvalidInput, "needs a name"),
    ],
)
def test_a_group_needs_a_sensible_name(
    services: Services, alice: Person, bob: Person, title: Any, error: type, words: str
) -> None:
    with pytest.raises(error, match=words):
        services.groups.create_group(alice.id, title, [bob.id])
    assert services.chats.list_chats(alice.id) == []
    assert services.chats.list_chats(bob.id) == []


def test_a_name_of_exactly_100_characters_is_fine(
    services: Services, alice: Person, bob: Person
) -> None:
    assert make_group(services, alice, bob, title="é" * 100).title == "é" * 100


@pytest.mark.parametrize("bad_id", ["not-a-uuid", "", "00000000-0000-7000-8000-000000000000"])
def test_unknown_members_are_refused_and_nothing_is_created(
    services: Services, alice: Person, bob: Person, bad_id: str
) -> None:
    with pytest.raises(NotFound, match="No such user"):
        services.groups.create_group(alice.id, "Team", [bob.id, bad_id])
    assert services.chats.list_chats(alice.id) == []
    assert services.chats.list_chats(bob.id) == []


# --- roles and permissions ------------------------------------------------------------------


def test_a_plain_member_can_change_nothing_about_the_group(
    services: Services, alice: Person, bob: Person, carol: Person, dave: Person
) -> None:
    chat = make_group(services, alice, bob, carol)
    before = history_ids(services, alice, chat)
    refusals = [
        lambda: services.groups.add_members(bob.id, chat.id, [dave.id]),
        lambda: services.groups.remove_member(bob.id, chat.id, carol.id),
        lambda: services.groups.rename(bob.id, chat.id, "Bob's group"),
        lambda: services.groups.set_role(bob.id, chat.id, carol.id, Role.ADMIN),
        lambda: services.groups.set_role(bob.id, chat.id, bob.id, Role.ADMIN),
    ]
    for refused in refusals:
        with pytest.raises(Forbidden, match="Only group admins"):
            refused()
    # ... and nothing changed: same people, same roles, same name, no new lines.
    assert roles(services, alice, chat) == {
        "alice": Role.OWNER,
        "bob": Role.MEMBER,
        "carol": Role.MEMBER,
    }
    assert services.chats.get_summary(alice.id, chat.id).title == "Team"
    assert history_ids(services, alice, chat) == before
    with pytest.raises(NotFound):
        services.chats.access_chat(dave.id, chat.id)


def test_an_admin_adds_removes_renames_and_promotes(
    services: Services, alice: Person, bob: Person, carol: Person, dave: Person
) -> None:
    chat = make_group(services, alice, bob, carol)
    services.groups.set_role(alice.id, chat.id, bob.id, "admin")  # a plain string works too
    assert roles(services, carol, chat)["bob"] is Role.ADMIN

    services.groups.add_members(bob.id, chat.id, [dave.id])
    services.groups.remove_member(bob.id, chat.id, carol.id)
    services.groups.rename(bob.id, chat.id, "Renamed")
    services.groups.set_role(bob.id, chat.id, dave.id, Role.ADMIN)

    assert roles(services, alice, chat) == {
        "alice": Role.OWNER,
        "bob": Role.ADMIN,
        "dave": Role.ADMIN,
    }
    assert services.chats.get_summary(dave.id, chat.id).title == "Renamed"
    assert events(services, alice, chat) == ["created", "added", "removed", "renamed"]
    added, removed, renamed = history(services, alice, chat)[1:]
    assert added["actor"]["id"] == bob.id and [t["id"] for t in added["targets"]] == [dave.id]
    assert [t["name"] for t in removed["targets"]] == ["Carol Danvers"]
    assert renamed["title"] == "Renamed"
    assert services.chats.list_chats(alice.id)[0].chat.last_preview == (
        "Bob Builder changed the group name to Renamed"
    )

    # Demoted again, bob is a plain member once more.
    services.groups.set_role(alice.id, chat.id, bob.id, Role.MEMBER)
    with pytest.raises(Forbidden):
        services.groups.rename(bob.id, chat.id, "Mine now")


def test_renaming_to_the_same_name_or_re_adding_members_writes_no_line(
    services: Services, alice: Person, bob: Person
) -> None:
    chat = make_group(services, alice, bob)
    services.groups.rename(alice.id, chat.id, "  Team ")
    services.groups.add_members(alice.id, chat.id, [bob.id, alice.id])
    services.groups.set_role(alice.id, chat.id, bob.id, Role.MEMBER)
    assert events(services, alice, chat) == ["created"]


def test_nobody_removes_or_demotes_the_owner(
    services: Services, alice: Person, bob: Person, carol: Person
) -> None:
    chat = make_group(services, alice, bob, carol)
    services.groups.set_role(alice.id, chat.id, bob.id, Role.ADMIN)

    with pytest.raises(Forbidden, match="owner can't be removed"):
        services.groups.remove_member(bob.id, chat.id, alice.id)
    with pytest.raises(Forbidden, match="owner stays an admin"):
        services.groups.set_role(bob.id, chat.id, alice.id, Role.MEMBER)
    for not_a_role in ("owner", "king", ""):
        with pytest.raises(InvalidInput, match="admin or member"):
            services.groups.set_role(alice.id, chat.id, carol.id, not_a_role)
    with pytest.raises(InvalidInput, match="Leave group"):
        services.groups.remove_member(alice.id, chat.id, alice.id)
    assert roles(services, alice, chat)["alice"] is Role.OWNER


def test_acting_on_someone_who_is_not_in_the_group_is_not_found(
    services: Services, alice: Person, bob: Person, dave: Person
) -> None:
    chat = make_group(services, alice, bob)
    with pytest.raises(NotFound, match="not in this group"):
        services.groups.remove_member(alice.id, chat.id, dave.id)
    with pytest.raises(NotFound, match="not in this group"):
        services.groups.set_role(alice.id, chat.id, dave.id, Role.ADMIN)
    with pytest.raises(NotFound, match="No such user"):
        services.groups.add_members(alice.id, chat.id, ["not-an-id"])


def test_an_outsider_learns_nothing_about_a_group(
    services: Services, alice: Person, bob: Person, dave: Person
) -> None:
    chat = make_group(services, alice, bob)
    m = say(services, alice, chat)
    outsider_calls = [
        lambda: services.groups.add_members(dave.id, chat.id, [dave.id]),
        lambda: services.groups.remove_member(dave.id, chat.id, bob.id),
        lambda: services.groups.rename(dave.id, chat.id, "Mine"),
        lambda: services.groups.set_role(dave.id, chat.id, dave.id, Role.ADMIN),
        lambda: services.groups.leave(dave.id, chat.id),
        lambda: services.chats.members(dave.id, chat.id),
        lambda: services.receipts.message_info(dave.id, chat.id, m),
        lambda: services.messaging.list_messages(dave.id, chat.id),
    ]
    for call in outsider_calls:
        with pytest.raises(NotFound) as refused:
            call()
        # The same words as for a chat that does not exist.
        assert refused.value.message == "This chat doesn't exist or you are not in it."


def test_group_actions_on_a_direct_chat_are_refused(
    services: Services, alice: Person, bob: Person, carol: Person, chat: Chat
) -> None:
    for call in (
        lambda: services.groups.rename(alice.id, chat.id, "Us"),
        lambda: services.groups.add_members(alice.id, chat.id, [carol.id]),
        lambda: services.groups.leave(alice.id, chat.id),
    ):
        with pytest.raises((InvalidInput, Forbidden)):
            call()
    assert [u.id for u in services.chats.participants(alice.id, chat.id)] != []
    assert {m.user_id for m, _ in services.chats.members(alice.id, chat.id)} == {alice.id, bob.id}


def test_an_owner_who_leaves_hands_the_group_to_an_admin_then_the_longest_standing_member(
    services: Services,
    clock: FakeClock,
    alice: Person,
    bob: Person,
    carol: Person,
    dave: Person,
) -> None:
    chat = make_group(services, alice, bob)
    clock.advance(minutes=1)
    services.groups.add_members(alice.id, chat.id, [carol.id])
    clock.advance(minutes=1)
    services.groups.add_members(alice.id, chat.id, [dave.id])
    services.groups.set_role(alice.id, chat.id, dave.id, Role.ADMIN)

    services.groups.leave(alice.id, chat.id)
    # an admin first, even the newest one
    assert roles(services, bob, chat) == {
        "dave": Role.OWNER,
        "bob": Role.MEMBER,
        "carol": Role.MEMBER,
    }
    services.groups.leave(dave.id, chat.id)
    # no admins left: whoever has been in the group longest
    assert roles(services, bob, chat) == {"bob": Role.OWNER, "carol": Role.MEMBER}
    services.groups.add_members(bob.id, chat.id, [alice.id])  # the new owner can act
    assert events(services, bob, chat)[-3:] == ["left", "left", "added"]


def test_a_member_who_is_not_the_owner_leaves_without_changing_roles(
    services: Services, alice: Person, bob: Person, carol: Person
) -> None:
    chat = make_group(services, alice, bob, carol)
    services.groups.leave(carol.id, chat.id)
    assert roles(services, alice, chat) == {"alice": Role.OWNER, "bob": Role.MEMBER}
    with pytest.raises(NotFound):
        services.groups.leave(carol.id, chat.id)  # once is enough
