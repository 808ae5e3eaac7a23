"""The one place that builds every service from one Settings object."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import sqlalchemy as sa

from backend.adapters.counted_unread import StoreCountedUnread
from backend.adapters.memory.bus import InProcessBus
from backend.adapters.memory.presence import InMemoryPresence
from backend.adapters.memory.rate_limit import InMemoryRateLimiter
from backend.adapters.memory.typing import InMemoryTyping
from backend.adapters.sql.accounts import SqlSessionStore, SqlUserStore
from backend.adapters.sql.chats import SqlChatStore
from backend.adapters.sql.engine import create_sql_engine, upgrade_schema
from backend.adapters.sql.media import SqlMediaStore
from backend.adapters.sql.message_actions import SqlMessageActionStore
from backend.adapters.sql.messages import SqlMessageStore
from backend.adapters.sql.search import SqliteSearchIndex
from backend.adapters.sql.search_pages import MessageSource, StoreMessageSource
from backend.adapters.sql.search_postgres import PostgresSearchIndex
from backend.ports import (
    BlobStorage,
    Bus,
    ChatListStore,
    ChatStore,
    Clock,
    MessageActionStore,
    MessageStore,
    PresenceStore,
    RateLimiter,
    SearchIndex,
    TypingStore,
    UnreadCounter,
)
from backend.services.accounts import AccountService
from backend.services.chats import ChatService
from backend.services.groups import GroupService
from backend.services.media import MediaService
from backend.services.message_actions import MessageActionService
from backend.services.messaging import MessagingService
from backend.services.presence import PresenceService
from backend.services.receipts import ReceiptService
from backend.services.search import SearchService
from backend.services.typing import TypingService
from backend.settings import Settings

if TYPE_CHECKING:
    from cassandra.cluster import Session as CassandraSession


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclasses.dataclass(frozen=True)
class Services:
    settings: Settings
    bus: Bus
    accounts: AccountService
    chats: ChatService
    messaging: MessagingService
    receipts: ReceiptService
    typing: TypingService
    groups: GroupService
    presence: PresenceService
    media: MediaService
    message_actions: MessageActionService
    search: SearchService


def build_blob_storage(settings: Settings) -> BlobStorage:
    """S3 when a bucket is named, else files under the data directory."""
    if settings.s3_bucket:
        from backend.adapters.s3.blobs import S3BlobStorage  # boto3 loads only when used

        s3 = S3BlobStorage(settings.s3_bucket, settings.s3_endpoint_url, settings.s3_region)
        s3.check()
        return s3
    from backend.adapters.files.blobs import LocalBlobStorage

    return LocalBlobStorage(settings.media_dir)


def build_services(settings: Settings, clock: Clock = utc_now) -> Services:
    """Wire adapters chosen by ``settings`` into the services, migrating the schema first."""
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    url = settings.resolved_database_url
    upgrade_schema(url)
    engine = create_sql_engine(url)
    users, sessions = SqlUserStore(engine), SqlSessionStore(engine)
    chat_store = SqlChatStore(engine)
    chat_list = _chat_list(settings, chat_store)
    messages, actions, search_index = _message_stores(settings, engine, chat_list, clock)
    bus, limiter = _bus(settings), _rate_limiter(settings, clock)
    unread = _unread_counter(settings, messages)
    chats = ChatService(chat_store, chat_list, messages, users, bus, clock, unread)
    receipts = ReceiptService(chats, chat_store, chat_list, bus, clock, unread)
    blobs = build_blob_storage(settings)
    media = MediaService(
        settings, chats, SqlMediaStore(engine), blobs, clock, messages=messages, actions=actions
    )
    messaging = MessagingService(
        settings, chats, chat_list, messages, receipts, limiter, bus, clock, unread, media
    )
    return Services(
        settings=settings,
        bus=bus,
        accounts=AccountService(settings, users, sessions, limiter, bus, clock),
        chats=chats,
        messaging=messaging,
        receipts=receipts,
        typing=TypingService(chats, _typing_store(settings), bus, clock),
        groups=GroupService(chats, chat_store, users, messaging, bus, clock),
        presence=PresenceService(
            settings, _presence_store(settings), chat_store, users, bus, clock
        ),
        media=media,
        message_actions=MessageActionService(
            settings, chats, messaging, messages, actions, bus, clock, media
        ),
        search=SearchService(chats, search_index),
    )


# The scale-out adapters are imported only when configured: their drivers load slowly.


def build_search_index(
    engine: sa.Engine, candidates: int, source: MessageSource | None = None
) -> SqliteSearchIndex | PostgresSearchIndex:
    """The search index in the SQL database: FTS5 on SQLite, full-text search on PostgreSQL.

    Without ``source`` the messages are in the same database and the index is written in their
    transactions; with one, the index follows another store and ``source`` vets its hits.
    """
    if engine.dialect.name == "postgresql":
        return PostgresSearchIndex(engine, candidates, source)
    return SqliteSearchIndex(engine, candidates, source)


def _message_stores(
    settings: Settings, engine: sa.Engine, chat_list: ChatListStore, clock: Clock
) -> tuple[MessageStore, MessageActionStore, SearchIndex]:
    """Messages, their actions and search, always on the same engine. In SQL, one
    transaction writes a message (or an action) and its index row. In Cassandra (no
    transactions with SQL), wrappers change the SQL index right after each write
    (``adapters/indexing.py``: what that weakens, and how it heals), and an edit or a delete
    refreshes ``chat_list``'s preview after its own write."""
    if not settings.cassandra_hosts:
        index = build_search_index(engine, settings.search_candidates)
        return SqlMessageStore(engine, index), SqlMessageActionStore(engine, index), index
    from backend.adapters.cassandra.message_actions import CassandraMessageActionStore
    from backend.adapters.cassandra.messages import CassandraMessageStore
    from backend.adapters.indexing import IndexingMessageActionStore, IndexingMessageStore
    from backend.adapters.sql.search_backlog import SqlSearchBacklog

    session = _cassandra_session(settings)
    stored = CassandraMessageStore(session)
    stored_actions = CassandraMessageActionStore(session, chat_list)
    index = build_search_index(
        engine, settings.search_candidates, StoreMessageSource(stored, stored_actions)
    )
    actions = IndexingMessageActionStore(
        stored_actions, stored, index, SqlSearchBacklog(engine), clock
    )
    actions.recover()  # what a crash between a write and its index change left behind
    return IndexingMessageStore(stored, index), actions, index


