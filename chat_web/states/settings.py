"""The user's own settings: for now the "last seen" privacy switch."""

from __future__ import annotations

import reflex as rx

from chat_web.services import services
from chat_web.states.session import SessionState


class SettingsState(rx.State):
    is_open: bool = False
    hide_last_seen: bool = False

    @rx.event
    async def set_open(self, is_open: bool):
        self.is_open = bool(is_open)
        if self.is_open and (user_id := (await self.get_state(SessionState))._verified_user_id()):
            self.hide_last_seen = services().accounts.get_user(user_id).hide_last_seen

    @rx.event
    async def toggle_hide_last_seen(self):
        user_id = (await self.get_state(SessionState))._verified_user_id()
        if not user_id:
            return rx.redirect("/login")
        hide = not services().accounts.get_user(user_id).hide_last_seen
        services().presence.set_hide_last_seen(user_id, hide)
        self.hide_last_seen = hide
        return None
