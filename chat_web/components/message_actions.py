"""Message actions in the conversation (issue #7): the menu, the edit and forward dialogs,
reaction chips under a bubble and the composer's reply preview.

The menu is one dialog for the whole pane (rows of the virtual list only hold the button that
opens it), so a hundred bubbles don't each carry a menu.
"""

import reflex as rx

from backend.emoji import QUICK_REACTIONS
from chat_web.components.emoji_picker import more_reactions_button, reaction_picker
from chat_web.components.icon_button import icon_button
from chat_web.i18n import t
from chat_web.states.conversation import ConversationState
from chat_web.states.emoji import EmojiState
from chat_web.states.message_actions import EDIT_INPUT_ID, ForwardOption, MessageActionsState
from chat_web.views import MessageView, ReactionView


def actions_button(message: MessageView) -> rx.Component:
    """The button on a bubble that opens its menu (hover shows it; it is always focusable)."""
    return rx.el.button(
        rx.icon("chevron-down", size=16, aria_hidden="true"),
        type="button",
        on_click=MessageActionsState.open_menu(message.id),
        aria_label=t("actions.open"),
        aria_haspopup="dialog",
        title=t("actions.open"),
        class_name="actions-button",
        data_testid="message-actions",
    )


def _chip(reaction: ReactionView) -> rx.Component:
    return rx.el.span(
        rx.el.span(reaction.emoji, aria_hidden="true"),
        rx.cond(reaction.count > 1, rx.el.span(reaction.count, aria_hidden="true")),
        role="img",
        aria_label=reaction.label,
        title=reaction.label,
        tab_index=0,  # who reacted shows on focus as well as on hover
        class_name=rx.cond(reaction.mine, "reaction-chip mine", "reaction-chip"),
        data_emoji=reaction.emoji,
    )


@rx.memo
def reaction_chips(reactions: rx.Var[list[ReactionView]]) -> rx.Component:
    """Grouped reactions under a bubble; a memo component because rows of the virtual list
    cannot hold an ``rx.foreach`` (chat_web/components/virtual_list.py)."""
    return rx.el.div(
        rx.foreach(reactions, _chip),
        class_name="reaction-bubble",
        data_testid="reaction-bubble",
    )


def _menu_item(icon: str, label: rx.Var | str, on_click, test_id: str) -> rx.Component:
    return rx.el.button(
        rx.icon(icon, size=16, aria_hidden="true"),
        rx.el.span(label),
        type="button",
        on_click=on_click,
        class_name="menu-item",
        data_testid=test_id,
    )


def _quick_reactions() -> rx.Component:
    return rx.el.div(
        *[
            rx.el.button(
                emoji,
                type="button",
                on_click=MessageActionsState.react(name),
                aria_label=t("reactions.react_with", emoji=emoji),
                title=t("reactions.react_with", emoji=emoji),
                class_name="quick-reaction",
                data_testid=f"action-react-{name}",
            )
            for name, emoji in QUICK_REACTIONS.items()
        ],
        more_reactions_button(),
        role="group",
        aria_label=t("reactions.quick"),
        class_name="quick-reactions",
    )


def actions_menu() -> rx.Component:
    state = MessageActionsState
    live = ~state.menu_deleted
    return rx.dialog.root(
        rx.dialog.content(
            rx.el.div(
                rx.dialog.title(t("actions.title"), class_name="visually-hidden"),
                class_name="dialog-header",
            ),
            rx.cond(live, rx.fragment(_quick_reactions(), reaction_picker())),
            rx.el.div(
                rx.cond(
                    live,
                    rx.fragment(
                        _menu_item("reply", t("actions.reply"), state.reply, "action-reply"),
                        _menu_item(
                            "forward", t("actions.forward"), state.start_forward, "action-forward"
                        ),
                        _menu_item("star", state.menu_star_label, state.toggle_star, "action-star"),
                        _menu_item("copy", t("actions.copy"), state.copy, "action-copy"),
                    ),
                ),
                rx.cond(
                    state.menu_can_edit,
                    _menu_item("pencil", t("actions.edit"), state.start_edit, "action-edit"),
                ),
                rx.cond(
                    state.menu_mine,
                    _menu_item("info", t("info.open"), state.show_info, "action-info"),
                ),
                _menu_item(
                    "trash", t("actions.delete_me"), state.delete_for_me, "action-delete-me"
                ),
                rx.cond(
                    state.menu_can_delete_for_everyone,
                    _menu_item(
                        "trash-2",
                        t("actions.delete_everyone"),
                        state.delete_for_everyone,
                        "action-delete-everyone",
                    ),
                ),
                role="menu",
                aria_label=t("actions.open"),
                class_name="menu-items",
            ),
            rx.cond(
                state.error != "",
                rx.el.p(
                    state.error, role="alert", class_name="form-error", data_testid="action-error"
                ),
            ),
            class_name="actions-menu",
        ),
        open=(state.menu_id != "") & ~state.is_editing,
        on_open_change=[state.set_menu_open, EmojiState.menu_open_changed],
    )


