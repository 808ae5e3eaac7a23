"""Chats: starting 1:1 chats, the permission-checked door to a chat, and the chat list."""

from __future__ import annotations

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
    User,
)
from backend.ports import Bus, ChatStore, Clock, MessageStore, UserStore


class ChatService:
    def __init__(
        self,
        chats: ChatStore,
        messages: MessageStore,
        users: UserStore,
        bus: Bus,
        clock: Clock,
    ) -> None:
        self._chats = chats
        self._messages = messages
        self._users = users
        self._bus = bus
        self._clock = clock

    def access_chat(self, user_id: str, chat_id: str) -> tuple[Chat, Member]:
        """The one door to a chat: the chat and the caller's membership of it.

        Raises:
            NotFound: the chat does not exist *or* the caller is not a member; the two are
                indistinguishable so that outsiders cannot learn which chat ids exist.
        """
        chat, members = self.access_chat_members(user_id, chat_id)
        return chat, next(m for m in members if m.user_id == user_id)

    def access_chat_members(self, user_id: str, chat_id: str) -> tuple[Chat, list[Member]]:
        """``access_chat`` with every member (for fan-out and receipts) in the same trip."""
        if is_uuid(chat_id):
            found = self._chats.get_chat_with_members(chat_id)
            if found is not None and any(m.user_id == user_id for m in found[1]):
                return found
        raise NotFound("This chat doesn't exist or you are not in it.")

    def readable_ranges(self, user_id: str, chat_id: str = "") -> list[ReadableRange]:
        """The one rule for which messages a user may read, as id ranges per chat (only
        ``chat_id``'s if given). Search and the starred view filter by it.

        Today that is every chat the user is a member of, whole. Groups will narrow it: a
        member who joined late reads from their joining on, one who left or was removed keeps
        what they could see until then (``ReadableRange`` documents the bounds).
        """
        if chat_id:
            try:
                self.access_chat(user_id, chat_id)
            except NotFound:
                return []
            return [ReadableRange(chat_id=chat_id)]
        return [ReadableRange(chat_id=chat.id) for chat, _ in self._chats.list_user_chats(user_id)]

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
        """The members of a chat the caller is in, as people."""
        _, members = self.access_chat_members(user_id, chat_id)
        found = self._users.get_users([m.user_id for m in members])
        return [found[m.user_id] for m in members if m.user_id in found]

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
            for chat, me in self._chats.list_user_chats(user_id)
            if chat.last_message_id or me.is_listed or chat.kind is ChatKind.GROUP
        ]
        return self._summarize(user_id, rows)

    def get_summary(self, user_id: str, chat_id: str) -> ChatSummary:
        chat, members = self.access_chat_members(user_id, chat_id)
        me = next(m for m in members if m.user_id == user_id)
        return self._summarize(user_id, [(chat, me)], {chat.id: members})[0]

    def _summarize(
        self,
        user_id: str,
        rows: list[tuple[Chat, Member]],
        members_by_chat: dict[str, list[Member]] | None = None,
    ) -> list[ChatSummary]:
        if members_by_chat is None:
            members_by_chat = self._chats.list_members_of([chat.id for chat, _ in rows])
        peer_ids = {
            chat.id: next((m.user_id for m in members_by_chat[chat.id] if m.user_id != user_id), "")
            for chat, _ in rows
            if chat.kind is ChatKind.DIRECT
        }
        peers = self._users.get_users([p for p in peer_ids.values() if p])
        unread = self._messages.count_unread(
            user_id,
            {chat.id: me.read_upto for chat, me in rows if chat.last_message_id > me.read_upto},
        )
        summaries = []
        for chat, _ in rows:
            peer = peers.get(peer_ids.get(chat.id, ""))
            summaries.append(
                ChatSummary(
                    chat=chat,
                    title=peer.display_name if peer else chat.title,
                    unread=unread.get(chat.id, 0),
                    receipts=Receipts.of(members_by_chat[chat.id]),
                    peer=peer,
                )
            )
        return summaries
