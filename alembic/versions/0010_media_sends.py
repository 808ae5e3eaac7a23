"""media_sends: every message that carries a file (its first send and each forward), so a
forwarded file can be fetched by the readers of the chat it was forwarded to; media.deleted_at:
a file no live message carries any more stops counting and its blobs are deleted

Backfill: every live message of the SQL store whose content names a file (first sends, sends
of the same upload again, forwards), and for messages stored elsewhere (Cassandra) the first
send recorded on the media row. A file whose every message was deleted for everyone before
this revision is marked deleted, and the app's sweeper deletes its blobs.

Revision ID: 0010
Revises: 0009

"""
import json
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa
import sqlmodel  # noqa: F401


revision: str = '0010'
down_revision: Union[str, Sequence[str], None] = '0009'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

MEDIA_TYPES = {"image", "video", "document", "voice"}
BATCH = 1000


def upgrade() -> None:
    with op.batch_alter_table('media', schema=None) as batch_op:
        batch_op.add_column(sa.Column('deleted_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.create_index(batch_op.f('ix_media_deleted_at'), ['deleted_at'], unique=False)
    op.create_table('media_sends',
    sa.Column('message_id', sqlmodel.sql.sqltypes.AutoString(length=36), nullable=False),
    sa.Column('media_id', sqlmodel.sql.sqltypes.AutoString(length=36), nullable=False),
    sa.Column('chat_id', sqlmodel.sql.sqltypes.AutoString(length=36), nullable=False),
    sa.Column('sent_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['chat_id'], ['chats.id'], ),
    sa.ForeignKeyConstraint(['media_id'], ['media.id'], ),
    sa.PrimaryKeyConstraint('message_id')
    )
    with op.batch_alter_table('media_sends', schema=None) as batch_op:
        batch_op.create_index('ix_media_sends_chat_message', ['chat_id', 'message_id'], unique=False)
        batch_op.create_index('ix_media_sends_media_chat', ['media_id', 'chat_id'], unique=False)
    _backfill(op.get_bind())


def _backfill(conn: sa.Connection) -> None:
    # 1. Live messages of the SQL store that carry a file (the id is read in Python: JSON
    #    functions differ between SQLite and PostgreSQL).
    # (Each parameter once: PostgreSQL will not type one as both text and varchar.)
    add_send = sa.text(
        "INSERT INTO media_sends (message_id, media_id, chat_id, sent_at)"
        " SELECT m.id, media.id, m.chat_id, m.created_at FROM messages m, media"
        " WHERE m.id = :message_id AND media.id = :media_id"
        " AND NOT EXISTS (SELECT 1 FROM media_sends s WHERE s.message_id = m.id)"
    )
    select_page = sa.text(
        "SELECT id, content FROM messages"
        " WHERE id > :after AND deleted_at IS NULL AND content LIKE '%\"mediaId\"%'"
        " ORDER BY id LIMIT :limit"
    )
    after = ""
    while True:
        page = conn.execute(select_page, {"after": after, "limit": BATCH}).all()
        sends = [send for send in map(_send_of, page) if send is not None]
        if sends:
            conn.execute(add_send, sends)
        if len(page) < BATCH:
            break
        after = page[-1][0]
    # 2. First sends whose message is not in the SQL store (messages in Cassandra).
    conn.execute(
        sa.text(
            "INSERT INTO media_sends (message_id, media_id, chat_id, sent_at)"
            " SELECT media.message_id, media.id, media.chat_id, media.created_at FROM media"
            " WHERE media.message_id IS NOT NULL"
            " AND NOT EXISTS (SELECT 1 FROM messages m WHERE m.id = media.message_id)"
            " AND NOT EXISTS (SELECT 1 FROM media_sends s WHERE s.message_id = media.message_id)"
        )
    )
    # 3. Sent files no live message carries any more: deleted (the sweeper takes the blobs).
    conn.execute(
        sa.text(
            "UPDATE media SET deleted_at = CURRENT_TIMESTAMP"
            " WHERE message_id IS NOT NULL AND deleted_at IS NULL"
            " AND NOT EXISTS (SELECT 1 FROM media_sends s WHERE s.media_id = media.id)"
        )
    )


def _send_of(row: sa.Row) -> dict[str, str] | None:
    message_id, content = row
    try:
        body = json.loads(content)
    except ValueError:
        return None
    if not isinstance(body, dict) or body.get("type") not in MEDIA_TYPES:
        return None
    media_id = body.get("mediaId")
    return {"message_id": message_id, "media_id": media_id} if isinstance(media_id, str) else None


def downgrade() -> None:
    with op.batch_alter_table('media_sends', schema=None) as batch_op:
        batch_op.drop_index('ix_media_sends_media_chat')
        batch_op.drop_index('ix_media_sends_chat_message')
    op.drop_table('media_sends')
    # Files marked deleted would come back as sent files: drop their records (their blobs
    # are the sweeper's no longer, and were deleted already unless a crash interrupted it).
    op.execute("DELETE FROM media WHERE deleted_at IS NOT NULL")
    with op.batch_alter_table('media', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_media_deleted_at'))
        batch_op.drop_column('deleted_at')
