"""The SQL schema as SQLModel tables. Change it only together with an Alembic revision."""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa
from sqlmodel import Field, SQLModel


class UTCDateTime(sa.types.TypeDecorator[datetime]):
    """Stores aware UTC datetimes; SQLite would otherwise hand back naive ones."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: sa.Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the database")
        return value.astimezone(UTC).replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: sa.Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _utc_column(**kwargs: object) -> sa.Column[datetime]:
    return sa.Column(UTCDateTime(), **kwargs)  # type: ignore[arg-type]


class UserRow(SQLModel, table=True):
    __tablename__ = "users"

    id: str = Field(primary_key=True, max_length=36)
    username: str = Field(unique=True, max_length=32)
    display_name: str = Field(max_length=64)
    # Lower-cased copy, so search is case-insensitive with a plain index on every engine.
    display_name_key: str = Field(index=True, max_length=192)  # casefold can triple a name
    password_hash: str
    created_at: datetime = Field(sa_column=_utc_column(nullable=False))
    # Presence: when the user was last connected, and whether they share it (WhatsApp's
    # "last seen" privacy setting; hiding yours hides everyone else's from you too).
    last_seen_at: datetime | None = Field(default=None, sa_column=_utc_column(nullable=True))
    hide_last_seen: bool = Field(default=False)


class SessionRow(SQLModel, table=True):
    __tablename__ = "sessions"

    # Only a hash of the token is stored: a leaked database does not leak live sessions.
    token_hash: str = Field(primary_key=True, max_length=64)
    user_id: str = Field(foreign_key="users.id", index=True, max_length=36)
    created_at: datetime = Field(sa_column=_utc_column(nullable=False))
    expires_at: datetime = Field(sa_column=_utc_column(nullable=False))
    revoked_at: datetime | None = Field(default=None, sa_column=_utc_column(nullable=True))


class ChatRow(SQLModel, table=True):
    __tablename__ = "chats"

    id: str = Field(primary_key=True, max_length=36)
    kind: str = Field(max_length=8)
    title: str = Field(default="", max_length=100)
    # "<smaller user id>:<larger user id>" for 1:1 chats: the unique index makes opening the same
    # person twice (even from two tabs at once) land in one chat.
    direct_key: str | None = Field(default=None, unique=True, max_length=80)
    created_by: str = Field(max_length=36)
    created_at: datetime = Field(sa_column=_utc_column(nullable=False))
    last_message_id: str = Field(default="", max_length=36)
    last_activity_at: datetime | None = Field(
        default=None, sa_column=_utc_column(nullable=True, index=True)
    )
    last_preview: str = Field(default="", max_length=200)
    last_sender_id: str = Field(default="", max_length=36)


class ChatMemberRow(SQLModel, table=True):
    __tablename__ = "chat_members"

    chat_id: str = Field(foreign_key="chats.id", primary_key=True, max_length=36)
    user_id: str = Field(foreign_key="users.id", primary_key=True, index=True, max_length=36)
    role: str = Field(max_length=8)
    joined_at: datetime = Field(sa_column=_utc_column(nullable=False))
    delivered_upto: str = Field(default="", max_length=36)
    read_upto: str = Field(default="", max_length=36)
    is_listed: bool = Field(default=True)
    visible_from: str = Field(default="", max_length=36)
    visible_upto: str = Field(default="", max_length=36)
    left_at: datetime | None = Field(default=None, sa_column=_utc_column(nullable=True))


class ReceiptMarkRow(SQLModel, table=True):
    """When each watermark move happened, for "message info": the first mark at or past a
    message says when that member received (kind "d") or read (kind "r") it."""

    __tablename__ = "receipt_marks"

    chat_id: str = Field(primary_key=True, max_length=36)
    user_id: str = Field(primary_key=True, max_length=36)
    kind: str = Field(primary_key=True, max_length=1)
    upto: str = Field(primary_key=True, max_length=36)
    at: datetime = Field(sa_column=_utc_column(nullable=False))


class MessageRow(SQLModel, table=True):
    __tablename__ = "messages"
    __table_args__ = (
        sa.Index("ix_messages_chat_id_id", "chat_id", "id"),
        # Idempotent sends: one stored message per (chat, sender, client temp id). NULLs don't
        # collide, so messages sent without a temp id are never merged.
        sa.UniqueConstraint("chat_id", "sender_id", "temp_id", name="uq_messages_chat_sender_temp"),
    )

    id: str = Field(primary_key=True, max_length=36)
    chat_id: str = Field(foreign_key="chats.id", max_length=36)
    sender_id: str = Field(foreign_key="users.id", max_length=36)
    temp_id: str | None = Field(default=None, max_length=64)
    content: str
    created_at: datetime = Field(sa_column=_utc_column(nullable=False))
    # Message actions (issue #7). The quote is a JSON copy of what the reply shows of
    # ``reply_to`` (sender, preview), refreshed when the original is edited or deleted.
    reply_to: str | None = Field(default=None, max_length=36, index=True)
    quote: str | None = None
    forwarded: bool = Field(default=False, sa_column_kwargs={"server_default": sa.false()})
    edited_at: datetime | None = Field(default=None, sa_column=_utc_column(nullable=True))
    deleted_at: datetime | None = Field(default=None, sa_column=_utc_column(nullable=True))


class MessageReactionRow(SQLModel, table=True):
    """One reaction per user per message (the primary key says so)."""

    __tablename__ = "message_reactions"

    message_id: str = Field(foreign_key="messages.id", primary_key=True, max_length=36)
    user_id: str = Field(foreign_key="users.id", primary_key=True, max_length=36)
    chat_id: str = Field(max_length=36)
    emoji: str = Field(max_length=32)
    reacted_at: datetime = Field(sa_column=_utc_column(nullable=False))


class StarredMessageRow(SQLModel, table=True):
    """A user's starred messages; listed newest message first, so keyed (user, message)."""

    __tablename__ = "starred_messages"

    user_id: str = Field(foreign_key="users.id", primary_key=True, max_length=36)
    message_id: str = Field(foreign_key="messages.id", primary_key=True, max_length=36)
    chat_id: str = Field(max_length=36)
    starred_at: datetime = Field(sa_column=_utc_column(nullable=False))


