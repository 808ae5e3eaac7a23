"""Media records in SQL (the bytes live in a BlobStorage adapter)."""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from backend.adapters.sql.tables import MediaRow
from backend.models import Media, MediaKind

MEDIA: sa.Table = MediaRow.__table__  # type: ignore[attr-defined]


def _media(row: Any) -> Media:
    return Media(
        id=row.id,
        chat_id=row.chat_id,
        owner_id=row.owner_id,
        kind=MediaKind(row.kind),
        mime=row.mime,
        name=row.name,
        size=row.size,
        stored_bytes=row.stored_bytes,
        created_at=row.created_at,
        variants=tuple(v for v in row.variants.split(",") if v),
        meta=json.loads(row.meta),
        message_id=row.message_id or "",
        temp_id=row.temp_id or "",
    )


# PostgreSQL: in READ COMMITTED two uploads' INSERT ... SELECT would each sum the quota without
# the other's row, and both pass. A per-owner transaction lock makes the second see the first.
# (Seed 2: not the send or receipt locks, which hash chat ids.)
_LOCK_OWNER = sa.text("SELECT pg_advisory_xact_lock(hashtextextended(:owner_id, 2))")


class SqlMediaStore:
    def __init__(self, engine: sa.Engine) -> None:
        self._engine = engine
        self._lock_per_owner = engine.dialect.name == "postgresql"

    def add_media(self, media: Media, quota_bytes: int) -> bool:
        values = {
            "id": media.id,
            "chat_id": media.chat_id,
            "owner_id": media.owner_id,
            "kind": media.kind.value,
            "mime": media.mime,
            "name": media.name,
            "size": media.size,
            "stored_bytes": media.stored_bytes,
            "variants": ",".join(media.variants),
            "meta": json.dumps(media.meta, separators=(",", ":")),
            "message_id": media.message_id or None,
            "temp_id": media.temp_id or None,
            "created_at": media.created_at,
        }
        used = (
            sa.select(sa.func.coalesce(sa.func.sum(MEDIA.c.stored_bytes), 0))
            .where(MEDIA.c.owner_id == media.owner_id)
            .scalar_subquery()
        )
        # INSERT ... SELECT ... WHERE used + new <= quota: one statement, so on SQLite (one
        # writer at a time) two parallel uploads cannot both pass the check (PostgreSQL: the
        # owner's lock above).
        row = sa.select(
            *(sa.literal(value, MEDIA.c[name].type).label(name) for name, value in values.items())
        ).where(used + media.stored_bytes <= quota_bytes)
        with self._engine.begin() as conn:
            if self._lock_per_owner:
                conn.execute(_LOCK_OWNER, {"owner_id": media.owner_id})
            # RETURNING, not rowcount: psycopg may report a row for an INSERT ... SELECT that
            # inserted none.
            inserted = conn.execute(
                MEDIA.insert().from_select(list(values), row).returning(MEDIA.c.id)
            ).first()
        return inserted is not None

    def get_media(self, media_id: str) -> Media | None:
        with self._engine.connect() as conn:
            row = conn.execute(sa.select(MEDIA).where(MEDIA.c.id == media_id)).first()
        return _media(row) if row is not None else None

    def mark_sent(self, media_id: str, message_id: str) -> None:
        with self._engine.begin() as conn:
            conn.execute(
                MEDIA.update()
                .where(MEDIA.c.id == media_id, MEDIA.c.message_id.is_(None))
                .values(message_id=message_id)
            )

    def list_sent(
        self,
        chat_id: str,
        kinds: Iterable[str],
        before_message_id: str,
        limit: int,
        after_message_id: str = "",
        upto_message_id: str = "",
    ) -> list[Media]:
        query = sa.select(MEDIA).where(
            MEDIA.c.chat_id == chat_id,
            MEDIA.c.message_id.is_not(None),
            MEDIA.c.kind.in_(list(kinds)),
        )
        if before_message_id:
            query = query.where(MEDIA.c.message_id < before_message_id)
        if after_message_id:
            query = query.where(MEDIA.c.message_id > after_message_id)
        if upto_message_id:
            query = query.where(MEDIA.c.message_id <= upto_message_id)
        query = query.order_by(MEDIA.c.message_id.desc()).limit(limit)
        with self._engine.connect() as conn:
            return [_media(row) for row in conn.execute(query)]

    def find_unsent(self, owner_id: str, temp_id: str) -> list[Media]:
        query = sa.select(MEDIA).where(
            MEDIA.c.owner_id == owner_id,
            MEDIA.c.temp_id == temp_id,
            MEDIA.c.message_id.is_(None),
        )
        with self._engine.connect() as conn:
            return [_media(row) for row in conn.execute(query)]

    def list_unsent(self, created_before: datetime, limit: int) -> list[Media]:
        query = (
            sa.select(MEDIA)
            .where(MEDIA.c.message_id.is_(None), MEDIA.c.created_at < created_before)
            .order_by(MEDIA.c.created_at)
            .limit(limit)
        )
        with self._engine.connect() as conn:
            return [_media(row) for row in conn.execute(query)]

    def delete_unsent(self, media_id: str) -> bool:
        # Conditional: a send that marked it meanwhile wins, and its record stays.
        with self._engine.begin() as conn:
            deleted = conn.execute(
                MEDIA.delete()
                .where(MEDIA.c.id == media_id, MEDIA.c.message_id.is_(None))
                .returning(MEDIA.c.id)
            ).first()
        return deleted is not None

    def used_bytes(self, owner_id: str) -> int:
        with self._engine.connect() as conn:
            total = conn.execute(
                sa.select(sa.func.coalesce(sa.func.sum(MEDIA.c.stored_bytes), 0)).where(
                    MEDIA.c.owner_id == owner_id
                )
            ).scalar_one()
        return int(total)
