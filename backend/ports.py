"""The interfaces services depend on; adapters (embedded or scale-out) implement them."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Collection, Iterable, Iterator, Sequence
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Protocol

from backend.events import Event
from backend.models import (
    Chat,
    ChatActivity,
    Media,
    MediaSend,
    Member,
    Message,
    ReadableRange,
    ReceiptMove,
    Receipts,
    ReceiptsMoved,
    Role,
    SearchPage,
    SearchQuery,
    Session,
    UnreadSpan,
    User,
)

Clock = Callable[[], datetime]
"""Returns the current time as a timezone-aware UTC datetime."""


class UserStore(Protocol):
    def add_user(self, user: User, password_hash: str) -> None:
        """Store a new user; raise ``Conflict`` if the username is taken."""

    def get_users(self, user_ids: Iterable[str]) -> dict[str, User]:
        """The users that exist among ``user_ids``, by id."""

    def find_credentials(self, username: str) -> tuple[User, str] | None:
        """The user with this (normalised) username and their password hash."""

    def set_password_hash(self, user_id: str, password_hash: str) -> None: ...

    def set_display_name(self, user_id: str, display_name: str) -> None: ...

    def set_last_seen(self, user_id: str, at: datetime) -> None: ...

    def set_hide_last_seen(self, user_id: str, hide: bool) -> None: ...

    def search_users(self, query: str, limit: int) -> list[User]:
        """Users whose username starts with, or display name contains, ``query``."""


class SessionStore(Protocol):
    def add_session(
        self, token_hash: str, user_id: str, created_at: datetime, expires_at: datetime
    ) -> None: ...

    def get_session(self, token_hash: str) -> Session | None: ...

    def revoke_session(self, token_hash: str, at: datetime) -> None: ...


class ChatStore(Protocol):
    def add_direct_chat(self, chat: Chat, direct_key: str, members: list[Member]) -> Chat:
        """Store a 1:1 chat, or return the one that already exists for ``direct_key``."""

    def get_chat_with_members(self, chat_id: str) -> tuple[Chat, list[Member]] | None:
        """The chat and all its members in one round trip (None if there is no such chat)."""

    def list_members_of(self, chat_ids: list[str]) -> dict[str, list[Member]]:
        """The members of each of ``chat_ids`` (one round trip for a whole chat list)."""

    def list_for_member(self, chat_id: str, user_id: str) -> bool:
        """Put the chat in the member's list; whether it was not there before."""

    def list_user_chats(self, user_id: str) -> list[tuple[Chat, Member]]:
        """The user's chats (current and former) with their membership.

        Which message each chat last had is the ``ChatListStore``'s to say: the chats carry it
        here only where this store keeps the chat list as well (SQL). Read the list as the
        user sees it through ``ChatListStore.list_user_chats``.
        """

    def get_chat_and_member(self, chat_id: str, user_id: str) -> tuple[Chat, Member] | None:
        """The chat and one user's membership row (current or former), in one round trip."""

    def current_member_ids(self, chat_id: str) -> list[str]:
        """The ids of the chat's current members (for fan-out: no objects per member)."""

    def advance_receipts(
        self, chat_id: str, user_id: str, delivered_upto: str, read_upto: str, at: datetime
    ) -> tuple[Member, Receipts, Receipts] | None:
        """Raise a member's watermarks to at least the given ids ("" leaves one as it is),
        noting when (for ``receipt_times``).

        Returns, if anything moved, the updated member and the chat's aggregate receipts over
        its current members just before and just after the move (same transaction); else None.
        """

    def receipt_times(
        self, chat_id: str, message_id: str
    ) -> dict[str, tuple[datetime | None, datetime | None]]:
        """By user: when their watermarks first reached ``message_id`` (delivered, read)."""

    # --- batches: one round trip / one write for what many sends or receipts need ---------

    def get_chats_and_members(
        self, pairs: Collection[tuple[str, str]]
    ) -> dict[tuple[str, str], tuple[Chat, Member]]:
        """``get_chat_and_member`` for many (chat id, user id) pairs in one round trip, keyed by
        pair; pairs with no such chat or membership are left out."""

    def current_member_ids_of(self, chat_ids: Collection[str]) -> dict[str, list[str]]:
        """``current_member_ids`` of several chats in one round trip (chats with none left out)."""

    def advance_receipts_many(
        self, moves: Sequence[ReceiptMove], at: datetime
    ) -> list[ReceiptsMoved]:
        """``advance_receipts`` for each move, in one write.

        Returns, for each chat in which some watermark moved, the chat's aggregate receipts
        just before and just after the batch's moves in it, the members who moved (as they are
        now) and the chat's current member ids.
        """

    def add_group_chat(self, chat: Chat, members: list[Member]) -> None: ...

    def add_members(
        self, chat_id: str, members: list[Member], max_members: int
    ) -> list[str] | None:
        """Add members, or bring former members back, exactly as given - unless the chat would
        then have more than ``max_members`` current members.

        The count and the insert are one serialised transaction per chat, so concurrent adds
        from any number of processes cannot pass the limit together.

        Returns the ids added (people already current members are skipped), or None if the
        limit refused them all (nothing written).
        """

    def start_history_at(self, chat_id: str, user_ids: list[str], line_id: str) -> None:
        """The line that added these current members: their history starts there, and their
        watermarks are raised to it (never lowered)."""

    def end_membership(self, chat_id: str, user_id: str, at: datetime, visible_upto: str) -> bool:
        """Mark a current member as gone; whether they were a current member."""

    def set_role(self, chat_id: str, user_id: str, role: Role) -> None: ...

    def set_title(self, chat_id: str, title: str) -> None: ...


