"""Finding messages again (issue #7): the global search box with its filters, and the starred
messages view, both paged by the services' cursors.

Both list messages across chats; choosing one opens its chat and assets/chat.js scrolls (loading
older pages as needed) to the message and highlights it.
"""

from __future__ import annotations

import dataclasses
import json
import zoneinfo
from datetime import tzinfo

import reflex as rx
from reflex.event import EventSpec

from backend.content import preview_of
from backend.errors import ChatError
from backend.ids import is_uuid
from backend.models import Message, SearchPage
from chat_web.i18n import error_text, t
from chat_web.search_filters import BadFilter, Filters
from chat_web.services import services
from chat_web.states.chat_list import ChatListState
from chat_web.states.conversation import ConversationState
from chat_web.states.session import SessionState

SEARCH_PAGE = 20
STARRED_PAGE = 50
# What a result says it is, for messages that are not text (their words are the caption).
_KIND_LABELS = {
    "image": "media.photo",
    "video": "media.video",
    "voice": "media.voice",
    "document": "media.file",
}


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
    kind_label: str = ""
    snippet: list[SnippetPart] = dataclasses.field(default_factory=list)


@dataclasses.dataclass
class FilterOption:
    """One choice of a filter's drop-down: the value sent to the search, and what it says."""

    value: str
    label: str


def jump_to(chat_id: str, message_id: str) -> EventSpec:
    return rx.call_script(f"window.chatJumpTo({json.dumps(chat_id)}, {json.dumps(message_id)})")


def _go_to(chat_id: str, message_id: str) -> list[EventSpec] | None:
    """Open the chat, then let assets/chat.js find the message in it. The ids come from the
    browser: only well-formed ones go into a URL or a script (the chat page checks access)."""
    if not is_uuid(chat_id) or not is_uuid(message_id):
        return None
    return [rx.redirect(f"/chats/{chat_id}"), jump_to(chat_id, message_id)]


