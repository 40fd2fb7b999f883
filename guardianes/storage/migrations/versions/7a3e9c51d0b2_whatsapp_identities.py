"""whatsapp identities

Revision ID: 7a3e9c51d0b2
Revises: 2ca6223c1847
Create Date: 2026-11-24 19:20:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import guardianes.storage.types

revision: str = '7a3e9c51d0b2'
down_revision: str | None = '2ca6223c1847'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('whatsapp_identities',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('user_id', sa.String(length=200), nullable=False),
    sa.Column('wa_id', sa.String(length=40), nullable=True),
    sa.Column('bsuid', sa.String(length=200), nullable=True),
    sa.Column('created_at', guardianes.storage.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', guardianes.storage.types.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_whatsapp_identities')),
    sa.UniqueConstraint('bsuid', name=op.f('uq_whatsapp_identities_bsuid')),
    sa.UniqueConstraint('user_id', name=op.f('uq_whatsapp_identities_user_id')),
    sa.UniqueConstraint('wa_id', name=op.f('uq_whatsapp_identities_wa_id'))
    )


def downgrade() -> None:
    op.drop_table('whatsapp_identities')
