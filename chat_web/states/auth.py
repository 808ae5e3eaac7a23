"""The sign-up and sign-in forms."""

from __future__ import annotations

import asyncio

import reflex as rx

from backend.errors import ChatError
from chat_web.i18n import error_text
from chat_web.services import services
from chat_web.states.session import SessionState


class AuthFormState(rx.State):
    error: str = ""
    error_field: str = ""

    @rx.event
    async def sign_up(self, form: dict[str, str]):
        try:
            # argon2 takes ~100 ms by design: off the event loop, or every tab would stall.
            _, token = await asyncio.to_thread(
                services().accounts.register,
                str(form.get("username", "")),
                str(form.get("display_name", "")),
                str(form.get("password", "")),
                client_ip=self.router.session.client_ip,
            )
        except ChatError as exc:
            return self._fail(exc)
        return await self._signed_in(token)

    @rx.event
    async def sign_in(self, form: dict[str, str]):
        try:
            _, token = await asyncio.to_thread(
                services().accounts.login,
                str(form.get("username", "")),
                str(form.get("password", "")),
                client_ip=self.router.session.client_ip,
            )
        except ChatError as exc:
            return self._fail(exc)
        return await self._signed_in(token)

    @rx.event
    def clear_error(self):
        self.error = self.error_field = ""

    def _fail(self, exc: ChatError) -> None:
        self.error = error_text(exc.code, exc.message, exc.params)
        self.error_field = str(exc.params.get("field", ""))

    async def _signed_in(self, token: str):
        self.error = self.error_field = ""
        session = await self.get_state(SessionState)
        return session._start(token)