class ChatListStore(Protocol):
    """Each user's chat list: the last message of every chat, as that user's list shows it.

    The SQL store keeps it on each chat's row (one write per message, read with the
    memberships in one join); the Cassandra store keeps a row per user and chat
    (``chats_by_user``: one write per member per message, one partition read per list).
    Chats and memberships themselves stay in the ``ChatStore``.
    """

    def record_activity(
        self,
        chat_id: str,
        message_id: str,
        at: datetime,
        preview: str,
        sender_id: str,
        member_ids: list[str],
    ) -> None:
        """Move the chat's "last message" forward to ``message_id`` in the lists of
        ``member_ids`` (the members it was sent to; ``sender_id`` "" for a system line).

        Never backward: sends that finish out of order (two processes, a retry of an old
        send) leave the newest id in place, with its own time, preview and sender.
        """

    def record_activities(self, activities: Sequence[ChatActivity]) -> None:
        """``record_activity`` for each, in as few writes as the engine allows (a batch of
        sends: one statement in SQL)."""

    def list_user_chats(self, user_id: str) -> list[tuple[Chat, Member]]:
        """The user's chats (current and former) with their membership, each carrying its
        last message; most recent activity first (a chat nobody wrote in yet by when it was
        created), ties by chat id."""

    def with_activity(self, user_id: str, chat: Chat) -> Chat:
        """``chat`` as the ``ChatStore`` gave it, with its last message as ``user_id``'s list
        shows it (one read at most: the receipts' door uses it)."""

    def refresh_preview(self, chat_id: str, message_id: str, preview: str) -> None:
        """Show ``preview`` for ``message_id`` in every list where it is still the chat's last
        message (after an edit, or "" after a delete for everyone); a newer message keeps its
        own. Message stores that keep the chats beside the messages (SQL) do this inside their
        own write instead."""


