"""Media: checking uploads, making their variants, and the membership-checked way back out.

An upload is made for one chat, and only its uploader can send it, there, as a message; from
then on forwards carry it to other chats without uploading it again. Every message that
carries a file is recorded (``MediaStore.record_send``), and whoever may read one of them may
fetch the file (``ChatService.readable_ranges`` on every request: a member who joined later
does not get older files, one who left keeps what they received); before its first send, the
chat's current members. A file goes when no live message carries it any more, and uploads
never sent after a grace period or when cancelled (``media_cleanup.py``); either way its bytes
stop counting against the uploader's quota.
"""

from __future__ import annotations

import dataclasses
import logging
import unicodedata
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

from backend.content import is_media_content
from backend.errors import InvalidInput, NotFound, QuotaExceeded, TooLarge, UnsupportedMedia
from backend.ids import is_uuid, new_id
from backend.models import Media, MediaKind, MediaSend, Message
from backend.ports import (
    BlobMissing,
    BlobStorage,
    Clock,
    MediaStore,
    MessageActionStore,
    MessageStore,
)
from backend.services import media_files
from backend.services.chats import NOT_IN_CHAT, ChatService
from backend.services.media_cleanup import MISSING, MediaCleanup, check_temp_id
from backend.settings import Settings

log = logging.getLogger(__name__)

MAX_NAME_CHARS = 200
MAX_CAPTION_CHARS = 1024
IMAGE_EXTENSIONS = {".jpg", ".jpeg", ".png", ".gif", ".webp", ".jfif", ".heic", ".bmp"}
MARKUP_EXTENSIONS = {".html", ".htm", ".svg", ".xhtml", ".xml", ".txt"}
IMAGE_MIMES = {"image/jpeg", "image/png", "image/gif", "image/webp"}
# Types a browser may be handed as they are; anything else downloads as opaque bytes.
SAFE_DOCUMENT_MIMES = {
    "application/pdf",
    "application/zip",
    "text/plain",
    "audio/mpeg",
    "audio/mp4",
    "audio/ogg",
    "video/mp4",
    "video/webm",
    "video/quicktime",
    *IMAGE_MIMES,
}
VARIANT_TYPES = {
    "thumbnail": "image/jpeg",
    "preview": "image/jpeg",
    "full": "image/jpeg",
    "webp": "image/webp",
    "poster": "image/jpeg",
}
# A file carried by more messages than this is checked against the caller's chats in one
# query instead of one readable-range lookup per chat it was sent to.
FEW_SENDS = 8


@dataclasses.dataclass(frozen=True)
class MediaDownload:
    """What to send for one variant of a media file: which blob, and with which headers."""

    key: str
    content_type: str
    disposition: str  # a full Content-Disposition value


@dataclasses.dataclass(frozen=True)
class GalleryPage:
    """One page of a chat's gallery, newest first; ``next_cursor`` ("" = no more) asks for
    the page below it."""

    media: list[Media]
    next_cursor: str


@dataclasses.dataclass(frozen=True)
class StorageUsage:
    used_bytes: int
    quota_bytes: int


