"""Who is signed in: the session token lives in a cookie, the user is looked up on the server."""

from __future__ import annotations

import reflex as rx

from backend.errors import Unauthenticated
from chat_web.services import services

SESSION_COOKIE_MAX_AGE = 30 * 24 * 3600


class SessionState(rx.State):
    # The token survives reloads and new tabs; the server-side session record decides whether it
    # is still good (expiry, sign-out), so a stolen-then-revoked cookie is worthless.
    token: str = rx.Cookie(
        "", name="chat_session", max_age=SESSION_COOKIE_MAX_AGE, same_site="strict"
    )
    user_id: str = ""
    username: str = ""
    display_name: str = ""

    def _authenticate(self) -> bool:
        try:
            user = services().accounts.authenticate(self.token)
        except Unauthenticated:
            self.user_id = self.username = self.display_name = ""
            return False
        self.user_id, self.username, self.display_name = user.id, user.username, user.display_name
        return True

    def _authenticated_user_id(self) -> str:
        """The signed-in user's id ("" if none), checking the token if not done yet."""
        if not self.user_id:
            self._authenticate()
        return self.user_id

    def _verified_user_id(self) -> str:
        """The signed-in user's id after checking the session again ("" if it has ended).

        User actions call this, so a session signed out in another tab or expired while this
        one stayed open stops working at once, not at the next reload.
        """
        self._authenticate()
        return self.user_id

    @rx.event
    def require_user(self):
        """on_load of the app's pages: send strangers and expired sessions to the sign-in page."""
        if not self._authenticate():
            return rx.redirect("/login", replace=True)

    @rx.event
    def skip_if_signed_in(self):
        """on_load of the sign-in and sign-up pages."""
        if self.token and self._authenticate():
            return rx.redirect("/chats", replace=True)

    def _start(self, token: str):
        """Adopt a freshly issued token and go to the chats."""
        self.token = token
        self._authenticate()
        return rx.redirect("/chats", replace=True)

    @rx.event
    def sign_out(self):
        services().accounts.logout(self.token)
        self.token = ""
        self.user_id = self.username = self.display_name = ""
        return rx.redirect("/login", replace=True)
