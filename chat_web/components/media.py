"""Media in the conversation: photo, video, document and voice bubbles, the composer's attach
and record buttons, and the hidden plumbing assets/media.js uses to send an uploaded file.

The upload panel (preview, caption, progress, cancel) and the full-screen photo viewer are
drawn by assets/media.js outside React's tree; their words come from ``media_strings``.
"""

import reflex as rx

from chat_web.components.icon_button import icon_button
from chat_web.i18n import CATALOGUE_EN, t
from chat_web.states.media import PAYLOAD_JS, SEND_BUTTON_ID, MediaState
from chat_web.views import MessageView

MEDIA_URL = "/api/v1/media/"


def _url(message: MessageView, variant: str = "") -> rx.Var:
    return MEDIA_URL + message.media_id + (f"/{variant}" if variant else "")


def photo(message: MessageView) -> rx.Component:
    return rx.el.button(
        rx.el.img(
            src=_url(message, "preview"),
            alt=rx.cond(message.text != "", message.text, t("media.photo")),
            loading="lazy",
            decoding="async",
            width=message.width,
            height=message.height,
            # The blurred placeholder travels in the message: something shows at once.
            style={"backgroundImage": "url(" + message.placeholder + ")"},
            class_name="media-photo",
            data_testid="message-image",
        ),
        type="button",
        aria_label=t("media.open_photo"),
        class_name="media-open",
        data_full=_url(message, "full"),
        data_media_id=message.media_id,
    )


def video(message: MessageView) -> rx.Component:
    return rx.el.div(
        rx.el.video(
            src=_url(message),
            poster=_url(message, "poster"),
            controls=True,
            preload="none",
            width=message.width,
            height=message.height,
            aria_label=t("media.video"),
            class_name="media-video",
            data_testid="message-video",
        ),
        rx.el.span(message.media_info, class_name="media-duration"),
        class_name="media-video-box",
    )


def document(message: MessageView) -> rx.Component:
    return rx.el.a(
        rx.icon("file-text", size=28, aria_hidden="true"),
        rx.el.span(
            rx.el.span(message.media_name, class_name="media-document-name"),
            rx.el.span(message.media_info, class_name="muted media-document-info"),
            class_name="media-document-text",
        ),
        rx.icon("download", size=18, aria_hidden="true"),
        href=_url(message),
        download=message.media_name,
        # A file, not a page of the app: the browser downloads it (no client-side routing).
        reload_document=True,
        title=t("media.download"),
        class_name="media-document",
        data_testid="message-document",
    )


@rx.memo
def waveform_bars(bars: rx.Var[list[int]]) -> rx.Component:
    """A memo component of its own: rows of the virtual list are rendered as one JavaScript
    expression, and Reflex cannot put an ``rx.foreach`` inside one."""
    return rx.el.div(
        rx.foreach(bars, lambda bar: rx.el.span(style={"blockSize": bar.to_string() + "%"})),
        class_name="media-waveform",
        aria_hidden="true",
    )


def voice(message: MessageView) -> rx.Component:
    return rx.el.div(
        rx.el.audio(
            src=_url(message),
            controls=True,
            preload="metadata",
            aria_label=t("media.voice"),
            class_name="media-audio",
            data_testid="message-voice",
        ),
        waveform_bars(bars=message.waveform),
        rx.el.span(message.media_info, class_name="media-duration"),
        class_name="media-voice",
    )


def media_body(message: MessageView) -> rx.Component:
    """The media part of a bubble, by the message's type (nothing for text)."""
    return rx.match(
        message.kind,
        ("image", rx.el.div(photo(message), class_name="media-block")),
        ("video", rx.el.div(video(message), class_name="media-block")),
        ("document", rx.el.div(document(message), class_name="media-block")),
        ("voice", rx.el.div(voice(message), class_name="media-block")),
        rx.fragment(),
    )


def attach_controls() -> rx.Component:
    """The composer's paperclip (a real file input) and the voice-note button."""
    return rx.fragment(
        rx.el.label(
            rx.icon("paperclip", size=20, aria_hidden="true"),
            rx.el.input(
                type="file",
                multiple=True,
                class_name="visually-hidden",
                aria_label=t("media.attach"),
                data_testid="attach-input",
            ),
            title=t("media.attach"),
            class_name="icon-button attach-button",
        ),
        icon_button(
            "mic",
            t("media.record_voice"),
            class_name="icon-button voice-record-button",
            data_testid="voice-record-button",
        ),
    )


MEDIA_STRING_KEYS = [k for k in CATALOGUE_EN if k.startswith("media.")]


def media_plumbing() -> rx.Component:
    """Hidden parts assets/media.js needs: the send button and the UI's words."""
    return rx.fragment(
        rx.el.button(
            id=SEND_BUTTON_ID,
            hidden=True,
            on_click=MediaState.send_media(rx.Var(PAYLOAD_JS).to(str)),
        ),
        rx.el.div(
            id="media-strings",
            hidden=True,
            **{f"data_{k.removeprefix('media.')}": t(k) for k in MEDIA_STRING_KEYS},
        ),
    )
