"""Upgrading a database that already holds messages makes them findable (the 0007 backfill)."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa
from alembic import command
from alembic.config import Config

from backend.adapters.sql.engine import REPO_ROOT
from backend.container import build_services
from backend.settings import Settings
from tests.conftest import FAST_HASH

CHAT = "7d4c3a2b-1111-4222-8333-444455556666"
ALICE = "0a0a0a0a-0000-4000-8000-000000000001"
BOB = "0b0b0b0b-0000-4000-8000-000000000002"


def test_messages_stored_before_the_search_index_existed_are_found_after_upgrading(
    tmp_path: Path,
) -> None:
    url = f"sqlite:///{tmp_path / 'chat.db'}"
    config = Config(str(REPO_ROOT / "alembic.ini"))
    config.set_main_option("script_location", str(REPO_ROOT / "alembic"))
    config.set_main_option("sqlalchemy.url", url)
    config.attributes["configure_logging"] = False
    command.upgrade(config, "0001")
    engine = sa.create_engine(url)
    when = "2026-01-01 12:00:00.000000"
    with engine.begin() as conn:
        for user, name in ((ALICE, "alice"), (BOB, "bob")):
            conn.execute(
                sa.text("INSERT INTO users VALUES (:id, :name, :name, :name, 'x', :when)"),
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
                    "INSERT INTO chat_members VALUES (:chat, :user, 'member', :when, '', '', 1)"
                ),
                {"chat": CHAT, "user": user, "when": when},
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

    services = build_services(Settings(data_dir=tmp_path, **FAST_HASH))  # type: ignore[arg-type]

    def texts(query: str) -> list[str]:
        page = services.search.search_messages(BOB, query)
        return [h.message.content["text"] for h in page.hits]

    assert texts("старо") == ["Старое сообщение"]
    assert texts("news") == ["old news"]
    assert [m.forwarded for m in services.messaging.list_messages(BOB, CHAT).messages] == [
        False,
        False,
        False,
    ]
