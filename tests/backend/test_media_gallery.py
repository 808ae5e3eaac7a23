"""The chat's gallery: sent media by kind, newest first, paged; only what the viewer may read
(a member added later sees nothing older, one who was removed keeps what they received), and
never the files of deleted messages. Fetching a file follows the same rule."""

from __future__ import annotations

import pytest

from backend.container import Services
from backend.errors import NotFound
from backend.models import Chat, Media, MediaKind
from tests import media_samples as samples
from tests.backend.group_helpers import make_group
from tests.backend.helpers import Person
from tests.backend.media_helpers import Upload, fetch

PHOTOS_AND_VIDEOS = [MediaKind.IMAGE, MediaKind.VIDEO]


def send_photo(services: Services, upload: Upload, who: Person, chat: Chat, name: str) -> Media:
    photo = upload(who, chat, samples.jpeg_with_location(), name)
    services.messaging.send_message(who.id, chat.id, {"type": "image", "mediaId": photo.id})
    return services.media._store.get_media(photo.id) or photo  # now with its message id


def names(services: Services, who: Person, chat: Chat, kinds: list[MediaKind]) -> list[str]:
    """Every page of the gallery, two at a time, joined."""
    shown, cursor = [], ""
    while True:
        page = services.media.list_chat_media(who.id, chat.id, kinds, before=cursor, limit=2)
        shown += [m.name for m in page.media]
        if not page.next_cursor:
            return shown
        cursor = page.next_cursor


def test_the_gallery_lists_sent_media_by_kind_newest_first(
    services: Services, upload: Upload, alice: Person, bob: Person, carol: Person, chat: Chat
) -> None:
    photos = [upload(alice, chat, samples.jpeg_with_location(), f"p{i}.jpg") for i in range(3)]
    doc = upload(bob, chat, samples.pdf(), "minutes.pdf")
    upload(alice, chat, samples.jpeg_with_location(), "never-sent.jpg")
    send = services.messaging.send_message
    for photo in photos:
        send(alice.id, chat.id, {"type": "image", "mediaId": photo.id}, temp_id=photo.id)
    send(alice.id, chat.id, {"type": "image", "mediaId": photos[0].id}, temp_id=photos[0].id)
    send(bob.id, chat.id, {"type": "document", "mediaId": doc.id})
    gallery = services.media.list_chat_media

    newest = gallery(bob.id, chat.id, PHOTOS_AND_VIDEOS, limit=2)
    assert [m.id for m in newest.media] == [photos[2].id, photos[1].id]
    assert newest.next_cursor == newest.media[-1].message_id
    older = gallery(bob.id, chat.id, [MediaKind.IMAGE], before=newest.next_cursor)
    assert [m.id for m in older.media] == [photos[0].id]  # the resend did not list it twice
    assert older.next_cursor == ""  # no empty page after the last one
    assert [m.name for m in gallery(alice.id, chat.id, [MediaKind.DOCUMENT]).media] == [
        "minutes.pdf"
    ]
    with pytest.raises(NotFound):
        gallery(carol.id, chat.id, list(MediaKind))


def test_a_member_added_later_sees_only_media_sent_since(
    services: Services, upload: Upload, alice: Person, bob: Person, carol: Person
) -> None:
    group = make_group(services, alice, bob)
    before = send_photo(services, upload, alice, group, "before.jpg")
    services.groups.add_members(alice.id, group.id, [carol.id])
    after = send_photo(services, upload, bob, group, "after.jpg")

    assert names(services, carol, group, PHOTOS_AND_VIDEOS) == ["after.jpg"]
    assert names(services, bob, group, PHOTOS_AND_VIDEOS) == ["after.jpg", "before.jpg"]
    assert fetch(services, carol, after, "thumbnail")
    with pytest.raises(NotFound):
        services.media.download(carol.id, before.id, "thumbnail")


def test_a_removed_member_keeps_the_media_they_received_and_gets_nothing_newer(
    services: Services, upload: Upload, alice: Person, bob: Person, carol: Person, dave: Person
) -> None:
    group = make_group(services, alice, bob, carol)
    received = send_photo(services, upload, alice, group, "received.jpg")
    services.groups.remove_member(alice.id, group.id, bob.id)
    later = send_photo(services, upload, carol, group, "later.jpg")

    assert names(services, bob, group, PHOTOS_AND_VIDEOS) == ["received.jpg"]
    assert fetch(services, bob, received, "preview")
    with pytest.raises(NotFound):
        services.media.download(bob.id, later.id, "preview")
    with pytest.raises(NotFound):  # never a member: nothing at all
        services.media.list_chat_media(dave.id, group.id, list(MediaKind))
    # A removed member cannot upload there any more either.
    with pytest.raises(NotFound):
        upload(bob, group, samples.pdf(), "late.pdf")


def test_an_upload_not_sent_yet_is_for_current_members_only(
    services: Services, upload: Upload, alice: Person, bob: Person, carol: Person
) -> None:
    group = make_group(services, alice, bob, carol)
    draft = upload(alice, group, samples.jpeg_with_location(), "draft.jpg")

    assert fetch(services, bob, draft, "thumbnail")
    services.groups.remove_member(alice.id, group.id, bob.id)
    with pytest.raises(NotFound):
        services.media.download(bob.id, draft.id, "thumbnail")
    assert names(services, carol, group, list(MediaKind)) == []  # not in the gallery


def test_files_of_deleted_messages_leave_the_gallery(
    services: Services, upload: Upload, alice: Person, bob: Person, chat: Chat
) -> None:
    for i in range(5):
        send_photo(services, upload, alice, chat, f"p{i}.jpg")
    ids = {m.name: m.message_id for m in services.media._store.list_sent(chat.id, ["image"], "", 9)}

    services.message_actions.delete_for_everyone(alice.id, ids["p3.jpg"])
    services.message_actions.delete_for_me(bob.id, ids["p1.jpg"])

    # Pages of two skip the deleted files and still end without an empty page.
    assert names(services, alice, chat, PHOTOS_AND_VIDEOS) == [
        "p4.jpg",
        "p2.jpg",
        "p1.jpg",
        "p0.jpg",
    ]
    assert names(services, bob, chat, PHOTOS_AND_VIDEOS) == ["p4.jpg", "p2.jpg", "p0.jpg"]
