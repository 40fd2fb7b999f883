"""web chat own messages (issue 13a: a guardian's messages survive a reload)

Revision ID: c4e8a1f2d913
Revises: c3bceb471a14
Create Date: 2026-11-28 10:25:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import guardianes.storage.types

revision: str = 'c4e8a1f2d913'
down_revision: str | None = 'c3bceb471a14'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('webchat_own_messages',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('user_id', sa.String(length=64), nullable=False),
    sa.Column('client_id', sa.String(length=64), nullable=False),
    sa.Column('after_reply', sa.BigInteger(), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('text', sa.Text(), nullable=True),
    sa.Column('payload', sa.String(length=200), nullable=True),
    sa.Column('source_message_id', sa.String(length=40), nullable=True),
    sa.Column('photos', sa.Integer(), nullable=False),
    sa.Column('latitude', sa.Double(), nullable=True),
    sa.Column('longitude', sa.Double(), nullable=True),
    sa.Column('created_at', guardianes.storage.types.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_webchat_own_messages')),
    sa.UniqueConstraint('user_id', 'client_id', name=op.f('uq_webchat_own_messages_user_id_client_id'))
    )
    with op.batch_alter_table('webchat_own_messages', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_webchat_own_messages_user_id'), ['user_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('webchat_own_messages', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_webchat_own_messages_user_id'))
    op.drop_table('webchat_own_messages')
