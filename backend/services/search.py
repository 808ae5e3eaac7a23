"""Finding messages by their words across every chat the user may read."""

from __future__ import annotations

from datetime import datetime

from backend.errors import InvalidInput, NotFound
from backend.ids import is_uuid
from backend.models import SearchPage, SearchQuery
from backend.ports import SearchIndex
from backend.search_text import query_terms
from backend.services.chats import ChatService

MAX_SEARCH_PAGE = 50
MAX_QUERY_CHARS = 256


class SearchService:
    def __init__(self, chats: ChatService, index: SearchIndex) -> None:
        self._chats = chats
        self._index = index

    def search_messages(
        self,
        user_id: str,
        text: str,
        *,
        chat_id: str = "",
        sender_id: str = "",
        since: datetime | None = None,
        until: datetime | None = None,
        content_type: str = "",
        before: str = "",
        limit: int = 20,
    ) -> SearchPage:
        """Messages whose words start with every word of ``text``, newest first.

        Only messages inside the caller's readable ranges (``ChatService.readable_ranges``)
        are ever looked at, and never ones deleted for everyone or deleted for themselves.

        Raises:
            InvalidInput: no words to look for, or malformed filters.
            NotFound: ``chat_id`` names a chat the caller cannot read (as for any other door).
        """
        if not isinstance(text, str) or len(text) > MAX_QUERY_CHARS:
            raise InvalidInput(f"Search for at most {MAX_QUERY_CHARS} characters.")
        if not query_terms(text):
            raise InvalidInput("Type a word to search for.")
        if sender_id and not is_uuid(sender_id):
            raise InvalidInput("senderId must be a user id.")
        if content_type and not (content_type.isascii() and content_type.isalnum()):
            raise InvalidInput("type must be a content type such as text or image.")
        for moment in (since, until):
            if moment is not None and moment.tzinfo is None:
                raise InvalidInput("Dates need a time zone (e.g. 2026-01-02T10:00:00Z).")
        if since and until and since > until:
            raise InvalidInput("The start date is after the end date.")
        if not isinstance(limit, int) or limit < 1:
            raise InvalidInput("The page size must be a positive number.")
        ranges = self._chats.readable_ranges(user_id, chat_id)
        if chat_id and not ranges:
            raise NotFound("This chat doesn't exist or you are not in it.")
        query = SearchQuery(
            text=text,
            chat_id=chat_id,
            sender_id=sender_id,
            since=since,
            until=until,
            content_type=content_type.lower(),
            before=before,
            limit=min(limit, MAX_SEARCH_PAGE),
        )
        return self._index.search(user_id, query, ranges)
