"""The filter row of the global search (issue #7): chat, sender, days and type. Every change
searches again from the first page."""

from typing import Any

import reflex as rx
from reflex.event import EventHandler

from chat_web.i18n import t
from chat_web.search_filters import TYPE_LABELS
from chat_web.states.finder import FilterOption, FinderState


def _option(option: FilterOption) -> rx.Component:
    return rx.el.option(option.label, value=option.value)


def _choice(
    label: str,
    any_label: str,
    options: rx.Component,
    value: rx.Var[str],
    on_change: EventHandler,
    test_id: str,
) -> rx.Component:
    """A labelled drop-down whose first choice means "any"."""
    return rx.el.label(
        rx.el.span(label, class_name="filter-label"),
        rx.el.select(
            rx.el.option(any_label, value=""),
            options,
            value=value,
            on_change=on_change,
            class_name="filter-select",
            data_testid=test_id,
        ),
        class_name="search-filter",
    )


def _day(
    label: str, value: rx.Var[str], on_change: EventHandler, test_id: str, **bounds: Any
) -> rx.Component:
    return rx.el.label(
        rx.el.span(label, class_name="filter-label"),
        rx.el.input(
            type="date",
            value=value,
            # Typing a year digit by digit makes a valid date at each step: wait for a pause.
            on_change=on_change.debounce(400),
            class_name="filter-date",
            data_testid=test_id,
            **bounds,
        ),
        class_name="search-filter",
    )


def search_filters() -> rx.Component:
    state = FinderState
    return rx.el.div(
        _choice(
            t("search.filter_chat"),
            t("search.any_chat"),
            rx.foreach(state.chat_options, _option),
            state.filter_chat,
            state.set_filter_chat,
            "search-filter-chat",
        ),
        _choice(
            t("search.filter_sender"),
            t("search.any_sender"),
            rx.foreach(state.sender_options, _option),
            state.filter_sender,
            state.set_filter_sender,
            "search-filter-sender",
        ),
        _day(
            t("search.filter_from"),
            state.filter_from,
            state.set_filter_from,
            "search-filter-from",
            max=state.filter_to,
        ),
        _day(
            t("search.filter_to"),
            state.filter_to,
            state.set_filter_to,
            "search-filter-to",
            min=state.filter_from,
        ),
        _choice(
            t("search.filter_type"),
            t("search.any_type"),
            rx.fragment(*[rx.el.option(t(key), value=value) for value, key in TYPE_LABELS.items()]),
            state.filter_type,
            state.set_filter_type,
            "search-filter-type",
        ),
        rx.cond(
            state.has_filters,
            rx.el.button(
                t("search.clear_filters"),
                type="button",
                on_click=state.clear_filters,
                class_name="link-button",
                data_testid="search-filter-clear",
            ),
        ),
        role="group",
        aria_label=t("search.filters"),
        class_name="search-filters",
    )
