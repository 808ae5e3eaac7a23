"""The right pane: the chat header, the message list and the composer."""

import reflex as rx

from chat_web.components.icon_button import icon_button
from chat_web.components.local_time import local_time
from chat_web.components.media import attach_controls, media_body  # media (issue #6)
from chat_web.components.status import status_tick
from chat_web.i18n import t
from chat_web.states.conversation import COMPOSER_ID, ConversationState
from chat_web.views import MessageView


def chat_header() -> rx.Component:
    return rx.el.header(
        icon_button(
            "arrow-left", t("chats.back"), href="/chats", class_name="icon-button back-button"
        ),
        rx.el.div(
            rx.el.h2(ConversationState.title, class_name="chat-header-title"),
            rx.el.span(ConversationState.subtitle, class_name="muted", data_testid="chat-subtitle"),
            class_name="chat-header-text",
        ),
        class_name="chat-header",
        data_testid="chat-header",
    )


@rx.memo
def bubble_body(
    text: rx.Var[str], sent_at: rx.Var[str], mine: rx.Var[bool], status: rx.Var[str]
) -> rx.Component:
    """The unchanging part of a bubble, memoised on plain values: when one message arrives,
    React skips the hundred bubbles around it instead of re-rendering each."""
    return rx.el.div(
        # Text is rendered as text (React escapes it): no user content ever becomes HTML.
        rx.el.p(text, class_name="message-text"),
        rx.el.div(
            local_time(iso=sent_at, mode="time"),
            rx.cond(mine, status_tick(status)),
            class_name="message-meta",
        ),
        class_name="bubble",
    )


def message_bubble(message: MessageView) -> rx.Component:
    return rx.el.li(
        media_body(message),  # media (issue #6): photo/video/document/voice above the text
        bubble_body(
            text=message.text, sent_at=message.sent_at, mine=message.mine, status=message.status
        ),
        rx.cond(
            message.status == "failed",
            rx.el.button(
                rx.icon("rotate-cw", size=14, aria_hidden="true"),
                t("conversation.retry"),
                type="button",
                on_click=ConversationState.retry(message.temp_id),
                class_name="retry-button",
                data_testid="retry-button",
            ),
        ),
        class_name=rx.cond(message.mine, "message mine", "message theirs"),
        data_message_id=message.id,
        data_status=message.status,
        data_testid="message",
        key=message.id,
    )


def message_list() -> rx.Component:
    return rx.el.section(
        rx.el.h3(t("conversation.messages"), class_name="visually-hidden"),
        rx.cond(
            ConversationState.has_older,
            rx.el.button(
                t("conversation.load_older"),
                type="button",
                on_click=ConversationState.load_older,
                disabled=ConversationState.is_loading_older,
                class_name="load-older",
                data_testid="load-older",
            ),
            rx.el.p(t("conversation.beginning"), class_name="muted beginning"),
        ),
        rx.el.ol(
            rx.foreach(ConversationState.history, message_bubble),
            rx.foreach(ConversationState.recent, message_bubble),
            class_name="messages",
        ),
        rx.cond(
            ConversationState.has_newer,
            rx.el.button(
                t("conversation.jump_latest"),
                type="button",
                on_click=ConversationState.jump_to_latest,
                class_name="jump-latest",
            ),
        ),
        id="message-list",
        tab_index=0,
        aria_label=t("conversation.messages"),
        class_name="message-list",
        data_testid="message-list",
    )


def composer() -> rx.Component:
    return rx.el.form(
        rx.cond(
            ConversationState.composer_error != "",
            rx.el.p(
                ConversationState.composer_error,
                role="alert",
                class_name="composer-error",
                data_testid="composer-error",
            ),
        ),
        rx.el.div(
            attach_controls(),  # media (issue #6): paperclip and voice-note buttons
            rx.el.textarea(
                id=COMPOSER_ID,
                name="text",
                rows=1,
                placeholder=t("conversation.placeholder"),
                aria_label=t("conversation.placeholder"),
                auto_complete="off",
                class_name="composer-input",
                data_testid="message-input",
            ),
            icon_button(
                "send-horizontal",
                t("conversation.send"),
                type="submit",
                class_name="send-button",
                data_testid="send-button",
            ),
            class_name="composer-row",
        ),
        on_submit=ConversationState.send,
        reset_on_submit=True,
        class_name="composer",
    )


def conversation_pane() -> rx.Component:
    return rx.el.section(
        rx.cond(
            ConversationState.chat_id == "",
            rx.el.div(rx.el.p(t("chats.pick_one")), class_name="empty-pane"),
            rx.cond(
                ConversationState.is_missing,
                rx.el.div(
                    rx.el.p(t("error.not_found"), role="alert", data_testid="chat-not-found"),
                    class_name="empty-pane",
                ),
                rx.fragment(chat_header(), message_list(), composer()),
            ),
        ),
        # New messages are announced politely to screen readers.
        rx.el.div(ConversationState.announcement, aria_live="polite", class_name="visually-hidden"),
        class_name="conversation",
    )
