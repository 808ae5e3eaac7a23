"""Media: checking uploads, making their variants, and the membership-checked way back out.

An upload is bound to the chat it was made for, and only its uploader can send it as a message.
Once sent, whoever may read that message may fetch it (``ChatService.can_read`` on every
request: a member who joined later does not get older files, one who left keeps what they
received); before that, the chat's current members. Uploads never sent are deleted after a
grace period, or at once when their uploader cancels them, and stop counting against the quota.
"""

from __future__ import annotations

import dataclasses
import logging
import unicodedata
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

from backend.errors import InvalidInput, NotFound, QuotaExceeded, TooLarge, UnsupportedMedia
from backend.ids import is_uuid, new_id
from backend.models import Media, MediaKind
from backend.ports import (
    BlobMissing,
    BlobStorage,
    Clock,
    MediaStore,
    MessageActionStore,
    MessageStore,
)
from backend.services import media_files
from backend.services.chats import ChatService
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
MISSING = "This file doesn't exist or you can't see it."
NO_CHAT = "This chat doesn't exist or you are not in it."
MAX_TEMP_ID = 64
SWEEP_BATCH = 100


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
        _check_temp_id(temp_id)
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
        """A media record the caller may see: once sent, they may read the message that sent
        it (a former member keeps what they received, a later one gets nothing older); before
        that, they are a current member of its chat.

        Raises:
            NotFound: no such media, or not the caller's to see (indistinguishable).
        """
        media = self._store.get_media(media_id) if is_uuid(media_id) else None
        if media is None:
            raise NotFound(MISSING)
        if media.message_id:
            if not self._chats.can_read(user_id, media.chat_id, media.message_id):
                raise NotFound(MISSING)
            return media
        try:
            self._chats.access_chat(user_id, media.chat_id)
        except NotFound:
            raise NotFound(MISSING) from None
        return media

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
        """The chat's gallery: media sent in it, newest first, ``before`` a message id.

        Only what the caller may read (``ChatService.readable_ranges``: a member who left sees
        what they received, one who joined late nothing older), and not files whose message
        was deleted for everyone or by the caller for themselves.

        Raises:
            NotFound: the chat does not exist or the caller was never in it.
        """
        ranges = self._chats.readable_ranges(user_id, chat_id)
        if not ranges:
            raise NotFound(NO_CHAT)
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

    def record_sent(self, media: Media, message_id: str) -> None:
        """The media went out in ``message_id``: it now shows in the chat's gallery."""
        self._store.mark_sent(media.id, message_id)

    # --- uploads never sent -------------------------------------------------------------------

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
        if media_id:
            media = self._store.get_media(media_id) if is_uuid(media_id) else None
            if media is None or media.owner_id != user_id:
                raise NotFound(MISSING)
            if media.message_id:
                raise InvalidInput("This file was sent already: delete its message instead.")
            candidates = [media]
        else:
            if not temp_id:
                raise InvalidInput("Name the upload to cancel.")
            _check_temp_id(temp_id)
            candidates = self._store.find_unsent(user_id, temp_id)
        return sum(self._delete_unsent(media) for media in candidates)

    def sweep_unsent(self) -> int:
        """Delete uploads never sent within ``media_unsent_grace`` (a batch at a time); how
        many went. Run by the app's sweeper; safe to run in several processes at once."""
        cutoff = self._clock() - self._settings.media_unsent_grace
        deleted = 0
        while True:
            stale = self._store.list_unsent(cutoff, SWEEP_BATCH)
            deleted += sum(self._delete_unsent(media) for media in stale)
            if len(stale) < SWEEP_BATCH:  # (one sent meanwhile is not listed again)
                break
        if deleted:
            log.info("deleted %d uploads never sent", deleted)
        return deleted

    def _delete_unsent(self, media: Media) -> bool:
        # Blobs first: if storage fails, the record (and its quota cost) stays for the next
        # sweep instead of leaving bytes nobody knows about.
        for variant in media.variants:
            self._blobs.delete(f"{media.id}/{variant}")
        if self._store.delete_unsent(media.id):
            return True
        log.warning("upload %s was sent while it was being deleted", media.id)
        return False

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


def _check_temp_id(temp_id: str) -> None:
    if not isinstance(temp_id, str) or len(temp_id) > MAX_TEMP_ID:
        raise InvalidInput("The client message id is malformed.")


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
