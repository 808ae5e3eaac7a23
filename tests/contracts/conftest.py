"""One suite per port, run against every adapter of it: embedded (SQLite, in-process) and
scale-out (PostgreSQL, Redis, Cassandra) on real servers.

Each port's fixture is parametrized by adapter name; a test asks for the port (``user_store``,
``message_store``, ``buses``...) and runs once per adapter.
"""

from __future__ import annotations

import dataclasses
import shutil
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
import redis
import sqlalchemy as sa

from backend.adapters.memory.bus import InProcessBus
from backend.adapters.memory.rate_limit import InMemoryRateLimiter
from backend.adapters.sql.accounts import SqlSessionStore, SqlUserStore
from backend.adapters.sql.chats import SqlChatStore
from backend.adapters.sql.engine import create_sql_engine
from backend.adapters.sql.message_actions import SqlMessageActionStore
from backend.adapters.sql.messages import SqlMessageStore
from backend.models import Chat, ChatKind, Member, Message, Role, User
from backend.ports import Bus, MessageActionStore, MessageStore, RateLimiter
from tests.conftest import FakeClock
from tests.engines import (
    Engines,
    cassandra_keyspace,
    drop_postgres_database,
    empty_tables,
    fresh_postgres_database,
)

SQL_ENGINES = ["sqlite", "postgres"]
MESSAGE_ENGINES = ["sqlite", "postgres", "cassandra"]
BUS_ENGINES = ["memory", "redis"]
NOW = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)


# --- SQL ------------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def postgres_engine(engines: Engines) -> Iterator[sa.Engine]:
    """A migrated database of this session's own on the real PostgreSQL server."""
    url = fresh_postgres_database(engines.postgres_url, "chat_contracts")
    engine = create_sql_engine(url)
    yield engine
    engine.dispose()
    drop_postgres_database(engines.postgres_url, url)


@pytest.fixture(params=SQL_ENGINES)
def sql_engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[sa.Engine]:
    if request.param == "postgres":
        engine: sa.Engine = request.getfixturevalue("postgres_engine")
        empty_tables(engine)
        yield engine
        return
    template: Path = request.getfixturevalue("migrated_template")
    shutil.copy(template, tmp_path / "chat.db")
    engine = create_sql_engine(f"sqlite:///{tmp_path / 'chat.db'}")
    yield engine
    engine.dispose()


@pytest.fixture
def user_store(sql_engine: sa.Engine) -> SqlUserStore:
    return SqlUserStore(sql_engine)


@pytest.fixture
def session_store(sql_engine: sa.Engine) -> SqlSessionStore:
    return SqlSessionStore(sql_engine)


@pytest.fixture
def chat_store(sql_engine: sa.Engine) -> SqlChatStore:
    return SqlChatStore(sql_engine)


def make_user(users: SqlUserStore, username: str = "", display_name: str = "") -> User:
    username = username or f"u{uuid.uuid4().hex[:12]}"
    user = User(
        id=str(uuid.uuid4()),
        username=username,
        display_name=display_name or username.title(),
        created_at=NOW,
    )
    users.add_user(user, "hash-of-" + username)
    return user


def make_direct_chat(chats: SqlChatStore, a: str, b: str, at: datetime = NOW) -> Chat:
    chat = Chat(id=str(uuid.uuid4()), kind=ChatKind.DIRECT, title="", created_by=a, created_at=at)
    members = [
        Member(chat_id=chat.id, user_id=uid, role=Role.MEMBER, joined_at=at, is_listed=listed)
        for uid, listed in ((a, True), (b, False))
    ]
    return chats.add_direct_chat(chat, ":".join(sorted((a, b))), members)


# --- messages -------------------------------------------------------------------------------


@dataclasses.dataclass
class MessageBackend:
    """A message store, the action store beside it, and a way to make a chat (and its
    people) they can store messages in."""

    store: MessageStore
    actions: MessageActionStore
    # The chats (and their chat-list previews) are SQL on every engine: with messages in
    # Cassandra they are still PostgreSQL's (here SQLite's, for the same code).
    chats: SqlChatStore
    new_chat: Callable[[], tuple[str, str, str]]  # chat id, two member ids
    name: str

    def hide(self, user_id: str, message: Message) -> None:
        self.actions.hide_message(user_id, message, NOW)


@pytest.fixture(scope="session")
def cassandra_session(engines: Engines) -> Iterator[object]:
    from backend.adapters.cassandra.schema import connect

    with cassandra_keyspace(engines.cassandra_hosts) as keyspace:
        yield connect(engines.cassandra_hosts, keyspace)


def _sqlite_copy(request: pytest.FixtureRequest) -> sa.Engine:
    tmp_path: Path = request.getfixturevalue("tmp_path")
    shutil.copy(request.getfixturevalue("migrated_template"), tmp_path / "chat.db")
    return create_sql_engine(f"sqlite:///{tmp_path / 'chat.db'}")


@pytest.fixture(params=MESSAGE_ENGINES)
def message_backend(request: pytest.FixtureRequest) -> MessageBackend:
    if request.param == "postgres":
        engine: sa.Engine = request.getfixturevalue("postgres_engine")
        empty_tables(engine)
    else:
        engine = _sqlite_copy(request)
    users, chats = SqlUserStore(engine), SqlChatStore(engine)

    def new_chat() -> tuple[str, str, str]:
        a, b = make_user(users), make_user(users)
        return make_direct_chat(chats, a.id, b.id).id, a.id, b.id

    if request.param == "cassandra":
        from backend.adapters.cassandra.message_actions import CassandraMessageActionStore
        from backend.adapters.cassandra.messages import CassandraMessageStore

        session = request.getfixturevalue("cassandra_session")
        return MessageBackend(
            CassandraMessageStore(session),
            CassandraMessageActionStore(session, chats),
            chats,
            new_chat,
            "cassandra",
        )
    return MessageBackend(
        SqlMessageStore(engine), SqlMessageActionStore(engine), chats, new_chat, request.param
    )


# --- bus and rate limits --------------------------------------------------------------------


@pytest.fixture(params=BUS_ENGINES)
def buses(request: pytest.FixtureRequest) -> Iterator[tuple[Bus, Bus]]:
    """A bus to publish on and one to subscribe on: for Redis, two instances (two processes'
    worth), so every test proves delivery across them; in process, the same bus twice."""
    if request.param == "memory":
        bus = InProcessBus()
        yield bus, bus
        return
    from backend.adapters.redis.bus import RedisBus

    url = request.getfixturevalue("engines").redis_url
    publisher, subscriber = RedisBus(url), RedisBus(url)
    yield publisher, subscriber
    publisher.close()
    subscriber.close()


@pytest.fixture(params=BUS_ENGINES)
def limiters(request: pytest.FixtureRequest, clock: FakeClock) -> Iterator[list[RateLimiter]]:
    """Two limiters sharing their counts: for Redis, two instances on one server."""
    if request.param == "memory":
        limiter = InMemoryRateLimiter(clock)
        yield [limiter, limiter]
        return
    from backend.adapters.redis.rate_limit import RedisRateLimiter

    url = request.getfixturevalue("engines").redis_url
    redis.Redis.from_url(url).flushdb()
    pair = [RedisRateLimiter(url, clock), RedisRateLimiter(url, clock)]
    yield pair  # type: ignore[misc]
    for limiter in pair:
        limiter.close()
