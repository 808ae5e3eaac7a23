"""The open conversation: a bounded window of messages, the composer, and optimistic sends."""

from __future__ import annotations

import logging
import uuid
from datetime import UTC, datetime

import reflex as rx

from backend.content import text_content
from backend.errors import ChatError
from backend.models import ChatKind, Message, MessageStatus, Receipts
from chat_web.i18n import error_text, t
from chat_web.services import services
from chat_web.states.session import SessionState
from chat_web.views import MessageView, message_view, pending_view

log = logging.getLogger(__name__)

# Reflex resends a list var whole on every change, so the browser holds a window of the chat,
# never all of it: the newest page plus whatever older pages were scrolled into.
MAX_WINDOW = 300
COMPOSER_ID = "composer"


def _is_stored(m: MessageView) -> bool:
    return m.status not in (MessageStatus.PENDING, MessageStatus.FAILED)


class ConversationState(rx.State):
    chat_id: str = ""
    title: str = ""
    subtitle: str = ""
    messages: list[MessageView] = []
    has_older: bool = False
    # True once older pages pushed the newest messages out of the window.
    has_newer: bool = False
    is_loading_older: bool = False
    is_missing: bool = False
    composer_error: str = ""
    announcement: str = ""
    _receipts: Receipts = Receipts()

    async def _user_id(self) -> str:
        return (await self.get_state(SessionState)).user_id

    async def open(self, chat_id: str) -> None:
        """Show the latest page of ``chat_id`` and mark it read (or show that it is missing)."""
        user_id = await self._user_id()
        svc = services()
        self.chat_id, self.composer_error, self.announcement = chat_id, "", ""
        self.has_newer = self.is_loading_older = False
        try:
            summary = svc.chats.get_summary(user_id, chat_id)
            page = svc.messaging.list_messages(user_id, chat_id)
        except ChatError:
            self.is_missing, self.title, self.subtitle, self.messages = True, "", "", []
            return
        self.is_missing = False
        self.title = summary.title
        self.subtitle = (
            f"@{summary.peer.username}"
            if summary.chat.kind is ChatKind.DIRECT and summary.peer
            else ""
        )
        self._receipts = page.receipts
        self.messages = [message_view(m, user_id, page.receipts) for m in page.messages]
        self.has_older = page.has_more
        svc.receipts.mark_read(user_id, chat_id)

    def close(self) -> None:
        self.chat_id, self.title, self.subtitle, self.messages = "", "", "", []
        self.is_missing = self.has_older = self.has_newer = False

    async def add_live(self, message: Message) -> None:
        """A message arrived on the bus for the open chat: show it once, in server order."""
        if self.has_newer:
            return  # the user is reading old history; the chat list tells them about it
        user_id = await self._user_id()
        view = message_view(message, user_id, self._receipts)
        if any(m.id == message.id for m in self.messages):
            return  # at-least-once delivery: seen already
        # Our own optimistic bubble (same temp id) becomes the stored message.
        kept = [m for m in self.messages if not (view.temp_id and m.temp_id == view.temp_id)]
        kept.append(view)
        # Stored messages in server order (a late arrival slots in), unconfirmed ones after them.
        kept.sort(key=lambda m: ("", m.id) if _is_stored(m) else ("~", ""))
        self.messages = kept[-MAX_WINDOW:]
        if not view.mine:
            self.announcement = t("conversation.new_message_from", name=self.title, text=view.text)
            services().receipts.mark_read(user_id, self.chat_id, message.id)

    def apply_receipts(self, receipts: Receipts) -> None:
        """The chat's watermarks moved: re-derive the ticks of own stored messages."""
        self._receipts = receipts
        changed = False
        for m in self.messages:
            if m.mine and _is_stored(m):
                status = receipts.status_of(m.id).value
                if status != m.status:
                    m.status, changed = status, True
        if changed:
            self.messages = list(self.messages)

    @rx.event
    async def send(self, form: dict[str, str]):
        text = str(form.get("text", "")).strip()
        if not text or not self.chat_id:
            return
        limit = services().settings.max_message_bytes
        size = len(text.encode("utf-8"))
        if size > limit:
            # Keep the draft: nothing the user typed is lost to a refusal.
            self.composer_error = t("error.too_large", size=size, limit=limit)
            yield rx.set_value(COMPOSER_ID, text)
            return
        self.composer_error = ""
        temp_id = str(uuid.uuid4())
        now = datetime.now(UTC).isoformat(timespec="microseconds")
        self.messages = [*self.messages, pending_view(temp_id, text, now)][-MAX_WINDOW:]
        yield  # the pending bubble reaches the browser before the round trip to storage
        await self._store(temp_id, text)

    @rx.event
    async def retry(self, temp_id: str):
        failed = next(
            (m for m in self.messages if m.temp_id == temp_id and m.status == MessageStatus.FAILED),
            None,
        )
        if failed is None:
            return
        failed.status = MessageStatus.PENDING.value
        self.messages = list(self.messages)
        yield
        await self._store(temp_id, failed.text)

    async def _store(self, temp_id: str, text: str) -> None:
        user_id = await self._user_id()
        try:
            message = services().messaging.send_message(
                user_id, self.chat_id, text_content(text), temp_id
            )
        except ChatError as exc:
            self.composer_error = error_text(exc.code, exc.message, exc.params)
            self._mark_failed(temp_id)
            return
        except Exception:  # storage unavailable: keep the bubble, offer a retry
            log.exception("send failed")
            self._mark_failed(temp_id)
            return
        await self.add_live(message)

    def _mark_failed(self, temp_id: str) -> None:
        for m in self.messages:
            if m.temp_id == temp_id and m.status == MessageStatus.PENDING:
                m.status = MessageStatus.FAILED.value
        self.messages = list(self.messages)

    @rx.event
    async def load_older(self):
        if not self.has_older or self.is_loading_older or not self.messages:
            return
        self.is_loading_older = True
        yield
        user_id = await self._user_id()
        oldest = next((m.id for m in self.messages if _is_stored(m)), "")
        try:
            page = services().messaging.list_messages(user_id, self.chat_id, before=oldest)
        except ChatError:
            self.is_loading_older = False
            return
        older = [message_view(m, user_id, self._receipts) for m in page.messages]
        window = older + self.messages
        if len(window) > MAX_WINDOW:
            window, self.has_newer = window[:MAX_WINDOW], True
        self.messages = window
        self.has_older = page.has_more
        self.is_loading_older = False

    @rx.event
    async def jump_to_latest(self):
        await self.open(self.chat_id)

    @rx.event
    def clear_composer_error(self):
        self.composer_error = ""
