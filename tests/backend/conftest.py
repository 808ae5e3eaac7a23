"""People and chats for the service stories: alice, bob, carol and dave on real SQLite services."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from backend.container import Services
from backend.models import Chat
from tests.backend.helpers import PASSWORD, Person

Register = Callable[..., Person]

# Search is SQLite FTS5 only: on the scale engines it answers "not available" (ARCHITECTURE.md),
# so the scale session skips its stories and says why instead of failing or passing vacuously.
SQL_ONLY_MODULES = {
    "test_search.py": "search is SQLite FTS5 only; not available on PostgreSQL/Cassandra yet",
    "test_search_migration.py": "the FTS5 search index exists on SQLite only",
}


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if config.getoption("--engines") != "scale":
        return
    for item in items:
        reason = SQL_ONLY_MODULES.get(item.path.name)
        if reason is not None:
            item.add_marker(pytest.mark.skip(reason=f"--engines=scale: {reason}"))


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
