"""The sign-in and sign-up forms (same shape, so one builder)."""

import reflex as rx

from chat_web.i18n import t
from chat_web.states.auth import AuthFormState


def _field(name: str, label: str, *, kind: str = "text", hint: str = "", **props) -> rx.Component:
    return rx.el.div(
        rx.el.label(label, html_for=f"field-{name}", class_name="field-label"),
        rx.el.input(
            id=f"field-{name}",
            name=name,
            type=kind,
            required=True,
            aria_invalid=rx.cond(AuthFormState.error_field == name, "true", "false"),
            aria_describedby=f"hint-{name}" if hint else None,
            class_name="field-input",
            **props,
        ),
        rx.cond(hint != "", rx.el.small(hint, id=f"hint-{name}", class_name="field-hint")),
        class_name="field",
    )


def auth_form(*, is_sign_up: bool) -> rx.Component:
    fields = [
        _field(
            "username",
            t("auth.username"),
            auto_complete="username",
            max_length=32,
            hint=t("auth.username_hint") if is_sign_up else "",
            auto_capitalize="none",
        ),
    ]
    if is_sign_up:
        fields.append(
            _field("display_name", t("auth.display_name"), auto_complete="name", max_length=64)
        )
    fields.append(
        _field(
            "password",
            t("auth.password"),
            kind="password",
            auto_complete="new-password" if is_sign_up else "current-password",
            hint=t("auth.password_hint") if is_sign_up else "",
        )
    )
    return rx.el.main(
        rx.el.form(
            rx.el.h1(t("auth.sign_up_title" if is_sign_up else "auth.sign_in_title")),
            *fields,
            rx.cond(
                AuthFormState.error != "",
                rx.el.p(
                    AuthFormState.error,
                    role="alert",
                    class_name="form-error",
                    data_testid="auth-error",
                ),
            ),
            rx.el.button(
                t("auth.sign_up" if is_sign_up else "auth.sign_in"),
                type="submit",
                class_name="primary-button",
                data_testid="auth-submit",
            ),
            rx.el.a(
                t("auth.have_account" if is_sign_up else "auth.need_account"),
                href="/login" if is_sign_up else "/signup",
                class_name="auth-switch",
            ),
            on_submit=AuthFormState.sign_up if is_sign_up else AuthFormState.sign_in,
            reset_on_submit=False,
            # Never a GET: a click before the page is live must not put a password in a URL.
            method="post",
            class_name="auth-card",
        ),
        class_name="auth-page",
        # Lets tests (and styles) know the page is connected and interactive.
        data_hydrated=rx.State.is_hydrated.to_string(),
    )
