"""Uploads never sent stop counting against the quota: cancelling one deletes it at once (by its
id, or by the client's temp id when its answer never arrived), and a sweep deletes the rest
after a grace period. Blobs and records both, on local files and on S3."""

from __future__ import annotations

import uuid
from datetime import timedelta
from pathlib import Path

import pytest

from backend.container import Services
from backend.errors import InvalidInput, NotFound
from backend.models import Chat, Media
from backend.ports import BlobMissing
from backend.settings import Settings
from tests import media_samples as samples
from tests.backend.helpers import Person
from tests.backend.media_helpers import Upload, fetch, services_with
from tests.conftest import FakeClock


def files_of(settings: Settings, media: Media) -> list[str]:
    folder = settings.media_dir / media.id
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


def test_cancelling_an_upload_by_its_temp_id_deletes_it_and_gives_the_quota_back(
    services: Services, settings: Settings, upload: Upload, alice: Person, chat: Chat
) -> None:
    kept = upload(alice, chat, samples.pdf("kept"), "kept.pdf", temp_id="t-kept")
    photo = upload(alice, chat, samples.jpeg_with_location(), "p.jpg", temp_id="t-photo")
    assert files_of(settings, photo) == ["full", "preview", "thumbnail", "webp"]
    assert services.media.usage(alice.id).used_bytes == kept.stored_bytes + photo.stored_bytes

    assert services.media.discard_upload(alice.id, temp_id="t-photo") == 1

    assert services.media.usage(alice.id).used_bytes == kept.stored_bytes
    assert files_of(settings, photo) == []
    with pytest.raises(NotFound):
        services.media.download(alice.id, photo.id, "thumbnail")
    assert services.media.discard_upload(alice.id, temp_id="t-photo") == 0  # again: nothing
    with pytest.raises(InvalidInput, match="Upload the file first"):
        services.messaging.send_message(
            alice.id, chat.id, {"type": "image", "mediaId": photo.id}, temp_id="t-photo"
        )
    assert fetch(services, alice, kept) == samples.pdf("kept")


def test_only_the_uploader_cancels_and_only_what_was_never_sent(
    services: Services, upload: Upload, alice: Person, bob: Person, chat: Chat
) -> None:
    draft = upload(alice, chat, samples.pdf(), "draft.pdf", temp_id="same")
    sent = upload(alice, chat, samples.pdf(), "sent.pdf")
    services.messaging.send_message(alice.id, chat.id, {"type": "document", "mediaId": sent.id})

    with pytest.raises(NotFound):
        services.media.discard_upload(bob.id, media_id=draft.id)
    assert services.media.discard_upload(bob.id, temp_id="same") == 0  # bob's temp ids only
    with pytest.raises(InvalidInput, match="sent already"):
        services.media.discard_upload(alice.id, media_id=sent.id)
    with pytest.raises(InvalidInput):
        services.media.discard_upload(alice.id, temp_id="x" * 65)
    with pytest.raises(InvalidInput):
        services.media.discard_upload(alice.id)

    assert services.media.discard_upload(alice.id, media_id=draft.id) == 1
    assert fetch(services, bob, sent) == samples.pdf()  # the sent file is untouched
    # A record sent meanwhile is never deleted by a late cancel or sweep.
    assert not services.media._store.delete_unsent(sent.id)


def test_uploads_never_sent_are_swept_after_the_grace_period(
    services: Services,
    settings: Settings,
    clock: FakeClock,
    upload: Upload,
    alice: Person,
    bob: Person,
    chat: Chat,
) -> None:
    assert settings.media_unsent_grace == timedelta(hours=24)
    old = upload(alice, chat, samples.jpeg_with_location(), "old.jpg")
    sent = upload(bob, chat, samples.pdf(), "sent.pdf")
    services.messaging.send_message(bob.id, chat.id, {"type": "document", "mediaId": sent.id})
    clock.advance(hours=23)
    recent = upload(alice, chat, samples.pdf(), "recent.pdf")

    assert services.media.sweep_unsent() == 0  # nothing is a day old yet
    clock.advance(hours=1, seconds=1)
    assert services.media.sweep_unsent() == 1

    assert files_of(settings, old) == []
    assert services.media.usage(alice.id).used_bytes == recent.stored_bytes
    assert services.media.usage(bob.id).used_bytes == sent.stored_bytes
    clock.advance(days=30)
    assert services.media.sweep_unsent() == 1  # the recent one; sent files are never swept
    assert services.media.usage(alice.id).used_bytes == 0
    assert fetch(services, alice, sent) == samples.pdf()


def test_on_s3_cancelled_and_stale_uploads_leave_the_bucket(
    settings: Settings,
    clock: FakeClock,
    s3_endpoint: str,
    alice: Person,
    chat: Chat,
    tmp_path: Path,
) -> None:
    from tests.s3_server import create_bucket

    bucket = f"media-sweep-{uuid.uuid4().hex[:12]}"
    create_bucket(s3_endpoint, bucket)
    on_s3 = services_with(settings, clock, s3_bucket=bucket, s3_endpoint_url=s3_endpoint)
    photo_path, doc_path = tmp_path / "p.jpg", tmp_path / "d.pdf"
    photo_path.write_bytes(samples.jpeg_with_location())
    doc_path.write_bytes(samples.pdf())
    photo = on_s3.media.upload(alice.id, chat.id, photo_path, "p.jpg", temp_id="t1")
    doc = on_s3.media.upload(alice.id, chat.id, doc_path, "d.pdf")
    blobs = on_s3.media._blobs
    assert blobs.size_of(f"{photo.id}/thumbnail") > 0

    assert on_s3.media.discard_upload(alice.id, temp_id="t1") == 1
    for variant in photo.variants:
        with pytest.raises(BlobMissing):
            blobs.size_of(f"{photo.id}/{variant}")
    clock.advance(days=2)
    assert on_s3.media.sweep_unsent() == 1
    with pytest.raises(BlobMissing):
        blobs.size_of(f"{doc.id}/original")
    assert on_s3.media.usage(alice.id).used_bytes == 0