def _chat_list(settings: Settings, chat_store: SqlChatStore) -> ChatListStore:
    """With Cassandra, each user's list is a partition there (one row per chat, written per
    member); in SQL, the chat's own row (written once per message)."""
    if not settings.cassandra_hosts:
        return chat_store
    from backend.adapters.cassandra.chat_list import CassandraChatList

    memberships: ChatStore = chat_store
    return CassandraChatList(_cassandra_session(settings), memberships)


def _cassandra_session(settings: Settings) -> CassandraSession:
    from backend.adapters.cassandra.schema import connect

    # One per process and keyspace (``connect`` keeps it): both stores share it.
    return connect(
        settings.cassandra_hosts, settings.cassandra_keyspace, settings.cassandra_replication_factor
    )


def _bus(settings: Settings) -> Bus:
    if not settings.redis_url:
        return InProcessBus()
    from backend.adapters.redis.bus import RedisBus

    return RedisBus(settings.redis_url)


def _rate_limiter(settings: Settings, clock: Clock) -> RateLimiter:
    if not settings.redis_url:
        return InMemoryRateLimiter(clock)
    from backend.adapters.redis.rate_limit import RedisRateLimiter

    return RedisRateLimiter(settings.redis_url, clock)


def _presence_store(settings: Settings) -> PresenceStore:
    if not settings.redis_url:
        return InMemoryPresence()
    from backend.adapters.redis.presence import RedisPresence

    return RedisPresence(settings.redis_url)


def _typing_store(settings: Settings) -> TypingStore:
    if not settings.redis_url:
        return InMemoryTyping()
    from backend.adapters.redis.typing import RedisTyping

    return RedisTyping(settings.redis_url)


def _unread_counter(settings: Settings, messages: MessageStore) -> UnreadCounter:
    """Counted by the message store on each read, or kept as Redis counters beside it."""
    if not settings.redis_url:
        return StoreCountedUnread(messages)
    from backend.adapters.redis.unread import RedisUnreadCounter

    return RedisUnreadCounter(settings.redis_url, messages)
