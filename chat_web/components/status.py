"""The ticks on one's own messages: shape *and* label, never colour alone."""

import reflex as rx

from chat_web.i18n import t

_ICONS = {
    "pending": "clock-3",
    "sent": "check",
    "delivered": "check-check",
    "read": "check-check",
    "failed": "circle-alert",
}


def _tick(status: str) -> rx.Component:
    return rx.el.span(
        rx.icon(_ICONS[status], size=15, aria_hidden="true"),
        rx.el.span(t(f"status.{status}"), class_name="visually-hidden"),
        title=t(f"status.{status}"),
        role="img",
        aria_label=t(f"status.{status}"),
        class_name=f"tick tick-{status}",
        data_testid=f"status-{status}",
    )


def status_tick(status: rx.Var[str]) -> rx.Component:
    return rx.match(status, *[(s, _tick(s)) for s in _ICONS], rx.fragment())