class MessageStore(Protocol):
    def add_message(self, draft: Message, new_id: Callable[[], str]) -> tuple[Message, bool]:
        """Store ``draft`` under an id from ``new_id``, unless its sender already sent one
        with its temp id to its chat.

        The id is made inside the store's write, serialised per chat, so ids commit in the order
        they were made: a reader who has seen message N has seen every message below N.

        Returns the stored message and whether it is new.
        """

    def add_messages(
        self, drafts: Sequence[Message], new_id: Callable[[], str]
    ) -> list[tuple[Message, bool]]:
        """``add_message`` for each draft, in order, in as few writes as the engine allows (one
        transaction on SQL), with the same guarantees: ids made inside the serialised write and
        committed in order, one stored message per (chat, sender, temp id) - a repeat inside
        the batch gets the message its first occurrence stored, and False.

        Raises ``ChatError`` before storing anything if one of the drafts cannot be stored
        here at all (e.g. a reply where replies are not available); the caller can then store
        them one by one to learn which.
        """

    def find_sent(self, chat_id: str, sender_id: str, temp_id: str) -> Message | None:
        """The message this sender already stored in this chat under ``temp_id``, if any."""

    def get_message(self, message_id: str) -> Message | None:
        """The message with this id, with its reactions (None if there is none)."""

    def list_before(
        self,
        chat_id: str,
        before: str,
        limit: int,
        viewer_id: str = "",
        lowest: str = "",
        highest: str = "",
    ) -> list[Message]:
        """Up to ``limit`` messages older than ``before`` ("" = newest), newest first,
        without those ``viewer_id`` deleted for themselves.

        Only ids in [``lowest``, ``highest``] ("" = unbounded): a member's visible range.
        """

    def list_after(
        self,
        chat_id: str,
        after: str,
        limit: int,
        viewer_id: str = "",
        lowest: str = "",
        highest: str = "",
    ) -> list[Message]:
        """Up to ``limit`` messages newer than ``after``, oldest first (less ``viewer_id``'s
        deleted-for-me ones; bounds as above)."""

    def count_unread(
        self,
        user_id: str,
        after_by_chat: dict[str, str],
        upto_by_chat: dict[str, str] | None = None,
    ) -> dict[str, int]:
        """For each chat, how many messages newer than the given id (and not newer than
        ``upto_by_chat``'s, where given) others sent."""


class MessageActionStore(Protocol):
    """Changes to stored messages. Each keeps the search index in step (in the same write in
    SQL; right after it for Cassandra, see ``adapters/indexing.py``)."""

    def edit_message(
        self, message_id: str, content: dict[str, Any], at: datetime
    ) -> tuple[Message, list[Message]] | None:
        """Replace the content of a message that is not deleted and mark it edited.

        Returns the message and the replies whose quote of it was refreshed; None if it was
        deleted meanwhile.
        """

    def delete_message(self, message_id: str, at: datetime) -> tuple[Message, list[Message]] | None:
        """Turn a message into a tombstone for everyone: content, reactions and stars go, and
        so does its text from the search index; quotes of it say it was deleted.

        Returns the tombstone and the replies whose quotes changed; None if it already was one.
        """

    def set_reaction(
        self, message_id: str, chat_id: str, user_id: str, emoji: str, at: datetime
    ) -> bool:
        """Set (or with "" remove) the user's one reaction; whether anything changed."""

    def set_star(self, user_id: str, message: Message, starred: bool, at: datetime) -> bool:
        """Star or unstar for one user; whether anything changed."""

    def list_starred(self, user_id: str, before: str, limit: int) -> list[Message]:
        """The user's starred messages older than ``before`` ("" = newest), newest first."""

    def starred_among(self, user_id: str, message_ids: list[str]) -> set[str]:
        """Which of ``message_ids`` the user has starred."""

    def hide_message(self, user_id: str, message: Message, at: datetime) -> bool:
        """Delete for this user only; whether it was visible to them before."""

    def is_hidden(self, user_id: str, message_id: str) -> bool: ...


class SearchIndex(Protocol):
    """Full-text search over message bodies: SQLite FTS5 or PostgreSQL full-text search, in
    the SQL database whatever stores the messages.

    The index follows the message store's writes, so this port only reads: inside the same
    transaction when messages are in SQL (findable once stored, words gone with a delete for
    everyone), right after them when messages are in Cassandra (``adapters/indexing.py``:
    there each hit is read back from the store, so stale words are never shown). Words are
    folded by ``backend.search_text`` before they reach any engine.
    """

    def search(self, viewer_id: str, query: SearchQuery, ranges: list[ReadableRange]) -> SearchPage:
        """Messages matching every term of ``query`` (each also as a word prefix) and its
        filters, newest first, only from ``ranges`` and never ones the viewer deleted for
        themselves. An empty ``ranges`` finds nothing."""


