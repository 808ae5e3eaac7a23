"""Chats: starting 1:1 chats, the permission-checked door to a chat, and the chat list."""

from __future__ import annotations

from backend.errors import InvalidInput, NotFound
from backend.events import ChatChanged
from backend.ids import is_uuid, new_id
from backend.models import Chat, ChatKind, ChatSummary, Member, Receipts, Role, User
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
        if is_uuid(chat_id):
            member = self._chats.get_member(chat_id, user_id)
            chat = self._chats.get_chat(chat_id) if member else None
            if chat is not None and member is not None:
                return chat, member
        raise NotFound("This chat doesn't exist or you are not in it.")

    def access_chat_members(self, user_id: str, chat_id: str) -> tuple[Chat, list[Member]]:
        """Like ``access_chat``, with every member (for fan-out and receipts) in the same trip."""
        if is_uuid(chat_id):
            chat = self._chats.get_chat(chat_id)
            members = self._chats.list_members(chat_id) if chat else []
            if chat is not None and any(m.user_id == user_id for m in members):
                return chat, members
        raise NotFound("This chat doesn't exist or you are not in it.")

    def open_direct_chat(self, user_id: str, peer_id: str) -> Chat:
        """The 1:1 chat between the caller and ``peer_id``, created on first use.

        Opening the same person twice (from any tab, even at once) gives the same chat.
        """
        if peer_id == user_id:
            raise InvalidInput("You can't start a chat with yourself.")
        if not is_uuid(peer_id) or not self._users.get_users([peer_id]):
            raise NotFound("No such user.")
        now = self._clock()
        chat = Chat(id=new_id(), kind=ChatKind.DIRECT, title="", created_by=user_id, created_at=now)
        members = [
            Member(chat_id=chat.id, user_id=uid, role=Role.MEMBER, joined_at=now)
            for uid in (user_id, peer_id)
        ]
        stored = self._chats.add_direct_chat(chat, ":".join(sorted((user_id, peer_id))), members)
        if stored.id == chat.id:
            self._bus.publish([user_id], ChatChanged(chat_id=chat.id))
        return stored

    def list_chats(self, user_id: str) -> list[ChatSummary]:
        """The caller's chats, most recent activity first.

        A 1:1 chat someone opened with you but never wrote in is not shown to you yet (as on
        WhatsApp), only to them.
        """
        rows = [
            (chat, me)
            for chat, me in self._chats.list_user_chats(user_id)
            if chat.last_message_id or chat.created_by == user_id or chat.kind is ChatKind.GROUP
        ]
        return [self._summarize(chat, me) for chat, me in rows]

    def get_summary(self, user_id: str, chat_id: str) -> ChatSummary:
        chat, me = self.access_chat(user_id, chat_id)
        return self._summarize(chat, me)

    def _summarize(self, chat: Chat, me: Member) -> ChatSummary:
        members = self._chats.list_members(chat.id)
        peer: User | None = None
        title = chat.title
        if chat.kind is ChatKind.DIRECT:
            peer_id = next((m.user_id for m in members if m.user_id != me.user_id), "")
            peer = self._users.get_users([peer_id]).get(peer_id)
            title = peer.display_name if peer else ""
        unread = (
            self._messages.count_after(chat.id, me.read_upto, me.user_id)
            if chat.last_message_id > me.read_upto
            else 0
        )
        return ChatSummary(
            chat=chat, title=title, unread=unread, receipts=Receipts.of(members), peer=peer
        )