class HiddenMessageRow(SQLModel, table=True):
    """Messages a user deleted for themselves only."""

    __tablename__ = "hidden_messages"

    user_id: str = Field(foreign_key="users.id", primary_key=True, max_length=36)
    message_id: str = Field(foreign_key="messages.id", primary_key=True, max_length=36)
    chat_id: str = Field(max_length=36)
    hidden_at: datetime = Field(sa_column=_utc_column(nullable=False))


class MediaRow(SQLModel, table=True):
    __tablename__ = "media"

    id: str = Field(primary_key=True, max_length=36)
    chat_id: str = Field(foreign_key="chats.id", index=True, max_length=36)
    owner_id: str = Field(foreign_key="users.id", index=True, max_length=36)
    kind: str = Field(max_length=10)
    mime: str = Field(max_length=100)
    name: str = Field(max_length=255)
    size: int = Field(sa_column=sa.Column(sa.BigInteger(), nullable=False))
    # Every variant's bytes: what the upload costs its owner's quota.
    stored_bytes: int = Field(sa_column=sa.Column(sa.BigInteger(), nullable=False))
    variants: str = Field(max_length=200)  # comma-separated variant names
    # The first message that sent it (NULL: never sent, which the unsent sweeper looks for);
    # every message carrying it, forwards included, is in ``media_sends``.
    message_id: str | None = Field(default=None, index=True, max_length=36)
    # The client's id of the message it is meant for: lets the uploader drop an upload whose
    # answer never reached them (cancelled in flight); found through the owner's index.
    temp_id: str | None = Field(default=None, max_length=64)
    meta: str  # JSON: dimensions, duration, waveform, placeholder
    created_at: datetime = Field(sa_column=_utc_column(nullable=False))
    # Set when no live message carries the file any more (its last one was deleted for
    # everyone): it stops counting against the quota and can't be fetched; its blobs are
    # deleted after that commit, then the row (the sweeper finishes what a crash interrupts).
    deleted_at: datetime | None = Field(
        default=None, sa_column=_utc_column(nullable=True, index=True)
    )


class SearchBacklogRow(SQLModel, table=True):
    """Edits and deletes of messages kept outside SQL (Cassandra) whose search index change
    may not have followed yet: noted before the store's write, cleared after the index's. A
    row left behind by a crash is replayed from the store (``backend.adapters.indexing``)."""

    __tablename__ = "search_backlog"

    message_id: str = Field(primary_key=True, max_length=36)
    noted_at: datetime = Field(sa_column=_utc_column(nullable=False))


class MediaSendRow(SQLModel, table=True):
    """One message that carries a media file: its first send, and every forwarded copy.

    Whoever may read one of these messages may fetch the file; the chat's gallery lists the
    file once per message. A message carries at most one file, so the message is the key;
    the row goes when its message is deleted for everyone. (No foreign key to ``messages``:
    with Cassandra the messages are not in SQL.)
    """

    __tablename__ = "media_sends"
    __table_args__ = (
        # The fetch check: this file's messages in the caller's chats.
        sa.Index("ix_media_sends_media_chat", "media_id", "chat_id"),
        # The gallery: a chat's files, newest message first.
        sa.Index("ix_media_sends_chat_message", "chat_id", "message_id"),
    )

    message_id: str = Field(primary_key=True, max_length=36)
    media_id: str = Field(foreign_key="media.id", max_length=36)
    chat_id: str = Field(foreign_key="chats.id", max_length=36)
    sent_at: datetime = Field(sa_column=_utc_column(nullable=False))
