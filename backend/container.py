"""The one place that builds every service from one Settings object."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime

from backend.adapters.memory.bus import InProcessBus
from backend.adapters.memory.rate_limit import InMemoryRateLimiter
from backend.adapters.sql.accounts import SqlSessionStore, SqlUserStore
from backend.adapters.sql.chats import SqlChatStore
from backend.adapters.sql.engine import create_sql_engine, upgrade_schema
from backend.adapters.sql.message_actions import SqlMessageActionStore
from backend.adapters.sql.messages import SqlMessageStore
from backend.adapters.sql.search import SqliteSearchIndex, UnavailableSearchIndex
from backend.ports import Bus, Clock
from backend.services.accounts import AccountService
from backend.services.chats import ChatService
from backend.services.message_actions import MessageActionService
from backend.services.messaging import MessagingService
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
    message_actions: MessageActionService
    search: SearchService


def build_services(settings: Settings, clock: Clock = utc_now) -> Services:
    """Wire adapters chosen by ``settings`` into the services, migrating the schema first."""
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    url = settings.resolved_database_url
    upgrade_schema(url)
    engine = create_sql_engine(url)
    users, sessions = SqlUserStore(engine), SqlSessionStore(engine)
    # The search index is written inside the message stores' transactions (SQLite FTS5; the
    # PostgreSQL adapter of issue #5 brings its own full-text index).
    search_index = SqliteSearchIndex(engine) if engine.dialect.name == "sqlite" else None
    chat_store, messages = SqlChatStore(engine), SqlMessageStore(engine, search_index)
    bus = InProcessBus()
    chats = ChatService(chat_store, messages, users, bus, clock)
    receipts = ReceiptService(chats, chat_store, bus)
    limiter = InMemoryRateLimiter(clock)
    messaging = MessagingService(
        settings, chats, chat_store, messages, receipts, limiter, bus, clock
    )
    actions = SqlMessageActionStore(engine, search_index)
    return Services(
        settings=settings,
        bus=bus,
        accounts=AccountService(settings, users, sessions, limiter, bus, clock),
        chats=chats,
        messaging=messaging,
        receipts=receipts,
        typing=TypingService(chats, bus),
        message_actions=MessageActionService(
            settings, chats, messaging, messages, actions, bus, clock
        ),
        search=SearchService(chats, search_index or UnavailableSearchIndex()),
    )
