"""Upgrading a database that already holds messages makes them findable: on SQLite the 0007
backfill of FTS5 (from 0001), on PostgreSQL (``--engines=scale``) the 0009 backfill of the
full-text index (from 0007)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.config import Config

from backend.adapters.sql.engine import REPO_ROOT, create_sql_engine, driver_url
from backend.container import build_services
from backend.settings import Settings
from tests.conftest import FAST_HASH
from tests.engines import drop_postgres_database

CHAT = "7d4c3a2b-1111-4222-8333-444455556666"
ALICE = "0a0a0a0a-0000-4000-8000-000000000001"
BOB = "0b0b0b0b-0000-4000-8000-000000000002"
WHEN = datetime(2026, 1, 1, 12, tzinfo=UTC)


@pytest.fixture
def old_database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[str, str]]:
    """An empty database's URL and the revision it is to be left at before the index."""
    if request.config.getoption("--engines") != "scale":
        yield f"sqlite:///{tmp_path / 'chat.db'}", "0001"
        return
    server = request.getfixturevalue("engines").postgres_url
    admin = create_sql_engine(server).execution_options(isolation_level="AUTOCOMMIT")
    name = f"chat_search_upgrade_{tmp_path.name[-12:].replace('-', '_')}"
    with admin.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    url = server.rsplit("/", 1)[0] + "/" + name
    yield url, "0007"
    drop_postgres_database(server, url)


def test_messages_stored_before_the_search_index_existed_are_found_after_upgrading(
    tmp_path: Path, old_database: tuple[str, str]
) -> None:
    url, revision = old_database
    config = Config(str(REPO_ROOT / "alembic.ini"))
    config.set_main_option("script_location", str(REPO_ROOT / "alembic"))
    config.set_main_option("sqlalchemy.url", driver_url(url))
    config.attributes["configure_logging"] = False
    command.upgrade(config, revision)
    engine = sa.create_engine(driver_url(url))
    sqlite = engine.dialect.name == "sqlite"
    # Times as each engine's column type stores them (SQLite: naive UTC text).
    when: Any = "2026-01-01 12:00:00.000000" if sqlite else WHEN
    with engine.begin() as conn:
        for user, name in ((ALICE, "alice"), (BOB, "bob")):
            conn.execute(
                sa.text(
                    "INSERT INTO users (id, username, display_name, display_name_key,"
                    " password_hash, created_at) VALUES (:id, :name, :name, :name, 'x', :when)"
                ),
                {"id": user, "name": name, "when": when},
            )
        conn.execute(
            sa.text(
                "INSERT INTO chats (id, kind, title, direct_key, created_by, created_at,"
                " last_message_id, last_preview, last_sender_id)"
                " VALUES (:id, 'direct', '', 'k', :a, :when, '', '', '')"
            ),
            {"id": CHAT, "a": ALICE, "when": when},
        )
        for user in (ALICE, BOB):
            conn.execute(
                sa.text(
                    "INSERT INTO chat_members (chat_id, user_id, role, joined_at,"
                    " delivered_upto, read_upto, is_listed)"
                    " VALUES (:chat, :user, 'member', :when, '', '', :listed)"
                ),
                {"chat": CHAT, "user": user, "when": when, "listed": True},
            )
        for i, body in enumerate(("Старое сообщение", '{"type": "image"}', "old news")):
            content = body if body.startswith("{") else f'{{"type": "text", "text": "{body}"}}'
            conn.execute(
                sa.text(
                    "INSERT INTO messages (id, chat_id, sender_id, temp_id, content, created_at)"
                    " VALUES (:id, :chat, :sender, NULL, :content, :when)"
                ),
                {
                    "id": f"01a2101b-ee5{i}-7000-8881-e88d4fab3664",
                    "chat": CHAT,
                    "sender": ALICE,
                    "content": content,
                    "when": when,
                },
            )
    engine.dispose()

    services = build_services(
        Settings(data_dir=tmp_path, database_url="" if sqlite else url, **FAST_HASH)  # type: ignore[arg-type]
    )

    def texts(query: str) -> list[str]:
        page = services.search.search_messages(BOB, query)
        return [h.message.content["text"] for h in page.hits]

    assert texts("старо") == ["Старое сообщение"]
    assert texts("news") == ["old news"]
    assert texts("сообщение old") == []
    [hit] = services.search.search_messages(BOB, "OLD").hits
    assert (hit.message.sender_id, hit.message.created_at) == (ALICE, WHEN)
    assert [m.forwarded for m in services.messaging.list_messages(BOB, CHAT).messages] == [
        False,
        False,
        False,
    ]
