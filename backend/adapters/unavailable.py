"""Stand-ins for features the configured engines do not offer yet.

Message actions (reactions, stars, edits, deletes, delete-for-me) are stored in SQL beside the
message rows they change. With messages in Cassandra (``CASSANDRA_HOSTS``) there are no such
rows, so every change says it is not available (a clear 400, not a silent no-op), and the reads
answer what is true: nothing is starred or hidden.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, NoReturn

from backend.errors import InvalidInput
from backend.models import Message

NOT_AVAILABLE = "Message actions are not available with this message store yet."


def _refuse() -> NoReturn:
    raise InvalidInput(NOT_AVAILABLE)


class UnavailableMessageActionStore:
    def edit_message(
        self, message_id: str, content: dict[str, Any], at: datetime
    ) -> tuple[Message, list[Message]] | None:
        _refuse()

    def delete_message(self, message_id: str, at: datetime) -> tuple[Message, list[Message]] | None:
        _refuse()

    def set_reaction(
        self, message_id: str, chat_id: str, user_id: str, emoji: str, at: datetime
    ) -> bool:
        _refuse()

    def set_star(self, user_id: str, message: Message, starred: bool, at: datetime) -> bool:
        _refuse()

    def list_starred(self, user_id: str, before: str, limit: int) -> list[Message]:
        return []

    def starred_among(self, user_id: str, message_ids: list[str]) -> set[str]:
        return set()

    def hide_message(self, user_id: str, message: Message, at: datetime) -> bool:
        _refuse()

    def is_hidden(self, user_id: str, message_id: str) -> bool:
        return False
