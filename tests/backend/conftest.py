"""People and chats for the service stories: alice, bob, carol and dave on real SQLite services."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from backend.container import Services
from backend.models import Chat, Media
from tests.backend.helpers import PASSWORD, Person
from tests.backend.media_helpers import Upload

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


@pytest.fixture
def upload(services: Services, tmp_path: Path) -> Upload:
    """Upload ``data`` as ``name`` for a chat, as the API does after receiving the file."""

    def _upload(who: Person, chat: Chat, data: bytes, name: str, **kwargs: object) -> Media:
        path = tmp_path / f"upload-{len(data)}-{name.replace('/', '_')}"
        path.write_bytes(data)
        return services.media.upload(who.id, chat.id, path, name, **kwargs)  # type: ignore[arg-type]

    return _upload
