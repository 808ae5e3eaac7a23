"""The settings dialog (gear in the sidebar header)."""

import reflex as rx

from chat_web.components.icon_button import icon_button
from chat_web.i18n import t
from chat_web.states.settings import SettingsState


def settings_dialog() -> rx.Component:
    return rx.dialog.root(
        rx.dialog.trigger(
            icon_button("settings", t("settings.title"), size=18, data_testid="settings-button")
        ),
        rx.dialog.content(
            rx.el.div(
                rx.dialog.title(t("settings.title")),
                rx.dialog.close(icon_button("x", t("common.close"), size=18)),
                class_name="dialog-header",
            ),
            rx.el.label(
                rx.el.input(
                    type="checkbox",
                    checked=SettingsState.hide_last_seen,
                    on_change=SettingsState.toggle_hide_last_seen,
                    data_testid="hide-last-seen",
                ),
                rx.el.span(t("presence.hide_last_seen")),
                class_name="setting-row",
            ),
            rx.el.p(t("settings.hide_last_seen_hint"), class_name="muted field-hint"),
        ),
        open=SettingsState.is_open,
        on_open_change=SettingsState.set_open,
    )
