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

from backend.adapters.counted_unread import StoreCountedUnread
from backend.adapters.memory.bus import InProcessBus
from backend.adapters.memory.presence import InMemoryPresence
from backend.adapters.memory.rate_limit import InMemoryRateLimiter
from backend.adapters.memory.typing import InMemoryTyping
from backend.adapters.sql.accounts import SqlSessionStore, SqlUserStore
from backend.adapters.sql.chats import SqlChatStore
from backend.adapters.sql.engine import create_sql_engine
from backend.adapters.sql.message_actions import SqlMessageActionStore
from backend.adapters.sql.messages import SqlMessageStore
from backend.models import Chat, ChatKind, Member, Message, Role, User
from backend.ports import (
    Bus,
    ChatListStore,
    MessageActionStore,
    MessageStore,
    PresenceStore,
    RateLimiter,
    TypingStore,
    UnreadCounter,
)
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
CHAT_LIST_ENGINES = ["sqlite", "postgres", "cassandra"]
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


# --- the chat list --------------------------------------------------------------------------


@dataclasses.dataclass
class ChatListBackend:
    """A chat list and the SQL stores of the chats and people it lists."""

    chat_list: ChatListStore
    chats: SqlChatStore
    users: SqlUserStore
    name: str


@pytest.fixture(params=CHAT_LIST_ENGINES)
def chat_list_backend(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[ChatListBackend]:
    """SQLite and PostgreSQL keep the list on the chats' rows; Cassandra keeps it per user,
    over PostgreSQL's chats and memberships (as deployed)."""
    if request.param == "sqlite":
        engine = sqlite_copy(request)
    else:
        engine = request.getfixturevalue("postgres_engine")
        empty_tables(engine)
    chats, users = SqlChatStore(engine), SqlUserStore(engine)
    chat_list: ChatListStore = chats
    if request.param == "cassandra":
        from backend.adapters.cassandra.chat_list import CassandraChatList

        # (Its rows stay between tests: every test's users and chats have new ids.)
        chat_list = CassandraChatList(request.getfixturevalue("cassandra_session"), chats)  # type: ignore[arg-type]
    yield ChatListBackend(chat_list, chats, users, request.param)
    if request.param == "sqlite":
        engine.dispose()


# --- messages -------------------------------------------------------------------------------


@dataclasses.dataclass
class MessageBackend:
    """A message store, the action store beside it, and a way to make a chat (and its
    people) they can store messages in."""

    store: MessageStore
    actions: MessageActionStore
    # The chats are SQL on every engine: with messages in Cassandra they are still
    # PostgreSQL's (here SQLite's, for the same code); the chat list (and its previews) goes
    # with the messages, as the container wires it.
    chats: SqlChatStore
    chat_list: ChatListStore
    new_chat: Callable[[], tuple[str, str, str]]  # chat id, two member ids
    name: str

    def hide(self, user_id: str, message: Message) -> None:
        self.actions.hide_message(user_id, message, NOW)


@pytest.fixture(scope="session")
def cassandra_session(engines: Engines) -> Iterator[object]:
    from backend.adapters.cassandra.schema import connect

    with cassandra_keyspace(engines.cassandra_hosts) as keyspace:
        yield connect(engines.cassandra_hosts, keyspace)


def sqlite_copy(request: pytest.FixtureRequest) -> sa.Engine:
    tmp_path: Path = request.getfixturevalue("tmp_path")
    shutil.copy(request.getfixturevalue("migrated_template"), tmp_path / "chat.db")
    return create_sql_engine(f"sqlite:///{tmp_path / 'chat.db'}")


@pytest.fixture(params=MESSAGE_ENGINES)
def message_backend(request: pytest.FixtureRequest) -> MessageBackend:
    if request.param == "postgres":
        engine: sa.Engine = request.getfixturevalue("postgres_engine")
        empty_tables(engine)
    else:
        engine = sqlite_copy(request)
    users, chats = SqlUserStore(engine), SqlChatStore(engine)

    def new_chat() -> tuple[str, str, str]:
        a, b = make_user(users), make_user(users)
        return make_direct_chat(chats, a.id, b.id).id, a.id, b.id

    if request.param == "cassandra":
        from backend.adapters.cassandra.chat_list import CassandraChatList
        from backend.adapters.cassandra.message_actions import CassandraMessageActionStore
        from backend.adapters.cassandra.messages import CassandraMessageStore

        session = request.getfixturevalue("cassandra_session")
        chat_list = CassandraChatList(session, chats)
        return MessageBackend(
            CassandraMessageStore(session),
            CassandraMessageActionStore(session, chat_list),
            chats,
            chat_list,
            new_chat,
            "cassandra",
        )
    return MessageBackend(
        SqlMessageStore(engine),
        SqlMessageActionStore(engine),
        chats,
        chats,
        new_chat,
        request.param,
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


# --- presence, typing and unread counts (shared state) --------------------------------------


@pytest.fixture
def redis_url(engines: Engines) -> str:
    """The real Redis, emptied for this test."""
    url = engines.redis_url
    redis.Redis.from_url(url).flushdb()
    return url


@pytest.fixture(params=BUS_ENGINES)
def presences(request: pytest.FixtureRequest) -> Iterator[tuple[PresenceStore, PresenceStore]]:
    """Two presence stores sharing their state: for Redis, two instances (two processes)."""
    if request.param == "memory":
        presence = InMemoryPresence()
        yield presence, presence
        return
    from backend.adapters.redis.presence import RedisPresence

    url = request.getfixturevalue("redis_url")
    pair = RedisPresence(url), RedisPresence(url)
    yield pair
    for one in pair:
        one.close()


@pytest.fixture(params=BUS_ENGINES)
def typing_stores(request: pytest.FixtureRequest) -> Iterator[tuple[TypingStore, TypingStore]]:
    """Two typing stores sharing their state: for Redis, two instances (two processes)."""
    if request.param == "memory":
        typing = InMemoryTyping()
        yield typing, typing
        return
    from backend.adapters.redis.typing import RedisTyping

    url = request.getfixturevalue("redis_url")
    pair = RedisTyping(url), RedisTyping(url)
    yield pair
    for one in pair:
        one.close()


@dataclasses.dataclass
class UnreadBackend:
    """Two unread counters sharing their state (for Redis, two processes' worth) over one
    message store, the truth they must agree with."""

    counters: tuple[UnreadCounter, UnreadCounter]
    store: MessageStore
    new_chat: Callable[[int], tuple[str, list[str]]]  # a chat id and that many people in it
    name: str


@pytest.fixture(params=["store", "redis"])
def unread_backend(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[UnreadBackend]:
    engine = sqlite_copy(request)
    store, users, chats = SqlMessageStore(engine), SqlUserStore(engine), SqlChatStore(engine)

    def new_chat(people: int) -> tuple[str, list[str]]:
        ids = [make_user(users).id for _ in range(people)]
        # (Messages refer to a chat and users; who is a member is not the counter's business.)
        return make_direct_chat(chats, ids[0], ids[1]).id, ids

    if request.param == "store":
        counter = StoreCountedUnread(store)
        yield UnreadBackend((counter, counter), store, new_chat, "store")
    else:
        from backend.adapters.redis.unread import RedisUnreadCounter

        url = request.getfixturevalue("redis_url")
        pair = RedisUnreadCounter(url, store), RedisUnreadCounter(url, store)
        yield UnreadBackend(pair, store, new_chat, "redis")
        for one in pair:
            one.close()
    engine.dispose()
