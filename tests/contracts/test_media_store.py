"""The media store on SQLite and PostgreSQL: which messages carry a file, the chat's gallery
over them, and deleting a file when its last message goes - atomically against a send that
would carry it again, and giving its bytes back to the quota."""

from __future__ import annotations

import dataclasses
import threading
import uuid
from datetime import timedelta

import sqlalchemy as sa

from backend.adapters.sql.accounts import SqlUserStore
from backend.adapters.sql.chats import SqlChatStore
from backend.adapters.sql.media import SqlMediaStore
from backend.ids import new_message_id
from backend.models import Media, MediaKind, MediaSend
from tests.contracts.conftest import NOW, make_direct_chat, make_user

QUOTA = 10_000
KINDS = [k.value for k in MediaKind]


def new_media(store: SqlMediaStore, chat_id: str, owner_id: str, stored_bytes: int = 100) -> Media:
    media = Media(
        id=str(uuid.uuid4()),
        chat_id=chat_id,
        owner_id=owner_id,
        kind=MediaKind.IMAGE,
        mime="image/jpeg",
        name="p.jpg",
        size=stored_bytes,
        stored_bytes=stored_bytes,
        created_at=NOW,
        variants=("thumbnail", "full"),
    )
    assert store.add_media(media, QUOTA)
    return media


def another_like(media: Media) -> Media:
    return dataclasses.replace(media, id=str(uuid.uuid4()))


def two_chats(sql_engine: sa.Engine) -> tuple[str, str, str]:
    """Alice's chat with Bob and her chat with Carol; and Alice's id."""
    users, chats = SqlUserStore(sql_engine), SqlChatStore(sql_engine)
    alice, bob, carol = make_user(users), make_user(users), make_user(users)
    with_bob = make_direct_chat(chats, alice.id, bob.id)
    with_carol = make_direct_chat(chats, alice.id, carol.id)
    return with_bob.id, with_carol.id, alice.id


def test_each_message_that_carries_a_file_is_recorded_once(sql_engine: sa.Engine) -> None:
    store = SqlMediaStore(sql_engine)
    chat_a, chat_b, alice = two_chats(sql_engine)
    media = new_media(store, chat_a, alice)
    first, forward = new_message_id(), new_message_id()

    assert store.record_send(media.id, chat_a, first, NOW)
    assert store.record_send(media.id, chat_a, first, NOW)  # again: nothing changes
    assert store.record_send(media.id, chat_b, forward, NOW + timedelta(minutes=1))

    assert sorted(store.list_sends(media.id), key=lambda s: s.message_id) == [
        MediaSend(media.id, chat_a, first),
        MediaSend(media.id, chat_b, forward),
    ]
    assert store.list_sends(media.id, chat_ids=[chat_b]) == [MediaSend(media.id, chat_b, forward)]
    assert store.list_sends(media.id, chat_ids=[]) == []
    assert len(store.list_sends(media.id, limit=1)) == 1
    stored = store.get_media(media.id)
    assert stored is not None and stored.message_id == first  # the first send stays the first
    assert store.list_unsent(NOW + timedelta(days=9), 10) == []


def test_the_gallery_lists_a_file_once_per_message_with_that_messages_id_and_time(
    sql_engine: sa.Engine,
) -> None:
    store = SqlMediaStore(sql_engine)
    chat_a, chat_b, alice = two_chats(sql_engine)
    media = new_media(store, chat_a, alice)
    other = new_media(store, chat_b, alice)
    ids = [new_message_id() for _ in range(4)]
    store.record_send(media.id, chat_a, ids[0], NOW)
    store.record_send(media.id, chat_b, ids[1], NOW + timedelta(hours=1))
    store.record_send(other.id, chat_b, ids[2], NOW + timedelta(hours=2))
    store.record_send(media.id, chat_b, ids[3], NOW + timedelta(hours=3))  # forwarded again

    in_b = store.list_sent(chat_b, KINDS, "", 10)

    assert [(m.id, m.message_id) for m in in_b] == [
        (media.id, ids[3]),
        (other.id, ids[2]),
        (media.id, ids[1]),
    ]
    assert in_b[0].sent_at == NOW + timedelta(hours=3)
    assert in_b[0].chat_id == chat_a  # still the chat it was uploaded for
    assert [m.message_id for m in store.list_sent(chat_b, KINDS, ids[3], 10)] == ids[1:3][::-1]
    assert [m.message_id for m in store.list_sent(chat_b, KINDS, "", 10, ids[1], ids[2])] == [
        ids[2]
    ]
    assert store.list_sent(chat_b, ["document"], "", 10) == []
    assert [m.message_id for m in store.list_sent(chat_a, KINDS, "", 10)] == [ids[0]]