def edit_dialog() -> rx.Component:
    state = MessageActionsState
    return rx.dialog.root(
        rx.dialog.content(
            rx.el.div(
                rx.dialog.title(t("actions.edit_title")),
                rx.dialog.close(icon_button("x", t("common.close"), size=18)),
                class_name="dialog-header",
            ),
            rx.el.form(
                rx.el.textarea(
                    id=EDIT_INPUT_ID,
                    name="text",
                    default_value=state.edit_text,
                    key=state.menu_id,
                    rows=3,
                    aria_label=t("actions.edit_title"),
                    auto_focus=True,
                    class_name="field-input",
                    data_testid="edit-input",
                ),
                rx.cond(
                    state.error != "",
                    rx.el.p(state.error, role="alert", class_name="form-error"),
                ),
                rx.el.button(
                    t("actions.save"),
                    type="submit",
                    class_name="primary-button",
                    data_testid="edit-save",
                ),
                on_submit=state.save_edit,
                class_name="edit-form",
            ),
        ),
        open=state.is_editing,
        on_open_change=state.set_edit_open,
    )


def _forward_option(option: ForwardOption) -> rx.Component:
    return rx.el.li(
        rx.el.label(
            rx.el.input(
                type="checkbox",
                checked=MessageActionsState.forward_chosen.contains(option.chat_id),
                on_change=MessageActionsState.toggle_forward_chat(option.chat_id),
                data_testid="forward-option-" + option.chat_id,
            ),
            rx.el.span(option.title),
            class_name="forward-option",
        )
    )


def forward_dialog() -> rx.Component:
    state = MessageActionsState
    return rx.dialog.root(
        rx.dialog.content(
            rx.el.div(
                rx.dialog.title(t("forward.title")),
                rx.dialog.close(icon_button("x", t("common.close"), size=18)),
                class_name="dialog-header",
            ),
            rx.el.input(
                type="search",
                placeholder=t("forward.search"),
                aria_label=t("forward.search"),
                value=state.forward_query,
                on_change=state.search_forward.debounce(150),
                class_name="field-input",
                data_testid="forward-search",
            ),
            rx.el.ul(rx.foreach(state.forward_options, _forward_option), class_name="people-list"),
            rx.cond(
                state.forward_options.length() == 0,
                rx.el.p(t("forward.none"), class_name="muted"),
            ),
            rx.cond(
                state.error != "",
                rx.el.p(state.error, role="alert", class_name="form-error"),
            ),
            rx.el.button(
                rx.icon("send-horizontal", size=16, aria_hidden="true"),
                rx.el.span(t("forward.send")),
                type="button",
                on_click=state.forward,
                disabled=state.forward_chosen.length() == 0,
                class_name="primary-button",
                data_testid="forward-confirm",
            ),
        ),
        open=state.is_forwarding,
        on_open_change=state.set_forward_open,
    )


def reply_preview() -> rx.Component:
    """Above the composer while replying: whom and what, and a button to stop replying."""
    return rx.cond(
        ConversationState.reply_id != "",
        rx.el.div(
            rx.el.div(
                rx.el.span(t("actions.replying"), class_name="visually-hidden"),
                rx.el.span(ConversationState.reply_sender, class_name="quote-sender"),
                rx.el.span(ConversationState.reply_text, class_name="quote-text"),
                class_name="quote",
            ),
            icon_button(
                "x",
                t("actions.cancel_reply"),
                size=16,
                on_click=ConversationState.cancel_reply,
                data_testid="reply-cancel",
            ),
            class_name="reply-preview",
            data_testid="reply-preview",
        ),
    )


def message_dialogs() -> rx.Component:
    return rx.fragment(actions_menu(), edit_dialog(), forward_dialog())