class SubscriptionLagged(Exception):
    """The subscriber fell so far behind that events were dropped: read state afresh from
    storage (the web tab reloads; an API socket is closed so its client resyncs)."""


class Subscription(Protocol):
    def __aiter__(self) -> AsyncIterator[Event]: ...

    async def get(self, timeout: float | None) -> Event | None:
        """The next event, or None if none came within ``timeout`` seconds (None: wait).

        Raises:
            SubscriptionLagged: once, after events were dropped; later calls go on normally.
        """

    async def close(self) -> None: ...


class Bus(Protocol):
    def publish(self, user_ids: Iterable[str], event: Event) -> None:
        """Deliver ``event`` to every subscription of each user (at least once, not stored).

        Users are served in the order given, so a caller can put the most waited-for first.
        """

    def subscribe(self, user_id: str) -> Subscription:
        """Start receiving the events for ``user_id``; close the subscription when done."""


class PresenceStore(Protocol):
    """Live connections per user, each kept alive by heartbeats and lapsing after its TTL."""

    def heartbeat(self, user_id: str, connection_id: str, now: datetime, ttl: timedelta) -> bool:
        """Keep a connection alive until ``now + ttl``; whether the user just came online."""

    def disconnect(self, user_id: str, connection_id: str) -> bool:
        """Forget a connection; whether that left the user with none (offline)."""

    def expire(self, now: datetime) -> dict[str, datetime]:
        """Drop lapsed connections; the users left with none, with their last heartbeat."""

    def online(self, user_ids: list[str]) -> set[str]:
        """Those of ``user_ids`` with a live connection."""


class TypingStore(Protocol):
    """Who is typing in which chat right now; an entry nobody renews lapses after its TTL.

    The live relay rides the bus; this lets a tab that opens a chat (on any process) see the
    typists of that moment. Written at most every couple of seconds per typist.
    """

    def start(self, chat_id: str, user_id: str, now: datetime, ttl: timedelta) -> None:
        """``user_id`` is typing in ``chat_id`` until ``now + ttl`` unless renewed."""

    def stop(self, chat_id: str, user_id: str) -> None:
        """``user_id`` stopped typing (sent, cleared the composer)."""

    def typing_in(self, chat_id: str, now: datetime) -> dict[str, datetime]:
        """The users typing in ``chat_id`` at ``now``, with when each indicator lapses."""


class UnreadCounter(Protocol):
    """Unread counts per member per chat. The message store is the truth; an adapter may keep
    counters beside it (Redis, seed section 7), but must answer what the store would.
    """

    def unread_counts(self, user_id: str, spans: list[UnreadSpan]) -> dict[str, int]:
        """For each span, how many messages others wrote in it (the user's own never count;
        system lines count for everyone but the member whose action they record)."""

    def message_stored(self, message: Message, recipient_ids: list[str]) -> None:
        """A *new* message was stored (call once per message, after the store commits and
        before it is announced): it counts for ``recipient_ids`` other than its sender."""

    def read_moved(self, user_id: str, chat_id: str) -> None:
        """The user's read watermark in the chat moved (to any message, not only the newest)."""


class RateLimiter(Protocol):
    def retry_after(self, key: str, limit: int, window: timedelta) -> int:
        """Seconds until ``key`` may act again (0 if under ``limit`` hits in ``window``)."""

    def hit(self, key: str, window: timedelta) -> None:
        """Count one hit for ``key``."""