def test_the_file_goes_with_the_last_message_that_carries_it_and_frees_the_quota(
    sql_engine: sa.Engine,
) -> None:
    store = SqlMediaStore(sql_engine)
    chat_a, chat_b, alice = two_chats(sql_engine)
    media = new_media(store, chat_a, alice, stored_bytes=6_000)
    original, copy = new_message_id(), new_message_id()
    store.record_send(media.id, chat_a, original, NOW)
    store.record_send(media.id, chat_b, copy, NOW)
    # The quota is full: 6,000 + 6,000 > 10,000.
    assert not store.add_media(another_like(media), QUOTA)

    assert store.forget_message(original, NOW) == []  # the copy still carries it
    assert store.forget_message(original, NOW) == []  # forgetting twice is harmless
    assert store.used_bytes(alice) == 6_000
    assert store.list_sent(chat_a, KINDS, "", 10) == []
    assert [m.message_id for m in store.list_sent(chat_b, KINDS, "", 10)] == [copy]

    [gone] = store.forget_message(copy, NOW + timedelta(minutes=5))

    assert gone.id == media.id and gone.variants == media.variants  # for deleting the blobs
    assert store.get_media(media.id) is None
    assert store.used_bytes(alice) == 0
    assert store.add_media(another_like(media), QUOTA)  # the bytes are back
    assert store.list_sends(media.id) == []
    assert store.list_sent(chat_b, KINDS, "", 10) == []
    assert not store.record_send(media.id, chat_b, new_message_id(), NOW)  # nothing to carry
    assert [m.id for m in store.list_deleted(10)] == [media.id]
    assert store.purge_deleted(media.id)
    assert not store.purge_deleted(media.id)
    assert store.list_deleted(10) == []
    assert not store.delete_unsent(media.id)


def race(
    store: SqlMediaStore, media: Media, chat_id: str, original: str, forward: str
) -> tuple[bool, list[Media]]:
    """At once: forget ``original``, and record ``forward`` (of ``chat_id``) as carrying the
    file. What each said."""
    start = threading.Barrier(2)
    results: dict[str, object] = {}

    def forget() -> None:
        start.wait()
        results["gone"] = store.forget_message(original, NOW)

    def carry() -> None:
        start.wait()
        results["carried"] = store.record_send(media.id, chat_id, forward, NOW)

    threads = [threading.Thread(target=forget), threading.Thread(target=carry)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return bool(results["carried"]), results["gone"]  # type: ignore[return-value]


def test_a_send_racing_the_last_deletion_never_carries_a_deleted_file(
    sql_engine: sa.Engine,
) -> None:
    """Many times over: one thread forgets the only message that carries a file while another
    records a forward of it. Either the forward lands first and the file stays, or it finds
    the file deleted; never a live message carrying a deleted file."""
    store = SqlMediaStore(sql_engine)
    chat_a, chat_b, alice = two_chats(sql_engine)
    for _ in range(25):
        media = new_media(store, chat_a, alice)
        original, forward = new_message_id(), new_message_id()
        store.record_send(media.id, chat_a, original, NOW)

        carried, gone = race(store, media, chat_b, original, forward)

        if carried:
            assert gone == [] and store.get_media(media.id) is not None
            assert store.list_sends(media.id) == [MediaSend(media.id, chat_b, forward)]
        else:
            assert [m.id for m in gone] == [media.id]
            assert store.get_media(media.id) is None and store.list_sends(media.id) == []
