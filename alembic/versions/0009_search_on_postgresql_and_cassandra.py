"""search everywhere: the PostgreSQL full-text index (filled from the messages already
stored), the SQLite entries an index keeps when messages live in Cassandra, and the backlog of
index changes that follow a Cassandra write

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-02 10:00:00.000000

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa
import sqlmodel  # noqa: F401  (autogenerate renders sqlmodel types)
from sqlalchemy.dialects import postgresql


# revision identifiers, used by Alembic.
revision: str = '0009'
down_revision: Union[str, Sequence[str], None] = '0008'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

BATCH = 5000


def upgrade() -> None:
    """Upgrade schema."""
    op.create_table('search_backlog',
    sa.Column('message_id', sqlmodel.sql.sqltypes.AutoString(length=36), nullable=False),
    sa.Column('noted_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('message_id')
    )
    dialect = op.get_bind().dialect.name
    if dialect == "postgresql":
        _create_postgres_index()
    elif dialect == "sqlite":
        from backend.adapters.sql.search import CREATE_ENTRIES

        op.execute(CREATE_ENTRIES)


def _create_postgres_index() -> None:
    """The table (not a SQLModel table: see ``search_postgres.SEARCH_TABLE``), filled from the
    stored messages in batches, then the GIN index (built once over the whole table, which is
    much faster than growing it row by row)."""
    # The lexemes must be exactly what the running app writes, so they come from its code.
    from backend.adapters.sql.search_postgres import index_row
    from backend.content import load_content
    from backend.models import Message

    op.create_table('message_search',
    sa.Column('message_id', sa.String(length=36), nullable=False),
    sa.Column('chat_id', sa.String(length=36), nullable=False),
    sa.Column('sender_id', sa.String(length=36), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('words', postgresql.TSVECTOR(), nullable=False),
    sa.PrimaryKeyConstraint('message_id')
    )
    bind = op.get_bind()
    insert = sa.text(
        "INSERT INTO message_search (message_id, chat_id, sender_id, created_at, kind, words)"
        " VALUES (:message_id, :chat_id, :sender_id, :created_at, :kind,"
        " array_to_tsvector(CAST(:lexemes AS text[])))"
    )
    last = ""
    while True:
        rows = bind.execute(
            sa.text(
                "SELECT id, chat_id, sender_id, created_at, content FROM messages"
                " WHERE id > :last AND deleted_at IS NULL ORDER BY id LIMIT :batch"
            ),
            {"last": last, "batch": BATCH},
        ).all()
        if not rows:
            break
        batch = []
        for row in rows:
            message = Message(
                row.id, row.chat_id, row.sender_id, load_content(row.content), row.created_at
            )
            indexed = index_row(message)
            if indexed is not None:
                batch.append(indexed)
        if batch:
            bind.execute(insert, batch)
        last = rows[-1].id
    op.create_index('ix_message_search_words', 'message_search', ['words'], unique=False, postgresql_using='gin')
    # No statistics on the words: the queries choose their plans themselves, and estimating a
    # tsquery of a hundred chats' prefix terms against the most common lexemes cost 3-6 ms of
    # planning a search (each prefix term walks the whole list).
    op.execute("ALTER TABLE message_search ALTER COLUMN words SET STATISTICS 0")


def downgrade() -> None:
    """Downgrade schema."""
    dialect = op.get_bind().dialect.name
    if dialect == "postgresql":
        op.drop_index('ix_message_search_words', table_name='message_search', postgresql_using='gin')
        op.drop_table('message_search')
    elif dialect == "sqlite":
        op.execute("DROP TABLE IF EXISTS message_search_entries")
    op.drop_table('search_backlog')
