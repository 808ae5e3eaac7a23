"""The right pane: the chat header, the message list and the composer."""

import reflex as rx

from chat_web.components.emoji_picker import composer_emoji_button
from chat_web.components.finder import chat_search_bar, chat_search_button
from chat_web.components.gallery import contact_info_panel
from chat_web.components.groups import group_info_panel
from chat_web.components.icon_button import icon_button
from chat_web.components.local_time import local_time
from chat_web.components.media import attach_controls, media_body  # media (issue #6)
from chat_web.components.message_actions import (
    actions_button,
    message_dialogs,
    reaction_chips,
    reply_preview,
)
from chat_web.components.message_info import message_info_dialog
from chat_web.components.status import status_tick
from chat_web.components.virtual_list import virtual_list
from chat_web.i18n import t
from chat_web.states.conversation import COMPOSER_ID, ConversationState
from chat_web.states.message_actions import MessageActionsState
from chat_web.views import MessageView, TextPart


def _presence() -> rx.Component:
    """ "online" / "last seen today at 15:45" (in the viewer's zone), for a 1:1 chat."""
    return rx.el.span(
        rx.cond(
            ConversationState.peer_online,
            t("presence.online"),
            rx.cond(
                ConversationState.peer_last_seen != "",
                local_time(
                    iso=ConversationState.peer_last_seen,
                    mode="last_seen",
                    today=t("presence.last_seen_today"),
                    yesterday=t("presence.last_seen_yesterday"),
                    other=t("presence.last_seen_date"),
                ),
            ),
        ),
        class_name="muted presence",
        data_testid="presence-status",
        data_online=ConversationState.peer_online.to_string(),
    )


def _header_line() -> rx.Component:
    """Under the title: who is typing, else presence (1:1) or the members (group)."""
    return rx.cond(
        ConversationState.typing_text != "",
        rx.el.span(
            ConversationState.typing_text,
            class_name="typing",
            aria_live="polite",
            data_testid="typing-indicator",
        ),
        rx.cond(
            ConversationState.is_group,
            rx.el.span(
                ConversationState.members_label, class_name="muted", data_testid="chat-members"
            ),
            rx.fragment(
                rx.el.span(
                    ConversationState.subtitle,
                    class_name="visually-hidden",
                    data_testid="chat-subtitle",
                ),
                _presence(),
            ),
        ),
    )


def chat_header() -> rx.Component:
    return rx.el.header(
        icon_button(
            "arrow-left", t("chats.back"), href="/chats", class_name="icon-button back-button"
        ),
        rx.el.div(
            rx.el.h2(ConversationState.title, class_name="chat-header-title"),
            _header_line(),
            class_name="chat-header-text",
        ),
        chat_search_button(),  # issue #7: find in this chat
        # The chat's info panel (its media gallery: issue #6), for a group or a person.
        rx.cond(ConversationState.is_group, group_info_panel(), contact_info_panel()),
        class_name="chat-header",
        data_testid="chat-header",
    )


def _text_part(part: TextPart) -> rx.Component:
    return rx.cond(
        part.href != "",
        # Only http(s)/mailto are ever cut out as links (chat_web/views.py text_parts).
        rx.el.a(part.text, href=part.href, target="_blank", rel="noopener noreferrer"),
        rx.el.span(part.text),
    )


@rx.memo
def bubble_body(
    text: rx.Var[str],
    sent_at: rx.Var[str],
    mine: rx.Var[bool],
    status: rx.Var[str],
    sender_name: rx.Var[str],
    reply_id: rx.Var[str],
    quote_sender: rx.Var[str],
    quote_text: rx.Var[str],
    forwarded: rx.Var[bool],
    edited: rx.Var[bool],
    deleted: rx.Var[bool],
    starred: rx.Var[bool],
    parts: rx.Var[list[TextPart]],
) -> rx.Component:
    """The unchanging part of a bubble, memoised on plain values: when one message arrives,
    React skips the hundred bubbles around it instead of re-rendering each."""
    return rx.el.div(
        rx.cond(sender_name != "", rx.el.span(sender_name, class_name="sender-name")),
        rx.cond(
            forwarded,
            rx.el.span(
                rx.icon("forward", size=12, aria_hidden="true"),
                t("message.forwarded"),
                class_name="forwarded-label",
                data_testid="forwarded-label",
            ),
        ),
        rx.cond(
            reply_id != "",
            # assets/chat.js scrolls to the original (loading older pages) on a click.
            rx.el.button(
                rx.el.span(quote_sender, class_name="quote-sender"),
                rx.el.span(quote_text, class_name="quote-text"),
                type="button",
                title=t("message.go_to_original"),
                class_name="quote quoted-message",
                data_jump=reply_id,
                data_testid="quoted-message",
            ),
        ),
        # Text is rendered as text (React escapes it): no user content ever becomes HTML.
        rx.cond(
            parts.length() > 0,
            rx.el.p(rx.foreach(parts, _text_part), class_name="message-text"),
            rx.el.p(text, class_name=rx.cond(deleted, "message-text deleted", "message-text")),
        ),
        rx.el.div(
            rx.cond(
                starred,
                rx.icon("star", size=12, aria_label=t("message.starred"), data_testid="star-mark"),
            ),
            rx.cond(edited, rx.el.span(t("message.edited"), data_testid="edited-label")),
            local_time(iso=sent_at, mode="time"),
            rx.cond(mine, status_tick(status)),
            class_name="message-meta",
        ),
        class_name="bubble",
    )


