"""Small helpers shared by the group stories."""

from __future__ import annotations

from typing import Any

from backend.container import Services
from backend.content import text_content
from backend.models import Chat, Member, MessageStatus, Role
from tests.backend.helpers import Person


def make_group(services: Services, owner: Person, *others: Person, title: str = "Team") -> Chat:
    return services.groups.create_group(owner.id, title, [p.id for p in others])


def say(services: Services, who: Person, chat: Chat, text: str = "hi") -> str:
    return services.messaging.send_message(who.id, chat.id, text_content(text)).id


def history(services: Services, who: Person, chat: Chat) -> list[dict[str, Any]]:
    """What ``who`` can read in the chat, oldest first: text bodies and system-line events."""
    page = services.messaging.list_messages(who.id, chat.id, limit=100)
    return [m.content for m in page.messages]


def history_ids(services: Services, who: Person, chat: Chat) -> list[str]:
    return [m.id for m in services.messaging.list_messages(who.id, chat.id, limit=100).messages]


def events(services: Services, who: Person, chat: Chat) -> list[str]:
    return [c["event"] for c in history(services, who, chat) if c["type"] == "system"]


def last_id(services: Services, who: Person, chat: Chat) -> str:
    return history_ids(services, who, chat)[-1]


def roles(services: Services, viewer: Person, chat: Chat) -> dict[str, Role]:
    return {user.username: m.role for m, user in services.chats.members(viewer.id, chat.id)}


def status(services: Services, sender: Person, chat: Chat, message_id: str) -> MessageStatus:
    return services.messaging.list_messages(sender.id, chat.id).receipts.status_of(message_id)


def me_in(services: Services, who: Person, chat: Chat) -> Member:
    return services.chats.access_history(who.id, chat.id)[1]
