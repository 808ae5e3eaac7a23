"""Media in the conversation: photo, video, document and voice bubbles, the bubble of a file
on its way (local preview, progress, cancel, retry), the composer's attach and record buttons,
and the hidden plumbing assets/media.js uses to report on its uploads.

The attach panel (preview, caption) and the full-screen viewer are drawn by assets/media.js
outside React's tree; their words come from ``media_strings``.
"""

import reflex as rx

from chat_web.components.icon_button import icon_button
from chat_web.i18n import CATALOGUE_EN, t
from chat_web.states.media import (
    CANCEL_BUTTON_ID,
    FAILED_BUTTON_ID,
    PAYLOAD_JS,
    SEND_BUTTON_ID,
    START_BUTTON_ID,
    MediaState,
)
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
        data_kind="image",
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
        rx.el.div(
            rx.el.span(message.media_info, class_name="media-duration"),
            # The full-screen viewer, which steps through the chat's photos and videos.
            rx.el.button(
                rx.icon("maximize-2", size=14, aria_hidden="true"),
                type="button",
                aria_label=t("media.open_video"),
                title=t("media.open_video"),
                class_name="media-open media-expand",
                data_media_id=message.media_id,
                data_kind="video",
                data_full=_url(message),
                data_poster=_url(message, "poster"),
            ),
            class_name="media-video-meta",
        ),
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


def _local_file(message: MessageView, icon: str) -> rx.Component:
    return rx.el.div(
        rx.icon(icon, size=28, aria_hidden="true"),
        rx.el.span(
            rx.el.span(message.media_name, class_name="media-document-name"),
            rx.el.span(message.media_info, class_name="muted media-document-info"),
            class_name="media-document-text",
        ),
        class_name="media-document",
    )


def _local_preview(message: MessageView) -> rx.Component:
    """The file as this tab has it, before the server does: a photo or video from its blob:
    URL, else its name with its size (a document) or length (a voice note)."""
    return rx.match(
        message.kind,
        (
            "image",
            rx.cond(
                message.local_url != "",
                rx.el.img(
                    src=message.local_url,
                    alt=rx.cond(message.text != "", message.text, t("media.photo")),
                    class_name="media-photo upload-preview",
                    data_testid="upload-preview",
                ),
                _local_file(message, "image"),
            ),
        ),
        (
            "video",
            rx.cond(
                message.local_url != "",
                rx.el.video(
                    src=message.local_url,
                    muted=True,
                    preload="metadata",
                    aria_label=t("media.video"),
                    class_name="media-video upload-preview",
                    data_testid="upload-preview",
                ),
                _local_file(message, "video"),
            ),
        ),
        ("voice", _local_file(message, "mic")),
        _local_file(message, "file-text"),
    )


def _upload_controls(message: MessageView) -> rx.Component:
    """Progress and cancel while the file travels; Retry and cancel when it failed. The
    buttons are assets/media.js's (it holds the file); the bar is filled by it too."""
    failed = message.status == "failed"
    travelling = (message.status == "pending") & (message.media_id == "")
    return rx.el.div(
        rx.cond(
            travelling,
            rx.el.progress(
                max=100,
                aria_label=t("media.upload_progress"),
                class_name="upload-progress",
                data_upload_progress=message.temp_id,
                data_testid="upload-progress",
            ),
        ),
        rx.cond(
            failed,
            rx.el.button(
                rx.icon("rotate-cw", size=14, aria_hidden="true"),
                t("media.retry"),
                type="button",
                class_name="upload-retry",
                data_upload_retry=message.temp_id,
                data_testid="upload-retry",
            ),
        ),
        rx.cond(
            failed | travelling,
            icon_button(
                "x",
                t("media.cancel_upload"),
                size=16,
                class_name="icon-button upload-cancel",
                data_upload_cancel=message.temp_id,
                data_testid="upload-cancel",
            ),
        ),
        class_name="upload-controls",
    )


def upload_body(message: MessageView) -> rx.Component:
    """The media part of the bubble of a file this tab is uploading."""
    return rx.el.div(
        _local_preview(message),
        _upload_controls(message),
        class_name="media-block upload-block",
        aria_busy=rx.cond(message.status == "pending", "true", "false"),
    )


def media_body(message: MessageView) -> rx.Component:
    """The media part of a bubble, by the message's type (nothing for text)."""
    return rx.cond(
        message.is_upload,
        upload_body(message),
        rx.match(
            message.kind,
            ("image", rx.el.div(photo(message), class_name="media-block")),
            ("video", rx.el.div(video(message), class_name="media-block")),
            ("document", rx.el.div(document(message), class_name="media-block")),
            ("voice", rx.el.div(voice(message), class_name="media-block")),
            rx.fragment(),
        ),
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
    """Hidden parts assets/media.js needs: the buttons that report on its uploads (see
    chat_web/states/media.py) and the UI's words."""
    payload = rx.Var(PAYLOAD_JS).to(str)
    return rx.fragment(
        rx.el.button(id=START_BUTTON_ID, hidden=True, on_click=MediaState.start_upload(payload)),
        rx.el.button(id=SEND_BUTTON_ID, hidden=True, on_click=MediaState.send_media(payload)),
        rx.el.button(id=FAILED_BUTTON_ID, hidden=True, on_click=MediaState.upload_failed(payload)),
        rx.el.button(id=CANCEL_BUTTON_ID, hidden=True, on_click=MediaState.cancel_upload(payload)),
        rx.el.div(
            id="media-strings",
            hidden=True,
            **{f"data_{k.removeprefix('media.')}": t(k) for k in MEDIA_STRING_KEYS},
        ),
    )
