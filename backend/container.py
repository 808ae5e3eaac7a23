"""The one place that builds every service from one Settings object."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime

import sqlalchemy as sa

from backend.adapters.memory.bus import InProcessBus
from backend.adapters.memory.rate_limit import InMemoryRateLimiter
from backend.adapters.sql.accounts import SqlSessionStore, SqlUserStore
from backend.adapters.sql.chats import SqlChatStore
from backend.adapters.sql.engine import create_sql_engine, upgrade_schema
from backend.adapters.sql.messages import SqlMessageStore
from backend.ports import Bus, Clock, MessageStore, RateLimiter
from backend.services.accounts import AccountService
from backend.services.chats import ChatService
from backend.services.messaging import MessagingService
from backend.services.receipts import ReceiptService
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


def build_services(settings: Settings, clock: Clock = utc_now) -> Services:
    """Wire adapters chosen by ``settings`` into the services, migrating the schema first."""
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    url = settings.resolved_database_url
    upgrade_schema(url)
    engine = create_sql_engine(url)
    users, sessions = SqlUserStore(engine), SqlSessionStore(engine)
    chat_store = SqlChatStore(engine)
    messages = _message_store(settings, engine)
    bus, limiter = _bus(settings), _rate_limiter(settings, clock)
    chats = ChatService(chat_store, messages, users, bus, clock)
    receipts = ReceiptService(chats, chat_store, bus)
    return Services(
        settings=settings,
        bus=bus,
        accounts=AccountService(settings, users, sessions, limiter, bus, clock),
        chats=chats,
        messaging=MessagingService(
            settings, chats, chat_store, messages, receipts, limiter, bus, clock
        ),
        receipts=receipts,
        typing=TypingService(chats, bus),
    )


# The scale-out adapters are imported only when configured: their drivers load slowly.


def _message_store(settings: Settings, engine: sa.Engine) -> MessageStore:
    if not settings.cassandra_hosts:
        return SqlMessageStore(engine)
    from backend.adapters.cassandra.messages import CassandraMessageStore
    from backend.adapters.cassandra.schema import connect

    session = connect(
        settings.cassandra_hosts, settings.cassandra_keyspace, settings.cassandra_replication_factor
    )
    return CassandraMessageStore(session)


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