class MediaService:
    def __init__(
        self,
        settings: Settings,
        chats: ChatService,
        store: MediaStore,
        blobs: BlobStorage,
        clock: Clock,
        messages: MessageStore | None = None,
        actions: MessageActionStore | None = None,
    ) -> None:
        self._settings = settings
        self._chats = chats
        self._store = store
        self._blobs = blobs
        self._clock = clock
        # The gallery leaves out files whose message was deleted (for everyone, or for the
        # viewer); without these stores it lists every sent file.
        self._messages = messages
        self._actions = actions
        self._cleanup = MediaCleanup(settings, store, blobs, clock)

    # --- in -----------------------------------------------------------------------------------

    def upload(
        self,
        user_id: str,
        chat_id: str,
        path: Path,
        filename: str,
        as_document: bool = False,
        temp_id: str = "",
    ) -> Media:
        """Check the file at ``path`` and store it (and its variants) for ``chat_id``.

        The file's kind comes from its bytes: a photo, a video, an Opus voice note, or else a
        document. ``as_document`` sends a photo or video as a file, untouched (as WhatsApp
        does). ``temp_id`` is the client's id of the message the file is meant for: with it the
        uploader can cancel an upload whose answer never reached them. The caller owns
        ``path`` and deletes it afterwards.

        Raises:
            NotFound: the chat does not exist or the caller is not in it.
            InvalidInput: an empty file, or a malformed ``temp_id``.
            UnsupportedMedia: the file is not what its name says (HTML or SVG named .jpg, a
                zip named .png), or a damaged picture/video.
            TooLarge: over the size limit of its kind, or too many pixels.
            QuotaExceeded: the caller's storage is full.
        """
        self._chats.access_chat(user_id, chat_id)
        check_temp_id(temp_id)
        name = clean_filename(filename)
        size = path.stat().st_size
        if size == 0:
            raise InvalidInput("The file is empty.")
        sniffed = media_files.sniff(path)
        extension = Path(name).suffix.lower()
        if sniffed.is_markup and extension not in MARKUP_EXTENSIONS:
            raise UnsupportedMedia(
                "This file is a web page or SVG disguised as another type; it was refused.",
                type=sniffed.mime,
            )
        if extension in IMAGE_EXTENSIONS and sniffed.mime not in IMAGE_MIMES and not as_document:
            raise UnsupportedMedia("This file is not really a picture; it was refused.")
        kind, probe = self._kind_of(sniffed.mime, path, as_document)
        self._check_size(kind, size)
        used = self._store.used_bytes(user_id)
        self._check_quota(used, size)

        media_id = new_id()
        meta: dict[str, Any] = {}
        blobs: dict[str, tuple[bytes, str]] = {}
        keep_original = True
        mime = sniffed.mime
        if kind is MediaKind.IMAGE:
            image = media_files.process_image(path, self._settings.max_image_pixels)
            meta = {"width": image.width, "height": image.height, "placeholder": image.placeholder}
            blobs = image.variants
            keep_original = False  # the original carries EXIF; only re-encoded pixels are kept
            mime = "image/jpeg"
        elif kind is MediaKind.VIDEO:
            assert probe is not None
            meta = {"duration": probe.duration, "width": probe.width, "height": probe.height}
            blobs = {"poster": (media_files.video_poster(path), "image/jpeg")}
        elif kind is MediaKind.VOICE:
            voice = media_files.summarize_voice(path)
            meta = {"duration": voice.duration, "waveform": voice.waveform}
            mime = "audio/ogg" if sniffed.mime == "audio/ogg" else "audio/webm"
        stored_bytes = (size if keep_original else 0) + sum(len(b) for b, _ in blobs.values())
        self._check_quota(used, stored_bytes)

        written: list[str] = []
        try:
            if keep_original:
                self._blobs.put_file(f"{media_id}/original", path, mime)
                written.append("original")
            for variant, (data, content_type) in blobs.items():
                self._blobs.put_bytes(f"{media_id}/{variant}", data, content_type)
                written.append(variant)
            media = Media(
                id=media_id,
                chat_id=chat_id,
                owner_id=user_id,
                kind=kind,
                mime=mime,
                name=name,
                size=size,
                stored_bytes=stored_bytes,
                created_at=self._clock(),
                variants=tuple(written),
                meta=meta,
                temp_id=temp_id,
            )
            if not self._store.add_media(media, self._settings.media_quota_bytes):
                self._check_quota(self._store.used_bytes(user_id), stored_bytes)
                raise QuotaExceeded(  # filled up by a parallel upload just now
                    "Your storage is full: this file does not fit.",
                    size=stored_bytes,
                    limit=self._settings.media_quota_bytes,
                )
        except BaseException:
            for variant in written:  # nothing half-stored is left behind
                self._blobs.delete(f"{media_id}/{variant}")
            raise
        return media

    def _kind_of(
        self, mime: str, path: Path, as_document: bool
    ) -> tuple[MediaKind, media_files.Probe | None]:
        if as_document:
            return MediaKind.DOCUMENT, None
        if mime in IMAGE_MIMES:
            return MediaKind.IMAGE, None
        if mime in ("video/mp4", "video/webm", "video/quicktime", "audio/ogg"):
            probe = media_files.probe(path)
            if probe.has_video:
                return MediaKind.VIDEO, probe
            if probe.audio_codecs == ("opus",):
                return MediaKind.VOICE, probe
        return MediaKind.DOCUMENT, None

    def _check_size(self, kind: MediaKind, size: int) -> None:
        settings = self._settings
        limit = {
            MediaKind.IMAGE: settings.max_image_bytes,
            MediaKind.VIDEO: settings.max_video_bytes,
            MediaKind.VOICE: settings.max_voice_bytes,
            MediaKind.DOCUMENT: settings.max_document_bytes,
        }[kind]
        if size > limit:
            raise TooLarge(f"This {kind.value} is too large.", size=size, limit=limit)

    def _check_quota(self, used: int, adding: int) -> None:
        quota = self._settings.media_quota_bytes
        if used + adding > quota:
            raise QuotaExceeded(
                "Your storage is full: this file does not fit.",
                size=used + adding,
                limit=quota,
            )

    # --- out ----------------------------------------------------------------------------------

    def get_media(self, user_id: str, media_id: str) -> Media:
        """A media record the caller may see: once sent, they may read a message that carries
        it, in any chat (its first send or a forward; a former member keeps what they
        received, a later one gets nothing older); before that, they are a current member of
        the chat it was uploaded for.

        Raises:
            NotFound: no such media, or not the caller's to see (indistinguishable).
        """
        media = self._store.get_media(media_id) if is_uuid(media_id) else None
        if media is None:
            raise NotFound(MISSING)
        if media.message_id:
            if not self._reaches(user_id, media.id):
                raise NotFound(MISSING)
            return media
        try:
            self._chats.access_chat(user_id, media.chat_id)
        except NotFound:
            raise NotFound(MISSING) from None
        return media

    def _reaches(self, user_id: str, media_id: str) -> bool:
        """Whether a message that carries the file is inside the user's readable ranges."""
        sends = self._store.list_sends(media_id, limit=FEW_SENDS + 1)
        if len(sends) <= FEW_SENDS:  # the usual case: a chat or two, a lookup each
            by_chat: dict[str, list[MediaSend]] = {}
            for send in sends:
                by_chat.setdefault(send.chat_id, []).append(send)
            return any(
                r.contains(send.message_id)
                for chat_id, carried in by_chat.items()
                for r in self._chats.readable_ranges(user_id, chat_id)
                for send in carried
            )
        # Forwarded far and wide: only its messages in the caller's chats matter.
        ranges = {r.chat_id: r for r in self._chats.readable_ranges(user_id)}
        return any(
            ranges[send.chat_id].contains(send.message_id)
            for send in self._store.list_sends(media_id, chat_ids=ranges)
        )

    def download(self, user_id: str, media_id: str, variant: str = "") -> MediaDownload:
        """How to serve a variant ("" = the file itself: ``original``, or ``full`` for a photo),
        after the membership check. Documents are always attachments, never shown inline."""
        media = self.get_media(user_id, media_id)
        variant = variant or ("full" if media.kind is MediaKind.IMAGE else "original")
        if variant not in media.variants:
            raise NotFound("This file has no such version.")
        key = f"{media.id}/{variant}"
        if variant != "original":
            stem = Path(media.name).stem or "image"
            ext = ".webp" if variant == "webp" else ".jpg"
            return MediaDownload(key, VARIANT_TYPES[variant], inline(f"{stem}{ext}"))
        if media.kind is MediaKind.DOCUMENT:
            safe = media.mime if media.mime in SAFE_DOCUMENT_MIMES else "application/octet-stream"
            return MediaDownload(key, safe, attachment(media.name))
        return MediaDownload(key, media.mime, inline(media.name))

    def signed_url(self, download: MediaDownload) -> str | None:
        """A short-lived storage URL for an already-authorized download (None: stream it)."""
        return self._blobs.signed_url(
            download.key,
            download.content_type,
            download.disposition,
            self._settings.media_url_ttl,
        )

    def local_path(self, download: MediaDownload) -> Path | None:
        """The blob as a local file, for range requests (None: stream it with ``read``)."""
        return self._blobs.local_path(download.key)

    def read(self, download: MediaDownload) -> Iterator[bytes]:
        try:
            return self._blobs.read_chunks(download.key)
        except BlobMissing:
            log.warning("media blob missing: %s", download.key)
            raise NotFound(MISSING) from None

    def list_chat_media(
        self,
        user_id: str,
        chat_id: str,
        kinds: Iterable[MediaKind],
        before: str = "",
        limit: int = 50,
    ) -> GalleryPage:
        """The chat's gallery: files its messages carry (uploaded here or forwarded here),
        once per message, newest first, ``before`` a message id; each item has the id and
        time of its message in this chat.

        Only what the caller may read (``ChatService.readable_ranges``: a member who left sees
        what they received, one who joined late nothing older), and not files whose message
        was deleted for everyone or by the caller for themselves.

        Raises:
            NotFound: the chat does not exist or the caller was never in it.
        """
        ranges = self._chats.readable_ranges(user_id, chat_id)
        if not ranges:
            raise NotFound(NOT_IN_CHAT)
        readable = ranges[0]
        kind_names = [k.value for k in kinds]
        limit = max(1, min(limit, 100))
        shown: list[Media] = []
        cursor = before
        while True:
            # One more than asked: whether another page follows, in the common case of no
            # deleted files, without an empty last page.
            batch = self._store.list_sent(
                chat_id, kind_names, cursor, limit + 1, readable.after, readable.upto
            )
            for media in batch:
                if len(shown) == limit:
                    return GalleryPage(shown, shown[-1].message_id)
                if self._still_shown(user_id, media):
                    shown.append(media)
            if len(batch) <= limit:
                return GalleryPage(shown, "")
            cursor = batch[-1].message_id

    def _still_shown(self, user_id: str, media: Media) -> bool:
        if self._messages is None:
            return True
        message = self._messages.get_message(media.message_id)
        if message is None or message.deleted_at is not None:
            return False
        return self._actions is None or not self._actions.is_hidden(user_id, message.id)

    # --- messages that carry files ----------------------------------------------------------

    def record_carried(self, message: Message) -> None:
        """``message`` is stored and carries a file (a first send, or a forward whose content
        was copied as stored): from now on its readers may fetch the file, and it shows in
        its chat's gallery. Call it before the message is announced, so that nobody is told
        of a file they cannot fetch yet. Recording a message again changes nothing."""
        content = message.content
        media_id = content.get("mediaId") if is_media_content(content) else None
        if not isinstance(media_id, str):
            return
        if not self._store.record_send(media_id, message.chat_id, message.id, message.created_at):
            # Deleted in the moment between the sender's check and the store (the last other
            # message carrying it was deleted for everyone): the copy shows a missing file.
            log.warning("message %s carries media %s, deleted meanwhile", message.id, media_id)

    def forget_message(self, message_id: str) -> int:
        """The message was deleted for everyone, so it no longer gives its readers the file
        it carried. When no live message carries the file any more, its blobs (every
        variant) and record are deleted and its bytes leave the uploader's quota; a forwarded
        copy deleted only takes away that copy's reach. Returns how many files were deleted.
        """
        return self._cleanup.forget_message(message_id)

    # --- uploads never sent, and the sweeper --------------------------------------------------

    def discard_upload(self, user_id: str, media_id: str = "", temp_id: str = "") -> int:
        """Delete the caller's own upload that no message sent, by its id or by the client's
        ``temp_id`` it was uploaded with (when the answer naming it never arrived), blobs and
        record; it stops counting against their quota. Returns how many were deleted (0 when
        there was nothing by that temp id: cancelling twice is harmless).

        Raises:
            NotFound: no such media, or someone else's.
            InvalidInput: it was sent already (delete the message instead), or a malformed
                ``temp_id``.
        """
        return self._cleanup.discard_upload(user_id, media_id, temp_id)

    def sweep_unsent(self) -> int:
        """Delete uploads never sent within ``media_unsent_grace``; how many went."""
        return self._cleanup.sweep_unsent()

    def sweep(self) -> int:
        """The app's periodic sweep (safe in several processes at once): uploads never sent
        within the grace period, and files of deleted messages whose deletion a crash or a
        storage failure interrupted. How many files went."""
        return self._cleanup.sweep_unsent() + self._cleanup.sweep_deleted()

    def usage(self, user_id: str) -> StorageUsage:
        """How much of their storage quota the caller's uploads take, variants included."""
        return StorageUsage(self._store.used_bytes(user_id), self._settings.media_quota_bytes)

    # --- messages -----------------------------------------------------------------------------

    def message_content(self, user_id: str, chat_id: str, content: dict[str, Any]) -> Media:
        """The media a media message refers to, checked: the sender uploaded it for this chat
        and it is of the message's type. (The payload itself is built from the stored record,
        never from what the client claims about the file.)"""
        media_id = content.get("mediaId")
        media = self._store.get_media(media_id) if isinstance(media_id, str) else None
        if media is None or not is_uuid(media.id) or media.owner_id != user_id:
            raise InvalidInput("Upload the file first, then send its mediaId.")
        if media.chat_id != chat_id:
            raise InvalidInput("This file was uploaded for another chat.")
        if media.kind.value != content.get("type"):
            raise InvalidInput(
                f"This file is a {media.kind.value}, not a {content.get('type')}.",
                kind=media.kind.value,
            )
        return media


def clean_filename(filename: str) -> str:
    """A display name safe anywhere: no path, no control characters, not too long."""
    base = filename.replace("\\", "/").rsplit("/", 1)[-1]
    base = "".join(c for c in base if unicodedata.category(c)[0] != "C").strip(" .")
    if len(base) > MAX_NAME_CHARS:
        stem, dot, ext = base.rpartition(".")
        base = (stem[: MAX_NAME_CHARS - len(ext) - 1] + dot + ext) if dot else base[:MAX_NAME_CHARS]
    return base or "file"


def _disposition(kind: str, name: str) -> str:
    ascii_name = name.encode("ascii", "replace").decode("ascii").replace('"', "'")
    ascii_name = ascii_name.replace("?", "_")
    return f"{kind}; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(name, safe='')}"


def attachment(name: str) -> str:
    return _disposition("attachment", name)


def inline(name: str) -> str:
    return _disposition("inline", name)