class FinderState(rx.State):
    query: str = ""
    results: list[FoundMessageView] = []
    search_error: str = ""
    has_more_results: bool = False
    # Filters of the global search ("" = any); days are YYYY-MM-DD in the viewer's zone.
    filter_chat: str = ""
    filter_sender: str = ""
    filter_from: str = ""
    filter_to: str = ""
    filter_type: str = ""
    chat_options: list[FilterOption] = []
    sender_options: list[FilterOption] = []
    is_starred_open: bool = False
    starred: list[FoundMessageView] = []
    has_more_starred: bool = False
    _results_cursor: str = ""
    _starred_cursor: str = ""

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
                kind_label=_kind_label(m),
            )
            for m in messages
        ]

    async def _user_id(self) -> str:
        return (await self.get_state(SessionState))._verified_user_id()

    def _filters(self) -> Filters:
        return Filters(
            chat_id=self.filter_chat,
            sender_id=self.filter_sender,
            from_day=self.filter_from,
            to_day=self.filter_to,
            content_type=self.filter_type,
        )

    async def _viewer_zone(self) -> tzinfo | None:
        """The zone the browser reported on page load (None, i.e. UTC, until it has)."""
        name = (await self.get_state(ConversationState))._time_zone
        try:
            return zoneinfo.ZoneInfo(name) if name else None
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            return None

    async def _search_page(self, user_id: str, before: str) -> SearchPage | None:
        """One page of what the box and the filters ask for, or None with ``search_error``
        set to why not."""
        filters = self._filters()
        try:
            since, until = filters.time_range(await self._viewer_zone())
            return services().search.search_messages(
                user_id,
                self.query,
                chat_id=filters.chat_id,
                sender_id=filters.sender_id,
                since=since,
                until=until,
                content_type=filters.checked_type(),
                before=before,
                limit=SEARCH_PAGE,
            )
        except BadFilter as exc:
            self.search_error = t(exc.key)
        except ChatError as exc:
            self.search_error = error_text(exc.code, exc.message, exc.params)
        return None

    async def _show_results(self, more: bool = False):
        """The first page (the words or a filter changed) or the next one (``more``)."""
        self.search_error = ""
        if not more:
            self.results, self.has_more_results, self._results_cursor = [], False, ""
        if not self.query.strip():
            return None
        user_id = await self._user_id()
        if not user_id:
            return rx.redirect("/login")
        if not self.chat_options and not self.sender_options:
            await self._load_filter_options(user_id)
        page = await self._search_page(user_id, self._results_cursor if more else "")
        if page is None:
            self.results, self.has_more_results = [], False
            return None
        found = await self._found([hit.message for hit in page.hits])
        for view, hit in zip(found, page.hits, strict=True):
            view.snippet = [SnippetPart(s.text, s.match) for s in hit.snippet]
        self.results = [*self.results, *found] if more else found
        self._results_cursor, self.has_more_results = page.next_cursor, bool(page.next_cursor)
        return None

    async def _load_filter_options(self, user_id: str) -> None:
        """The chats of the list and the people of those chats (the viewer first, as "You")."""
        chats = (await self.get_state(ChatListState)).chats
        self.chat_options = [FilterOption(c.chat_id, c.title) for c in chats]
        people = services().chats.people_of_chats(user_id)
        self.sender_options = [
            FilterOption(user_id, t("search.from_me")),
            *(
                FilterOption(u.id, t("search.sender", name=u.display_name, username=u.username))
                for u in people
                if u.id != user_id
            ),
        ]

    @rx.event
    async def search(self, query: str):
        self.query = query
        return await self._show_results()

    @rx.event
    async def load_more_results(self):
        """The next page after the last one shown (the service's cursor: none twice, none
        skipped)."""
        if not self.has_more_results or not self._results_cursor:
            return None
        return await self._show_results(more=True)

    @rx.event
    async def set_filter_chat(self, chat_id: str):
        self.filter_chat = chat_id
        return await self._show_results()

    @rx.event
    async def set_filter_sender(self, sender_id: str):
        self.filter_sender = sender_id
        return await self._show_results()

    @rx.event
    async def set_filter_from(self, day: str):
        self.filter_from = day
        return await self._show_results()

    @rx.event
    async def set_filter_to(self, day: str):
        self.filter_to = day
        return await self._show_results()

    @rx.event
    async def set_filter_type(self, content_type: str):
        self.filter_type = content_type
        return await self._show_results()

    @rx.event
    async def clear_filters(self):
        self.filter_chat = self.filter_sender = self.filter_type = ""
        self.filter_from = self.filter_to = ""
        return await self._show_results()

    def _close_search(self) -> None:
        self.query, self.results, self.search_error = "", [], ""
        self.has_more_results, self._results_cursor = False, ""
        self.filter_chat = self.filter_sender = self.filter_type = ""
        self.filter_from = self.filter_to = ""
        self.chat_options, self.sender_options = [], []

    @rx.event
    def clear_search(self):
        self._close_search()

    @rx.event
    def open_result(self, chat_id: str, message_id: str):
        self._close_search()
        return _go_to(chat_id, message_id)

    @rx.var
    def has_filters(self) -> bool:
        chosen = (self.filter_chat, self.filter_sender, self.filter_from, self.filter_to)
        return any(chosen) or self.filter_type != ""

    @rx.var
    def is_searching(self) -> bool:
        """The search panel replaces the chat list while there are words or filters."""
        chosen = (self.filter_chat, self.filter_sender, self.filter_from, self.filter_to)
        return self.query != "" or any(chosen) or self.filter_type != ""

    # --- starred messages --------------------------------------------------------------------

    @rx.event
    async def set_starred_open(self, is_open: bool):
        self.is_starred_open = is_open
        self.starred, self.has_more_starred, self._starred_cursor = [], False, ""
        if not is_open:
            return None
        return await self._show_starred()

    @rx.event
    async def load_more_starred(self):
        if not self.is_starred_open or not self._starred_cursor:
            return None
        return await self._show_starred()

    async def _show_starred(self):
        user_id = await self._user_id()
        if not user_id:
            return rx.redirect("/login")
        messages, cursor = services().message_actions.list_starred(
            user_id, before=self._starred_cursor, limit=STARRED_PAGE
        )
        self.starred = [*self.starred, *await self._found(messages)]
        self._starred_cursor, self.has_more_starred = cursor, bool(cursor)
        return None

    @rx.event
    def open_starred(self, chat_id: str, message_id: str):
        self.is_starred_open, self.starred = False, []
        self.has_more_starred, self._starred_cursor = False, ""
        return _go_to(chat_id, message_id)


def _kind_label(message: Message) -> str:
    key = _KIND_LABELS.get(str(message.content.get("type", "")))
    return t(key) if key else ""
