"""The Reflex app: pages, stylesheet, PWA manifest and the small browser-side script."""

import asyncio
import logging

import reflex as rx

from backend.api.app import create_api
from chat_web.pages import auth, chats  # noqa: F401  (registers the pages)
from chat_web.services import services

log = logging.getLogger(__name__)

app = rx.App(
    # The public REST/WebSocket API answers its own routes; everything else falls to Reflex.
    api_transformer=create_api(services),
    stylesheets=["/styles.css"],
    head_components=[
        rx.el.link(rel="manifest", href="/manifest.json"),
        rx.el.meta(name="theme-color", content="#008069"),
        rx.el.meta(name="viewport", content="width=device-width, initial-scale=1"),
        rx.script(src="/chat.js"),
        rx.script(src="/media.js"),
    ],
    html_lang="en",
)
# The product's own connection banner (components/connection.py) replaces Reflex's overlay.
app.app_wraps.pop((5, "Overlay"), None)


@app.register_lifespan_task
def prepare_storage() -> None:
    """Create the data directory and migrate the schema at start, not on the first request."""
    services()


@app.register_lifespan_task
async def sweep_presence() -> None:
    """Take people whose connections stopped beating offline (a closed laptop, a lost
    network), a second or so after their presence lapses. With Redis every process sweeps
    the shared presence; each lapse is claimed, and announced, by exactly one of them."""
    presence = services().presence
    while True:
        await asyncio.sleep(1.0)
        try:
            presence.sweep()
        except Exception:  # a storage hiccup must not end presence for the process
            log.exception("presence sweep failed")


@app.register_lifespan_task
async def sweep_media() -> None:
    """Delete uploads nobody sent within the grace period (cancelled tabs, closed laptops), so
    they stop counting against their owners' quotas, and finish deleting files of deleted
    messages that a crash or a storage failure left behind. Every process may sweep: deletes
    are conditional, a file swept twice is gone once."""
    svc = services()
    media, interval = svc.media, svc.settings.media_sweep_seconds
    while True:
        await asyncio.sleep(interval)
        try:
            # Blob deletes are network calls on S3: off the event loop.
            await asyncio.to_thread(media.sweep)
        except Exception:  # storage down for a moment: the next sweep tries again
            log.exception("sweeping media failed")
