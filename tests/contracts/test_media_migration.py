"""Revision 0010 on a database that already holds media, on SQLite and PostgreSQL: the messages
that carried files before it (first sends, forwards, messages stored in Cassandra) are
recorded, so forwarded files work at once; files whose every message had been deleted for
everyone are marked deleted and the sweeper removes them. Downgrading and upgrading again
works."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.config import Config

from backend.adapters.sql.engine import REPO_ROOT, driver_url
from backend.container import build_services
from backend.errors import NotFound
from backend.ids import new_message_id
from backend.models import MediaKind, MediaSend
from backend.settings import Settings
from tests.conftest import FAST_HASH, FakeClock
from tests.contracts.conftest import NOW
from tests.engines import Engines, drop_postgres_database, fresh_postgres_database

ALICE, BOB, CAROL = (str(uuid.uuid4()) for _ in range(3))
WITH_BOB, WITH_CAROL = str(uuid.uuid4()), str(uuid.uuid4())


def alembic_config(url: str) -> Config:
    config = Config(str(REPO_ROOT / "alembic.ini"))
    config.set_main_option("script_location", str(REPO_ROOT / "alembic"))
    config.set_main_option("sqlalchemy.url", driver_url(url).replace("%", "%%"))
    config.attributes["configure_logging"] = False
    return config


@pytest.fixture(params=["sqlite", "postgres"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A database at head, then downgraded to 0009 (so the downgrade runs too)."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'chat.db'}"
        command.upgrade(alembic_config(url), "head")
    else:
        engines: Engines = request.getfixturevalue("engines")
        url = fresh_postgres_database(engines.postgres_url, "chat_media_migration")
    command.downgrade(alembic_config(url), "0009")
    yield url
    if request.param == "postgres":
        drop_postgres_database(engines.postgres_url, url)


def insert(conn: sa.Connection, table: str, **values: object) -> None:
    reflected = sa.Table(table, sa.MetaData(), autoload_with=conn)
    conn.execute(reflected.insert().values(**values))


def fill_before_0010(url: str) -> dict[str, str]:
    """Users, two chats, messages and media as revision 0009 stored them; the ids by name."""
    ids = {name: new_message_id() for name in ("sent", "forward", "deleted", "text", "dangling")}
    ids |= {name: str(uuid.uuid4()) for name in ("photo", "doc", "video", "draft")}
    ids["in_cassandra"] = new_message_id()
    engine = sa.create_engine(driver_url(url))
    with engine.begin() as conn:
        for user, name in ((ALICE, "alice"), (BOB, "bob"), (CAROL, "carol")):
            insert(
                conn, "users", id=user, username=name + user[:6], display_name=name,
                display_name_key=name, password_hash="x", created_at=NOW, hide_last_seen=False,
            )  # fmt: skip
        for chat, peer in ((WITH_BOB, BOB), (WITH_CAROL, CAROL)):
            insert(
                conn, "chats", id=chat, kind="direct", title="", direct_key=chat,
                created_by=ALICE, created_at=NOW, last_message_id="", last_preview="",
                last_sender_id="",
            )  # fmt: skip
            for user in (ALICE, peer):
                insert(
                    conn, "chat_members", chat_id=chat, user_id=user, role="member",
                    joined_at=NOW, delivered_upto="", read_upto="", is_listed=True,
                    visible_from="", visible_upto="",
                )  # fmt: skip

        def message(name: str, chat: str, content: dict, **extra: object) -> None:
            insert(
                conn, "messages", id=ids[name], chat_id=chat, sender_id=ALICE,
                content=json.dumps(content), created_at=NOW + timedelta(minutes=len(name)),
                **({"forwarded": False} | extra),
            )  # fmt: skip

        message("sent", WITH_BOB, {"type": "image", "mediaId": ids["photo"]})
        message("forward", WITH_CAROL, {"type": "image", "mediaId": ids["photo"]}, forwarded=True)
        message("deleted", WITH_BOB, {"type": "deleted"}, deleted_at=NOW)
        message("text", WITH_BOB, {"type": "text", "text": 'a "mediaId" in words'})
        message("dangling", WITH_BOB, {"type": "image", "mediaId": str(uuid.uuid4())})
        media = {
            "photo": ("image", "thumbnail,full", ids["sent"]),
            "doc": ("document", "original", ids["deleted"]),
            "video": ("video", "original,poster", ids["in_cassandra"]),
            "draft": ("document", "original", None),
        }
        for name, (kind, variants, sent_in) in media.items():
            insert(
                conn, "media", id=ids[name], chat_id=WITH_BOB, owner_id=ALICE, kind=kind,
                mime="application/octet-stream", name=name, size=100, stored_bytes=100,
                variants=variants, message_id=sent_in, meta="{}", created_at=NOW,
            )  # fmt: skip
    engine.dispose()
    return ids


def test_upgrading_records_every_message_that_carried_a_file(
    database_url: str, tmp_path: Path
) -> None:
    ids = fill_before_0010(database_url)

    settings = Settings(data_dir=tmp_path, database_url=database_url, **FAST_HASH)  # type: ignore[arg-type]
    services = build_services(settings, clock=FakeClock())  # (the draft is not a day old)

    store, media = services.media._store, services.media
    assert sorted(store.list_sends(ids["photo"]), key=lambda s: s.message_id) == [
        MediaSend(ids["photo"], WITH_BOB, ids["sent"]),
        MediaSend(ids["photo"], WITH_CAROL, ids["forward"]),
    ]
    assert media.download(CAROL, ids["photo"], "thumbnail")  # the forward works at once
    gallery = media.list_chat_media(CAROL, WITH_CAROL, list(MediaKind))
    assert [m.message_id for m in gallery.media] == [ids["forward"]]
    in_cassandra = MediaSend(ids["video"], WITH_BOB, ids["in_cassandra"])
    assert store.list_sends(ids["video"]) == [in_cassandra]
    assert media.download(BOB, ids["video"], "poster")
    # The document's only message had been deleted for everyone: it is gone, and so is its cost.
    with pytest.raises(NotFound):
        media.download(BOB, ids["doc"])
    assert [m.id for m in store.list_deleted(10)] == [ids["doc"]]
    assert media.usage(ALICE).used_bytes == 300  # photo, video, the draft
    assert media.sweep() == 1
    assert store.list_deleted(10) == []
    # The draft was never sent: still an upload its chat's members may see.
    assert store.list_sends(ids["draft"]) == []
    assert media.download(BOB, ids["draft"])
