"""/login and /signup."""

import reflex as rx

from chat_web.components.auth_form import auth_form
from chat_web.i18n import t
from chat_web.states.auth import AuthFormState
from chat_web.states.session import SessionState


@rx.page(
    route="/login",
    title=t("auth.sign_in_title"),
    on_load=[AuthFormState.clear_error, SessionState.skip_if_signed_in],
)
def login() -> rx.Component:
    return auth_form(is_sign_up=False)


@rx.page(
    route="/signup",
    title=t("auth.sign_up_title"),
    on_load=[AuthFormState.clear_error, SessionState.skip_if_signed_in],
)
def signup() -> rx.Component:
    return auth_form(is_sign_up=True)
