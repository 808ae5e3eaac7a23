"""groups membership history, receipt marks, presence

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25 01:47:22.235752

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa
import sqlmodel  # noqa: F401  (autogenerate renders sqlmodel types)


# revision identifiers, used by Alembic.
revision: str = '0002'
down_revision: Union[str, Sequence[str], None] = '0001'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Upgrade schema."""
    op.create_table('receipt_marks',
    sa.Column('chat_id', sqlmodel.sql.sqltypes.AutoString(length=36), nullable=False),
    sa.Column('user_id', sqlmodel.sql.sqltypes.AutoString(length=36), nullable=False),
    sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=1), nullable=False),
    sa.Column('upto', sqlmodel.sql.sqltypes.AutoString(length=36), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('chat_id', 'user_id', 'kind', 'upto')
    )
    with op.batch_alter_table('chat_members', schema=None) as batch_op:
        batch_op.add_column(sa.Column('visible_from', sqlmodel.sql.sqltypes.AutoString(length=36), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('visible_upto', sqlmodel.sql.sqltypes.AutoString(length=36), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('left_at', sa.DateTime(timezone=True), nullable=True))

    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('last_seen_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('hide_last_seen', sa.Boolean(), nullable=False, server_default=sa.false()))



def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('hide_last_seen')
        batch_op.drop_column('last_seen_at')

    with op.batch_alter_table('chat_members', schema=None) as batch_op:
        batch_op.drop_column('left_at')
        batch_op.drop_column('visible_upto')
        batch_op.drop_column('visible_from')

    op.drop_table('receipt_marks')
