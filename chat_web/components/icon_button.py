"""A button (or link) that shows only an icon: its label is still there for screen readers."""

import reflex as rx


def icon_button(icon: str, label: str, *, size: int = 20, href: str = "", **props) -> rx.Component:
    """``label`` names the action for assistive technology and as a tooltip."""
    props.setdefault("class_name", "icon-button")
    content = rx.icon(icon, size=size, aria_hidden="true")
    if href:
        return rx.el.a(content, href=href, aria_label=label, title=label, **props)
    props.setdefault("type", "button")
    return rx.el.button(content, aria_label=label, title=label, **props)
