"""The message menu (issue #7): react, reply, star, copy, edit, delete, forward, info.

The menu holds only the one message it was opened on; every action goes through
``services().message_actions``, which checks the rule, and comes back to every tab as a bus
event (chat_web/states/live.py), so this state never edits the window itself.
"""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime

import reflex as rx

from backend.errors import ChatError
from backend.services.message_actions import DELETE_WINDOW, EDIT_WINDOW
from chat_web.i18n import error_text, t, tn
from chat_web.message_window import is_stored
from chat_web.services import services
from chat_web.states.chat_list import ChatListState
from chat_web.states.conversation import COMPOSER_ID, ConversationState
from chat_web.states.message_info import MessageInfoState
from chat_web.states.session import SessionState

EDIT_INPUT_ID = "edit-input"


@dataclasses.dataclass
class ForwardOption:
    chat_id: str
    title: str


class MessageActionsState(rx.State):
    menu_id: str = ""  # the message the menu is open on ("" = closed)
    menu_mine: bool = False
    menu_starred: bool = False
    menu_deleted: bool = False
    menu_is_text: bool = False
    # Offered only while the service would still allow them (it checks again on the action).
    menu_can_edit: bool = False
    menu_can_delete_for_everyone: bool = False
    error: str = ""
    is_editing: bool = False
    edit_text: str = ""
    # The forward picker: the chats it offers (filtered by the search) and those ticked.
    is_forwarding: bool = False
    forward_query: str = ""
    forward_options: list[ForwardOption] = []
    forward_chosen: list[str] = []
    _forward_id: str = ""

    async def _verified_user_id(self) -> str:
        return (await self.get_state(SessionState))._verified_user_id()

    def _fail(self, exc: ChatError) -> None:
        self.error = error_text(exc.code, exc.message, exc.params)

    @rx.event
    async def open_menu(self, message_id: str):
        conversation = await self.get_state(ConversationState)
        message = conversation._find(message_id)
        if message is None or not is_stored(message) or message.kind == "system":
            return
        self.menu_id, self.error = message.id, ""
        self.menu_mine, self.menu_starred = message.mine, message.starred
        self.menu_deleted = message.deleted
        self.menu_is_text = message.kind == "text" and not message.deleted
        age = datetime.now(UTC) - datetime.fromisoformat(message.sent_at)
        own = message.mine and not message.deleted
        self.menu_can_edit = own and self.menu_is_text and age < EDIT_WINDOW
        self.menu_can_delete_for_everyone = own and age < DELETE_WINDOW

    @rx.event
    def set_menu_open(self, is_open: bool):
        if not is_open:
            self.menu_id = ""

    async def _act(self, action, *args) -> bool:
        """Run one service action on the menu's message as the signed-in user."""
        user_id = await self._verified_user_id()
        if not user_id or not self.menu_id:
            return False
        try:
            action(user_id, self.menu_id, *args)
        except ChatError as exc:
            self._fail(exc)
            return False
        return True

    @rx.event
    async def react(self, name: str):
        """A quick reaction by name (``thumbsup`` ...): again the same one removes it."""
        if await self._act(services().message_actions.toggle_reaction, name):
            self.menu_id = ""

    @rx.event
    async def toggle_star(self):
        if await self._act(services().message_actions.star, not self.menu_starred):
            self.menu_id = ""

    @rx.event
    async def delete_for_me(self):
        if await self._act(services().message_actions.delete_for_me):
            self.menu_id = ""

    @rx.event
    async def delete_for_everyone(self):
        if await self._act(services().message_actions.delete_for_everyone):
            self.menu_id = ""

    @rx.event
    async def reply(self):
        message_id, self.menu_id = self.menu_id, ""
        conversation = await self.get_state(ConversationState)
        if conversation._start_reply(message_id):
            return rx.set_focus(COMPOSER_ID)
        return None

    @rx.event
    async def copy(self):
        conversation = await self.get_state(ConversationState)
        message = conversation._find(self.menu_id)
        self.menu_id = ""
        if message is not None and not message.deleted:
            return rx.set_clipboard(message.text)
        return None

    @rx.event
    def show_info(self):
        message_id, self.menu_id = self.menu_id, ""
        # Chained to the info dialog's own handler (mypy cannot see Reflex handlers as callable).
        return MessageInfoState.show(message_id)  # type: ignore[operator]

    # --- edit --------------------------------------------------------------------------------

    @rx.event
    async def start_edit(self):
        conversation = await self.get_state(ConversationState)
        message = conversation._find(self.menu_id)
        if message is None or not message.mine or message.deleted:
            return
        self.is_editing, self.edit_text, self.error = True, message.text, ""

    @rx.event
    def set_edit_open(self, is_open: bool):
        if not is_open:
            self.is_editing, self.menu_id = False, ""

    @rx.event
    async def save_edit(self, form: dict[str, str]):
        text = str(form.get("text", ""))
        if await self._act(services().message_actions.edit, {"type": "text", "text": text}):
            self.is_editing, self.menu_id = False, ""
        else:
            self.edit_text = text  # keep what was typed next to the error

    # --- forward -----------------------------------------------------------------------------

    @rx.event
    async def start_forward(self):
        chat_list = await self.get_state(ChatListState)
        self._forward_id, self.menu_id = self.menu_id, ""
        self.is_forwarding, self.forward_query, self.forward_chosen = True, "", []
        self.error = ""
        self.forward_options = [ForwardOption(c.chat_id, c.title) for c in chat_list.chats]

    @rx.event
    async def search_forward(self, query: str):
        self.forward_query = query
        chat_list = await self.get_state(ChatListState)
        wanted = query.strip().casefold()
        self.forward_options = [
            ForwardOption(c.chat_id, c.title)
            for c in chat_list.chats
            if wanted in c.title.casefold() or c.chat_id in self.forward_chosen
        ]

    @rx.event
    def toggle_forward_chat(self, chat_id: str):
        chosen = self.forward_chosen
        self.forward_chosen = (
            [c for c in chosen if c != chat_id] if chat_id in chosen else [*chosen, chat_id]
        )

    @rx.event
    def set_forward_open(self, is_open: bool):
        if not is_open:
            self.is_forwarding, self._forward_id, self.forward_options = False, "", []

    @rx.event
    async def forward(self):
        user_id = await self._verified_user_id()
        if not user_id or not self._forward_id:
            return
        try:
            sent = services().message_actions.forward(
                user_id,
                self._forward_id,
                list(self.forward_chosen),
                client_ip=self.router.session.client_ip,
            )
        except ChatError as exc:
            self._fail(exc)
            return
        self.is_forwarding, self._forward_id, self.forward_options = False, "", []
        conversation = await self.get_state(ConversationState)
        conversation.announcement = tn("forward.done", len(sent))
        self.forward_chosen = []

    @rx.var
    def menu_star_label(self) -> str:
        return t("actions.unstar") if self.menu_starred else t("actions.star")
