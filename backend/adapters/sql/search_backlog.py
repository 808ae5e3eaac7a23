"""The backlog of search index changes that follow a write to another store (Cassandra): see
``backend.adapters.indexing`` for why and when it is replayed."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from backend.adapters.sql.tables import SearchBacklogRow

BACKLOG: sa.Table = SearchBacklogRow.__table__  # type: ignore[attr-defined]


class SqlSearchBacklog:
    def __init__(self, engine: sa.Engine) -> None:
        self._engine = engine
        insert = postgresql.insert if engine.dialect.name == "postgresql" else sqlite.insert
        # A second change of the same message keeps the first note: it is the older one.
        self._note = (
            insert(BACKLOG)
            .values(message_id=sa.bindparam("message_id"), noted_at=sa.bindparam("noted_at"))
            .on_conflict_do_nothing()
        )

    def note(self, message_id: str, at: datetime) -> None:
        """The message's index row is about to go stale (before the store's write)."""
        with self._engine.begin() as conn:
            conn.execute(self._note, {"message_id": message_id, "noted_at": at})

    def clear(self, message_id: str) -> None:
        """The index follows the store again for this message."""
        with self._engine.begin() as conn:
            conn.execute(sa.delete(BACKLOG).where(BACKLOG.c.message_id == message_id))

    def noted_before(self, moment: datetime) -> list[str]:
        """Messages noted before ``moment`` and never cleared (oldest first)."""
        query = (
            sa.select(BACKLOG.c.message_id)
            .where(BACKLOG.c.noted_at < moment)
            .order_by(BACKLOG.c.noted_at)
        )
        with self._engine.connect() as conn:
            return list(conn.execute(query).scalars())
