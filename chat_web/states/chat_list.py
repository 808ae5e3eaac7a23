"""The sidebar: the user's chats, and the new-chat dialog that finds people."""

from __future__ import annotations

import dataclasses

import reflex as rx

from backend.errors import ChatError
from chat_web.i18n import error_text
from chat_web.services import services
from chat_web.states.session import SessionState
from chat_web.views import ChatItemView, chat_item_view


@dataclasses.dataclass
class PersonView:
    user_id: str
    username: str
    display_name: str


class ChatListState(rx.State):
    chats: list[ChatItemView] = []
    is_new_chat_open: bool = False
    people_query: str = ""
    people: list[PersonView] = []
    error: str = ""

    async def _user_id(self) -> str:
        return (await self.get_state(SessionState)).user_id

    async def _reload(self) -> None:
        """Fetch the whole list afresh (page load, reconnect)."""
        user_id = await self._user_id()
        self.chats = [chat_item_view(s, user_id) for s in services().chats.list_chats(user_id)]

    async def _refresh_chat(self, chat_id: str) -> None:
        """Re-read one chat's row after an event and keep the list ordered by activity."""
        user_id = await self._user_id()
        try:
            row = chat_item_view(services().chats.get_summary(user_id, chat_id), user_id)
        except ChatError:
            self.chats = [c for c in self.chats if c.chat_id != chat_id]
            return
        others = [c for c in self.chats if c.chat_id != chat_id]
        self.chats = sorted([row, *others], key=lambda c: c.last_at, reverse=True)

    def _shows_receipts_of(self, chat_id: str, is_own_receipt: bool) -> bool:
        """Whether a receipt in ``chat_id`` changes this list: my unread count, or the ticks
        on my own last message."""
        return is_own_receipt or any(c.chat_id == chat_id and c.last_mine for c in self.chats)

    @rx.event
    def set_new_chat_open(self, is_open: bool):
        if is_open:
            self.is_new_chat_open = True
        else:
            self._close_new_chat()

    def _close_new_chat(self) -> None:
        self.is_new_chat_open = False
        self.people_query, self.people = "", []

    @rx.event
    async def search_people(self, query: str):
        self.people_query = query
        user_id = (await self.get_state(SessionState))._verified_user_id()
        if not user_id:
            return rx.redirect("/login")
        found = services().accounts.search_users(user_id, query)
        self.people = [PersonView(u.id, u.username, u.display_name) for u in found]
        return None

    @rx.event
    async def start_chat(self, peer_id: str):
        user_id = (await self.get_state(SessionState))._verified_user_id()
        if not user_id:
            return rx.redirect("/login")
        try:
            chat = services().chats.open_direct_chat(user_id, peer_id)
        except ChatError as exc:
            self.error = error_text(exc.code, exc.message, exc.params)
            return None
        self._close_new_chat()
        await self._refresh_chat(chat.id)
        return rx.redirect(f"/chats/{chat.id}")
