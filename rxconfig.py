"""Reflex configuration. Everything product-specific comes from backend.settings.Settings."""

import reflex as rx

config = rx.Config(
    app_name="chat_web",
    telemetry_enabled=False,
    show_built_with_reflex=False,
    plugins=[rx.plugins.RadixThemesPlugin()],
    disable_plugins=[rx.plugins.SitemapPlugin],
)
