"""People and chats for the service stories: alice, bob, carol and dave on real SQLite services."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from backend.container import Services
from backend.models import Chat
from tests.backend.helpers import PASSWORD, Person

Register = Callable[..., Person]


@pytest.fixture
def register(services: Services) -> Register:
    def _register(username: str, display_name: str = "", password: str = PASSWORD) -> Person:
        user, token = services.accounts.register(
            username, display_name or username.title(), password
        )
        return Person(user, token, password)

    return _register


@pytest.fixture
def alice(register: Register) -> Person:
    return register("alice", "Alice Liddell")


@pytest.fixture
def bob(register: Register) -> Person:
    return register("bob", "Bob Builder")


@pytest.fixture
def carol(register: Register) -> Person:
    return register("carol", "Carol Danvers")


@pytest.fixture
def dave(register: Register) -> Person:
    return register("dave", "Dave Grohl")


@pytest.fixture
def chat(services: Services, alice: Person, bob: Person) -> Chat:
    """The 1:1 chat alice opened with bob (nobody has written yet)."""
    return services.chats.open_direct_chat(alice.id, bob.id)
