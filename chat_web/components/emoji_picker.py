"""The searchable emoji picker: in the composer it types the emoji (assets/chat.js inserts it at
the caret); in the message menu it reacts with it."""

import reflex as rx

from chat_web.components.icon_button import icon_button
from chat_web.i18n import t
from chat_web.states.emoji import EmojiState, EmojiView
from chat_web.states.message_actions import MessageActionsState


def _grid(option) -> rx.Component:
    return rx.el.div(
        rx.el.input(
            type="search",
            placeholder=t("emoji.search"),
            aria_label=t("emoji.search"),
            value=EmojiState.query,
            on_change=EmojiState.search.debounce(120),
            auto_focus=True,
            class_name="field-input",
            data_testid="emoji-search",
        ),
        rx.el.div(
            rx.foreach(EmojiState.emojis, option),
            role="group",
            aria_label=t("emoji.title"),
            class_name="emoji-grid",
        ),
        rx.cond(EmojiState.emojis.length() == 0, rx.el.p(t("emoji.none"), class_name="muted")),
        class_name="emoji-picker",
        data_testid="emoji-picker",
    )


def _composer_option(emoji: EmojiView) -> rx.Component:
    return rx.el.button(
        emoji.emoji,
        type="button",
        aria_label=emoji.name,
        title=emoji.name,
        on_click=EmojiState.close,
        class_name="emoji-option",
        data_insert=emoji.emoji,  # assets/chat.js puts it into the composer
        data_testid="emoji-option",
    )


def _reaction_option(emoji: EmojiView) -> rx.Component:
    return rx.el.button(
        emoji.emoji,
        type="button",
        aria_label=t("reactions.react_with", emoji="") + emoji.name,
        title=emoji.name,
        on_click=[MessageActionsState.react(emoji.emoji), EmojiState.close],
        class_name="emoji-option",
        data_testid="emoji-option",
    )


def composer_emoji_button() -> rx.Component:
    return rx.popover.root(
        rx.popover.trigger(
            icon_button(
                "smile", t("emoji.open"), class_name="icon-button", data_testid="emoji-button"
            )
        ),
        rx.popover.content(_grid(_composer_option), side="top", align="start"),
        open=EmojiState.is_composer_open,
        on_open_change=EmojiState.set_composer_open,
    )


def reaction_picker() -> rx.Component:
    """Inside the message menu: "+" opens the picker under the quick reactions."""
    return rx.cond(EmojiState.is_reaction_open, _grid(_reaction_option))


def more_reactions_button() -> rx.Component:
    return icon_button(
        "plus",
        t("emoji.more_reactions"),
        size=18,
        on_click=EmojiState.toggle_reaction_picker,
        class_name="quick-reaction",
        data_testid="action-react-more",
    )
