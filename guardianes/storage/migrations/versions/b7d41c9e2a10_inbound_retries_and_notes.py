"""inbound events: kind, attempts and next attempt; photo captions

Retries with backoff and noted events (reactions, edits...) on inbound_events; the caption
a person sent with a photo on submission_media.

Revision ID: b7d41c9e2a10
Revises: 568cfe35f1b3
Create Date: 2026-11-28 09:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import guardianes.storage.types

revision: str = 'b7d41c9e2a10'
down_revision: str | None = '568cfe35f1b3'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('inbound_events', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column('kind', sa.String(length=30), server_default='message', nullable=False)
        )
        batch_op.add_column(sa.Column('attempts', sa.Integer(), server_default='0', nullable=False))
        batch_op.add_column(
            sa.Column(
                'next_attempt_at', guardianes.storage.types.UTCDateTime(timezone=True), nullable=True
            )
        )
        batch_op.create_index(
            batch_op.f('ix_inbound_events_next_attempt_at'), ['next_attempt_at'], unique=False
        )


    with op.batch_alter_table('submission_media', schema=None) as batch_op:
        batch_op.add_column(sa.Column('caption', sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('submission_media', schema=None) as batch_op:
        batch_op.drop_column('caption')
    with op.batch_alter_table('inbound_events', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_inbound_events_next_attempt_at'))
        batch_op.drop_column('next_attempt_at')
        batch_op.drop_column('attempts')
        batch_op.drop_column('kind')
