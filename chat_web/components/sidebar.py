"""The left pane: who I am, the new-chat dialog, and the chat list."""

import reflex as rx

from chat_web.components.finder import search_box, search_results, starred_dialog
from chat_web.components.groups import new_group_dialog
from chat_web.components.icon_button import icon_button
from chat_web.components.local_time import local_time
from chat_web.components.settings import settings_dialog
from chat_web.components.status import status_tick
from chat_web.i18n import t
from chat_web.states.chat_list import ChatListState, PersonView
from chat_web.states.conversation import ConversationState
from chat_web.states.finder import FinderState
from chat_web.states.session import SessionState
from chat_web.views import ChatItemView


def _person_result(person: PersonView) -> rx.Component:
    return rx.el.li(
        rx.el.button(
            rx.el.span(person.display_name, class_name="person-name"),
            rx.el.span("@" + person.username, class_name="person-username"),
            type="button",
            on_click=ChatListState.start_chat(person.user_id),
            class_name="person-button",
            data_testid="new-chat-result-" + person.username,
        ),
    )


def new_chat_dialog() -> rx.Component:
    return rx.dialog.root(
        rx.dialog.trigger(
            icon_button("message-square-plus", t("chats.new_chat"), data_testid="new-chat-button")
        ),
        rx.dialog.content(
            rx.el.div(
                rx.dialog.title(t("chats.new_chat")),
                rx.dialog.close(icon_button("x", t("common.close"), size=18)),
                class_name="dialog-header",
            ),
            rx.el.input(
                type="search",
                placeholder=t("chats.search_people"),
                aria_label=t("chats.search_people"),
                value=ChatListState.people_query,
                on_change=ChatListState.search_people.debounce(150),
                auto_focus=True,
                class_name="field-input",
                data_testid="new-chat-search",
            ),
            rx.el.ul(rx.foreach(ChatListState.people, _person_result), class_name="people-list"),
            rx.cond(
                (ChatListState.people_query != "") & (ChatListState.people.length() == 0),
                rx.el.p(t("chats.no_results"), class_name="muted"),
            ),
            rx.cond(ChatListState.error != "", rx.el.p(ChatListState.error, role="alert")),
        ),
        open=ChatListState.is_new_chat_open,
        on_open_change=ChatListState.set_new_chat_open,
    )


def chat_item(chat: ChatItemView) -> rx.Component:
    is_current = ConversationState.chat_id == chat.chat_id
    return rx.el.li(
        rx.el.a(
            rx.el.div(
                rx.el.span(chat.title, class_name="chat-title"),
                rx.el.span(local_time(iso=chat.last_at, mode="smart"), class_name="chat-time"),
                class_name="chat-item-row",
            ),
            rx.el.div(
                rx.el.span(
                    rx.cond(chat.last_mine, status_tick(chat.last_status)),
                    chat.preview,
                    class_name="chat-preview",
                ),
                rx.cond(
                    chat.unread > 0,
                    rx.el.span(
                        chat.unread,
                        class_name="unread-badge",
                        aria_label=chat.unread_label,
                        data_testid="unread-badge",
                    ),
                ),
                class_name="chat-item-row",
            ),
            href="/chats/" + chat.chat_id,
            aria_current=rx.cond(is_current, "page", "false"),
            class_name="chat-item",
            data_testid="chat-item-" + chat.chat_id,
        )
    )


def sidebar() -> rx.Component:
    return rx.el.aside(
        rx.el.header(
            rx.el.div(
                rx.el.strong(SessionState.display_name, data_testid="me-name"),
                rx.el.span("@" + SessionState.username, class_name="muted"),
                class_name="me",
            ),
            new_chat_dialog(),
            new_group_dialog(),
            starred_dialog(),
            settings_dialog(),
            icon_button(
                "log-out",
                t("auth.sign_out"),
                size=18,
                on_click=SessionState.sign_out,
                data_testid="sign-out-button",
            ),
            class_name="sidebar-header",
        ),
        search_box(),
        rx.cond(FinderState.is_searching, search_results()),
        rx.el.nav(
            rx.el.h2(t("chats.title"), class_name="visually-hidden"),
            rx.cond(
                ChatListState.chats.length() == 0,
                rx.el.p(t("chats.empty"), class_name="muted empty-list"),
            ),
            rx.el.ul(rx.foreach(ChatListState.chats, chat_item), class_name="chat-list"),
            aria_label=t("chats.title"),
            hidden=FinderState.is_searching,
            class_name="chat-list-nav",
        ),
        class_name="sidebar",
    )
