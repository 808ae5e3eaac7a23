"""The new-group dialog and the group info panel."""

import reflex as rx

from chat_web.components.gallery import media_gallery
from chat_web.components.icon_button import icon_button
from chat_web.i18n import t
from chat_web.states.chat_list import PersonView
from chat_web.states.conversation import ConversationState
from chat_web.states.groups import GroupState, MemberView


def _is_selected(person: PersonView) -> rx.Var[bool]:
    return GroupState.selected_ids.contains(person.user_id)


def _candidate(person: PersonView) -> rx.Component:
    selected = _is_selected(person)
    return rx.el.li(
        rx.el.button(
            rx.cond(selected, rx.icon("circle-check", size=18, aria_hidden="true")),
            rx.el.span(person.display_name, class_name="person-name"),
            rx.el.span("@" + person.username, class_name="person-username"),
            type="button",
            on_click=GroupState.toggle_member(person.user_id),
            aria_pressed=rx.cond(selected, "true", "false"),
            class_name="person-button",
            data_testid="group-member-result-" + person.username,
        ),
    )


def _chosen(person: PersonView) -> rx.Component:
    return rx.el.li(
        rx.el.button(
            person.display_name,
            rx.icon("x", size=14, aria_hidden="true"),
            type="button",
            on_click=GroupState.toggle_member(person.user_id),
            aria_label=t("groups.remove", name=person.display_name),
            class_name="chip",
        )
    )


def people_picker() -> rx.Component:
    """Search people and toggle them in or out of the selection."""
    return rx.fragment(
        rx.el.ul(rx.foreach(GroupState.selected, _chosen), class_name="chips"),
        rx.el.input(
            type="search",
            placeholder=t("groups.search_people"),
            aria_label=t("groups.search_people"),
            value=GroupState.member_query,
            on_change=GroupState.search_members.debounce(150),
            class_name="field-input",
            data_testid="group-member-search",
        ),
        rx.el.ul(rx.foreach(GroupState.member_results, _candidate), class_name="people-list"),
        rx.cond(
            GroupState.error != "",
            rx.el.p(GroupState.error, role="alert", class_name="form-error"),
        ),
    )


def new_group_dialog() -> rx.Component:
    return rx.dialog.root(
        rx.dialog.trigger(
            icon_button("users", t("groups.new_group"), data_testid="new-group-button")
        ),
        rx.dialog.content(
            rx.el.div(
                rx.dialog.title(t("groups.new_group")),
                rx.dialog.close(icon_button("x", t("common.close"), size=18)),
                class_name="dialog-header",
            ),
            rx.el.label(t("groups.name"), html_for="group-name", class_name="field-label"),
            rx.el.input(
                id="group-name",
                value=GroupState.group_title,
                on_change=GroupState.set_group_title,
                max_length=100,
                auto_focus=True,
                class_name="field-input",
                data_testid="group-name-input",
            ),
            rx.el.p(t("groups.add_people"), class_name="field-label"),
            people_picker(),
            rx.el.button(
                t("groups.create"),
                type="button",
                on_click=GroupState.create_group,
                disabled=GroupState.group_title.strip() == "",
                class_name="primary-button",
                data_testid="create-group-button",
            ),
        ),
        open=GroupState.is_new_group_open,
        on_open_change=GroupState.set_new_group_open,
    )


def _member_row(member: MemberView) -> rx.Component:
    return rx.el.li(
        rx.el.div(
            rx.el.span(member.display_name, class_name="person-name"),
            rx.el.span("@" + member.username, class_name="person-username"),
            class_name="member-who",
        ),
        rx.cond(member.role_label != "", rx.el.span(member.role_label, class_name="role-badge")),
        rx.cond(
            member.can_be_removed,
            rx.el.div(
                rx.cond(
                    member.is_admin,
                    icon_button(
                        "shield-off",
                        t("groups.dismiss_admin", name=member.display_name),
                        size=16,
                        on_click=GroupState.dismiss_admin(member.user_id),
                    ),
                    icon_button(
                        "shield",
                        t("groups.make_admin", name=member.display_name),
                        size=16,
                        on_click=GroupState.make_admin(member.user_id),
                        data_testid="make-admin-" + member.username,
                    ),
                ),
                icon_button(
                    "user-minus",
                    t("groups.remove", name=member.display_name),
                    size=16,
                    on_click=GroupState.remove_member(member.user_id),
                    data_testid="remove-member-" + member.username,
                ),
                class_name="member-actions",
            ),
        ),
        class_name="member-row",
        data_testid="group-member-" + member.username,
    )


def group_info_panel() -> rx.Component:
    return rx.dialog.root(
        rx.dialog.trigger(
            icon_button("info", t("groups.info"), size=18, data_testid="group-info-button")
        ),
        rx.dialog.content(
            rx.el.div(
                rx.dialog.title(t("groups.info")),
                rx.dialog.close(icon_button("x", t("common.close"), size=18)),
                class_name="dialog-header",
            ),
            rx.cond(
                GroupState.i_am_admin,
                rx.el.form(
                    rx.el.label(
                        t("groups.name"), html_for="group-rename", class_name="visually-hidden"
                    ),
                    rx.el.input(
                        id="group-rename",
                        value=GroupState.title_draft,
                        on_change=GroupState.set_title_draft,
                        max_length=100,
                        class_name="field-input",
                        data_testid="group-rename-input",
                    ),
                    rx.el.button(t("groups.save"), type="submit", class_name="secondary-button"),
                    on_submit=GroupState.rename,
                    class_name="rename-form",
                ),
                rx.el.h3(ConversationState.title),
            ),
            rx.el.p(GroupState.members_count_label, class_name="muted"),
            rx.cond(
                GroupState.i_am_admin & ConversationState.is_member,
                rx.cond(
                    GroupState.is_adding,
                    rx.el.div(
                        people_picker(),
                        rx.el.button(
                            t("groups.add_selected"),
                            type="button",
                            on_click=GroupState.add_selected,
                            disabled=GroupState.selected.length() == 0,
                            class_name="primary-button",
                            data_testid="add-members-confirm",
                        ),
                        class_name="add-members",
                    ),
                    rx.el.button(
                        rx.icon("user-plus", size=16, aria_hidden="true"),
                        t("groups.add_members"),
                        type="button",
                        on_click=GroupState.start_adding,
                        class_name="secondary-button",
                        data_testid="add-member-button",
                    ),
                ),
            ),
            rx.el.ul(rx.foreach(GroupState.members, _member_row), class_name="member-list"),
            media_gallery(),  # media (issue #6): what was shared here
            rx.cond(
                ConversationState.is_member,
                rx.el.button(
                    rx.icon("log-out", size=16, aria_hidden="true"),
                    t("groups.leave"),
                    type="button",
                    on_click=GroupState.leave_group,
                    class_name="danger-button",
                    data_testid="leave-group-button",
                ),
            ),
            class_name="info-panel",
        ),
        open=GroupState.is_info_open,
        on_open_change=GroupState.set_info_open,
    )
