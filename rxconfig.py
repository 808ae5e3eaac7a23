"""Reflex configuration. Everything product-specific comes from backend.settings.Settings."""

import os

import reflex as rx

config = rx.Config(
    app_name="chat_web",
    telemetry_enabled=False,
    show_built_with_reflex=False,
    plugins=[rx.plugins.RadixThemesPlugin()],
    disable_plugins=[rx.plugins.SitemapPlugin],
    # One setting for the user: the REDIS_URL of the product's bus also holds Reflex's state, so
    # any backend process can serve any tab (REFLEX_REDIS_URL still overrides, as in Reflex).
    redis_url=os.environ.get("REDIS_URL") or None,
)
