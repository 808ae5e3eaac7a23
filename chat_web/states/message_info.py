"""Message info: who of the chat's members has received and read one of your messages, and when."""

from __future__ import annotations

import dataclasses

import reflex as rx

from backend.errors import ChatError
from chat_web.i18n import error_text
from chat_web.services import services
from chat_web.states.conversation import ConversationState
from chat_web.states.session import SessionState


@dataclasses.dataclass
class ReceiptRow:
    name: str
    at: str  # ISO 8601 UTC; shown in the viewer's zone


class MessageInfoState(rx.State):
    is_open: bool = False
    read_by: list[ReceiptRow] = []
    delivered_to: list[ReceiptRow] = []  # received, not read yet
    waiting: list[ReceiptRow] = []  # not received yet
    error: str = ""

    @rx.event
    async def show(self, message_id: str):
        user_id = (await self.get_state(SessionState))._verified_user_id()
        if not user_id:
            return rx.redirect("/login")
        chat_id = (await self.get_state(ConversationState)).chat_id
        self.read_by, self.delivered_to, self.waiting, self.error = [], [], [], ""
        try:
            receipts = services().receipts.message_info(user_id, chat_id, message_id)
        except ChatError as exc:
            self.error = error_text(exc.code, exc.message, exc.params)
        else:
            for r in receipts:
                name = r.user.display_name
                if r.read_at is not None:
                    self.read_by.append(ReceiptRow(name, r.read_at.isoformat()))
                elif r.delivered_at is not None:
                    self.delivered_to.append(ReceiptRow(name, r.delivered_at.isoformat()))
                else:
                    self.waiting.append(ReceiptRow(name, ""))
        self.is_open = True
        return None

    @rx.event
    def set_open(self, is_open: bool):
        self.is_open = bool(is_open)
