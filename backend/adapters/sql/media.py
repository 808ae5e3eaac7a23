"""Media records in SQL (the bytes live in a BlobStorage adapter), and the messages that carry
them (``media_sends``): the first send of an upload and every forward."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterable
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from backend.adapters.sql.tables import MediaRow, MediaSendRow
from backend.models import Media, MediaKind, MediaSend

MEDIA: sa.Table = MediaRow.__table__  # type: ignore[attr-defined]
SENDS: sa.Table = MediaSendRow.__table__  # type: ignore[attr-defined]
LIVE = MEDIA.c.deleted_at.is_(None)


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


def _used_by(owner_id: str) -> sa.Select[Any]:
    """What the owner's files take: records marked deleted cost nothing (their blobs are on
    their way out)."""
    return sa.select(sa.func.coalesce(sa.func.sum(MEDIA.c.stored_bytes), 0)).where(
        MEDIA.c.owner_id == owner_id, LIVE
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
        used = _used_by(media.owner_id).scalar_subquery()
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
            row = conn.execute(sa.select(MEDIA).where(MEDIA.c.id == media_id, LIVE)).first()
        return _media(row) if row is not None else None

    def record_send(self, media_id: str, chat_id: str, message_id: str, at: datetime) -> bool:
        with self._engine.begin() as conn:
            # The check that the file is still there is also the lock on its row (PostgreSQL:
            # ``forget_message`` waits for it, or this waits and then sees it deleted; SQLite:
            # the write lock), so a file is never deleted with a message just carrying it.
            live = conn.execute(
                MEDIA.update()
                .where(MEDIA.c.id == media_id, LIVE)
                .values(message_id=sa.func.coalesce(MEDIA.c.message_id, message_id))
                .returning(MEDIA.c.id)
            ).first()
            if live is None:
                return False
            values = {
                "message_id": message_id,
                "media_id": media_id,
                "chat_id": chat_id,
                "sent_at": at,
            }
            row = sa.select(
                *(sa.literal(v, SENDS.c[name].type).label(name) for name, v in values.items())
            ).where(~sa.exists().where(SENDS.c.message_id == message_id))
            conn.execute(SENDS.insert().from_select(list(values), row))
        return True

    def list_sends(
        self, media_id: str, chat_ids: Iterable[str] | None = None, limit: int = 0
    ) -> list[MediaSend]:
        query = sa.select(SENDS.c.media_id, SENDS.c.chat_id, SENDS.c.message_id).where(
            SENDS.c.media_id == media_id
        )
        if chat_ids is not None:
            query = query.where(SENDS.c.chat_id.in_(list(chat_ids)))
        query = query.order_by(SENDS.c.chat_id, SENDS.c.message_id)
        if limit:
            query = query.limit(limit)
        with self._engine.connect() as conn:
            return [MediaSend(*row) for row in conn.execute(query)]

    def list_sent(
        self,
        chat_id: str,
        kinds: Iterable[str],
        before_message_id: str,
        limit: int,
        after_message_id: str = "",
        upto_message_id: str = "",
    ) -> list[Media]:
        sent_in = SENDS.c.message_id
        query = (
            sa.select(MEDIA, sent_in.label("sent_in"), SENDS.c.sent_at)
            .select_from(SENDS.join(MEDIA, MEDIA.c.id == SENDS.c.media_id))
            .where(SENDS.c.chat_id == chat_id, MEDIA.c.kind.in_(list(kinds)), LIVE)
        )
        if before_message_id:
            query = query.where(sent_in < before_message_id)
        if after_message_id:
            query = query.where(sent_in > after_message_id)
        if upto_message_id:
            query = query.where(sent_in <= upto_message_id)
        query = query.order_by(sent_in.desc()).limit(limit)
        with self._engine.connect() as conn:
            return [
                dataclasses.replace(_media(row), message_id=row.sent_in, sent_at=row.sent_at)
                for row in conn.execute(query)
            ]

    def forget_message(self, message_id: str, at: datetime) -> list[Media]:
        with self._engine.begin() as conn:
            # A write first: on SQLite the transaction holds the write lock from here on.
            carried = (
                conn.execute(
                    SENDS.delete()
                    .where(SENDS.c.message_id == message_id)
                    .returning(SENDS.c.media_id)
                )
                .scalars()
                .all()
            )
            if not carried:
                return []
            # PostgreSQL: wait for a send of the same file being recorded right now; the next
            # statement then sees it (READ COMMITTED takes a new snapshot per statement).
            conn.execute(sa.select(MEDIA.c.id).where(MEDIA.c.id.in_(carried)).with_for_update())
            carried_elsewhere = sa.exists().where(SENDS.c.media_id == MEDIA.c.id)
            rows = conn.execute(
                MEDIA.update()
                .where(MEDIA.c.id.in_(carried), LIVE, ~carried_elsewhere)
                .values(deleted_at=at)
                .returning(*MEDIA.c)
            ).all()
        return [_media(row) for row in rows]

    def list_deleted(self, limit: int) -> list[Media]:
        query = (
            sa.select(MEDIA)
            .where(MEDIA.c.deleted_at.is_not(None))
            .order_by(MEDIA.c.deleted_at)
            .limit(limit)
        )
        with self._engine.connect() as conn:
            return [_media(row) for row in conn.execute(query)]

    def purge_deleted(self, media_id: str) -> bool:
        with self._engine.begin() as conn:
            purged = conn.execute(
                MEDIA.delete()
                .where(MEDIA.c.id == media_id, MEDIA.c.deleted_at.is_not(None))
                .returning(MEDIA.c.id)
            ).first()
        return purged is not None

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
            total = conn.execute(_used_by(owner_id)).scalar_one()
        return int(total)
