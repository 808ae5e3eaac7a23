"""Files that travel between chats, and files of deleted messages.

A forwarded photo, video, document or voice note is fetched by the readers of the chat it was
forwarded to (as far as they may read that chat), never by anyone else, and costs nobody's
quota again. Deleting a message for everyone takes its file's reach with it; when no live
message carries the file any more, its blobs and record go and the uploader gets the bytes
back. On local files and on S3.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from pathlib import Path

import pytest

from backend.container import Services
from backend.errors import InvalidInput, NotFound
from backend.models import Chat, Media, MediaKind, Message
from backend.ports import BlobMissing
from backend.services.media import FEW_SENDS
from backend.settings import Settings
from tests import media_samples as samples
from tests.backend.group_helpers import make_group
from tests.backend.helpers import Person
from tests.backend.media_helpers import Upload, fetch, services_with
from tests.conftest import FakeClock


def send_file(services: Services, who: Person, chat: Chat, media: Media) -> Message:
    content = {"type": media.kind.value, "mediaId": media.id}
    return services.messaging.send_message(who.id, chat.id, content)


def forward(services: Services, who: Person, message: Message, *to: Chat) -> list[Message]:
    return services.message_actions.forward(who.id, message.id, [c.id for c in to])


def delete_for_everyone(services: Services, who: Person, message: Message) -> None:
    services.message_actions.delete_for_everyone(who.id, message.id)


def fetches(services: Services, who: Person, media: Media) -> bool:
    """Whether ``who`` gets every variant of the file (all or none: one door for all)."""
    got = []
    for variant in media.variants:
        try:
            got.append(bool(fetch(services, who, media, variant)))
        except NotFound:
            got.append(False)
    assert len(set(got)) == 1, f"some variants only: {dict(zip(media.variants, got, strict=True))}"
    return got[0]


def gallery(services: Services, who: Person, chat: Chat) -> list[tuple[str, str]]:
    page = services.media.list_chat_media(who.id, chat.id, list(MediaKind), limit=100)
    return [(m.id, m.message_id) for m in page.media]


def blob_files(settings: Settings, media: Media) -> list[str]:
    folder = settings.media_dir / media.id
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


Sample = Callable[[Path], tuple[bytes, str]]
SAMPLES: dict[str, Sample] = {
    "photo": lambda _: (samples.jpeg_with_location(), "beach.jpg"),
    "video": lambda tmp: (samples.webm_video(tmp, seconds=1), "clip.webm"),
    "document": lambda _: (samples.pdf("minutes"), "minutes.pdf"),
    "voice": lambda tmp: (samples.opus_voice(tmp, seconds=1), "note.ogg"),
}


@pytest.mark.parametrize("kind", list(SAMPLES))
def test_a_forwarded_file_is_fetched_in_the_chat_it_was_forwarded_to_and_by_nobody_else(
    kind: str,
    services: Services,
    upload: Upload,
    tmp_path: Path,
    alice: Person,
    bob: Person,
    carol: Person,
    dave: Person,
    chat: Chat,
) -> None:
    data, name = SAMPLES[kind](tmp_path)
    media = upload(alice, chat, data, name)
    assert media.kind.value == {"photo": "image"}.get(kind, kind)
    original = send_file(services, alice, chat, media)
    used = services.media.usage(alice.id).used_bytes
    with_carol = services.chats.open_direct_chat(alice.id, carol.id)
    assert not fetches(services, carol, media)  # not before it reaches her

    [copy] = forward(services, alice, original, with_carol)

    assert copy.content["mediaId"] == media.id  # by reference: nothing uploaded again
    assert fetches(services, carol, media)  # only in the chat it was forwarded to
    assert fetches(services, bob, media) and fetches(services, alice, media)
    assert not fetches(services, dave, media)  # in neither chat: the same 404 as for nothing
    with pytest.raises(NotFound):
        services.media.download(dave.id, str(uuid.uuid4()))
    assert gallery(services, carol, with_carol) == [(media.id, copy.id)]
    assert gallery(services, bob, chat) == [(media.id, original.id)]
    assert services.media.usage(alice.id).used_bytes == used  # a forward costs nothing again
    assert services.media.usage(carol.id).used_bytes == 0


def test_forwarding_onward_reaches_the_next_chat_but_only_the_uploader_sends_an_upload(
    services: Services, upload: Upload, alice: Person, bob: Person, carol: Person, dave: Person
) -> None:
    with_bob = services.chats.open_direct_chat(alice.id, bob.id)
    bob_with_carol = services.chats.open_direct_chat(bob.id, carol.id)
    carol_with_dave = services.chats.open_direct_chat(carol.id, dave.id)
    photo = upload(alice, with_bob, samples.jpeg_with_location(), "p.jpg")
    original = send_file(services, alice, with_bob, photo)

    # Bob may fetch it, but sending its id himself is not forwarding: refused.
    with pytest.raises(InvalidInput, match="Upload the file first"):
        send_file(services, bob, bob_with_carol, photo)
    [to_carol] = forward(services, bob, original, bob_with_carol)
    [to_dave] = forward(services, carol, to_carol, carol_with_dave)

    assert fetches(services, dave, photo)
    assert gallery(services, dave, carol_with_dave) == [(photo.id, to_dave.id)]
    # Nor may the uploader send it straight into another chat: forwarding is the way.
    with pytest.raises(InvalidInput, match="another chat"):
        send_file(services, alice, services.chats.open_direct_chat(alice.id, dave.id), photo)


def test_a_file_forwarded_far_and_wide_is_checked_against_the_callers_own_chats(
    services: Services,
    upload: Upload,
    register: Callable[..., Person],
    alice: Person,
    bob: Person,
    dave: Person,
    chat: Chat,
) -> None:
    friends = [register(f"friend{i}") for i in range(FEW_SENDS + 2)]
    chats = [services.chats.open_direct_chat(alice.id, f.id) for f in friends]
    photo = upload(alice, chat, samples.jpeg_with_location(), "p.jpg")
    original = send_file(services, alice, chat, photo)
    for i in range(0, len(chats), 5):
        forward(services, alice, original, *chats[i : i + 5])
    services.chats.open_direct_chat(alice.id, dave.id)  # dave shares a chat with alice...

    assert len(services.media._store.list_sends(photo.id)) > FEW_SENDS
    assert all(fetches(services, friend, photo) for friend in friends)
    assert fetches(services, bob, photo)
    assert not fetches(services, dave, photo)  # ...but not one the photo went to


def test_a_member_of_the_target_sees_what_was_forwarded_while_they_could_read_it(
    services: Services,
    upload: Upload,
    register: Callable[..., Person],
    alice: Person,
    bob: Person,
    carol: Person,
    dave: Person,
    chat: Chat,
) -> None:
    erin = register("erin", "Erin Hannon")
    team = make_group(services, alice, carol, erin)
    before = upload(alice, chat, samples.jpeg_with_location(), "before.jpg")
    [before_copy] = forward(services, alice, send_file(services, alice, chat, before), team)
    services.groups.leave(erin.id, team.id)
    services.groups.add_members(alice.id, team.id, [dave.id])
    after = upload(alice, chat, samples.pdf("after"), "after.pdf")
    [after_copy] = forward(services, alice, send_file(services, alice, chat, after), team)

    assert fetches(services, erin, before) and not fetches(services, erin, after)
    assert gallery(services, erin, team) == [(before.id, before_copy.id)]
    assert fetches(services, dave, after) and not fetches(services, dave, before)
    assert gallery(services, dave, team) == [(after.id, after_copy.id)]
    assert gallery(services, carol, team) == [
        (after.id, after_copy.id),
        (before.id, before_copy.id),
    ]


def test_deleting_the_original_keeps_the_forwarded_copy_and_deleting_the_copy_deletes_the_file(
    services: Services,
    settings: Settings,
    upload: Upload,
    alice: Person,
    bob: Person,
    carol: Person,
    dave: Person,
    chat: Chat,
) -> None:
    kept = upload(alice, chat, samples.pdf("kept"), "kept.pdf")
    kept_message = send_file(services, alice, chat, kept)
    photo = upload(alice, chat, samples.jpeg_with_location(), "p.jpg")
    original = send_file(services, alice, chat, photo)
    team = make_group(services, alice, carol, dave)
    [copy] = forward(services, alice, original, team)
    services.groups.remove_member(alice.id, team.id, dave.id)  # dave keeps what he received
    both = kept.stored_bytes + photo.stored_bytes
    assert services.media.usage(alice.id).used_bytes == both

    delete_for_everyone(services, alice, original)

    assert not fetches(services, bob, photo)  # it reached bob only through the original
    assert fetches(services, carol, photo) and fetches(services, dave, photo)
    assert gallery(services, bob, chat) == [(kept.id, kept_message.id)]
    assert blob_files(settings, photo) == ["full", "preview", "thumbnail", "webp"]
    assert services.media.usage(alice.id).used_bytes == both  # still carried: still stored

    delete_for_everyone(services, alice, copy)

    for who in (alice, bob, carol, dave):
        assert not fetches(services, who, photo)
    assert blob_files(settings, photo) == []
    assert not (settings.media_dir / photo.id).exists()  # the folder went with its last blob
    assert services.media.usage(alice.id).used_bytes == kept.stored_bytes
    assert services.media._store.get_media(photo.id) is None
    assert services.media._store.list_deleted(10) == []  # nothing left for the sweeper
    assert gallery(services, carol, team) == []
    # The other file is untouched, and the id cannot be sent again.
    assert fetch(services, bob, kept) == samples.pdf("kept")
    with pytest.raises(InvalidInput, match="Upload the file first"):
        send_file(services, alice, chat, photo)
    # Deleting a tombstone again is still a no-op.
    services.message_actions.delete_for_everyone(alice.id, copy.id)


def test_a_file_sent_twice_stays_until_both_messages_are_deleted_and_delete_for_me_keeps_it(
    services: Services,
    settings: Settings,
    upload: Upload,
    alice: Person,
    bob: Person,
    chat: Chat,
) -> None:
    photo = upload(alice, chat, samples.jpeg_with_location(), "p.jpg")
    first = send_file(services, alice, chat, photo)
    again = services.messaging.send_message(
        alice.id, chat.id, {"type": "image", "mediaId": photo.id, "caption": "once more"}
    )
    assert gallery(services, bob, chat) == [(photo.id, again.id), (photo.id, first.id)]

    services.message_actions.delete_for_me(bob.id, first.id)
    assert gallery(services, bob, chat) == [(photo.id, again.id)]
    assert fetches(services, bob, photo)  # deleting for oneself deletes no file

    delete_for_everyone(services, alice, first)
    assert fetches(services, bob, photo)
    delete_for_everyone(services, alice, again)
    assert not fetches(services, bob, photo)
    assert blob_files(settings, photo) == []
    assert services.media.usage(alice.id).used_bytes == 0


def test_a_deletion_interrupted_after_its_commit_is_finished_by_the_sweeper(
    services: Services,
    settings: Settings,
    clock: FakeClock,
    upload: Upload,
    alice: Person,
    bob: Person,
    chat: Chat,
) -> None:
    photo = upload(alice, chat, samples.jpeg_with_location(), "p.jpg")
    message = send_file(services, alice, chat, photo)

    # The database step of a delete for everyone, then a crash before the blobs went.
    [marked] = services.media._store.forget_message(message.id, clock())

    assert marked.id == photo.id
    assert not fetches(services, bob, photo)
    assert services.media.usage(alice.id).used_bytes == 0  # the quota is back already
    assert blob_files(settings, photo) == ["full", "preview", "thumbnail", "webp"]
    assert services.media.sweep() == 1
    assert blob_files(settings, photo) == []
    assert services.media._store.list_deleted(10) == []
    assert services.media.sweep() == 0


def test_on_s3_the_last_deletion_removes_every_variant_from_the_bucket(
    settings: Settings,
    clock: FakeClock,
    s3_endpoint: str,
    alice: Person,
    carol: Person,
    chat: Chat,
    tmp_path: Path,
) -> None:
    from tests.s3_server import create_bucket

    bucket = f"media-forward-{uuid.uuid4().hex[:12]}"
    create_bucket(s3_endpoint, bucket)
    on_s3 = services_with(settings, clock, s3_bucket=bucket, s3_endpoint_url=s3_endpoint)
    path = tmp_path / "p.jpg"
    path.write_bytes(samples.jpeg_with_location())
    photo = on_s3.media.upload(alice.id, chat.id, path, "p.jpg")
    original = send_file(on_s3, alice, chat, photo)
    with_carol = on_s3.chats.open_direct_chat(alice.id, carol.id)
    [copy] = forward(on_s3, alice, original, with_carol)
    blobs = on_s3.media._blobs
    download = on_s3.media.download(carol.id, photo.id, "preview")
    assert on_s3.media.signed_url(download)  # carol is sent to the bucket, after the check

    delete_for_everyone(on_s3, alice, original)
    assert blobs.size_of(f"{photo.id}/thumbnail") > 0
    delete_for_everyone(on_s3, alice, copy)

    for variant in photo.variants:
        with pytest.raises(BlobMissing):
            blobs.size_of(f"{photo.id}/{variant}")
    assert on_s3.media.usage(alice.id).used_bytes == 0
    with pytest.raises(NotFound):
        on_s3.media.download(carol.id, photo.id, "preview")
