"""/chats and /chats/{chat_id}: the two-pane messenger."""

import reflex as rx

from chat_web.components.connection import connection_banner
from chat_web.components.conversation import conversation_pane
from chat_web.components.media import media_plumbing
from chat_web.components.sidebar import sidebar
from chat_web.i18n import t
from chat_web.states.conversation import ConversationState
from chat_web.states.live import LiveState
from chat_web.states.session import SessionState

ON_LOAD = [SessionState.require_user, ConversationState.detect_time_zone, LiveState.listen]


def messenger() -> rx.Component:
    return rx.el.div(
        connection_banner(),
        # assets/chat.js presses these when the tab is shown or hidden (read receipts).
        rx.el.button(id="page-shown", hidden=True, on_click=ConversationState.page_shown),
        rx.el.button(id="page-hidden", hidden=True, on_click=ConversationState.page_hidden),
        # ... and this one every heartbeat_ms while the page is open (presence).
        rx.el.button(
            id="presence-beat",
            hidden=True,
            on_click=LiveState.heartbeat,
            data_interval_ms=LiveState.heartbeat_ms,
        ),
        media_plumbing(),  # assets/media.js sends uploaded files through it
        rx.el.div(
            sidebar(),
            conversation_pane(),
            class_name="app-shell",
            # On a phone only one pane fits: the list, or the open chat.
            data_chat_open=rx.cond(ConversationState.chat_id != "", "true", "false"),
            data_hydrated=rx.State.is_hydrated.to_string(),
        ),
    )


@rx.page(route="/chats", title=t("app.name"), on_load=ON_LOAD)
def chats() -> rx.Component:
    return messenger()


@rx.page(route="/chats/[chat_id]", title=t("app.name"), on_load=ON_LOAD)
def chat() -> rx.Component:
    return messenger()


@rx.page(route="/", title=t("app.name"), on_load=SessionState.require_user)
def index() -> rx.Component:
    return rx.el.div(on_mount=rx.redirect("/chats", replace=True))
