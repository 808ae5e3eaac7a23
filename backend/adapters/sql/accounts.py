"""Users and sessions in SQL."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session as DbSession
from sqlmodel import col, or_, select

from backend.adapters.sql.tables import SessionRow, UserRow
from backend.errors import Conflict
from backend.models import Session, User

USERS: sa.Table = UserRow.__table__  # type: ignore[attr-defined]
SESSIONS: sa.Table = SessionRow.__table__  # type: ignore[attr-defined]


def _user(row: Any) -> User:
    return User(
        id=row.id,
        username=row.username,
        display_name=row.display_name,
        created_at=row.created_at,
        last_seen_at=row.last_seen_at,
        hide_last_seen=row.hide_last_seen,
    )


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


class SqlUserStore:
    def __init__(self, engine: sa.Engine) -> None:
        self._engine = engine

    def add_user(self, user: User, password_hash: str) -> None:
        row = UserRow(
            id=user.id,
            username=user.username,
            display_name=user.display_name,
            display_name_key=user.display_name.casefold(),
            password_hash=password_hash,
            created_at=user.created_at,
        )
        with DbSession(self._engine) as db:
            db.add(row)
            try:
                db.commit()
            except sa.exc.IntegrityError as exc:
                raise Conflict("That username is taken.") from exc

    def get_users(self, user_ids: Iterable[str]) -> dict[str, User]:
        ids = list(set(user_ids))
        if not ids:
            return {}
        with self._engine.connect() as conn:  # every authenticated action: Core, not ORM
            rows = conn.execute(sa.select(USERS).where(USERS.c.id.in_(ids))).all()
        return {row.id: _user(row) for row in rows}

    def find_credentials(self, username: str) -> tuple[User, str] | None:
        with DbSession(self._engine) as db:
            row = db.exec(select(UserRow).where(UserRow.username == username)).first()
            return (_user(row), row.password_hash) if row else None

    def set_password_hash(self, user_id: str, password_hash: str) -> None:
        with DbSession(self._engine) as db:
            db.exec(  # type: ignore[call-overload]
                sa.update(UserRow)
                .where(col(UserRow.id) == user_id)
                .values(password_hash=password_hash)
            )
            db.commit()

    def set_display_name(self, user_id: str, display_name: str) -> None:
        with DbSession(self._engine) as db:
            db.exec(  # type: ignore[call-overload]
                sa.update(UserRow)
                .where(col(UserRow.id) == user_id)
                .values(display_name=display_name, display_name_key=display_name.casefold())
            )
            db.commit()

    def set_last_seen(self, user_id: str, at: datetime) -> None:
        with self._engine.begin() as conn:
            conn.execute(sa.update(USERS).where(USERS.c.id == user_id).values(last_seen_at=at))

    def set_hide_last_seen(self, user_id: str, hide: bool) -> None:
        with self._engine.begin() as conn:
            conn.execute(sa.update(USERS).where(USERS.c.id == user_id).values(hide_last_seen=hide))

    def search_users(self, query: str, limit: int) -> list[User]:
        needle = _escape_like(query.casefold())
        with DbSession(self._engine) as db:
            rows = db.exec(
                select(UserRow)
                .where(
                    or_(
                        col(UserRow.username).like(f"{needle}%", escape="\\"),
                        col(UserRow.display_name_key).like(f"%{needle}%", escape="\\"),
                    )
                )
                .order_by(UserRow.username)
                .limit(limit)
            ).all()
            return [_user(row) for row in rows]


class SqlSessionStore:
    def __init__(self, engine: sa.Engine) -> None:
        self._engine = engine

    def add_session(
        self, token_hash: str, user_id: str, created_at: datetime, expires_at: datetime
    ) -> None:
        with DbSession(self._engine) as db:
            db.add(
                SessionRow(
                    token_hash=token_hash,
                    user_id=user_id,
                    created_at=created_at,
                    expires_at=expires_at,
                )
            )
            db.commit()

    def get_session(self, token_hash: str) -> Session | None:
        with self._engine.connect() as conn:  # every authenticated action: Core, not ORM
            row = conn.execute(
                sa.select(SESSIONS).where(SESSIONS.c.token_hash == token_hash)
            ).first()
        if row is None:
            return None
        return Session(
            user_id=row.user_id, expires_at=row.expires_at, revoked=row.revoked_at is not None
        )

    def revoke_session(self, token_hash: str, at: datetime) -> None:
        with DbSession(self._engine) as db:
            db.exec(  # type: ignore[call-overload]
                sa.update(SessionRow)
                .where(
                    col(SessionRow.token_hash) == token_hash, col(SessionRow.revoked_at).is_(None)
                )
                .values(revoked_at=at)
            )
            db.commit()
