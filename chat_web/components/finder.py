"""The ways back to a message (issue #7): the global search box with its filters and results,
the starred messages dialog (both paged), and the search inside the open chat."""

import reflex as rx

from chat_web.components.icon_button import icon_button
from chat_web.components.local_time import local_time
from chat_web.components.search_filters import search_filters
from chat_web.i18n import t
from chat_web.states.chat_search import ChatSearchState
from chat_web.states.finder import FinderState, FoundMessageView, SnippetPart


def search_box() -> rx.Component:
    return rx.el.div(
        rx.el.input(
            type="search",
            placeholder=t("search.label"),
            aria_label=t("search.label"),
            value=FinderState.query,
            on_change=FinderState.search.debounce(250),
            class_name="field-input search-input",
            data_testid="message-search",
        ),
        role="search",
        class_name="message-search",
    )


def _snippet_part(part: SnippetPart) -> rx.Component:
    # The matched words are marked as text (never markup from the message).
    return rx.cond(part.match, rx.el.mark(part.text), rx.el.span(part.text))


def _found_heading(found: FoundMessageView) -> rx.Component:
    return rx.el.div(
        rx.el.span(found.chat_title, class_name="chat-title"),
        rx.el.span(local_time(iso=found.sent_at, mode="smart"), class_name="chat-time"),
        class_name="chat-item-row",
    )


def _search_result(found: FoundMessageView) -> rx.Component:
    return rx.el.li(
        rx.el.button(
            _found_heading(found),
            rx.el.span(
                rx.el.span(found.sender_name + ": ", class_name="sender-name"),
                rx.cond(
                    found.kind_label != "",
                    rx.el.span(found.kind_label, class_name="found-kind"),
                ),
                rx.foreach(found.snippet, _snippet_part),
                class_name="chat-preview",
            ),
            type="button",
            on_click=FinderState.open_result(found.chat_id, found.message_id),
            class_name="chat-item found-item",
            data_testid="search-result-" + found.message_id,
        )
    )


def more_button(label: str, on_click, test_id: str) -> rx.Component:
    """Loads the next page; assets/chat.js presses it when it is scrolled into view."""
    return rx.el.button(
        label,
        type="button",
        on_click=on_click,
        class_name="more-button",
        data_load_on_view="true",
        data_testid=test_id,
    )


def search_results() -> rx.Component:
    """Shown in place of the chat list while there are words or filters."""
    return rx.el.section(
        rx.el.h2(t("search.results"), class_name="visually-hidden"),
        search_filters(),
        rx.el.div(
            rx.cond(
                FinderState.search_error != "",
                rx.el.p(FinderState.search_error, role="alert", class_name="form-error"),
                rx.cond(
                    FinderState.query.strip() == "",
                    rx.el.p(t("search.type_words"), class_name="muted empty-list"),
                    rx.cond(
                        FinderState.results.length() == 0,
                        rx.el.p(t("search.none"), class_name="muted empty-list"),
                    ),
                ),
            ),
            rx.el.ul(rx.foreach(FinderState.results, _search_result), class_name="chat-list"),
            aria_live="polite",
        ),
        rx.cond(
            FinderState.has_more_results,
            more_button(t("search.more"), FinderState.load_more_results, "search-more"),
        ),
        class_name="search-results",
        data_testid="search-results",
    )


def _starred_item(found: FoundMessageView) -> rx.Component:
    return rx.el.li(
        rx.el.button(
            _found_heading(found),
            rx.el.span(
                rx.el.span(found.sender_name + ": ", class_name="sender-name"),
                found.text,
                class_name="chat-preview",
            ),
            type="button",
            on_click=FinderState.open_starred(found.chat_id, found.message_id),
            class_name="chat-item found-item",
            data_message_id=found.message_id,
            data_testid="starred-item",
        )
    )


def starred_dialog() -> rx.Component:
    return rx.dialog.root(
        rx.dialog.trigger(icon_button("star", t("starred.open"), data_testid="starred-button")),
        rx.dialog.content(
            rx.el.div(
                rx.dialog.title(t("starred.open")),
                rx.dialog.close(icon_button("x", t("common.close"), size=18)),
                class_name="dialog-header",
            ),
            rx.cond(
                FinderState.starred.length() == 0,
                rx.el.p(t("starred.empty"), class_name="muted"),
            ),
            rx.el.ul(rx.foreach(FinderState.starred, _starred_item), class_name="chat-list"),
            rx.cond(
                FinderState.has_more_starred,
                more_button(t("starred.more"), FinderState.load_more_starred, "starred-more"),
            ),
            class_name="starred-dialog",
        ),
        open=FinderState.is_starred_open,
        on_open_change=FinderState.set_starred_open,
    )


def chat_search_button() -> rx.Component:
    return icon_button(
        "search",
        t("search.in_chat"),
        on_click=ChatSearchState.toggle,
        aria_expanded=ChatSearchState.is_open.to_string(),
        data_testid="chat-search-button",
    )


def chat_search_bar() -> rx.Component:
    """Under the header: words to find in this chat, and arrows stepping through the matches."""
    return rx.cond(
        ChatSearchState.is_open,
        rx.el.div(
            rx.el.input(
                type="search",
                placeholder=t("search.in_chat"),
                aria_label=t("search.in_chat"),
                value=ChatSearchState.query,
                on_change=ChatSearchState.search.debounce(300),
                auto_focus=True,
                class_name="field-input",
                data_testid="chat-search",
            ),
            rx.el.span(
                ChatSearchState.position,
                aria_live="polite",
                class_name="muted",
                data_testid="chat-search-position",
            ),
            icon_button(
                "chevron-up",
                t("search.older_match"),
                on_click=ChatSearchState.step(True),
                data_testid="chat-search-older",
            ),
            icon_button(
                "chevron-down",
                t("search.newer_match"),
                on_click=ChatSearchState.step(False),
                data_testid="chat-search-newer",
            ),
            role="search",
            class_name="chat-search-bar",
        ),
    )
