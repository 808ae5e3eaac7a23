"""Chats: starting 1:1 chats, the permission-checked door to a chat, and the chat list."""

from __future__ import annotations

import dataclasses
from collections.abc import Collection
from typing import TypeVar

from backend.errors import InvalidInput, NotFound
from backend.events import ChatChanged
from backend.ids import is_uuid, new_id
from backend.models import (
    Chat,
    ChatKind,
    ChatSummary,
    Member,
    ReadableRange,
    Receipts,
    Role,
    UnreadSpan,
    User,
)
from backend.ports import (
    Bus,
    ChatListStore,
    ChatStore,
    Clock,
    MessageStore,
    UnreadCounter,
    UserStore,
)

NOT_IN_CHAT = "This chat doesn't exist or you are not in it."
Pair = tuple[str, str]  # (user id, chat id)
_T = TypeVar("_T")


class ChatService:
    def __init__(
        self,
        chats: ChatStore,
        chat_list: ChatListStore,
        messages: MessageStore,
        users: UserStore,
        bus: Bus,
        clock: Clock,
        unread: UnreadCounter,
    ) -> None:
        self._chats = chats
        self._chat_list = chat_list
        self._messages = messages
        self._users = users
        self._bus = bus
        self._clock = clock
        self._unread = unread

    def access_chat(self, user_id: str, chat_id: str) -> tuple[Chat, Member]:
        """The one door to a chat: the chat and the caller's current membership of it.

        Reads one row whatever the chat's size: every send and receipt comes through here.

        Raises:
            NotFound: the chat does not exist *or* the caller is not a member; the two are
                indistinguishable so that outsiders cannot learn which chat ids exist.
        """
        chat, me = self.access_membership(user_id, chat_id)
        if not me.is_active:
            raise NotFound(NOT_IN_CHAT)
        return chat, me

    def access_membership(self, user_id: str, chat_id: str) -> tuple[Chat, Member]:
        """``access_chat`` that also lets in someone who left or was removed (their row says
        how far they may read)."""
        found = self._chats.get_chat_and_member(chat_id, user_id) if is_uuid(chat_id) else None
        if found is None:
            raise NotFound(NOT_IN_CHAT)
        return found

    def access_memberships(
        self, pairs: Collection[Pair]
    ) -> dict[Pair, tuple[Chat, Member] | NotFound]:
        """``access_membership`` for many (user id, chat id) pairs in one round trip (a batch
        of receipts or sends): for each pair, what it would return or the error it would
        raise."""
        found = self._chats.get_chats_and_members(
            [(chat_id, user_id) for user_id, chat_id in pairs if is_uuid(chat_id)]
        )
        return {
            (user_id, chat_id): found.get((chat_id, user_id)) or NotFound(NOT_IN_CHAT)
            for user_id, chat_id in pairs
        }

    def access_recipients(self, user_id: str, chat_id: str) -> list[str]:
        """The door for fan-out: ``access_chat``'s check, answered with the ids of the chat's
        current members (the caller among them)."""
        return _or_raise(self.access_recipients_many([(user_id, chat_id)])[(user_id, chat_id)])

    def access_recipients_many(self, pairs: Collection[Pair]) -> dict[Pair, list[str] | NotFound]:
        """``access_recipients`` for many (user id, chat id) pairs in one round trip however
        many there are (a batch of sends): for each pair, what it would return or the error it
        would raise. Only current members pass, as through ``access_chat``: the caller must be
        among the chat's current members."""
        current = self._chats.current_member_ids_of(
            {chat_id for _, chat_id in pairs if is_uuid(chat_id)}
        )
        doors: dict[Pair, list[str] | NotFound] = {}
        for user_id, chat_id in pairs:
            member_ids = current.get(chat_id, [])
            doors[(user_id, chat_id)] = (
                member_ids if user_id in member_ids else NotFound(NOT_IN_CHAT)
            )
        return doors

    def access_chat_members(self, user_id: str, chat_id: str) -> tuple[Chat, list[Member]]:
        """``access_chat`` with the current members (for fan-out and receipts) in the same trip.

        Only current members pass: someone who left or was removed from a group can no longer
        write in it or act on it (``access_history`` lets them read what they received).
        """
        chat, me, members = self.access_history(user_id, chat_id)
        if not me.is_active:
            raise NotFound(NOT_IN_CHAT)
        return chat, members

    def access_history(self, user_id: str, chat_id: str) -> tuple[Chat, Member, list[Member]]:
        """The door for reading: the chat, the caller's membership (current *or* former: a
        removed member still reads what they received) and the current members.

        Raises:
            NotFound: no such chat, or the caller was never in it.
        """
        chat, me, everyone = self._access_everyone(user_id, chat_id)
        return chat, me, [m for m in everyone if m.is_active]

    def _access_everyone(self, user_id: str, chat_id: str) -> tuple[Chat, Member, list[Member]]:
        """``access_history`` with every member row, former members included."""
        if is_uuid(chat_id):
            found = self._chats.get_chat_with_members(chat_id)
            if found is not None:
                chat, everyone = found
                me = next((m for m in everyone if m.user_id == user_id), None)
                if me is not None:
                    return chat, me, everyone
        raise NotFound(NOT_IN_CHAT)

    def readable_ranges(self, user_id: str, chat_id: str = "") -> list[ReadableRange]:
        """The one rule for which messages a user may read, as id ranges per chat (only
        ``chat_id``'s if given). Search, the starred view and message actions filter by it.

        A member who joined a group late reads from the line that added them on; one who left
        or was removed keeps what they could see until the line that said so.
        """
        if chat_id:
            try:
                _, me = self.access_membership(user_id, chat_id)
            except NotFound:
                return []
            rows = [me]
        else:
            rows = [me for _, me in self._chats.list_user_chats(user_id)]
        return [
            ReadableRange(
                m.chat_id, after=m.visible_from, upto="" if m.is_active else m.visible_upto
            )
            for m in rows
        ]

    def can_read(self, user_id: str, chat_id: str, message_id: str) -> bool:
        """Whether ``message_id`` of ``chat_id`` is inside the user's readable ranges."""
        return any(r.contains(message_id) for r in self.readable_ranges(user_id, chat_id))

    def open_direct_chat(self, user_id: str, peer_id: str) -> Chat:
        """The 1:1 chat between the caller and ``peer_id``, created on first use.

        Opening the same person twice (from any tab, even at once) gives the same chat, and
        puts it in the caller's list even if nobody has written in it yet.
        """
        if peer_id == user_id:
            raise InvalidInput("You can't start a chat with yourself.")
        if not is_uuid(peer_id) or not self._users.get_users([peer_id]):
            raise NotFound("No such user.")
        now = self._clock()
        chat = Chat(id=new_id(), kind=ChatKind.DIRECT, title="", created_by=user_id, created_at=now)
        members = [
            Member(chat_id=chat.id, user_id=uid, role=Role.MEMBER, joined_at=now, is_listed=listed)
            for uid, listed in ((user_id, True), (peer_id, False))
        ]
        stored = self._chats.add_direct_chat(chat, ":".join(sorted((user_id, peer_id))), members)
        if stored.id == chat.id or self._chats.list_for_member(stored.id, user_id):
            self._bus.publish([user_id], ChatChanged(chat_id=stored.id))
        return stored

    def participants(self, user_id: str, chat_id: str) -> list[User]:
        """The current members of a chat the caller is (or was) in, as people."""
        _, me, everyone = self._access_everyone(user_id, chat_id)
        members = _members_seen_by(me, everyone)
        found = self._users.get_users([m.user_id for m in members])
        return [found[m.user_id] for m in members if m.user_id in found]

    def members(self, user_id: str, chat_id: str) -> list[tuple[Member, User]]:
        """The current members with their roles, owner and admins first, then by name."""
        _, me, everyone = self._access_everyone(user_id, chat_id)
        members = _members_seen_by(me, everyone)
        found = self._users.get_users([m.user_id for m in members])
        rank = {Role.OWNER: 0, Role.ADMIN: 1, Role.MEMBER: 2}
        pairs = [(m, found[m.user_id]) for m in members if m.user_id in found]
        return sorted(pairs, key=lambda p: (rank[p[0].role], p[1].display_name.casefold()))

    def people_of_chats(self, user_id: str) -> list[User]:
        """Everyone whose messages the caller may have read in any of their chats (the caller
        included), by name: the senders a search can be narrowed to.

        In a group that means the members whose time in it overlapped the caller's, so
        someone who left still counts, and someone who joined after the caller left does not.
        Three queries, however many chats.
        """
        rows = self._chats.list_user_chats(user_id)
        members_by_chat = self._chats.list_members_of([chat.id for chat, _ in rows])
        people = {
            m.user_id
            for chat, me in rows
            for m in members_by_chat.get(chat.id, [])
            if _overlapped(me, m)
        }
        people.add(user_id)
        found = self._users.get_users(sorted(people))
        return sorted(found.values(), key=lambda u: (u.display_name.casefold(), u.username))

    def contacts(self, user_id: str) -> list[User]:
        """The people the caller has a 1:1 chat with, most recent first."""
        return [s.peer for s in self.list_chats(user_id) if s.peer is not None]

    def list_chats(self, user_id: str) -> list[ChatSummary]:
        """The caller's chats, most recent activity first, in a fixed number of queries.

        A 1:1 chat someone opened with you but never wrote in is not shown to you yet (as on
        WhatsApp), only to them.
        """
        rows = [
            (chat, me)
            for chat, me in self._chat_list.list_user_chats(user_id)
            if chat.last_message_id or me.is_listed or chat.kind is ChatKind.GROUP
        ]
        return self._summarize(user_id, rows)

    def access_chat_with_activity(self, user_id: str, chat_id: str) -> Chat:
        """The door (``access_chat``), and the chat with its last message as the caller's list
        shows it (the chat list may live apart from the chats: Cassandra's ``chats_by_user``)."""
        chat, _ = self.access_chat(user_id, chat_id)
        return self._chat_list.with_activity(user_id, chat)

    def get_summary(self, user_id: str, chat_id: str) -> ChatSummary:
        chat, me, everyone = self._access_everyone(user_id, chat_id)
        chat = self._chat_list.with_activity(user_id, chat)
        return self._summarize(user_id, [(chat, me)], {chat.id: everyone})[0]

    def _title_when_left(self, me: Member, chat: Chat) -> str:
        """The group's name as the line that ended ``me``'s membership wrote it down (one
        lookup per group the caller left; the current name for everyone else)."""
        if me.is_active or not me.visible_upto:
            return chat.title
        lines = self._messages.list_before(
            chat.id, "", 1, lowest=me.visible_upto, highest=me.visible_upto
        )
        title = lines[0].content.get("title") if lines else None
        return title if isinstance(title, str) and title else chat.title

    def _summarize(
        self,
        user_id: str,
        rows: list[tuple[Chat, Member]],
        members_by_chat: dict[str, list[Member]] | None = None,
    ) -> list[ChatSummary]:
        rows = [(_as_seen_by(me, chat, self._title_when_left(me, chat)), me) for chat, me in rows]
        if members_by_chat is None:
            members_by_chat = self._chats.list_members_of([chat.id for chat, _ in rows])
        peer_ids = {
            chat.id: next((m.user_id for m in members_by_chat[chat.id] if m.user_id != user_id), "")
            for chat, _ in rows
            if chat.kind is ChatKind.DIRECT
        }
        peers = self._users.get_users([p for p in peer_ids.values() if p])
        # Only chats with something after the read watermark are asked about (a chat read to
        # its newest message costs nothing); a former member's count stops where they left.
        unread = self._unread.unread_counts(
            user_id,
            [
                UnreadSpan(
                    chat.id,
                    read_upto=me.read_upto,
                    newest=chat.last_message_id,
                    visible_upto="" if me.is_active else me.visible_upto,
                )
                for chat, me in rows
                if chat.last_message_id > me.read_upto
            ],
        )
        summaries = []
        for chat, me in rows:
            peer = peers.get(peer_ids.get(chat.id, ""))
            summaries.append(
                ChatSummary(
                    chat=chat,
                    title=peer.display_name if peer else chat.title,
                    unread=unread.get(chat.id, 0),
                    receipts=Receipts.of(members_by_chat[chat.id]),
                    peer=peer,
                    is_member=me.is_active,
                    member_count=len(_members_seen_by(me, members_by_chat[chat.id])),
                    my_read_upto=me.read_upto,
                )
            )
        return summaries


