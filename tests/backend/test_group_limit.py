"""Groups hold at most 256 people, even with two admins adding at once."""

from __future__ import annotations

import threading

import pytest

from backend.container import Services
from backend.errors import GroupFull
from backend.models import Role
from backend.services.groups import MAX_MEMBERS
from tests.backend.conftest import Register
from tests.backend.group_helpers import (
    history_ids,
    make_group,
)
from tests.backend.helpers import Person

# --- the 256 limit --------------------------------------------------------------------------


@pytest.fixture
def crowd(register: Register) -> list[Person]:
    """255 people: with alice, a full group."""
    return [register(f"member{i:03d}", f"Member {i}") for i in range(MAX_MEMBERS - 1)]


def test_a_group_holds_256_people_and_refuses_the_257th(
    services: Services, register: Register, alice: Person, crowd: list[Person]
) -> None:
    chat = make_group(services, alice, *crowd)
    assert services.chats.get_summary(alice.id, chat.id).member_count == MAX_MEMBERS
    latecomer = register("latecomer")
    before = history_ids(services, alice, chat)

    with pytest.raises(GroupFull) as full:
        services.groups.add_members(alice.id, chat.id, [latecomer.id])
    assert full.value.code == "group_full"
    assert full.value.message == "A group can have at most 256 members."
    assert full.value.params == {"limit": 256}
    assert history_ids(services, alice, chat) == before
    assert services.chats.list_chats(latecomer.id) == []

    # Someone leaving makes room again.
    services.groups.leave(crowd[0].id, chat.id)
    services.groups.add_members(alice.id, chat.id, [latecomer.id])
    assert services.chats.get_summary(latecomer.id, chat.id).member_count == MAX_MEMBERS


def test_creating_a_group_of_257_is_refused_and_creates_nothing(
    services: Services, register: Register, alice: Person, crowd: list[Person]
) -> None:
    one_too_many = [*crowd, register("latecomer")]
    with pytest.raises(GroupFull, match="at most 256 members"):
        make_group(services, alice, *one_too_many)
    assert services.chats.list_chats(alice.id) == []
    assert services.chats.list_chats(crowd[0].id) == []


def test_two_admins_adding_at_once_cannot_pass_256(
    services: Services, register: Register, alice: Person, bob: Person, crowd: list[Person]
) -> None:
    chat = make_group(services, alice, bob, *crowd[:-1])  # 256 people
    services.groups.leave(crowd[0].id, chat.id)  # room for exactly one more
    services.groups.set_role(alice.id, chat.id, bob.id, Role.ADMIN)
    newcomers = [register("first_in"), register("second_in")]
    start = threading.Barrier(2)
    outcomes: list[str] = []

    def add(admin: Person, newcomer: Person) -> None:
        start.wait()
        try:
            services.groups.add_members(admin.id, chat.id, [newcomer.id])
            outcomes.append("added")
        except GroupFull:
            outcomes.append("full")

    threads = [
        threading.Thread(target=add, args=(admin, newcomer))
        for admin, newcomer in zip((alice, bob), newcomers, strict=True)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(outcomes) == ["added", "full"]
    assert services.chats.get_summary(alice.id, chat.id).member_count == MAX_MEMBERS
