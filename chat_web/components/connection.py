"""The banner shown while the socket to the server is down."""

import reflex as rx
from reflex_components_core.core.banner import has_connection_errors

from chat_web.i18n import t


def connection_banner() -> rx.Component:
    return rx.cond(
        has_connection_errors,
        rx.el.div(
            rx.icon("wifi-off", size=16, aria_hidden="true"),
            rx.el.span(t("connection.lost")),
            role="status",
            class_name="connection-banner",
            data_testid="connection-banner",
        ),
    )
