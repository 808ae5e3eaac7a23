"""The message info dialog: read by / delivered to / not yet, each with its time."""

import reflex as rx

from chat_web.components.icon_button import icon_button
from chat_web.components.local_time import local_time
from chat_web.i18n import t
from chat_web.states.message_info import MessageInfoState, ReceiptRow


def _row(row: ReceiptRow) -> rx.Component:
    return rx.el.li(
        rx.el.span(row.name, class_name="person-name"),
        rx.cond(
            row.at != "",
            local_time(
                iso=row.at,
                mode="last_seen",  # the same "today at / yesterday at / date at" sentences
                today=t("info.today_at"),
                yesterday=t("info.yesterday_at"),
                other=t("info.date_at"),
            ),
        ),
        class_name="receipt-row",
    )


def _section(title: str, rows: rx.Var[list[ReceiptRow]], test_id: str) -> rx.Component:
    return rx.cond(
        rows.length() > 0,
        rx.el.section(
            rx.el.h3(title, class_name="field-label"),
            rx.el.ul(rx.foreach(rows, _row), class_name="member-list"),
            data_testid=test_id,
        ),
    )


def message_info_dialog() -> rx.Component:
    return rx.dialog.root(
        rx.dialog.content(
            rx.el.div(
                rx.dialog.title(t("info.title")),
                rx.dialog.close(icon_button("x", t("common.close"), size=18)),
                class_name="dialog-header",
            ),
            rx.cond(
                MessageInfoState.error != "",
                rx.el.p(MessageInfoState.error, role="alert", class_name="form-error"),
            ),
            _section(t("info.read_by"), MessageInfoState.read_by, "info-read"),
            _section(t("info.delivered_to"), MessageInfoState.delivered_to, "info-delivered"),
            _section(t("info.waiting"), MessageInfoState.waiting, "info-waiting"),
        ),
        open=MessageInfoState.is_open,
        on_open_change=MessageInfoState.set_open,
    )
