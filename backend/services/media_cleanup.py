"""Files that must go: uploads never sent (cancelled, or stale after a grace period) and files
no live message carries any more (their last message was deleted for everyone). Blobs and
records both, and with them their cost to the uploader's quota.

Used through ``MediaService``, which owns the rules of who may ask for what; this module only
deletes, in an order that never leaves a record pointing at missing bytes for long and lets the
sweeper finish what a crash interrupted.
"""

from __future__ import annotations

import logging

from backend.errors import InvalidInput, NotFound
from backend.ids import is_temp_id, is_uuid
from backend.models import Media
from backend.ports import BlobStorage, Clock, MediaStore
from backend.settings import Settings

log = logging.getLogger(__name__)

MISSING = "This file doesn't exist or you can't see it."
SWEEP_BATCH = 100


class MediaCleanup:
    def __init__(
        self, settings: Settings, store: MediaStore, blobs: BlobStorage, clock: Clock
    ) -> None:
        self._settings = settings
        self._store = store
        self._blobs = blobs
        self._clock = clock

    # --- uploads never sent -------------------------------------------------------------------

    def discard_upload(self, user_id: str, media_id: str = "", temp_id: str = "") -> int:
        """See ``MediaService.discard_upload``."""
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
            check_temp_id(temp_id)
            candidates = self._store.find_unsent(user_id, temp_id)
        return sum(self._delete_unsent(media) for media in candidates)

    def sweep_unsent(self) -> int:
        """Delete uploads never sent within ``media_unsent_grace`` (a batch at a time); how
        many went. Safe to run in several processes at once."""
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
        self._delete_blobs(media)
        if self._store.delete_unsent(media.id):
            return True
        log.warning("upload %s was sent while it was being deleted", media.id)
        return False

    # --- files of deleted messages ------------------------------------------------------------

    def forget_message(self, message_id: str) -> int:
        """The message was deleted for everyone: it no longer carries its file. A file no
        other live message carries is deleted (its record is marked deleted in the same
        transaction as the message's reach goes, which gives its bytes back to the quota;
        then its blobs, then the record). Returns how many files were deleted.

        Storage failing after that commit is logged, not raised (the message *is* deleted):
        the record stays marked and ``sweep_deleted`` finishes it.
        """
        gone = self._store.forget_message(message_id, self._clock())
        deleted = 0
        for media in gone:
            try:
                deleted += self._purge(media)
            except Exception:
                log.exception("deleting media %s failed; the sweeper retries", media.id)
        return deleted

    def sweep_deleted(self) -> int:
        """Finish deleting files marked deleted whose blobs or record are still there (a crash
        or a storage failure right after the delete's commit); how many were finished."""
        finished = 0
        while True:
            batch = self._store.list_deleted(SWEEP_BATCH)
            finished += sum(self._purge(media) for media in batch)
            if len(batch) < SWEEP_BATCH:
                break
        if finished:
            log.info("finished deleting %d files of deleted messages", finished)
        return finished

    def _purge(self, media: Media) -> bool:
        # Only ever after the commit that marked it deleted: no message can carry it again
        # (``record_send`` refuses a deleted record), so nothing will point at these bytes.
        self._delete_blobs(media)
        return self._store.purge_deleted(media.id)

    def _delete_blobs(self, media: Media) -> None:
        for variant in media.variants:
            self._blobs.delete(f"{media.id}/{variant}")


def check_temp_id(temp_id: str) -> None:
    if not is_temp_id(temp_id):
        raise InvalidInput("The client message id is malformed.")