class MediaStore(Protocol):
    """The records of uploaded files (the bytes live in ``BlobStorage``) and of the messages
    that carry them. A record marked deleted (no live message carries it) is invisible to
    every read but ``list_deleted``, and costs its owner nothing."""

    def add_media(self, media: Media, quota_bytes: int) -> bool:
        """Store the record unless the owner's uploads would then take more than
        ``quota_bytes`` (checked and written in one statement, so parallel uploads cannot
        both slip under the quota); whether it was stored."""

    def get_media(self, media_id: str) -> Media | None:
        """The record, unless there is none or it was marked deleted."""

    def used_bytes(self, owner_id: str) -> int:
        """How many bytes the owner's uploads take in storage, variants included."""

    def record_send(self, media_id: str, chat_id: str, message_id: str, at: datetime) -> bool:
        """Record that ``message_id`` of ``chat_id`` carries the media (the first such message
        also marks the record sent); recording a message again changes nothing. Whether the
        media is there to carry: False if it was deleted meanwhile (the check and the write
        are atomic against ``forget_message``)."""

    def list_sends(
        self, media_id: str, chat_ids: Iterable[str] | None = None, limit: int = 0
    ) -> list[MediaSend]:
        """The messages that carry the media (only in ``chat_ids`` if given; at most
        ``limit``, 0 = all)."""

    def list_sent(
        self,
        chat_id: str,
        kinds: Iterable[str],
        before_message_id: str,
        limit: int,
        after_message_id: str = "",
        upto_message_id: str = "",
    ) -> list[Media]:
        """Media carried by messages of the chat, of these kinds, newest message first (a
        file once per message, with that message's id and time), older than
        ``before_message_id`` ("" = from the newest), within (``after_message_id``,
        ``upto_message_id``] ("" = unbounded): a member's readable range."""

    def forget_message(self, message_id: str, at: datetime) -> list[Media]:
        """The message no longer carries its media (deleted for everyone). Media that no
        other message carries now are marked deleted in the same transaction (their quota
        cost goes with it) and returned, for their blobs to be deleted after the commit."""

    def list_deleted(self, limit: int) -> list[Media]:
        """Up to ``limit`` records marked deleted whose removal did not finish."""

    def purge_deleted(self, media_id: str) -> bool:
        """Remove a record marked deleted (its blobs are gone); whether there was one."""

    def find_unsent(self, owner_id: str, temp_id: str) -> list[Media]:
        """The owner's uploads made for the client message ``temp_id`` and not sent."""

    def list_unsent(self, created_before: datetime, limit: int) -> list[Media]:
        """Up to ``limit`` uploads never sent in a message, made before ``created_before``,
        oldest first."""

    def delete_unsent(self, media_id: str) -> bool:
        """Delete the record if it was never sent (checked in the same statement, so a send
        that got there first keeps it); whether it was deleted. Its quota cost goes with it."""


class BlobMissing(Exception):
    """No blob is stored under the key."""


class BlobStorage(Protocol):
    """Where media bytes live: files under the data directory, or an S3 bucket.

    Keys are made by the server (``<media id>/<variant>``), never taken from a client. Every
    method moves bytes in bounded chunks: a 100 MiB file never sits in memory whole.
    """

    def put_file(self, key: str, path: Path, content_type: str) -> None:
        """Store the file at ``path`` (streamed from disk) under ``key``."""

    def put_bytes(self, key: str, data: bytes, content_type: str) -> None:
        """Store a small blob (a thumbnail, a poster) under ``key``."""

    def read_chunks(self, key: str) -> Iterator[bytes]:
        """The blob's bytes in chunks. Raises ``BlobMissing`` (before the first chunk)."""

    def size_of(self, key: str) -> int:
        """The blob's size in bytes. Raises ``BlobMissing``."""

    def delete(self, key: str) -> None:
        """Remove the blob if it exists."""

    def local_path(self, key: str) -> Path | None:
        """The file on this machine that holds the blob, if the storage keeps one (the app then
        answers range requests, so a video can seek); None otherwise or if it is missing."""

    def signed_url(
        self, key: str, content_type: str, disposition: str, expires: timedelta
    ) -> str | None:
        """A short-lived URL that serves the blob with these headers, or None when the
        storage has no URLs of its own (then the app streams the bytes itself)."""
