"""The one place that builds every service from one Settings object."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime

import sqlalchemy as sa

from backend.adapters.memory.bus import InProcessBus
from backend.adapters.memory.presence import InMemoryPresence
from backend.adapters.memory.rate_limit import InMemoryRateLimiter
from backend.adapters.sql.accounts import SqlSessionStore, SqlUserStore
from backend.adapters.sql.chats import SqlChatStore
from backend.adapters.sql.engine import create_sql_engine, upgrade_schema
from backend.adapters.sql.media import SqlMediaStore
from backend.adapters.sql.message_actions import SqlMessageActionStore
from backend.adapters.sql.messages import SqlMessageStore
from backend.adapters.sql.search import SqliteSearchIndex, UnavailableSearchIndex
from backend.ports import (
    BlobStorage,
    Bus,
    ChatStore,
    Clock,
    MessageActionStore,
    MessageStore,
    RateLimiter,
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
    # The search index is written inside the SQL message store's transactions (SQLite FTS5;
    # PostgreSQL has no index adapter yet). With messages in Cassandra, search says it is not
    # available instead of finding nothing.
    in_sql = not settings.cassandra_hosts
    sqlite = engine.dialect.name == "sqlite"
    search_index = SqliteSearchIndex(engine) if sqlite and in_sql else None
    chat_store = SqlChatStore(engine)
    messages, actions = _message_stores(settings, engine, search_index, chat_store)
    bus, limiter = _bus(settings), _rate_limiter(settings, clock)
    chats = ChatService(chat_store, messages, users, bus, clock)
    receipts = ReceiptService(chats, chat_store, bus, clock)
    blobs = build_blob_storage(settings)
    media = MediaService(settings, chats, SqlMediaStore(engine), blobs, clock)
    messaging = MessagingService(
        settings, chats, chat_store, messages, receipts, limiter, bus, clock, media
    )
    return Services(
        settings=settings,
        bus=bus,
        accounts=AccountService(settings, users, sessions, limiter, bus, clock),
        chats=chats,
        messaging=messaging,
        receipts=receipts,
        typing=TypingService(chats, bus),
        groups=GroupService(chats, chat_store, users, messaging, bus, clock),
        presence=PresenceService(settings, InMemoryPresence(), chat_store, users, bus, clock),
        media=media,
        message_actions=MessageActionService(
            settings, chats, messaging, messages, actions, bus, clock
        ),
        search=SearchService(chats, search_index or UnavailableSearchIndex()),
    )


# The scale-out adapters are imported only when configured: their drivers load slowly.


def _message_stores(
    settings: Settings,
    engine: sa.Engine,
    search_index: SqliteSearchIndex | None,
    chat_store: ChatStore,
) -> tuple[MessageStore, MessageActionStore]:
    """The messages and the actions on them, always on the same engine."""
    if not settings.cassandra_hosts:
        return (
            SqlMessageStore(engine, search_index),
            SqlMessageActionStore(engine, search_index),
        )
    from backend.adapters.cassandra.message_actions import CassandraMessageActionStore
    from backend.adapters.cassandra.messages import CassandraMessageStore
    from backend.adapters.cassandra.schema import connect

    session = connect(
        settings.cassandra_hosts, settings.cassandra_keyspace, settings.cassandra_replication_factor
    )
    # The chat list lives with the chats (SQL): an edit or delete refreshes its preview there.
    return CassandraMessageStore(session), CassandraMessageActionStore(session, chat_store)


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
