"""The chat's media gallery (in the group panel and the contact panel) and the contact panel of a
1:1 chat. Photos and videos open the full-screen viewer of assets/media.js at that item; the
viewer then steps through the chat's photos and videos."""

import reflex as rx

from chat_web.components.icon_button import icon_button
from chat_web.components.local_time import local_time
from chat_web.i18n import t
from chat_web.states.conversation import ConversationState
from chat_web.states.gallery import GalleryItemView, GalleryState

_TABS = [
    ("media", "gallery.tab_media"),
    ("documents", "gallery.tab_documents"),
    ("voice", "gallery.tab_voice"),
]


def _date(item: GalleryItemView) -> rx.Component:
    return local_time(iso=item.sent_at, mode="smart")


def _tab(name: str, label_key: str) -> rx.Component:
    selected = GalleryState.tab == name
    return rx.el.button(
        t(label_key),
        type="button",
        role="tab",
        aria_selected=rx.cond(selected, "true", "false"),
        on_click=GalleryState.show_tab(name),
        class_name="gallery-tab",
        data_testid=f"gallery-tab-{name}",
    )


def _media_tile(item: GalleryItemView) -> rx.Component:
    is_video = item.kind == "video"
    return rx.el.li(
        rx.el.button(
            rx.el.img(
                src=item.thumbnail_url,
                alt=rx.cond(is_video, t("media.video"), t("media.photo")),
                loading="lazy",
                decoding="async",
                class_name="gallery-thumb",
            ),
            rx.cond(
                is_video,
                rx.el.span(
                    rx.icon("play", size=12, aria_hidden="true"),
                    item.info,
                    class_name="gallery-video-badge",
                ),
            ),
            type="button",
            aria_label=rx.cond(is_video, t("gallery.open_video"), t("media.open_photo")),
            # assets/media.js opens the viewer at this item.
            class_name="media-open gallery-tile",
            data_media_id=item.media_id,
            data_kind=item.kind,
            data_full=item.url,
            data_poster=item.thumbnail_url,
        ),
        data_testid="gallery-item-" + item.message_id,
    )


def _document_row(item: GalleryItemView) -> rx.Component:
    return rx.el.li(
        rx.el.a(
            rx.icon("file-text", size=24, aria_hidden="true"),
            rx.el.span(
                rx.el.span(item.name, class_name="media-document-name"),
                rx.el.span(item.info, " · ", _date(item), class_name="muted media-document-info"),
                class_name="media-document-text",
            ),
            rx.icon("download", size=18, aria_hidden="true"),
            href=item.url,
            download=item.name,
            reload_document=True,  # a file, not a page of the app
            title=t("media.download"),
            class_name="media-document gallery-document",
        ),
        data_testid="gallery-item-" + item.message_id,
    )


def _voice_row(item: GalleryItemView) -> rx.Component:
    return rx.el.li(
        rx.el.audio(
            src=item.url,
            controls=True,
            preload="none",
            aria_label=t("media.voice"),
            class_name="media-audio",
        ),
        rx.el.span(item.info, " · ", _date(item), class_name="muted media-duration"),
        class_name="gallery-voice",
        data_testid="gallery-item-" + item.message_id,
    )


def _items() -> rx.Component:
    return rx.match(
        GalleryState.tab,
        ("media", rx.el.ul(rx.foreach(GalleryState.items, _media_tile), class_name="gallery-grid")),
        (
            "documents",
            rx.el.ul(rx.foreach(GalleryState.items, _document_row), class_name="gallery-list"),
        ),
        rx.el.ul(rx.foreach(GalleryState.items, _voice_row), class_name="gallery-list"),
    )


def _empty() -> rx.Component:
    return rx.el.p(
        rx.match(
            GalleryState.tab,
            ("media", t("gallery.empty_media")),
            ("documents", t("gallery.empty_documents")),
            t("gallery.empty_voice"),
        ),
        class_name="muted gallery-empty",
    )


def media_gallery() -> rx.Component:
    """Tabs over the open chat's files, newest first, with a button for older ones. It loads
    when it mounts (the panel opens) and then follows the chat live (``GalleryState._follow``)."""
    return rx.el.section(
        rx.el.h3(t("gallery.title"), class_name="gallery-title"),
        rx.el.div(
            *[_tab(name, key) for name, key in _TABS],
            role="tablist",
            aria_label=t("gallery.title"),
            class_name="gallery-tabs",
        ),
        rx.el.div(
            rx.cond(
                GalleryState.error != "",
                rx.el.p(GalleryState.error, role="alert", class_name="form-error"),
            ),
            rx.cond(GalleryState.items.length() > 0, _items(), _empty()),
            rx.cond(
                GalleryState.has_more,
                rx.el.button(
                    t("gallery.more"),
                    type="button",
                    on_click=GalleryState.load_more,
                    class_name="secondary-button gallery-more",
                    data_testid="gallery-more",
                ),
            ),
            role="tabpanel",
            class_name="gallery-panel",
        ),
        on_mount=GalleryState.open_gallery,
        on_unmount=GalleryState.close_gallery,
        class_name="gallery",
        data_testid="media-gallery",
    )


def contact_info_panel() -> rx.Component:
    """A 1:1 chat's info panel: who it is with, and the chat's media."""
    return rx.dialog.root(
        rx.dialog.trigger(
            icon_button("info", t("chat.contact_info"), size=18, data_testid="contact-info-button")
        ),
        rx.dialog.content(
            rx.el.div(
                rx.dialog.title(t("chat.contact_info")),
                rx.dialog.close(icon_button("x", t("common.close"), size=18)),
                class_name="dialog-header",
            ),
            rx.el.h3(ConversationState.title, class_name="contact-name"),
            rx.el.p(ConversationState.subtitle, class_name="muted"),
            media_gallery(),
            class_name="info-panel",
        ),
    )
