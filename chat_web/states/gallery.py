"""The open chat's media gallery (in its info panel): photos and videos, documents, voice notes,
a page at a time. The service decides what the viewer may see (their readable range of the
chat, without files of deleted messages); this state only pages through it."""

from __future__ import annotations

import dataclasses
from typing import TypeGuard

import reflex as rx

from backend.content import is_media_content
from backend.errors import ChatError
from backend.events import Event, MessageCreated, MessageHidden, MessageUpdated
from backend.models import Media, MediaKind
from chat_web.i18n import error_text, t
from chat_web.services import services
from chat_web.states.conversation import ConversationState
from chat_web.states.session import SessionState
from chat_web.views import media_info

MEDIA_URL = "/api/v1/media/"
PAGE_SIZE = 24
TABS: dict[str, list[MediaKind]] = {
    "media": [MediaKind.IMAGE, MediaKind.VIDEO],
    "documents": [MediaKind.DOCUMENT],
    "voice": [MediaKind.VOICE],
}


GalleryEvent = MessageCreated | MessageUpdated | MessageHidden


def changes_gallery(event: Event) -> TypeGuard[GalleryEvent]:
    """Whether the event may add or take away a file of its chat's gallery (only then does the
    listener fetch the gallery's state: most events are text)."""
    if isinstance(event, MessageCreated):
        return is_media_content(event.message.content)
    if isinstance(event, MessageUpdated):
        return event.message.content.get("type") == "deleted"
    return isinstance(event, MessageHidden)


@dataclasses.dataclass
class GalleryItemView:
    message_id: str
    media_id: str
    kind: str  # "image", "video", "document" or "voice"
    name: str
    info: str  # "PDF · 1.2 MB", or a duration "0:12"
    url: str  # the file (a photo's full size)
    thumbnail_url: str  # a photo's thumbnail or a video's poster ("" for others)
    sent_at: str  # ISO 8601 UTC, shown in the viewer's zone


def gallery_item(media: Media) -> GalleryItemView:
    base = MEDIA_URL + media.id
    thumbnail = next((v for v in ("thumbnail", "poster") if v in media.variants), "")
    kind = media.kind.value
    return GalleryItemView(
        message_id=media.message_id,
        media_id=media.id,
        kind=kind,
        name=media.name,
        info=media_info(kind, media.name, media.size, media.meta.get("duration")),
        url=base + ("/full" if media.kind is MediaKind.IMAGE else ""),
        thumbnail_url=f"{base}/{thumbnail}" if thumbnail else "",
        sent_at=(media.sent_at or media.created_at).isoformat(timespec="seconds"),
    )


class GalleryState(rx.State):
    tab: str = "media"
    items: list[GalleryItemView] = []
    next_cursor: str = ""  # "" = nothing older to load
    error: str = ""
    _chat_id: str = ""
    _showing: bool = False  # the info panel is open: new and deleted files show at once

    @rx.var
    def has_more(self) -> bool:
        return self.next_cursor != ""

    @rx.event
    async def open_gallery(self):
        """The info panel opened (the gallery mounted): the open chat's photos and videos."""
        self._chat_id = (await self.get_state(ConversationState)).chat_id
        self._showing = True
        self.tab = "media"
        await self._load(before="")

    @rx.event
    def close_gallery(self):
        """The info panel closed (the gallery unmounted)."""
        self._showing = False

    @rx.event
    async def show_tab(self, tab: str):
        if tab not in TABS or not self._chat_id:
            return
        self.tab = tab
        await self._load(before="")

    @rx.event
    async def load_more(self):
        if self.next_cursor:
            await self._load(before=self.next_cursor)

    async def _follow(self, event: GalleryEvent) -> None:
        """A live event of the open chat (the tab's listener): a file sent shows at the top of
        the gallery, a message deleted (for everyone, or by this user) takes its file away."""
        if not self._showing or event.chat_id != self._chat_id:
            return
        if isinstance(event, MessageCreated):
            if event.message.content.get("type") in TABS[self.tab]:  # (else nothing to add)
                await self._load_newest()
        else:
            self._drop(event.message.id if isinstance(event, MessageUpdated) else event.message_id)

    def _drop(self, message_id: str) -> None:
        self.items = [item for item in self.items if item.message_id != message_id]

    async def _load_newest(self) -> None:
        """Put the files newer than the newest shown on top (pages loaded below stay)."""
        if not self.items:
            await self._load(before="")
            return
        user_id = (await self.get_state(SessionState))._verified_user_id()
        if not user_id:
            return
        try:
            page = services().media.list_chat_media(
                user_id, self._chat_id, TABS[self.tab], "", PAGE_SIZE
            )
        except ChatError:
            return  # (no longer readable: the conversation says so)
        # Newest first by message id (time-ordered): only those above what is shown are new.
        newest_shown = self.items[0].message_id
        newer = [gallery_item(m) for m in page.media if m.message_id > newest_shown]
        if newer:
            self.items = [*newer, *self.items]

    async def _load(self, before: str) -> None:
        user_id = (await self.get_state(SessionState))._verified_user_id()
        if not user_id:
            self.error = t("error.session_ended")
            return
        if not before:
            self.items, self.next_cursor = [], ""
        self.error = ""
        try:
            page = services().media.list_chat_media(
                user_id, self._chat_id, TABS[self.tab], before, PAGE_SIZE
            )
        except ChatError as exc:
            self.error = error_text(exc.code, exc.message, exc.params)
            return
        self.items = [*self.items, *(gallery_item(m) for m in page.media)]
        self.next_cursor = page.next_cursor
