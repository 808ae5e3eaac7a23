"""The sign-up and sign-in forms."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import reflex as rx

from backend.errors import ChatError
from backend.models import User
from chat_web.i18n import error_text
from chat_web.services import services
from chat_web.states.session import SessionState


class AuthFormState(rx.State):
    error: str = ""
    error_field: str = ""

    @rx.event
    async def sign_up(self, form: dict[str, str]):
        accounts = services().accounts
        fields = (form.get("username", ""), form.get("display_name", ""), form.get("password", ""))
        return await self._enter(accounts.register, *map(str, fields))

    @rx.event
    async def sign_in(self, form: dict[str, str]):
        accounts = services().accounts
        fields = (form.get("username", ""), form.get("password", ""))
        return await self._enter(accounts.login, *map(str, fields))

    async def _enter(self, action: Callable[..., tuple[User, str]], *fields: str):
        """Run sign-up or sign-in; on success adopt the session and go to the chats."""
        try:
            # argon2 takes ~100 ms by design: off the event loop, or every tab would stall.
            _, token = await asyncio.to_thread(
                action, *fields, client_ip=self.router.session.client_ip
            )
        except ChatError as exc:
            self.error = error_text(exc.code, exc.message, exc.params)
            self.error_field = str(exc.params.get("field", ""))
            return None
        self.error = self.error_field = ""
        return (await self.get_state(SessionState))._start(token)

    @rx.event
    def clear_error(self):
        self.error = self.error_field = ""
