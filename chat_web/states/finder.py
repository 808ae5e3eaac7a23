"""Finding messages again (issue #7): the global search box and the starred messages view.

Both list messages across chats; choosing one opens its chat and assets/chat.js scrolls (loading
older pages as needed) to the message and highlights it.
"""

from __future__ import annotations

import dataclasses
import json

import reflex as rx
from reflex.event import EventSpec

from backend.content import preview_of
from backend.errors import ChatError
from backend.ids import is_uuid
from backend.models import Message
from chat_web.i18n import error_text
from chat_web.services import services
from chat_web.states.chat_list import ChatListState
from chat_web.states.conversation import ConversationState
from chat_web.states.session import SessionState

SEARCH_PAGE = 20
CHAT_SEARCH_HITS = 50
STARRED_PAGE = 50


@dataclasses.dataclass
class SnippetPart:
    text: str
    match: bool


@dataclasses.dataclass
class FoundMessageView:
    """One search result or starred message: where it is, who wrote it, when, and its words."""

    message_id: str
    chat_id: str
    chat_title: str
    sender_name: str
    sent_at: str
    text: str
    snippet: list[SnippetPart] = dataclasses.field(default_factory=list)


def _jump(chat_id: str, message_id: str) -> EventSpec:
    return rx.call_script(f"window.chatJumpTo({json.dumps(chat_id)}, {json.dumps(message_id)})")


def _go_to(chat_id: str, message_id: str) -> list[EventSpec] | None:
    """Open the chat, then let assets/chat.js find the message in it. The ids come from the
    browser: only well-formed ones go into a URL or a script (the chat page checks access)."""
    if not is_uuid(chat_id) or not is_uuid(message_id):
        return None
    return [rx.redirect(f"/chats/{chat_id}"), _jump(chat_id, message_id)]


class FinderState(rx.State):
    query: str = ""
    results: list[FoundMessageView] = []
    search_error: str = ""
    is_starred_open: bool = False
    starred: list[FoundMessageView] = []
    # Search inside the open chat: the matches stay on the server, the browser steps through.
    is_chat_search_open: bool = False
    chat_query: str = ""
    chat_position: str = ""  # "2 / 5" ("" before a search, "0 / 0" when nothing matched)
    _chat_hits: list[str] = []  # message ids, newest first
    _chat_index: int = 0

    async def _found(self, messages: list[Message]) -> list[FoundMessageView]:
        """Views of ``messages`` with their chat's title and sender's name (looked up once)."""
        titles = {c.chat_id: c.title for c in (await self.get_state(ChatListState)).chats}
        people = services().accounts.get_users(list({m.sender_id for m in messages}))
        return [
            FoundMessageView(
                message_id=m.id,
                chat_id=m.chat_id,
                chat_title=titles.get(m.chat_id, ""),
                sender_name=people[m.sender_id].display_name if m.sender_id in people else "",
                sent_at=m.created_at.isoformat(timespec="microseconds"),
                text=preview_of(m.content),
            )
            for m in messages
        ]

    @rx.event
    async def search(self, query: str):
        self.query, self.search_error = query, ""
        if not query.strip():
            self.results = []
            return None
        user_id = (await self.get_state(SessionState))._verified_user_id()
        if not user_id:
            return rx.redirect("/login")
        try:
            page = services().search.search_messages(user_id, query, limit=SEARCH_PAGE)
        except ChatError as exc:
            self.results, self.search_error = [], error_text(exc.code, exc.message, exc.params)
            return None
        found = await self._found([hit.message for hit in page.hits])
        for view, hit in zip(found, page.hits, strict=True):
            view.snippet = [SnippetPart(s.text, s.match) for s in hit.snippet]
        self.results = found
        return None

    @rx.event
    def clear_search(self):
        self.query, self.results, self.search_error = "", [], ""

    @rx.event
    def open_result(self, chat_id: str, message_id: str):
        self.query, self.results = "", []
        return _go_to(chat_id, message_id)

    @rx.event
    async def set_starred_open(self, is_open: bool):
        self.is_starred_open = is_open
        if not is_open:
            self.starred = []
            return None
        user_id = (await self.get_state(SessionState))._verified_user_id()
        if not user_id:
            return rx.redirect("/login")
        messages, _ = services().message_actions.list_starred(user_id, limit=STARRED_PAGE)
        self.starred = await self._found(messages)
        return None

    @rx.event
    def open_starred(self, chat_id: str, message_id: str):
        self.is_starred_open, self.starred = False, []
        return _go_to(chat_id, message_id)

    # --- search inside the open chat --------------------------------------------------------

    @rx.event
    def toggle_chat_search(self):
        self.is_chat_search_open = not self.is_chat_search_open
        self.chat_query, self.chat_position, self._chat_hits = "", "", []

    @rx.event
    async def search_in_chat(self, query: str):
        self.chat_query = query
        user_id = (await self.get_state(SessionState))._verified_user_id()
        chat_id = (await self.get_state(ConversationState)).chat_id
        if not user_id or not chat_id or not query.strip():
            self._chat_hits, self.chat_position = [], ""
            return None
        try:
            page = services().search.search_messages(
                user_id, query, chat_id=chat_id, limit=CHAT_SEARCH_HITS
            )
        except ChatError:
            self._chat_hits, self.chat_position = [], ""
            return None
        self._chat_hits = [hit.message.id for hit in page.hits]
        return self._step_to(chat_id, 0)

    @rx.event
    async def step_chat_search(self, older: bool):
        """The up arrow goes to the next older match, the down arrow to the next newer one."""
        chat_id = (await self.get_state(ConversationState)).chat_id
        if not self._chat_hits or not chat_id:
            return None
        index = self._chat_index + (1 if older else -1)
        if not 0 <= index < len(self._chat_hits):
            return None
        return self._step_to(chat_id, index)

    def _step_to(self, chat_id: str, index: int) -> EventSpec | None:
        hits = self._chat_hits
        self._chat_index = index
        self.chat_position = f"{index + 1 if hits else 0} / {len(hits)}"
        return _jump(chat_id, hits[index]) if hits else None