def _as_seen_by(me: Member, chat: Chat, title: str) -> Chat:
    """A former member's view of a group stops where they left: no later activity (or name)
    leaks."""
    if me.is_active:
        return chat
    if chat.last_message_id <= me.visible_upto:
        return dataclasses.replace(chat, title=title)
    return dataclasses.replace(
        chat,
        title=title,
        last_message_id=me.visible_upto,
        last_activity_at=me.left_at,
        last_preview="",
        last_sender_id="",
    )


def _members_seen_by(me: Member, everyone: list[Member]) -> list[Member]:
    """Who is in the chat as ``me`` may know it: the current members, or for someone who left
    a group, the members as they were when they left (who joined or left later is not theirs
    to learn, as their history stops there too)."""
    if me.is_active:
        return [m for m in everyone if m.is_active]
    gone_at = me.visible_upto
    return [
        m
        for m in everyone
        if m.user_id != me.user_id
        and m.visible_from <= gone_at
        and (m.is_active or m.visible_upto > gone_at)
    ]


def _overlapped(me: Member, other: Member) -> bool:
    """Whether ``other`` was in the chat at some point while ``me`` was (the ids of the system
    lines that added them and said they left bound each stay; "" starts at the beginning)."""
    starts_before_i_left = me.is_active or other.visible_from < me.visible_upto
    ends_after_i_joined = other.is_active or other.visible_upto > me.visible_from
    return starts_before_i_left and ends_after_i_joined


def _or_raise(door: _T | NotFound) -> _T:
    if isinstance(door, NotFound):
        raise door
    return door