def _day_and_divider(message: MessageView) -> rx.Component:
    return rx.fragment(
        rx.cond(
            message.day_label != "",
            rx.el.div(
                rx.el.span(message.day_label),
                class_name="day-separator",
                role="separator",
                data_testid="day-separator",
            ),
        ),
        rx.cond(
            message.id == ConversationState.unread_divider_id,
            rx.el.div(
                rx.el.span(ConversationState.unread_label),
                class_name="unread-divider",
                role="separator",
                data_testid="unread-divider",
            ),
        ),
    )


def message_row(message: MessageView) -> rx.Component:
    """One row of the virtual list: separators above it, then the line or the bubble."""
    return rx.el.div(
        _day_and_divider(message),
        rx.cond(message.kind == "system", system_line(message), message_bubble(message)),
        class_name="message-row",
    )


def system_line(message: MessageView) -> rx.Component:
    return rx.el.div(
        rx.el.span(message.text),
        class_name="system-line",
        data_message_id=message.id,
        data_testid="system-message",
    )


def message_bubble(message: MessageView) -> rx.Component:
    return rx.el.div(
        media_body(message),  # media (issue #6): photo/video/document/voice above the text
        bubble_body(
            text=message.text,
            sent_at=message.sent_at,
            mine=message.mine,
            status=message.status,
            sender_name=message.sender_name,
            reply_id=message.reply_id,
            quote_sender=message.quote_sender,
            quote_text=message.quote_text,
            forwarded=message.forwarded,
            edited=message.edited,
            deleted=message.deleted,
            starred=message.starred,
            parts=message.parts,
        ),
        # Message actions (issue #7): the menu (info moved into it), then the reactions.
        rx.cond(
            (message.status != "pending") & (message.status != "failed"),
            actions_button(message),
        ),
        rx.cond(message.reactions.length() > 0, reaction_chips(reactions=message.reactions)),
        rx.cond(
            (message.status == "failed") & ~message.is_upload,  # a file has its own Retry
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
        # Right-click (and a long press, which browsers turn into one) opens the menu.
        on_context_menu=MessageActionsState.open_menu(message.id).prevent_default,
        # Focusable, for the keyboard map in assets/chat.js (Enter: menu, R: reply, F: forward).
        tab_index=0,
        data_message_id=message.id,
        data_status=message.status,
        data_testid="message",
    )


def _list_top() -> rx.Component:
    return rx.cond(
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
    )


SHORT_CHAT = 30  # fewer messages than this may not fill the pane
ROW_HEIGHT = 64  # a one-line bubble with its time, in CSS pixels (assets/styles.css)


def message_list() -> rx.Component:
    window = ConversationState.history + ConversationState.recent
    return rx.el.section(
        rx.el.h3(t("conversation.messages"), class_name="visually-hidden"),
        virtual_list(
            window,
            MessageView,
            message_row,
            header=_list_top(),
            # Rows put above (older pages) lower this, so the rows in view stay in place.
            first_item_index=ConversationState.first_index,
            # A chat opens at its newest message, and short chats sit at the bottom.
            initial_top_most_item_index={"index": "LAST", "align": "end"},
            # Only for chats too short to scroll: Virtuoso's bottom alignment makes pages put
            # above jump, and a chat with older pages fills the pane anyway.
            align_to_bottom=(~ConversationState.has_older) & (window.length() < SHORT_CHAT),
            # New messages scroll into view only for a reader who is at the bottom already:
            # assets/chat.js follows the end, not Virtuoso's followOutput (which lost the end
            # in long chats, once the window trims rows from its top).
            start_reached=ConversationState.load_older,
            increase_viewport_by={"top": 200, "bottom": 100},
            default_item_height=ROW_HEIGHT,
            # Rows are keyed by the client's temp id where there is one: a pending bubble
            # and the stored message that replaces it are the same row, not a new one.
            key_js="item.temp_id || item.id",
            key=ConversationState.list_key,
            id="message-list",
            tab_index=0,
            aria_label=t("conversation.messages"),
            class_name="message-list",
            data_testid="message-list",
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
        class_name="message-pane",
    )


def composer() -> rx.Component:
    return rx.cond(
        ConversationState.is_member,
        _composer_form(),
        rx.el.p(t("groups.not_member"), class_name="not-member muted", data_testid="not-member"),
    )


def _composer_form() -> rx.Component:
    return rx.el.form(
        reply_preview(),
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
            composer_emoji_button(),  # issue #7: Ctrl/Cmd+E
            rx.el.textarea(
                id=COMPOSER_ID,
                name="text",
                rows=1,
                placeholder=t("conversation.placeholder"),
                aria_label=t("conversation.placeholder"),
                auto_complete="off",
                # Others see "typing…": at most one signal every 2 s while keys are pressed.
                on_change=ConversationState.typing.throttle(2000),
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
                rx.fragment(
                    chat_header(),
                    chat_search_bar(),
                    message_list(),
                    composer(),
                    message_info_dialog(),
                    message_dialogs(),
                ),
            ),
        ),
        # New messages are announced politely to screen readers.
        rx.el.div(ConversationState.announcement, aria_live="polite", class_name="visually-hidden"),
        class_name="conversation",
    )
